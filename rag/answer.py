"""Grounded answers: retrieve, select evidence sentences, decide answerability, generate, check, or refuse.

The flow for one question (``evidence_first``, the default; #11)::

    question ─► (English? translate to Arabic for retrieval) ─► hybrid retrieval
             ─► evidence sentences (rag.evidence) ─► answerable? (rag.answerability; no: refuse, saying
                 what the sources give instead)
             ─► LLM reads only the numbered sentences (streamed)
             ─► EvidenceChecker: numbers, names and key words must be in the cited sentence; failing
                 sentences dropped; nothing left → quote the sentence holding the value asked for
                 (``extractive_fallback``) or refuse
             ─► Answer (with ``evidence``; on refusal the reason and what was found instead)

With ``evidence_first=False`` the earlier flow runs: numbered passages trimmed to the prompt budget,
checked by :class:`~rag.citations.CitationChecker`.

This module holds :class:`Answerer` (the one entry point: retrieval, screening, the choice of path) and the
passage-prompt path; the evidence-first path is :class:`~rag.answer_evidence.EvidencePath`, and what both
share (:class:`StreamEvent`, :func:`is_refusal`) is in :mod:`rag.answer_shared`. All are importable from here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Generator as Generator_
from dataclasses import dataclass, replace

from rag import prompts, safety
from rag.answer_evidence import EvidencePath, extractive
from rag.answer_shared import StreamEvent, answer_language, back_translate, is_refusal
from rag.answer_types import Answer
from rag.chunking import approx_token_count, sentence_spans
from rag.citations import CitationChecker, numbers_in
from rag.citations_evidence import EvidenceChecker
from rag.config import SanadConfig
from rag.errors import GenerationError, SanadError
from rag.generators import ChatMessage, Generator
from rag.hybrid import rrf
from rag.retrieval import Retriever, check_k, check_question, detect_language
from rag.textnorm import tokenize
from rag.types import Filters, Hit, RetrievalMode

# Re-exported: `from rag.answer import StreamEvent, is_refusal, extractive` are the public names.
__all__ = ["Answerer", "EvidencePath", "Prompt", "PromptBuilder", "StreamEvent", "extractive", "is_refusal"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    """The chat messages sent to the model and the passages they number (passage n = ``hits[n-1]``)."""

    messages: tuple[ChatMessage, ...]
    hits: tuple[Hit, ...]
    passage_tokens: int


class PromptBuilder:
    """Numbers the best passages and keeps the prompt within ``budget_tokens`` of passage text.

    Passages are cut to their sentences that share the most words and numbers with the
    question (kept in reading order), since prompt length dominates answer latency. With
    ``split="even"`` each passage gets an equal share; with ``"rank"`` higher ranked passages
    get larger shares (1 : 1/2 : 1/3 of what is left).
    """

    def __init__(
        self,
        budget_tokens: int = 600,
        max_passages: int = 4,
        count_tokens: Callable[[str], int] = approx_token_count,
        split: str = "even",
    ) -> None:
        self.budget_tokens = budget_tokens
        self.max_passages = max_passages
        self.count_tokens = count_tokens
        self.split = split

    def excerpt(self, hit: Hit, question: str, budget: int) -> str:
        text = hit.chunk.text
        if self.count_tokens(text) <= budget:
            return " ".join(text.split())
        want = set(tokenize(question)) | numbers_in(question)  # tokenize() already stems; stemming twice misses
        spans = list(sentence_spans(text))
        scored = sorted(
            range(len(spans)),
            key=lambda i: (
                -len(
                    want
                    & (set(tokenize(text[spans[i][0] : spans[i][1]])) | numbers_in(text[spans[i][0] : spans[i][1]]))
                ),
                i,
            ),
        )
        chosen: list[int] = []
        used = 0
        for i in scored:
            cost = self.count_tokens(text[spans[i][0] : spans[i][1]])
            if used + cost > budget and chosen:
                continue
            chosen.append(i)
            used += cost
        return " … ".join(" ".join(text[spans[i][0] : spans[i][1]].split()) for i in sorted(chosen))

    def build(self, question: str, hits: Sequence[Hit], language: str, translation: str = "") -> Prompt:
        hits = tuple(hits[: self.max_passages])
        lines = []
        query = f"{question} {translation}"
        left = self.budget_tokens
        for i, hit in enumerate(hits):
            if self.split == "even":
                text = self.excerpt(hit, query, max(48, self.budget_tokens // len(hits)))
            else:
                if left <= 0:  # budget spent (a passage's one sentence may overrun its share): no more passages
                    hits = hits[:i]
                    break
                # Shares 1 : 1/2 : 1/3 ... of what is left: the best passage, which most often holds the
                # answer, is cut least; text a passage does not need passes on to the next.
                weights = [1 / (j + 1) for j in range(i, len(hits))]
                text = self.excerpt(hit, query, int(left * weights[0] / sum(weights)))
                left -= self.count_tokens(text)
            lines.append(safety.quote_passage(i + 1, text))  # a quotation the model must not obey
        name = prompts.LANGUAGE_NAMES[language]
        system = prompts.SYSTEM.format(refusal=prompts.REFUSALS[language], language=name) + "\n" + safety.QUOTE_RULE
        hint = prompts.TRANSLATION_HINT.format(translation=translation) if translation else ""
        user = prompts.USER.format(passages="\n\n".join(lines), question=question, hint=hint, language=name)
        return Prompt(
            (ChatMessage("system", system), ChatMessage("user", user)),
            hits,
            sum(self.count_tokens(line) for line in lines),
        )


class Answerer:
    """Answers questions from an index with a language model, checking every citation.

    Example:
        >>> answerer = Answerer(config, retriever, generator)          # doctest: +SKIP
        >>> answerer.ask("كم دولة انضمت إلى التحالف الدولي؟").answer    # doctest: +SKIP
        'نما الائتلاف من 12 إلى 87 دولة [1]'
    """

    def __init__(self, config: SanadConfig, retriever: Retriever, generator: Generator) -> None:
        self.config = config
        self.retriever = retriever
        self.generator = generator
        self.checker = CitationChecker()
        self.evidence_checker = EvidenceChecker()
        self._lock = threading.Lock()  # one generation at a time: the model is not re-entrant

    def _prompt_builder(self) -> PromptBuilder:
        return PromptBuilder(
            self.config.prompt_budget_tokens,
            self.config.answer_passages,
            self.generator.count_tokens,
            split=self.config.prompt_split,
        )

    def _evidence_path(self) -> EvidencePath:
        """The evidence-first path with this Answerer's parts, built per question: the lock is read now, as
        :class:`~rag.pipeline.Sanad` may hand a new Answerer the previous one's lock."""
        return EvidencePath(
            self.config,
            self.generator,
            self.evidence_checker,
            self._lock,
            embedder=getattr(self.retriever, "embedder", None),
        )

    def translate(self, question: str) -> str:
        """The question in Arabic (for retrieval and as a hint to the model); '' on failure."""
        messages = (
            ChatMessage("system", prompts.TRANSLATE_SYSTEM),
            ChatMessage("user", prompts.TRANSLATE_USER.format(question=question)),
        )
        try:
            out = self.generator.generate(messages, max_tokens=60, temperature=0.0, seed=self.config.seed).text
        except SanadError as exc:
            logger.warning("translation failed, retrieving with the English question only: %s", exc)
            return ""
        out = out.strip().splitlines()[0].strip(" \"'«»") if out.strip() else ""
        return out if detect_language(out) == "ar" else ""

    def retrieve(
        self, question: str, language: str, k: int | None, mode: RetrievalMode | None, filters: Filters | None = None
    ) -> tuple[list[Hit], str, dict[str, float]]:
        timings: dict[str, float] = {}
        translation = ""
        if language == "en" and self.config.translate_queries:
            t = time.perf_counter()
            with self._lock:
                self.generator.load()
                translation = self.translate(question)
            timings["translate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        k = max(k or self.config.top_k, self.config.answer_passages)
        if self.config.evidence_first:
            k = max(k, self.config.evidence_passages)
        hits = self.retriever.search(question, k=k, mode=mode, filters=filters)
        if translation:
            extra = self.retriever.search(translation, k=k, mode=mode, filters=filters)
            by_id = {h.chunk_id: h for h in (*extra, *hits)}
            fused = rrf(
                {"question": [h.chunk_id for h in hits], "translation": [h.chunk_id for h in extra]},
                k=self.config.rrf_k,
            )
            hits = [
                replace(by_id[c], score=s, rank=i + 1, scores={**by_id[c].scores, **r})
                for i, (c, s, r) in enumerate(fused)
            ]
        timings["retrieval_s"] = time.perf_counter() - t
        return hits[:k], translation, timings

    def stream(
        self, question: str, *, k: int | None = None, mode: RetrievalMode | None = None, filters: Filters | None = None
    ) -> Iterator[StreamEvent]:
        """Yield the passages, then answer text as it is generated, then the checked :class:`Answer`.

        With ``english_via_arabic`` an English question is answered from its Arabic
        translation (the small model reads Arabic passages far better in Arabic), checked
        in Arabic, and only the verified sentences are translated back; their numbers must
        survive the translation unchanged. The streamed tokens are then the English ones.
        """
        t_start = time.perf_counter()
        question = check_question(question, self.config.max_question_chars)
        k = None if k is None else check_k(k)
        language = detect_language(question)
        hits, translation, timings = self.retrieve(question, language, k, mode, filters)
        articles = getattr(getattr(self.retriever, "index", None), "articles", None) or {}
        hits, flagged = safety.screen_hits(hits, articles)  # instruction-like text blanked, flagged articles noted
        yield StreamEvent("passages", hits=tuple(hits))
        if not hits:
            yield StreamEvent(
                "answer", answer=self._refuse(question, language, hits, "no passage matched", timings, t_start)
            )
            return
        if self.config.evidence_first:
            path = self._evidence_path()
            yield from path.stream(question, language, hits, translation, timings, t_start, flagged)
            return
        via_arabic = language == "en" and bool(translation) and self.config.english_via_arabic
        pieces: list[str] = []
        with self._lock:
            self.generator.load()
            if via_arabic:
                prompt = self._prompt_builder().build(translation, hits, "ar")
            else:
                prompt = self._prompt_builder().build(question, hits, language, translation)
            timings["prompt_tokens"] = float(sum(self.generator.count_tokens(m.content) for m in prompt.messages))
            t_gen = time.perf_counter()
            for piece in self.generator.stream(
                prompt.messages,
                max_tokens=self.config.llm_max_tokens,
                temperature=self.config.temperature,
                seed=self.config.seed,
            ):
                if not pieces:
                    timings["ttft_s"] = time.perf_counter() - t_gen
                    if not via_arabic:  # otherwise the user's first token is the first English one
                        timings["first_token_s"] = time.perf_counter() - t_start  # what the user waits for
                pieces.append(piece)
                if not via_arabic:
                    yield StreamEvent("token", text=piece)
            timings["generation_s"] = time.perf_counter() - t_gen
            raw = "".join(pieces).strip()
            timings["completion_tokens"] = float(self.generator.count_tokens(raw)) if raw else 0.0
            answer = self._finish(question, "ar" if via_arabic else language, prompt, raw, timings, t_start, flagged)
            if via_arabic:
                answer = yield from self._back_translate(answer, question, timings, t_start)
        yield StreamEvent("answer", answer=answer)

    def _back_translate(
        self, draft: Answer, question: str, timings: dict[str, float], t_start: float
    ) -> Generator_[StreamEvent, None, Answer]:
        """Turn a checked Arabic answer into English (:func:`~rag.answer_shared.back_translate`)."""
        if draft.refused:
            return replace(draft, question=question, language="en", answer=prompts.REFUSALS["en"])
        return (
            yield from back_translate(
                self.generator,
                draft,
                question,
                timings,
                t_start,
                max_tokens=self.config.llm_max_tokens,
                seed=self.config.seed,
            )
        )

    def ask(
        self, question: str, *, k: int | None = None, mode: RetrievalMode | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer ``question`` (blocking); see :meth:`stream` for the streaming form."""
        for event in self.stream(question, k=k, mode=mode, filters=filters):
            if event.kind == "answer" and event.answer is not None:
                return event.answer
        raise GenerationError("the answer stream ended without an answer")  # pragma: no cover

    def _finish(
        self,
        question: str,
        language: str,
        prompt: Prompt,
        raw: str,
        timings: dict[str, float],
        t_start: float,
        flagged: frozenset[str] = frozenset(),
    ) -> Answer:
        if not raw or is_refusal(raw):
            return self._refuse(
                question, language, prompt.hits, "the model found no answer in the passages", timings, t_start, raw
            )
        text, sentences, citations = self.checker.run(raw, prompt.hits, language)
        if not text or not citations:
            return self._refuse(
                question,
                language,
                prompt.hits,
                "no sentence of the answer is supported by the passages",
                timings,
                t_start,
                raw,
                sentences,
            )
        if safety.rests_on_flagged(citations, flagged):
            return self._refuse(
                question,
                language,
                prompt.hits,
                "the answer rests only on articles flagged for instruction-like text (possible prompt injection)",
                timings,
                t_start,
                raw,
                sentences,
            )
        timings["total_s"] = time.perf_counter() - t_start
        return Answer(
            question=question,
            language=answer_language(language),
            answer=text,
            refused=False,
            citations=citations,
            passages=prompt.hits,
            sentences=sentences,
            raw_answer=raw,
            timings=timings,
        )

    def _refuse(
        self,
        question: str,
        language: str,
        hits: Sequence[Hit],
        reason: str,
        timings: dict[str, float],
        t_start: float,
        raw: str = "",
        sentences: tuple = (),
    ) -> Answer:
        timings["total_s"] = time.perf_counter() - t_start
        return Answer(
            question=question,
            language=answer_language(language),
            answer=prompts.REFUSALS[language],
            refused=True,
            citations=(),
            passages=tuple(hits),
            sentences=sentences,
            raw_answer=raw,
            refusal_reason=reason,
            timings=timings,
        )
