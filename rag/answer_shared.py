"""What both answer paths of :class:`~rag.answer.Answerer` share: the streamed event, refusal detection, the
answer's language.

Its own module so that :mod:`rag.answer` (the Answerer and the passage-prompt path) and :mod:`rag.answer_evidence`
(the evidence-first path) both import it without importing each other. ``rag.answer`` re-exports
:class:`StreamEvent` and :func:`is_refusal`, their public home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rag import prompts
from rag.textnorm import normalize_arabic
from rag.types import Answer, Hit


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
    """The :attr:`~rag.types.Answer.language` of an answer in ``language`` (anything not Arabic is English)."""
    return "ar" if language == "ar" else "en"
