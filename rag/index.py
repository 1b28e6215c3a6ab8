"""The on-disk index: its folder layout, manifest, atomic writes and checked loading.

Layout of ``index_dir``::

    CURRENT                 name of the live version folder (replaced atomically)
    v-<time>-<id>/          one complete, immutable version
        manifest.json       model, dimension, normaliser/chunker settings, corpus fingerprint, file sizes
        articles.json       the cleaned articles (JSON, UTF-8)
        chunks.jsonl        one passage per line, row order = vector order
        embeddings.npy      (n, dim) float32 passage vectors, kept so updates need not re-embed
        vectors.faiss       the FAISS index
        bm25/               bm25s files (.npy/.json, no pickle)

A write builds a new version folder aside and then swaps ``CURRENT``; an interrupted
build leaves the previous version live. Nothing in the folder can run code when read.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rag.bm25 import BM25Index
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.store import VectorStore
from rag.textnorm import NORMALIZER_VERSION, TOKENIZER_VERSION
from rag.types import Article, Chunk

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: articles carry origin (was source), published, source (outlet), url, author, suspect_spans
_CURRENT = "CURRENT"
_KEEP_OLD_VERSIONS = 1

#: Manifest fields that must agree with the settings in use before an index is queried.
CHECKED_FIELDS = ("format_version", "embedding_model", "normalizer_version", "tokenizer_version",
                  "chunk_tokens", "chunk_overlap_tokens")


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def check_matches(self, expected: dict[str, Any]) -> None:
        """Raise :class:`IndexMismatchError` listing every checked field that differs."""
        diffs = [f"{k}: index has {getattr(self, k)!r}, settings say {expected[k]!r}"
                 for k in CHECKED_FIELDS if k in expected and getattr(self, k) != expected[k]]
        if diffs:
            raise IndexMismatchError("the index was built with other settings (" + "; ".join(diffs) +
                                     "). Rebuild it with `sanad index --rebuild`, or use the settings it was built with")


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
            self._embeddings = np.load(self.embeddings_path, mmap_mode="r", allow_pickle=False)
        return self._embeddings


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


def save_index(index_dir: Path, manifest: Manifest, articles: list[Article], chunks: list[Chunk],
               embeddings: np.ndarray, store: VectorStore, bm25: BM25Index) -> Path:
    """Write a complete new version aside, then make it live in one atomic rename.

    Call under :func:`write_lock`. Returns the new version folder.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_json(tmp / "articles.json", [a.to_dict() for a in articles])
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
            for c in chunks:
                out.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
        if hasattr(store, "write_version_files"):  # another store (rag.stores.VersionWriter: Milvus)
            store.write_version_files(tmp, name)
        else:
            store.save(tmp / "vectors.faiss")
            bm25.save(tmp / "bm25")
        files = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        final = Manifest(**{**manifest.to_dict(), "files": files, "n_articles": len(articles), "n_chunks": len(chunks),
                            "corpus_fingerprint": corpus_fingerprint(articles),
                            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        _write_json(tmp / "manifest.json", final.to_dict())
        _fsync_tree(tmp)
        os.replace(tmp, index_dir / name)
        _atomic_write_text(index_dir / _CURRENT, name + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune_versions(index_dir, keep=name)
    logger.info("index version %s is live (%d articles, %d passages)", name, len(articles), len(chunks))
    return index_dir / name


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as handle:
                os.fsync(handle.fileno())


def _prune_versions(index_dir: Path, keep: str) -> None:
    """Delete old versions (keeping the previous one as a fallback) and stale temp folders."""
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in versions[:-_KEEP_OLD_VERSIONS] if _KEEP_OLD_VERSIONS else versions:
        shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob(".tmp-v-*"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


# -- reading ----------------------------------------------------------------------------------
def live_version(index_dir: Path) -> Path:
    """The folder ``CURRENT`` points at, or :class:`IndexMissingError`."""
    pointer = index_dir / _CURRENT
    if not pointer.exists():
        raise IndexMissingError(f"no index in {index_dir}; build one with `sanad index data/articles` "
                                f"(or `make setup`)")
    version = index_dir / pointer.read_text(encoding="utf-8").strip()
    if not version.is_dir() or not version.name.startswith("v-"):
        raise IndexCorruptError(f"{pointer} points at {version.name!r}, which is missing; rebuild with "
                                f"`sanad index --rebuild`")
    return version


def read_manifest(index_dir: Path) -> Manifest:
    version = live_version(index_dir)
    try:
        return Manifest.from_dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"cannot read {version / 'manifest.json'}: {exc}; rebuild with "
                                f"`sanad index --rebuild`") from None


def load_index(index_dir: Path, expected: dict[str, Any] | None = None, *, ef_search: int = 128,
               nprobe: int = 64, milvus_uri: str = "") -> IndexData:
    """Load and cross-check the live version.

    Args:
        index_dir: the index folder.
        expected: manifest values the caller's settings imply (see :data:`CHECKED_FIELDS`);
            any difference raises :class:`IndexMismatchError`.
        milvus_uri: for a version kept in Milvus (``milvus.json``), the URI the settings name; ``""``:
            the one the version was written to.

    Raises:
        IndexMissingError, IndexCorruptError, IndexMismatchError: each says what to run next.
    """
    version = live_version(index_dir)
    manifest = read_manifest(index_dir)
    if expected:
        manifest.check_matches(expected)
    for rel, size in manifest.files.items():
        path = version / rel
        if not path.exists() or path.stat().st_size != size:
            raise IndexCorruptError(f"index file {rel} is missing or has the wrong size; the index is damaged. "
                                    f"Rebuild it with `sanad index --rebuild`")
    try:
        articles = [Article.from_dict(d) for d in json.loads((version / "articles.json").read_text(encoding="utf-8"))]
        with open(version / "chunks.jsonl", encoding="utf-8") as handle:
            chunks = [Chunk.from_dict(json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"cannot read the passages of {version}: {exc}; rebuild with "
                                f"`sanad index --rebuild`") from None
    by_id = {a.doc_id: a for a in articles}
    searcher = store = bm25 = None
    if (version / "milvus.json").exists():  # the version's passages are searched in Milvus (rag.stores.milvus)
        from rag.stores import store_rows
        from rag.stores.milvus import open_version

        searcher = open_version(version, store_rows(chunks, by_id), uri=milvus_uri, nprobe=nprobe,
                                ef_search=ef_search)
        n_vectors, dim = len(searcher), searcher.dim
    else:
        store = VectorStore.load(version / "vectors.faiss", manifest.index_factory, ef_search=ef_search,
                                 nprobe=nprobe)
        bm25 = BM25Index.load(version / "bm25", len(chunks))
        n_vectors, dim = len(store), store.dim
    if n_vectors != len(chunks) or len(articles) != manifest.n_articles or len(chunks) != manifest.n_chunks:
        raise IndexCorruptError(f"index parts disagree ({len(chunks)} passages, {n_vectors} vectors, manifest "
                                f"{manifest.n_chunks}); rebuild with `sanad index --rebuild`")
    if dim != manifest.dim:
        raise IndexCorruptError(f"vector dimension {dim} differs from the manifest's {manifest.dim}")
    return IndexData(manifest=manifest, articles=by_id, chunks=chunks, store=store, bm25=bm25,
                     embeddings_path=version / "embeddings.npy", searcher=searcher)
