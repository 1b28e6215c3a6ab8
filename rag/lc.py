"""LangChain adapters: Sanad's retriever as a ``BaseRetriever`` and its answer pipeline as a Runnable.

They let Sanad drop into LangChain apps (chains, agents, LangServe) while keeping its
own Arabic-aware hybrid retrieval and citation checking. Only ``langchain-core`` is needed.

Example:
    >>> from rag import Sanad
    >>> from rag.lc import SanadRetriever, answer_runnable
    >>> sanad = Sanad()                                          # doctest: +SKIP
    >>> docs = SanadRetriever(sanad=sanad, k=3).invoke("ما هو داعش؟")   # doctest: +SKIP
    >>> docs = SanadRetriever(sanad=sanad, sources=["العربي الجديد"]).invoke("...", since="2024-01")  # doctest: +SKIP
    >>> answer_runnable(sanad).invoke("How many countries joined?")["answer"]  # doctest: +SKIP
    >>> answer_runnable(sanad).invoke({"question": "And in Syria?",                 # doctest: +SKIP
    ...                                "history": [("How many US troops are in Iraq?", "About 2,500 [1].")]})
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableGenerator, RunnableLambda
from pydantic import ConfigDict

from rag.errors import InputError
from rag.pipeline import Sanad
from rag.retrieval import make_filters
from rag.types import Filters, Hit, RetrievalMode


def hit_to_document(hit: Hit) -> Document:
    """A LangChain Document whose metadata carries everything needed to cite the passage."""
    meta = {k: v for k, v in hit.to_dict().items() if k != "text"}
    return Document(page_content=hit.chunk.text, metadata=meta, id=hit.chunk_id)


class SanadRetriever(BaseRetriever):
    """Sanad's retrieval (dense, BM25 or hybrid) behind LangChain's retriever interface.

    Filters limit the articles searched (applied inside retrieval, before the cut to ``k``):
    set them on the retriever (``since``, ``until``, ``sources``, ``doc_ids``, or a ready
    ``filters``), or per call as keyword arguments of ``invoke`` (same names, plus ``k`` and
    ``mode``), which replace the retriever's for that call. Each document's metadata carries
    the article's ``published``, ``source``, ``url`` and ``author``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sanad: Any
    k: int = 5
    mode: RetrievalMode | None = None
    filters: Filters | None = None
    since: str | None = None
    until: str | None = None
    sources: list[str] | None = None
    doc_ids: list[str] | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        filters: Filters | None = None,
        since: str | None = None,
        until: str | None = None,
        sources: list[str] | str | None = None,
        doc_ids: list[str] | str | None = None,
    ) -> list[Document]:
        chosen = filters if filters is not None else self.filters
        if chosen is None:
            chosen = make_filters(
                since=since if since is not None else self.since,
                until=until if until is not None else self.until,
                sources=sources if sources is not None else self.sources,
                doc_ids=doc_ids if doc_ids is not None else self.doc_ids,
            )
        hits = self.sanad.search(query, k=k or self.k, mode=mode or self.mode, filters=chosen)
        return [hit_to_document(h) for h in hits]


def answer_runnable(
    sanad: Sanad, *, k: int | None = None, mode: RetrievalMode | None = None, filters: Filters | None = None
) -> Runnable[Any, dict[str, Any]]:
    """The full answer pipeline as a Runnable: a question in, ``Answer.to_dict()`` out.

    The input is the question (``str``) or, in a conversation, ``{"question": ..., "history": [...]}``
    with the earlier turns oldest first (``{"question", "answer"}`` dicts, ``(question, answer)`` pairs or
    :class:`rag.answer_types.Turn`); a follow-up is answered as its self-contained form (``"rewritten"``).
    ``.stream()`` yields ``{"token": ...}`` pieces as they are generated and ends with the
    complete answer dict under ``{"answer": ...}``. ``filters`` limit the articles it answers from.
    """

    def invoke(question: Any) -> dict[str, Any]:
        text, history = _question_and_history(question)
        return sanad.ask(text, k=k, mode=mode, filters=filters, history=history).to_dict()

    def stream(questions: Iterator[Any]) -> Iterator[dict[str, Any]]:
        for question in questions:
            text, history = _question_and_history(question)
            for event in sanad.stream(text, k=k, mode=mode, filters=filters, history=history):
                if event.kind == "token":
                    yield {"token": event.text}
                elif event.kind == "answer" and event.answer is not None:
                    yield {"answer": event.answer.to_dict()}

    return _AnswerRunnable(invoke, stream)


def _question_and_history(value: Any) -> tuple[str, Sequence[Any]]:
    """``(question, history)`` from a Runnable input: a question, or a ``{"question", "history"}`` dict."""
    if isinstance(value, Mapping):
        if "question" not in value:
            raise InputError(f"a conversation input needs a 'question' key; got keys {sorted(value)}")
        return str(value["question"]), tuple(value.get("history") or ())
    return str(value), ()


class _AnswerRunnable(RunnableLambda[Any, dict[str, Any]]):
    """A RunnableLambda whose ``stream`` yields tokens as they come instead of one final chunk."""

    def __init__(
        self,
        invoke: Callable[[Any], dict[str, Any]],
        stream: Callable[[Iterator[Any]], Iterator[dict[str, Any]]],
    ) -> None:
        super().__init__(invoke, name="sanad_answer")
        self._streamer = RunnableGenerator(stream, name="sanad_answer_stream")

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self._streamer.stream(input, config, **kwargs)
