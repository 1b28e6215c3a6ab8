"""Reciprocal rank fusion of ranked lists (Cormack et al., 2009).

A pure function: it reads ranks only, so dense cosines and BM25 scores need no
calibration against each other, and returns new objects without touching its input.
"""

from __future__ import annotations

from typing import Sequence


def rrf(rankings: dict[str, Sequence[str]], *, k: int = 60, weights: dict[str, float] | None = None
        ) -> list[tuple[str, float, dict[str, float]]]:
    """Fuse ranked id lists into one.

    Args:
        rankings: side name -> ids best first (e.g. ``{"dense": [...], "bm25": [...]}``).
        k: the RRF constant; larger values flatten the head of each list.
        weights: optional per-side multipliers (default 1.0).

    Returns:
        ``(id, fused_score, {side: rank})`` best first; ties break on the id so the
        order is deterministic.

    Example:
        >>> [i for i, _, _ in rrf({"a": ["x", "y"], "b": ["y", "z"]})]
        ['y', 'x', 'z']
    """
    weights = weights or {}
    fused: dict[str, float] = {}
    ranks: dict[str, dict[str, float]] = {}
    for side, ids in rankings.items():
        w = weights.get(side, 1.0)
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
            ranks.setdefault(item, {})[f"{side}_rank"] = float(rank)
    order = sorted(fused, key=lambda i: (-fused[i], i))
    return [(i, fused[i], ranks[i]) for i in order]
