"""``sanad eval --suite followups|conflicts|timeline``: the news features, scored on hand-written data.

* **followups** (``eval/followups.jsonl``): each follow-up is rewritten (rules, the model, or both:
  ``--rewrite``), and scored without the LLM on how much of the hand-written standalone question the
  rewrite recovers (``rewrite.<method>.entity_recall``: the places, people, organisations and years
  of the gold form found in the rewrite) and on retrieval with the rewritten question against the raw
  follow-up and the gold form (``retrieval.<raw|rules|model|gold>.<lang>.hit@1`` …). With
  ``--answers N`` the last turn is answered like any seeds question (with the history when the
  pipeline takes one) and scored the same way: accepted, citations, refusal of unanswerable ones.
* **conflicts** (``eval/conflicts.jsonl``): for each question the evidence is chosen (the pipeline's
  evidence selection when present, else the best sentences of the retrieved passages) and
  :class:`rag.conflicts.ConflictDetector` runs on it; also on the gold sides' sentences alone, which
  separates detection from retrieval. Scored: conflict questions detected, with both values, both
  dates and both citations (articles) right; agreeing questions falsely flagged. With ``--answers N``
  the answers are checked for naming both values and both citation numbers.
* **timeline** (``eval/timeline.jsonl``): every dated event found in the indexed articles against the
  hand-written list (``extraction``: precision, recall, and the share of found sentences dated right),
  and the timeline of each topic (retrieval + :class:`rag.timeline.TimelineBuilder`) against the events
  that topic should return.

Reports go to ``<out>/<suite>-<timestamp>.json/.md`` and ``<suite>-latest.*``; ``--check`` compares
the flat metrics with ``eval/thresholds.json``'s entry for the suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.chunking import sentence_spans
from rag.conflicts import ConflictDetector
from rag.conversation import ModelRewriter, RuleRewriter
from rag.dates import find_dates, period
from rag.entities import find_entities
from rag.errors import InputError, SanadError
from rag.evaluation import metrics as M
from rag.evaluation.news_data import (
    NEWS_SUITES,
    ConflictItem,
    FollowupItem,
    TimelineData,
    load_conflicts,
    load_followups,
    load_timeline,
)
from rag.notices import evidence_for
from rag.pipeline import Sanad
from rag.textnorm import tokenize
from rag.timeline import TimelineBuilder
from rag.types import Answer, Article, Evidence, Timeline, Turn

logger = logging.getLogger(__name__)

#: Passages retrieved per topic for timelines (conflict evidence: rag.notices.evidence_for).
TIMELINE_PASSAGES = 20


# -- shared ------------------------------------------------------------------------------------------
def dated_articles(sanad: Sanad, fallback: Mapping[str, str]) -> dict[str, Article]:
    """The indexed articles; those without a publication date take the one ``eval/timeline.jsonl`` gives."""
    out = {}
    for doc_id, article in sanad.retriever.index.articles.items():
        if not article.published and doc_id in fallback:
            article = dataclasses.replace(article, published=fallback[doc_id])
        out[doc_id] = article
    return out


def _sentence_of(article: Article, start: int) -> tuple[int, int]:
    for s, e, _ in sentence_spans(article.text):
        if s <= start < e:
            return s, e
    return start, start


def _ask(sanad: Sanad, question: str, history: Sequence[Any], rewritten: str) -> Answer:
    """``sanad.ask`` with the history when the pipeline takes one; else the rewritten question alone."""
    ask: Any = sanad.ask
    if "history" in inspect.signature(ask).parameters:
        return ask(question, history=tuple(history))
    return ask(rewritten)


def _group_means(
    rows: Sequence[dict[str, Any]], keys: Mapping[str, str] | Sequence[str], prefix: str
) -> dict[str, float | None]:
    """``{prefix.<ar|en|all>.<name>: mean}`` of each row field (``keys``: field → metric name, or field names)."""
    names = dict(keys) if isinstance(keys, Mapping) else {k: k for k in keys}
    out: dict[str, float | None] = {}
    for group in ("ar", "en", "all"):
        chosen = [r for r in rows if group in ("all", r["lang"])]
        if not chosen:
            continue
        out[f"{prefix}.{group}.n"] = len(chosen)
        for key, name in names.items():
            out[f"{prefix}.{group}.{name}"] = M.mean(r.get(key) for r in chosen)
    return out


# -- followups ---------------------------------------------------------------------------------------
def run_followups(
    sanad: Sanad,
    items: Sequence[FollowupItem],
    *,
    methods: Sequence[str] = ("rules",),
    answers_n: int = 0,
    show_progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rewriters: dict[str, Any] = {"rules": RuleRewriter()}
    if "model" in methods:
        sanad.load(llm=True)
        rewriters["model"] = ModelRewriter(sanad.generator, seed=sanad.config.seed)
    rows = []
    for item in items:
        row: dict[str, Any] = {
            "id": item.id,
            "lang": item.lang,
            "question": item.question,
            "standalone": item.standalone,
            "answerable": item.qa.answerable,
            "rewrites": {},
        }
        gold_keys = _keys(item.standalone)
        queries = {"raw": item.question, "gold": item.standalone}
        for method in methods:
            turns = _rewritten_turns(rewriters[method], item.turns)
            t = time.perf_counter()
            rw = rewriters[method].run(item.question, turns)
            seconds = time.perf_counter() - t
            got = _keys(rw.question)
            row["rewrites"][method] = {
                "question": rw.question,
                "reason": rw.reason,
                "method": rw.method,
                "seconds": round(seconds, 4),
            }
            row[f"{method}.entity_recall"] = len(gold_keys & got) / len(gold_keys) if gold_keys else 1.0
            row[f"{method}.exact"] = float(_norm(rw.question) == _norm(item.standalone))
            queries[method] = rw.question
        if item.qa.answerable:
            for name, query in queries.items():
                hits = sanad.search(query, k=10)
                scores = M.retrieval_scores([h.doc_id for h in hits], item.qa.gold_doc_ids) or {}
                for key in ("hit@1", "recall@3", "mrr"):
                    row[f"retrieval.{name}.{key}"] = scores.get(key)
        rows.append(row)
    metrics: dict[str, Any] = {}
    for method in methods:
        metrics.update(
            _group_means(
                rows, {f"{method}.entity_recall": "entity_recall", f"{method}.exact": "exact"}, f"rewrite.{method}"
            )
        )
    answerable = [r for r in rows if r["answerable"]]
    for name in ("raw", *methods, "gold"):
        metrics.update(
            _group_means(
                answerable, {f"retrieval.{name}.{k}": k for k in ("hit@1", "recall@3", "mrr")}, f"retrieval.{name}"
            )
        )
    if answers_n:
        metrics.update(_followup_answers(sanad, _balanced(items, answers_n), rows, methods))
    return metrics, rows


def _balanced(items: Sequence[FollowupItem], n: int) -> list[FollowupItem]:
    """The first ``n`` items taking the languages in turn (the file lists English first, then Arabic)."""
    by_lang: dict[str, list[FollowupItem]] = {}
    for item in items:
        by_lang.setdefault(item.lang, []).append(item)
    out: list[FollowupItem] = []
    queues = [list(q) for q in by_lang.values()]
    while len(out) < min(n, len(items)):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def _followup_answers(
    sanad: Sanad, chosen: Sequence[FollowupItem], rows: list[dict[str, Any]], methods: Sequence[str]
) -> dict[str, Any]:
    """Answer the last turn of each conversation with its history, once per rewrite method.

    ``answers.<method>.<group>.<metric>`` for each method; ``answers.<group>.<metric>`` repeats the
    configured method's (``SanadConfig.rewrite``; the first method when it is not among them).
    """
    from rag.evaluation.runner import aggregate_answers, evidence_spans, score_answer, warm_up

    warm_up(sanad)
    articles = sanad.retriever.index.articles
    metrics: dict[str, Any] = {}
    default = sanad.config.rewrite if sanad.config.rewrite in methods else methods[0]
    # A conversation whose follow-up two methods rewrite alike gets the same answer (temperature 0, fixed
    # seed): it is answered once and the record reused, so comparing methods costs only where they differ.
    done: dict[tuple[str, str], tuple[dict, Answer]] = {}
    for method in methods:
        asker = (
            sanad
            if method == sanad.config.rewrite
            else Sanad(sanad.config.with_overrides(rewrite=method), embedder=sanad.embedder, generator=sanad.generator)
        )
        records: dict[str, dict] = {}
        t0 = time.perf_counter()
        reused = 0
        for item in chosen:
            row = next(r for r in rows if r["id"] == item.id)
            rewritten = row["rewrites"].get(method, {}).get("question", item.question)
            spans, _ = evidence_spans(item.qa, articles)
            try:
                key = (item.id, asker.rewrite(item.question, item.turns).question)
                if key in done:
                    records[item.id], answer = done[key]
                    reused += 1
                else:
                    answer = _ask(asker, item.question, item.turns, rewritten)
                    records[item.id] = {"answer": answer.to_dict(), "scores": score_answer(item.qa, answer, spans)}
                    done[key] = (records[item.id], answer)
            except SanadError as exc:
                records[item.id] = {"error": str(exc), "scores": {"refused": False}}
                continue
            row.setdefault("answers", {})[method] = {
                "text": answer.answer,
                "refused": answer.refused,
                "rewritten": getattr(answer, "rewritten", ""),
                **records[item.id]["scores"],
            }
            if method == default:
                row["answer"] = row["answers"][method]
        metrics[f"answers.{method}.reused"] = reused
        metrics[f"answers.{method}.seconds"] = time.perf_counter() - t0
        for group, values in aggregate_answers([i.qa for i in chosen], records).items():
            for key, value in values.items():
                metrics[f"answers.{method}.{group}.{key}"] = value
                if method == default:
                    metrics[f"answers.{group}.{key}"] = value
    return metrics


def _rewritten_turns(rewriter: Any, turns: Sequence[Turn]) -> tuple[Turn, ...]:
    """The earlier turns as the chat would have kept them: each made self-contained in its turn."""
    out: list[Turn] = []
    for turn in turns:
        rw = rewriter.run(turn.question, tuple(out)) if out else None
        out.append(dataclasses.replace(turn, rewritten=rw.question if rw and rw.changed else ""))
    return tuple(out)


def _keys(text: str) -> set[str]:
    import re

    return {m.key for m in find_entities(text) if m.type in ("place", "person", "org")} | set(
        re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", text)
    )


def _norm(text: str) -> str:
    return " ".join(tokenize(text, stem=False, drop_stopwords=False))


# -- conflicts ---------------------------------------------------------------------------------------
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
            return _date_match(side.date, v.date)
        own = {m.value for m in find_dates(v.quote, articles[v.doc_id].published or None)}
        return bool(v.date) and (v.date in own or v.date == articles[v.doc_id].published)

    return {"value": bool(values), "date": any(date_ok(v) for v in cited), "citation": bool(cited)}


def _value_match(gold: str, value: Any) -> bool:
    from rag.dates import fold

    g = fold(gold)[0].replace(",", "")
    return g in fold(value.value)[0].replace(",", "") or g in fold(value.normalized)[0].replace(",", "")


def _date_match(gold: str, got: str) -> bool:
    if not got:
        return False
    if gold == got:
        return True
    a, b = period(gold), period(got)
    if a is None or b is None:
        return False
    return (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])


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
        metrics.update(_group_means(conflict, keys, f"{source}.conflict"))
        metrics.update(_group_means(agree, {f"{source}.false_flag": "false_flag"}, f"{source}.agree"))
    metrics["retrieved.conflict.all.sides_in_evidence"] = M.mean(
        r.get("retrieved.sides_in_evidence") for r in rows if r["conflict"]
    )
    if answers_n:
        metrics.update(_conflict_answers(sanad, items[:answers_n] if answers_n < len(items) else items, rows))
    return metrics, rows


def _conflict_answers(sanad: Sanad, items: Sequence[ConflictItem], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Ask each question; the answer must name both values and cite both sides (conflict questions)."""
    from rag.evaluation.runner import warm_up

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
        _group_means(
            [s for s in scored if s["conflict"]],
            ["both_values", "both_dates", "both_cited", "complete", "flagged"],
            "answers.conflict",
        )
    )
    out.update(_group_means([s for s in scored if not s["conflict"]], ["flagged"], "answers.agree"))
    return out


# -- timeline ----------------------------------------------------------------------------------------
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
                    if g.id not in used and g.granularity == ev.granularity and _date_match(g.date, ev.date)
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
    metrics.update(_group_means(topic_rows, ["precision", "recall", "f1"], "topics"))
    return metrics, rows


# -- report ------------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def render_markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# sanad eval --suite {report['suite']}",
        "",
        f"Run {report['run']['created_at']} — "
        f"{report['run']['n_items']} items, {report['run']['seconds']:.1f} s. {report['run']['note']}",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in report["metrics"].items()]
    check = report.get("check")
    if check is not None:
        lines += ["", "## Threshold check", ""]
        lines += (
            [f"**FAILED** ({len(check['failures'])}):", ""] + [f"- {f}" for f in check["failures"]]
            if check["failures"]
            else [f"Passed: all {len(check['passed'])} measured thresholds met."]
        )
    return "\n".join(lines)


def write_report(report: dict[str, Any], out_dir: Path) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    files = []
    body = json.dumps(
        {k: v for k, v in report.items() if k not in ("markdown", "files")}, ensure_ascii=False, indent=1, default=str
    )
    for base in (out_dir / f"{report['suite']}-{stamp}", out_dir / f"{report['suite']}-latest"):
        for suffix, text in ((".json", body), (".md", report["markdown"] + "\n")):
            path = base.with_suffix(suffix)
            tmp = path.with_suffix(suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            files.append(str(path))
    return files


def run_news_eval(
    sanad: Sanad,
    suite: str,
    *,
    answers_n: int = 0,
    rewrite: str = "rules",
    out_dir: Path | str = Path("eval/reports"),
    thresholds: Mapping[str, Any] | None = None,
    write: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Run one news suite (``followups``, ``conflicts``, ``timeline``) and return (and write) its report."""
    from rag.evaluation.runner import check_thresholds, ensure_corpus_index

    if suite not in NEWS_SUITES:
        raise InputError(f"unknown news suite {suite!r}; choose one of {', '.join(NEWS_SUITES)}")
    if rewrite not in ("rules", "model", "both"):
        raise InputError(f"--rewrite {rewrite!r} is not valid; choose rules, model or both")
    if answers_n < 0:
        raise InputError(f"--answers must be 0 or more, got {answers_n}")
    t0 = time.perf_counter()
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    ensure_corpus_index(sanad, show_progress=False)
    fallback = load_timeline().published
    articles = dated_articles(sanad, fallback)
    undated = sorted(d for d, a in sanad.retriever.index.articles.items() if not a.published and d in fallback)
    note = (
        f"Publication dates from eval/timeline.jsonl for {len(undated)} indexed article(s) without one."
        if undated
        else ""
    )
    if suite == "followups":
        items = load_followups()
        methods = ("rules", "model") if rewrite == "both" else (rewrite,)
        metrics, rows = run_followups(sanad, items, methods=methods, answers_n=answers_n)
        n = len(items)
    elif suite == "conflicts":
        citems = load_conflicts()
        _check_docs(articles, {s.doc_id for i in citems for s in i.sides})
        metrics, rows = run_conflicts(sanad, citems, articles, answers_n=answers_n)
        n = len(citems)
    else:
        data = load_timeline()
        _check_docs(articles, {e.doc_id for e in data.events})
        metrics, rows = run_timeline(sanad, data, articles)
        n = len(data.events) + len(data.topics)
    report: dict[str, Any] = {
        "suite": suite,
        "metrics": metrics,
        "items": rows,
        "run": {
            "created_at": created,
            "command": command,
            "n_items": n,
            "note": note,
            "index_dir": str(sanad.config.index_dir),
            "answers": answers_n,
            "rewrite": rewrite,
            "seconds": 0.0,
        },
    }
    if thresholds is not None:
        report["check"] = check_thresholds(metrics, thresholds)
    report["run"]["seconds"] = time.perf_counter() - t0
    report["markdown"] = render_markdown(report)
    report["files"] = write_report(report, Path(out_dir)) if write else []
    return report


def _check_docs(articles: Mapping[str, Article], needed: set[str]) -> None:
    missing = sorted(needed - set(articles))
    if missing:
        raise InputError(
            f"{len(missing)} article(s) of the suite are not in the index (e.g. {missing[0]}); "
            f"index the sample corpus first: sanad index data/articles"
        )


def cmd_news_eval(args: argparse.Namespace) -> int:
    """``sanad eval --suite followups|conflicts|timeline``."""
    from rag.cli import _config
    from rag.evaluation.runner import load_thresholds, print_report

    thresholds = None
    if args.check:
        thresholds = load_thresholds().get(args.suite, {})
    given = [n for n in (getattr(args, "answers", None), getattr(args, "limit", None)) if n is not None]
    report = run_news_eval(
        Sanad(_config(args)),
        args.suite,
        answers_n=min(given) if given else 0,
        rewrite=getattr(args, "rewrite", None) or "rules",
        out_dir=args.out,
        thresholds=thresholds,
        command="sanad " + " ".join(sys.argv[1:]),
    )
    return print_report(report, check=args.check)


__all__ = [
    "cmd_news_eval",
    "dated_articles",
    "evidence_for",
    "run_conflicts",
    "run_followups",
    "run_news_eval",
    "run_timeline",
]
