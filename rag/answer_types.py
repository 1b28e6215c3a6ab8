"""The typed records of answering: answers, evidence, citations and checks, conflicts, timelines, turns.

What :mod:`rag.types` is to indexing and retrieval (an :class:`~rag.types.Article`, its
:class:`~rag.types.Chunk` passages, a search :class:`~rag.types.Hit`), this module is to answering:
the :class:`Answer` ``sanad ask`` returns with its :class:`Citation`, :class:`Evidence` and
:class:`SentenceCheck` records, the :class:`Conflict` found between reports, the :class:`Timeline` of
dated events, the :class:`Turn` records a follow-up question is answered from and the
:class:`Rewrite` that made it self-contained. Frozen dataclasses, never tuples or raw library
output, so each stage can be read and tested alone.

A module of its own so that neither record module passes ~400 lines; like :mod:`rag.types` it imports
nothing from ``rag`` but :mod:`rag.types`, so any module can import these records without an import cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rag.types import Hit, byline


@dataclass(frozen=True)
class Citation:
    """A resolved citation marker ``[n]`` in an answer.

    Attributes:
        n: the marker number as shown in the answer (1-based passage number).
        doc_id, chunk_id, title: the article and passage it resolves to.
        quote: the sentence of the passage that supports the claim.
        quote_start, quote_end: offsets of ``quote`` in the article's cleaned text.
        published, source, url, author: the article's publication metadata (``""`` when unknown).
    """

    n: int
    doc_id: str
    chunk_id: str
    title: str
    quote: str
    quote_start: int
    quote_end: int
    published: str = ""
    source: str = ""
    url: str = ""
    author: str = ""

    @property
    def label(self) -> str:
        """How the citation reads: ``"[2] العربي الجديد · 2024-04-16"`` (the title when outlet and date are unknown)."""
        return f"[{self.n}] {byline(self.source, self.published) or self.title}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


@dataclass(frozen=True)
class Evidence:
    """A source sentence chosen before generation: what an answer may rest on.

    The model reads only these (numbered ``[n]``); citations in the answer point at them.
    ``start``/``end`` are offsets in the article's cleaned text, so
    ``article.text[start:end] == text``.
    """

    n: int
    doc_id: str
    chunk_id: str
    title: str
    text: str
    start: int
    end: int
    score: float = 0.0
    published: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ConflictKind = Literal["quantity", "date", "name"]


@dataclass(frozen=True)
class ConflictValue:
    """One side of a disagreement: what one evidence sentence says, where, and as of when.

    Attributes:
        value: the value as written in the sentence (``بحوالي 2500 جندي``, ``العزم الثابت``).
        normalized: the value compared (``about 2500``, ``at most 2000``, ``2021-12-31``, ``العزم الثابت``).
        n: the evidence number (the ``[n]`` a citation to this sentence carries).
        doc_id, title, published, source: the article it comes from.
        quote: the evidence sentence; ``start``/``end`` its offsets in the article's cleaned text.
        date: the period the value refers to (ISO: ``2021-12-31``, ``2024-04``, ``2021``): a date written
            in the sentence when there is one, else the article's publication date; ``""`` when neither.
        date_source: ``text``, ``published`` or ``""``.
    """

    value: str
    normalized: str
    n: int
    doc_id: str
    quote: str
    start: int = 0
    end: int = 0
    title: str = ""
    published: str = ""
    source: str = ""
    date: str = ""
    date_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    """Evidence sentences that disagree on a figure, a date or a name for the same claim.

    Found by comparing numbers with their units and qualifiers, dates and names in the evidence
    directly (:mod:`rag.conflicts`), not by the model. ``values`` holds at least two sides, oldest
    first; every side keeps its citation number and date so an answer can name both.
    """

    kind: ConflictKind
    claim: str
    values: tuple[ConflictValue, ...]

    @property
    def citations(self) -> tuple[int, ...]:
        return tuple(v.n for v in self.values)

    @property
    def dates(self) -> tuple[str, ...]:
        return tuple(v.date for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "claim": self.claim,
            "values": [v.to_dict() for v in self.values],
            "citations": list(self.citations),
            "dates": list(self.dates),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conflict:
        return cls(kind=data["kind"], claim=data["claim"], values=tuple(ConflictValue(**v) for v in data["values"]))


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation: the question as asked, and the answer given.

    ``rewritten`` is the self-contained form the question was answered as (``""`` when it was
    already self-contained); ``doc_ids`` the articles the answer cited. Follow-up questions are
    made self-contained from these before retrieval (:mod:`rag.conversation`).
    """

    question: str
    answer: str = ""
    rewritten: str = ""
    doc_ids: tuple[str, ...] = ()

    @property
    def standalone(self) -> str:
        return self.rewritten or self.question

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "rewritten": self.rewritten,
            "doc_ids": list(self.doc_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        return cls(
            question=str(data.get("question", "")),
            answer=str(data.get("answer", "") or ""),
            rewritten=str(data.get("rewritten", "") or ""),
            doc_ids=tuple(data.get("doc_ids", ()) or ()),
        )


#: A conversation so far, oldest turn first.
History = tuple[Turn, ...]

#: How a follow-up was made self-contained (:mod:`rag.conversation`).
RewriteMethod = Literal["none", "rules", "model"]


@dataclass(frozen=True)
class Rewrite:
    """A question as asked and the self-contained question it stands for.

    Attributes:
        original: the question as the user typed it.
        question: the self-contained question to retrieve and answer with (``original`` when unchanged).
        method: ``none`` (left as it was), ``rules`` or ``model``.
        reason: what the rules did (``substitution``, ``reference``, ``context``), for display and logs.
    """

    original: str
    question: str
    method: RewriteMethod = "none"
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.question.strip() != self.original.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "question": self.question,
            "method": self.method,
            "reason": self.reason,
            "changed": self.changed,
        }


@dataclass(frozen=True)
class TimelineEvent:
    """A dated event from a source sentence, with its citation.

    Attributes:
        n: the citation number within its timeline (events are numbered in date order).
        date: the period (ISO: ``2021-12-31``, ``2024-W39``, ``2024-04``, ``2021``, ``FY2025``).
        granularity: ``day``, ``week``, ``month`` or ``year``.
        first: the first day of the period (``YYYY-MM-DD``), the sort key.
        date_text: the date as the sentence writes it (``الاثنين الماضي``); ``""`` when the date is the
            article's publication date (``from_published``).
        text: the sentence; ``start``/``end`` its offsets in the article's cleaned text.
        doc_id, title, published, source: the article.
    """

    n: int
    date: str
    granularity: str
    first: str
    text: str
    doc_id: str
    start: int
    end: int
    title: str = ""
    published: str = ""
    source: str = ""
    date_text: str = ""
    from_published: bool = False
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Timeline:
    """The dated events that the evidence retrieved for a topic mentions, oldest first."""

    topic: str
    events: tuple[TimelineEvent, ...]
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "events": [e.to_dict() for e in self.events],
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class SentenceCheck:
    """How one answer sentence fared in citation checking."""

    text: str
    cited: tuple[int, ...]
    supported: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "cited": list(self.cited), "supported": self.supported, "reason": self.reason}


@dataclass(frozen=True)
class Answer:
    """What ``sanad ask`` returns: the checked answer, its citations and how long each stage took."""

    question: str
    language: Literal["ar", "en"]
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    passages: tuple[Hit, ...]
    sentences: tuple[SentenceCheck, ...] = ()
    raw_answer: str = ""
    refusal_reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    rewritten: str = ""

    @property
    def unsupported(self) -> tuple[SentenceCheck, ...]:
        return tuple(s for s in self.sentences if not s.supported)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "citations": [c.to_dict() for c in self.citations],
            "sentences": [s.to_dict() for s in self.sentences],
            "passages": [{"n": i + 1, **h.to_dict()} for i, h in enumerate(self.passages)],
            "evidence": [e.to_dict() for e in self.evidence],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "rewritten": self.rewritten,
            "raw_answer": self.raw_answer,
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
        }
