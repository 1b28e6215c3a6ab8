"""``Sanad``: the one front door for programs, the CLI, the web UI and evaluation.

It owns the models (loaded lazily, once) and the loaded index, and re-reads the index
after every change it makes, so callers never juggle the stages themselves.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Iterator, Sequence

from rag.answer import Answerer, StreamEvent
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import ModelError
from rag.generators import Generator, make_generator
from rag.indexer import Indexer, IndexReport
from rag.retrieval import Retriever
from rag.types import Answer, Article, Filters, Hit, RetrievalMode

logger = logging.getLogger(__name__)


class Sanad:
    """Search and cited answers over an index of Arabic news.

    Example:
        >>> sanad = Sanad(SanadConfig())                               # doctest: +SKIP
        >>> sanad.search("ما قيمة المساعدات الإنسانية للشعب السوري؟")[0].doc_id  # doctest: +SKIP
        '003_62634fc958774adb'
        >>> print(sanad.ask("How many countries are in the coalition?").answer)  # doctest: +SKIP
    """

    def __init__(self, config: SanadConfig | None = None, *, embedder: Embedder | None = None,
                 generator: Generator | None = None) -> None:
        self.config = config or SanadConfig.from_env()
        self.embedder = embedder or Embedder.from_config(self.config)
        self._generator = generator
        self._retriever: Retriever | None = None
        self._answerer: Answerer | None = None
        self._lock = threading.RLock()

    # -- lazily built parts ---------------------------------------------------------------------
    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = make_generator(self.config)
        return self._generator

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self.embedder.load()
                self._retriever = Retriever.load(self.config, self.embedder)
            return self._retriever

    @property
    def answerer(self) -> Answerer:
        with self._lock:
            if self._answerer is None or self._answerer.retriever is not self.retriever:
                previous = self._answerer
                self._answerer = Answerer(self.config, self.retriever, self.generator)
                if previous is not None:  # keep one generation lock across index reloads
                    self._answerer._lock = previous._lock
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
    def search(self, question: str, k: int | None = None, mode: RetrievalMode | None = None,
               filters: Filters | None = None) -> list[Hit]:
        return self.retriever.search(question, k=k, mode=mode, filters=filters)

    def ask(self, question: str, k: int | None = None, mode: RetrievalMode | None = None,
            filters: Filters | None = None) -> Answer:
        return self.answerer.ask(question, k=k, mode=mode, filters=filters)

    def stream(self, question: str, k: int | None = None, mode: RetrievalMode | None = None,
               filters: Filters | None = None) -> Iterator[StreamEvent]:
        return self.answerer.stream(question, k=k, mode=mode, filters=filters)

    def index(self, paths: Sequence[Path], *, prune: bool = False, rebuild: bool = False) -> IndexReport:
        return self._write(lambda ix: ix.index_paths(list(paths), prune=prune, rebuild=rebuild))

    def add_articles(self, articles: Sequence[Article]) -> IndexReport:
        return self._write(lambda ix: ix.add_articles(articles))

    def remove(self, doc_ids: Sequence[str]) -> IndexReport:
        return self._write(lambda ix: ix.remove(doc_ids))

    def articles(self) -> list[Article]:
        return sorted(self.retriever.index.articles.values(), key=lambda a: a.doc_id)

    def _write(self, action) -> IndexReport:
        with self._lock:
            report = action(Indexer(self.config, self.embedder))
            self._retriever = None  # re-read the new version on next use
            return report
