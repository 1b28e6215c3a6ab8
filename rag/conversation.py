"""Follow-up questions made self-contained before retrieval, by rules or by the model.

A reader working on a story asks "How many US troops are in Iraq?", then "And how many in Syria?",
then «ومتى سينتهي ذلك؟». Retrieval and evidence selection read one question at a time, so each
follow-up is first rewritten into the question it stands for ("How many US troops are in Syria?"),
and that rewritten question is what is answered and what the user is shown.

:class:`~rag.rewrite_rules.RuleRewriter` (the default; no model, a few microseconds) reads the previous
turn: it puts a new place, person, organisation or year into the previous question («وفي سوريا؟», "What
about the British?"), replaces a pronoun or demonstrative by what it points at ("When will that end?"),
or adds the previous question's subject in brackets to a follow-up that names nothing («وكم عددهم؟»);
:mod:`rag.rewrite_rules` says exactly how. A question that names its own subject is left as it is.

:class:`ModelRewriter` asks the LLM for the standalone question instead (one short prompt) and falls
back to the rules when the model's output is empty, in the wrong language, or drops the question's
own entities. ``sanad eval --suite followups`` scores both (``--rewrite rules|model``).

Where each part lives: this module is the entry point (:func:`make_rewriter` for a mode,
:func:`as_history` for the turns a caller passes, the :class:`Rewriter` protocol) and holds the model
rewriter and its prompt; the rules are :mod:`rag.rewrite_rules`, the words they read
:mod:`rag.rewrite_words`, and the :class:`~rag.answer_types.Rewrite` and
:class:`~rag.answer_types.Turn` records :mod:`rag.answer_types`. Split so that each stays under ~400
lines: the rules and their word lists alone were that long.

Example:
    >>> turns = (Turn("How many US troops are in Iraq?", "About 2,500 [1]."),)
    >>> make_rewriter("rules").run("And how many in Syria?", turns).question
    'How many US troops are in Syria?'
    >>> make_rewriter("rules").run("وفي سوريا؟", (Turn("كم عدد الجنود الأمريكيين في العراق؟"),)).question
    'كم عدد الجنود الأمريكيين في سوريا؟'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol

from rag.answer_types import History, Rewrite, Turn
from rag.entities import find_entities
from rag.errors import InputError, SanadError
from rag.rewrite_rules import RuleRewriter, language_of

logger = logging.getLogger(__name__)

REWRITE_MODES = ("rules", "model", "off")

#: The prompt the model rewrites with (data, like the prompts in rag/prompts.py).
REWRITE_SYSTEM = (
    "You rewrite a follow-up question so that it can be understood without the conversation. "
    "Replace pronouns and fill in what the follow-up leaves out from the previous question. "
    "Keep the follow-up's language (Arabic stays Arabic, English stays English) and its meaning. "
    "Reply with the rewritten question only."
)
REWRITE_USER = "Conversation:\n{history}\nFollow-up: {question}\nStandalone question:"


class Rewriter(Protocol):
    def run(self, question: str, history: Sequence[Turn]) -> Rewrite: ...


class ModelRewriter:
    """Asks the LLM for the standalone question; falls back to :class:`RuleRewriter` when its answer is unusable.

    Args:
        generator: a :class:`rag.generators.Generator` (loaded on first use).
        max_turns: how many earlier turns the prompt shows.
        seed: generation seed (temperature 0).
    """

    def __init__(self, generator: Any, *, max_turns: int = 2, seed: int = 0) -> None:
        self.generator = generator
        self.max_turns = max_turns
        self.seed = seed
        self.rules = RuleRewriter()

    def run(self, question: str, history: Sequence[Turn]) -> Rewrite:
        from rag.generators import ChatMessage

        if not history:
            return Rewrite(question, question)
        shown = []
        for turn in list(history)[-self.max_turns :]:
            shown.append(f"Q: {turn.standalone}")
            if turn.answer:
                shown.append(f"A: {' '.join(turn.answer.split())[:300]}")
        messages = (
            ChatMessage("system", REWRITE_SYSTEM),
            ChatMessage("user", REWRITE_USER.format(history="\n".join(shown), question=question)),
        )
        try:
            out = self.generator.generate(messages, max_tokens=60, temperature=0.0, seed=self.seed).text
        except SanadError as exc:
            logger.warning("question rewriting by the model failed, using the rules: %s", exc)
            return self.rules.run(question, history)
        line = next((ln.strip() for ln in out.strip().splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question|question|q)\s*:\s*", "", line, flags=re.I).strip(" \"'«»")
        own = {m.key for m in find_entities(question)}
        if (
            not line
            or language_of(line) != language_of(question)
            or len(line) > 4 * max(len(question), 40)
            or not own <= {m.key for m in find_entities(line)}
        ):
            logger.info("model rewrite %r unusable for %r; using the rules", line, question)
            return self.rules.run(question, history)
        return Rewrite(question, line, "model", "model")


def make_rewriter(mode: str, generator: Any = None) -> Rewriter | None:
    """The rewriter for ``mode`` (``rules``, ``model``, ``off`` → ``None``)."""
    if mode == "off":
        return None
    if mode == "model":
        if generator is None:
            raise SanadError("rewrite mode 'model' needs a generator; use rewrite='rules' or pass one")
        return ModelRewriter(generator)
    if mode == "rules":
        return RuleRewriter()
    raise InputError(f"rewrite mode {mode!r} is not valid; choose one of {', '.join(REWRITE_MODES)}")


def as_history(turns: Any) -> History:
    """Accept turns as :class:`Turn` records, ``{"question", "answer"}`` dicts or ``(question, answer)`` pairs
    (the Gradio chat format), oldest first."""
    out: list[Turn] = []
    for t in turns or ():
        if isinstance(t, Turn):
            out.append(t)
        elif isinstance(t, dict):
            out.append(Turn.from_dict(t))
        elif isinstance(t, (list, tuple)) and len(t) == 2:
            out.append(Turn(question=str(t[0] or ""), answer=str(t[1] or "")))
        else:
            raise InputError(
                f"a history turn must be a Turn, a dict with 'question' and 'answer', or a "
                f"(question, answer) pair; got {type(t).__name__}"
            )
    return tuple(t for t in out if t.question.strip())


__all__ = ["REWRITE_MODES", "ModelRewriter", "Rewriter", "as_history", "make_rewriter"]
