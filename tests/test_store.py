"""Tests for rag.store.VectorStore: exactness, approximate recall, persistence and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorruptError, InputError
from rag.store import VectorStore, choose_factory


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_store_flat_search_equals_numpy_brute_force() -> None:
    """Guards against a wrong metric (L2 instead of inner product) or row mix-up in exact search."""
    rng = np.random.default_rng(0)
    base = _unit(rng, 500, 32)
    queries = _unit(rng, 20, 32)
    store = VectorStore.build(base, "Flat")
    exact = queries @ base.T
    for q, hits in enumerate(store.search(queries, k=10)):
        expected_rows = np.argsort(-exact[q], kind="stable")[:10]
        assert [h.row for h in hits] == expected_rows.tolist()
        np.testing.assert_allclose([h.score for h in hits], exact[q, expected_rows], rtol=1e-5, atol=1e-5)


def test_store_flat_ties_same_scores_order_insensitive() -> None:
    """Guards against ties (duplicate passages) dropping a row or reporting a wrong score."""
    rng = np.random.default_rng(1)
    base = _unit(rng, 30, 16)
    base = np.vstack([base, base[:10], base[:10]])  # rows 0-9 appear three times each
    query = base[3:4]
    hits = VectorStore.build(base, "Flat").search(query, k=6)[0]
    exact = (query @ base.T)[0]
    # order-insensitive check: the k best scores and the true score of every returned row
    np.testing.assert_allclose([h.score for h in hits], np.sort(exact)[::-1][:6], atol=1e-5)
    for h in hits:
        assert exact[h.row] == pytest.approx(h.score, abs=1e-5)
    assert {h.row for h in hits[:3]} == {3, 33, 43}
    assert len({h.row for h in hits}) == 6


def test_store_hnsw_recall_at_10_vs_flat_high() -> None:
    """Guards against a mis-set efSearch (or metric) that would quietly lose most true neighbours."""
    rng = np.random.default_rng(2)
    base = _unit(rng, 5000, 32)
    queries = _unit(rng, 100, 32)
    flat = VectorStore.build(base, "Flat").search(queries, k=10)
    hnsw = VectorStore.build(base, "HNSW32,Flat", ef_search=128).search(queries, k=10)
    recall = np.mean([len({h.row for h in a} & {h.row for h in b}) / 10 for a, b in zip(flat, hnsw, strict=False)])
    assert recall >= 0.9


def test_store_hnsw_ef_search_set() -> None:
    import faiss

    store = VectorStore.build(_unit(np.random.default_rng(3), 50, 8), "HNSW32,Flat", ef_search=77)
    assert faiss.downcast_index(store.index).hnsw.efSearch == 77
    store.set_search_params(ef_search=12)
    assert faiss.downcast_index(store.index).hnsw.efSearch == 12


def test_store_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    base, queries = _unit(rng, 200, 24), _unit(rng, 5, 24)
    for factory in ("Flat", "HNSW32,Flat"):
        store = VectorStore.build(base, factory)
        path = tmp_path / f"{factory.replace(',', '_')}.faiss"
        store.save(path)
        loaded = VectorStore.load(path, factory)
        assert len(loaded) == 200 and loaded.dim == 24 and loaded.factory == factory
        assert loaded.search(queries, 7) == store.search(queries, 7)


def test_store_load_sets_ef_search(tmp_path: Path) -> None:
    """Guards against efSearch silently falling back to FAISS's default (16) after a reload."""
    import faiss

    path = tmp_path / "h.faiss"
    VectorStore.build(_unit(np.random.default_rng(5), 50, 8), "HNSW32,Flat", ef_search=200).save(path)
    assert faiss.downcast_index(VectorStore.load(path, "HNSW32,Flat", ef_search=64).index).hnsw.efSearch == 64


def test_store_search_dimension_mismatch_raises() -> None:
    """Guards against querying a 384-d index with vectors from another model (FAISS would crash)."""
    store = VectorStore.build(np.eye(4, dtype=np.float32), "Flat")
    with pytest.raises(InputError, match="query dimension 3 does not match the index \\(4\\)"):
        store.search(np.ones((1, 3), dtype=np.float32), k=1)


def test_store_search_vector_not_matrix_raises() -> None:
    """Guards against a 1-d query vector reaching FAISS and crashing."""
    store = VectorStore.build(np.eye(4, dtype=np.float32), "Flat")
    with pytest.raises(InputError, match="expected a \\(n, dim\\) matrix"):
        store.search(np.ones(4, dtype=np.float32), k=1)


def test_store_empty_search_returns_no_hits(tmp_path: Path) -> None:
    """Guards against an empty index crashing FAISS or returning -1 rows."""
    store = VectorStore.build(np.zeros((0, 8), dtype=np.float32), "Flat")
    assert len(store) == 0 and store.dim == 8
    assert store.search(np.ones((2, 8), dtype=np.float32), k=5) == [[], []]
    store.save(tmp_path / "e.faiss")
    assert len(VectorStore.load(tmp_path / "e.faiss", "Flat")) == 0


def test_store_k_above_size_clamped() -> None:
    """Guards against FAISS -1 padding rows leaking out as hits when k exceeds the corpus."""
    store = VectorStore.build(np.eye(3, dtype=np.float32), "Flat")
    hits = store.search(np.eye(3, dtype=np.float32)[:1], k=50)[0]
    assert sorted(h.row for h in hits) == [0, 1, 2]
    assert hits[0].row == 0 and hits[0].score == pytest.approx(1.0)


def test_store_bad_factory_raises() -> None:
    """Guards against a raw FAISS RuntimeError for a mistyped factory string."""
    with pytest.raises(InputError, match="FAISS cannot build index_factory='NoSuchIndex'"):
        VectorStore.build(np.eye(4, dtype=np.float32), "NoSuchIndex")


def test_store_untrained_factory_tiny_corpus_raises() -> None:
    """Guards against FAISS aborting when an IVF index is trained on too few vectors."""
    with pytest.raises(InputError, match="needs training vectors; use 'Flat'"):
        VectorStore.build(np.eye(4, dtype=np.float32)[:1], "IVF4,Flat")


@pytest.mark.parametrize(
    ("factory", "n", "expected"),
    [
        ("auto", 10, "Flat"),
        ("auto", 199_999, "Flat"),
        ("auto", 200_000, "IVF1024,Flat"),
        ("Flat", 10**7, "Flat"),
        ("IVF1024,PQ16", 5, "IVF1024,PQ16"),
    ],
)
def test_choose_factory_resolves_auto(factory: str, n: int, expected: str) -> None:
    """Guards against 'auto' switching to approximate search at the wrong corpus size."""
    assert choose_factory(factory, n) == expected


def test_choose_factory_custom_threshold_and_factory() -> None:
    assert choose_factory("auto", 1000, approx_factory="HNSW16,Flat", approx_threshold=1000) == "HNSW16,Flat"
    assert choose_factory("auto", 999, approx_factory="HNSW16,Flat", approx_threshold=1000) == "Flat"


def test_store_load_corrupt_file_raises(tmp_path: Path) -> None:
    """Guards against a truncated FAISS file surfacing as a C++ RuntimeError traceback."""
    path = tmp_path / "v.faiss"
    VectorStore.build(np.eye(8, dtype=np.float32), "Flat").save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match=r"cannot read the vector index .*sanad index"):
        VectorStore.load(path, "Flat")


def test_store_load_garbage_file_raises(tmp_path: Path) -> None:
    """Guards against a non-FAISS file surfacing as a C++ RuntimeError traceback."""
    path = tmp_path / "v.faiss"
    path.write_bytes(b"not a faiss index at all")
    with pytest.raises(IndexCorruptError, match="cannot read the vector index"):
        VectorStore.load(path, "Flat")


def test_store_load_missing_file_raises(tmp_path: Path) -> None:
    """Guards against a missing FAISS file surfacing as a C++ RuntimeError traceback."""
    with pytest.raises(IndexCorruptError, match="cannot read the vector index"):
        VectorStore.load(tmp_path / "missing.faiss", "Flat")


def test_store_ivf_nprobe_set_and_survives_reload(tmp_path):
    """Guards against an IVF index searching a single list (nprobe=1), which loses most of its recall."""
    import faiss

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4000, 16)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = VectorStore.build(vectors, "IVF16,Flat", nprobe=8)
    assert faiss.extract_index_ivf(store.index).nprobe == 8
    store.save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", "IVF16,Flat", nprobe=16)
    assert faiss.extract_index_ivf(loaded.index).nprobe == 16
    exact = VectorStore.build(vectors, "Flat")
    q = vectors[:50]
    found = [{h.row for h in hits} for hits in loaded.search(q, 10)]
    truth = [{h.row for h in hits} for hits in exact.search(q, 10)]
    assert np.mean([len(f & t) / 10 for f, t in zip(found, truth, strict=False)]) >= 0.9
