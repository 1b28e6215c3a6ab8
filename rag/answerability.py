"""Does the evidence answer the question? A decision made outside the model, from measured signals.

A small model asked "how many British troops are in Iraq?" beside a sentence giving the number of
US troops answers with the US figure. So before generation the selected evidence is checked:

* ``hard``: the share of the question's *qualifiers* — the entities it names (a country, a base, a
  programme: :mod:`rag.entities`, bilingual, so English questions are matched too) and the numbers
  it writes (a year, a fiscal year) — that the best evidence sentence contains;
* ``context``: the same share over the sentence with its neighbours in the passage (an entity named
  one sentence earlier);
* ``soft``: the share of the question's other terms (stemmed; an Arabic question's own, an English
  question's Arabic translation's) in the sentence;
* ``typed``: whether the sentence holds a value of the kind asked for (a quantity in the unit asked
  for, a date, a person, a place: :func:`rag.evidence.has_type`);
* ``similarity``: the embedding similarity of question and sentence.

They are combined linearly (:data:`WEIGHTS`, fitted by logistic regression on the seeds suite's
answerable vs. tempting unanswerable questions: ``python scripts/answerability_curve.py``) into a
score in [0, 1]; below ``SanadConfig.answerable_threshold`` the question is refused, and the refusal
says what the evidence gives instead and which qualifier it lacks (:func:`explain`).

Example:
    >>> verdict = judge("How many British troops are in Iraq?", scored)        # doctest: +SKIP
    >>> verdict.answerable, verdict.missing                                    # doctest: +SKIP
    (False, ('Britain',))
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.dates import find_dates
from rag.entities import BY_KEY, EntityType, find_entities
from rag.evidence import Scored, answer_type, has_type, numbers_of, question_terms
from rag.quantities import find_quantities
from rag.textnorm import tokenize

#: Feature weights and bias of the logistic combination (``scripts/answerability_curve.py --fit``).
WEIGHTS: dict[str, float] = {
    "bias": -2.228,
    "hard": 0.969,
    "context": 1.171,
    "soft_ar": 0.204,
    "typed": 0.577,
    "similarity": 0.457,
    "en": 0.552,
}
FEATURES = ("hard", "context", "soft_ar", "typed", "similarity", "en")

# Entity types that qualify a question (which country, base, programme, person); roles do not.
_QUALIFYING: tuple[EntityType, ...] = ("place", "person", "org")


@dataclass(frozen=True)
class Verdict:
    """The answerability decision for one question.

    Attributes:
        answerable: ``score >= threshold``.
        score: the combined score in [0, 1].
        features: the signals combined (see the module docstring), for the best evidence sentence.
        best: index (0-based) of that sentence among the evidence given, or ``-1`` when there was none.
        missing: the question's qualifiers the best sentence lacks, as the question writes them.
        kind: the answer type asked for.
    """

    answerable: bool
    score: float
    features: dict[str, float]
    best: int
    missing: tuple[str, ...]
    kind: str

    def to_dict(self) -> dict[str, object]:
        return {
            "answerable": self.answerable,
            "score": round(self.score, 4),
            "features": {k: round(v, 4) for k, v in self.features.items()},
            "best": self.best,
            "missing": list(self.missing),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Qualifier:
    """A term the answer must be about: an entity key or a number, and how the question writes it."""

    key: str
    text: str


def qualifiers(question: str, translation: str = "") -> tuple[Qualifier, ...]:
    """The entities (places, people, organisations) and numbers the question names."""
    out: dict[str, Qualifier] = {}
    for text in (question, translation):
        for m in find_entities(text, _QUALIFYING):
            out.setdefault(
                f"e:{m.key}", Qualifier(f"e:{m.key}", m.text if text is question else _display(m.key, question))
            )
    for n in sorted(numbers_of(question)):
        out.setdefault(f"n:{n}", Qualifier(f"n:{n}", n))
    return tuple(out.values())


def _display(key: str, question: str) -> str:
    entity = BY_KEY.get(key)
    if entity is None:
        return key
    return entity.en[0] if question.isascii() or not re.search(r"[\u0600-\u06ff]", question) else entity.ar[0]


def _holds(text: str, q: Qualifier) -> bool:
    kind, _, value = q.key.partition(":")
    if kind == "e":
        return any(m.key == value for m in find_entities(text, _QUALIFYING))
    if value in numbers_of(text):
        return True
    return any(value in d.value for d in find_dates(text))  # «2025» inside a fiscal-year mention "FY2025"


def _context(s: Scored) -> str:
    """The sentence with its neighbours in its passage."""
    chunk = s.candidate.hit.chunk
    spans = [(chunk.start + a, chunk.start + b) for a, b, _ in sentence_spans(chunk.text)]
    at = [i for i, (a, b) in enumerate(spans) if a <= s.candidate.start < b]
    if not at:
        return s.candidate.text
    i = at[0]
    a, b = spans[max(0, i - 1)][0], spans[min(len(spans) - 1, i + 1)][1]
    return chunk.text[a - chunk.start : b - chunk.start]


def features(
    question: str, s: Scored, quals: Sequence[Qualifier], terms: set[str], kind: str, language: str
) -> dict[str, float]:
    """The signals for one evidence sentence (see the module docstring)."""
    text = s.candidate.text
    hard = sum(_holds(text, q) for q in quals) / len(quals) if quals else 1.0
    ctx = _context(s)
    context = sum(_holds(ctx, q) for q in quals) / len(quals) if quals else 1.0
    soft = len(terms & set(tokenize(text))) / len(terms) if terms else 1.0
    typed = 1.0 if kind == "other" or has_type(text, kind, question) else 0.0
    return {
        "hard": hard,
        "context": context,
        "soft_ar": soft if language == "ar" else 0.0,
        "typed": typed,
        "similarity": s.dense,
        "en": 1.0 if language == "en" else 0.0,
    }


def combine(feats: dict[str, float], weights: dict[str, float] | None = None) -> float:
    """The logistic combination of ``feats``: a score in [0, 1]."""
    w = weights or WEIGHTS
    z = w.get("bias", 0.0) + sum(w.get(k, 0.0) * feats.get(k, 0.0) for k in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))


def judge(
    question: str,
    scored: Sequence[Scored],
    *,
    language: str,
    threshold: float,
    translation: str = "",
    weights: dict[str, float] | None = None,
) -> Verdict:
    """Decide whether the evidence sentences ``scored`` (best first) answer ``question``.

    The best sentence is the one with the highest score; its features decide.
    """
    kind = answer_type(question)
    if not scored:
        return Verdict(False, 0.0, {}, -1, (), kind)
    quals = qualifiers(question, translation)
    # English terms never occur in Arabic text: an English question's own words are matched through its
    # translation only.
    terms = question_terms(question if language == "ar" else "", translation if language == "en" else "")
    best_i, best_f, best_score = -1, {}, -1.0
    for i, s in enumerate(scored):
        f = features(question, s, quals, terms, kind, language)
        score = combine(f, weights)
        if score > best_score:
            best_i, best_f, best_score = i, f, score
    missing = tuple(q.text for q in quals if not _holds(scored[best_i].candidate.text, q))
    return Verdict(best_score >= threshold, best_score, best_f, best_i, missing, kind)


_UNIT_EN = {
    "troops": "troops",
    "usd": "dollars",
    "countries": "countries",
    "km": "km",
    "percent": "percent",
    "years": "years",
    "people": "people",
}


def found_value(text: str, kind: str, question: str = "", language: str = "ar") -> tuple[str, str]:
    """The value of ``kind`` a sentence gives, as shown in a ``language`` refusal, and as the sentence
    writes it: ``("about 2500 troops", "بحوالي 2500 جندي")``; ``("", "")`` when it gives none."""
    if kind == "quantity":
        asked = numbers_of(question)
        for q in find_quantities(text):
            if numbers_of(q.text) - asked:
                unit = _UNIT_EN.get(q.unit, "")
                return (q.text if language == "ar" else f"{q.normalized} {unit}".strip()), q.text
    if kind == "date":
        dates = find_dates(text)
        if dates:
            return (dates[0].text if language == "ar" else dates[0].value), dates[0].text
    if kind in ("person", "place"):
        found = find_entities(text, ("person",) if kind == "person" else ("place",))
        if found:
            entity = BY_KEY.get(found[0].key)
            shown = found[0].text if language == "ar" or entity is None else f"{entity.en[0]} ({found[0].text})"
            return shown, found[0].text
    return "", ""


def _snippet(text: str, around: str, words: int = 14) -> str:
    """About ``words`` words of ``text`` centred on ``around`` (the whole text when short)."""
    tokens = text.split()
    if len(tokens) <= words:
        return text.strip()
    at = text.find(around) if around else -1
    centre = len(text[:at].split()) if at >= 0 else 0
    lo = max(0, min(centre - words // 2, len(tokens) - words))
    piece = " ".join(tokens[lo : lo + words])
    return ("… " if lo else "") + piece + (" …" if lo + words < len(tokens) else "")


EXPLANATIONS = {
    "ar": {
        "found": "تذكر المصادر {value} [{n}] («{snippet}»)",
        "missing": "لكنها لا تذكر ذلك عن {missing}",
        "nothing": "ولا تذكر المصادر ما يجيب عنه",
    },
    "en": {
        "found": "The articles give {value} [{n}] (“{snippet}”)",
        "missing": "but not for {missing}",
        "nothing": "The articles say nothing that answers it",
    },
}


def explain(verdict: Verdict, scored: Sequence[Scored], language: str, question: str) -> tuple[str, int]:
    """What the sources do give instead, in the question's language, and the evidence number it cites
    (0 when nothing is cited): «تذكر المصادر بحوالي 2500 جندي [1] (…) لكنها لا تذكر ذلك عن البريطانيين»."""
    text = EXPLANATIONS[language]
    if verdict.best < 0 or not scored:
        return text["nothing"] + ".", 0
    s = scored[verdict.best]
    value, anchor = found_value(s.candidate.text, verdict.kind, question, language)
    if not value:
        return text["nothing"] + ".", 0
    n = verdict.best + 1
    out = text["found"].format(value=value, n=n, snippet=_snippet(s.candidate.text, anchor))
    if verdict.missing:
        sep = "، " if language == "ar" else ", "
        out += (" " if language == "ar" else ", ") + text["missing"].format(missing=sep.join(verdict.missing))
    return out + ".", n


__all__ = [
    "FEATURES",
    "WEIGHTS",
    "Qualifier",
    "Verdict",
    "combine",
    "explain",
    "features",
    "found_value",
    "judge",
    "qualifiers",
]
