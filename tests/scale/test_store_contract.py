"""One contract, two stores: FAISS + BM25 files (in process) and Milvus (a real milvus-lite server process).

Each test runs on both; they must return the same rows and scores as exact search and Sanad's own
BM25 (rag.bm25), fuse by RRF, honour filters before the cut to k, and treat versions as immutable.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from rag.bm25 import BM25Index
from rag.hybrid import rrf
from rag.stores import PassageSearch, PassageStore, StoreRow, allowed_rows
from rag.types import Filters
from tests.conftest import TINY_CORPUS

pytestmark = pytest.mark.scale

_aliases = itertools.count()
META = {
    "a01_iraq_forces": ("العربي الجديد", "2024-01-10"),
    "a02_syria_aid": ('قناة "الحرة"', "2024-02-01"),
    "a03_coalition_meeting": ("العربي الجديد", "2024-03-05"),
    "a04_economy": ("رويترز", ""),
    "a05_english": ("رويترز", "2023-12-31"),
}
FILTERS = [
    None,
    Filters(doc_ids=("a02_syria_aid", "a04_economy")),
    Filters(sources=('قناة "الحرة"', "رويترز")),
    Filters(since="2024-01-01"),
    Filters(until="2024-02-01"),
    Filters(sources=("العربي الجديد",), since="2024-02-01", until="2024-12-31"),
    Filters(doc_ids=("nope",)),
    Filters(sources=("بي بي سي",)),
    Filters(doc_ids=("a05_bbc",)),
    Filters(since="2024-05-01"),
    Filters(since="2024-02-15", until="2024-03-01"),
]  # a05's copies straddle that window: no match
QUERIES = [
    "القوات العراقية في الأنبار",
    "المساعدات الإنسانية للشعب السوري",
    "oil prices OPEC",
    "الاقتصاد العالمي صندوق النقد",
    "التحالف الدولي التحالف",
]


#: a05 also ran, as a merged near-duplicate, on another outlet months later: filters match either copy.
COPIES = {"a05_english": (("a05_bbc", "بي بي سي", "2024-06-01"),)}


def passages() -> list[StoreRow]:
    rows = []
    for doc_id, text in TINY_CORPUS.items():
        source, published = META[doc_id]
        for i, piece in enumerate(p for p in text.replace("؟", ".").split(".") if p.strip()):
            rows.append(
                StoreRow(
                    f"{doc_id}:{i}",
                    doc_id,
                    piece.strip(),
                    source=source,
                    published=published,
                    copies=COPIES.get(doc_id, ()),
                )
            )
    return rows


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# The Milvus half takes minutes of real server calls: marked slow, so `pytest -m "not slow"` keeps FAISS's half.
@pytest.fixture(params=["faiss", pytest.param("milvus", marks=pytest.mark.slow)])
def store(request, tmp_path: Path) -> PassageStore:
    if request.param == "faiss":
        from rag.stores.faiss import FaissStore

        yield FaissStore()
        return
    server = request.getfixturevalue("milvus_server")
    from rag.stores.milvus import MilvusStore

    s = MilvusStore(server.uri, alias=f"c{next(_aliases)}", timeout_s=60)
    yield s
    s.close()


@pytest.fixture
def version(store: PassageStore, tmp_path: Path):
    """Version v-1 of the tiny corpus, written, published and opened: (searcher, rows, vectors)."""
    rows, vectors = passages(), unit(len(passages()))
    store.write("v-1", tmp_path / "v-1", rows, vectors)
    store.publish("v-1")
    searcher = store.open("v-1", tmp_path / "v-1", rows)
    assert isinstance(searcher, PassageSearch) and isinstance(store, PassageStore)
    return searcher, rows, vectors


def _mask(rows, filters) -> np.ndarray:
    allowed = allowed_rows(rows, filters)
    return np.ones(len(rows), bool) if allowed is None else allowed


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "none" if f is None else str(f.to_dict()))
def test_dense_is_exact_inner_product_within_filters(version, filters) -> None:
    searcher, rows, vectors = version
    allowed = _mask(rows, filters)
    queries = unit(3, seed=7)
    for q, hits in zip(queries, searcher.dense(queries, k=5, filters=filters), strict=True):
        scores = np.where(allowed, vectors @ q, -np.inf)
        expected = [int(r) for r in np.argsort(-scores, kind="stable")[: min(5, int(allowed.sum()))]]
        assert [h.row for h in hits] == expected
        np.testing.assert_allclose([h.score for h in hits], scores[expected], atol=1e-5)


@pytest.mark.parametrize(
    "filters", [*FILTERS[:4], *FILTERS[-3:]], ids=lambda f: "none" if f is None else str(f.to_dict())
)
@pytest.mark.parametrize("query", QUERIES)
def test_lexical_is_sanads_bm25_within_filters(version, query: str, filters) -> None:
    searcher, rows, _ = version
    allowed = _mask(rows, filters)
    full = BM25Index.build([r.text for r in rows]).search(query, k=len(rows))
    expected = [h for h in full if allowed[h.row]][:6]
    got = searcher.lexical(query, k=6, filters=filters)
    assert [h.row for h in got] == [h.row for h in expected]
    np.testing.assert_allclose([h.score for h in got], [h.score for h in expected], rtol=1e-5)


@pytest.mark.parametrize("filters", [None, Filters(sources=("العربي الجديد", "رويترز"))], ids=["none", "outlets"])
@pytest.mark.parametrize("query", QUERIES[:3])
def test_hybrid_is_rrf_of_dense_and_lexical(version, query: str, filters) -> None:
    searcher, rows, _ = version
    q = unit(1, seed=11)[0]
    dense = [h.row for h in searcher.dense(q[None, :], 10, filters)[0]]
    lexical = [h.row for h in searcher.lexical(query, 10, filters)]
    fused = rrf({"dense": [str(r) for r in dense], "bm25": [str(r) for r in lexical]}, k=60)
    got = searcher.hybrid(q, query, k=5, depth=10, rrf_k=60, filters=filters)
    np.testing.assert_allclose([h.score for h in got], [s for _, s, _ in fused[:5]], rtol=1e-5)
    assert all(_mask(rows, filters)[h.row] for h in got)
    assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)


def test_stopwords_only_query_matches_nothing(version) -> None:
    searcher, _, _ = version
    assert searcher.lexical("في من على", k=5) == []


def test_next_version_without_an_article_leaves_the_open_one_serving(store, version, tmp_path: Path) -> None:
    """Delete by article: the next version is written without it; a reader of v-1 is untouched."""
    old, rows, vectors = version
    keep = [i for i, r in enumerate(rows) if r.doc_id != "a02_syria_aid"]
    store.write("v-2", tmp_path / "v-2", [rows[i] for i in keep], vectors[keep])
    store.publish("v-2")
    new = store.open("v-2", tmp_path / "v-2", [rows[i] for i in keep])
    assert len(new) == len(keep) and len(old) == len(rows)
    assert all(rows[keep[h.row]].doc_id != "a02_syria_aid" for h in new.lexical("المساعدات الإنسانية السوري", 10))
    assert any(rows[h.row].doc_id == "a02_syria_aid" for h in old.lexical("المساعدات الإنسانية السوري", 10))
    assert new.dense(vectors[keep[0]][None, :], 1)[0][0].row == 0
    store.prune(["v-1", "v-2"])
    assert old.dense(vectors[:1], 1)[0][0].row == 0


def test_wrong_dimension_query_raises(version) -> None:
    from rag.errors import InputError

    searcher, _, _ = version
    with pytest.raises(InputError, match="dimension"):
        searcher.dense(np.ones((1, 5), np.float32), 3)
