"""The whole index path on Milvus: Indexer writes a collection per version and switches the alias;
Retriever (and so search/ask/eval) gives the FAISS index's hits for every mode and filter; removing an
article is the next version; a failed build leaves the previous version serving."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from rag.config import SanadConfig
from rag.errors import SanadError
from rag.index import live_version, load_index
from rag.indexer import Indexer
from rag.retrieval import Retriever
from rag.types import Filters
from tests.conftest import FakeEmbedder, write_corpus

pytestmark = [pytest.mark.scale, pytest.mark.slow]

QUESTIONS = [
    "القوات العراقية في الأنبار",
    "مساعدات إنسانية للشعب السوري",
    "Oil prices OPEC",
    "صندوق النقد الدولي والاقتصاد العالمي",
    "اجتماع التحالف الدولي في واشنطن",
]


class DistinctEmbedder(FakeEmbedder):
    """The fake bag-of-words embedder plus a little per-text noise: no two passages tie with a question
    (ties get ranks in each engine's own order, and hybrid fusion turns ranks into scores)."""

    def _encode(self, texts):
        out = super()._encode(texts)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "big")
            out[i] += 0.05 * np.random.default_rng(seed).standard_normal(out.shape[1]).astype(np.float32)
            out[i] /= np.linalg.norm(out[i])
        return out


@pytest.fixture
def pair(tmp_path: Path, milvus_server):
    """The tiny corpus indexed twice with the same (fake, deterministic) embedder: FAISS files and Milvus."""
    corpus = write_corpus(tmp_path / "corpus")
    # Milvus fuses hybrid hits with its own RRF ranker: the FAISS side is compared under the same fusion
    # (the in-process default, z-score fusion, needs the BM25 vocabulary, which a Milvus version lacks).
    base = SanadConfig(model_dir=tmp_path / "models", chunk_tokens=24, chunk_overlap_tokens=8, fusion="rrf")
    faiss_cfg = base.with_overrides(index_dir=tmp_path / "faiss")
    milvus_cfg = base.with_overrides(index_dir=tmp_path / "milvus", store="milvus", milvus_uri=milvus_server.uri)
    embedder = DistinctEmbedder()
    Indexer(faiss_cfg, embedder).index_paths([corpus])
    Indexer(milvus_cfg, embedder).index_paths([corpus])
    return faiss_cfg, milvus_cfg, embedder, corpus


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize(
    "filters", [None, Filters(doc_ids=("a02_syria_aid", "a03_coalition_meeting"))], ids=["all", "two-articles"]
)
def test_milvus_index_gives_the_faiss_indexs_hits(pair, mode: str, filters) -> None:
    faiss_cfg, milvus_cfg, embedder, _ = pair
    a, b = Retriever.load(faiss_cfg, embedder), Retriever.load(milvus_cfg, embedder)
    assert a.index.searcher is None and b.index.searcher is not None
    for q in QUESTIONS:
        want = a.search(q, k=5, mode=mode, filters=filters)
        got = b.search(q, k=5, mode=mode, filters=filters)
        assert [round(h.score, 5) for h in got] == [round(h.score, 5) for h in want], (q, mode)
        assert _by_score(got) == _by_score(want), (q, mode)  # equal scores may come in either order
        assert all(h.title for h in got)


def _by_score(hits) -> dict[float, set[str]]:
    """score -> chunk ids, leaving out the lowest score (a tie there is cut differently by each engine)."""
    groups: dict[float, set[str]] = {}
    for h in hits:
        groups.setdefault(round(h.score, 5), set()).add(h.chunk_id)
    if hits:
        groups.pop(round(hits[-1].score, 5))
    return groups


def test_remove_article_publishes_a_version_without_it(pair) -> None:
    _, milvus_cfg, embedder, _ = pair
    from rag.stores import store_for

    store = store_for(milvus_cfg)
    before = store.live_collection()
    Indexer(milvus_cfg, embedder).remove(["a02_syria_aid"])
    after = store.live_collection()
    assert after != before and after.endswith(live_version(milvus_cfg.index_dir).name.replace("-", "_"))
    hits = Retriever.load(milvus_cfg, embedder).search("المساعدات الإنسانية والتحالف الدولي", k=10, mode="bm25")
    assert hits and all(h.doc_id != "a02_syria_aid" for h in hits)
    assert len(store.versions()) == 2  # the new version and the previous one (for readers still on it)


def test_failed_milvus_build_keeps_the_previous_version_live(pair, tmp_path: Path) -> None:
    """The server dies during an update: a clear error naming the URI; CURRENT and the alias stay."""
    from rag.distributed.local import MilvusLiteServer
    from rag.stores import StoreUnavailableError

    faiss_cfg, _, embedder, corpus = pair
    with MilvusLiteServer(tmp_path / "own") as server:
        cfg = faiss_cfg.with_overrides(index_dir=tmp_path / "own-index", store="milvus", milvus_uri=server.uri)
        Indexer(cfg, embedder).index_paths([corpus])
        live = live_version(cfg.index_dir).name
        (corpus / "a06_new.txt").write_text("خبر جديد\nارتفعت أسعار الذهب في الأسواق اليوم.\n", encoding="utf-8")
        server.kill()
        with pytest.raises(StoreUnavailableError, match=server.uri.replace(".", r"\.")):
            Indexer(cfg, embedder).index_paths([corpus])
        assert live_version(cfg.index_dir).name == live
    with MilvusLiteServer(tmp_path / "own", port=server.port):  # back up: the previous version serves on
        index = load_index(cfg.index_dir)
        assert "a06_new" not in index.articles
        assert Retriever.load(cfg, embedder).search("القوات العراقية", k=3)


def test_search_with_milvus_down_raises_naming_the_uri(pair, tmp_path: Path) -> None:
    _, milvus_cfg, embedder, _ = pair
    from rag.distributed.local import free_port

    moved = milvus_cfg.with_overrides(milvus_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SanadError, match="SANAD_MILVUS_URI"):
        Retriever.load(moved, embedder)  # another URI than the one the version lives in
