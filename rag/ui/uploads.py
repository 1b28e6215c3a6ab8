"""The corpus folder behind the Articles tab: uploads saved atomically under safe names, undo, removal.

Why apart: these are the page's only writes to disk, and they must lose nothing whatever a user
uploads (hostile names, wrong encodings, oversized files) — so they live in one place with no gradio
import, and the handlers in :mod:`rag.ui.handlers` only turn their errors into plain words.
:func:`add_uploads` checks every file before writing any, writes each atomically and undoes them all if
reading or indexing fails; :func:`remove_article` keeps the folder in step with the index, so a rebuild
does not bring a removed article back.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import SanadConfig
from rag.errors import IndexMissingError, InputError
from rag.ingest import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, Ingestor, make_doc_id
from rag.pipeline import Sanad
from rag.types import Article

logger = logging.getLogger(__name__)

MAX_FILES_PER_UPLOAD = 20
#: The columns of the articles table (and the keys of the ``/list_articles`` API's dicts).
ARTICLE_HEADERS = ["doc_id", "title", "published", "source", "passages", "characters", "file"]
#: Called as ``progress(fraction, desc=...)`` while adding (``gr.Progress`` in the page).
Progress = Callable[..., object]
#: Put before the title of an article holding instruction-like text (prompt injection, rag/safety.py).
FLAG_NOTE = "⚠ holds instructions to an AI (kept out of answers) · "
_UNSAFE_NAME_CHARS = re.compile(r"[^\w\-]+", re.UNICODE)


def index_exists(sanad: Sanad) -> bool:
    """Whether ``sanad`` has an index to load (loading it if it has)."""
    try:
        _ = sanad.retriever
        return True
    except IndexMissingError:
        return False


def safe_stem(name: str) -> str:
    """A file stem that cannot leave the corpus folder: basename only, word characters and ``-``.

    Example:
        >>> safe_stem("../../etc/passwd"), safe_stem("مهرجان التمور 2025")
        ('passwd', 'مهرجان_التمور_2025')
    """
    base = re.split(r"[\\/]", str(name))[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = _UNSAFE_NAME_CHARS.sub("_", stem).strip("_-")[:80].strip("_-")
    return stem or f"upload-{uuid.uuid4().hex[:8]}"


@dataclass
class _Saved:
    """A file written into the corpus folder, and what was there before (to undo it)."""

    path: Path
    previous: bytes | None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file beside it: all of it or nothing."""
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _undo(saved: Sequence[_Saved]) -> None:
    """Put back what ``saved`` replaced (or delete what was new), newest first; failures are logged."""
    for s in reversed(saved):
        try:
            if s.previous is None:
                s.path.unlink(missing_ok=True)
            else:
                _atomic_write(s.path, s.previous)
        except OSError:
            logger.exception("could not undo the upload of %s", s.path)


def _upload_name(item: Any) -> tuple[Path, str]:
    """The temporary path gradio stored an upload at, and the name the user gave it."""
    if isinstance(item, (str, Path)):
        return Path(item), Path(item).name
    path = getattr(item, "path", None) or getattr(item, "name", None)
    if isinstance(item, dict):
        path = item.get("path") or item.get("name")
    if not path:
        raise InputError("an uploaded file arrived without a name; upload it again")
    orig = (item.get("orig_name") if isinstance(item, dict) else getattr(item, "orig_name", None)) or Path(path).name
    return Path(path), str(orig)


def upload_names(files: Any) -> list[str]:
    """The names users gave the uploaded files (for messages and the audit log)."""
    items = files if isinstance(files, (list, tuple)) else [files]
    names = []
    for item in items:
        try:
            names.append(_upload_name(item)[1])
        except InputError:
            names.append("?")
    return [n for n, item in zip(names, items, strict=True) if item]


def article_rows(sanad: Sanad) -> list[list[Any]]:
    """One row per indexed article, in the order of :data:`ARTICLE_HEADERS` (empty without an index)."""
    try:
        articles = sanad.articles()
        chunks = sanad.retriever.index.chunks
    except IndexMissingError:
        return []
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return [
        [
            a.doc_id,
            (FLAG_NOTE if a.flagged else "") + a.title,
            a.published,
            " · ".join(a.sources),
            counts.get(a.doc_id, 0),
            len(a.text),
            Path(a.origin).name if a.origin else "",
        ]
        for a in articles
    ]


def _in_corpus(config: SanadConfig, source: str) -> Path | None:
    """``source`` when it is a file directly inside the corpus folder, else None."""
    if not source:
        return None
    path = Path(source)
    try:
        if path.resolve().parent == config.corpus_dir.resolve() and path.is_file():
            return path
    except OSError:
        return None
    return None


def add_uploads(sanad: Sanad, ingestor: Ingestor, files: Any, progress: Progress, *, replace: bool = False) -> dict:
    """Save uploaded files into ``config.corpus_dir`` and index them; all or nothing.

    A file whose article id is already indexed (or whose name is taken in the corpus folder) is
    refused unless ``replace`` is true: an upload never silently replaces an article.

    Every file is checked (type, size, name) before anything is written; a file is written atomically
    and, if reading or indexing any of them fails, the folder is put back as it was (the index writes
    are atomic, so it is unchanged too). Returns the API's JSON result; raises :class:`InputError`.
    """
    config = sanad.config
    items = [f for f in (files if isinstance(files, (list, tuple)) else [files]) if f]
    if not items:
        raise InputError("choose one or more .txt, .md or .html files to add first")
    if len(items) > MAX_FILES_PER_UPLOAD:
        raise InputError(f"{len(items)} files at once is too many; add at most {MAX_FILES_PER_UPLOAD} at a time")
    progress(0.0, desc="Checking the files")
    plan: list[tuple[Path, Path, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    corpus = config.corpus_dir
    existing = {a.doc_id for a in sanad.articles()} if index_exists(sanad) else set()
    for item in items:
        tmp_path, orig = _upload_name(item)
        suffix = Path(orig).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            problems.append(f"{orig} is not a supported file type (use {', '.join(SUPPORTED_SUFFIXES)})")
            continue
        try:
            size = tmp_path.stat().st_size
        except OSError:
            problems.append(f"{orig} could not be read; upload it again")
            continue
        if size > MAX_FILE_BYTES:
            problems.append(f"{orig} is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for one article")
            continue
        stem = safe_stem(orig)
        if stem in seen:
            problems.append(f"{orig} has the same name ({stem}) as another file in this upload")
            continue
        seen.add(stem)
        target = corpus / f"{stem}{suffix}"
        if target.resolve().parent != corpus.resolve():  # cannot happen after safe_stem; belt and braces
            problems.append(f"{orig} is not a usable file name")
            continue
        if not replace and (make_doc_id(target.stem) in existing or target.exists()):
            problems.append(
                f'{orig} would replace article {make_doc_id(target.stem)!r}; tick "Replace existing '
                f'articles" (API: replace=True) to replace it, or rename the file'
            )
            continue
        plan.append((tmp_path, target, orig))
    if problems:
        raise InputError("nothing was added: " + "; ".join(problems))
    corpus.mkdir(parents=True, exist_ok=True)
    saved: list[_Saved] = []
    articles: list[Article] = []
    try:
        for i, (tmp_path, target, orig) in enumerate(plan):
            progress((i + 0.5) / (len(plan) + 2), desc=f"Reading {orig}")
            previous = target.read_bytes() if target.exists() else None
            _atomic_write(target, tmp_path.read_bytes())
            saved.append(_Saved(target, previous))
            try:
                articles.append(ingestor.read(target))
            except InputError as exc:
                raise InputError(f"nothing was added: {exc}") from None
        progress(len(plan) / (len(plan) + 2), desc=f"Indexing {len(articles)} article(s)")
        before = {a.doc_id for a in sanad.articles()} if index_exists(sanad) else set()
        report = sanad.add_articles(articles)
    except BaseException:
        _undo(saved)  # the index was not changed (its writes are atomic); put the folder back too
        raise
    progress(1.0, desc="Done")
    added = [a.doc_id for a in articles if a.doc_id not in before]
    updated = [a.doc_id for a in articles if a.doc_id in before]
    words = ([f"added {', '.join(added)}"] if added else []) + ([f"updated {', '.join(updated)}"] if updated else [])
    flagged = [a.doc_id for a in articles if a.flagged]
    message = (
        f"{'; '.join(words)} ({report.embedded_chunks} new passages embedded in {report.seconds:.1f} s). "
        f"The index now holds {report.n_articles} articles and {report.n_chunks} passages."
        + (
            f" Flagged: {', '.join(flagged)} hold(s) text that reads as instructions to an AI system; it is "
            f"kept out of answers."
            if flagged
            else ""
        )
    )
    return {
        "added": added,
        "updated": updated,
        "n_articles": report.n_articles,
        "n_chunks": report.n_chunks,
        "embedded_chunks": report.embedded_chunks,
        "seconds": round(report.seconds, 3),
        "flagged": flagged,
        "message": message[:1].upper() + message[1:],
    }


def remove_article(sanad: Sanad, doc_id: str | None) -> dict:
    """Delete ``doc_id`` from the index and move its file out of the corpus folder (into ``.removed/``).

    Returns the API's JSON result; raises :class:`InputError` for an unknown or missing id.
    """
    config = sanad.config
    doc_id = (doc_id or "").strip()
    if not doc_id:
        raise InputError("choose the article to remove first")
    known = {a.doc_id: a for a in sanad.articles()}
    if doc_id not in known:
        raise InputError(f"{doc_id} is not in the index; the table lists the article ids")
    report = sanad.remove([doc_id])
    moved = ""
    source = _in_corpus(config, known[doc_id].origin)
    if source is not None:  # keep the corpus folder in step, so a rebuild does not bring it back
        bin_dir = config.corpus_dir / ".removed"
        try:
            bin_dir.mkdir(exist_ok=True)
            os.replace(source, bin_dir / f"{source.name}.{time.strftime('%Y%m%d-%H%M%S')}")
            moved = f" Its file was moved to {bin_dir.name}/ in the corpus folder."
        except OSError:
            logger.exception("could not move %s out of the corpus folder", source)
    return {
        "removed": [doc_id],
        "n_articles": report.n_articles,
        "n_chunks": report.n_chunks,
        "message": f"Removed {doc_id}. The index now holds {report.n_articles} articles.{moved}",
    }
