"""Query latency (dense, BM25, hybrid) and memory at 1k..1M passages, and approximate-index recall.

Vectors are synthetic around real passage embeddings (:mod:`bench.synth`), queries are
real Arabic questions embedded once. The searches go through :class:`rag.retrieval.Retriever`
with a stand-in embedder that returns the precomputed question vectors, so the figures are
index search + fusion + result objects; the embedding of a question is timed separately
(and end to end once per size).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.approx import _bench_approx, _exact, _timed, faiss_nbytes, metadata_bytes
from bench.core import Stopwatch, load_average, rss_bytes, summarize_ms
from bench.data import seed_passages, seed_questions, xquad_paragraphs
from bench.search_summary import RECALL_TARGET, TARGET_P95_MS, summarize_search
from bench.synth import (
    STRUCTURES,
    SyntheticChunks,
    bm25_from_tokens,
    bm25_nbytes,
    synthetic_token_corpus,
    synthetic_vectors,
    top1_cosines,
)
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.index import IndexData, Manifest
from rag.retrieval import Retriever
from rag.store import VectorStore, choose_factory

logger = logging.getLogger(__name__)

RECALL_K = 10


class PrecomputedQueries:
    """Stands in for :class:`Embedder` in a Retriever: returns question vectors computed up front."""

    def __init__(self, embedder: Embedder, questions: Sequence[str], vectors: np.ndarray) -> None:
        self._embedder = embedder
        self._rows = {q.strip(): vectors[i] for i, q in enumerate(questions)}
        self.fingerprint = embedder.fingerprint

    def load(self) -> None:
        return None

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._rows[t.strip()] for t in texts]).astype(np.float32)


def _anchor_texts(config: SanadConfig, use_xquad: bool) -> list[str]:
    return seed_passages(config) + (xquad_paragraphs() if use_xquad else [])


def real_passage_vectors(embedder: Embedder, texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """Passage embeddings of ``texts`` (cached on disk by model and text hash)."""
    key = hashlib.sha256(("\x00".join([embedder.fingerprint, embedder.passage_prompt, *texts])).encode()).hexdigest()[
        :16
    ]
    path = cache_dir / f"anchors-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = embedder.embed_passages(list(texts))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def bench_search(
    config: SanadConfig,
    *,
    sizes: Sequence[int],
    repeats: int = 3,
    n_queries: int = 50,
    ef_searches: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024),
    nprobes: Sequence[int] = (8, 16, 32, 64, 128),
    approx_factories: Sequence[str] | None = None,
    approx_min_size: int = 10_000,
    use_xquad: bool = True,
    faiss_threads: Sequence[int] = (1, 2),
    structures: Sequence[str] = STRUCTURES,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Latency, recall and memory per corpus size; see the module doc."""
    import faiss

    approx_factories = tuple(dict.fromkeys(approx_factories or (config.approx_factory, "HNSW32,Flat", "IVF1024,Flat")))
    embedder = embedder or Embedder.from_config(config)
    embedder.load()
    questions = [q.question for q in seed_questions(lang="ar")][:n_queries]
    result: dict = {
        "queries": len(questions),
        "repeats": repeats,
        "recall_k": RECALL_K,
        "k": config.top_k,
        "candidate_k": config.candidate_k,
        "approx_factories": list(approx_factories),
        "faiss_threads": faiss.omp_get_max_threads(),
        "target_p95_ms": TARGET_P95_MS,
        "recall_target": RECALL_TARGET,
        "load_avg_start": load_average(),
        "sizes": [],
    }

    # 1. the question vectors, and what embedding one question costs on its own
    embedder.embed_queries(questions[:2])
    result["query_embedding"] = summarize_ms(_timed(lambda q: embedder.embed_queries([q]), questions, 1, warmup=0))
    result["query_embedding"]["threads"] = config.embed_threads
    query_vectors = embedder.embed_queries(questions)
    log(
        f"  query embedding (1 question, {config.embed_threads} thread(s)): "
        f"p50 {result['query_embedding']['p50_ms']} ms, p95 {result['query_embedding']['p95_ms']} ms"
    )

    # 2. real passages as anchors for synthetic vectors; real text for synthetic BM25 passages
    texts = _anchor_texts(config, use_xquad)
    anchors = real_passage_vectors(embedder, texts, cache_dir)
    seed_texts = seed_passages(config)
    from rag.textnorm import tokenize

    seed_lengths = [max(1, len(tokenize(t))) for t in seed_texts]
    result["anchors"] = {
        "passages": len(anchors),
        "seed": len(seed_texts),
        "xquad": len(texts) - len(seed_texts),
        "bm25_tokens_per_passage": round(float(np.mean(seed_lengths)), 1),
    }
    result["realism"] = {
        "query_top1_cosine_real": top1_cosines(query_vectors, anchors),
        "passage_nn_cosine_real": top1_cosines(anchors, anchors, k=2),
    }
    result["metadata_bytes_per_chunk"] = metadata_bytes(config)

    cached = PrecomputedQueries(embedder, questions, query_vectors)
    rows = []
    default_threads = faiss.omp_get_max_threads()
    local = locals()
    shared = {name: local[name] for name in _SIZE_INPUTS}  # what every size is measured with
    try:
        for n in sizes:
            rows.append(_bench_size(n, **shared))
    finally:
        faiss.omp_set_num_threads(default_threads)
    result["sizes"] = rows
    result["load_avg_end"] = load_average()
    result["summary"] = summarize_search(result, config)
    return result


_SIZE_INPUTS = (
    "config",
    "result",
    "anchors",
    "texts",
    "seed_texts",
    "seed_lengths",
    "questions",
    "query_vectors",
    "cached",
    "embedder",
    "approx_factories",
    "approx_min_size",
    "ef_searches",
    "nprobes",
    "faiss_threads",
    "structures",
    "repeats",
    "log",
)


def _bench_size(
    n,
    *,
    config,
    result,
    anchors,
    texts,
    seed_texts,
    seed_lengths,
    questions,
    query_vectors,
    cached,
    embedder,
    approx_factories,
    approx_min_size,
    ef_searches,
    nprobes,
    faiss_threads,
    structures,
    repeats,
    log,
) -> dict:
    """Everything measured at one corpus size (data is freed before returning)."""
    import faiss

    log(f"  size {n:,}: generating data")
    row: dict = {"n": n, "load_avg": load_average()}
    gc.collect()
    primary = structures[0]
    with Stopwatch() as sw:
        vectors = synthetic_vectors(anchors, n, seed=n, structure=primary)
    row["generate_vectors_s"] = round(sw.s, 2)
    row["structure"] = primary
    _realism(result, n, primary, anchors, vectors, query_vectors)

    # exact index: the reference
    rss0 = rss_bytes()
    with Stopwatch() as sw:
        flat = VectorStore.build(vectors, "Flat")
    row["flat"] = {"build_s": round(sw.s, 2), "rss_delta_bytes": rss_bytes() - rss0, "bytes": faiss_nbytes(flat)}
    _, exact = flat.index.search(query_vectors, RECALL_K)
    by_threads = {}
    for t in faiss_threads:
        faiss.omp_set_num_threads(t)
        by_threads[t] = summarize_ms(
            _timed(lambda q, s=flat: s.search(cached.embed_queries([q]), RECALL_K), questions, repeats)
        )
        log(f"    Flat, {t} FAISS thread(s): p50 {by_threads[t]['p50_ms']} ms, p95 {by_threads[t]['p95_ms']} ms")
    best_t = min(by_threads, key=lambda t: by_threads[t]["p95_ms"])
    faiss.omp_set_num_threads(best_t)
    row["faiss_threads"] = best_t
    row["flat"]["index_search_by_threads"] = {str(t): v for t, v in by_threads.items()}
    row["flat"]["index_search"] = by_threads[best_t]

    # approximate indexes: build time, memory, recall against exact, latency per search breadth; on the
    # primary corpus (kept for the Retriever rows below) and again on the other data structure(s)
    approx: dict[str, VectorStore] = {}
    row["approx"] = []
    factories = [f for f in approx_factories if f and f != "Flat"] if n >= approx_min_size else []
    for structure in structures:
        if structure != primary:
            if not factories:
                break
            del vectors, exact
            gc.collect()
            log(f"    {structure} corpus for the approximate indexes")
            vectors = synthetic_vectors(anchors, n, seed=n + 1, structure=structure)
            _realism(result, n, structure, anchors, vectors, query_vectors)
            exact = _exact(vectors, query_vectors)
        for factory in factories:
            nlist = re.match(r"IVF(\d+)", factory)
            if nlist and n < 39 * int(nlist.group(1)):  # FAISS's own minimum of training points per list
                log(f"    skipping {factory}: {n:,} vectors are too few to train {nlist.group(1)} lists")
                continue
            store, info = _bench_approx(
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
                structure=structure,
            )
            if structure == primary:
                approx[factory] = store
            else:
                del store
            row["approx"].append(info)
    del vectors
    gc.collect()

    # BM25 over synthetic passages of real tokens
    rss0 = rss_bytes()
    with Stopwatch() as sw:
        corpus = synthetic_token_corpus(texts, n, lengths=seed_lengths, seed=n)
        bm25 = bm25_from_tokens(corpus)
    row["bm25"] = {
        "build_s": round(sw.s, 2),
        "vocab": len(corpus.vocab),
        "tokens": int(corpus.offsets[-1]),
        "bytes": bm25_nbytes(bm25),
    }
    del corpus
    gc.collect()
    row["bm25"]["rss_delta_bytes"] = rss_bytes() - rss0

    # searches through the Retriever (what `sanad search` runs), with the store "auto" would pick
    auto = choose_factory("auto", n, approx_factory=config.approx_factory, approx_threshold=config.approx_threshold)
    chunks = SyntheticChunks(n, seed_texts)
    manifest = Manifest(
        embedding_model=embedder.fingerprint,
        dim=flat.dim,
        chunk_tokens=config.chunk_tokens,
        chunk_overlap_tokens=config.chunk_overlap_tokens,
        index_factory=auto,
        n_chunks=n,
    )
    stores = {"Flat": flat, **approx}
    if auto not in stores:
        auto = "Flat"
    row["retriever"] = {}
    for name, store in stores.items():
        retriever = Retriever(IndexData(manifest, {}, chunks, store, bm25), cached, config)  # type: ignore[arg-type]
        modes = ("dense", "bm25", "hybrid") if name == "Flat" else ("dense", "hybrid")
        for mode in modes:
            lat = summarize_ms(_timed(lambda q, r=retriever, m=mode: r.search(q, mode=m), questions, repeats))
            key = mode if mode == "bm25" else f"{mode}:{name}"
            row["retriever"][key] = lat
            log(f"    {key}: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    row["auto_store"] = auto
    # end to end once: real question embedding + search with the auto store
    retriever = Retriever(IndexData(manifest, {}, chunks, stores.get(auto, flat), bm25), embedder, config)  # type: ignore[arg-type]
    row["retriever"]["dense_end_to_end"] = summarize_ms(
        _timed(lambda q, r=retriever: r.search(q, mode="dense"), questions, 1)
    )
    row["retriever"]["hybrid_end_to_end"] = summarize_ms(
        _timed(lambda q, r=retriever: r.search(q, mode="hybrid"), questions, 1)
    )
    log(f"    dense end to end ({auto}): p95 {row['retriever']['dense_end_to_end']['p95_ms']} ms")

    # memory per passage
    fb = row["flat"]["bytes"]
    mem = {
        "vectors": fb["vectors"] / n,
        "flat_structure": fb["structure"] / n,
        "bm25_matrix": row["bm25"]["bytes"]["matrix"] / n,
        "bm25_vocab": row["bm25"]["bytes"]["vocab"] / n,
        "chunk_objects_ram": result["metadata_bytes_per_chunk"]["chunk_objects_ram"],
    }
    for info in row["approx"]:
        if info["structure"] == primary:
            mem[f"structure:{info['factory']}"] = info["bytes"]["structure"] / n
    store_extra = mem.get(f"structure:{auto}", mem["flat_structure"])
    mem["total_ram_auto"] = (
        mem["vectors"] + store_extra + mem["bm25_matrix"] + mem["bm25_vocab"] + mem["chunk_objects_ram"]
    )
    row["bytes_per_chunk"] = {k: round(v, 1) for k, v in mem.items()}
    del flat, approx, bm25, stores, retriever, chunks
    gc.collect()
    return row


def _realism(result: dict, n: int, structure: str, anchors, vectors, query_vectors) -> None:
    """How the synthetic corpus looks to a query and to its own passages (cosines), next to the real ones."""
    real = len(anchors)
    if n >= real + 10_000:
        key = f"{structure}_{n}"
        result["realism"][f"query_top1_cosine_{key}"] = top1_cosines(query_vectors, vectors[real:])
        result["realism"][f"query_top10_cosine_{key}"] = top1_cosines(query_vectors, vectors, k=10)
        result["realism"][f"passage_nn_cosine_{key}"] = top1_cosines(vectors[real : real + 200], vectors[real:], k=2)
