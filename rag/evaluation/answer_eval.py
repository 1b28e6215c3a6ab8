"""The answer stage of ``sanad eval``: which questions are asked of the LLM, asking them, warming it up.

:func:`answer_sample` picks the questions (all of a seeds or user suite; a seeded sample of
:data:`XQUAD_DEFAULT_ANSWERS` for a benchmark that brings its own articles, stratified by language
and type, XQuAD's paired so each question is asked in Arabic and English); :func:`answer_all` asks
each, retrying a failed generation, and scores it (:mod:`rag.evaluation.scoring`) against the gold
evidence located in the indexed articles (:func:`evidence_spans`); :func:`warm_up` loads the LLM
first so the first question does not pay for it. The follow-up and conflict suites
(:mod:`rag.evaluation.news_followups`, :mod:`rag.evaluation.news_conflicts`) ask through the same
functions.

One module per eval stage, beside :mod:`rag.evaluation.retrieval_eval` and
:mod:`rag.evaluation.evidence_eval`; :func:`rag.evaluation.runner.run_eval` runs them in turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rag.errors import InputError, SanadError
from rag.evaluation import metrics as M
from rag.evaluation.datasets import SEED, QAItem, Suite, paired_sample, stratified_sample
from rag.evaluation.evidence_eval import gold_evidence
from rag.evaluation.retrieval_eval import progress
from rag.evaluation.scoring import answer_record, score_answer
from rag.pipeline import Sanad

logger = logging.getLogger(__name__)

#: LLM answers for a benchmark that brings its own articles (XQuAD, ARCD) when neither --answers nor
#: --limit is given (seeds and user files answer every question).
XQUAD_DEFAULT_ANSWERS = 40


def evidence_spans(item: QAItem, articles: Mapping[str, Any]) -> tuple[list[tuple[str, int, int]], list[str]]:
    """The gold evidence as ``(doc_id, start, end)`` in the indexed article texts, and quotes not found."""
    if item.evidence_spans is not None:
        return list(item.evidence_spans), []
    spans, missing = [], []
    for doc_id, quote in zip(item.gold_doc_ids, item.evidence, strict=False):
        article = articles.get(doc_id)
        where = M.locate_quote(article.text, quote) if article is not None else None
        if where is None:
            missing.append(f"{item.id}: {doc_id}: {quote[:60]}")
        else:
            spans.append((doc_id, *where))
    return spans, missing


def answer_sample(items: Sequence[QAItem], n: int | None, suite: Suite, seed: int = SEED) -> list[QAItem]:
    """The questions to answer: all, or a seeded sample (stratified by language and type; XQuAD: paired ar/en)."""
    if n is None:
        n = XQUAD_DEFAULT_ANSWERS if suite.articles else len(items)
    if n >= len(items):
        return list(items)
    if suite.name == "xquad":
        return paired_sample(items, n, seed=seed)
    return stratified_sample(items, n, key=lambda it: (it.lang, it.type), seed=seed)


def answer_all(
    sanad: Sanad,
    sample: Sequence[QAItem],
    *,
    retries: int = 1,
    show_progress: bool = True,
    sentences: Mapping[str, tuple[tuple[int, int], ...]] | None = None,
) -> tuple[dict[str, dict], list[str]]:
    """Ask each sampled question; ``{item id: record}`` and the evidence quotes that could not be located.

    A question whose generation fails (e.g. times out on a busy machine) is asked again up
    to ``retries`` times; if it still fails it is recorded as an error and left out of the scores.
    ``sentences`` (XQuAD-R's, for XQuAD) make the gold evidence sentences the answer's selected
    evidence is scored against.
    """
    articles = sanad.retriever.index.articles
    records: dict[str, dict] = {}
    missing: list[str] = []
    for item in progress(sample, len(sample), "answers", show_progress):
        spans, lost = evidence_spans(item, articles)
        missing.extend(lost)
        t = time.perf_counter()
        answer, errors = None, []
        for _ in range(1 + retries):
            try:
                answer = sanad.ask(item.question)
                break
            except InputError:
                raise
            except SanadError as exc:  # a timeout or a model failure: retry, then count it and go on
                logger.warning("%s: %s", item.id, exc)
                errors.append(str(exc))
        if answer is None:
            records[item.id] = {
                "error": errors[-1],
                "attempts": len(errors),
                "seconds": time.perf_counter() - t,
                "scores": {"refused": False},
            }
            continue
        gold = gold_evidence(item, articles, sentences) if item.answerable else []
        records[item.id] = {
            "answer": answer_record(answer),
            "evidence_spans": [list(s) for s in spans],
            "scores": score_answer(item, answer, spans, gold),
            "timings": dict(answer.timings),
            "attempts": len(errors) + 1,
        }
    return records, missing


def warm_up(sanad: Sanad) -> float:
    """Load the LLM and run one tiny generation, so the first question does not pay for paging the model in."""
    from rag.generators import ChatMessage

    t = time.perf_counter()
    sanad.load(llm=True)
    try:
        sanad.generator.generate([ChatMessage("user", "مرحبا")], max_tokens=1, temperature=0.0, seed=0)
    except SanadError as exc:
        logger.warning("LLM warm-up failed (answers will still be tried): %s", exc)
    return time.perf_counter() - t


__all__ = ["XQUAD_DEFAULT_ANSWERS", "answer_all", "answer_sample", "evidence_spans", "warm_up"]
