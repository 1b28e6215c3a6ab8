"""Tests for rag.hybrid: reciprocal rank fusion and z-score fusion as pure, deterministic functions."""

from __future__ import annotations

import copy

import pytest

from rag.hybrid import lexical_weight, rrf, zscore_fusion, zscores


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
    fused = {i: s for i, s, _ in rrf({"dense": ["a"], "bm25": ["b"]}, weights={"bm25": 0.0})}
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


# -- z-score fusion ------------------------------------------------------------------------------
def test_zscores_standardise_and_handle_flat_lists() -> None:
    z = zscores([4.0, 2.0, 0.0])
    assert z == pytest.approx([1.2247449, 0.0, -1.2247449])
    assert zscores([5.0, 5.0]) == [0.0, 0.0]  # no spread: no opinion
    assert zscores([]) == []


def test_zscore_fusion_confident_side_wins_a_near_tie() -> None:
    """Guards against fusing on ranks only: BM25's outlier decides between two nearly tied dense passages."""
    lists = {"dense": [("a", 0.90), ("b", 0.89), ("c", 0.70)], "bm25": [("b", 9.0), ("a", 1.0)]}
    assert [i for i, _, _ in zscore_fusion(lists, {"dense": 0.65, "bm25": 0.35})] == ["b", "a", "c"]


def test_zscore_fusion_flat_side_does_not_drag_the_other() -> None:
    """Guards against a side with no opinion (equal scores) reordering the other side, as equal-weight RRF does."""
    lists = {"dense": [("a", 0.9), ("b", 0.5), ("c", 0.4)], "bm25": [("c", 2.0), ("b", 2.0), ("a", 2.0)]}
    assert [i for i, _, _ in zscore_fusion(lists, {"dense": 0.5, "bm25": 0.5})] == ["a", "b", "c"]
    assert [i for i, _, _ in rrf({"dense": ["a", "b", "c"], "bm25": ["c", "b", "a"]})] != ["a", "b", "c"]


def test_zscore_fusion_zero_weight_side_only_lists_candidates() -> None:
    """Guards against a side weighted 0 still moving the ranking (ties included); its ids are still candidates."""
    lists = {"dense": [("a", 0.5), ("b", 0.5), ("c", 0.1)], "bm25": [("b", 9.0), ("z", 8.0)]}
    fused = zscore_fusion(lists, {"dense": 1.0, "bm25": 0.0})
    assert [i for i, _, _ in fused] == ["a", "b", "c", "z"]
    assert fused[0][2] == {"dense_rank": 1.0, "dense_z": pytest.approx(0.7071068)}
    assert fused[1][2]["bm25_rank"] == 1.0 and "bm25_z" in fused[1][2]


def test_zscore_fusion_missing_ids_get_the_side_floor() -> None:
    """Guards against an id absent from one side scoring 0 there (above that side's worst candidates)."""
    lists = {"dense": [("a", 0.9), ("b", 0.1)], "bm25": [("a", 3.0), ("c", 1.0)]}
    fused = {i: s for i, s, _ in zscore_fusion(lists, {"dense": 0.5, "bm25": 0.5})}
    assert fused["a"] == pytest.approx(1.0)
    assert fused["b"] == pytest.approx(-1.0) and fused["c"] == pytest.approx(-1.0)


def test_zscore_fusion_inputs_unchanged_and_empty() -> None:
    lists = {"dense": [("a", 1.0), ("b", 0.0)], "bm25": []}
    snapshot = {k: list(v) for k, v in lists.items()}
    assert [i for i, _, _ in zscore_fusion(lists, {"dense": 0.6, "bm25": 0.4})] == ["a", "b"]
    assert lists == snapshot
    assert zscore_fusion({}, {}) == []
    assert zscore_fusion({"dense": [], "bm25": []}, {"dense": 1.0}) == []


def test_lexical_weight_scales_by_coverage_and_clamps() -> None:
    assert lexical_weight(0.65, 1.0) == pytest.approx(0.35)
    assert lexical_weight(0.65, 0.0) == 0.0
    assert lexical_weight(0.65, 2.0) == pytest.approx(0.35)
    assert lexical_weight(1.0, 1.0) == 0.0
