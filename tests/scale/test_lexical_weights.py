"""Sanad's BM25 as sparse vectors (no server needed): the inner product of passage and query vectors is
exactly rag.bm25.BM25Index's score, so any store that ranks by inner product ranks as Sanad does."""

from __future__ import annotations

import numpy as np
import pytest

from rag.bm25 import BM25Index
from rag.config import SanadConfig
from rag.errors import InputError
from rag.stores.lexical import EMPTY_DIM, passage_weights, query_weights, term_dim
from tests.conftest import TINY_CORPUS

TEXTS = [p.strip() for t in TINY_CORPUS.values() for p in t.split("\n") if p.strip()] + ["", "في من على"]


@pytest.mark.parametrize(
    "query",
    [
        "القوات العراقية في الأنبار",
        "قوات العراق قوات",
        "المساعدات الإنسانية",
        "Oil prices OPEC",
        "الاقتصاد oil",
        "في من",
    ],
)
def test_sparse_inner_product_equals_bm25index_scores(query: str) -> None:
    weights = passage_weights(TEXTS)
    q = query_weights(query)
    scores = np.array([sum(row.get(d, 0.0) * v for d, v in q.items()) for row in weights.rows])
    expected = BM25Index.build(TEXTS).search(query, k=len(TEXTS))
    got = sorted(((float(s), r) for r, s in enumerate(scores) if s > 0), key=lambda x: (-x[0], x[1]))
    assert [r for _, r in got] == [h.row for h in expected]
    np.testing.assert_allclose([s for s, _ in got], [h.score for h in expected], rtol=1e-6)


def test_passage_without_terms_gets_the_unqueryable_dimension() -> None:
    """Stores reject all-zero sparse vectors; the placeholder dimension is never in a query."""
    rows = passage_weights(["", "في من على", "نص"]).rows
    assert rows[0] == rows[1] == {EMPTY_DIM: pytest.approx(1e-6)}
    assert EMPTY_DIM not in query_weights("في من على نص")
    assert all(0 <= term_dim(t) < EMPTY_DIM for t in ("قوات", "oil", "x" * 500))


def test_query_of_stopwords_has_no_terms() -> None:
    assert query_weights("في من على") == {}
    assert query_weights("القوات القوات") == {term_dim("قوات"): 2.0}


def test_empty_corpus_has_no_rows() -> None:
    assert passage_weights([]).rows == ()


def test_config_rejects_unknown_store_and_engine() -> None:
    with pytest.raises(InputError, match="store='qdrant' is not valid; choose one of faiss, milvus"):
        SanadConfig(store="qdrant")
    with pytest.raises(InputError, match="index_engine='spark'"):
        SanadConfig(index_engine="spark")
    env = {"SANAD_STORE": "milvus", "SANAD_MILVUS_URI": "http://127.0.0.1:19530"}
    assert SanadConfig.from_env(env).store == "milvus"


def test_default_alias_differs_per_index_folder(tmp_path) -> None:
    from rag.stores import default_alias

    assert default_alias(tmp_path / "a") != default_alias(tmp_path / "b")
    assert default_alias(tmp_path / "a") == default_alias(tmp_path / "a")
