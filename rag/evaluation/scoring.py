"""Scoring LLM answers: per question (:func:`score_answer`), per language (:func:`aggregate_answers`) and per
question type (:func:`aggregate_breakdown`).

Per answer: EM / F1 / accepted against the accepted strings, citation precision and recall against
the gold evidence, the checker's sentence support, the numbers and names absent from the
sentences each answer sentence cites (:mod:`rag.evaluation.grounding`), and evidence-sentence
recall (the gold evidence among ``Answer.evidence``, the sentences selected before generation).

Per group: besides the means, refusal precision / recall (positive class "refused", truth
"unanswerable"), the **false-refusal rate** (refused answerable / answerable) and the number of
**ungrounded answers** (answers, on any question, with a number or name absent from their cited
sentences: #11 wants 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rag.answer_types import Answer
from rag.evaluation import metrics as M
from rag.evaluation.datasets import QAItem
from rag.evaluation.grounding import ungrounded

LANG_GROUPS = ("ar", "en", "all")
ANSWER_COLUMNS = (
    "n",
    "answered",
    "refused",
    "errors",
    "em",
    "f1",
    "accepted",
    "citation_precision",
    "citation_recall",
    "support",
    "refusal_precision",
    "refusal_recall",
    "false_refusal",
    "ungrounded",
    "evidence_recall",
)
BREAKDOWN_COLUMNS = (
    "n",
    "answered",
    "refused",
    "accepted",
    "false_refusal",
    "refusal_recall",
    "ungrounded",
    "evidence_recall",
)

Span = tuple[str, int, int]


def score_answer(
    item: QAItem, answer: Answer, spans: Sequence[Span], evidence_gold: Sequence[Span] | None = None
) -> dict[str, Any]:
    """Per-question answer scores (``None`` where a score does not apply).

    Args:
        spans: the gold evidence quotes as ``(doc_id, start, end)`` in the indexed articles.
        evidence_gold: the gold *sentences* when known (XQuAD-R); else ``spans`` stand for them.
    """
    chunks = {h.chunk_id: h.chunk for h in answer.passages}
    cited = []
    for c in answer.citations:
        chunk = chunks.get(c.chunk_id)
        if chunk is None and 1 <= c.n <= len(answer.passages):
            chunk = answer.passages[c.n - 1].chunk
        if chunk is not None:
            cited.append((chunk.doc_id, chunk.start, chunk.end))
    scores: dict[str, Any] = {"refused": answer.refused}
    if item.answerable:
        text = "" if answer.refused else answer.answer
        scores["em"] = M.exact_match(text, item.answers)
        scores["f1"] = M.token_f1(text, item.answers)
        scores["accepted"] = M.contains_answer(text, item.answers)
        precision, recall = M.citation_scores(cited, spans)
        scores["citation_precision"] = precision
        scores["citation_recall"] = recall if spans else None
        selected = [(e.doc_id, e.start, e.end) for e in answer.evidence]
        gold = list(evidence_gold) if evidence_gold else list(spans)
        scores["evidence_recall"] = M.evidence_recall(selected, gold) if answer.evidence and gold else None
    else:
        scores.update(
            em=None, f1=None, accepted=None, citation_precision=None, citation_recall=None, evidence_recall=None
        )
    supported = [s.supported for s in answer.sentences]
    scores["sentences_supported"], scores["sentences"] = M.support_counts(supported)
    missing = ungrounded(answer)
    scores["ungrounded"] = [u.to_dict() for u in missing]
    return scores


def answer_record(answer: Answer) -> dict[str, Any]:
    """The answer as stored in a report (passages without their text)."""
    data = answer.to_dict()
    data["passages"] = [
        {k: p[k] for k in ("n", "doc_id", "chunk_id", "start", "end", "score")} for p in data["passages"]
    ]
    return data


def _summary(chosen: Sequence[tuple[QAItem, dict]]) -> dict[str, Any]:
    ok = [(it, r) for it, r in chosen if "error" not in r]
    answerable = [r["scores"] for it, r in ok if it.answerable]
    refused = [r["scores"]["refused"] for _, r in ok]
    truth = [it.answerable for it, _ in ok]
    refusal_p, refusal_r = M.refusal_scores(refused, truth)
    supported = sum(r["scores"].get("sentences_supported", 0) for _, r in ok)
    sentences = sum(r["scores"].get("sentences", 0) for _, r in ok)
    answered = [r["scores"] for _, r in ok if not r["scores"]["refused"]]
    return {
        "n": len(chosen),
        "answered": len(answered),
        "refused": sum(refused),
        "errors": len(chosen) - len(ok),
        "em": M.mean(s["em"] for s in answerable),
        "f1": M.mean(s["f1"] for s in answerable),
        "accepted": M.mean(s["accepted"] for s in answerable),
        "citation_precision": M.mean(s["citation_precision"] for s in answerable),
        "citation_recall": M.mean(s["citation_recall"] for s in answerable),
        "support": supported / sentences if sentences else None,
        "refusal_precision": refusal_p,
        "refusal_recall": refusal_r,
        "false_refusal": M.false_refusal_rate(refused, truth),
        "ungrounded": sum(1 for s in answered if s.get("ungrounded")),
        "evidence_recall": M.mean(s.get("evidence_recall") for s in answerable),
    }


def aggregate_answers(items: Sequence[QAItem], records: Mapping[str, dict]) -> dict[str, dict]:
    """``{lang group: {metric: value}}`` over the answered sample (``ar``, ``en``, ``all``)."""
    table: dict[str, dict] = {}
    for group in LANG_GROUPS:
        chosen = [(it, records[it.id]) for it in items if it.id in records and group in ("all", it.lang)]
        if chosen:
            table[group] = _summary(chosen)
    return table


def aggregate_breakdown(items: Sequence[QAItem], records: Mapping[str, dict], field: str) -> dict[str, dict]:
    """``{value of field: {metric: value}}`` over the answered sample, e.g. per ``type`` or ``answer_type``.

    Items whose field is empty are left out; an empty result when no answered item has the field.
    """
    groups: dict[str, list[tuple[QAItem, dict]]] = {}
    for it in items:
        value = getattr(it, field, "")
        if it.id in records and value:
            groups.setdefault(value, []).append((it, records[it.id]))
    return {
        value: {k: row[k] for k in BREAKDOWN_COLUMNS}
        for value, row in ((v, _summary(g)) for v, g in sorted(groups.items()))
    }


def flatten_breakdown(breakdown: Mapping[str, Mapping[str, dict]]) -> dict[str, Any]:
    """``answers.by_<field>.<value>.<metric>`` names for the flat metrics map."""
    return {
        f"answers.by_{field}.{value}.{key}": v
        for field, table in breakdown.items()
        for value, row in table.items()
        for key, v in row.items()
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def answers_markdown(answers: Mapping[str, dict], breakdown: Mapping[str, Mapping[str, dict]]) -> list[str]:
    """The Answers section's tables (by language, then by question type and answer type)."""
    lines = [
        "EM / F1 / accepted: over answerable questions (a refusal scores 0); accepted = an accepted "
        "answer string occurs in the answer. Citation P: share of cited passages that hold gold "
        "evidence; citation R: share of gold evidence quotes inside a cited passage. Support: share of "
        "answer sentences the citation checker verified. Refusal P/R: positive class = refused, "
        "truth = unanswerable; false ref.: refused answerable / answerable. Ungrounded: answers (any "
        "question) with a number or name absent from the sentences they cite (target 0). Evidence R: "
        "share of gold evidence sentences among the answer's selected evidence. Errors: generation "
        "failed twice (e.g. timed out); left out of the scores.",
        "",
    ]
    header = [
        "lang",
        "n",
        "answered",
        "refused",
        "errors",
        "EM",
        "F1",
        "accepted",
        "cit. P",
        "cit. R",
        "support",
        "refusal P",
        "refusal R",
        "false ref.",
        "ungrounded",
        "evidence R",
    ]
    lines += [*_table(header, [[g, *(_fmt(r[c]) for c in ANSWER_COLUMNS)] for g, r in answers.items()]), ""]
    names = {"type": "question type", "answer_type": "answer type (what the question asks for)"}
    for field, table in breakdown.items():
        if not table:
            continue
        lines += [f"By {names.get(field, field)}:", ""]
        header = [field, "n", "answered", "refused", "accepted", "false ref.", "refusal R", "ungrounded", "evidence R"]
        lines += [*_table(header, [[v, *(_fmt(r[c]) for c in BREAKDOWN_COLUMNS)] for v, r in table.items()]), ""]
    return lines


__all__ = [
    "ANSWER_COLUMNS",
    "BREAKDOWN_COLUMNS",
    "aggregate_answers",
    "aggregate_breakdown",
    "answer_record",
    "answers_markdown",
    "flatten_breakdown",
    "score_answer",
]
