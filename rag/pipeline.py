"""``Sanad``: the one front door for programs, the CLI, the web UI and evaluation.

It owns the models (loaded lazily, once) and the loaded index, and re-reads the index
after every change it makes, so callers never juggle the stages themselves.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.answer import Answerer, StreamEvent
from rag.answer_types import Answer, Rewrite, Timeline
from rag.askqueue import AskQueue
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import ModelError, SanadError
from rag.generators import Generator, make_generator
from rag.index_files import clean_leftovers_if_idle, current_token
from rag.indexer import Indexer, IndexReport
from rag.retrieval import Retriever
from rag.types import Article, Filters, Hit, RetrievalMode

logger = logging.getLogger(__name__)


class Sanad:
    """Search and cited answers over an index of Arabic news.

    Example:
        >>> sanad = Sanad(SanadConfig())                               # doctest: +SKIP
        >>> sanad.search("ما قيمة المساعدات الإنسانية للشعب السوري؟")[0].doc_id  # doctest: +SKIP
        '003_62634fc958774adb'
        >>> print(sanad.ask("How many countries are in the coalition?").answer)  # doctest: +SKIP
    """

    def __init__(
        self, config: SanadConfig | None = None, *, embedder: Embedder | None = None, generator: Generator | None = None
    ) -> None:
        self.config = config or SanadConfig.from_env()
        self.embedder = embedder or Embedder.from_config(self.config)
        self._generator = generator
        self._retriever: Retriever | None = None
        self._answerer: Answerer | None = None
        self._lock = threading.RLock()
        # Index versions (issue #10): a write builds the next version without blocking searches, which
        # go on from the live one; a new CURRENT (this process, the CLI, another server) is loaded by one
        # thread while the others keep answering from the version they have.
        self._write_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._index_token: object = None
        # Questions wait here (bounded, with a deadline) for the one LLM; past it they get BusyError at once.
        self.asks = AskQueue(1, self.config.ask_queue, self.config.ask_deadline_s)

    # -- lazily built parts ---------------------------------------------------------------------
    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = make_generator(self.config)
        return self._generator

    @property
    def retriever(self) -> Retriever:
        """The retriever of the live index version, reloaded when ``CURRENT`` changes (one ``stat`` per call)."""
        current = self._retriever
        if current is not None and current_token(self.config.index_dir) == self._index_token:
            return current
        return self._reload(current)

    def _reload(self, current: Retriever | None, *, wait: bool = False) -> Retriever:
        if current is not None and not wait and not self._reload_lock.acquire(blocking=False):
            return current  # another thread is loading the new version; answer from this one meanwhile
        if current is None or wait:
            self._reload_lock.acquire()
        try:
            token = current_token(self.config.index_dir)
            if self._retriever is not None and self._retriever is not current and token == self._index_token:
                return self._retriever  # loaded by the thread we waited for
            if current is None:
                clean_leftovers_if_idle(self.config.index_dir)  # a killed build's folders, at first start
            self.embedder.load()
            try:
                fresh = Retriever.load(self.config, self.embedder)
            except SanadError as exc:
                if current is None:
                    raise
                logger.error(
                    "index version in %s not loaded, still serving the previous one: %s", self.config.index_dir, exc
                )
                self._index_token = token  # not retried on every search; the next CURRENT change retries
                return current
            self._index_token = token  # first: a reader seeing the new token with the old retriever answers from it
            self._retriever = fresh
            return fresh
        finally:
            self._reload_lock.release()

    @property
    def answerer(self) -> Answerer:
        with self._lock:
            if self._answerer is None or self._answerer.retriever is not self.retriever:
                previous = self._answerer
                self._answerer = Answerer(self.config, self.retriever, self.generator)
                if previous is not None:  # keep one generation lock across index reloads
                    self._answerer._lock = previous._lock  # noqa: SLF001 - one LLM, one lock, whatever the index
            return self._answerer

    def load(self, *, llm: bool = True) -> Sanad:
        """Load the embedding model, the index and (unless ``llm=False``) the LLM now rather than on first use."""
        _ = self.retriever
        if llm:
            try:
                self.generator.load()
            except ImportError as exc:
                raise ModelError(str(exc)) from exc
        return self

    # -- verbs ----------------------------------------------------------------------------------
    # ``filters`` (rag.types.Filters, or rag.retrieval.make_filters(...) from user input) limit the
    # articles searched, inside retrieval: only passages of matching articles are ever returned.
    def search(
        self, question: str, k: int | None = None, mode: RetrievalMode | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        return self.retriever.search(question, k=k, mode=mode, filters=filters)

    # ``history`` (earlier turns, oldest first: rag.answer_types.Turn records, {"question", "answer"} dicts or
    # (question, answer) pairs) makes a follow-up self-contained before retrieval; the question answered
    # is Answer.rewritten (issue #14).
    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
        history: Sequence[Any] = (),
    ) -> Answer:
        with self.asks.admit() as ticket:
            rewrite = self.rewrite(question, history)
            answer = self.answerer.ask(rewrite.question, k=k, mode=mode, filters=filters)
            answer = self._with_conflicts(rewrite.question, answer, filters)
        answer.timings["queue_s"] = ticket.waited_s
        return self._as_asked(answer, rewrite)

    def stream(
        self,
        question: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
        history: Sequence[Any] = (),
    ) -> Iterator[StreamEvent]:
        with self.asks.admit() as ticket:
            rewrite = self.rewrite(question, history)
            for event in self.answerer.stream(rewrite.question, k=k, mode=mode, filters=filters):
                if event.answer is not None:
                    answer = self._with_conflicts(rewrite.question, event.answer, filters)
                    if answer.answer != event.answer.answer:  # the conflict notice, streamed after the answer
                        yield StreamEvent("token", text=answer.answer[len(event.answer.answer.rstrip()) :])
                    answer.timings["queue_s"] = ticket.waited_s
                    event = dataclasses.replace(event, answer=self._as_asked(answer, rewrite))
                yield event

    def _with_conflicts(self, question: str, answer: Answer, filters: Filters | None) -> Answer:
        """``answer`` with Answer.conflicts and its notice, when the evidence disagrees (rag/notices.py)."""
        if not self.config.conflict_notice or answer.refused:
            return answer
        import time as _time

        from rag.notices import detect_conflicts

        t = _time.perf_counter()
        out = detect_conflicts(self, question, answer, filters=filters)
        return dataclasses.replace(out, timings={**out.timings, "conflicts_s": _time.perf_counter() - t})

    def rewrite(self, question: str, history: Sequence[Any] = ()) -> Rewrite:
        """The self-contained form of ``question`` given the conversation so far (unchanged without history)."""
        from rag.conversation import as_history, make_rewriter

        turns = as_history(history)[-self.config.history_turns :]
        rewriter = make_rewriter(self.config.rewrite, self.generator if self.config.rewrite == "model" else None)
        if not turns or rewriter is None:
            return Rewrite(question, question)
        return rewriter.run(question, turns)

    @staticmethod
    def _as_asked(answer: Answer, rewrite: Rewrite) -> Answer:
        """The answer to the rewritten question, reported under the question as the user asked it."""
        if not rewrite.changed:
            return answer
        return dataclasses.replace(answer, question=rewrite.original, rewritten=rewrite.question)

    def timeline(self, topic: str, *, since: str = "", until: str = "", filters: Filters | None = None) -> Timeline:
        """The dated events the passages retrieved for ``topic`` mention, oldest first, each with its citation.

        ``since``/``until`` (``YYYY-MM-DD``) bound it; without them, years the topic names do («في 2024»).
        No LLM is involved (rag/timeline.py).
        """
        import time as _time

        from rag.retrieval import check_question
        from rag.timeline import TimelineBuilder

        check_question(topic, self.config.max_question_chars)
        t0 = _time.perf_counter()
        hits = self.search(topic, k=self.config.timeline_passages, filters=filters)
        t1 = _time.perf_counter()
        timeline = TimelineBuilder(self.config.timeline_events).run(
            topic, hits, self.retriever.index.articles, since=since, until=until
        )
        timings = {"search_s": t1 - t0, "timeline_s": _time.perf_counter() - t1}
        return dataclasses.replace(timeline, timings=timings)

    def index(self, paths: Sequence[Path], *, prune: bool = False, rebuild: bool = False) -> IndexReport:
        return self._write(lambda ix: ix.index_paths(list(paths), prune=prune, rebuild=rebuild))

    def add_articles(self, articles: Sequence[Article]) -> IndexReport:
        from rag.safety import flag_article  # articles built by a program are untrusted too

        articles = [flag_article(a) for a in articles]
        return self._write(lambda ix: ix.add_articles(articles))

    def remove(self, doc_ids: Sequence[str]) -> IndexReport:
        return self._write(lambda ix: ix.remove(doc_ids))

    def articles(self) -> list[Article]:
        return sorted(self.retriever.index.articles.values(), key=lambda a: a.doc_id)

    def _write(self, action: Callable[[Indexer], IndexReport]) -> IndexReport:
        """Build the next version outside any lock searches take, then load it and swap it in."""
        with self._write_lock:
            report = action(Indexer(self.config, self.embedder))
            if self._retriever is not None:
                self._reload(self._retriever, wait=True)
            return report
