"""The typed records that cross Sanad's module seams.

Every stage takes and returns these frozen dataclasses, never tuples or raw library
output, so that ingest, chunking, retrieval, generation and evaluation can be read
and tested one at a time.

One module on purpose: it imports nothing from ``rag``, so any module can import these records without an
import cycle, and every seam's record is found in one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RetrievalMode = Literal["dense", "bm25", "hybrid"]
RETRIEVAL_MODES: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid")


def content_hash(text: str) -> str:
    """Short, stable fingerprint of a text (sha256, first 16 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """A cleaned source article with what is known of its publication.

    Attributes:
        doc_id: the file stem, e.g. ``000_fa12990bf89f9d00``; unique in an index.
        title: the headline (from metadata, else the first line when it reads as one, else the
            start of the text).
        text: the cleaned text a reader sees; chunk offsets point into it.
        origin: where the article was read from (a path or upload name).
        sha: :func:`content_hash` of ``text``; decides whether re-indexing must re-embed.
        published: the publication date as ``YYYY-MM-DD``, or ``""`` when unknown.
        source: the outlet that published it (e.g. ``العربي الجديد``), or ``""`` when unknown.
        url: the article's address, or ``""``.
        author: the byline, or ``""``.
        suspect_spans: ``(start, end)`` offsets in ``text`` of sentences that read as instructions
            to an AI system (prompt injection); they are kept out of prompts and evidence.
        copies: other copies of this text that were indexed once as this article (identical, or
            near-verbatim with ``near_duplicates="merge"``), each ``(doc_id, source, published, url)``:
            an agency story run by several outlets is one article listing every outlet.
    """

    doc_id: str
    title: str
    text: str
    origin: str = ""
    sha: str = ""
    published: str = ""
    source: str = ""
    url: str = ""
    author: str = ""
    suspect_spans: tuple[tuple[int, int], ...] = ()
    copies: tuple[tuple[str, str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.sha:
            object.__setattr__(self, "sha", content_hash(self.text))
        object.__setattr__(self, "suspect_spans", tuple(tuple(s) for s in self.suspect_spans))
        object.__setattr__(self, "copies", tuple(tuple(c) for c in self.copies))

    @property
    def sources(self) -> tuple[str, ...]:
        """Every outlet known to have published this text: its own, then its copies' (no repeats)."""
        return tuple(dict.fromkeys(s for s in (self.source, *(c[1] for c in self.copies)) if s))

    @property
    def flagged(self) -> bool:
        """Whether the article holds instruction-like text (shown as a warning in lists and the UI)."""
        return bool(self.suspect_spans)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["suspect_spans"] = [list(s) for s in self.suspect_spans]
        data["copies"] = [list(c) for c in self.copies]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(**data)


@dataclass(frozen=True)
class Filters:
    """Which articles a search may return; applied inside retrieval, before cutting to ``k``.

    Every set field must match (AND); within a field any value matches (OR). Dates are
    ``YYYY-MM-DD`` strings compared as text (ISO order is date order); an article with an unknown
    date never matches a date bound. An article that stands for several copies of one story
    (:attr:`Article.copies`) matches when any copy does: its outlet, date or id.

    Example:
        >>> Filters(sources=("العربي الجديد",), since="2024-01-01").is_empty
        False
    """

    doc_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.doc_ids or self.sources or self.since or self.until)

    def matches(self, article: Article) -> bool:
        if (
            self.doc_ids
            and article.doc_id not in self.doc_ids
            and not any(c[0] in self.doc_ids for c in article.copies)
        ):
            return False
        if (
            self.sources
            and article.source not in self.sources
            and not any(c[1] in self.sources for c in article.copies)
        ):
            return False
        if self.since or self.until:
            dates = [d for d in (article.published, *(c[2] for c in article.copies)) if d]
            return any((not self.since or d >= self.since) and (not self.until or d <= self.until) for d in dates)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: ``article.text[start:end] == text`` always holds.

    ``chunk_id`` hashes the article id and the offsets, so the dense and BM25 sides
    (and citations) join on it.
    """

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    chunk_id: str = ""

    def __post_init__(self) -> None:
        if not self.chunk_id:
            object.__setattr__(self, "chunk_id", make_chunk_id(self.doc_id, self.start, self.end))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


def make_chunk_id(doc_id: str, start: int, end: int) -> str:
    """Stable id of the passage ``doc_id[start:end]``."""
    return f"{doc_id}:{start}-{end}:" + content_hash(f"{doc_id}\x00{start}\x00{end}")[:6]


def byline(source: str, published: str) -> str:
    """``"العربي الجديد · 2024-04-16"``: outlet and date as a citation shows them ("" parts left out)."""
    return " · ".join(p for p in (source, published) if p)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with the score that ranked it (higher is better).

    ``scores`` keeps the per-side scores or ranks (``dense``, ``bm25``) that hybrid
    fusion combined, for display and debugging. ``published``, ``source``, ``url`` and
    ``author`` are the article's (``""`` when unknown); ``also_in`` names the other outlets
    that ran the same text (see :attr:`Article.copies`).
    """

    chunk: Chunk
    score: float
    rank: int
    title: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    published: str = ""
    source: str = ""
    url: str = ""
    author: str = ""
    also_in: tuple[str, ...] = ()

    @classmethod
    def from_article(
        cls, chunk: Chunk, article: Article | None, score: float, rank: int, scores: dict[str, float] | None = None
    ) -> Hit:
        """A hit on ``chunk`` carrying ``article``'s title and publication metadata."""
        if article is None:
            return cls(chunk=chunk, score=score, rank=rank, title=chunk.doc_id, scores=dict(scores or {}))
        return cls(
            chunk=chunk,
            score=score,
            rank=rank,
            title=article.title,
            scores=dict(scores or {}),
            published=article.published,
            source=article.source,
            url=article.url,
            author=article.author,
            also_in=tuple(s for s in article.sources if s != article.source),
        )

    @property
    def byline(self) -> str:
        """Outlet and date, e.g. ``"العربي الجديد · 2024-04-16"`` (``""`` when both are unknown)."""
        return byline(self.source, self.published)

    def meta(self) -> dict[str, str]:
        """The publication fields, for records built from this hit (citations, evidence)."""
        return {"published": self.published, "source": self.source, "url": self.url, "author": self.author}

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON form used by ``sanad search --json``."""
        return {
            "rank": self.rank,
            "doc_id": self.chunk.doc_id,
            "chunk_id": self.chunk.chunk_id,
            "title": self.title,
            "score": round(float(self.score), 6),
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "ordinal": self.chunk.ordinal,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
            "published": self.published,
            "source": self.source,
            "url": self.url,
            "author": self.author,
            "also_in": list(self.also_in),
        }


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
