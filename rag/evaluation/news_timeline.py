"""``sanad eval --suite timeline``: dated events found in the articles, scored on hand-written data.

Every dated event found in the indexed articles is matched against the hand-written list of
``eval/timeline.jsonl`` (``extraction``: precision, recall, and the share of found sentences dated
right), and the timeline of each topic (retrieval + :class:`rag.timeline.TimelineBuilder`) against the
events that topic should return (``topics.<lang>.precision|recall|f1``).

Its own module because this suite shares nothing with the followups and conflicts suites but the helpers
in :mod:`rag.evaluation.news_shared`; :func:`rag.evaluation.news_suites.run_news_eval` loads the data and
calls :func:`run_timeline`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rag.answer_types import Timeline
from rag.evaluation import metrics as M
from rag.evaluation.news_data import TimelineData
from rag.evaluation.news_shared import date_match, group_means
from rag.pipeline import Sanad
from rag.timeline import TimelineBuilder
from rag.types import Article

#: Passages retrieved per topic for timelines (conflict evidence: rag.notices.evidence_for).
TIMELINE_PASSAGES = 20


def _match_events(
    events: Sequence[Any], gold: Sequence[Any], articles: Mapping[str, Article]
) -> tuple[int, int, int, int]:
    """``(matched predicted, matched gold, sentence matches, sentence matches dated right)``.

    A predicted event matches a gold one when it is from the same article, its sentence holds the
    gold evidence quote, and its date is the gold date (or one period holds the other at the same
    granularity). Each gold event is matched at most once.
    """
    spans: dict[str, tuple[int, int] | None] = {}
    for g in gold:
        at = M.locate_quote(articles[g.doc_id].text, g.evidence) if g.doc_id in articles else None
        spans[g.id] = at
    used: set[str] = set()
    matched = same_sentence = dated_right = 0
    for ev in events:
        candidates = [
            g
            for g in gold
            if g.doc_id == ev.doc_id and (at := spans[g.id]) is not None and at[0] < ev.end and ev.start < at[1]
        ]
        if candidates:
            same_sentence += 1
        hit = next((g for g in candidates if g.id not in used and g.date == ev.date), None)
        if hit is None:
            hit = next(
                (
                    g
                    for g in candidates
                    if g.id not in used and g.granularity == ev.granularity and date_match(g.date, ev.date)
                ),
                None,
            )
        if hit is not None:
            used.add(hit.id)
            matched += 1
        if any(g.date == ev.date for g in candidates):
            dated_right += 1
    return matched, len(used), same_sentence, dated_right


def _prf(matched_pred: int, n_pred: int, matched_gold: int, n_gold: int) -> dict[str, float | None]:
    p = matched_pred / n_pred if n_pred else None
    r = matched_gold / n_gold if n_gold else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f}


def _timeline(sanad: Sanad, topic: str, articles: Mapping[str, Article]) -> Timeline:
    hits = sanad.search(topic, k=TIMELINE_PASSAGES)
    return TimelineBuilder().run(topic, hits, articles)


def run_timeline(
    sanad: Sanad, data: TimelineData, articles: Mapping[str, Article]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    corpus = {d: a for d, a in articles.items() if any(e.doc_id == d for e in data.events)}
    whole = TimelineBuilder().from_articles(corpus)
    mp, mg, same, right = _match_events(whole.events, data.events, articles)
    metrics: dict[str, Any] = {
        f"extraction.{k}": v for k, v in _prf(mp, len(whole.events), mg, len(data.events)).items()
    }
    metrics["extraction.n_events"] = len(whole.events)
    metrics["extraction.n_gold"] = len(data.events)
    metrics["extraction.date_accuracy"] = right / same if same else None
    rows: list[dict[str, Any]] = [{"id": "corpus", "events": [e.to_dict() for e in whole.events]}]
    by_id = {e.id: e for e in data.events}
    topic_rows: list[dict[str, Any]] = []
    for topic in data.topics:
        t = time.perf_counter()
        timeline = _timeline(sanad, topic.topic, articles)
        gold = [by_id[i] for i in topic.events if i in by_id]
        mp, mg, _, _ = _match_events(timeline.events, gold, articles)
        scores = _prf(mp, len(timeline.events), mg, len(gold))
        topic_rows.append({"lang": topic.lang, **scores})
        row: dict[str, Any] = {
            "id": topic.id,
            "topic": topic.topic,
            "lang": topic.lang,
            "seconds": time.perf_counter() - t,
            **scores,
            "events": [{"date": e.date, "doc_id": e.doc_id, "text": e.text[:120]} for e in timeline.events],
        }
        rows.append(row)
    metrics.update(group_means(topic_rows, ["precision", "recall", "f1"], "topics"))
    return metrics, rows


__all__ = ["TIMELINE_PASSAGES", "run_timeline"]
