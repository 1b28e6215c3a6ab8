"""A plain LangChain RAG pipeline, built the textbook way, as the baseline `sanad bench` compares against.

Same embedding model and same GGUF LLM as Sanad, everything else as the LangChain
tutorials do it:

* ``RecursiveCharacterTextSplitter`` (1000 characters, 200 overlap) over the same articles;
* an embeddings wrapper around the same SentenceTransformer (what ``HuggingFaceEmbeddings``
  does, with e5's ``query: ``/``passage: `` prompts; ``langchain-huggingface`` itself is not
  used because it would change the pinned ``huggingface_hub``);
* ``langchain_community.vectorstores.FAISS`` (falls back to langchain-core's
  ``InMemoryVectorStore`` when langchain-community is missing, and says so);
* a stuff-documents prompt (the widely used ``rlm/rag-prompt`` text) with the top 4 chunks in full;
* a LangChain chat model around Sanad's own generator (llama.cpp via xllamacpp), so the
  model, threads and decoding settings are identical; greedy, same ``max_tokens``.

Run alone: ``python bench/langchain_baseline.py`` (needs the seed index and the models:
``sanad setup``). Install: ``pip install langchain-community`` (the project's ``bench`` extra).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

INSTALL_HINT = "pip install langchain-community   (or: pip install -e '.[bench]')"

#: The stuff-documents prompt of LangChain's RAG tutorial (hub: rlm/rag-prompt).
RAG_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to "
    "answer the question. If you don't know the answer, just say that you don't know. Use three sentences "
    "maximum and keep the answer concise.\nQuestion: {question} \nContext: {context} \nAnswer:"
)


def status() -> dict[str, Any]:
    """Which LangChain pieces are importable here."""
    out: dict[str, Any] = {}
    try:
        import langchain_core

        out["langchain_core"] = langchain_core.__version__
    except ImportError:
        out["langchain_core"] = None
    try:
        import langchain_community

        out["langchain_community"] = getattr(langchain_community, "__version__", "installed")
    except ImportError:
        out["langchain_community"] = None
    try:
        import langchain_text_splitters  # noqa: F401

        out["text_splitters"] = True
    except ImportError:
        out["text_splitters"] = False
    return out


def _classes():
    """LangChain classes, imported late so that this module imports without LangChain."""
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from pydantic import ConfigDict

    class SentenceTransformerEmbeddings(Embeddings):
        """``HuggingFaceEmbeddings`` in a few lines: the same SentenceTransformer, normalised, e5 prompts."""

        def __init__(
            self, model: Any, query_prompt: str = "query: ", passage_prompt: str = "passage: ", batch_size: int = 16
        ) -> None:
            self.model = model
            self.query_prompt = query_prompt
            self.passage_prompt = passage_prompt
            self.batch_size = batch_size

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.model.encode(
                texts,
                prompt=self.passage_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            ).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.model.encode(
                [text], prompt=self.query_prompt, normalize_embeddings=True, convert_to_numpy=True
            )[0].tolist()

    class GeneratorChatModel(BaseChatModel):
        """A LangChain chat model around a ``rag.generators.Generator`` (the same llama.cpp model Sanad uses)."""

        model_config = ConfigDict(arbitrary_types_allowed=True)

        generator: Any
        max_tokens: int = 160
        temperature: float = 0.0
        seed: int = 0

        @property
        def _llm_type(self) -> str:
            return "sanad-generator"

        def _chat(self, messages: list[BaseMessage]):
            from rag.generators import ChatMessage

            roles = {"system": "system", "human": "user", "ai": "assistant"}
            return [ChatMessage(roles.get(m.type, "user"), str(m.content)) for m in messages]

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            for piece in self.generator.stream(
                self._chat(messages),
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                seed=self.seed,
                stop=stop or (),
            ):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            text = "".join(c.message.content for c in self._stream(messages, stop, run_manager))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    GeneratorChatModel.model_rebuild(_types_namespace={"Any": Any, "BaseMessage": BaseMessage})
    return Document, SentenceTransformerEmbeddings, GeneratorChatModel


def split_documents(articles: Sequence[Any], chunk_size: int = 1000, chunk_overlap: int = 200) -> list:
    """Articles (``rag.types.Article``) as LangChain Documents, split the textbook way."""
    Document, _, _ = _classes()
    docs = [Document(page_content=a.text, metadata={"doc_id": a.doc_id, "title": a.title}) for a in articles]
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:  # langchain-text-splitters comes with langchain-community; a plain cut otherwise
        step = chunk_size - chunk_overlap
        return [
            Document(page_content=d.page_content[i : i + chunk_size], metadata=dict(d.metadata))
            for d in docs
            for i in range(0, max(1, len(d.page_content)), step)
        ]
    return RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap).split_documents(docs)


class LangChainRAG:
    """The textbook pipeline: retriever | format_docs -> prompt -> chat model -> string."""

    def __init__(
        self,
        articles: Sequence[Any],
        sentence_model: Any,
        generator: Any,
        *,
        k: int = 4,
        max_tokens: int = 160,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
    ) -> None:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnablePassthrough

        _, SentenceTransformerEmbeddings, GeneratorChatModel = _classes()
        self.embeddings = SentenceTransformerEmbeddings(sentence_model, query_prompt, passage_prompt)
        t0 = time.perf_counter()
        self.docs = split_documents(articles)
        try:
            import warnings

            with warnings.catch_warnings():  # "langchain-community is being sunset": true, and not our concern here
                warnings.simplefilter("ignore", DeprecationWarning)
                from langchain_community.vectorstores import FAISS

            self.vectorstore = FAISS.from_documents(self.docs, self.embeddings)
            self.store_name = "langchain_community.vectorstores.FAISS"
        except ImportError:
            from langchain_core.vectorstores import InMemoryVectorStore

            self.vectorstore = InMemoryVectorStore.from_documents(self.docs, self.embeddings)
            self.store_name = "langchain_core.vectorstores.InMemoryVectorStore (langchain-community not installed)"
        self.index_s = time.perf_counter() - t0
        self.retriever = self.vectorstore.as_retriever(search_kwargs={"k": k})
        self.prompt = ChatPromptTemplate.from_messages([("human", RAG_PROMPT)])
        self.llm = GeneratorChatModel(generator=generator, max_tokens=max_tokens)
        self.generator = generator
        self.chain = (
            {"context": self.retriever | self.format_docs, "question": RunnablePassthrough()}
            | self.prompt
            | self.llm
            | StrOutputParser()
        )

    @staticmethod
    def format_docs(docs: Sequence[Any]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    def ask(self, question: str) -> dict[str, Any]:
        """Answer through the chain (streamed) and time its stages."""
        t0 = time.perf_counter()
        docs = self.retriever.invoke(question)
        retrieval_s = time.perf_counter() - t0
        prompt_text = self.prompt.invoke({"context": self.format_docs(docs), "question": question}).to_string()
        prompt_tokens = self.generator.count_tokens(prompt_text)
        pieces: list[str] = []
        ttft = None
        t1 = time.perf_counter()
        for piece in self.chain.stream(question):  # the chain retrieves again: end to end as users run it
            if ttft is None and piece:
                ttft = time.perf_counter() - t1
            pieces.append(piece)
        total = time.perf_counter() - t1
        text = "".join(pieces).strip()
        completion = self.generator.count_tokens(text) if text else 0
        first = ttft or total  # from the question: the chain's own retrieval is inside
        gen_s = total - first
        return {
            "answer": text,
            "retrieval_s": round(retrieval_s, 4),
            "prompt_tokens": prompt_tokens,
            "first_token_s": round(first, 3),
            "ttft_s": round(max(first - retrieval_s, 0.0), 3),
            "generation_s": round(max(total - retrieval_s, 0.0), 3),
            "completion_tokens": completion,
            "gen_tokens_per_s": round((completion - 1) / gen_s, 2) if gen_s > 0 and completion > 1 else None,
            "total_s": round(total, 3),
            "doc_ids": [d.metadata.get("doc_id") for d in docs],
        }


def run_baseline(config: Any, questions: Sequence[Any], *, sanad: Any = None, log=print) -> dict[str, Any]:
    """Answer ``questions`` (``bench.data.SeedQuestion``) with the LangChain pipeline; per-question rows."""
    from bench.answering import answer_contains, summarize_rows
    from rag.pipeline import Sanad

    sanad = sanad or Sanad(config)
    sanad.load(llm=True)
    pipeline = LangChainRAG(
        sanad.articles(),
        sanad.embedder.model,
        sanad.generator,
        k=4,
        max_tokens=config.llm_max_tokens,
        query_prompt=sanad.embedder.query_prompt,
        passage_prompt=sanad.embedder.passage_prompt,
    )
    pipeline.ask("ما هو داعش؟")  # warm-up, as for Sanad
    rows = []
    for q in questions:
        r = pipeline.ask(q.question)
        r.update({"id": q.id, "refused": False, "correct": answer_contains(r["answer"], q.answers)})
        r["answer"] = r["answer"][:200]
        rows.append(r)
        log(
            f"  langchain {q.id}: TTFT {r['ttft_s']:.2f}s, prompt {r['prompt_tokens']} tokens, "
            f"correct {r['correct']:.0f}"
        )
    return {
        "store": pipeline.store_name,
        "chunks": len(pipeline.docs),
        "index_s": round(pipeline.index_s, 2),
        "splitter": "RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)",
        "k": 4,
        "prompt": "rlm/rag-prompt (stuff documents)",
        "rows": rows,
        "summary": summarize_rows(rows),
        "status": status(),
    }


def main() -> int:
    import json
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        import langchain_core  # noqa: F401
    except ImportError:
        print(f"LangChain is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 1
    from bench.data import answer_questions
    from rag.config import SanadConfig

    result = run_baseline(SanadConfig.from_env(), answer_questions(5))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
