"""What the news suites share: per-language metric means, date matching, and the suite's report files.

Its own module so that each suite (:mod:`rag.evaluation.news_followups`, :mod:`rag.evaluation.news_conflicts`,
:mod:`rag.evaluation.news_timeline`) and the front door (:mod:`rag.evaluation.news_suites`) import it without
importing each other. :mod:`rag.evaluation.injection` writes its report with the same :func:`render_markdown`
and :func:`write_report`; ``rag.evaluation.news_suites`` re-exports both, so older imports keep working.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.dates import period
from rag.evaluation import metrics as M


def group_means(
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


def date_match(gold: str, got: str) -> bool:
    """Whether ``got`` is the gold date, or one of their periods holds the other (``2021`` holds ``2021-12-31``)."""
    if not got:
        return False
    if gold == got:
        return True
    a, b = period(gold), period(got)
    if a is None or b is None:
        return False
    return (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])


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


__all__ = ["date_match", "group_means", "render_markdown", "write_report"]
