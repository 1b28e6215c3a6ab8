"""Hand-made passages, a fake language model and a stub retriever for the answer/citation unit tests.

Nothing here loads a model: :class:`FakeGenerator` returns canned text and records what it
was sent, :class:`StubRetriever` returns fixed hits, and :func:`make_hit` builds a
:class:`~rag.types.Hit` whose chunk offsets really point into its article text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from rag.chunking import approx_token_count
from rag.errors import GenerationError
from rag.generators import ChatMessage, Generation
from rag.types import Article, Chunk, Filters, Hit

#: doc_id -> article text: a headline line, then the body that becomes the passage.
ARTICLES: dict[str, str] = {
    "aid": (
        "واشنطن تعلن مساعدات جديدة\n"
        "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية للشعب السوري. "
        "وتشمل المساعدات الغذاء والدواء والمأوى للنازحين داخل البلاد. "
        "وقال المسؤولون إن وزارة الخارجية تمول البرنامج."
    ),
    "economy": (
        "الاقتصاد العالمي\n"
        "توقع صندوق النقد الدولي أن ينمو الاقتصاد العالمي بنسبة 7.5 في المئة هذا العام. "
        "ووظف المصنع الجديد 2,500 عامل في المدينة. "
        "وبلغ معدل التضخم ١٫٤ في المئة في الربع الأخير."
    ),
    "coalition": (
        "اجتماع التحالف الدولي\n"
        "اجتمع وزراء خارجية التحالف الدولي في واشنطن يوم الاثنين. "
        "وأكد الوزراء ضرورة تعزيز الأمن والاستقرار في الشرق الأوسط."
    ),
}


def make_hit(doc_id: str, rank: int = 1, article: str | None = None) -> Hit:
    """A hit on the body (everything after the headline line) of ``ARTICLES[doc_id]`` with real offsets."""
    text = ARTICLES[doc_id] if article is None else article
    start = text.index("\n") + 1
    chunk = Chunk(doc_id=doc_id, ordinal=0, start=start, end=len(text), text=text[start:])
    return Hit(chunk=chunk, score=1.0 / rank, rank=rank, title=text[: start - 1], scores={"bm25": 1.0 / rank})


def passage_hits(*doc_ids: str) -> list[Hit]:
    """Hits for ``doc_ids`` in that order (passage n of a prompt is ``doc_ids[n-1]``)."""
    return [make_hit(d, i + 1) for i, d in enumerate(doc_ids or tuple(ARTICLES))]


class FakeGenerator:
    """Implements :class:`rag.generators.Generator` with canned text.

    ``stream`` yields ``answer`` in small pieces; ``generate`` (used for query translation)
    returns ``translation``. Every call's messages are recorded. Set ``fail_next`` to a
    :class:`GenerationError` to make the next ``stream`` raise it after one piece (once).
    """

    name = "fake-llm"

    def __init__(self, answer: str = "", *, translation: str = "", piece_chars: int = 4) -> None:
        self.answer = answer
        self.translation = translation
        self.piece_chars = piece_chars
        self.fail_next: GenerationError | None = None
        self.load_calls = 0
        self.stream_calls: list[tuple[ChatMessage, ...]] = []
        self.generate_calls: list[tuple[ChatMessage, ...]] = []

    @property
    def calls(self) -> int:
        return len(self.stream_calls) + len(self.generate_calls)

    def load(self) -> None:
        self.load_calls += 1

    def count_tokens(self, text: str) -> int:
        return approx_token_count(text)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        self.stream_calls.append(tuple(messages))
        return self._pieces()

    def _pieces(self) -> Iterator[str]:
        for i in range(0, len(self.answer), self.piece_chars):
            if self.fail_next is not None and i > 0:
                error, self.fail_next = self.fail_next, None
                raise error
            yield self.answer[i : i + self.piece_chars]

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Generation:
        self.generate_calls.append(tuple(messages))
        return Generation(
            text=self.translation,
            prompt_tokens=sum(approx_token_count(m.content) for m in messages),
            completion_tokens=approx_token_count(self.translation),
            ttft_s=0.0,
            total_s=0.0,
            finish_reason="stop",
        )


class ScriptedGenerator(FakeGenerator):
    """Answers each stream() call with the next scripted text (draft, then back-translations)."""

    def __init__(self, scripts: list[str], translation: str) -> None:
        super().__init__("", translation=translation)
        self.scripts = list(scripts)

    def stream(self, messages, **kwargs):
        self.answer = self.scripts.pop(0)
        return super().stream(messages, **kwargs)


class StubRetriever:
    """Stands in for :class:`rag.retrieval.Retriever`: ``search`` returns fixed hits and records its calls."""

    def __init__(self, hits: Sequence[Hit] = (), by_question: Mapping[str, Sequence[Hit]] | None = None) -> None:
        self.hits = list(hits)
        self.by_question = dict(by_question or {})
        self.calls: list[tuple[str, int | None, str | None]] = []
        self.filters: list[Filters | None] = []

    def search(
        self, question: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The fixed hits (those whose article metadata matches ``filters``)."""
        self.calls.append((question, k, mode))
        self.filters.append(filters)
        hits = list(self.by_question.get(question, self.hits))
        if filters is not None:
            hits = [
                h
                for h in hits
                if filters.matches(Article(h.doc_id, h.title, h.chunk.text, published=h.published, source=h.source))
            ]
        return hits
