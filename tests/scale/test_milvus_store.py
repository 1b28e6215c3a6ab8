"""The Milvus store against a real Milvus Lite server process: same hits as exact search and Sanad's BM25.

Every test uses its own alias (collection prefix) on one server, so they do not see each other's versions.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from rag.bm25 import BM25Index
from rag.errors import IndexMissingError, InputError
from rag.hybrid import rrf
from rag.types import Filters
from tests.conftest import TINY_CORPUS

pytestmark = [pytest.mark.scale, pytest.mark.slow]  # slow: minutes of real Milvus Lite server calls
milvus = pytest.importorskip("rag.stores.milvus", reason="needs the scale extra")
pytest.importorskip("pymilvus", reason="needs the scale extra: pip install -e '.[scale]'")

from rag.stores import StoreRow, StoreUnavailableError  # noqa: E402
from rag.stores.milvus import MilvusStore, filter_expression  # noqa: E402

_aliases = itertools.count()

# Outlets and dates: one article has no date, one outlet name holds a double quote (filter escaping).
META = {
    "a01_iraq_forces": ("العربي الجديد", "2024-01-10"),
    "a02_syria_aid": ('قناة "الحرة"', "2024-02-01"),
    "a03_coalition_meeting": ("العربي الجديد", "2024-03-05"),
    "a04_economy": ("رويترز", ""),
    "a05_english": ("رويترز", "2023-12-31"),
}


def _passages() -> list[StoreRow]:
    """Sentence-sized passages of the tiny corpus with their article's outlet and date."""
    rows = []
    for doc_id, text in TINY_CORPUS.items():
        source, published = META[doc_id]
        for i, piece in enumerate(p for p in text.replace("؟", ".").split(".") if p.strip()):
            rows.append(StoreRow(f"{doc_id}:{i}", doc_id, piece.strip(), source=source, published=published))
    return rows


def _vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def store(milvus_server) -> MilvusStore:
    s = MilvusStore(milvus_server.uri, alias=f"t{next(_aliases)}", timeout_s=60)
    yield s
    s.close()


@pytest.fixture
def published(store: MilvusStore):
    """Version v-1 of the tiny corpus, written and published: (store, rows, vectors)."""
    rows = _passages()
    vectors = _vectors(len(rows))
    store.write_version("v-1", rows, vectors)
    store.publish("v-1")
    return store, rows, vectors


def _allowed(rows: list[StoreRow], filters: Filters | None) -> np.ndarray:
    from rag.types import Article

    if filters is None:
        return np.ones(len(rows), dtype=bool)
    return np.array([filters.matches(Article(r.doc_id, "", "x", source=r.source, published=r.published)) for r in rows])


FILTERS = [
    None,
    Filters(doc_ids=("a02_syria_aid", "a04_economy")),
    Filters(sources=('قناة "الحرة"', "رويترز")),
    Filters(since="2024-01-01"),
    Filters(until="2024-02-01"),
    Filters(sources=("العربي الجديد",), since="2024-02-01", until="2024-12-31"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "none" if f is None else str(f.to_dict()))
def test_dense_search_matches_exact_inner_product_with_filters(published, filters) -> None:
    store, rows, vectors = published
    searcher = store.searcher()
    queries = _vectors(3, seed=7)
    allowed = _allowed(rows, filters)
    for q, hits in zip(queries, searcher.dense(queries, k=5, filters=filters), strict=True):
        scores = vectors @ q
        scores[~allowed] = -np.inf
        expected = [int(r) for r in np.argsort(-scores, kind="stable")[: min(5, int(allowed.sum()))]]
        assert [h.row for h in hits] == expected
        np.testing.assert_allclose([h.score for h in hits], scores[expected], atol=1e-5)


QUERIES = [
    "القوات العراقية في الأنبار",
    "قوات العراق",
    "المساعدات الإنسانية للشعب السوري",
    "oil prices OPEC",
    "الاقتصاد العالمي صندوق النقد",
    "التحالف الدولي التحالف",
]


@pytest.mark.parametrize("query", QUERIES)
def test_lexical_search_gives_sanads_bm25_rows_and_scores(published, query: str) -> None:
    """The sparse vectors carry rag.textnorm terms and bm25s weights: Milvus ranks as BM25Index does."""
    store, rows, _ = published
    expected = BM25Index.build([r.text for r in rows]).search(query, k=8)
    got = store.searcher().lexical(query, k=8)
    assert expected, "the query should match something"
    assert [h.row for h in got] == [h.row for h in expected]
    np.testing.assert_allclose([h.score for h in got], [h.score for h in expected], rtol=1e-5)


def test_lexical_search_with_filter_drops_other_outlets(published) -> None:
    store, rows, _ = published
    hits = store.searcher().lexical("التحالف الدولي القوات", k=10, filters=Filters(sources=("العربي الجديد",)))
    assert hits and all(rows[h.row].source == "العربي الجديد" for h in hits)


def test_lexical_search_of_stopwords_only_returns_nothing(published) -> None:
    store, _, _ = published
    assert store.searcher().lexical("في من على", k=5) == []


@pytest.mark.parametrize("query", QUERIES[:3])
def test_hybrid_search_is_rrf_of_the_dense_and_bm25_lists(published, query: str) -> None:
    """Milvus's RRF ranker fuses the same two lists rag.hybrid.rrf would."""
    store, rows, vectors = published
    q = _vectors(1, seed=11)[0]
    dense = [int(r) for r in np.argsort(-(vectors @ q), kind="stable")[:10]]
    lexical = [h.row for h in BM25Index.build([r.text for r in rows]).search(query, k=10)]
    fused = rrf({"dense": [str(r) for r in dense], "bm25": [str(r) for r in lexical]}, k=60)
    got = store.searcher().hybrid(q, query, k=5, depth=10, rrf_k=60)
    np.testing.assert_allclose([h.score for h in got], [s for _, s, _ in fused[:5]], rtol=1e-5)
    assert {h.row for h in got} == {int(i) for i, _, _ in fused[:5]} or [round(h.score, 6) for h in got][-1] == round(
        fused[5][1], 6
    )  # equal scores at the cut may swap


def test_filter_expression_quotes_values_so_they_cannot_change_the_expression() -> None:
    expr = filter_expression(Filters(doc_ids=('x" or doc_id != "',)))
    assert expr == 'array_contains_any(ids_all, ["x\\" or doc_id != \\""])'
    assert filter_expression(Filters()) == ""


def test_filter_with_quote_injection_matches_nothing(published) -> None:
    store, _, _ = published
    hits = store.searcher().dense(_vectors(1, seed=3), k=5, filters=Filters(doc_ids=('x" or doc_id != "',)))
    assert hits == [[]]


def test_new_version_is_invisible_until_published_and_old_one_serves_on(published) -> None:
    """Delete by article = the next version without it; the alias switch publishes it in one step."""
    store, rows, vectors = published
    keep = [i for i, r in enumerate(rows) if r.doc_id != "a02_syria_aid"]
    old = store.searcher()
    store.write_version("v-2", [rows[i] for i in keep], vectors[keep])
    assert store.live_collection() == old.collection  # written aside, not live
    assert len(store.searcher()) == len(rows)
    store.publish("v-2")
    new = store.searcher()
    assert len(new) == len(keep)
    assert all(rows[keep[h.row]].doc_id != "a02_syria_aid" for h in new.lexical("المساعدات الإنسانية السوري", k=10))
    assert old.dense(vectors[:1], k=1)[0][0].row == 0  # a reader of v-1 serves on
    store.write_version("v-3", rows, vectors)
    store.publish("v-3")
    assert store.prune(["v-2", "v-3"]) == [old.collection]  # the one before the previous is dropped
    with pytest.raises(IndexMissingError, match="rebuild"):
        old.dense(vectors[:1], k=1)


def test_failed_write_leaves_no_collection_and_the_alias_alone(published) -> None:
    store, rows, vectors = published
    before = store.versions()
    with pytest.raises(InputError, match="row-aligned"):
        store.write_version("v-bad", rows, vectors[:-1])
    bad = [*rows[:-1], StoreRow("c", "d", "x" * 70_000)]
    with pytest.raises(InputError, match="lower chunk_tokens"):
        store.write_version("v-bad", bad, vectors)
    assert store.versions() == before
    assert store.live_collection() == before[0]


def test_open_before_any_publish_says_to_build(store: MilvusStore) -> None:
    with pytest.raises(IndexMissingError, match="sanad index"):
        store.searcher()


def test_wrong_query_dimension_raises(published) -> None:
    store, _, _ = published
    with pytest.raises(InputError, match="dimension 8"):
        store.searcher().dense(np.ones((1, 8), np.float32), k=1)


def test_unreachable_server_raises_naming_the_uri() -> None:
    from rag.distributed.local import free_port

    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError, match=uri.replace(".", r"\.")):
        MilvusStore(uri, timeout_s=5).searcher()


def test_server_killed_mid_session_raises_not_empty(tmp_path: Path) -> None:
    """An outage while serving is an error naming the URI, never an empty hit list."""
    from rag.distributed.local import MilvusLiteServer

    with MilvusLiteServer(tmp_path / "data") as server:
        store = MilvusStore(server.uri, timeout_s=5)
        store.write_version("v-1", _passages()[:4], _vectors(4))
        store.publish("v-1")
        searcher = store.searcher()
        assert searcher.dense(_vectors(1), k=2)[0]
        server.kill()
        with pytest.raises(StoreUnavailableError, match=server.uri.replace(".", r"\.")):
            searcher.dense(_vectors(1), k=2)
        with pytest.raises(StoreUnavailableError, match="server runs"):
            searcher.lexical("القوات", k=2)


def test_milvus_lite_folder_in_use_by_another_process_says_so(tmp_path: Path) -> None:
    """Milvus Lite opens a folder in one process only: the message says how to share it (a server)."""
    from rag.distributed.local import MilvusLiteServer

    folder = tmp_path / "milvus.db"
    with MilvusLiteServer(folder):
        with pytest.raises(StoreUnavailableError, match="one process at a time") as err:
            MilvusStore(str(folder)).searcher()
        assert str(folder) in str(err.value)


def test_milvus_lite_folder_uri_runs_in_process(tmp_path: Path) -> None:
    """A .db path: pymilvus starts Milvus Lite's server in this process; released, the folder is free again."""
    from milvus_lite import server_manager_instance

    folder = tmp_path / "index" / "milvus.db"
    store = MilvusStore(str(folder))
    try:
        store.write_version("v-1", _passages()[:3], _vectors(3))
        store.publish("v-1")
        assert len(store.searcher()) == 3
    finally:
        store.close()
        server_manager_instance.release_server(str(folder))
    reopened = MilvusStore(str(folder))
    try:
        assert len(reopened.searcher()) == 3  # the data outlives the server
    finally:
        reopened.close()
        server_manager_instance.release_server(str(folder))


def test_a_path_without_db_suffix_is_refused() -> None:
    with pytest.raises(InputError, match=r"ending in \.db"):
        MilvusStore("index/milvus").searcher()
