"""The whole answer system's figures at every answerability threshold, from one evaluation run.

The decision before generation (:mod:`rag.answerability`) only ever turns a question into a refusal: a
question whose score is below the threshold is refused with the "what the sources give instead" text,
and every other question reaches the model exactly as it would at any lower threshold. So one run of
``sanad eval`` with the threshold at 0 (every question reaches the model; its score is kept in
``timings["answerability"]``) gives the system's outcome at *every* threshold exactly, given that run's
model answers: below it, a refusal; above it, what the model and the checker did. (The model's answers
themselves can flip when questions are asked in another order: llama.cpp's prompt cache changes how a
prompt is batched, hence its arithmetic.)

Printed per threshold (per language): accepted answers, false refusals and wrong answers on answerable
questions, refusal recall and answers given to unanswerable questions (the worst outcome), and the
ungrounded answers left. The threshold is then chosen on half of the questions (even / odd positions)
by the balanced score ``accepted + refusal recall`` and checked on the other half.

Usage::

    SANAD_ANSWERABLE_THRESHOLD=0 sanad eval --suite seeds --out /tmp/ev   # one full run, no refusal before the model
    python -m rag.evaluation.threshold_curve /tmp/ev/seeds-<stamp>.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

THRESHOLDS = (0.0, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


@dataclass(frozen=True)
class Outcome:
    """One question of the run: what it was and what the system did with the threshold at 0."""

    id: str
    lang: str
    answerable: bool
    score: float  # the answerability score (1.0 when the run kept none: never refused before the model)
    refused: bool
    accepted: bool
    ungrounded: bool
    # When the model refused: would the extractive quote (rag.answer_evidence.extractive) have been given, and
    # would it hold an accepted answer? None: no quote (not a quantity in a named unit, or no such sentence).
    quote_accepted: bool | None = None
    quoted: bool = False  # the answer shown was the extractive quote (the model's own failed the checker)


MODEL_REFUSED = "the model found no answer in the evidence"


def _quote_outcome(row: dict, answer: dict) -> bool | None:
    """Whether quoting the evidence sentence would have been right, for a question the model declined."""
    from rag.answer_evidence import extractive
    from rag.answer_types import Evidence
    from rag.evaluation import metrics as M
    from rag.evidence import answer_type

    if answer.get("refusal_reason") != MODEL_REFUSED:
        return None
    evidence = [Evidence(**e) for e in answer.get("evidence", [])]
    quote = extractive(row["question"], evidence, answer_type(row["question"]), row["lang"])
    if not quote:
        return None
    return bool(M.contains_answer(quote, row.get("answers", []))) if row["answerable"] else False


def load_outcomes(report: dict) -> list[Outcome]:
    """The answered questions of an ``sanad eval`` report (errors left out)."""
    out = []
    for row in report.get("questions", []):
        rec = row.get("answer")
        if not rec or "error" in rec:
            continue
        scores = rec.get("scores", {})
        out.append(
            Outcome(
                id=row["id"],
                lang=row["lang"],
                answerable=bool(row["answerable"]),
                score=float(rec.get("timings", {}).get("answerability", 1.0)),
                refused=bool(scores.get("refused")),
                accepted=bool(scores.get("accepted")),
                ungrounded=bool(scores.get("ungrounded")),
                quote_accepted=_quote_outcome(row, rec.get("answer") or {}),
                quoted=bool(rec.get("timings", {}).get("extractive")),
            )
        )
    return out


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def at_threshold(outcomes: Sequence[Outcome], threshold: float, lang: str | None = None) -> dict[str, float | None]:
    """The system's rates if questions scoring below ``threshold`` had been refused before the model."""
    chosen = [o for o in outcomes if lang is None or o.lang == lang]
    ok = [o for o in chosen if o.answerable]
    un = [o for o in chosen if not o.answerable]

    def refused(o: Outcome) -> bool:
        return o.score < threshold or o.refused

    def accepted(o: Outcome) -> bool:
        return not refused(o) and o.accepted

    return {
        "accepted": _rate([accepted(o) for o in ok]),
        "false_refusal": _rate([refused(o) for o in ok]),
        "wrong_answer": _rate([not refused(o) and not o.accepted for o in ok]),
        "refusal_recall": _rate([refused(o) for o in un]),
        "answered_unanswerable": _rate([not refused(o) for o in un]),
        "ungrounded": float(sum(1 for o in chosen if not refused(o) and o.ungrounded)),
    }


def with_quotes(outcomes: Sequence[Outcome], threshold: float, confident: float) -> dict[str, float | None]:
    """The rates if the extractive quote had also answered questions the model declined scoring >= ``confident``."""
    changed = [
        replace(o, refused=False, accepted=bool(o.quote_accepted), ungrounded=False)
        if o.refused and o.quote_accepted is not None and o.score >= max(confident, threshold)
        else o
        for o in outcomes
    ]
    return at_threshold(changed, threshold)


def without_fallback(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The run as it would have been with ``extractive_fallback=False``: a quoted answer becomes a refusal."""
    return [replace(o, refused=True, accepted=False, ungrounded=False) if o.quoted else o for o in outcomes]


def balanced(outcomes: Sequence[Outcome], threshold: float) -> float:
    """``accepted + refusal recall`` over both languages: what the threshold is chosen by."""
    r = at_threshold(outcomes, threshold)
    return (r["accepted"] or 0.0) + (r["refusal_recall"] or 0.0)


def choose(outcomes: Sequence[Outcome], thresholds: Sequence[float] = THRESHOLDS) -> float:
    """The threshold with the best balanced score (the lowest of equals: refuse no more than needed)."""
    return max(thresholds, key=lambda t: (round(balanced(outcomes, t), 6), -t))


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


_CURVE = ("accepted", "false_refusal", "wrong_answer", "refusal_recall", "answered_unanswerable")
_CURVE_HEADS = {
    "accepted": "accepted",
    "false_refusal": "false refusals",
    "wrong_answer": "wrong answers",
    "refusal_recall": "refusal recall",
    "answered_unanswerable": "unanswerable answered",
}


def _curve(outcomes: Sequence[Outcome], thresholds: Sequence[float], keys: Sequence[str]) -> list[str]:
    """One row per threshold: ``keys`` per language (ar / en), then the ungrounded count."""
    heads = " | ".join(f"{_CURVE_HEADS[k]} ar / en" for k in keys)
    lines = [f"| threshold | {heads} | ungrounded |", "|---" * (len(keys) + 2) + "|"]
    for t in thresholds:
        ar, en, both = at_threshold(outcomes, t, "ar"), at_threshold(outcomes, t, "en"), at_threshold(outcomes, t)
        cells = [f"{_fmt(ar[k])} / {_fmt(en[k])}" for k in keys]
        lines.append(f"| {t:.2f} | " + " | ".join(cells) + f" | {int(both['ungrounded'] or 0)} |")
    return lines


def _halves(outcomes: Sequence[Outcome], prefix: str = "") -> list[str]:
    """The threshold chosen on the even / odd positions, and what it gives on the other half."""
    even, odd = list(outcomes[::2]), list(outcomes[1::2])
    lines = []
    for name, fit, check in (("even", even, odd), ("odd", odd, even)):
        t = choose(fit)
        r = at_threshold(check, t)
        lines.append(
            f"{prefix}chosen on the {name} half: {t:.2f}; on the other half accepted {_fmt(r['accepted'])}, "
            f"refusal recall {_fmt(r['refusal_recall'])}, false refusals {_fmt(r['false_refusal'])}"
        )
    return lines


def render(outcomes: Sequence[Outcome], thresholds: Sequence[float] = THRESHOLDS) -> str:
    """The curve as a Markdown table, and the threshold chosen on each half checked on the other."""
    lines = [
        f"{len(outcomes)} questions ({sum(o.answerable for o in outcomes)} answerable, "
        f"{sum(not o.answerable for o in outcomes)} unanswerable)",
        "",
        *_curve(outcomes, thresholds, _CURVE),
        "",
        "The extractive quote also given when the model declines (default threshold 0.55; a quote is only made "
        "for a quantity in a unit the question names):",
        "",
        "| quote when score ≥ | accepted | false refusals | refusal recall | unanswerable answered |",
        "|---|---|---|---|---|",
    ]
    rows = [("never (now)", at_threshold(outcomes, 0.55))]
    rows += [(f"{c:.2f}", with_quotes(outcomes, 0.55, c)) for c in (0.55, 0.65, 0.75, 0.85)]
    for label, r in rows:
        cells = (_fmt(r[k]) for k in ("accepted", "false_refusal", "refusal_recall", "answered_unanswerable"))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    plain = without_fallback(outcomes)
    lines += [
        "",
        f"Without the extractive fallback ({sum(o.quoted for o in outcomes)} answers of this run were quotes; "
        f"{sum(o.quoted and o.answerable and o.accepted for o in outcomes)} of them accepted, "
        f"{sum(o.quoted and not o.answerable for o in outcomes)} given to unanswerable questions):",
        "",
        *_curve(plain, thresholds, ("accepted", "false_refusal", "refusal_recall", "answered_unanswerable")),
        "",
        *_halves(plain, "without the fallback, "),
        "",
        *_halves(outcomes),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rag.evaluation.threshold_curve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("report", type=Path, help="a report JSON of `sanad eval` run with SANAD_ANSWERABLE_THRESHOLD=0")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    threshold = (report.get("run", {}).get("config") or {}).get("answerable_threshold")
    if threshold not in (None, 0, 0.0):
        print(
            f"note: this run refused below {threshold} before the model; thresholds under it are not exact",
            file=sys.stderr,
        )
    print(render(load_outcomes(report)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
