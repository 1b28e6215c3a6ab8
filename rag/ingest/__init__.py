"""Reading articles from disk: discovery, one reader per format, metadata, and refusing junk.

Formats (one module each): ``.txt``/``.md`` (:mod:`rag.ingest.text`, with front matter),
``.html``/``.htm`` saved web pages (:mod:`rag.ingest.html`, trafilatura), ``.pdf``
(:mod:`rag.ingest.pdf`, pypdf, Arabic put in logical order), ``.docx``
(:mod:`rag.ingest.docx`, python-docx). Metadata (date, outlet, URL, author) and its
precedence: :mod:`rag.ingest.metadata`.

What is refused, each with one line saying why (:class:`SkippedFile`), never fatal for the
other files: unreadable or undecodable files (the message names the encoding they look
like), text-free files (only diacritics, tatweel or punctuation), scans without a text layer,
symlinks that lead out of the folder being indexed, two files that would share one article id
(``x.txt`` and ``x.htm``: both are refused until one is renamed), and identical texts under two
names (indexed once; the copy's outlet and date are listed on the article kept). With
``near_duplicates="merge"`` near-verbatim copies (:mod:`rag.ingest.dedup`) are folded the same way.

Article ids are file stems made safe: control characters, newlines, slashes and other
punctuation become ``_`` so that an id prints on one line and works as a CLI argument.

One module past the house's ~400 lines on purpose: what is left here is the :class:`Ingestor`'s own steps
(scan, read, refuse, fold duplicates, screen), which share its settings; each format's reader, the metadata
rules and the near-duplicate finder already have modules of their own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rag.config import NEAR_DUPLICATE_MODES
from rag.errors import InputError
from rag.ingest.metadata import SIDECAR_SUFFIX, FolderManifest, Metadata, read_sidecar
from rag.ingest.text import clean_text, decode, guess_title, markdown_to_text, split_front_matter
from rag.safety import HIDDEN_SPAN, find_suspect_spans
from rag.textnorm import has_words
from rag.types import Article

if TYPE_CHECKING:
    from rag.config import SanadConfig

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
MAX_FILE_BYTES = 5_000_000
MAX_BINARY_BYTES = 50_000_000  # PDFs and Word files carry fonts and images besides their text
_MAX_ID_CHARS = 120

SkipKind = Literal["error", "conflict", "duplicate"]

__all__ = [
    "MAX_FILE_BYTES",
    "NEAR_DUPLICATE_MODES",
    "SUPPORTED_SUFFIXES",
    "Ingestor",
    "SkippedFile",
    "clean_text",
    "guess_title",
    "make_doc_id",
    "markdown_to_text",
]


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not indexed on its own, and why (reported, never fatal for the others).

    ``kind`` is ``"error"`` (unreadable, empty, refused), ``"conflict"`` (another file claims
    the same article id) or ``"duplicate"`` (its text is indexed once under another id).
    ``doc_id`` is the id the file would have had: ``sanad index --prune`` keeps an indexed
    article whose file failed or conflicted this time, rather than deleting it.
    """

    path: str
    reason: str
    doc_id: str = ""
    kind: SkipKind = "error"


def make_doc_id(stem: str) -> str:
    """A safe article id from a file stem: letters (any script), digits, marks, ``-``, ``_``, ``.``.

    Example:
        >>> make_doc_id("تقرير\\nمهم (نسخة 2)"), make_doc_id("000_fa12990bf89f9d00")
        ('تقرير_مهم_نسخة_2', '000_fa12990bf89f9d00')
    """
    out = []
    for ch in unicodedata.normalize("NFC", stem):
        category = unicodedata.category(ch)
        if category == "Cf":  # invisible bidi/format controls: drop
            continue
        out.append(ch if ch.isalnum() or ch in "-_." or category.startswith("M") else "_")
    doc_id = "_".join(part for part in "".join(out).split("_") if part).strip("._-")
    if len(doc_id) > _MAX_ID_CHARS:
        doc_id = doc_id[: _MAX_ID_CHARS - 9].rstrip("._-") + "_" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    return doc_id or "doc_" + hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:12]


class Ingestor:
    """Turns files and folders into cleaned :class:`Article` records with their metadata.

    Example:
        >>> articles, skipped = Ingestor().run([Path("data/articles")])  # doctest: +SKIP
        >>> articles[0].source, articles[0].published                     # doctest: +SKIP
    """

    def __init__(
        self,
        suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES,
        max_bytes: int = MAX_FILE_BYTES,
        *,
        max_binary_bytes: int = MAX_BINARY_BYTES,
        near_duplicates: str = "keep",
        near_threshold: float = 0.8,
    ) -> None:
        if near_duplicates not in NEAR_DUPLICATE_MODES:
            raise InputError(
                f"near_duplicates={near_duplicates!r} is not valid; choose one of {', '.join(NEAR_DUPLICATE_MODES)}"
            )
        if not 0 < near_threshold <= 1:
            raise InputError(f"near_duplicate_threshold={near_threshold!r} must be in (0, 1]")
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.max_bytes = max_bytes
        self.max_binary_bytes = max_binary_bytes
        self.near_duplicates = near_duplicates
        self.near_threshold = near_threshold

    @classmethod
    def from_config(cls, config: SanadConfig) -> Ingestor:
        """The ingestor a :class:`~rag.config.SanadConfig` describes."""
        return cls(near_duplicates=config.near_duplicates, near_threshold=config.near_duplicate_threshold)

    # -- finding files --------------------------------------------------------------------------
    def discover(self, paths: Sequence[Path]) -> list[Path]:
        """Supported files under ``paths`` (files given directly are checked too), sorted."""
        return [path for path, _ in self.scan(paths)[0]]

    def scan(self, paths: Sequence[Path]) -> tuple[list[tuple[Path, Path]], list[SkippedFile]]:
        """``(file, folder it was found in)`` pairs, and the symlinks refused for leading out of it.

        Hidden files and folders, sidecars and manifests are not articles. Symlinked folders
        are not followed (their target is indexed where it lives, if inside the folder).
        """
        found: dict[Path, Path] = {}
        refused: list[SkippedFile] = []
        for path in map(Path, paths):
            if not path.exists() and not path.is_symlink():
                raise InputError(f"{path} does not exist; give a file or folder of {', '.join(self.suffixes)} articles")
            if path.is_dir():
                root = path.resolve()
                for folder, dirs, files in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        candidate = Path(folder) / name
                        if (
                            name.startswith(".")
                            or name.endswith(SIDECAR_SUFFIX)
                            or candidate.suffix.lower() not in self.suffixes
                        ):
                            continue
                        if candidate.is_symlink() and not _inside(candidate.resolve(), root):
                            refused.append(
                                SkippedFile(
                                    str(candidate),
                                    f"a symlink to {candidate.resolve()}, outside "
                                    f"{path}: refused (copy the file in if it belongs here)",
                                    make_doc_id(candidate.stem),
                                )
                            )
                            continue
                        if candidate.is_file():
                            found.setdefault(candidate, path)
            elif path.suffix.lower() in self.suffixes:
                found.setdefault(path, path.parent)
            else:
                raise InputError(f"{path} is not a supported file type; use one of {', '.join(self.suffixes)}")
        # A file named directly and also found in its folder is one file.
        unique: dict[Path, tuple[Path, Path]] = {}
        for file, root in sorted(found.items()):
            unique.setdefault(file.resolve(), (file, root))
        return sorted(unique.values()), refused

    # -- reading one file ------------------------------------------------------------------------
    def read(self, path: Path, *, doc_id: str | None = None, metadata: Metadata | None = None) -> Article:
        """Read and clean one file. Raises :class:`InputError` with the reason if it cannot be used.

        ``metadata`` (from a manifest) and the file's sidecar override what the file says itself.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        limit = self.max_binary_bytes if suffix in (".pdf", ".docx") else self.max_bytes
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{path.name} is {size:,} bytes, over the {limit:,}-byte limit for one article")
        user = read_sidecar(path).over(metadata or Metadata())
        doc_id = doc_id or make_doc_id(path.stem)
        data = path.read_bytes()
        if suffix == ".pdf":
            from rag.ingest.pdf import extract_pdf

            pdf = extract_pdf(data, path.name)
            return self._article(pdf.text, doc_id, str(path), user.over(pdf.metadata))
        if suffix == ".docx":
            from rag.ingest.docx import extract_docx

            doc = extract_docx(data, path.name)
            return self._article(doc.text, doc_id, str(path), user.over(doc.metadata))
        return self.parse(decode(data, path.name), doc_id=doc_id, suffix=suffix, origin=str(path), metadata=user)

    def parse(
        self, raw: str, *, doc_id: str, suffix: str = ".txt", origin: str = "", metadata: Metadata | None = None
    ) -> Article:
        """Clean an article given as a string (used for uploads and tests)."""
        if "\x00" in raw:
            raise InputError(f"{doc_id}: contains NUL bytes; it looks like a binary file, not an article")
        found = Metadata()
        hidden: tuple[str, ...] = ()
        if suffix in (".html", ".htm"):
            from rag.ingest.html import extract_html

            page = extract_html(raw, doc_id)
            raw, found, hidden = page.text, page.metadata, page.hidden_instructions
        elif suffix in (".md", ".txt"):
            fields, raw = split_front_matter(raw)
            if fields:
                found = Metadata.from_mapping(fields, f"{doc_id}: front matter")
            if suffix == ".md":
                raw = markdown_to_text(raw)
        return self._article(raw, doc_id, origin, (metadata or Metadata()).over(found), hidden=bool(hidden))

    @staticmethod
    def _article(raw: str, doc_id: str, origin: str, meta: Metadata, *, hidden: bool = False) -> Article:
        text = clean_text(raw)
        if not text:
            raise InputError(f"{doc_id}: no text left after cleaning; the file is empty or only boilerplate")
        if not has_words(text):
            raise InputError(f"{doc_id}: has no words (only diacritics, tatweel, punctuation or symbols); not indexed")
        # Instruction-like text (prompt injection) is marked, never followed: rag/safety.py.
        spans = find_suspect_spans(text) + ((HIDDEN_SPAN,) if hidden else ())
        if spans:
            logger.warning(
                "%s: holds text that reads as instructions to an AI system%s; it is kept out of prompts "
                "and the article is flagged",
                doc_id,
                " (hidden in the page's markup)" if hidden else "",
            )
        return Article(
            doc_id=doc_id,
            title=meta.title or guess_title(text),
            text=text,
            origin=origin,
            published=meta.published,
            source=meta.source,
            url=meta.url,
            author=meta.author,
            suspect_spans=spans,
        )

    # -- many files --------------------------------------------------------------------------------
    def run(self, paths: Sequence[Path]) -> tuple[list[Article], list[SkippedFile]]:
        """Read every supported file under ``paths``; bad files are skipped and reported, not fatal."""
        files, skipped = self.scan(paths)
        by_id: dict[str, list[Path]] = {}
        for path, _ in files:
            by_id.setdefault(make_doc_id(path.stem), []).append(path)
        manifests: dict[Path, FolderManifest | InputError | None] = {}
        articles: list[Article] = []
        for path, root in files:
            doc_id = make_doc_id(path.stem)
            claimants = by_id[doc_id]
            if len(claimants) > 1:
                others = ", ".join(p.name for p in claimants if p != path)
                reason = (
                    f"conflict: {path.name} and {others} would both be article {doc_id!r}; neither was "
                    f"(re)indexed. Rename one of them"
                )
                skipped.append(self._skip(path, reason, doc_id, "conflict"))
                continue
            try:
                article = self.read(path, doc_id=doc_id, metadata=self._manifest_metadata(path, root, manifests))
            except InputError as exc:
                skipped.append(self._skip(path, str(exc), doc_id, "error"))
                continue
            articles.append(article)
        for manifest in manifests.values():
            if isinstance(manifest, FolderManifest) and manifest.unmatched:
                names = ", ".join(manifest.unmatched[:5]) + (" …" if len(manifest.unmatched) > 5 else "")
                logger.warning(
                    "%s in %s lists %d file(s) not found or not read: %s",
                    manifest.name,
                    manifest.folder,
                    len(manifest.unmatched),
                    names,
                )
        articles, dups = self.fold_duplicates(articles)
        return articles, skipped + dups

    def _manifest_metadata(
        self, path: Path, root: Path, cache: dict[Path, FolderManifest | InputError | None]
    ) -> Metadata:
        """The metadata the manifests of ``path``'s folder and its parents (up to ``root``) give it."""
        folders = [path.parent]
        stop = root.resolve()
        while folders[-1].resolve() != stop and folders[-1].parent != folders[-1] and _inside(folders[-1], root):
            folders.append(folders[-1].parent)
        meta = Metadata()
        for folder in reversed(folders):  # nearest folder last, so it wins
            if folder not in cache:
                try:
                    cache[folder] = FolderManifest.load(folder)
                except InputError as exc:  # reported for each file it covers, read once
                    cache[folder] = exc
            manifest = cache[folder]
            if isinstance(manifest, InputError):
                raise manifest
            found = manifest.lookup(path) if manifest is not None else None
            if found is not None:
                meta = found.over(meta)
        return meta

    @staticmethod
    def _skip(path: Path, reason: str, doc_id: str, kind: SkipKind) -> SkippedFile:
        logger.warning("skipping %s: %s", path, reason)
        return SkippedFile(str(path), reason, doc_id, kind)

    def fold_duplicates(self, articles: Sequence[Article]) -> tuple[list[Article], list[SkippedFile]]:
        """Index identical texts once (and near-verbatim ones too with ``near_duplicates="merge"``).

        The copy kept is the earliest published (then the first id); the others are reported as
        ``duplicate`` and listed in its :attr:`~rag.types.Article.copies` with their outlet, date and URL.
        """
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(articles):
            groups.setdefault(a.sha, []).append(i)
        clusters = [(members, 1.0) for members in groups.values() if len(members) > 1]
        if self.near_duplicates == "merge":
            from rag.ingest.dedup import near_duplicate_groups

            firsts = [members[0] for members in groups.values()]
            for g in near_duplicate_groups([articles[i].text for i in firsts], self.near_threshold):
                clusters.append(([m for f in g.members for m in groups[articles[firsts[f]].sha]], g.min_similarity))
            clusters = _merge_overlapping(clusters)
        out = list(articles)
        dropped: set[int] = set()
        skipped: list[SkippedFile] = []
        for members, similarity in clusters:
            ordered = sorted(members, key=lambda i: (articles[i].published or "9999", articles[i].doc_id))
            keep, copies = ordered[0], ordered[1:]
            kept = articles[keep]
            extra = tuple((c.doc_id, c.source, c.published, c.url) for c in (articles[i] for i in copies))
            out[keep] = replace(kept, copies=kept.copies + extra)
            for i in copies:
                copy = articles[i]
                how = (
                    "the same text as"
                    if copy.sha == kept.sha
                    else f"a near-verbatim copy (similarity ≥ {similarity:.2f}) of"
                )
                skipped.append(
                    self._skip(
                        Path(copy.origin or copy.doc_id),
                        f"{how} article {kept.doc_id!r}: indexed once, with this copy's outlet and date listed on it",
                        copy.doc_id,
                        "duplicate",
                    )
                )
                dropped.add(i)
        return [a for i, a in enumerate(out) if i not in dropped], skipped

    def screen(
        self, incoming: Sequence[Article], existing: dict[str, Article]
    ) -> tuple[list[Article], list[SkippedFile]]:
        """Check new articles against an index's: id conflicts between different files, repeated texts.

        An incoming article whose id is indexed from *another* file that still exists is a
        conflict (``x.htm`` arriving while ``x.txt`` is indexed); one whose text is already
        indexed under another id is a duplicate. Both are reported and left out.
        """
        ids = {a.doc_id for a in incoming}
        by_sha = {a.sha: a.doc_id for a in existing.values() if a.doc_id not in ids}
        kept: list[Article] = []
        skipped: list[SkippedFile] = []
        for article in incoming:
            old = existing.get(article.doc_id)
            path = Path(article.origin or article.doc_id)
            if old is not None and _other_file(old.origin, article.origin):
                skipped.append(
                    self._skip(
                        path,
                        f"conflict: article {article.doc_id!r} is already indexed from "
                        f"{old.origin}, which still exists; rename one of the files "
                        f"(or remove the article first)",
                        article.doc_id,
                        "conflict",
                    )
                )
            elif article.sha in by_sha:
                skipped.append(
                    self._skip(
                        path,
                        f"the same text as indexed article {by_sha[article.sha]!r}: not indexed twice",
                        article.doc_id,
                        "duplicate",
                    )
                )
            else:
                kept.append(article)
        return kept, skipped


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _other_file(old_origin: str, new_origin: str) -> bool:
    """Whether two origins are two different files on disk and the old one still exists."""
    if not old_origin or not new_origin or old_origin == new_origin:
        return False
    old, new = Path(old_origin), Path(new_origin)
    if not old.is_file():
        return False
    try:
        return old.resolve() != new.resolve()
    except OSError:
        return False


def _merge_overlapping(clusters: list[tuple[list[int], float]]) -> list[tuple[list[int], float]]:
    """Union of clusters sharing a member (exact groups inside near groups)."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members, _ in clusters:
        for m in members[1:]:
            parent[find(m)] = find(members[0])
    merged: dict[int, tuple[set[int], float]] = {}
    for members, sim in clusters:
        root = find(members[0])
        got, best = merged.get(root, (set(), 1.0))
        merged[root] = (got | set(members), min(best, sim))
    return [(sorted(m), s) for m, s in merged.values()]
