"""``sanad eval --check``: the run's metrics as one flat map, and their bounds in ``eval/thresholds.json``.

:func:`flatten_metrics` names every metric as ``eval/thresholds.json`` does, :func:`load_thresholds` reads that
file and :func:`check_thresholds` compares the two. Every suite's runner uses them (:mod:`rag.evaluation.runner`,
:mod:`rag.evaluation.news_suites`, :mod:`rag.evaluation.injection`). Not to be confused
with the answerability threshold, whose curve is :mod:`rag.evaluation.threshold_curve`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.evaluation.datasets import eval_dir
from rag.evaluation.scoring import flatten_breakdown


def flatten_metrics(
    retrieval: Mapping[str, dict],
    answers: Mapping[str, dict],
    latency: Mapping[str, dict],
    evidence: Mapping[str, dict] | None = None,
    breakdown: Mapping[str, Mapping[str, dict]] | None = None,
) -> dict[str, float | None]:
    """One flat ``{name: value}`` map; names as used in ``eval/thresholds.json``.

    ``retrieval.<mode>.<ar|en|all>.<metric>``, ``answers.<ar|en|all>.<metric>``,
    ``answers.by_<type|answer_type>.<value>.<metric>``, ``evidence.<ar|en|all>.<metric>``,
    ``latency.<stage>.<mean|p50|p95>``.
    """
    flat: dict[str, float | None] = {}
    for mode, groups in retrieval.items():
        for group, row in groups.items():
            for key, value in row.items():
                flat[f"retrieval.{mode}.{group}.{key}"] = value
    for group, row in answers.items():
        for key, value in row.items():
            flat[f"answers.{group}.{key}"] = value
    flat.update(flatten_breakdown(breakdown or {}))
    for group, row in (evidence or {}).items():
        for key, value in row.items():
            flat[f"evidence.{group}.{key}"] = value
    for stage, row in latency.items():
        for key in ("mean", "p50", "p95"):
            flat[f"latency.{stage}.{key}"] = row[key]
    return flat


def load_thresholds(path: Path | None = None) -> dict[str, dict]:
    """``eval/thresholds.json``: ``{suite: {metric: minimum, or {"min": x} / {"max": x}}}``."""
    path = Path(path) if path is not None else eval_dir() / "thresholds.json"
    if not path.is_file():
        raise InputError(f"{path} is missing; --check needs it (see the Thresholds section of eval/README.md)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object of suites")
    return data


def check_thresholds(metrics: Mapping[str, float | None], thresholds: Mapping[str, Any]) -> dict[str, list[str]]:
    """Compare metrics with their bounds.

    Returns ``failures`` (below a minimum or above a maximum), ``passed`` and ``skipped``
    (metrics this run did not measure, e.g. answer scores with ``--answers 0``, or
    undefined ones such as refusal recall on a sample without unanswerable questions).
    Keys starting with ``_`` are comments.
    """
    out: dict[str, list[str]] = {"failures": [], "passed": [], "skipped": []}
    for name, bound in thresholds.items():
        if name.startswith("_"):
            continue
        low, high = (bound.get("min"), bound.get("max")) if isinstance(bound, dict) else (bound, None)
        value = metrics.get(name)
        if value is None:
            out["skipped"].append(f"{name}: not measured in this run")
            continue
        if low is not None and value < low:
            out["failures"].append(f"{name} = {value:.4f} is below its threshold {low}")
        elif high is not None and value > high:
            out["failures"].append(f"{name} = {value:.4f} is above its limit {high}")
        else:
            bound_text = f"≥ {low}" if low is not None else f"≤ {high}"
            out["passed"].append(f"{name} = {value:.4f} (bound {bound_text})")
    return out
