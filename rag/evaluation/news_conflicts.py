"""``sanad eval --suite conflicts``: conflict detection and the answers' notice, scored on hand-written data.

For each question of ``eval/conflicts.jsonl`` the evidence is chosen (the pipeline's evidence selection
when present, else the best sentences of the retrieved passages: :func:`rag.notices.evidence_for`) and
:class:`rag.conflicts.ConflictDetector` runs on it; also on the gold sides' sentences alone, which
separates detection from retrieval. Scored: conflict questions detected, with both values, both dates
and both citations (articles) right; agreeing questions falsely flagged. With ``--answers N`` the
answers are checked for naming both values and both citation numbers.

Its own module because this suite shares nothing with the followups and timeline suites but the helpers
in :mod:`rag.evaluation.news_shared`; :func:`rag.evaluation.news_suites.run_news_eval` loads the data and
calls :func:`run_conflicts`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rag.answer_types import Evidence
from rag.chunking import sentence_spans
from rag.conflicts import ConflictDetector
from rag.dates import find_dates
from rag.errors import SanadError
from rag.evaluation import metrics as M
from rag.evaluation.news_data import ConflictItem
from rag.evaluation.news_shared import date_match, group_means
from rag.notices import evidence_for
from rag.pipeline import Sanad
from rag.types import Article


def run_conflicts(
    sanad: Sanad, items: Sequence[ConflictItem], articles: Mapping[str, Article], *, answers_n: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    detector = ConflictDetector()
    rows = []
    for item in items:
        row: dict[str, Any] = {
            "id": item.id,
            "lang": item.lang,
            "question": item.question,
            "conflict": item.conflict,
            "kind": item.kind,
        }
        gold_ev = []
        for i, side in enumerate(item.sides, 1):
            article = articles[side.doc_id]
            at = M.locate_quote(article.text, side.evidence)
            s, e = _sentence_of(article, at[0]) if at else (0, 0)
            gold_ev.append(
                Evidence(
                    n=i,
                    doc_id=side.doc_id,
                    chunk_id="",
                    title=article.title,
                    text=article.text[s:e],
                    start=s,
                    end=e,
                    published=article.published,
                    source=article.source,
                )
            )
        for source, evidence in (("gold", tuple(gold_ev)), ("retrieved", evidence_for(sanad, item.question, articles))):
            t = time.perf_counter()
            found = detector.run(item.question, evidence, articles)
            row[f"{source}.seconds"] = time.perf_counter() - t
            row[f"{source}.flagged"] = float(bool(found))
            row[f"{source}.conflicts"] = [c.to_dict() for c in found]
            if source == "retrieved":
                row["retrieved.sides_in_evidence"] = M.mean(
                    float(any(ev.doc_id == s.doc_id and M.locate_quote(ev.text, s.evidence) for ev in evidence))
                    for s in item.sides
                )
                row["retrieved.evidence"] = [{"n": e.n, "doc_id": e.doc_id, "text": e.text} for e in evidence]
            if item.conflict:
                checks = [_side_found(s, found[0], articles) for s in item.sides] if found else []
                for key in ("value", "date", "citation"):
                    row[f"{source}.{key}s"] = float(bool(checks) and all(c[key] for c in checks))
                row[f"{source}.complete"] = float(bool(checks) and all(all(c.values()) for c in checks))
            else:
                row[f"{source}.false_flag"] = float(bool(found))
        rows.append(row)
    metrics: dict[str, Any] = {}
    conflict = [r for r in rows if r["conflict"]]
    agree = [r for r in rows if not r["conflict"]]
    for source in ("gold", "retrieved"):
        keys = {f"{source}.{k}": k for k in ("flagged", "values", "dates", "citations", "complete")}
        metrics.update(group_means(conflict, keys, f"{source}.conflict"))
        metrics.update(group_means(agree, {f"{source}.false_flag": "false_flag"}, f"{source}.agree"))
    metrics["retrieved.conflict.all.sides_in_evidence"] = M.mean(
        r.get("retrieved.sides_in_evidence") for r in rows if r["conflict"]
    )
    if answers_n:
        metrics.update(_conflict_answers(sanad, items[:answers_n] if answers_n < len(items) else items, rows))
    return metrics, rows


def _conflict_answers(sanad: Sanad, items: Sequence[ConflictItem], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Ask each question; the answer must name both values and cite both sides (conflict questions)."""
    from rag.evaluation.answer_eval import warm_up

    warm_up(sanad)
    scored = []
    for item in items:
        row = next(r for r in rows if r["id"] == item.id)
        try:
            answer = sanad.ask(item.question)
        except SanadError as exc:
            row["answer"] = {"error": str(exc)}
            continue
        conflicts = list(getattr(answer, "conflicts", ()) or ())
        cited_docs = {c.doc_id for c in answer.citations}
        text = answer.answer
        both_values = all(any(M.contains_answer(text, [v]) for v in s.values) for s in item.sides)
        both_cited = all(s.doc_id in cited_docs for s in item.sides)
        both_dates = all(bool(s.date) and s.date in text for s in item.sides)  # the notice writes ISO dates
        complete = both_values and both_cited and both_dates
        row["answer"] = {
            "text": text,
            "refused": answer.refused,
            "conflicts": [c.to_dict() for c in conflicts],
            "both_values": both_values,
            "both_cited": both_cited,
            "both_dates": both_dates,
        }
        scored.append(
            {
                "lang": item.lang,
                "conflict": item.conflict,
                "both_values": float(both_values),
                "both_cited": float(both_cited),
                "both_dates": float(both_dates),
                "complete": float(complete),
                "flagged": float(bool(conflicts)),
            }
        )
    out: dict[str, Any] = {}
    out.update(
        group_means(
            [s for s in scored if s["conflict"]],
            ["both_values", "both_dates", "both_cited", "complete", "flagged"],
            "answers.conflict",
        )
    )
    out.update(group_means([s for s in scored if not s["conflict"]], ["flagged"], "answers.agree"))
    return out


def _side_found(side: Any, conflict: Any, articles: Mapping[str, Article]) -> dict[str, bool]:
    """Whether ``conflict`` names this gold side: its value, with a date and a citation that are right.

    The value may come from another article than the gold side's when that article states it too
    (Sudani is named prime minister in three articles): the citation is right when the cited sentence
    holds the value, and the date is right when it is the gold side's date (same article) or, for
    another article, the date that article gives for it (a date written in the cited sentence, else
    its publication date).
    """
    values = [v for v in conflict.values if any(_value_match(g, v) for g in side.values)]
    cited = [
        v
        for v in values
        if any(
            _value_match(g, type(v)(**{**v.to_dict(), "value": v.quote, "normalized": v.normalized}))
            for g in side.values
        )
        or v.doc_id == side.doc_id
    ]

    def date_ok(v: Any) -> bool:
        if v.doc_id == side.doc_id:
            return date_match(side.date, v.date)
        own = {m.value for m in find_dates(v.quote, articles[v.doc_id].published or None)}
        return bool(v.date) and (v.date in own or v.date == articles[v.doc_id].published)

    return {"value": bool(values), "date": any(date_ok(v) for v in cited), "citation": bool(cited)}


def _value_match(gold: str, value: Any) -> bool:
    from rag.dates import fold

    g = fold(gold)[0].replace(",", "")
    return g in fold(value.value)[0].replace(",", "") or g in fold(value.normalized)[0].replace(",", "")


def _sentence_of(article: Article, start: int) -> tuple[int, int]:
    for s, e, _ in sentence_spans(article.text):
        if s <= start < e:
            return s, e
    return start, start


__all__ = ["run_conflicts"]
