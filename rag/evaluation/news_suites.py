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

Each suite has its own module (:mod:`rag.evaluation.news_followups`, :mod:`rag.evaluation.news_conflicts`,
:mod:`rag.evaluation.news_timeline`), and what they share is in :mod:`rag.evaluation.news_shared`. This
module is the front door: :func:`run_news_eval` checks the options, loads the suite's data and writes the
report; :func:`cmd_news_eval` is the command. It re-exports the suites' runners, :func:`rag.notices.evidence_for`
and the report writers, so imports from ``rag.evaluation.news_suites`` keep working.

Reports go to ``<out>/<suite>-<timestamp>.json/.md`` and ``<suite>-latest.*``; ``--check`` compares
the flat metrics with ``eval/thresholds.json``'s entry for the suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.evaluation.news_conflicts import run_conflicts
from rag.evaluation.news_data import NEWS_SUITES, load_conflicts, load_followups, load_timeline
from rag.evaluation.news_followups import run_followups
from rag.evaluation.news_shared import render_markdown, write_report
from rag.evaluation.news_timeline import run_timeline
from rag.notices import evidence_for
from rag.pipeline import Sanad
from rag.types import Article

logger = logging.getLogger(__name__)


def dated_articles(sanad: Sanad, fallback: Mapping[str, str]) -> dict[str, Article]:
    """The indexed articles; those without a publication date take the one ``eval/timeline.jsonl`` gives."""
    out = {}
    for doc_id, article in sanad.retriever.index.articles.items():
        if not article.published and doc_id in fallback:
            article = dataclasses.replace(article, published=fallback[doc_id])
        out[doc_id] = article
    return out


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
    from rag.evaluation.indexes import ensure_corpus_index
    from rag.evaluation.thresholds import check_thresholds

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
    from rag.evaluation.runner import print_report
    from rag.evaluation.thresholds import load_thresholds

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
    "render_markdown",
    "run_conflicts",
    "run_followups",
    "run_news_eval",
    "run_timeline",
    "write_report",
]
