"""What the page and the API do when called: one :class:`Handlers` object over one ``Sanad``, no layout.

Why apart: :mod:`rag.ui.layout` only places components and wires events to these methods, so a new
feature adds a method here (and its HTML in :mod:`rag.ui.render`) and one line of wiring there.

Two kinds of method:

* **page handlers** (``chat_ui``, ``new_chat``, ``timeline_ui``, ``search_ui``, ``refresh``, ``add_ui``, ``remove_ui``) return or
  stream HTML for the panels; a problem becomes a plain-words notice and a toast, never a traceback;
* **API functions** (``search``, ``ask`` (with ``history``), ``timeline``, ``list_articles``, ``add_articles``, ``remove_article``) are
  the ``gradio_client`` endpoints: typed inputs, JSON results, problems raised as ``gr.Error``.

Nothing is global: every method reads ``self.sanad``, so two apps in one process do not share state.
Sanad's own errors reach the user with their message; any other exception is logged with its
traceback and the user sees :data:`GENERIC_ERROR`.

One module just past the house's ~400 lines on purpose: the page handlers and the API functions are methods
of the one :class:`Handlers` object the layout wires, and share its write guard, filter parsing and error
mapping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, cast

import gradio as gr

from rag.access import WriteGuard
from rag.answer_types import Answer
from rag.errors import InputError, SanadError
from rag.ingest import Ingestor
from rag.pipeline import Sanad
from rag.retrieval import check_question, make_filters
from rag.types import RETRIEVAL_MODES, Filters, Hit, RetrievalMode
from rag.ui import uploads
from rag.ui.news_render import history_of, render_chat, render_timeline
from rag.ui.render import (
    render_error,
    render_header,
    render_passages,
    render_status,
    render_timings,
)
from rag.ui.uploads import ARTICLE_HEADERS, article_rows

logger = logging.getLogger(__name__)

#: Shown instead of any unexpected exception (whose traceback goes to the server log only).
GENERIC_ERROR = "Something went wrong on the server; the problem was logged. Please try again."
MAX_K = 20
#: The default of the ``progress`` parameters: gradio sees it and passes a fresh tracker on every call.
_PROGRESS = gr.Progress()


def plain_error(exc: BaseException) -> gr.Error:
    """A user-facing error for ``exc``: Sanad's own message, or a generic one (traceback logged)."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, SanadError):
        logger.info("refused a request: %s", exc)
        return gr.Error(str(exc), title="Sanad", print_exception=False)
    logger.error("unexpected error in the web UI", exc_info=exc)
    return gr.Error(GENERIC_ERROR, title="Sanad", print_exception=False)


class Handlers:
    """The page's event handlers and the API functions over ``sanad``.

    Example:
        >>> handlers = Handlers(Sanad(SanadConfig()))   # doctest: +SKIP
        >>> handlers.search("كم دولة في التحالف؟", 3)     # doctest: +SKIP
    """

    def __init__(self, sanad: Sanad, guard: WriteGuard | None = None) -> None:
        self.sanad = sanad
        self.config = sanad.config
        self.ingestor = Ingestor()
        self.guard = guard or WriteGuard.from_config(sanad.config)

    # ---- writes: who may, and the record of each (rag/access.py) -----------------------------------
    def _write(self, action: str, targets: list[str], request: gr.Request | None, token: str, run: Any) -> dict:
        """Authorize, run and audit one write; :class:`AccessError` (recorded) when the caller may not."""
        headers = {k.lower(): v for k, v in request.headers.items()} if request is not None else {}
        username = getattr(request, "username", None) if request is not None else None
        client = getattr(request, "client", None) if request is not None else None
        address = str(getattr(client, "host", "") or "")
        caller = self.guard.authorize(
            action, targets, token=str(token or ""), username=username, headers=headers, address=address
        )
        try:
            result = run()
        except Exception as exc:
            self.guard.record(caller, action, targets, "failed", str(exc))
            raise
        done = result.get("added", []) + result.get("updated", []) + result.get("removed", [])
        self.guard.record(caller, action, done or targets, "ok", result.get("message", ""))
        return result

    def _add(self, files: Any, replace: Any, token: str, request: gr.Request | None, progress: Any) -> dict:
        return self._write(
            "add",
            uploads.upload_names(files),
            request,
            token,
            lambda: uploads.add_uploads(self.sanad, self.ingestor, files, progress, replace=bool(replace)),
        )

    def _remove(self, doc_id: str | None, token: str, request: gr.Request | None) -> dict:
        return self._write(
            "remove", [str(doc_id or "").strip()], request, token, lambda: uploads.remove_article(self.sanad, doc_id)
        )

    # ---- input checks ----------------------------------------------------------------------------
    def _k(self, k: Any) -> int:
        try:
            value = int(k) if k not in (None, "") else self.config.top_k
        except (TypeError, ValueError):
            raise InputError(f"the number of passages must be a whole number from 1 to {MAX_K}") from None
        if not 1 <= value <= MAX_K:
            raise InputError(f"the number of passages must be from 1 to {MAX_K}, not {value}")
        return value

    @staticmethod
    def _filters(since: Any = "", until: Any = "", sources: Any = None, doc_ids: Any = None) -> Filters | None:
        """Filters from the page's controls or the API's parameters (lists or comma-separated text)."""
        return make_filters(
            since=str(since or ""), until=str(until or ""), sources=sources or None, doc_ids=doc_ids or None
        )

    @staticmethod
    def _scope(filters: Filters | None) -> str:
        if filters is None:
            return ""
        parts = [" | ".join(filters.sources)] if filters.sources else []
        if filters.since or filters.until:
            parts.append(f"{filters.since or '…'} to {filters.until or '…'}")
        if filters.doc_ids:
            parts.append(", ".join(filters.doc_ids))
        return "; ".join(parts)

    def _mode(self, mode: Any) -> RetrievalMode:
        mode = mode or self.config.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"mode {mode!r} is not valid; choose one of {', '.join(RETRIEVAL_MODES)}")
        return cast(RetrievalMode, str(mode))

    # ---- the Ask tab -------------------------------------------------------------------------------
    def chat_ui(
        self,
        question: str,
        mode: str,
        k: float,
        since: str = "",
        until: str = "",
        sources: list[str] | None = None,
        doc_ids: list[str] | None = None,
        turns: list[Answer] | None = None,
    ) -> Iterator[tuple[Any, Any, Any, Any, Any]]:
        """Stream one answer into the conversation (the earlier ``turns`` are its history); problems become a
        plain-words notice (and a toast) under the question, never a trace, and do not join the conversation."""
        t0 = time.perf_counter()
        first_token: float | None = None
        turns = list(turns or [])
        try:
            q = check_question(question, self.config.max_question_chars)
            mode_, k_ = self._mode(mode), self._k(k)
            filters = self._filters(since, until, sources, doc_ids)
            scope = self._scope(filters)
            history = history_of(turns)
            # the rewrite shown while the answer streams (rules: microseconds; the model's shows with the answer)
            rewritten = self.sanad.rewrite(q, history).question if history and self.config.rewrite == "rules" else ""
            hits: tuple[Hit, ...] = ()
            pieces: list[str] = []
            yield (
                render_chat(turns, q, state="searching", status="Searching the articles…", rewritten=rewritten),
                "",
                render_timings({}),
                None,
                gr.skip(),
            )
            for event in self.sanad.stream(q, k=k_, mode=mode_, filters=filters, history=history):
                if event.kind == "passages":
                    hits = event.hits
                    yield (
                        render_chat(
                            turns,
                            q,
                            state="generating",
                            rewritten=rewritten,
                            status=f"Found {len(hits)} passages; writing the answer…",
                        ),
                        render_passages(hits, mode=mode_, scope=scope),
                        gr.skip(),
                        gr.skip(),
                        gr.skip(),
                    )
                elif event.kind == "token":
                    if first_token is None:
                        first_token = time.perf_counter() - t0
                    pieces.append(event.text)
                    yield (
                        render_chat(turns, q, state="streaming", text="".join(pieces), rewritten=rewritten),
                        gr.skip(),
                        gr.skip(),
                        gr.skip(),
                        gr.skip(),
                    )
                elif event.kind == "answer" and event.answer is not None:
                    answer = event.answer
                    turns.append(answer)
                    extra = {"ui_first_token_s": first_token} if first_token is not None else {}
                    yield (
                        render_chat(turns),
                        render_passages(hits or answer.passages, answer.passages, mode_, scope=scope),
                        render_timings(answer.timings, extra),
                        answer.to_dict(),
                        turns,
                    )
        except Exception as exc:  # every failure becomes a plain-words message
            message = plain_error(exc).message
            gr.Warning(message, title="Sanad")
            yield (render_chat(turns, error=message), gr.skip(), render_timings({}), None, gr.skip())

    @staticmethod
    def new_chat() -> tuple[Any, ...]:
        """Start a fresh conversation: an empty transcript, no passages, no timings, no history."""
        return render_chat([]), "", render_timings({}), None, []

    # ---- the Timeline tab ----------------------------------------------------------------------------
    def timeline_ui(self, topic: str, since: str = "", until: str = "") -> str:
        """The topic's dated events as HTML; problems become a plain-words notice and a toast."""
        try:
            return render_timeline(self.sanad.timeline(topic, since=str(since or ""), until=str(until or "")))
        except Exception as exc:
            message = plain_error(exc).message
            gr.Warning(message, title="Sanad")
            return render_error(message)

    def timeline(self, topic: str, since: str = "", until: str = "") -> dict:
        """API: the dated events the articles retrieved for ``topic`` mention, oldest first, each with its
        citation (Timeline.to_dict()); ``since``/``until`` (YYYY-MM-DD) bound it. No LLM."""
        try:
            return self.sanad.timeline(topic, since=str(since or ""), until=str(until or "")).to_dict()
        except Exception as exc:
            raise plain_error(exc) from None

    def search_ui(
        self,
        question: str,
        mode: str,
        k: float,
        since: str = "",
        until: str = "",
        sources: list[str] | None = None,
        doc_ids: list[str] | None = None,
    ) -> tuple[str, str, str]:
        """Search only: a note in the answer panel, the passages and the retrieval time."""
        try:
            mode_ = self._mode(mode)
            filters = self._filters(since, until, sources, doc_ids)
            t = time.perf_counter()
            hits = self.sanad.search(question, k=self._k(k), mode=mode_, filters=filters)
            took = time.perf_counter() - t
        except Exception as exc:
            raise plain_error(exc) from None
        note = (
            '<div class="sanad-panel sanad-hint">Search only: the passages are listed below '
            "(no answer was generated).</div>"
        )
        passages = render_passages(hits, mode=mode_, scope=self._scope(filters))
        return note, passages, render_timings({"retrieval_s": took})

    def filter_choices(self) -> tuple[Any, Any]:
        """The outlets and article ids the filter controls offer, as the index is now (kept selections stay)."""
        try:
            articles = self.sanad.articles()
        except SanadError:
            articles = []
        outlets = sorted({s for a in articles for s in a.sources})
        return gr.update(choices=outlets), gr.update(choices=[a.doc_id for a in articles])

    # ---- the header and the Articles tab ------------------------------------------------------------
    def stats_html(self) -> str:
        """The page header with the index's size (or why there is no index)."""
        try:
            n_articles = len(self.sanad.articles())
            n_chunks = len(self.sanad.retriever.index.chunks)
            stats = f"{n_articles} articles · {n_chunks} passages indexed"
        except SanadError as exc:
            stats = f"index not available: {exc}"
        return render_header(stats)

    def refresh(self) -> tuple[str, Any, Any]:
        """The header, the articles table and the removal choices, as the index is now."""
        try:
            rows = article_rows(self.sanad)
        except Exception as exc:
            raise plain_error(exc) from None
        return (
            self.stats_html(),
            gr.update(value=rows, headers=ARTICLE_HEADERS),
            gr.update(choices=[r[0] for r in rows], value=None),
        )

    def add_ui(
        self,
        files: Any,
        replace: bool = False,
        token: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
        progress: gr.Progress = _PROGRESS,
    ) -> tuple[Any, ...]:
        """Upload handler of the page: problems become a toast and a status line, the table stays as it was."""
        try:
            result = self._add(files, replace, token, request, progress)
        except Exception as exc:  # shown in plain words, never as a trace
            message = plain_error(exc).message
            gr.Warning(message, title="Sanad")
            return render_status("problem", message), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        header, table, choices = self.refresh()
        return render_status("ok", result["message"]), table, choices, header, None

    def remove_ui(self, doc_id: str | None, token: str = "", request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        """Removal handler of the page: a status line, then the refreshed table, choices and header."""
        try:
            result = self._remove(doc_id, token, request)
        except Exception as exc:
            message = plain_error(exc).message
            gr.Warning(message, title="Sanad")
            return render_status("problem", message), gr.skip(), gr.skip(), gr.skip()
        header, table, choices = self.refresh()
        return render_status("ok", result["message"]), table, choices, header

    # ---- API-only endpoints (typed for gradio_client) -----------------------------------------------
    def add_articles(
        self,
        files: Any,
        replace: bool = False,
        request: gr.Request = None,  # type: ignore[assignment]
        progress: gr.Progress = _PROGRESS,
    ) -> dict:
        """API: add articles from uploaded files; all or nothing. An article already indexed under the same
        name is replaced only with ``replace=True``. Needs the write token (``X-Sanad-Token`` header) when
        the server has one."""
        try:
            return self._add(files, replace, "", request, progress)
        except Exception as exc:
            raise plain_error(exc) from None

    def remove_article(self, doc_id: str | None, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """API: delete one article (by doc_id) from the index; needs the write token when the server has one."""
        try:
            return self._remove(doc_id, "", request)
        except Exception as exc:
            raise plain_error(exc) from None

    def search(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        since: str = "",
        until: str = "",
        sources: str = "",
        doc_ids: str = "",
    ) -> list[dict]:
        """The best passages for a question: rank, doc_id, chunk_id, title, score, scores, text, offsets,
        published, source, url, author. Filters (applied inside retrieval): ``since``/``until``
        (YYYY-MM-DD, YYYY-MM or YYYY), ``sources`` and ``doc_ids`` (comma-separated)."""
        try:
            filters = self._filters(since, until, sources, doc_ids)
            return [
                h.to_dict() for h in self.sanad.search(question, k=self._k(k), mode=self._mode(mode), filters=filters)
            ]
        except Exception as exc:
            raise plain_error(exc) from None

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        since: str = "",
        until: str = "",
        sources: str = "",
        doc_ids: str = "",
        history: list | None = None,
    ) -> dict:
        """A cited answer (Answer.to_dict(): answer, refused, citations with their outlet and date, sentences,
        passages, conflicts, timings), from the articles the filters allow (same filters as ``search``).
        ``history``: the conversation so far, oldest first, as ``{"question", "answer"}`` dicts or
        ``[question, answer]`` pairs; a follow-up is answered as its self-contained form (``rewritten``)."""
        try:
            q = check_question(question, self.config.max_question_chars)
            filters = self._filters(since, until, sources, doc_ids)
            return self.sanad.ask(
                q, k=self._k(k), mode=self._mode(mode), filters=filters, history=history or ()
            ).to_dict()
        except Exception as exc:
            raise plain_error(exc) from None

    def list_articles(self) -> list[dict]:
        """The indexed articles: doc_id, title, published, source (every outlet that ran it), passages,
        characters, file."""
        try:
            return [dict(zip(ARTICLE_HEADERS, row, strict=True)) for row in article_rows(self.sanad)]
        except Exception as exc:
            raise plain_error(exc) from None
