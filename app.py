"""Sanad's web UI: ask in Arabic or English, read the cited sources, manage the corpus.

Run it with ``python app.py [--host H --port P]`` or ``sanad serve``. Gradio is imported
here only, so the library and the CLI stay light.

The page has two tabs:

* **Ask**: a question box, the retrieval mode and number of passages, then the answer
  streaming in (right-to-left for Arabic, left-to-right for English) with its ``[n]``
  markers as badges. Clicking a badge opens the cited source below the answer: title,
  article id, retrieval score and the passage with the supporting sentence in ``<mark>``.
  Refusals and sentences removed as unsupported are shown as distinct notices; the
  retrieved passages and the time each stage took are listed underneath.
* **Articles**: upload ``.txt``/``.md``/``.html`` files (saved into ``config.corpus_dir``
  and indexed incrementally), the table of indexed articles, and removal by id.

Programs call the same app through ``gradio_client`` with the endpoints ``/search``,
``/ask`` (the :meth:`rag.types.Answer.to_dict` JSON), ``/list_articles``,
``/add_articles`` and ``/remove_article``::

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    answer = client.predict("كم دولة في التحالف الدولي؟", 5, "hybrid", api_name="/ask")
    client.predict([handle_file("new.txt")], api_name="/add_articles")

Every text shown comes from articles or the model and is HTML-escaped before it is put
into the page.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import gradio as gr

from rag.config import SanadConfig
from rag.errors import IndexMissingError, InputError, ModelError, SanadError
from rag.ingest import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, Ingestor
from rag.pipeline import Sanad
from rag.retrieval import check_question, detect_language
from rag.types import RETRIEVAL_MODES, Answer, Article, Hit

logger = logging.getLogger("rag.app")

#: Shown instead of any unexpected exception (whose traceback goes to the server log only).
GENERIC_ERROR = "Something went wrong on the server; the problem was logged. Please try again."
MAX_K = 20
MAX_FILES_PER_UPLOAD = 20
_MARKER = re.compile(r"\[(\d{1,3})\]")
_UNSAFE_NAME_CHARS = re.compile(r"[^\w\-]+", re.UNICODE)
_LABELS = {  # Answer.timings keys, in pipeline order
    "translate_s": "Translate the question (for retrieval)",
    "retrieval_s": "Retrieve passages",
    "ttft_s": "Model: first token",
    "generation_s": "Model: whole answer",
    "total_s": "Total",
    "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Answer tokens",
    "ui_first_token_s": "Web UI: first token sent (from the click)",
}

CSS = """
#sanad-question textarea { unicode-bidi: plaintext; text-align: start; }
.sanad-panel { font-size: 1rem; line-height: 1.7; }
.sanad-hint { color: var(--body-text-color-subdued); }
.sanad-answer { padding: 0.9rem 1.1rem; border-radius: 10px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); font-size: 1.12rem; line-height: 1.9; }
.sanad-answer[dir="rtl"] { text-align: right; font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", serif; }
.sanad-answer[dir="ltr"] { text-align: left; }
.sanad-answer[data-state="streaming"] .sanad-stream::after { content: "▍"; animation: sanad-blink 1s steps(2) infinite; }
@keyframes sanad-blink { 50% { opacity: 0; } }
.sanad-status { color: var(--body-text-color-subdued); font-style: italic; }
a.sanad-cite, span.sanad-cite { display: inline-block; min-width: 1.5em; padding: 0 0.35em; margin: 0 0.15em;
  border-radius: 0.6em; background: #2563eb; color: #fff !important; font-size: 0.8em; font-weight: 600;
  line-height: 1.5; text-align: center; text-decoration: none !important; vertical-align: super; cursor: pointer;
  font-family: system-ui, sans-serif; direction: ltr; unicode-bidi: isolate; }
span.sanad-cite { background: #64748b; cursor: default; }
.sanad-notice { margin: 0.75rem 0; padding: 0.75rem 1rem; border-radius: 8px; border-inline-start: 5px solid; }
.sanad-refusal { background: rgba(245, 158, 11, 0.14); border-color: #d97706; }
.sanad-unsupported { background: rgba(220, 38, 38, 0.09); border-color: #dc2626; }
.sanad-unsupported li { text-decoration: line-through; text-decoration-color: rgba(220, 38, 38, 0.6); }
.sanad-unsupported .why { text-decoration: none; display: inline-block; font-size: 0.85em; color: var(--body-text-color-subdued); }
.sanad-error { background: rgba(220, 38, 38, 0.12); border-color: #b91c1c; }
.sanad-notice-title { font-weight: 700; margin-bottom: 0.25rem; font-family: system-ui, sans-serif; }
.sanad-sources { margin-top: 0.9rem; }
.sanad-sources h4, .sanad-section-title { margin: 0.4rem 0; font-size: 0.95rem; font-family: system-ui, sans-serif; }
details.sanad-source, details.sanad-passage { margin: 0.4rem 0; padding: 0.45rem 0.8rem; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
details.sanad-source[open] { border-color: #2563eb; box-shadow: 0 0 0 2px rgba(37, 99, 235, 0.15); }
details summary { cursor: pointer; }
.sanad-meta { font-size: 0.85em; color: var(--body-text-color-subdued); font-family: system-ui, sans-serif; direction: ltr;
  unicode-bidi: isolate; }
.sanad-meta code { font-size: 0.95em; }
.sanad-title { font-weight: 600; }
.sanad-text { margin-top: 0.4rem; white-space: pre-wrap; line-height: 1.9; }
.sanad-text mark { background: #fde047; color: #111; padding: 0 0.1em; border-radius: 3px; }
.sanad-score { font-variant-numeric: tabular-nums; }
table.sanad-timings { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.sanad-timings td, table.sanad-timings th { padding: 0.2rem 0.9rem 0.2rem 0; text-align: left; }
table.sanad-timings td.num { text-align: right; }
.sanad-status-line { padding: 0.4rem 0.8rem; border-radius: 6px; border-inline-start: 4px solid; }
.sanad-ok { background: rgba(22, 163, 74, 0.10); border-color: #16a34a; }
.sanad-problem { background: rgba(220, 38, 38, 0.10); border-color: #dc2626; }
.sanad-header h1 { margin: 0; font-size: 1.6rem; }
.sanad-header p { margin: 0.2rem 0 0; color: var(--body-text-color-subdued); }
"""

#: Opens the cited source when a [n] badge in the answer is clicked (runs once per page load).
_CITE_JS = """
element.addEventListener('click', (event) => {
  const badge = event.target.closest('a.sanad-cite');
  if (!badge) return;
  event.preventDefault();
  const source = element.querySelector('#sanad-cite-' + badge.dataset.n);
  if (!source) return;
  source.open = true;
  source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""


# -- HTML rendering (pure functions of the data; every text is escaped) ---------------------------
def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def direction(text: str) -> str:
    return "rtl" if detect_language(text) == "ar" else "ltr"


def _with_badges(escaped: str, linked: set[int]) -> str:
    """Turn ``[n]`` markers of an escaped text into badges; cited ones link to their source."""
    def badge(m: re.Match) -> str:
        n = int(m.group(1))
        if n in linked:
            return (f'<a class="sanad-cite" href="#sanad-cite-{n}" data-n="{n}" role="button" '
                    f'title="Show source {n}">{n}</a>')
        return f'<span class="sanad-cite">{n}</span>'
    return _MARKER.sub(badge, escaped)


def highlighted(text: str, start: int, end: int) -> str:
    """``text`` escaped, with ``text[start:end]`` in ``<mark>`` (nothing marked if the span is empty)."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return esc(text)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _score(hit: Hit) -> str:
    extra = ", ".join(f"{esc(k)} {v:.4g}" for k, v in sorted(hit.scores.items()))
    return f'<span class="sanad-score">score {hit.score:.4f}</span>' + (f" ({extra})" if extra else "")


def render_placeholder() -> str:
    return ('<div class="sanad-panel sanad-hint" dir="auto">Ask a question about the indexed news, in Arabic or '
            'English. The answer cites its sources as numbered badges — click one to read the passage.<br>'
            '<span dir="rtl">اطرح سؤالاً بالعربية أو بالإنجليزية، وستظهر المصادر المستشهد بها أسفل الإجابة.</span></div>')


def render_progress(question: str, state: str, text: str = "", status: str = "") -> str:
    """The answer panel while the answer is being produced (``state``: searching, generating, streaming)."""
    d = direction(question)
    body = f'<span class="sanad-stream">{_with_badges(esc(text), set())}</span>' if text else ""
    note = f'<div class="sanad-status" dir="ltr">{esc(status)}</div>' if status else ""
    return (f'<div class="sanad-panel"><div class="sanad-answer" id="sanad-answer-text" dir="{d}" '
            f'lang="{"ar" if d == "rtl" else "en"}" data-state="{esc(state)}">{body}</div>{note}</div>')


def render_error(message: str) -> str:
    return ('<div class="sanad-panel"><div class="sanad-notice sanad-error" role="alert" dir="ltr">'
            f'<div class="sanad-notice-title">Could not answer</div>{esc(message)}</div></div>')


def render_answer(answer: Answer) -> str:
    """The checked answer: text with badges, refusal/unsupported notices and the cited sources."""
    d = "rtl" if answer.language == "ar" else "ltr"
    parts = ['<div class="sanad-panel">']
    if answer.refused:
        parts.append(
            f'<div class="sanad-answer sanad-notice sanad-refusal" id="sanad-answer-text" role="status" dir="{d}" '
            f'lang="{answer.language}" data-state="refused"><div class="sanad-notice-title" dir="ltr">'
            f'Sanad did not answer: the sources do not support an answer</div>{esc(answer.answer)}'
            + (f'<div class="sanad-meta">reason: {esc(answer.refusal_reason)}</div>' if answer.refusal_reason else "")
            + "</div>")
    else:
        linked = {c.n for c in answer.citations}
        parts.append(f'<div class="sanad-answer" id="sanad-answer-text" dir="{d}" lang="{answer.language}" '
                     f'data-state="done">{_with_badges(esc(answer.answer), linked)}</div>')
    if answer.unsupported:
        items = "".join(f'<li dir="{direction(s.text)}">{esc(s.text)} <span class="why" dir="ltr">— '
                        f'{esc(s.reason or "not supported by the passages")}</span></li>'
                        for s in answer.unsupported)
        parts.append('<div class="sanad-notice sanad-unsupported" id="sanad-unsupported">'
                     '<div class="sanad-notice-title">Removed from the answer: not supported by the sources</div>'
                     f'<ul>{items}</ul></div>')
    if answer.citations:
        parts.append('<div class="sanad-sources"><h4>Sources</h4>')
        by_chunk = {h.chunk_id: h for h in answer.passages}
        for c in answer.citations:
            hit = by_chunk.get(c.chunk_id)
            if hit is not None:
                text, base = hit.chunk.text, hit.chunk.start
                s, e = c.quote_start - base, c.quote_end - base
                if not (0 <= s < e <= len(text)) or text[s:e] != c.quote:
                    s = text.find(c.quote) if c.quote else -1
                    e = s + len(c.quote)
                body = highlighted(text, s, e) if s >= 0 else esc(text)
                score = _score(hit)
            else:  # pragma: no cover - a citation always points at a prompt passage
                body, score = f"<mark>{esc(c.quote)}</mark>", ""
            parts.append(
                f'<details class="sanad-source" id="sanad-cite-{c.n}" data-doc-id="{esc(c.doc_id)}" '
                f'data-chunk-id="{esc(c.chunk_id)}"><summary><span class="sanad-cite">{c.n}</span> '
                f'<span class="sanad-title" dir="{direction(c.title)}">{esc(c.title)}</span></summary>'
                f'<div class="sanad-meta">article <code>{esc(c.doc_id)}</code> · {score} · quote at characters '
                f'{c.quote_start}–{c.quote_end}</div>'
                f'<div class="sanad-text" dir="{direction(text if hit else c.quote)}">{body}</div></details>')
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_passages(hits: Sequence[Hit], sent: Sequence[Hit] = (), mode: str = "") -> str:
    """The retrieved passages: rank, article id, title, score; the text folds out."""
    if not hits:
        return '<div class="sanad-panel sanad-hint">No passage matched the question.</div>'
    numbers = {h.chunk_id: i + 1 for i, h in enumerate(sent)}
    rows = [f'<div class="sanad-panel" id="sanad-passages"><div class="sanad-section-title">{len(hits)} passages'
            + (f" ({esc(mode)})" if mode else "")
            + (f"; the model read the first {len(sent)}" if sent else "") + "</div>"]
    for h in hits:
        n = numbers.get(h.chunk_id)
        tag = f'<span class="sanad-cite" title="passage [{n}] in the prompt">{n}</span> ' if n else ""
        rows.append(
            f'<details class="sanad-passage" data-doc-id="{esc(h.doc_id)}"><summary>{tag}<b>#{h.rank}</b> '
            f'<code>{esc(h.doc_id)}</code> · <span class="sanad-title" dir="{direction(h.title)}">{esc(h.title)}</span>'
            f' · {_score(h)}</summary><div class="sanad-meta">passage {h.chunk.ordinal}, characters '
            f'{h.chunk.start}–{h.chunk.end}</div><div class="sanad-text" dir="{direction(h.chunk.text)}">'
            f'{esc(h.chunk.text)}</div></details>')
    rows.append("</div>")
    return "".join(rows)


def render_timings(timings: dict[str, float], extra: dict[str, float] | None = None) -> str:
    merged = {**timings, **(extra or {})}
    if not merged:
        return '<div class="sanad-panel sanad-hint">Timings appear after a question.</div>'
    keys = [k for k in _LABELS if k in merged] + sorted(k for k in merged if k not in _LABELS)
    rows = []
    for k in keys:
        v = float(merged[k])
        value = f"{v:.0f}" if k.endswith("_tokens") else f"{v:.2f} s"
        rows.append(f'<tr data-key="{esc(k)}"><td>{esc(_LABELS.get(k, k))}</td><td class="num">{value}</td></tr>')
    return ('<div class="sanad-panel"><table class="sanad-timings" id="sanad-timings"><tr><th>Stage</th>'
            f'<th>Value</th></tr>{"".join(rows)}</table></div>')


# -- corpus management ----------------------------------------------------------------------------
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


def article_rows(sanad: Sanad) -> list[list[Any]]:
    try:
        articles = sanad.articles()
        chunks = sanad.retriever.index.chunks
    except IndexMissingError:
        return []
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return [[a.doc_id, a.title, counts.get(a.doc_id, 0), len(a.text), Path(a.origin).name if a.origin else ""]
            for a in articles]


ARTICLE_HEADERS = ["doc_id", "title", "passages", "characters", "file"]


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


# -- the app --------------------------------------------------------------------------------------
class SanadBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch`` defaults to Sanad's upload limit, styles and queue settings."""

    def launch(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        kwargs.setdefault("max_file_size", MAX_FILE_BYTES)
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("show_error", True)  # only ever our plain-words gr.Error messages reach it
        kwargs.setdefault("footer_links", ["api"])
        return super().launch(*args, **kwargs)


def _plain(exc: BaseException) -> gr.Error:
    """A user-facing error for ``exc``: Sanad's own message, or a generic one (traceback logged)."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, SanadError):
        logger.info("refused a request: %s", exc)
        return gr.Error(str(exc), title="Sanad", print_exception=False)
    logger.error("unexpected error in the web UI", exc_info=exc)
    return gr.Error(GENERIC_ERROR, title="Sanad", print_exception=False)


def build_app(sanad: Sanad) -> gr.Blocks:
    """The Gradio app over ``sanad`` (nothing global: every handler closes over this instance)."""
    config = sanad.config
    ingestor = Ingestor()

    def _k(k: Any) -> int:
        try:
            value = int(k) if k not in (None, "") else config.top_k
        except (TypeError, ValueError):
            raise InputError(f"the number of passages must be a whole number from 1 to {MAX_K}") from None
        if not 1 <= value <= MAX_K:
            raise InputError(f"the number of passages must be from 1 to {MAX_K}, not {value}")
        return value

    def _mode(mode: Any) -> str:
        mode = mode or config.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"mode {mode!r} is not valid; choose one of {', '.join(RETRIEVAL_MODES)}")
        return str(mode)

    def stats_html() -> str:
        try:
            n_articles = len(sanad.articles())
            n_chunks = len(sanad.retriever.index.chunks)
            stats = f"{n_articles} articles · {n_chunks} passages indexed"
        except SanadError as exc:
            stats = f"index not available: {exc}"
        return ('<div class="sanad-header"><h1>سند · Sanad</h1><p>Cited answers from Arabic news, fully offline — '
                f'<span id="sanad-stats">{esc(stats)}</span></p></div>')

    # ---- handlers ------------------------------------------------------------------------------
    def ask_ui(question: str, mode: str, k: float) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Stream one answer into the page; problems become a plain-words notice (and a toast), never a trace."""
        t0 = time.perf_counter()
        first_token: float | None = None
        try:
            q = check_question(question, config.max_question_chars)
            mode_, k_ = _mode(mode), _k(k)
            hits: tuple[Hit, ...] = ()
            pieces: list[str] = []
            yield (render_progress(q, "searching", status="Searching the articles…"), "", render_timings({}), None)
            for event in sanad.stream(q, k=k_, mode=mode_):
                if event.kind == "passages":
                    hits = event.hits
                    yield (render_progress(q, "generating", status=f"Found {len(hits)} passages; writing the answer…"),
                           render_passages(hits, mode=mode_), gr.skip(), gr.skip())
                elif event.kind == "token":
                    if first_token is None:
                        first_token = time.perf_counter() - t0
                    pieces.append(event.text)
                    yield (render_progress(q, "streaming", "".join(pieces)), gr.skip(), gr.skip(), gr.skip())
                elif event.kind == "answer" and event.answer is not None:
                    answer = event.answer
                    extra = {"ui_first_token_s": first_token} if first_token is not None else {}
                    yield (render_answer(answer), render_passages(hits or answer.passages, answer.passages, mode_),
                           render_timings(answer.timings, extra), answer.to_dict())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a plain-words message
            message = _plain(exc).message
            gr.Warning(message, title="Sanad")
            yield (render_error(message), gr.skip(), render_timings({}), None)

    def search_ui(question: str, mode: str, k: float) -> tuple[str, str, str]:
        try:
            mode_ = _mode(mode)
            t = time.perf_counter()
            hits = sanad.search(question, k=_k(k), mode=mode_)
            took = time.perf_counter() - t
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None
        note = ('<div class="sanad-panel sanad-hint">Search only: the passages are listed below '
                '(no answer was generated).</div>')
        return note, render_passages(hits, mode=mode_), render_timings({"retrieval_s": took})

    def refresh() -> tuple[str, Any, Any]:
        try:
            rows = article_rows(sanad)
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None
        return (stats_html(), gr.update(value=rows, headers=ARTICLE_HEADERS),
                gr.update(choices=[r[0] for r in rows], value=None))

    def status_html(kind: str, text: str) -> str:
        """A one-line result for the Articles tab (``kind``: ok or problem); ``text`` is escaped here."""
        label = "Done." if kind == "ok" else "Nothing changed:"
        if text.lower().startswith("nothing was added: "):
            text = text[len("nothing was added: "):]
        return (f'<div class="sanad-panel sanad-status-line sanad-{kind}" role="status"><b>{label}</b> '
                f'{esc(text)}</div>')

    def add_ui(files: Any, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Upload handler of the page: problems become a toast and a status line, the table stays as it was."""
        try:
            result = _add(files, progress)
        except Exception as exc:  # noqa: BLE001 - shown in plain words, never as a trace
            message = _plain(exc).message
            gr.Warning(message, title="Sanad")
            return status_html("problem", message), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        header, table, choices = refresh()
        return status_html("ok", result["message"]), table, choices, header, None

    def add_articles(files: Any, progress: gr.Progress = gr.Progress()) -> dict:
        """API: add or replace articles from uploaded .txt/.md/.html files; all or nothing."""
        try:
            return _add(files, progress)
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None

    def _add(files: Any, progress: gr.Progress) -> dict:
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
            before = {a.doc_id for a in sanad.articles()} if _index_exists(sanad) else set()
            report = sanad.add_articles(articles)
        except BaseException:
            _undo(saved)  # the index was not changed (its writes are atomic); put the folder back too
            raise
        progress(1.0, desc="Done")
        added = [a.doc_id for a in articles if a.doc_id not in before]
        updated = [a.doc_id for a in articles if a.doc_id in before]
        words = ([f"added {', '.join(added)}"] if added else []) + ([f"updated {', '.join(updated)}"] if updated else [])
        message = (f"{'; '.join(words)} ({report.embedded_chunks} new passages embedded in {report.seconds:.1f} s). "
                   f"The index now holds {report.n_articles} articles and {report.n_chunks} passages.")
        return {"added": added, "updated": updated, "n_articles": report.n_articles, "n_chunks": report.n_chunks,
                "embedded_chunks": report.embedded_chunks, "seconds": round(report.seconds, 3),
                "message": message[:1].upper() + message[1:]}

    def _remove(doc_id: str | None) -> dict:
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
        return {"removed": [doc_id], "n_articles": report.n_articles, "n_chunks": report.n_chunks,
                "message": f"Removed {doc_id}. The index now holds {report.n_articles} articles.{moved}"}

    def remove_ui(doc_id: str | None) -> tuple[Any, ...]:
        try:
            result = _remove(doc_id)
        except Exception as exc:  # noqa: BLE001
            message = _plain(exc).message
            gr.Warning(message, title="Sanad")
            return status_html("problem", message), gr.skip(), gr.skip(), gr.skip()
        header, table, choices = refresh()
        return status_html("ok", result["message"]), table, choices, header

    def remove_article(doc_id: str | None) -> dict:
        """API: delete one article (by doc_id) from the index."""
        try:
            return _remove(doc_id)
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None

    # ---- API-only endpoints (typed for gradio_client) -----------------------------------------
    def search(question: str, k: int = 5, mode: str = "hybrid") -> list[dict]:
        """The best passages for a question: rank, doc_id, chunk_id, title, score, scores, text, offsets."""
        try:
            return [h.to_dict() for h in sanad.search(question, k=_k(k), mode=_mode(mode))]
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None

    def ask(question: str, k: int = 5, mode: str = "hybrid") -> dict:
        """A cited answer (Answer.to_dict(): answer, refused, citations, sentences, passages, timings)."""
        try:
            return sanad.ask(check_question(question, config.max_question_chars), k=_k(k), mode=_mode(mode)).to_dict()
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None

    def list_articles() -> list[dict]:
        """The indexed articles: doc_id, title, passages, characters, file."""
        try:
            return [dict(zip(ARTICLE_HEADERS, row)) for row in article_rows(sanad)]
        except Exception as exc:  # noqa: BLE001
            raise _plain(exc) from None

    # ---- layout --------------------------------------------------------------------------------
    with SanadBlocks(title="Sanad · سند", analytics_enabled=False) as demo:
        header = gr.HTML(stats_html(), elem_id="sanad-header", css_template=CSS, js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Ask · اسأل", id="ask"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(label="Question (Arabic or English)", lines=2, max_lines=6, scale=5,
                                          placeholder="كم عدد الدول الأعضاء في التحالف الدولي لهزيمة داعش؟  ·  "
                                                      "How many countries are in the coalition?",
                                          max_length=config.max_question_chars, elem_id="sanad-question")
                    with gr.Column(scale=1, min_width=140):
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="sanad-ask")
                        search_btn = gr.Button("Search only", elem_id="sanad-search")
                with gr.Row():
                    mode = gr.Radio(list(RETRIEVAL_MODES), value=config.mode, label="Retrieval mode",
                                    info="dense: meaning · bm25: words · hybrid: both", elem_id="sanad-mode")
                    k = gr.Slider(1, MAX_K, value=min(config.top_k, MAX_K), step=1, label="Passages to retrieve",
                                  info=f"the model reads the best {config.answer_passages}", elem_id="sanad-k")
                answer_html = gr.HTML(render_placeholder(), elem_id="sanad-answer", css_template=CSS,
                                      js_on_load=_CITE_JS)
                with gr.Accordion("Retrieved passages", open=True, elem_id="sanad-passages-box"):
                    passages_html = gr.HTML("", elem_id="sanad-passages-panel", css_template=CSS, js_on_load=None)
                with gr.Accordion("Timings", open=True, elem_id="sanad-timings-box"):
                    timings_html = gr.HTML(render_timings({}), elem_id="sanad-timings-panel", css_template=CSS,
                                           js_on_load=None)
                with gr.Accordion("Answer as JSON", open=False):
                    answer_json = gr.JSON(label="Answer.to_dict()", elem_id="sanad-answer-json")
                gr.Examples([["كم عدد الدول الأعضاء في التحالف الدولي لهزيمة داعش؟"],
                             ["ما قيمة المساعدات الإنسانية التي أعلنتها الولايات المتحدة للشعب السوري؟"],
                             ["How much humanitarian aid for the Syrian people did Blinken announce?"]],
                            inputs=[question], label="Examples")
            with gr.Tab("Articles · المقالات", id="articles"):
                gr.Markdown(f"Add news articles as `.txt`, `.md` or `.html` files (UTF-8, up to "
                            f"{MAX_FILE_BYTES // 1_000_000} MB each). They are saved into the corpus folder and "
                            f"indexed right away; if anything fails, nothing changes.")
                with gr.Row():
                    upload = gr.File(label="Articles to add", file_count="multiple",
                                     file_types=list(SUPPORTED_SUFFIXES), elem_id="sanad-upload", scale=3)
                    with gr.Column(scale=1, min_width=160):
                        add_btn = gr.Button("Add to index", variant="primary", elem_id="sanad-add")
                        refresh_btn = gr.Button("Refresh list", elem_id="sanad-refresh")
                status = gr.HTML("", elem_id="sanad-articles-status", css_template=CSS, js_on_load=None,
                                 min_height=40)
                table = gr.Dataframe(headers=ARTICLE_HEADERS, datatype=["str", "str", "number", "number", "str"],
                                     interactive=False, wrap=True, label="Indexed articles", elem_id="sanad-articles",
                                     column_widths=["22%", "48%", "8%", "10%", "12%"])
                with gr.Row():
                    remove_id = gr.Dropdown(choices=[], label="Article to remove", allow_custom_value=True,
                                            elem_id="sanad-remove-id", scale=3)
                    remove_btn = gr.Button("Remove from index", variant="stop", elem_id="sanad-remove", scale=1)
                # Endpoints for programs (gradio_client): same inputs, JSON results, errors raised.
                api_add_btn = gr.Button(visible=False)
                api_remove_btn = gr.Button(visible=False)
                api_result = gr.JSON(visible=False, label="result")

        # ---- events ----------------------------------------------------------------------------
        ask_outputs = [answer_html, passages_html, timings_html, answer_json]
        ask_args = dict(fn=ask_ui, inputs=[question, mode, k], outputs=ask_outputs, api_name="ask_stream",
                        api_visibility="undocumented", concurrency_id="sanad-llm", concurrency_limit=1)
        ask_btn.click(**ask_args)
        question.submit(fn=ask_ui, inputs=[question, mode, k], outputs=ask_outputs, api_visibility="private",
                        concurrency_id="sanad-llm", concurrency_limit=1)
        search_btn.click(search_ui, [question, mode, k], [answer_html, passages_html, timings_html],
                         api_visibility="private", concurrency_id="sanad-search", concurrency_limit=4)
        gr.api(search, api_name="search", concurrency_id="sanad-search", concurrency_limit=4)
        gr.api(ask, api_name="ask", concurrency_id="sanad-llm", concurrency_limit=1)
        gr.api(list_articles, api_name="list_articles", concurrency_limit=None)
        add_btn.click(add_ui, [upload], [status, table, remove_id, header, upload], api_visibility="private",
                      concurrency_id="sanad-index-write", concurrency_limit=1, show_progress_on=[status])
        remove_btn.click(remove_ui, [remove_id], [status, table, remove_id, header], api_visibility="private",
                         concurrency_id="sanad-index-write", concurrency_limit=1, show_progress_on=[status])
        api_add_btn.click(add_articles, [upload], [api_result], api_name="add_articles",
                          concurrency_id="sanad-index-write", concurrency_limit=1)
        api_remove_btn.click(remove_article, [remove_id], [api_result], api_name="remove_article",
                             concurrency_id="sanad-index-write", concurrency_limit=1)
        refresh_btn.click(refresh, None, [header, table, remove_id], api_visibility="private")
        demo.load(refresh, None, [header, table, remove_id], api_visibility="private")
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


def _index_exists(sanad: Sanad) -> bool:
    try:
        _ = sanad.retriever
        return True
    except IndexMissingError:
        return False


def ensure_index(sanad: Sanad) -> None:
    """Load the index, building it from ``config.corpus_dir`` first when there is none yet."""
    if _index_exists(sanad):
        return
    corpus = sanad.config.corpus_dir
    logger.warning("no index in %s yet; building it from %s", sanad.config.index_dir, corpus)
    report = sanad.index([corpus])
    logger.warning("index built: %s", report.summary())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Sanad's web UI (Gradio).")
    parser.add_argument("--host", default=os.environ.get("SANAD_HOST", "127.0.0.1"),
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANAD_PORT", "7860")))
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index, or $SANAD_INDEX_DIR)")
    parser.add_argument("--corpus-dir", type=Path, help="articles folder (default: data/articles)")
    parser.add_argument("--no-preload", action="store_true", help="load the language model on the first question")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None, config: SanadConfig | None = None) -> int:
    """Start the web UI (blocks until stopped). ``config`` comes from ``sanad serve``; else from the env."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        config = (config or SanadConfig.from_env()).with_overrides(index_dir=args.index_dir,
                                                                   corpus_dir=args.corpus_dir)
        from rag.config import OFFLINE_EMBEDDING

        if config.embedding_model == OFFLINE_EMBEDDING:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        sanad = Sanad(config)
        ensure_index(sanad)
        if not args.no_preload:
            try:
                sanad.load(llm=True)
            except ModelError as exc:  # search still works; questions will say why they cannot be answered
                logger.warning("the language model is not available, answers will fail: %s", exc)
    except SanadError as exc:
        print(f"sanad: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1
    demo = build_app(sanad)
    print(f"Sanad web UI on http://{args.host}:{args.port}/  (Ctrl+C to stop)", file=sys.stderr)
    demo.launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
