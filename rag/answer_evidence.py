"""The evidence-first answer path (``evidence_first``, the default; #11) of :class:`~rag.answer.Answerer`.

From the retrieved passages: the evidence sentences (:mod:`rag.evidence`), the answerability verdict
(:mod:`rag.answerability`; no: a refusal saying what the sources give instead), the model's answer from the
numbered sentences only (streamed), the :class:`~rag.citations.EvidenceChecker`, then the extractive quote
(``extractive_fallback``) or a refusal when nothing is left. With ``english_via_arabic`` an English question's
Arabic translation is answered and checked in Arabic, and the verified sentences are translated back. :class:`~rag.answer.Answerer` stays the one entry
point: it retrieves, screens the hits and hands them to :class:`EvidencePath`; the passage-prompt path stays
in :mod:`rag.answer`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag import prompts, safety
from rag.answer_shared import StreamEvent, answer_language, back_translate, is_refusal
from rag.answer_types import Answer, Evidence
from rag.answerability import Verdict, explain, judge
from rag.citations_evidence import EvidenceChecker, evidence_problem, translation_problem
from rag.config import SanadConfig
from rag.evidence import Scored, expected_unit, has_type, select, to_evidence
from rag.generators import ChatMessage, Generator
from rag.types import Hit

if TYPE_CHECKING:
    from rag.embeddings import Embedder


class EvidencePath:
    """One evidence-first answer, from the Answerer's parts (built per question, as the lock may be swapped).

    ``lock`` is the Answerer's: one generation at a time, whichever path runs it.
    """

    def __init__(
        self,
        config: SanadConfig,
        generator: Generator,
        evidence_checker: EvidenceChecker,
        lock: threading.Lock,
        embedder: Embedder | None = None,
    ) -> None:
        self.config = config
        self.generator = generator
        self.evidence_checker = evidence_checker
        self._lock = lock
        self.embedder = embedder

    def stream(
        self,
        question: str,
        language: str,
        hits: list[Hit],
        translation: str,
        timings: dict[str, float],
        t_start: float,
        flagged: frozenset[str] = frozenset(),
    ) -> Iterator[StreamEvent]:
        """Evidence first: select sentences, decide answerability, generate from the sentences, check."""
        t = time.perf_counter()
        scored = select(
            question,
            hits,
            config=self.config,
            embedder=self.embedder,
            translation=translation,
        )
        evidence = to_evidence(scored)
        verdict = judge(
            question, scored, language=language, threshold=self.config.answerable_threshold, translation=translation
        )
        timings["evidence_s"] = time.perf_counter() - t
        timings["answerability"] = verdict.score
        if not verdict.answerable:
            why = (
                f"the evidence does not answer the question (answerability {verdict.score:.2f} < "
                f"{self.config.answerable_threshold})"
                + (f"; missing: {', '.join(verdict.missing)}" if verdict.missing else "")
            )
            yield StreamEvent(
                "answer",
                answer=self._refuse_found(question, language, hits, evidence, scored, verdict, why, timings, t_start),
            )
            return
        # English via Arabic (``english_via_arabic``): the model answers the Arabic translation from the Arabic
        # sentences, the checker verifies that Arabic answer, and only its verified sentences are translated.
        via_arabic = language == "en" and bool(translation) and self.config.english_via_arabic
        ask, ask_language = (translation, "ar") if via_arabic else (question, language)
        system, user = prompts.evidence_messages(
            ask, [e.text for e in evidence], ask_language, "" if via_arabic else translation
        )
        messages = (ChatMessage("system", system), ChatMessage("user", user))
        pieces: list[str] = []
        with self._lock:
            self.generator.load()
            timings["prompt_tokens"] = float(sum(self.generator.count_tokens(m.content) for m in messages))
            t_gen = time.perf_counter()
            for piece in self.generator.stream(
                messages,
                max_tokens=self.config.llm_max_tokens,
                temperature=self.config.temperature,
                seed=self.config.seed,
            ):
                if not pieces:
                    timings["ttft_s"] = time.perf_counter() - t_gen
                    if not via_arabic:  # otherwise the user's first token is the first English one
                        timings["first_token_s"] = time.perf_counter() - t_start
                pieces.append(piece)
                if not via_arabic:
                    yield StreamEvent("token", text=piece)
            timings["generation_s"] = time.perf_counter() - t_gen
        raw = "".join(pieces).strip()
        timings["completion_tokens"] = float(self.generator.count_tokens(raw)) if raw else 0.0
        answer = self._finish(ask, ask_language, hits, evidence, scored, verdict, raw, timings, t_start, flagged)
        if via_arabic and answer.refused:
            answer = self._refuse_found(
                question,
                language,
                hits,
                evidence,
                scored,
                verdict,
                answer.refusal_reason,
                timings,
                t_start,
                raw,
                answer.sentences,
            )
        elif via_arabic:
            with self._lock:
                answer = yield from back_translate(
                    self.generator,
                    answer,
                    question,
                    timings,
                    t_start,
                    max_tokens=self.config.llm_max_tokens,
                    seed=self.config.seed,
                    verify=lambda english, check: (
                        evidence_problem(english, [e.text for e in evidence if e.n in check.cited], "en", question)
                        or translation_problem(english, check.text, f"{question} {translation}")
                    ),
                )
        yield StreamEvent("answer", answer=answer)

    def _finish(
        self,
        question: str,
        language: str,
        hits: list[Hit],
        evidence: tuple[Evidence, ...],
        scored: list[Scored],
        verdict: Verdict,
        raw: str,
        timings: dict[str, float],
        t_start: float,
        flagged: frozenset[str] = frozenset(),
    ) -> Answer:
        def refuse(reason: str, sentences: tuple = ()) -> Answer:
            return self._refuse_found(
                question, language, hits, evidence, scored, verdict, reason, timings, t_start, raw, sentences
            )

        if not raw or is_refusal(raw):
            return refuse("the model found no answer in the evidence")
        text, sentences, citations = self.evidence_checker.run(raw, evidence, language, question)
        if not citations and self.config.extractive_fallback:
            quote = extractive(question, evidence, verdict.kind, language)
            if quote:
                text, checks, citations = self.evidence_checker.run(quote, evidence, language, question)
                sentences = (
                    *sentences,
                    *(replace(c, reason="extractive fallback: the model's answer failed the checker") for c in checks),
                )
                timings["extractive"] = 1.0
        if not text or not citations:
            return refuse("no sentence of the answer is supported by the evidence", sentences)
        if safety.rests_on_flagged(citations, flagged):  # as in Answerer._finish, the passage path's twin
            return refuse("the answer rests only on articles flagged for instruction-like text")
        timings["total_s"] = time.perf_counter() - t_start
        return Answer(
            question=question,
            language=answer_language(language),
            answer=text,
            refused=False,
            citations=citations,
            passages=tuple(hits),
            sentences=sentences,
            raw_answer=raw,
            timings=timings,
            evidence=evidence,
        )

    def _refuse_found(
        self,
        question: str,
        language: str,
        hits: Sequence[Hit],
        evidence: tuple[Evidence, ...],
        scored: list[Scored],
        verdict: Verdict,
        reason: str,
        timings: dict[str, float],
        t_start: float,
        raw: str = "",
        sentences: tuple = (),
    ) -> Answer:
        """A refusal that says what the sources do give instead (in the question's language)."""
        found, _ = explain(verdict, scored, language, question)
        timings["total_s"] = time.perf_counter() - t_start
        text = prompts.REFUSAL_FOUND[language].format(refusal=prompts.REFUSALS[language], found=found)
        return Answer(
            question=question,
            language=answer_language(language),
            answer=text,
            refused=True,
            citations=(),
            passages=tuple(hits),
            sentences=sentences,
            raw_answer=raw,
            refusal_reason=reason,
            timings=timings,
            evidence=evidence,
        )


def extractive(question: str, evidence: Sequence[Evidence], kind: str, language: str) -> str:
    """The first evidence sentence holding a value of the kind asked for, quoted and cited (``""`` if none).

    Arabic: the sentence itself; English: the Arabic sentence in quotes, with no English words around it (an
    English frame would be read as Latin-script names the Arabic sentence lacks).

    Only for a quantity whose unit the question names (:func:`rag.evidence.expected_unit`: countries, troops,
    dollars, km, people): a sentence of the right type is not the right fact otherwise ("What is the
    population of Baghdad?" names no unit, and a troop count would have been quoted).
    """
    if kind != "quantity" or not expected_unit(question):
        return ""
    for e in evidence:
        if has_type(e.text, kind, question):
            body = " ".join(e.text.split()).rstrip(".")
            return f"{body} [{e.n}]." if language == "ar" else f"«{body}» [{e.n}]."
    return ""
