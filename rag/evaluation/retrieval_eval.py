"""The retrieval stage of ``sanad eval``: every question searched in every mode, and recall/MRR/nDCG per language.

:func:`retrieve_all` runs ``Sanad.search`` unchanged, with the question vectors computed up front in one batch
(:class:`_CachedQueries`, which :mod:`rag.evaluation.fusion` uses as well); :func:`aggregate_retrieval` turns the
records into the ``{mode: {language: {metric: mean}}}`` table. Called by :func:`rag.evaluation.runner.run_eval`;
the evidence stage is :mod:`rag.evaluation.evidence_eval`, the answer stage :mod:`rag.evaluation.answer_eval`,
the answers' scores :mod:`rag.evaluation.scoring`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from rag.evaluation import metrics as M
from rag.evaluation.datasets import QAItem
from rag.evaluation.scoring import LANG_GROUPS
from rag.pipeline import Sanad

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.types import RetrievalMode

RETRIEVAL_K = 10


class _CachedQueries:
    """Stands in for the embedder during evaluation: question vectors are computed in one batch.

    ``embed_queries`` returns the precomputed rows for known questions and falls back to
    the real embedder for anything else, so ``Sanad.search`` runs unchanged.
    """

    def __init__(self, embedder: Any, questions: Sequence[str]) -> None:
        self._embedder = embedder
        unique = list(dict.fromkeys(q.strip() for q in questions))
        vectors = embedder.embed_queries(unique) if unique else np.zeros((0, 1), np.float32)
        self._rows = {q: vectors[i] for i, q in enumerate(unique)}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        keys = [t.strip() for t in texts]
        if keys and all(k in self._rows for k in keys):
            return np.stack([self._rows[k] for k in keys]).astype(np.float32)
        return self._embedder.embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def progress(iterable: Iterable, total: int, desc: str, enabled: bool) -> Iterable:
    """``iterable`` with a per-question progress bar on stderr when ``enabled`` (the runner's answers use it too)."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="q", file=sys.stderr, dynamic_ncols=True)


def retrieve_all(
    sanad: Sanad,
    items: Sequence[QAItem],
    modes: Sequence[str],
    *,
    k: int = RETRIEVAL_K,
    batch_queries: bool = True,
    show_progress: bool = True,
) -> tuple[dict[str, list[dict]], dict]:
    """Run ``sanad.search(question, k, mode)`` for every question and mode.

    Returns per mode one record per item (``doc_ids``, ``chunk_ids``, ``seconds``) and
    timing info. With ``batch_queries`` the question vectors are computed up front in
    batches (identical search code path; the per-search time then excludes embedding).
    """
    retriever = sanad.retriever
    info: dict[str, Any] = {"batch_queries": batch_queries and any(m != "bm25" for m in modes)}
    original = retriever.embedder
    if info["batch_queries"]:
        t = time.perf_counter()
        retriever.embedder = cast("Embedder", _CachedQueries(original, [it.question for it in items]))
        info["embed_queries_s"] = time.perf_counter() - t
        info["embed_queries_per_question_s"] = info["embed_queries_s"] / max(1, len(items))
    results: dict[str, list[dict]] = {}
    try:
        for mode in modes:
            rows = []
            for item in progress(items, len(items), f"search {mode}", show_progress):
                t = time.perf_counter()
                hits = sanad.search(item.question, k=k, mode=cast("RetrievalMode", mode))
                rows.append(
                    {
                        "doc_ids": [h.doc_id for h in hits],
                        "chunk_ids": [h.chunk_id for h in hits],
                        "seconds": time.perf_counter() - t,
                    }
                )
            results[mode] = rows
    finally:
        retriever.embedder = original
    return results, info


def aggregate_retrieval(items: Sequence[QAItem], results: Mapping[str, Sequence[dict]]) -> dict[str, dict]:
    """``{mode: {lang group: {metric: mean}}}`` over answerable questions (those with gold docs)."""
    table: dict[str, dict] = {}
    for mode, rows in results.items():
        table[mode] = {}
        for group in LANG_GROUPS:
            found = [
                M.retrieval_scores(r["doc_ids"], it.gold_doc_ids)
                for it, r in zip(items, rows, strict=False)
                if group in ("all", it.lang)
            ]
            scored = [s for s in found if s is not None]
            if not scored:
                continue
            row: dict[str, float | None] = {"n": len(scored)}
            for key in scored[0]:
                row[key] = M.mean(s[key] for s in scored)
            table[mode][group] = row
    return table
