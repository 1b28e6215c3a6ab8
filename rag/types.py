"""The typed records that cross Sanad's module seams: what is indexed and what a search returns.

Every stage takes and returns frozen dataclasses, never tuples or raw library output, so that
ingest, chunking, retrieval, generation and evaluation can be read and tested one at a time. This
module holds the records of the corpus and of retrieval: an :class:`Article`, its :class:`Chunk`
passages, the :class:`Filters` a search applies and the :class:`Hit` it returns. The records of
answering (``Answer``, ``Citation``, ``Evidence``, ``SentenceCheck``, ``Conflict``, ``Timeline``,
``Turn``) are in :mod:`rag.answer_types`, split off so that neither module passes ~400 lines.

It imports nothing from ``rag``, so any module can import these records without an import cycle.
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
