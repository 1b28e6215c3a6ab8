"""The on-disk index: its folder layout, manifest, atomic writes and checked loading.

Layout of ``index_dir``::

    CURRENT                 name of the live version folder (replaced atomically)
    v-<time>-<id>/          one complete, immutable version
        manifest.json       model, dimension, normaliser/chunker settings, corpus fingerprint, the size and
                            sha256 of every other file, and a checksum of the manifest itself
        articles.json       the cleaned articles (JSON, UTF-8)
        chunks.jsonl        one passage per line, row order = vector order
        embeddings.npy      (n, dim) float32 passage vectors, kept so updates need not re-embed
        vectors.faiss       the FAISS index
        bm25/               bm25s files (.npy/.json, no pickle)

A write builds a new version folder aside and then swaps ``CURRENT``; an interrupted
build leaves the previous version live, and its leftovers are deleted by the next write
(:func:`clean_leftovers`). Every file is checked against its sha256 when a version is loaded
(:func:`verify_version`, also ``sanad verify``), so damage of any kind is refused by name
rather than searched. Nothing in the folder can run code when read.

One module past the house's ~400 lines on purpose: the writer and the reader of one on-disk format
(``FORMAT_VERSION``) change together; the file-level helpers (checksums, ``CURRENT``, leftovers of killed
builds) already live in :mod:`rag.index_files`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.bm25 import BM25Index
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexWriteError
from rag.index_files import CURRENT as _CURRENT
from rag.index_files import VERSION_NAME as _VERSION_NAME
from rag.index_files import clean_leftovers, current_name, prune_versions, sha256_file
from rag.store import VectorStore
from rag.textnorm import NORMALIZER_VERSION, TOKENIZER_VERSION
from rag.types import Article, Chunk

if TYPE_CHECKING:
    from rag.stores import VersionWriter

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 3: sha256 of every file and a manifest checksum; 2: articles carry origin, published, source...
#: Older formats an update (``sanad index``) still reads so that it can rewrite them without re-embedding.
UPGRADABLE_FORMATS = (2,)
_REBUILD = "rebuild it with `sanad index --rebuild`"

#: Manifest fields that must agree with the settings in use before an index is queried.
CHECKED_FIELDS = (
    "format_version",
    "embedding_model",
    "normalizer_version",
    "tokenizer_version",
    "chunk_tokens",
    "chunk_overlap_tokens",
)


@dataclass(frozen=True)
class Manifest:
    """What an index was built with; saved as ``manifest.json``."""

    embedding_model: str
    dim: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    index_factory: str
    n_articles: int = 0
    n_chunks: int = 0
    corpus_fingerprint: str = ""
    normalizer_version: str = NORMALIZER_VERSION
    tokenizer_version: str = TOKENIZER_VERSION
    format_version: int = FORMAT_VERSION
    created_at: str = ""
    files: dict[str, int] = field(default_factory=dict)
    #: relative path -> sha256 (hex) of every file but the manifest (format 3).
    sha256: dict[str, str] = field(default_factory=dict)
    #: sha256 of the manifest's other fields (:meth:`compute_checksum`), so an edit of the manifest shows.
    checksum: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def compute_checksum(self) -> str:
        """sha256 of every field but ``checksum``, as canonical JSON (sorted keys, UTF-8)."""
        body = {k: v for k, v in self.to_dict().items() if k != "checksum"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def check_matches(self, expected: dict[str, Any]) -> None:
        """Raise :class:`IndexMismatchError` listing every checked field that differs."""
        diffs = [
            f"{k}: index has {getattr(self, k)!r}, settings say {expected[k]!r}"
            for k in CHECKED_FIELDS
            if k in expected and getattr(self, k) != expected[k]
        ]
        if diffs:
            raise IndexMismatchError(
                "the index was built with other settings ("
                + "; ".join(diffs)
                + "). Rebuild it with `sanad index --rebuild`, or use the settings it was built with"
            )


def corpus_fingerprint(articles: list[Article]) -> str:
    digest = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.doc_id):
        digest.update(f"{a.doc_id}\x00{a.sha}\n".encode())
    return digest.hexdigest()[:16]


@dataclass
class IndexData:
    """A loaded (or freshly built) index: articles, passages and both search sides, row-aligned."""

    manifest: Manifest
    articles: dict[str, Article]
    chunks: list[Chunk]
    store: VectorStore | None  # None when the version is searched in another store (``searcher``)
    bm25: BM25Index | None
    embeddings_path: Path | None = None
    _embeddings: np.ndarray | None = None
    #: A version searched outside this process (rag.stores: Milvus), or None for the FAISS/BM25 files.
    searcher: Any = None

    def embeddings(self) -> np.ndarray:
        """(n_chunks, dim) float32 passage vectors; memory-mapped from disk when loaded."""
        if self._embeddings is None:
            if self.embeddings_path is None:
                raise IndexCorruptError("this index has no stored embeddings")
            self._embeddings = _read_embeddings(self.embeddings_path, (self.manifest.n_chunks, self.manifest.dim))
        return self._embeddings


def _read_embeddings(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The stored (n_chunks, dim) float32 matrix, memory-mapped; any other header is refused by name."""
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexCorruptError(
            f"index file {path} is damaged ({_short(exc)}); rebuild it with `sanad index --rebuild`"
        ) from None
    if vectors.dtype != np.float32 or vectors.shape != shape:
        raise IndexCorruptError(
            f"index file {path} holds {vectors.dtype} {vectors.shape}, not float32 {shape}: it "
            f"is damaged; rebuild it with `sanad index --rebuild`"
        )
    return vectors


# -- writing ----------------------------------------------------------------------------------
@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Exclusive lock so that two writers (CLI, UI upload) never interleave."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_index(
    index_dir: Path,
    manifest: Manifest,
    articles: list[Article],
    chunks: list[Chunk],
    embeddings: np.ndarray,
    store: VectorStore | VersionWriter,
    bm25: BM25Index | None,
) -> Path:
    """Write a complete new version aside, then make it live in one atomic rename.

    Call under :func:`write_lock`. Returns the new version folder. A failure at any step (a full
    disk included) deletes what this call wrote and leaves the previous version live; an OS error
    is raised as :class:`IndexWriteError` saying so.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    clean_leftovers(index_dir)  # a killed or failed earlier build (we hold the write lock)
    previous = current_name(index_dir)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = index_dir / f".tmp-{name}"
    final = index_dir / name
    moved = False
    try:
        tmp.mkdir()
        _write_json(tmp / "articles.json", [a.to_dict() for a in articles])
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
            for c in chunks:
                out.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
        if isinstance(store, VectorStore):
            assert bm25 is not None, "the FAISS store is saved with its BM25 index"
            store.save(tmp / "vectors.faiss")
            bm25.save(tmp / "bm25")
        else:  # another store (rag.stores.VersionWriter: Milvus) writes its version and its description
            store.write_version_files(tmp, name)
        paths = [p for p in sorted(tmp.rglob("*")) if p.is_file()]
        files = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in paths}
        digests = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in paths}
        final_manifest = Manifest(
            **{
                **manifest.to_dict(),
                "files": files,
                "sha256": digests,
                "n_articles": len(articles),
                "n_chunks": len(chunks),
                "corpus_fingerprint": corpus_fingerprint(articles),
                "format_version": FORMAT_VERSION,
                "checksum": "",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        final_manifest = Manifest(**{**final_manifest.to_dict(), "checksum": final_manifest.compute_checksum()})
        _write_json(tmp / "manifest.json", final_manifest.to_dict())
        _fsync_tree(tmp)
        os.replace(tmp, final)
        moved = True
        _atomic_write_text(index_dir / _CURRENT, name + "\n")
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if moved and current_name(index_dir) != name:  # never leave an orphan a later prune mistakes for live
            shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, OSError):
            raise IndexWriteError(
                f"could not write a new index version in {index_dir} ({exc}); nothing was "
                f"changed and the previous version is still live. Free disk space (or fix "
                f"permissions) and run the same command again"
            ) from exc
        raise
    prune_versions(index_dir, keep=name, previous=previous)
    logger.info("index version %s is live (%d articles, %d passages)", name, len(articles), len(chunks))
    return final


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as handle:
                os.fsync(handle.fileno())


# -- reading ----------------------------------------------------------------------------------
def live_version(index_dir: Path) -> Path:
    """The folder ``CURRENT`` points at, or :class:`IndexMissingError`."""
    pointer = index_dir / _CURRENT
    if not pointer.exists():
        hint = (
            " (version folders exist, so CURRENT was deleted: the index is damaged)"
            if any(index_dir.glob("v-*"))
            else ""
        )
        raise IndexMissingError(
            f"no index in {index_dir}{hint}; build one with `sanad index data/articles` (or `make setup`)"
        )
    try:
        name = pointer.read_bytes().decode("utf-8").removesuffix("\n")  # exactly as written: no stray bytes
    except UnicodeDecodeError:
        raise IndexCorruptError(f"{pointer} is damaged (not UTF-8 text); {_REBUILD}") from None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {pointer} ({exc.strerror}); {_REBUILD}") from None
    version = index_dir / name
    if not _VERSION_NAME.fullmatch(name) or not version.is_dir():
        raise IndexCorruptError(
            f"{pointer} points at {name[:60]!r}, which is missing or not an index version; {_REBUILD}"
        )
    return version


def read_manifest(index_dir: Path, *, version: Path | None = None) -> Manifest:
    """The live version's manifest (or ``version``'s), its own checksum checked for format 3."""
    version = version or live_version(index_dir)
    path = version / "manifest.json"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        manifest = Manifest.from_dict(data)
    except FileNotFoundError:
        raise IndexCorruptError(f"index file {path} is missing; {_REBUILD}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {_short(exc)}; {_REBUILD}") from None
    if manifest.format_version == FORMAT_VERSION and manifest.checksum != manifest.compute_checksum():
        raise IndexCorruptError(f"index file {path} is damaged (its checksum does not match its content); {_REBUILD}")
    return manifest


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def verify_version(version: Path, manifest: Manifest, *, checksums: bool = True) -> None:
    """Check every file the manifest lists: present, the listed size, the listed sha256 (``checksums``).

    Raises:
        IndexCorruptError: naming the first damaged file and the fix.
    """
    if manifest.format_version == FORMAT_VERSION and (
        not manifest.files or set(manifest.sha256) != set(manifest.files)
    ):
        raise IndexCorruptError(
            f"index file {version / 'manifest.json'} is damaged (file list and checksums disagree); {_REBUILD}"
        )
    for rel, size in manifest.files.items():
        path = version / rel
        found = path.stat().st_size if path.is_file() else None
        if found != size:
            detail = "not there" if found is None else f"{found} bytes, the manifest says {size}"
            raise IndexCorruptError(
                f"index file {rel} is missing or has the wrong size ({detail}): version "
                f"{version.name} is damaged; {_REBUILD}"
            )
    for rel, digest in manifest.sha256.items() if checksums else ():
        if sha256_file(version / rel) != digest:
            raise IndexCorruptError(
                f"index file {rel} is damaged (its sha256 differs from the manifest's): "
                f"version {version.name} is damaged; {_REBUILD}"
            )


def check_format(manifest: Manifest, version: Path, *, upgrade: bool = False) -> None:
    """Refuse a format this code does not read (``upgrade``: also accept :data:`UPGRADABLE_FORMATS`)."""
    found = manifest.format_version
    if found == FORMAT_VERSION or (upgrade and found in UPGRADABLE_FORMATS):
        return
    if found in UPGRADABLE_FORMATS:
        raise IndexMismatchError(
            f"the index in {version.parent} has format {found} (written by an older Sanad, "
            f"without checksums); this one reads format {FORMAT_VERSION}. Re-run `sanad index` "
            f"with your article folders to upgrade it (unchanged passages are not re-embedded)"
        )
    raise IndexMismatchError(
        f"the index in {version.parent} has format {found!r}, which this Sanad cannot read "
        f"(it reads {FORMAT_VERSION}); {_REBUILD}"
    )


def load_index(
    index_dir: Path,
    expected: dict[str, Any] | None = None,
    *,
    ef_search: int = 128,
    nprobe: int = 64,
    milvus_uri: str = "",
    upgrade: bool = False,
    verify: bool = True,
) -> IndexData:
    """Load and cross-check the live version, after checking every file against its sha256.

    Args:
        index_dir: the index folder.
        expected: manifest values the caller's settings imply (see :data:`CHECKED_FIELDS`);
            any difference raises :class:`IndexMismatchError`.
        milvus_uri: for a version kept in Milvus (``milvus.json``), the URI the settings name; ``""``:
            the one the version was written to.
        upgrade: also read an older format of :data:`UPGRADABLE_FORMATS` (sizes checked, no checksums), for
            an update that rewrites it.
        verify: check every file's sha256 (``False``: sizes and the manifest checksum only, for very
            large indexes; ``sanad verify`` then does the full check).

    Raises:
        IndexMissingError, IndexCorruptError, IndexMismatchError: each says what to run next.
    """
    version = live_version(index_dir)
    manifest = read_manifest(index_dir, version=version)
    check_format(manifest, version, upgrade=upgrade)
    if expected:
        manifest.check_matches({k: v for k, v in expected.items() if k != "format_version"})
    verify_version(version, manifest, checksums=verify)
    try:
        articles = [Article.from_dict(d) for d in json.loads((version / "articles.json").read_text(encoding="utf-8"))]
        with open(version / "chunks.jsonl", encoding="utf-8") as handle:
            chunks = [Chunk.from_dict(json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexCorruptError(f"cannot read the passages of {version}: {_short(exc)}; {_REBUILD}") from None
    by_id = {a.doc_id: a for a in articles}
    searcher = store = bm25 = None
    if (version / "milvus.json").exists():  # the version's passages are searched in Milvus (rag.stores.milvus)
        from rag.stores import store_rows
        from rag.stores.milvus import open_version

        searcher = open_version(version, store_rows(chunks, by_id), uri=milvus_uri, nprobe=nprobe, ef_search=ef_search)
        n_vectors, dim = len(searcher), searcher.dim
    else:
        store = VectorStore.load(version / "vectors.faiss", manifest.index_factory, ef_search=ef_search, nprobe=nprobe)
        bm25 = BM25Index.load(version / "bm25", len(chunks))
        n_vectors, dim = len(store), store.dim
    if n_vectors != len(chunks) or len(articles) != manifest.n_articles or len(chunks) != manifest.n_chunks:
        raise IndexCorruptError(
            f"index parts disagree ({len(chunks)} passages, {n_vectors} vectors, manifest "
            f"{manifest.n_chunks}); rebuild with `sanad index --rebuild`"
        )
    if dim != manifest.dim:
        raise IndexCorruptError(f"vector dimension {dim} differs from the manifest's {manifest.dim}")
    embeddings = _read_embeddings(version / "embeddings.npy", (manifest.n_chunks, manifest.dim))  # header only
    return IndexData(
        manifest=manifest,
        articles=by_id,
        chunks=chunks,
        store=store,
        bm25=bm25,
        embeddings_path=version / "embeddings.npy",
        _embeddings=embeddings,
        searcher=searcher,
    )


def verify_index(index_dir: Path) -> str:
    """Check the live version completely (``sanad verify``); returns a one-line summary, raises on damage.

    Reads every file: the manifest checksum, each file's size and sha256, then loads the version
    (its parts must agree with each other).
    """
    t0 = time.perf_counter()
    version = live_version(index_dir)
    manifest = read_manifest(index_dir, version=version)
    check_format(manifest, version)
    data = load_index(index_dir)
    return (
        f"{version}: intact (format {manifest.format_version}, {len(manifest.files)} files, sha256 checked; "
        f"{len(data.articles)} articles, {len(data.chunks)} passages) in {time.perf_counter() - t0:.2f} s"
    )
