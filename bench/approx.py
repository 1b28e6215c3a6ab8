"""Pieces of the search section: approximate indexes swept against exact search (recall, latency, build time),
the bytes a FAISS index and the passage objects take, and the query timer they share (used by :mod:`bench.search`)."""

from __future__ import annotations

import json
import logging
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np

from bench.core import Stopwatch, recall_at_k, rss_bytes, summarize_ms
from bench.search_summary import RECALL_TARGET
from rag.config import SanadConfig
from rag.index import live_version
from rag.store import VectorStore

logger = logging.getLogger(__name__)

RECALL_K = 10


def _timed(fn: Callable[[str], object], queries: Sequence[str], repeats: int, warmup: int = 3) -> list[float]:
    for q in queries[:warmup]:
        fn(q)
    times = []
    for _ in range(max(1, repeats)):
        for q in queries:
            with Stopwatch() as sw:
                fn(q)
            times.append(sw.s)
    return times


def faiss_nbytes(store: VectorStore) -> dict[str, int]:
    """Bytes of the stored vectors and of the index structure around them (HNSW graph, IVF lists...)."""
    import faiss

    index = faiss.downcast_index(store.index)
    vectors = len(store) * store.dim * 4
    if hasattr(index, "hnsw"):
        h = index.hnsw
        graph = h.neighbors.size() * 4 + h.levels.size() * 4 + h.offsets.size() * 8 + h.assign_probas.size() * 8
        storage = faiss.downcast_index(index.storage)
        code = getattr(storage, "code_size", store.dim * 4)
        return {"vectors": int(len(store) * code), "structure": int(graph)}
    if isinstance(index, faiss.IndexFlat):
        return {"vectors": vectors, "structure": 0}
    ivf = faiss.try_extract_index_ivf(store.index)
    if ivf is not None:  # codes in the inverted lists, plus one id per vector and the coarse centroids
        codes = len(store) * int(ivf.code_size)
        return {"vectors": codes, "structure": len(store) * 8 + int(ivf.nlist) * store.dim * 4}
    data = faiss.serialize_index(store.index)
    return {"vectors": 0, "structure": int(data.size)}


def metadata_bytes(config: SanadConfig, copies: int = 20) -> dict[str, float]:
    """Per passage: bytes on disk (chunks.jsonl, articles.json, embeddings.npy) and in Python memory."""
    from rag.types import Chunk

    version = live_version(config.index_dir)
    lines = [line for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    n = max(1, len(lines))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [Chunk.from_dict(json.loads(line)) for _ in range(copies) for line in lines]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    articles = version / "articles.json"
    return {
        "chunks_jsonl_disk": round((version / "chunks.jsonl").stat().st_size / n, 1),
        "articles_json_disk": round(articles.stat().st_size / n, 1) if articles.exists() else 0.0,
        "embeddings_npy_disk": round((version / "embeddings.npy").stat().st_size / n, 1),
        "chunk_objects_ram": round((after - before) / (n * copies), 1),
    }


def _exact(vectors: np.ndarray, query_vectors: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index.search(query_vectors, RECALL_K)[1]


def _bench_approx(
    factory,
    vectors,
    query_vectors,
    exact,
    questions,
    cached,
    config,
    ef_searches,
    nprobes,
    repeats,
    log,
    structure: str = "spread",
) -> tuple[VectorStore, dict]:
    """Build one approximate index and sweep its search breadth (HNSW efSearch or IVF nprobe)."""
    import faiss

    rss0 = rss_bytes()
    log(f"    building {factory} over {len(vectors):,} vectors ({structure})")
    with Stopwatch() as sw:
        store = VectorStore.build(vectors, factory)
    info: dict = {
        "factory": factory,
        "structure": structure,
        "build_s": round(sw.s, 2),
        "rss_delta_bytes": rss_bytes() - rss0,
        "bytes": faiss_nbytes(store),
        "sweep": [],
    }
    base = faiss.downcast_index(store.index)
    params = ParameterSpaceSetter(store.index)
    if hasattr(base, "hnsw"):
        info["ef_construction"] = int(base.hnsw.efConstruction)
        param, values, configured = "efSearch", [max(v, RECALL_K) for v in ef_searches], config.hnsw_ef_search
    elif params.has("nprobe"):
        param, values, configured = "nprobe", list(nprobes), getattr(config, "ivf_nprobe", None)
    else:
        param, values, configured = "", [None], None
    for value in values:
        if value is not None:
            params.set(param, value)
        _, rows_ = store.index.search(query_vectors, RECALL_K)
        lat = summarize_ms(_timed(lambda q, s=store: s.search(cached.embed_queries([q]), RECALL_K), questions, repeats))
        info["sweep"].append(
            {"param": param, "value": value, "recall_at_10": round(recall_at_k(rows_, exact, RECALL_K), 4), **lat}
        )
        log(
            f"    {factory} ({structure}) {param}={value}: recall@10 {info['sweep'][-1]['recall_at_10']}, p95 {lat['p95_ms']} ms"
        )
    good = [s for s in info["sweep"] if s["recall_at_10"] >= RECALL_TARGET]
    if good:
        info["best"] = min(good, key=lambda s: s["p95_ms"])
    if param:  # the Retriever rows use the best setting, or the one with the highest recall when none is good
        chosen = info["best"] if good else max(info["sweep"], key=lambda s: s["recall_at_10"])
        params.set(param, chosen["value"])
        info["retriever_setting"] = {"param": param, "value": chosen["value"]}
    if configured is not None:
        info["configured"] = {
            "param": param,
            "value": configured,
            "recall_at_10": next((s["recall_at_10"] for s in info["sweep"] if s["value"] == configured), None),
        }
    return store, info


class ParameterSpaceSetter:
    """Sets a FAISS search parameter (efSearch, nprobe) on any index type that has it."""

    def __init__(self, index) -> None:
        import faiss

        self.index = index
        self.space = faiss.ParameterSpace()

    def has(self, name: str) -> bool:
        import faiss

        base = faiss.downcast_index(self.index)
        return hasattr(base, name) or (name == "nprobe" and faiss.try_extract_index_ivf(self.index) is not None)

    def set(self, name: str, value) -> None:
        self.space.set_index_parameter(self.index, name, value)
