"""Tests for rag.retrieval with the fake embedder: modes, k, ordering, question checks, language."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TINY_CORPUS, FakeEmbedder
from rag.config import SanadConfig
from rag.errors import IndexMismatchError, IndexMissingError, InputError
from rag.indexer import Indexer
from rag.retrieval import Retriever, check_question, detect_language
from rag.types import Hit

MODES = ("dense", "bm25", "hybrid")


@pytest.fixture
def retriever(small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path) -> Retriever:
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    return Retriever.load(small_config, fake_embedder)


@pytest.mark.parametrize("mode", MODES)
def test_retriever_search_returns_hits_best_first(retriever: Retriever, mode: str) -> None:
    hits = retriever.search("القوات العراقية في الأنبار", k=3, mode=mode)
    assert 0 < len(hits) <= 3
    assert all(isinstance(h, Hit) for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].doc_id == "a01_iraq_forces"
    for h in hits:
        assert h.chunk_id == h.chunk.chunk_id and h.doc_id in TINY_CORPUS
        assert h.chunk.text == retriever.index.articles[h.doc_id].text[h.chunk.start : h.chunk.end]
        assert h.title == retriever.index.articles[h.doc_id].title
    assert len({h.chunk_id for h in hits}) == len(hits)


@pytest.mark.parametrize("mode", MODES)
def test_retriever_search_k_respected(retriever: Retriever, mode: str) -> None:
    """Guards against returning more than k passages, or padding past the corpus size."""
    n = len(retriever.index.chunks)
    assert len(retriever.search("الدولي التحالف واشنطن الاقتصاد العراقية", k=2, mode=mode)) == 2
    assert len(retriever.search("الدولي التحالف واشنطن الاقتصاد العراقية", k=n + 10, mode=mode)) <= n


def test_retriever_search_default_k_and_mode_from_config(retriever: Retriever, small_config: SanadConfig) -> None:
    """Guards against k=None / mode=None not falling back to the configured defaults."""
    hits = retriever.search("التحالف الدولي")
    assert len(hits) == small_config.top_k
    assert all(any(name.endswith("_rank") for name in h.scores) for h in hits)  # fused: the default is hybrid


def test_retriever_hybrid_scores_keep_both_sides(retriever: Retriever) -> None:
    """Guards against hybrid hits losing the per-side scores, ranks and z-scores shown for debugging."""
    hit = retriever.search("مساعدات إنسانية للشعب السوري", k=1, mode="hybrid")[0]
    assert hit.doc_id == "a02_syria_aid"
    assert {"dense", "bm25", "dense_rank", "bm25_rank", "dense_z", "bm25_z", "bm25_coverage"} <= set(hit.scores)
    coverage = hit.scores["bm25_coverage"]
    assert 0 < coverage <= 1
    w = retriever.config.fusion_dense_weight
    assert hit.score == pytest.approx(w * hit.scores["dense_z"] + (1 - w) * coverage * hit.scores["bm25_z"])


def test_retriever_rrf_fusion_is_still_available(retriever: Retriever) -> None:
    """Guards against losing the RRF setting: fusion='rrf' scores by the RRF formula."""
    rrf_retriever = Retriever(retriever.index, retriever.embedder, retriever.config.with_overrides(fusion="rrf"))
    hit = rrf_retriever.search("مساعدات إنسانية للشعب السوري", k=1, mode="hybrid")[0]
    assert hit.doc_id == "a02_syria_aid"
    assert {"dense", "bm25", "dense_rank", "bm25_rank"} <= set(hit.scores) and "bm25_z" not in hit.scores
    assert hit.score == pytest.approx(1 / (60 + hit.scores["dense_rank"]) + 1 / (60 + hit.scores["bm25_rank"]))


def test_retriever_hybrid_follows_dense_when_bm25_knows_no_term(retriever: Retriever) -> None:
    """Guards against BM25 dragging hybrid where it cannot match (an English question over Arabic text):
    with no known term its weight is 0 and hybrid keeps the dense order."""
    question = "humanitarian assistance for displaced Syrians"
    assert retriever.index.bm25.coverage(question) == 0.0
    depth = retriever.config.candidate_k  # the depth hybrid reads (FAISS orders exact ties by depth)
    dense = [h.chunk_id for h in retriever.search(question, k=depth, mode="dense")][:5]
    hybrid = retriever.search(question, k=5, mode="hybrid")
    assert [h.chunk_id for h in hybrid] == dense
    assert all(h.scores["bm25_coverage"] == 0.0 for h in hybrid)


def test_retriever_hybrid_weights_follow_config(retriever: Retriever) -> None:
    """Guards against fusion_dense_weight being ignored: weight 1 is dense order, weight 0 follows BM25."""
    question = "مساعدات إنسانية للشعب السوري الأنبار"
    only_dense = Retriever(retriever.index, retriever.embedder, retriever.config.with_overrides(fusion_dense_weight=1))
    only_bm25 = Retriever(retriever.index, retriever.embedder, retriever.config.with_overrides(fusion_dense_weight=0))
    depth = retriever.config.candidate_k
    dense = [h.chunk_id for h in retriever.search(question, k=depth, mode="dense")][:3]
    bm25 = [h.chunk_id for h in retriever.search(question, k=depth, mode="bm25")][:3]
    assert [h.chunk_id for h in only_dense.search(question, k=3, mode="hybrid")] == dense
    assert [h.chunk_id for h in only_bm25.search(question, k=3, mode="hybrid")] == bm25


def test_retriever_bm25_finds_english_article(retriever: Retriever) -> None:
    assert retriever.search("OPEC oil", k=1, mode="bm25")[0].doc_id == "a05_english"


def test_retriever_bm25_no_match_empty(retriever: Retriever) -> None:
    """Guards against BM25 returning arbitrary passages when no word matches."""
    assert retriever.search("كمبيوتر", k=3, mode="bm25") == []


def test_retriever_bm25_only_without_embedder(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against BM25-only use (no model on disk) still demanding the embedding model."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    lexical = Retriever.load(small_config, None)
    assert lexical.search("التحالف الدولي", k=2, mode="bm25")[0].doc_id in TINY_CORPUS
    with pytest.raises(InputError, match="need the embedding model; use mode='bm25'"):
        lexical.search("التحالف الدولي", k=2, mode="dense")


def test_retriever_load_other_model_raises(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against querying an index with another model's vectors."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Retriever.load(small_config, FakeEmbedder(model_name="other"))


def test_retriever_load_missing_index_raises(small_config: SanadConfig, fake_embedder: FakeEmbedder) -> None:
    """Guards against a missing index surfacing as FileNotFoundError."""
    with pytest.raises(IndexMissingError, match="sanad index"):
        Retriever.load(small_config, fake_embedder)


def test_retriever_dense_query_embedded_with_question(retriever: Retriever, fake_embedder: FakeEmbedder) -> None:
    """Guards against embedding the unstripped question or re-embedding passages at query time."""
    fake_embedder.reset_counts()
    retriever.search("  التحالف الدولي  ", k=1, mode="dense")
    assert fake_embedder.query_calls == [["التحالف الدولي"]]
    assert fake_embedder.embedded_passages == []


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "the question is empty"),
        ("   \n\t ", "the question is empty"),
        ("؟؟ ... !!", "has no words in it"),
        ("___", "has no words in it"),
        ("س" * 1001, "1,001 characters long; the limit is 1,000"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_retriever_search_bad_question_raises(
    retriever: Retriever, fake_embedder: FakeEmbedder, question: str, message: str, mode: str
) -> None:
    """Guards against bad questions reaching the model (or returning arbitrary passages)."""
    fake_embedder.reset_counts()
    with pytest.raises(InputError, match=message):
        retriever.search(question, k=3, mode=mode)
    assert fake_embedder.query_calls == []


@pytest.mark.parametrize("question", [None, 42, ["سؤال"], b"bytes"])
def test_retriever_search_non_str_question_raises(retriever: Retriever, question: object) -> None:
    """Guards against None, numbers or bytes reaching the tokenizer and raising a TypeError."""
    with pytest.raises(InputError, match="the question must be text, got"):
        retriever.search(question, k=3)  # type: ignore[arg-type]


def test_check_question_strips_and_keeps_long_enough() -> None:
    assert check_question("  ما هو داعش؟ \n", 100) == "ما هو داعش؟"
    assert check_question("س" * 10, 10) == "س" * 10


def test_retriever_search_invalid_mode_raises(retriever: Retriever) -> None:
    """Guards against an unknown mode silently falling through to hybrid."""
    with pytest.raises(InputError, match="mode='semantic' is not valid; choose one of dense, bm25, hybrid"):
        retriever.search("التحالف", k=3, mode="semantic")  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -1])
def test_retriever_search_non_positive_k_raises(retriever: Retriever, k: int) -> None:
    """Guards against k=0 being silently read as 'use the default top_k'."""
    with pytest.raises(InputError, match=f"k={k} must be a positive number"):
        retriever.search("التحالف", k=k, mode="bm25")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("كم يبلغ عدد الجنود الأميركيين في العراق؟", "ar"),
        ("How much aid was announced?", "en"),
        ("ما هو ISIS؟", "ar"),
        ("What did the Sudani government say about داعش?", "en"),
        ("2024", "en"),
        ("١٢٣", "ar"),
        ("", "en"),
    ],
)
def test_detect_language_examples(text: str, language: str) -> None:
    """Guards against mixed-script questions being answered in the wrong language."""
    assert detect_language(text) == language


@pytest.mark.parametrize("threads", [1, 2])
def test_retriever_load_sets_faiss_threads_from_config(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path, threads: int
) -> None:
    import faiss

    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    before = faiss.omp_get_max_threads()
    try:
        faiss.omp_set_num_threads(3 - threads)  # the other value, so the assertion sees a change
        Retriever.load(small_config.with_overrides(search_threads=threads), fake_embedder)
        assert faiss.omp_get_max_threads() == threads
    finally:
        faiss.omp_set_num_threads(before)
