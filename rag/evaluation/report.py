"""The report of a ``sanad eval`` run: its Markdown summary, its recall@k chart, and the files written.

``<out>/<suite>-<timestamp>.json`` holds every per-question record, ``.md`` the summary tables
(also printed), ``.png`` the chart; the same three are copied to ``<suite>-latest.*``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.evaluation import metrics as M
from rag.evaluation.evidence_eval import evidence_markdown
from rag.evaluation.scoring import LANG_GROUPS, answers_markdown

logger = logging.getLogger(__name__)

RETRIEVAL_COLUMNS = ("n", *(f"hit@{k}" for k in M.KS), *(f"recall@{k}" for k in M.KS), "mrr", "ndcg@10")


# -- reports ---------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_markdown(report: Mapping[str, Any], chart_name: str | None) -> str:
    run = report["run"]
    lines = [f"# Sanad evaluation: {report['suite']}", ""]
    lines += [
        f"- date: {run['created_at']}",
        f"- command: `{run['command']}`" if run.get("command") else "- command: (library call)",
        f"- questions: {run['n_questions']} ({', '.join(f'{k} {v}' for k, v in run['by_lang'].items())}; "
        f"{run['n_answerable']} answerable) from `{run['source']}`",
        f"- index: `{run['index_dir']}` ({run['index']['n_articles']} articles, {run['index']['n_chunks']} "
        f"passages), embedding model `{run['embedding_model']}`",
        f"- answers: {run['answers']['n']} question(s) asked with mode `{run['answers']['mode']}`"
        + (f", LLM `{run['answers']['llm']}`" if run["answers"]["n"] else " (LLM not loaded)")
        + (f"; {run['answers']['sampling']}" if run["answers"].get("sampling") else ""),
        f"- wall time: {run['seconds']:.1f} s (retrieval {run['retrieval_seconds']:.1f} s, answers "
        f"{run['answer_seconds']:.1f} s)",
        "",
    ]
    lines += [
        "## Retrieval",
        "",
        f"Document level over the top {run['k']} passages of `sanad.search`: a passage is relevant when "
        "its article is gold. hit@k: a gold article among the first k passages; R@k: share of the gold "
        "articles among them; MRR: 1/rank of the first gold passage; nDCG@10 on the de-duplicated article "
        "ranking. Unanswerable questions are left out.",
        "",
    ]
    header = ["mode", "lang", "n", *(f"hit@{k}" for k in M.KS), *(f"R@{k}" for k in M.KS), "MRR", "nDCG@10"]
    rows = []
    for mode, groups in report["retrieval"].items():
        for group, row in groups.items():
            rows.append([mode, group, _fmt(row["n"])] + [_fmt(row[c]) for c in RETRIEVAL_COLUMNS[1:]])
    lines += [*_table(header, rows), ""]
    if chart_name:
        lines += [f"![recall@k per mode and language]({chart_name})", ""]
    lines += ["## Answers", ""]
    if report["answers"]:
        lines += answers_markdown(report["answers"], report.get("answer_breakdown", {}))
    else:
        lines += ["Not run (`--answers 0`).", ""]
    evidence = report.get("evidence") or {}
    if evidence.get("table"):
        lines += evidence_markdown(evidence["table"], evidence["selector"], evidence["gold"], evidence["k"])
    elif evidence.get("skipped"):
        lines += ["## Evidence selection (no LLM)", "", f"Not run: {evidence['skipped']}.", ""]
    lines += [
        "## Latency",
        "",
        "`search.<mode>`: one `sanad.search` call"
        + (
            " with the question vector computed beforehand in a batch (batched embedding: "
            f"{run['retrieval']['embed_queries_per_question_s'] * 1000:.1f} ms per question)"
            if run["retrieval"].get("batch_queries")
            else ""
        )
        + "; `answer.*`: the stages of `sanad.ask` (Answer.timings).",
        "",
    ]
    rows = []
    for stage, row in report["latency"].items():
        unit, scale, digits = (
            ("tokens", 1, 0)
            if stage.endswith("_tokens")
            else ("ms", 1000, 2)
            if stage.startswith("search.")
            else ("s", 1, 2)
        )
        rows.append([stage, unit, _fmt(row["n"]), *(_fmt(row[c] * scale, digits) for c in ("mean", "p50", "p95"))])
    lines += [*_table(["stage", "unit", "n", "mean", "p50", "p95"], rows), ""]
    check = report.get("check")
    if check is not None:
        lines += ["## Threshold check", ""]
        if check["failures"]:
            lines += [f"**FAILED** ({len(check['failures'])}):", ""] + [f"- {f}" for f in check["failures"]] + [""]
        else:
            lines += [f"Passed: all {len(check['passed'])} measured thresholds met.", ""]
        if check["skipped"]:
            lines += ["Skipped: " + "; ".join(check["skipped"]), ""]
    return "\n".join(lines)


def render_chart(report: Mapping[str, Any], path: Path) -> None:
    """Recall@k per mode, one panel per language group (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [g for g in LANG_GROUPS if any(g in v for v in report["retrieval"].values())]
    fig, axes = plt.subplots(
        1, max(1, len(groups)), figsize=(4.2 * max(1, len(groups)), 3.6), sharey=True, squeeze=False
    )
    for ax, group in zip(axes[0], groups, strict=False):
        for mode, rows in report["retrieval"].items():
            if group in rows:
                ax.plot(M.KS, [rows[group][f"recall@{k}"] for k in M.KS], marker="o", label=mode)
        ax.set_title(f"{report['suite']} – {group}")
        ax.set_xlabel("k (passages)")
        ax.set_xticks(M.KS)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("recall@k")
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: dict[str, Any], out_dir: Path) -> list[str]:
    """Write ``<suite>-<timestamp>.json/.md/.png`` and their ``<suite>-latest.*`` copies; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = out_dir / f"{report['suite']}-{stamp}"
    latest = out_dir / f"{report['suite']}-latest"
    png = base.with_suffix(".png")
    chart = True
    try:
        render_chart(report, png)
    except Exception as exc:  # noqa: BLE001 - a report without its chart is still a report
        logger.warning("could not draw the chart: %s", exc)
        chart = False
    report["markdown"] = render_markdown(report, png.name if chart else None)
    body = {k: v for k, v in report.items() if k not in ("markdown", "files")}
    base.with_suffix(".json").write_text(
        json.dumps(body, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8"
    )
    base.with_suffix(".md").write_text(report["markdown"] + "\n", encoding="utf-8")
    shutil.copyfile(base.with_suffix(".json"), latest.with_suffix(".json"))
    latest.with_suffix(".md").write_text(
        render_markdown(report, latest.with_suffix(".png").name if chart else None) + "\n", encoding="utf-8"
    )
    files = [str(base.with_suffix(".json")), str(base.with_suffix(".md"))]
    if chart:
        shutil.copyfile(png, latest.with_suffix(".png"))
        files.append(str(png))
    files += [str(latest.with_suffix(s)) for s in (".json", ".md", ".png") if latest.with_suffix(s).exists()]
    return files


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


__all__ = ["RETRIEVAL_COLUMNS", "render_chart", "render_markdown", "write_report"]
