"""Hand-made cases for rag.evaluation.metrics (fast, no models)."""

from __future__ import annotations

import math

import pytest

from rag.evaluation import metrics as M


# -- retrieval ------------------------------------------------------------------------------------
def test_hit_and_recall_at_k_count_gold_docs_once():
    retrieved = ["b", "a", "a", "c", "d"]
    gold = ["a", "c"]
    assert M.hit_at_k(retrieved, gold, 1) == 0.0
    assert M.hit_at_k(retrieved, gold, 2) == 1.0
    assert M.recall_at_k(retrieved, gold, 1) == 0.0
    assert M.recall_at_k(retrieved, gold, 3) == 0.5  # "a" twice still counts once
    assert M.recall_at_k(retrieved, gold, 4) == 1.0
    assert M.recall_at_k(retrieved, gold, 10) == 1.0  # k beyond the list


def test_retrieval_perfect_and_zero():
    assert M.retrieval_scores(["g", "x"], ["g"]) == {
        "hit@1": 1.0,
        "hit@3": 1.0,
        "hit@5": 1.0,
        "hit@10": 1.0,
        "recall@1": 1.0,
        "recall@3": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr": 1.0,
        "ndcg@10": 1.0,
    }
    zero = M.retrieval_scores(["x", "y", "z"], ["g"])
    assert set(zero.values()) == {0.0}


def test_retrieval_empty_lists():
    assert M.hit_at_k([], ["g"], 3) == 0.0
    assert M.recall_at_k([], ["g"], 3) == 0.0
    assert M.reciprocal_rank([], ["g"]) == 0.0
    assert M.ndcg_at_k([], ["g"]) == 0.0
    # No gold (unanswerable): scored 0 by the single metrics, left out by retrieval_scores.
    assert M.recall_at_k(["a"], [], 3) == 0.0
    assert M.ndcg_at_k(["a"], []) == 0.0
    assert M.retrieval_scores(["a"], []) is None


def test_reciprocal_rank_uses_the_first_gold_passage():
    assert M.reciprocal_rank(["x", "g", "g"], ["g"]) == 0.5
    assert M.reciprocal_rank(["x", "y", "z", "h"], ["g", "h"]) == 0.25


def test_ndcg_dedupes_doc_ids_before_scoring():
    # Passages of doc "x" twice, then gold "g": de-duplicated ranking is x, g -> gain at position 2.
    assert M.ndcg_at_k(["x", "x", "g"], ["g"]) == pytest.approx(1 / math.log2(3))
    # Two gold docs, one found first: DCG 1, ideal 1 + 1/log2(3).
    assert M.ndcg_at_k(["a", "a", "a"], ["a", "b"]) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # Repeats of a gold doc do not add gain (would exceed 1 otherwise).
    assert M.ndcg_at_k(["a", "a", "b"], ["a", "b"]) == pytest.approx(1.0)
    # Cut-off applies to the de-duplicated list.
    assert M.ndcg_at_k(["x", "x", "y", "g"], ["g"], k=2) == 0.0
    assert M.ndcg_at_k(["x", "x", "g"], ["g"], k=2) == pytest.approx(1 / math.log2(3))


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        M.hit_at_k(["a"], ["a"], 0)


# -- answers --------------------------------------------------------------------------------------
def test_normalize_answer_arabic_and_markers():
    assert M.normalize_answer("بلغت الميزانيةُ 2,500 دولار [1].") == "بلغت ميزانيه 2500 دولار"
    assert M.normalize_answer("أُعلِنَ عن ٣٨٠ مليون [1، 2]") == "اعلن عن 380 مليون"
    assert M.normalize_answer("The answer is 1.5 million!") == "answer is 1.5 million"
    assert M.normalize_answer("") == ""


def test_exact_match_and_f1():
    assert M.exact_match("Lloyd Austin.", ["lloyd austin"]) == 1.0
    assert M.exact_match("الرئيس بايدن", ["بايدن"]) == 0.0
    assert M.token_f1("الرئيس بايدن", ["بايدن"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert M.token_f1("380 مليون دولار [1]", ["380 مليون دولار"]) == 1.0
    assert M.token_f1("شيء آخر", ["بايدن"]) == 0.0
    # Best of several gold answers.
    assert M.token_f1("عملية العزم الصلب", ["العزم", "عملية العزم الصلب"]) == 1.0
    # Empty cases.
    assert M.token_f1("", ["x"]) == 0.0
    assert M.token_f1("x", []) == 0.0
    assert M.exact_match("x", []) == 0.0


def test_contains_answer_respects_digit_boundaries():
    # The 500/2500 trap: a short number must not match inside a longer one.
    assert M.contains_answer("بلغ عدد الجنود 2500 جندي [1]", ["500"]) == 0.0
    assert M.contains_answer("بلغ عدد الجنود 2,500 جندي", ["500"]) == 0.0
    assert M.contains_answer("5000 soldiers", ["500"]) == 0.0
    assert M.contains_answer("500.5 soldiers", ["500"]) == 0.0
    assert M.contains_answer("1.500", ["500"]) == 0.0
    assert M.contains_answer("زاد العدد بـ500 جندي.", ["500"]) == 1.0
    assert M.contains_answer("العدد 500.", ["500"]) == 1.0
    assert M.contains_answer("It rose by 500 [2].", ["higher by 500", "500"]) == 1.0
    assert M.contains_answer("٥٠٠ جندي", ["500"]) == 1.0
    assert M.contains_answer("2,500 troops", ["2500"]) == 1.0


def test_contains_answer_normalises_arabic_and_words():
    assert M.contains_answer("هي عملية العزم الصلب [1]", ["العزم الصلب"]) == 1.0
    assert M.contains_answer("وزير الدفاع لويد أوستن", ["اوستن"]) == 1.0
    assert M.contains_answer("The Pentagon chief, Lloyd Austin.", ["Austin"]) == 1.0
    assert M.contains_answer("لا أعرف", ["بايدن"]) == 0.0
    assert M.contains_answer("anything", []) == 0.0
    assert M.contains_answer("anything", [""]) == 0.0


# -- citations ------------------------------------------------------------------------------------
def test_locate_quote_verbatim_and_with_other_whitespace():
    text = "سطر أول.\nوسيقدم الصندوق   للقوات العراقية نحو 380 مليون دولار."
    assert M.locate_quote(text, "سطر أول") == (0, 7)
    start, end = M.locate_quote(text, "وسيقدم الصندوق للقوات العراقية")
    assert text[start:end] == "وسيقدم الصندوق   للقوات العراقية"
    assert M.locate_quote(text, "غير موجود") is None
    assert M.locate_quote(text, "  ") is None


def test_citation_precision_and_recall():
    evidence = [("d1", 100, 150), ("d2", 10, 20)]
    # Cited: a d1 passage over the quote, a d1 passage elsewhere, a d3 passage.
    cited = [("d1", 80, 200), ("d1", 300, 400), ("d3", 0, 500)]
    precision, recall = M.citation_scores(cited, evidence)
    assert precision == pytest.approx(1 / 3)
    assert recall == 0.5
    # Perfect.
    assert M.citation_scores([("d1", 0, 101), ("d2", 19, 30)], evidence) == (1.0, 1.0)
    # Touching without overlapping does not count ([start, end) spans).
    assert M.citation_scores([("d1", 150, 200), ("d1", 0, 100)], evidence) == (0.0, 0.0)
    # Same offsets in another article do not count.
    assert M.citation_scores([("d2", 100, 150)], [("d1", 100, 150)]) == (0.0, 0.0)
    # Duplicated citations count once.
    assert M.citation_scores([("d1", 80, 200), ("d1", 80, 200)], evidence) == (1.0, 0.5)


def test_citation_scores_empty():
    assert M.citation_scores([], [("d1", 0, 5)]) == (None, 0.0)
    assert M.citation_scores([("d1", 0, 5)], []) == (0.0, None)
    assert M.citation_scores([], []) == (None, None)


# -- refusals, support, latency -------------------------------------------------------------------
def test_refusal_scores():
    refused = [True, True, False, False, True]
    answerable = [False, True, False, True, False]
    precision, recall = M.refusal_scores(refused, answerable)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert M.refusal_scores([True, False], [False, True]) == (1.0, 1.0)
    assert M.refusal_scores([False, True], [False, True]) == (0.0, 0.0)
    assert M.refusal_scores([False, False], [True, True]) == (None, None)
    assert M.refusal_scores([], []) == (None, None)
    with pytest.raises(ValueError):
        M.refusal_scores([True], [])


def test_support_rate_pools_sentences():
    assert M.support_rate([[True, False], [True], []]) == pytest.approx(2 / 3)
    assert M.support_rate([[True, True]]) == 1.0
    assert M.support_rate([[False]]) == 0.0
    assert M.support_rate([]) is None
    assert M.support_rate([[], []]) is None


def test_percentile_and_latency_summary():
    assert M.percentile([], 50) is None
    assert M.percentile([3.0], 95) == 3.0
    assert M.percentile([1, 2, 3, 4], 50) == 2.5
    assert M.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    summary = M.latency_summary([{"retrieval_s": 0.1, "generation_s": 2.0}, {"retrieval_s": 0.3}])
    assert list(summary) == ["generation_s", "retrieval_s"]
    assert summary["retrieval_s"]["n"] == 2
    assert summary["retrieval_s"]["mean"] == pytest.approx(0.2)
    assert summary["retrieval_s"]["p50"] == pytest.approx(0.2)
    assert summary["generation_s"] == {"n": 1, "mean": 2.0, "p50": 2.0, "p95": 2.0}
    assert M.latency_summary([]) == {}


def test_mean_skips_none():
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None
    assert M.mean([]) is None


# -- false refusals and evidence selection (#11) --------------------------------------------------
def test_false_refusal_rate_counts_only_answerable_questions():
    assert M.false_refusal_rate([True, False, True, True], [True, True, False, False]) == 0.5
    assert M.false_refusal_rate([True], [False]) is None  # nothing answerable
    assert M.false_refusal_rate([], []) is None
    with pytest.raises(ValueError):
        M.false_refusal_rate([True], [True, False])


def test_covers_needs_half_of_the_gold_span_in_the_same_article():
    gold = ("d", 100, 200)
    assert M.covers(("d", 90, 210), gold)  # holds it
    assert M.covers(("d", 150, 400), gold)  # half of it
    assert not M.covers(("d", 160, 400), gold)  # 40 %
    assert not M.covers(("e", 90, 210), gold)  # other article
    assert not M.covers(("d", 200, 300), gold)  # touches the end only
    assert M.covers(("d", 120, 140), ("d", 125, 130))  # a short gold span inside a sentence


def test_evidence_recall():
    gold = [("d", 10, 30), ("e", 0, 5)]
    assert M.evidence_recall([("d", 0, 40)], gold) == 0.5
    assert M.evidence_recall([("d", 0, 40), ("e", 0, 10)], gold) == 1.0
    assert M.evidence_recall([], gold) == 0.0
    assert M.evidence_recall([("d", 0, 40)], []) is None
