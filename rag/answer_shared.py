"""What both answer paths of :class:`~rag.answer.Answerer` share: the streamed event, refusal detection, the
answer's language, and the back-translation of a checked Arabic answer into English (``english_via_arabic``).

Its own module so that :mod:`rag.answer` (the Answerer and the passage-prompt path) and :mod:`rag.answer_evidence`
(the evidence-first path) both import it without importing each other. ``rag.answer`` re-exports
:class:`StreamEvent` and :func:`is_refusal`, their public home.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Generator as Generator_
from dataclasses import dataclass, replace
from typing import Literal

from rag import prompts
from rag.answer_types import Answer, SentenceCheck
from rag.citations import numbers_in
from rag.generators import ChatMessage, Generator
from rag.retrieval import detect_language
from rag.textnorm import normalize_arabic
from rag.types import Hit


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: the passages found, a piece of text, or the checked answer."""

    kind: Literal["passages", "token", "answer"]
    text: str = ""
    hits: tuple[Hit, ...] = ()
    answer: Answer | None = None


def is_refusal(text: str) -> bool:
    """Whether the model's reply declines to answer."""
    norm = normalize_arabic(text)
    return any(normalize_arabic(m) in norm for m in prompts.REFUSAL_MARKERS)


def answer_language(language: str) -> Literal["ar", "en"]:
    """The :attr:`~rag.answer_types.Answer.language` of an answer in ``language`` (anything not Arabic is English)."""
    return "ar" if language == "ar" else "en"


def back_translate(
    generator: Generator,
    draft: Answer,
    question: str,
    timings: dict[str, float],
    t_start: float,
    *,
    max_tokens: int,
    seed: int,
    verify: Callable[[str, SentenceCheck], str] | None = None,
) -> Generator_[StreamEvent, None, Answer]:
    """Turn a checked Arabic answer into English, one supported sentence at a time, streaming each sentence.

    Only sentences the checker kept are translated, each alone (the model sees no sources here, so it has
    nothing to add a fact from). A translation is shown only if it is English, carries exactly the sentence's
    numbers and, with ``verify`` (``(english, arabic check) -> problem or ""``), passes the caller's checks (e.g. against
    the sentences it cites); otherwise the verified Arabic sentence
    is shown. Each sentence is streamed once it is decided, so the user never sees text that is then taken
    back. The answer's ``sentences`` become what the user reads (English, or the Arabic kept), with the same
    citation numbers, so every check of the answer reads the shown text; ``raw_answer`` stays the Arabic draft.
    The caller holds the generation lock. ``timings["first_token_s"]`` is set at the first English text if the
    Arabic draft did not set it (the user saw nothing of the draft).
    """
    t = time.perf_counter()
    out: list[str] = []
    checks: list[SentenceCheck] = []
    for check in draft.sentences:
        if not check.supported:
            checks.append(check)
            continue
        messages = (ChatMessage("system", prompts.BACK_TRANSLATE_SYSTEM), ChatMessage("user", check.text))
        pieces = generator.stream(messages, max_tokens=max_tokens, temperature=0.0, seed=seed)
        english = " ".join("".join(pieces).split())
        problem = ""
        if not english or detect_language(english) != "en":
            problem = "the translation is not English"
        elif numbers_in(english) != numbers_in(check.text):
            problem = "the translation changed a number"
        elif verify is not None:
            problem = verify(english, check)
        shown = check.text if problem else english
        reason = f"kept in Arabic: {problem}" if problem else "checked in Arabic, then translated"
        checks.append(SentenceCheck(shown, check.cited, True, reason))
        markers = "".join(f"[{n}]" for n in check.cited)
        timings.setdefault("first_token_s", time.perf_counter() - t_start)
        yield StreamEvent("token", text=(" " if out else "") + f"{shown} {markers}".strip())
        out.append(f"{shown} {markers}".strip())
    timings["translate_answer_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    return replace(
        draft, question=question, language="en", answer=" ".join(out), sentences=tuple(checks), timings=timings
    )
