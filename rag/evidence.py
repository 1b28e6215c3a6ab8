"""Sentence-level evidence selection: the few source sentences an answer may rest on, chosen before generation.

The model reads only these sentences (numbered ``[1]``, ``[2]`` …), not whole passages: a short prompt
starts the answer sooner, and a small model copies a figure from the right sentence far more often
when the neighbouring facts are not in front of it. Every sentence of the retrieved passages is scored
by signals measured on the seeds suite (``sanad eval --suite seeds``, section "Evidence selection"):

* ``dense``: the embedding model's cosine similarity of the question (and its Arabic translation,
  when the pipeline has one) with the sentence, embedded in one batch as ``passage:``;
* ``lexical``: the share of the question's stemmed terms (:func:`rag.textnorm.tokenize`) and numbers
  the sentence holds;
* ``type``: whether the sentence holds a value of the kind the question asks for (كم/how many → a
  quantity, متى/when → a date, من/who → a person, أين/where → a place): :func:`answer_type`;
* ``rank``: the rank of the passage it came from.

Just past the house's ~400 lines: a third of it is the cue tables (question words, units) laid out one entry
per line, and the signals that read them are tuned together on the seeds suite.

Example:
    >>> from rag.evidence import answer_type
    >>> answer_type("كم عدد الجنود الأمريكيين في العراق؟"), answer_type("Who heads the mission?")
    ('quantity', 'person')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rag.answer_types import Evidence
from rag.chunking import sentence_spans
from rag.dates import find_dates, fold
from rag.entities import find_entities
from rag.quantities import find_quantities
from rag.textnorm import normalize_arabic, tokenize
from rag.types import Hit

logger = logging.getLogger(__name__)

AnswerType = Literal["quantity", "date", "person", "place", "other"]

# Cue phrases, matched on folded text (rag.dates.fold: alef forms, ة/ه, ى/ي, diacritics), at the start
# of a word; checked in this order (a "how many years" question asks for a quantity, not a date).
_CUES: tuple[tuple[AnswerType, tuple[str, ...]], ...] = (
    (
        "quantity",
        (
            "كم",
            "بكم",
            "ما عدد",
            "عدد",
            "ما قيمة",
            "ما حجم",
            "ما مقدار",
            "ما نسبة",
            "ما المسافة",
            "ما المبلغ",
            "ميزانية",
            "how many",
            "how much",
            "how far",
            "how long",
            "how large",
            "what percentage",
            "what share",
            "number of",
            "value of",
            "what amount",
            "population of",
            "troops in",
        ),
    ),
    (
        "date",
        (
            "متى",
            "في أي عام",
            "في أي سنة",
            "منذ أي عام",
            "في أي يوم",
            "في أي شهر",
            "ما تاريخ",
            "في أي تاريخ",
            "ما هو تاريخ",
            "what date",
            "which date",
            "what day",
            "which day",
            "which exact day",
            "when",
            "what year",
            "which year",
            "in what month",
            "which month",
            "how often",
        ),
    ),
    (
        "place",
        (
            "أين",
            "اين",
            "في أي مدينة",
            "في أي بلد",
            "في أي دولة",
            "في أي قاعدة",
            "في أي مكان",
            "في أي منطقة",
            "إلى أين",
            "من أين",
            "ما اسم آخر معقل",
            "ما اسم المعسكر",
            "where",
            "which city",
            "what city",
            "which country",
            "which province",
            "which base",
            "which region",
        ),
    ),
    (
        "person",
        (
            "من هو",
            "من هي",
            "من هم",
            "من يرأس",
            "من يقود",
            "من فاز",
            "من قال",
            "من الذي",
            "ما اسم",
            "وزير",
            "who",
            "whom",
            "whose",
            "what is the name of the",
            "which former",
            "which prime minister",
            "which president",
        ),
    ),
)
_PERSON_START = re.compile(r"^\s*(?:و|ف)?من\s")  # «من قاد …؟»: who, when «من» opens the question


def _folded(text: str) -> str:
    return " ".join(fold(text)[0].replace("؟", " ").replace("?", " ").split())


_FOLDED_CUES = tuple((kind, tuple(_folded(c) for c in cues)) for kind, cues in _CUES)


def answer_type(question: str) -> AnswerType:
    """What the question asks for: ``quantity``, ``date``, ``person``, ``place`` or ``other``."""
    q = f" {_folded(question)} "
    for kind, cues in _FOLDED_CUES:
        if any(re.search(rf"(?<![^\W\d_]){re.escape(c)}(?![^\W\d_])", q) for c in cues):
            return kind
    if _PERSON_START.match(question):
        return "person"
    return "other"


def numbers_of(text: str) -> set[str]:
    """The digit strings written in ``text`` (Arabic-Indic digits folded, separators dropped)."""
    return {n.replace(",", "") for n in re.findall(r"\d+(?:[.,]\d+)*", normalize_arabic(text))}


# What a quantity question counts, from its words (matched on folded text at a word start): the unit class
# of rag.quantities a figure in the answer must carry.
_UNIT_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("km", ("تبعد", "يبعد", "المسافة", "كيلومتر", "how far", "distance", "kilomet")),
    (
        "usd",
        (
            "دولار",
            "مبلغ",
            "أنفق",
            "انفق",
            "تمويل",
            "قيمة",
            "ميزانية",
            "مساعدات",
            "سيقدم",
            "ستقدم",
            "يقدم",
            "قدمت",
            "سيخصص",
            "how much",
            "spend",
            "spent",
            "cost",
            "budget",
            "dollars",
            "worth",
            "value",
            "fund",
            "aid",
        ),
    ),
    ("troops", ("جندي", "جنود", "عسكري", "القوات", "قوات", "troops", "soldiers", "forces", "personnel")),
    ("countries", ("دولة", "دول", "countries", "nations")),
    ("people", ("قتلى", "قتيل", "جرحى", "killed", "dead", "casualties")),
)
_FOLDED_UNITS = tuple((unit, tuple(_folded(c) for c in cues)) for unit, cues in _UNIT_CUES)


def expected_unit(question: str) -> str:
    """The unit class a quantity question asks for (``km``, ``usd``, ``troops``, ``countries``, ``people``)
    or ``""`` when its words do not say."""
    q = f" {_folded(question)} "
    for unit, cues in _FOLDED_UNITS:
        if any(re.search(rf"(?<![^\W\d_])(?:[وفبل]|ال)?{re.escape(c)}", q) for c in cues):
            return unit
    return ""


def has_type(text: str, kind: str, question: str = "") -> bool:
    """Whether ``text`` holds a value of ``kind``; a figure or date the question itself gives does not count.

    For a quantity, the figure must carry the unit the question asks for when it names one
    (:func:`expected_unit`): a count of troops does not answer "how far".
    """
    if kind == "quantity":
        asked = numbers_of(question)
        unit = expected_unit(question)
        return any(
            (numbers_of(q.text) - asked or not numbers_of(q.text)) and (not unit or q.unit == unit)
            for q in find_quantities(text)
        )
    if kind == "date":
        asked = {d.value for d in find_dates(question)} if question else set()
        return any(d.value not in asked for d in find_dates(text))
    if kind == "person":
        return bool(find_entities(text, ("person",))) or bool(_NAMED.search(text))
    if kind == "place":
        return bool(find_entities(text, ("place",)))
    return True


# A name after a title or a speech verb («وقال وزير الدفاع ثابت العباسي», «السفيرة ألينا رومانوسكي»).
_NAMED = re.compile(
    r"(?:قال|قالت|أكد|أكدت|أوضح|أوضحت|صرح|السفير|السفيرة|الوزير|الوزيرة|الرئيس|الجنرال|اللواء|الفريق|"
    r"مساعدة|مساعد|رئيس|قائد|المتحدث|العميد|العقيد)\s+[\u0621-\u064a]{3,}\s+[\u0621-\u064a]{3,}"
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage: ``text == article.text[start:end]``; ``rank`` is its passage's (0-based)."""

    hit: Hit
    text: str
    start: int
    end: int
    rank: int


#: Sentences shorter than this are headings or fragments («في البنتاغون»), never evidence.
MIN_CHARS = 25


def candidates(hits: Sequence[Hit]) -> list[Candidate]:
    """The sentences of ``hits``, each once (passages overlap), in passage-rank order."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        for s, e, _ in sentence_spans(chunk.text):
            key = (chunk.doc_id, chunk.start + s)
            text = chunk.text[s:e]
            if key in seen or len(text) < MIN_CHARS:
                continue
            seen.add(key)
            out.append(Candidate(hit, text, chunk.start + s, chunk.start + e, rank))
    return out


@dataclass(frozen=True)
class Weights:
    """How the signals combine (``score = dense·z + lexical·share + type·found + rank/(1+rank)``).

    Calibrated on the seeds suite's evidence-sentence recall (``python scripts/answerability_curve.py
    --weights``); the embedding similarity is z-scored over the question's candidate sentences.
    """

    dense: float = 1.0
    lexical: float = 1.5
    type: float = 0.6
    rank: float = 0.3


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Scored:
    """A candidate with its signals and combined score."""

    candidate: Candidate
    dense: float
    lexical: float
    type_found: bool
    score: float


def question_terms(question: str, translation: str = "") -> set[str]:
    """The stemmed terms and numbers of the question (and its translation) a sentence is matched on."""
    return (set(tokenize(question)) | set(tokenize(translation))) - _QUESTION_WORDS


# Question words and fillers that never identify a fact (normalised, stemmed like tokenize() output).
_QUESTION_WORDS = frozenset(
    tokenize(
        "عدد اسم قيمة تاريخ many much what which name number how far long تم يتم هل هو هي ما", drop_stopwords=False
    )
)


def score_candidates(
    question: str,
    cands: Sequence[Candidate],
    *,
    embedder: Any,
    translation: str = "",
    weights: Weights = DEFAULT_WEIGHTS,
    kind: str | None = None,
) -> list[Scored]:
    """Every candidate with its signals, best first (ties: passage rank, then position)."""
    if not cands:
        return []
    kind = kind or answer_type(question)
    queries = [question] + ([translation] if translation else [])
    if embedder is None:  # no embedding model (tests, a BM25-only index): lexical, type and rank signals only
        sims = np.zeros(len(cands), dtype=np.float32)
    else:
        q = np.asarray(embedder.embed_queries(queries), dtype=np.float32)
        p = np.asarray(embedder.embed_passages([c.text for c in cands]), dtype=np.float32)
        sims = (p @ q.T).max(axis=1)
    z = (sims - sims.mean()) / (sims.std() + 1e-6) if len(sims) > 1 else np.zeros_like(sims)
    terms = question_terms(question, translation)
    out = []
    for c, sim, zs in zip(cands, sims, z, strict=True):
        have = set(tokenize(c.text))
        lexical = len(terms & have) / len(terms) if terms else 0.0
        found = has_type(c.text, kind, question) if kind != "other" else False
        score = (
            weights.dense * float(zs) + weights.lexical * lexical + weights.type * found + weights.rank / (1 + c.rank)
        )
        out.append(Scored(c, float(sim), lexical, found, score))
    out.sort(key=lambda s: (-s.score, s.candidate.rank, s.candidate.start))
    return out


def to_evidence(chosen: Sequence[Scored]) -> tuple[Evidence, ...]:
    """Numbered :class:`Evidence` records (from 1, in the given order)."""
    return tuple(
        Evidence(
            n=i,
            doc_id=s.candidate.hit.doc_id,
            chunk_id=s.candidate.hit.chunk_id,
            title=s.candidate.hit.title,
            text=s.candidate.text,
            start=s.candidate.start,
            end=s.candidate.end,
            score=round(s.score, 4),
            published=s.candidate.hit.published,
            source=s.candidate.hit.source,
        )
        for i, s in enumerate(chosen, 1)
    )


def select(
    question: str,
    hits: Sequence[Hit],
    *,
    config: Any,
    embedder: Any,
    translation: str = "",
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Scored]:
    """The ``config.evidence_sentences`` best sentences of ``hits`` with their signals, best first."""
    scored = score_candidates(question, candidates(hits), embedder=embedder, translation=translation, weights=weights)
    return scored[: int(getattr(config, "evidence_sentences", 3))]


def select_evidence(
    question: str,
    hits: Sequence[Hit],
    *,
    config: Any,
    embedder: Any,
    translation: str = "",
    weights: Weights = DEFAULT_WEIGHTS,
) -> tuple[Evidence, ...]:
    """The ``config.evidence_sentences`` best sentences of ``hits`` for ``question``, numbered from 1.

    Args:
        question: the question as asked (Arabic or English).
        hits: the retrieved passages, best first.
        config: a :class:`~rag.config.SanadConfig` (``evidence_sentences``).
        embedder: the pipeline's :class:`~rag.embeddings.Embedder` (loaded).
        translation: the question's Arabic translation, when the pipeline made one.

    Returns:
        :class:`Evidence` records, best first, with offsets in the article's cleaned text
        (``article.text[e.start:e.end] == e.text``); empty when ``hits`` is.
    """
    return to_evidence(
        select(question, hits, config=config, embedder=embedder, translation=translation, weights=weights)
    )


__all__ = [
    "DEFAULT_WEIGHTS",
    "AnswerType",
    "Candidate",
    "Scored",
    "Weights",
    "answer_type",
    "candidates",
    "has_type",
    "numbers_of",
    "question_terms",
    "score_candidates",
    "select",
    "select_evidence",
    "to_evidence",
]
