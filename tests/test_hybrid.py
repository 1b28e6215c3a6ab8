"""Tests for rag.hybrid.rrf: reciprocal rank fusion as a pure, deterministic function."""

from __future__ import annotations

import copy

import pytest

from rag.hybrid import rrf


def test_rrf_docstring_example_order() -> None:
    assert [i for i, _, _ in rrf({"a": ["x", "y"], "b": ["y", "z"]})] == ["y", "x", "z"]


def test_rrf_scores_follow_formula() -> None:
    fused = {i: (s, r) for i, s, r in rrf({"dense": ["a", "b"], "bm25": ["b"]}, k=60)}
    assert fused["a"][0] == pytest.approx(1 / 61)
    assert fused["b"][0] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["b"][1] == {"dense_rank": 2.0, "bm25_rank": 1.0}
    assert fused["a"][1] == {"dense_rank": 1.0}


def test_rrf_inputs_unchanged() -> None:
    """Guards against fusion reordering or extending the caller's lists (the retriever reuses them)."""
    rankings = {"dense": ["c1", "c2", "c3"], "bm25": ("c3", "c4")}
    weights = {"dense": 2.0}
    before = copy.deepcopy((rankings, weights))
    rrf(rankings, k=10, weights=weights)
    assert (rankings, weights) == before


def test_rrf_results_are_new_objects() -> None:
    """Guards against fusion results sharing mutable rank dicts between calls."""
    a = rrf({"x": ["p", "q"]})
    a[0][2]["x_rank"] = 99.0
    assert rrf({"x": ["p", "q"]})[0][2] == {"x_rank": 1.0}


def test_rrf_agreement_beats_single_side_top() -> None:
    fused = rrf({"dense": ["only_dense", "both"], "bm25": ["only_bm25", "both"]})
    assert fused[0][0] == "both"


def test_rrf_ties_broken_by_id_regardless_of_input_order() -> None:
    """Guards against tie order depending on dict/list order (flaky rankings between runs)."""
    one = rrf({"dense": ["zeta"], "bm25": ["alpha"]})
    two = rrf({"bm25": ["alpha"], "dense": ["zeta"]})
    three = rrf({"dense": ["alpha"], "bm25": ["zeta"]})
    assert [i for i, _, _ in one] == [i for i, _, _ in two] == [i for i, _, _ in three] == ["alpha", "zeta"]
    assert one[0][1] == one[1][1]


def test_rrf_weights_shift_ranking() -> None:
    """Guards against per-side weights being ignored."""
    rankings = {"dense": ["d1", "d2"], "bm25": ["b1", "b2"]}
    assert rrf(rankings, weights={"bm25": 2.0})[0][0] == "b1"
    assert rrf(rankings, weights={"dense": 2.0})[0][0] == "d1"
    assert rrf(rankings)[0][0] == "b1"  # unweighted tie: id order
    assert rrf(rankings, weights={"bm25": 2.0})[0][1] == pytest.approx(2 / 61)


def test_rrf_zero_weight_side_ignored_in_score() -> None:
    """Guards against a zero weight still contributing to the fused score."""
    fused = dict((i, s) for i, s, _ in rrf({"dense": ["a"], "bm25": ["b"]}, weights={"bm25": 0.0}))
    assert fused["b"] == 0.0 and fused["a"] > 0


def test_rrf_k_flattens_head() -> None:
    """Guards against ignoring k: a small k makes rank 1 dominate, a large one flattens."""
    rankings = {"a": ["x", "p", "q", "y"], "b": ["r", "s", "t", "y"]}  # x: rank 1 once; y: rank 4 twice
    small = {i: s for i, s, _ in rrf(rankings, k=1)}
    large = {i: s for i, s, _ in rrf(rankings, k=1000)}
    assert small["x"] > small["y"]
    assert large["y"] > large["x"]


def test_rrf_empty_inputs_empty() -> None:
    """Guards against empty candidate lists raising instead of fusing to nothing."""
    assert rrf({}) == []
    assert rrf({"dense": [], "bm25": []}) == []


def test_rrf_scores_non_increasing() -> None:
    fused = rrf({"a": list("abcdefg"), "b": list("gfedcba"), "c": list("aceg")})
    scores = [s for _, s, _ in fused]
    assert scores == sorted(scores, reverse=True)
    assert sorted(i for i, _, _ in fused) == list("abcdefg")
