"""Timelines: the dated events that the passages retrieved for a topic mention, ordered, each cited.

"What happened between Washington and Baghdad in 2024?" asks for a sequence, not one fact. The
:class:`TimelineBuilder` reads the sentences of the passages retrieved for the topic, finds the dates
each one writes (:func:`rag.dates.find_dates`: «يوم 15 نيسان/أبريل», «الاثنين الماضي», «31 ديسمبر/
كانون الأول 2021», «١٥ رمضان ١٤٤٥ هـ» …, relative ones resolved against the article's publication
date) and makes one :class:`~rag.answer_types.TimelineEvent` per (sentence, date). An article that
contributes no dated sentence still appears once, with its best sentence dated by its publication
date (``from_published``). Years the topic names («في 2024», "from 2014 to 2019") bound the
timeline; so can explicit ``since``/``until`` dates.

No model is involved: the dates and the sentences are the source's own, so every event can be
checked against its citation.

Example:
    >>> builder = TimelineBuilder()
    >>> timeline = builder.run("ماذا جرى بين واشنطن وبغداد في 2024؟", hits, articles)   # doctest: +SKIP
    >>> [(e.date, e.doc_id[:3]) for e in timeline.events][:2]                            # doctest: +SKIP
    [('2024-01', '001'), ('2024-04-15', '000')]
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date

from rag.answer_types import Timeline, TimelineEvent
from rag.chunking import sentence_spans
from rag.dates import GRANULARITY_ORDER, DateMention, find_dates, fold
from rag.entities import entity_keys
from rag.errors import InputError
from rag.textnorm import tokenize
from rag.types import Article, Hit

logger = logging.getLogger(__name__)

#: Sentences shorter than this many characters (captions, headings) are not events of their own.
MIN_SENTENCE_CHARS = 25


def topic_range(topic: str) -> tuple[str, str]:
    """The date bounds a topic names: «في 2024» → 2024-01-01..2024-12-31; "from 2014 to 2019" → both years.

    Example:
        >>> topic_range("What happened between Washington and Baghdad in 2024?")
        ('2024-01-01', '2024-12-31')
        >>> topic_range("التحالف الدولي بين 2014 و2019")
        ('2014-01-01', '2019-12-31')
    """
    years = sorted({int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", fold(topic)[0])})
    if not years:
        return "", ""
    return f"{years[0]:04d}-01-01", f"{years[-1]:04d}-12-31"


class TimelineBuilder:
    """Builds a :class:`~rag.answer_types.Timeline` from retrieved passages.

    Args:
        max_events: at most this many events (the best-ranked sentences are kept when there are more).
        fallback: date an article's best sentence by its publication date when none of its retrieved
            sentences writes a date.
        min_overlap: a sentence must share at least this many words (stems; dates aside) or named
            places, people and organisations (:mod:`rag.entities`, so an English topic meets Arabic
            sentences) with the topic, unless it comes from one of the three best passages.
    """

    def __init__(self, max_events: int = 40, *, fallback: bool = True, min_overlap: int = 1) -> None:
        if max_events <= 0:
            raise InputError(f"max_events={max_events} must be a positive number")
        self.max_events = max_events
        self.fallback = fallback
        self.min_overlap = min_overlap

    def run(
        self, topic: str, hits: Sequence[Hit], articles: Mapping[str, Article], *, since: str = "", until: str = ""
    ) -> Timeline:
        """The timeline of ``topic`` from ``hits`` (ranked passages) over ``articles`` (by doc id).

        ``since``/``until`` (``YYYY-MM-DD``) bound it; when both are empty, years the topic names do.
        """
        if not since and not until:
            since, until = topic_range(topic)
        lo = date.fromisoformat(since) if since else date.min
        hi = date.fromisoformat(until) if until else date.max
        terms = {t for t in tokenize(topic) if not t.isdigit()}
        keys = entity_keys(topic)
        seen: set[tuple[str, int]] = set()
        dates_cache: dict[str, list[DateMention]] = {}
        events: list[tuple[float, TimelineEvent]] = []
        best_undated: dict[str, tuple[float, TimelineEvent]] = {}
        dated_docs: set[str] = set()
        for rank, hit in enumerate(hits):
            article = articles.get(hit.doc_id)
            if article is None:
                logger.debug("hit %s names an article not in the index; skipped", hit.chunk_id)
                continue
            if article.doc_id not in dates_cache:
                dates_cache[article.doc_id] = find_dates(article.text, article.published or None)
            weight = 1.0 / (1 + rank)
            for s, e in _sentences(article, hit.chunk.start, hit.chunk.end):
                if (article.doc_id, s) in seen:
                    continue
                seen.add((article.doc_id, s))
                text = article.text[s:e]
                if len(text) < MIN_SENTENCE_CHARS or _suspect(article, s, e):
                    continue
                overlap = len(terms & set(tokenize(text))) + len(keys & entity_keys(text))
                if overlap < self.min_overlap and rank >= 3:
                    continue
                score = weight + 0.1 * overlap
                mentions = [m for m in dates_cache[article.doc_id] if s <= m.start < e]
                for m in mentions:
                    if m.last < lo or m.first > hi:
                        continue
                    dated_docs.add(article.doc_id)
                    events.append((score, _event(article, s, e, m.value, m.granularity, m.first, m.text, False, score)))
                if not mentions and self.fallback and article.published:
                    pub = date.fromisoformat(article.published)
                    if lo <= pub <= hi:
                        ev = _event(article, s, e, article.published, "day", pub, "", True, score)
                        if article.doc_id not in best_undated or score > best_undated[article.doc_id][0]:
                            best_undated[article.doc_id] = (score, ev)
        for doc_id, item in best_undated.items():
            if doc_id not in dated_docs:
                events.append(item)
        events.sort(key=lambda x: -x[0])
        kept = [ev for _, ev in events[: self.max_events]]
        kept.sort(key=lambda ev: (ev.first, GRANULARITY_ORDER.get(ev.granularity, 9), ev.doc_id, ev.start))
        numbered = tuple(TimelineEvent(**{**ev.to_dict(), "n": i}) for i, ev in enumerate(kept, 1))
        return Timeline(topic=topic, events=numbered)

    def from_articles(self, articles: Mapping[str, Article], topic: str = "") -> Timeline:
        """Every dated event in ``articles`` (no retrieval): the whole corpus as one timeline."""
        builder = TimelineBuilder(10**6, fallback=self.fallback, min_overlap=0)
        hits = [_whole(a) for a in articles.values()]
        return builder.run(topic, hits, articles)


def _sentences(article: Article, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of ``article`` that overlap ``[start, end)``, as whole sentences of the article."""
    out = []
    for s, e, _ in sentence_spans(article.text):
        if e > start and s < end:
            out.append((s, e))
        elif s >= end:
            break
    return out


def _suspect(article: Article, s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in article.suspect_spans)


def _event(
    article: Article,
    s: int,
    e: int,
    value: str,
    granularity: str,
    first: date,
    date_text: str,
    from_published: bool,
    score: float,
) -> TimelineEvent:
    return TimelineEvent(
        n=0,
        date=value,
        granularity=granularity,
        first=first.isoformat(),
        text=article.text[s:e],
        doc_id=article.doc_id,
        start=s,
        end=e,
        title=article.title,
        published=article.published,
        source=article.source,
        date_text=date_text,
        from_published=from_published,
        score=round(score, 4),
    )


def _whole(article: Article) -> Hit:
    from rag.types import Chunk

    return Hit(
        chunk=Chunk(doc_id=article.doc_id, ordinal=0, start=0, end=len(article.text), text=article.text),
        score=1.0,
        rank=1,
        title=article.title,
    )


__all__ = ["MIN_SENTENCE_CHARS", "TimelineBuilder", "topic_range"]
