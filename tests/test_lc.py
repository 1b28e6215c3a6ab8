"""LangChain adapters: the retriever returns Documents that cite, the Runnable answers and streams."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answerer
from rag.config import SanadConfig
from rag.errors import InputError
from rag.lc import SanadRetriever, answer_runnable
from tests.fakes import FakeGenerator, StubRetriever, passage_hits


class MiniSanad:
    """The three verbs of rag.Sanad that the adapters call, over a stub retriever and fake LLM."""

    def __init__(self, answer: str) -> None:
        self.retriever = StubRetriever(passage_hits("aid", "economy"))
        # The adapters are under test, not the answerability decision: every question reaches the (fake) model.
        config = SanadConfig(translate_queries=False, answerable_threshold=0.0)
        self.answerer = Answerer(config, self.retriever, FakeGenerator(answer))
        self.histories: list = []

    def search(self, question, k=None, mode=None, filters=None):
        return self.retriever.search(question, k, mode, filters=filters)[:k]

    def ask(self, question, k=None, mode=None, filters=None, history=()):
        self.histories.append(history)
        return self.answerer.ask(question, k=k, mode=mode, filters=filters)

    def stream(self, question, k=None, mode=None, filters=None, history=()):
        self.histories.append(history)
        return self.answerer.stream(question, k=k, mode=mode, filters=filters)


def test_retriever_invoke_returns_documents_with_citation_metadata() -> None:
    retriever = SanadRetriever(sanad=MiniSanad(""), k=1, mode="bm25")
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("مساعدات للشعب السوري")
    assert len(docs) == 1 and isinstance(docs[0], Document)
    assert docs[0].metadata["doc_id"] == "aid" and "138" in docs[0].page_content
    assert {"chunk_id", "start", "end", "score"} <= set(docs[0].metadata)


def test_answer_runnable_invoke_returns_checked_answer_dict() -> None:
    chain = answer_runnable(MiniSanad("أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1]."))
    assert isinstance(chain, Runnable)
    out = chain.invoke("كم قيمة المساعدات؟")
    assert out["refused"] is False and out["citations"][0]["doc_id"] == "aid"


def test_answer_runnable_stream_yields_tokens_then_answer() -> None:
    """Guards against a Runnable whose stream() buffers the whole answer into one chunk."""
    text = "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1]."
    chunks = list(answer_runnable(MiniSanad(text)).stream("كم قيمة المساعدات؟"))
    tokens = [c["token"] for c in chunks if "token" in c]
    assert len(tokens) > 1 and "".join(tokens) == text
    assert "answer" in chunks[-1] and chunks[-1]["answer"]["citations"]


def test_answer_runnable_composes_with_other_runnables() -> None:
    chain = (
        RunnableLambda(str.strip)
        | answer_runnable(MiniSanad("لا تتوفر في المصادر معلومات كافية."))
        | RunnableLambda(lambda a: a["refused"])
    )
    assert chain.invoke("  ما عدد سكان بغداد؟  ") is True


def test_answer_runnable_takes_a_conversation() -> None:
    """A ``{"question", "history"}`` input passes the earlier turns to Sanad; a plain question passes none."""
    sanad = MiniSanad("أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1].")
    history = [("كم قيمة المساعدات؟", "138 مليون دولار [1].")]
    chain = answer_runnable(sanad)
    assert chain.invoke({"question": "وللاقتصاد؟", "history": history})["refused"] is False
    list(chain.stream({"question": "وللاقتصاد؟", "history": history}))
    chain.invoke("كم قيمة المساعدات؟")
    assert sanad.histories == [tuple(history), tuple(history), ()]
    with pytest.raises(InputError, match="'question' key"):
        chain.invoke({"history": history})
