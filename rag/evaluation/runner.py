"""``sanad eval``: score retrieval, answers, citations and refusals on a suite, and write a report.

Suites: ``seeds`` (the hand-written questions over the seed articles, asked against the
configured index), ``xquad`` and ``arcd`` (external benchmarks, each indexed into its own
folder), or a path to a Q&A ``.jsonl`` file in the seeds format.

For each run, ``<out>/<suite>-<timestamp>.json`` holds every per-question record,
``.md`` the summary tables (also printed), ``.png`` a chart of recall@k; the same three
are copied to ``<suite>-latest.*`` (:mod:`rag.evaluation.report`).
``--check`` compares the metrics with ``eval/thresholds.json`` (:mod:`rag.evaluation.thresholds`) and exits 1
listing each one below its threshold.

This module is the orchestrator: :func:`run_eval` builds or checks the index
(:mod:`rag.evaluation.indexes`), then runs each stage from its own module (retrieval,
:mod:`rag.evaluation.retrieval_eval`; evidence selection without the LLM,
:mod:`rag.evaluation.evidence_eval`; answers with the LLM, :mod:`rag.evaluation.answer_eval`, scored
in :mod:`rag.evaluation.scoring`) and puts the report together; :func:`cmd_eval` is ``sanad eval``
and :func:`print_report` prints every suite's report (the injection and news suites' too).

Example:
    >>> from rag import Sanad, SanadConfig
    >>> report = run_eval(Sanad(SanadConfig()), "seeds", answers_n=0, out_dir=Path("/tmp/r"))  # doctest: +SKIP
    >>> report["metrics"]["retrieval.hybrid.ar.recall@3"]                                    # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.evaluation import metrics as M
from rag.evaluation.answer_eval import answer_all, answer_sample, warm_up
from rag.evaluation.datasets import SEED, Suite, load_suite
from rag.evaluation.evidence_eval import Selector, evidence_stage, suite_sentences
from rag.evaluation.indexes import ensure_corpus_index, ensure_suite_index
from rag.evaluation.report import render_markdown, write_report
from rag.evaluation.retrieval_eval import RETRIEVAL_K, aggregate_retrieval, retrieve_all
from rag.evaluation.scoring import aggregate_answers, aggregate_breakdown
from rag.evaluation.thresholds import check_thresholds, flatten_metrics, load_thresholds
from rag.pipeline import Sanad
from rag.types import RETRIEVAL_MODES

logger = logging.getLogger(__name__)


# -- the library entry point -----------------------------------------------------------------------
def run_eval(
    sanad: Sanad,
    suite: str | Suite = "seeds",
    modes: Sequence[str] | None = None,
    answers_n: int | None = None,
    out_dir: Path | str = Path("eval/reports"),
    *,
    thresholds: Mapping[str, Any] | None = None,
    xquad_index_dir: Path | None = None,
    batch_queries: bool = True,
    seed: int = SEED,
    command: str = "",
    show_progress: bool = True,
    write: bool = True,
    evidence_n: int | None = None,
    selector: Selector | None = None,
) -> dict[str, Any]:
    """Evaluate ``sanad`` on a suite and write the report files.

    Args:
        sanad: the pipeline to evaluate (its config names the index for seeds/custom suites).
        suite: ``"seeds"``, ``"xquad"``, a path to a Q&A ``.jsonl`` file, or a loaded :class:`Suite`.
        modes: retrieval modes to score (default: all three).
        answers_n: questions to answer with the LLM (``0``: none, and the LLM is never loaded;
            ``None``: all for seeds/custom suites, :data:`XQUAD_DEFAULT_ANSWERS` for XQuAD).
        out_dir: report folder; the XQuAD index goes to ``out_dir/xquad-index`` unless
            ``xquad_index_dir`` is given.
        thresholds: ``{metric: bound}`` for this suite; when given, ``report["check"]`` holds the result.
        batch_queries: embed all questions in one batch before searching.
        evidence_n: questions whose evidence selection is scored without the LLM (``0``: none; ``None``:
            all for seeds/custom suites, :data:`EVIDENCE_DEFAULT` for XQuAD / ARCD).
        selector: the evidence selector to score (default: :func:`~rag.evaluation.evidence_eval.load_selector`).

    Returns:
        The report: ``metrics`` (flat), ``retrieval``, ``answers``, ``latency`` tables,
        ``questions`` (per-question records), ``run`` info, ``markdown``, and ``files``.
    """
    t_start = time.perf_counter()
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    suite_obj = suite if isinstance(suite, Suite) else load_suite(suite)
    modes = list(dict.fromkeys(modes or RETRIEVAL_MODES))
    bad = [m for m in modes if m not in RETRIEVAL_MODES]
    if bad:
        raise InputError(f"unknown retrieval mode(s) {bad}; choose from {', '.join(RETRIEVAL_MODES)}")
    if answers_n is not None and answers_n < 0:
        raise InputError(f"answers_n={answers_n} must be 0 or more")
    out_dir = Path(out_dir)
    items = list(suite_obj.items)

    if suite_obj.articles:
        target = Sanad(sanad.config, embedder=sanad.embedder, generator=sanad._generator)  # noqa: SLF001 - share the LLM
        target = ensure_suite_index(
            target, suite_obj, Path(xquad_index_dir or out_dir / f"{suite_obj.name}-index"), show_progress=show_progress
        )
    else:
        ensure_corpus_index(sanad, show_progress=show_progress)
        target = sanad
    index = target.retriever.index
    gold = {d for it in items for d in it.gold_doc_ids}
    absent = sorted(gold - set(index.articles))
    if absent:
        raise InputError(
            f"{len(absent)} gold article(s) of suite {suite_obj.name!r} are not in the index "
            f"{target.config.index_dir} (e.g. {', '.join(absent[:3])}); index the articles they come "
            f"from (`sanad index data/articles`) or point --index-dir at an index that holds them"
        )

    # Retrieval: every question, every mode.
    t = time.perf_counter()
    results, retrieval_info = retrieve_all(
        target, items, modes, batch_queries=batch_queries, show_progress=show_progress
    )
    retrieval_seconds = time.perf_counter() - t
    retrieval = aggregate_retrieval(items, results)

    # Evidence selection, without the LLM.
    sentences = suite_sentences(suite_obj)
    evidence = evidence_stage(target, items, suite_obj, evidence_n, selector, sentences, seed, show_progress)

    # Answers: a sample, with the LLM.
    sample = answer_sample(items, answers_n, suite_obj, seed)
    records: dict[str, dict] = {}
    missing: list[str] = []
    t = time.perf_counter()
    warmup_s = None
    if sample:
        warmup_s = warm_up(target)
        records, missing = answer_all(target, sample, show_progress=show_progress, sentences=sentences)
        for line in missing:
            logger.warning("evidence quote not found in the indexed article: %s", line)
    answer_seconds = time.perf_counter() - t
    answers = aggregate_answers(items, records)
    breakdown = {field: aggregate_breakdown(items, records, field) for field in ("type", "answer_type")}

    latency_samples: list[dict[str, float]] = []
    for i in range(len(items)):
        latency_samples.append({f"search.{m}": results[m][i]["seconds"] for m in modes})
    for rec in records.values():
        latency_samples.append({f"answer.{k}": v for k, v in rec.get("timings", {}).items()})
    latency = M.latency_summary(latency_samples)
    flat = flatten_metrics(retrieval, answers, latency, evidence.get("table"), breakdown)

    questions = []
    for i, it in enumerate(items):
        row = it.to_dict()
        row["retrieval"] = {
            m: {
                "doc_ids": results[m][i]["doc_ids"],
                "chunk_ids": results[m][i]["chunk_ids"],
                "seconds": round(results[m][i]["seconds"], 5),
                "scores": M.retrieval_scores(results[m][i]["doc_ids"], it.gold_doc_ids),
            }
            for m in modes
        }
        row["answer"] = records.get(it.id)
        row["evidence"] = evidence.get("records", {}).get(it.id)
        questions.append(row)

    by_lang: dict[str, int] = {}
    for it in items:
        by_lang[it.lang] = by_lang.get(it.lang, 0) + 1
    llm = ""
    if sample:
        cfg = target.config
        llm = f"{cfg.llm_backend}:{cfg.llm_model}"
    sampling = ""
    if sample and len(sample) < len(items):
        sampling = f"seeded sample (random.Random({seed})) of {len(sample)}: " + (
            "whole question ids, each asked in Arabic and English"
            if suite_obj.name == "xquad"
            else "stratified by language and type"
        )
    report: dict[str, Any] = {
        "suite": suite_obj.name,
        "metrics": flat,
        "retrieval": retrieval,
        "answers": answers,
        "answer_breakdown": breakdown,
        "evidence": {k: v for k, v in evidence.items() if k != "records"},
        "latency": latency,
        "run": {
            "created_at": created,
            "command": command,
            "source": suite_obj.source,
            "suite_info": suite_obj.info,
            "n_questions": len(items),
            "by_lang": by_lang,
            "n_answerable": sum(it.answerable for it in items),
            "modes": modes,
            "k": RETRIEVAL_K,
            "index_dir": str(target.config.index_dir),
            "index": {
                "n_articles": index.manifest.n_articles,
                "n_chunks": index.manifest.n_chunks,
                "corpus_fingerprint": index.manifest.corpus_fingerprint,
            },
            "embedding_model": target.embedder.fingerprint,
            "retrieval": retrieval_info,
            "answers": {
                "n": len(sample),
                "ids": [it.id for it in sample],
                "mode": target.config.mode,
                "llm": llm,
                "sampling": sampling,
                "evidence_not_found": missing,
            },
            "config": target.config.to_dict(),
            "seconds": 0.0,
            "retrieval_seconds": retrieval_seconds,
            "answer_seconds": answer_seconds,
            "llm_load_and_warmup_s": warmup_s,
        },
        "questions": questions,
    }
    if thresholds is not None:
        report["check"] = check_thresholds(flat, thresholds)
    report["run"]["seconds"] = time.perf_counter() - t_start
    report["markdown"] = render_markdown(report, None)
    report["files"] = write_report(report, out_dir) if write else []
    return report


# -- the CLI entry point ---------------------------------------------------------------------------
def _answers_n(args: argparse.Namespace) -> int | None:
    given = [n for n in (getattr(args, "answers", None), getattr(args, "limit", None)) if n is not None]
    for n in given:
        if n < 0:
            raise InputError(f"--answers/--limit must be 0 or more, got {n}")
    return min(given) if given else None


def cmd_eval(args: argparse.Namespace) -> int:
    """``sanad eval``: run a suite, print the Markdown summary, exit 1 on a failed ``--check``."""
    from rag.cli import _config
    from rag.evaluation.news_data import NEWS_SUITES

    if args.suite == "injection":  # hostile articles must not be obeyed (issue #10)
        from rag.evaluation.injection import cmd_injection_eval

        return cmd_injection_eval(args)
    if args.suite in NEWS_SUITES:  # follow-ups, conflicts, timeline: their own runner (issue #14)
        from rag.evaluation.news_suites import cmd_news_eval

        return cmd_news_eval(args)
    config = _config(args)
    suite = load_suite(args.suite)
    thresholds = None
    if args.check:
        all_thresholds = load_thresholds()
        thresholds = all_thresholds.get(suite.name)
        if thresholds is None:
            print(
                f"sanad: no thresholds for suite {suite.name!r} in eval/thresholds.json; nothing to check",
                file=sys.stderr,
            )
            thresholds = {}
    command = "sanad " + " ".join(sys.argv[1:]) if sys.argv and Path(sys.argv[0]).name == "sanad" else ""
    evidence_n = getattr(args, "evidence", None)
    if evidence_n is not None and evidence_n < 0:
        raise InputError(f"--evidence must be 0 or more, got {evidence_n}")
    report = run_eval(
        Sanad(config),
        suite,
        modes=args.modes,
        answers_n=_answers_n(args),
        out_dir=args.out,
        thresholds=thresholds,
        command=command or f"sanad eval --suite {args.suite}",
        evidence_n=evidence_n,
    )
    return print_report(report, check=args.check)


def print_report(report: Mapping[str, Any], *, check: bool) -> int:
    """Print a suite's report (markdown to stdout, written files and the threshold check to stderr); the
    command's exit status: 1 when ``check`` and a metric is past its threshold, else 0."""
    print(report["markdown"])
    for path in report["files"]:
        print(f"wrote {path}", file=sys.stderr)
    if not check:
        return 0
    result = report["check"]
    if result["failures"]:
        print(f"sanad eval --check: {len(result['failures'])} metric(s) below threshold:", file=sys.stderr)
        for line in result["failures"]:
            print(f"  {line}", file=sys.stderr)
        return 1
    skipped = len(result.get("skipped", ()))
    print(
        f"sanad eval --check: passed ({len(result['passed'])} thresholds met, {skipped} not measured)", file=sys.stderr
    )
    return 0


__all__ = ["cmd_eval", "print_report", "run_eval"]
