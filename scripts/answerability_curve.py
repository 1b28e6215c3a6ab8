"""Precision/recall of refusing vs. the answerability threshold, over the whole seeds suite (no LLM).

For every question of the suite the passages are retrieved (``evidence_passages``, the configured
mode), the evidence sentences selected (:func:`rag.evidence.select`) and the answerability signals
computed (:func:`rag.answerability.judge`). A question is *refused* when its score is below the
threshold; the positive class is "unanswerable". Printed per threshold: refusal precision and recall
(all, ar, en) and the false-refusal rate on answerable questions (ar, en).

English questions are judged without their Arabic translation (as :func:`judge` does for the
``soft`` signal anyway), so the curve needs no LLM.

Usage::

    SANAD_INDEX_DIR=index python scripts/answerability_curve.py          # the curve with rag.answerability.WEIGHTS
    SANAD_INDEX_DIR=index python scripts/answerability_curve.py --fit    # refit the weights (logistic regression),
                                                                         # with a 2-fold check (odd/even ids)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

import numpy as np

from rag.answerability import FEATURES, WEIGHTS, combine, judge
from rag.config import SanadConfig
from rag.evaluation.datasets import load_suite
from rag.evidence import select
from rag.pipeline import Sanad
from rag.retrieval import detect_language

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)


def collect(suite_name: str) -> list[dict]:
    """One row per question: id, lang, answerable and the features of its best evidence sentence."""
    config = SanadConfig.from_env()
    sanad = Sanad(config)
    rows = []
    for it in load_suite(suite_name).items:
        hits = sanad.search(it.question, k=config.evidence_passages)
        scored = select(it.question, hits, config=config, embedder=sanad.embedder)
        lang = detect_language(it.question)
        verdict = judge(it.question, scored, language=lang, threshold=config.answerable_threshold)
        rows.append(
            {
                "id": it.id,
                "lang": it.lang,
                "answerable": it.answerable,
                "features": verdict.features,
                "missing": list(verdict.missing),
            }
        )
    return rows


def fit(rows: list[dict], l2: float = 0.01, steps: int = 4000, lr: float = 0.5) -> dict[str, float]:
    """Logistic regression (answerable = 1) on the feature vectors; numpy gradient descent."""
    x = np.array([[r["features"].get(k, 0.0) for k in FEATURES] for r in rows], dtype=np.float64)
    y = np.array([1.0 if r["answerable"] else 0.0 for r in rows])
    x1 = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x1.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x1 @ w))
        grad = x1.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]]
        w -= lr * grad
    return {"bias": round(float(w[0]), 3), **{k: round(float(v), 3) for k, v in zip(FEATURES, w[1:], strict=True)}}


def curve(rows: list[dict], weights: dict[str, float], title: str) -> None:
    """Print the refusal precision/recall table for ``rows`` scored with ``weights``."""
    scores = [combine(r["features"], weights) if r["features"] else 0.0 for r in rows]
    print(f"\n{title}")
    print("| threshold | refusal P | refusal R | R ar | R en | false ref. ar | false ref. en |")
    print("|---|---|---|---|---|---|---|")
    for t in THRESHOLDS:

        def rate(lang: str | None, answerable: bool, t: float = t) -> float | None:
            chosen = [
                s < t
                for r, s in zip(rows, scores, strict=True)
                if r["answerable"] == answerable and (lang is None or r["lang"] == lang)
            ]
            return sum(chosen) / len(chosen) if chosen else None

        refused = [(s < t, r["answerable"]) for r, s in zip(rows, scores, strict=True)]
        tp = sum(1 for ref, ans in refused if ref and not ans)
        predicted = sum(1 for ref, _ in refused if ref)
        precision = tp / predicted if predicted else None
        cells = [precision, rate(None, False), rate("ar", False), rate("en", False), rate("ar", True), rate("en", True)]
        print(f"| {t:.2f} | " + " | ".join("–" if c is None else f"{c:.3f}" for c in cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="seeds")
    parser.add_argument("--fit", action="store_true", help="refit the weights and show the 2-fold check")
    parser.add_argument("--dump", help="write the per-question features to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = collect(args.suite)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)
    n_un = sum(not r["answerable"] for r in rows)
    print(f"{args.suite}: {len(rows)} questions, {n_un} unanswerable")
    curve(rows, WEIGHTS, f"rag.answerability.WEIGHTS = {WEIGHTS}")
    if args.fit:
        weights = fit(rows)
        curve(rows, weights, f"fitted on all: {weights}")
        for fold in (0, 1):
            train = [r for i, r in enumerate(rows) if i % 2 != fold]
            test = [r for i, r in enumerate(rows) if i % 2 == fold]
            curve(test, fit(train), f"2-fold check: fitted on the other half, scored on half {fold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
