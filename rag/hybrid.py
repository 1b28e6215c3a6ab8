"""Fusing the dense and BM25 candidate lists into one ranking: pure functions.

Two methods (``SanadConfig.fusion``):

* ``"zscore"`` (default): each side's scores are standardised over its own candidate list
  (z-scores) and summed with weights ``dense_weight`` and ``(1 - dense_weight) * coverage``,
  where ``coverage`` is the share of the question's terms that the BM25 vocabulary knows
  (:meth:`rag.bm25.BM25Index.coverage`). Standardising keeps a side's *confidence*: a passage
  that stands far above the rest of its list (a rare name, a number) pulls hard, a flat list
  (a vague question, a lexical mismatch) barely moves the other side. Coverage silences BM25
  where it cannot work, e.g. an English question over Arabic text, whose words BM25 has never
  seen. Measured on every suite (seeds ar/en, XQuAD ar/en, ARCD) it is never below the better
  of its two parts, where equal-weight RRF was (XQuAD-en, and an Arabic set whose BM25 side is
  weak); ``dense_weight`` was calibrated on half of the articles (``python -m
  rag.evaluation.fusion``).
* ``"rrf"``: reciprocal rank fusion (Cormack et al., 2009), reading ranks only.

Both return new objects without touching their input, and break ties on the id so the order
is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: The fusion methods ``SanadConfig.fusion`` accepts.
FUSIONS: tuple[str, ...] = ("zscore", "rrf")

Fused = list[tuple[str, float, dict[str, float]]]


def rrf(rankings: dict[str, Sequence[str]], *, k: int = 60, weights: dict[str, float] | None = None) -> Fused:
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


def zscores(scores: Sequence[float]) -> list[float]:
    """``(s - mean) / std`` of each score (population std); all zeros when the scores do not vary.

    Example:
        >>> zscores([3.0, 1.0, 1.0, 1.0])
        [1.7320508075688774, -0.5773502691896258, -0.5773502691896258, -0.5773502691896258]
    """
    n = len(scores)
    if n == 0:
        return []
    mean = sum(scores) / n
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / n)
    if std <= 1e-12 * max(1.0, abs(mean)):
        return [0.0] * n
    return [(s - mean) / std for s in scores]


def zscore_fusion(lists: dict[str, Sequence[tuple[str, float]]], weights: dict[str, float]) -> Fused:
    """Weighted sum of per-side z-scores; an id missing from a side gets that side's lowest z-score.

    Args:
        lists: side name -> ``(id, score)`` best first, higher scores better (e.g. dense cosines,
            BM25 scores). Each side is standardised over its own list.
        weights: side name -> weight (a side not named weighs 0).

    Returns:
        ``(id, fused_score, {side_rank: rank, side_z: z})`` best first; ties follow the ranks of
        the sides with a weight above 0 (in ``lists`` order), then the id.

    Example: dense nearly ties ``a`` and ``b``; BM25 is sure of ``b``, unless its weight is 0.

        >>> lists = {"dense": [("a", .90), ("b", .89), ("c", .70)], "bm25": [("b", 9.0), ("a", 1.0)]}
        >>> [i for i, _, _ in zscore_fusion(lists, {"dense": 0.65, "bm25": 0.35})]
        ['b', 'a', 'c']
        >>> [i for i, _, _ in zscore_fusion(lists, {"dense": 0.65, "bm25": 0.0})]
        ['a', 'b', 'c']
    """
    # Per side: its weight, its lowest z-score, and each id's first (best) rank and z-score.
    sides = []
    for side, pairs in lists.items():
        if not pairs:
            continue
        z = zscores([float(score) for _, score in pairs])
        first: dict[str, tuple[int, float]] = {}
        for rank, ((item, _), zi) in enumerate(zip(pairs, z, strict=True), start=1):
            first.setdefault(item, (rank, zi))
        sides.append((side, weights.get(side, 0.0), min(z), first))
    fused: dict[str, float] = {}
    for _, _, _, first in sides:
        for item in first:
            fused[item] = 0.0
    for _, w, floor, first in sides:
        if w:
            for item in fused:
                got = first.get(item)
                fused[item] += w * (got[1] if got is not None else floor)
    # Ties follow the weighted sides' ranks in the order given, then the id: a side weighted 0 changes nothing.
    ranked = [first for _, w, _, first in sides if w > 0]
    keys = {}
    for item, score in fused.items():
        keys[item] = (-score, *[first[item][0] if item in first else math.inf for first in ranked], item)
    order = sorted(fused, key=keys.__getitem__)
    out: Fused = []
    for item in order:
        info: dict[str, float] = {}
        for side, _, _, first in sides:
            if item in first:
                rank, zi = first[item]
                info[f"{side}_rank"] = float(rank)
                info[f"{side}_z"] = zi
        out.append((item, fused[item], info))
    return out


def lexical_weight(dense_weight: float, coverage: float) -> float:
    """BM25's weight in z-score fusion: the rest of ``dense_weight``, scaled by the question's term coverage.

    Example:
        >>> lexical_weight(0.65, 0.5)
        0.175
    """
    return round((1.0 - dense_weight) * max(0.0, min(1.0, coverage)), 12)
