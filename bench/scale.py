"""``sanad bench --sections scale`` / ``python -m bench.scale``: Ray and Milvus against the local engines, real news.

What one run measures, on the same passages of SaudiNewsNet (31,030 Arabic articles from 14 outlets,
``../shared/corpora/saudinewsnet``; read in place, never copied into the project):

1. **Indexing throughput** (passages/s, wall time per stage): the local engine (one process, the
   configured threads) and Ray with 1 and 2 worker nodes (a real local cluster of ``ray start``
   node processes, one model-holding actor per worker), each embedding the same
   ``--throughput-passages``; the vectors are checked to be the local engine's.
2. **The index of the chosen articles** (``--limit``; all 31k when not given) embedded through Ray
   (2 workers), then built as FAISS + BM25 and as a Milvus collection (a ``milvus-lite server``
   process), with the time and memory per passage of each.
3. **Query latency** p50/p95 and **recall@10** against exact search, for FAISS and Milvus, dense and
   hybrid, with real Arabic headlines of the corpus as questions; then the same at synthetic sizes
   beyond the corpus (``--sizes``, e.g. 1M: vectors around the real ones, as ``bench/synth.py``
   builds them; dense only there, since the synthetic texts carry no meaning).

Everything runs on this machine: "workers" are node processes sharing its cores, so the 2-worker
figure shows what Ray adds or costs per core, not what two machines give (see docs/scaling.md).
Milvus here is Milvus Lite (a pure-Python engine behind the real Milvus protocol), so its latency
is that engine's, not Milvus standalone's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.core import host_info, ratio, recall_at_k, summarize_ms
from rag.config import SanadConfig
from rag.errors import InputError
from rag.types import Article, Chunk, content_hash

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIRS = (REPO_ROOT.parent / "shared" / "corpora" / "saudinewsnet", Path("/work/shared/corpora/saudinewsnet"))


def find_corpus(path: Path | None = None) -> Path:
    for folder in [path] if path else list(CORPUS_DIRS):
        if folder and folder.is_dir() and any(folder.glob("*.zip")):
            return folder
    looked = ", ".join(str(p) for p in ([path] if path else CORPUS_DIRS))
    raise InputError(f"SaudiNewsNet not found (looked in {looked}); pass --corpus FOLDER with its daily .zip files")


def sample_articles(folder: Path, limit: int | None = None) -> list[Article]:
    """All articles, or ``limit`` of them spread evenly over the corpus (every outlet and day, not the first day's)."""
    articles = list(read_saudinewsnet(folder))
    if limit is None or limit >= len(articles):
        return articles
    step = len(articles) / max(1, limit)
    return [articles[int(i * step)] for i in range(limit)]


def read_saudinewsnet(folder: Path, limit: int | None = None) -> Iterator[Article]:
    """Articles of the daily ZIP files in date order, as :class:`~rag.types.Article` with outlet, date, URL."""
    count = 0
    for archive in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for name in sorted(zf.namelist()):
                if not name.endswith(".json"):
                    continue
                for rec in json.loads(zf.read(name).decode("utf-8")):
                    text = (rec.get("content") or "").strip()
                    if not text:
                        continue
                    url = rec.get("url") or ""
                    yield Article(
                        doc_id=f"{archive.stem}_{content_hash(url or text)}",
                        title=rec.get("title") or "",
                        text=text,
                        origin=f"{archive.name}:{url}",
                        published=(rec.get("date_extracted") or "")[:10],
                        source=rec.get("source") or "",
                        url=url,
                        author=rec.get("author") or "",
                    )
                    count += 1
                    if limit is not None and count >= limit:
                        return


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _latencies(fn: Callable[[int], Any], n: int) -> dict[str, float]:
    return _timed_results(fn, n)[0]


def _timed_results(fn: Callable[[int], Any], n: int) -> tuple[dict[str, float], list[Any]]:
    """Latency summary of ``fn(0..n-1)`` and what each call returned: one pass (a Milvus Lite query at 1M takes seconds)."""
    times, results = [], []
    for i in range(n):
        t0 = time.perf_counter()
        results.append(fn(i))
        times.append(time.perf_counter() - t0)
    return summarize_ms(times), results


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def _checkpoint(work_dir: Path, result: dict) -> None:
    """The result so far, so that a run killed late (Milvus Lite at 1M is memory-hungry) keeps its earlier stages."""
    tmp = work_dir / "partial.json.tmp"
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    tmp.replace(work_dir / "partial.json")


def _cached_vectors(
    work_dir: Path, texts: Sequence[str], embedder, compute: Callable[[], np.ndarray]
) -> tuple[float, np.ndarray, bool]:
    """Vectors of ``texts`` from an earlier run of the same passages and model (keyed by their hash), else computed and kept."""
    key = content_hash("\n".join([embedder.model_name, *texts]))[:16]
    path = work_dir / f"vectors-{key}.npy"
    if path.exists():
        return 0.0, np.load(path), True
    seconds, vectors = _timed(compute)
    np.save(work_dir / f".vectors-{key}.npy", vectors)
    (work_dir / f".vectors-{key}.npy").replace(path)
    return seconds, vectors, False


def _dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# -- 1. indexing throughput ---------------------------------------------------------------------
def bench_throughput(
    embedder, texts: Sequence[str], workers: Sequence[int], token: Path, log, *, batch_size: int = 256
) -> tuple[dict, np.ndarray]:
    """The same passages through the local engine and through Ray with each worker count (and the local vectors)."""
    from rag.distributed.local import LocalRayCluster
    from rag.distributed.ray_index import RayEmbedder

    out: dict[str, Any] = {"passages": len(texts)}
    seconds, reference = _timed(lambda: embedder.embed_passages(list(texts)))
    out["local"] = {
        "threads": embedder.threads,
        "embed_s": round(seconds, 2),
        "passages_per_s": round(len(texts) / seconds, 2),
    }
    log(
        f"  local engine ({embedder.backend}, {embedder.threads} thread(s)): "
        f"{out['local']['passages_per_s']} passages/s"
    )
    for w in workers:
        t0 = time.perf_counter()
        with LocalRayCluster(workers=w, head_cpus=0, worker_cpus=embedder.threads, token_path=token) as cluster:
            start_s = time.perf_counter() - t0
            with RayEmbedder(
                embedder, address=cluster.address, workers=w, batch_size=batch_size, stall_timeout_s=1800
            ) as ray_embedder:
                seconds, vectors = _timed(lambda e=ray_embedder: e.embed_passages(list(texts)))
                timings = dict(ray_embedder.timings)
        row = {
            "workers": w,
            "cluster_start_s": round(start_s, 2),
            "join_s": round(timings.get("ray_start_s", 0), 2),
            "embed_s": round(timings.get("embed_s", seconds), 2),
            "first_batch_s": round(timings.get("first_batch_s", 0), 2),
            "passages_per_s": round(len(texts) / timings.get("embed_s", seconds), 2),
            "steady_passages_per_s": round(timings.get("steady_passages_per_s", 0), 2) or None,
            "max_abs_diff_vs_local": float(np.abs(vectors - reference).max()),
        }
        out[f"ray_{w}"] = row
        log(
            f"  Ray, {w} worker node(s): {row['passages_per_s']} passages/s, {row['steady_passages_per_s']} once the "
            f"actors hold the model (cluster start {row['cluster_start_s']} s, first batch {row['first_batch_s']} s, "
            f"max |Δ| to local {row['max_abs_diff_vs_local']:.1e})"
        )
    if len(workers) >= 2:
        a, b = out[f"ray_{workers[0]}"], out[f"ray_{workers[-1]}"]
        out[f"ratio_ray_{workers[-1]}_vs_{workers[0]}"] = ratio(b["passages_per_s"], a["passages_per_s"])
        out[f"ratio_ray_{workers[-1]}_vs_{workers[0]}_steady"] = ratio(
            b["steady_passages_per_s"], a["steady_passages_per_s"]
        )
    out["ratio_ray_1_vs_local"] = ratio(out.get("ray_1", {}).get("passages_per_s"), out["local"]["passages_per_s"])
    return out, reference


# -- 2 and 3. the index in both stores, then queries ---------------------------------------------
def build_stores(
    chunks: Sequence[Chunk],
    articles: dict[str, Article],
    vectors: np.ndarray,
    milvus_uri: str,
    config: SanadConfig,
    version: str,
    log,
    *,
    lexical: bool = True,
) -> dict:
    """The same passages as FAISS (+ BM25 when ``lexical``) and as a Milvus collection, timed and sized."""
    from bench.search import faiss_nbytes
    from bench.synth import bm25_nbytes
    from rag.bm25 import BM25Index
    from rag.store import VectorStore, choose_factory
    from rag.stores import StoreRow
    from rag.stores.milvus import MilvusStore

    factory = choose_factory(
        config.index_factory,
        len(chunks),
        approx_factory=config.approx_factory,
        approx_threshold=config.approx_threshold,
    )
    faiss_s, store = _timed(lambda: VectorStore.build(vectors, factory, nprobe=config.ivf_nprobe))
    bm25_s, bm25 = _timed(lambda: BM25Index.build([c.text for c in chunks]) if lexical else None)
    rows = [
        StoreRow(c.chunk_id, c.doc_id, c.text, source=articles[c.doc_id].source, published=articles[c.doc_id].published)
        for c in chunks
    ]
    milvus = MilvusStore(milvus_uri, alias="bench", timeout_s=3600)
    milvus_s, _ = _timed(
        lambda: milvus.write_version(version, rows, vectors, factory=factory, nprobe=config.ivf_nprobe)
    )
    milvus.publish(version)
    n = max(1, len(chunks))
    fb = faiss_nbytes(store)
    bb = bm25_nbytes(bm25) if bm25 is not None else {}
    log(
        f"  FAISS {factory} {faiss_s:.1f} s, BM25 {bm25_s:.1f} s, Milvus collection (insert, index, load) "
        f"{milvus_s:.1f} s"
    )
    return {
        "factory": factory,
        "faiss": store,
        "bm25": bm25,
        "milvus": milvus.searcher(version),
        "milvus_store": milvus,
        "row": {
            "passages": len(chunks),
            "factory": factory,
            "faiss_build_s": round(faiss_s, 2),
            "bm25_build_s": round(bm25_s, 2),
            "milvus_write_s": round(milvus_s, 2),
            "faiss_bytes_per_passage": round((fb["vectors"] + fb["structure"]) / n, 1),
            "bm25_bytes_per_passage": round(sum(bb.values()) / n, 1) if bb else None,
        },
    }


def bench_queries(
    stores: dict, vectors: np.ndarray, questions: Sequence[str], qvecs: np.ndarray, config: SanadConfig, *, hybrid: bool
) -> dict:
    """p50/p95 and recall@10 vs exact search, FAISS and Milvus; hybrid agreement when ``hybrid``."""
    from rag.hybrid import rrf

    k, n_q = 10, len(questions)
    exact = np.argsort(-(qvecs @ vectors.T), axis=1, kind="stable")[:, :k]
    faiss_t, faiss_hits = _timed_results(lambda i: stores["faiss"].search(qvecs[i : i + 1], k)[0], n_q)
    milvus_t, milvus_hits = _timed_results(lambda i: stores["milvus"].dense(qvecs[i : i + 1], k)[0], n_q)
    faiss_rows = [[h.row for h in hits] for hits in faiss_hits]
    milvus_rows = [[h.row for h in hits] for hits in milvus_hits]
    out: dict[str, Any] = {
        "faiss_dense": {**faiss_t, "recall_at_10": round(recall_at_k(faiss_rows, exact.tolist(), k), 4)},
        "milvus_dense": {**milvus_t, "recall_at_10": round(recall_at_k(milvus_rows, exact.tolist(), k), 4)},
    }
    if hybrid and stores["bm25"] is not None:
        depth = config.candidate_k

        def faiss_hybrid(i: int) -> list[int]:
            dense = [str(h.row) for h in stores["faiss"].search(qvecs[i : i + 1], depth)[0]]
            lexical = [str(h.row) for h in stores["bm25"].search(questions[i], depth)]
            return [int(r) for r, _, _ in rrf({"dense": dense, "bm25": lexical}, k=config.rrf_k)[:k]]

        def milvus_hybrid(i: int) -> list[int]:
            return [h.row for h in stores["milvus"].hybrid(qvecs[i], questions[i], k, depth=depth, rrf_k=config.rrf_k)]

        out["faiss_hybrid"], ours = _timed_results(faiss_hybrid, n_q)
        milvus_t, theirs = _timed_results(milvus_hybrid, n_q)
        out["milvus_hybrid"] = {**milvus_t, "overlap_at_10_vs_faiss_hybrid": round(recall_at_k(theirs, ours, k), 4)}
        out["bm25"] = _latencies(lambda i: stores["bm25"].search(questions[i], depth), n_q)
        out["milvus_sparse"] = _latencies(lambda i: stores["milvus"].lexical(questions[i], depth), n_q)
    out["ratio_milvus_vs_faiss_dense_p95"] = ratio(out["milvus_dense"].get("p95_ms"), out["faiss_dense"].get("p95_ms"))
    return out


def _milvus_memory(server, before: int) -> dict:
    return {
        "server_rss_bytes": _rss(server.proc.pid) if server.proc else 0,
        "server_rss_before": before,
        "data_dir_bytes": _dir_bytes(server.data_dir),
    }


def bench_scale(
    config: SanadConfig,
    *,
    corpus: Path | None = None,
    limit: int | None = None,
    throughput_passages: int = 2000,
    workers: Sequence[int] = (1, 2),
    n_queries: int = 50,
    synthetic_sizes: Sequence[int] = (),
    work_dir: Path = Path("bench/results/scale-work"),
    log: Callable[[str], None] = print,
) -> dict:
    """Run the scale section; returns its result record."""
    from rag.chunking import Chunker
    from rag.distributed.local import LocalRayCluster, MilvusLiteServer, ensure_token
    from rag.embeddings import Embedder

    work_dir.mkdir(parents=True, exist_ok=True)
    token = ensure_token(work_dir / "ray_auth_token")
    os.environ.update(LocalRayCluster(token_path=token).driver_env)  # before Ray is imported (it reads them once)
    result: dict[str, Any] = {"host": host_info(), "stages_s": {}}
    folder = find_corpus(corpus)
    read_s, articles = _timed(lambda: sample_articles(folder, limit))
    by_id = {a.doc_id: a for a in articles}
    embedder = Embedder.from_config(config)
    load_s, _ = _timed(embedder.load)
    chunker = Chunker(config.chunk_tokens, config.chunk_overlap_tokens, embedder.count_tokens)
    chunk_s, chunks = _timed(lambda: [c for a in by_id.values() for c in chunker.run(a)])
    outlets = len({a.source for a in by_id.values()})
    result["corpus"] = {
        "folder": str(folder),
        "articles": len(by_id),
        "outlets": outlets,
        "passages": len(chunks),
        "limit": limit,
    }
    result["stages_s"].update(read=round(read_s, 2), model_load=round(load_s, 2), chunk=round(chunk_s, 2))
    log(
        f"  {len(by_id):,} articles ({result['corpus']['outlets']} outlets) -> {len(chunks):,} passages "
        f"(read {read_s:.1f} s, chunk {chunk_s:.1f} s)"
    )
    texts = [c.text for c in chunks]

    log("  -- indexing throughput: local engine vs Ray")
    sample = texts[: min(throughput_passages, len(texts))]
    # Batches small enough that every worker gets several (the steady rate is measured after the first one).
    batch = max(16, min(256, len(sample) // (4 * max(workers)) // 16 * 16))
    result["throughput"], sample_vectors = bench_throughput(embedder, sample, workers, token, log, batch_size=batch)

    log(f"  -- embedding all {len(texts):,} passages through Ray ({max(workers)} workers)")
    from rag.distributed.ray_index import RayEmbedder

    _checkpoint(work_dir, result)

    def embed_all() -> np.ndarray:
        with (
            LocalRayCluster(
                workers=max(workers), head_cpus=0, worker_cpus=embedder.threads, token_path=token
            ) as cluster,
            RayEmbedder(embedder, address=cluster.address, stall_timeout_s=3600) as ray_embedder,
        ):
            return ray_embedder.embed_passages(texts, show_progress=True)

    if len(sample) == len(texts):
        vectors, embed_all_s = sample_vectors, result["throughput"]["local"]["embed_s"]
    else:
        embed_all_s, vectors, cached = _cached_vectors(work_dir, texts, embedder, embed_all)
        if cached:
            log("  (vectors of these passages from an earlier run: embed_all time not measured in this one)")
            result["stages_s"]["embed_all_cached"] = True
    result["stages_s"]["embed_all"] = round(embed_all_s, 2)
    _checkpoint(work_dir, result)

    questions = [a.title for a in list(by_id.values())[:: max(1, len(by_id) // n_queries)] if a.title][:n_queries]
    qvecs = embedder.embed_queries(questions)
    with MilvusLiteServer(work_dir / "milvus-data") as server:
        before = _rss(server.proc.pid)
        stores = build_stores(chunks, by_id, vectors, server.uri, config, "real", log)
        result["index"] = stores["row"] | {"milvus_memory": _milvus_memory(server, before)}
        result["index"]["milvus_server_bytes_per_passage"] = round(
            (result["index"]["milvus_memory"]["server_rss_bytes"] - before) / max(1, len(chunks)), 1
        )
        result["stages_s"].update(
            faiss_build=stores["row"]["faiss_build_s"],
            bm25_build=stores["row"]["bm25_build_s"],
            milvus_write=stores["row"]["milvus_write_s"],
        )
        log(f"  -- queries on the real index ({len(questions)} headlines)")
        result["queries_real"] = bench_queries(stores, vectors, questions, qvecs, config, hybrid=True)
        _checkpoint(work_dir, result)
        stores["milvus_store"].prune([])  # frees the server's memory for the synthetic sizes
        stores["milvus_store"].close()
        del stores
        result["synthetic"] = []
        for n in synthetic_sizes:
            result["synthetic"].append(_synthetic(n, vectors, qvecs, questions, server, config, log))
            _checkpoint(work_dir, result)
    shutil.rmtree(work_dir / "milvus-data", ignore_errors=True)  # the collections were only for measuring
    result["recommendation"] = _summary(result)
    return result


def _synthetic(n: int, real: np.ndarray, qvecs: np.ndarray, questions, server, config: SanadConfig, log) -> dict:
    from bench.synth import synthetic_vectors

    log(f"  -- synthetic {n:,} passages around the real vectors (dense)")
    vectors = synthetic_vectors(real[: min(len(real), 5000)], n, seed=1)
    chunks = [Chunk(f"s{i // 8}", i % 8, 0, 1, "x") for i in range(n)]
    articles = {c.doc_id: Article(c.doc_id, "", "x") for c in chunks[::8]}
    before = _rss(server.proc.pid)
    stores = build_stores(chunks, articles, vectors, server.uri, config, f"synthetic_{n}", log, lexical=False)
    row = {
        "n": n,
        **stores["row"],
        "queries": bench_queries(stores, vectors, questions, qvecs, config, hybrid=False),
        "milvus_server_bytes_per_passage": round((_rss(server.proc.pid) - before) / n, 1),
    }
    stores["milvus_store"].prune([])
    stores["milvus_store"].close()
    return row


def _summary(result: dict) -> dict:
    th, q = result.get("throughput", {}), result.get("queries_real", {})
    return {
        "ray_2_vs_1_workers": th.get("ratio_ray_2_vs_1"),
        "ray_2_vs_1_workers_steady": th.get("ratio_ray_2_vs_1_steady"),
        "ray_1_vs_local": th.get("ratio_ray_1_vs_local"),
        "milvus_vs_faiss_dense_p95": q.get("ratio_milvus_vs_faiss_dense_p95"),
        "milvus_dense_recall_at_10": q.get("milvus_dense", {}).get("recall_at_10"),
        "faiss_dense_recall_at_10": q.get("faiss_dense", {}).get("recall_at_10"),
    }


def render_markdown(result: dict) -> str:
    """The scale section as Markdown tables."""
    from bench.report import fmt, table

    c, th = result["corpus"], result["throughput"]
    lines = [f"### Scale: Ray and Milvus on SaudiNewsNet ({c['articles']:,} articles, {c['passages']:,} passages)", ""]
    rows = [
        ["local engine", th["local"]["threads"], th["local"]["passages_per_s"], "", th["local"]["embed_s"], "", "", ""]
    ]
    rows += [
        [
            f"Ray, {v['workers']} worker node(s)",
            v["workers"],
            v["passages_per_s"],
            v["steady_passages_per_s"],
            v["embed_s"],
            v["first_batch_s"],
            v["cluster_start_s"],
            f"{v['max_abs_diff_vs_local']:.1e}",
        ]
        for k, v in th.items()
        if k.startswith("ray_") and isinstance(v, dict)
    ]
    lines += table(
        [
            "engine",
            "workers/threads",
            "passages/s",
            "steady passages/s",
            "embed s",
            "first batch s",
            "cluster start s",
            "max abs diff",
        ],
        rows,
    )
    lines += [
        "",
        f"Ratios ({th['passages']:,} passages each): 2 workers / 1 worker {fmt(th.get('ratio_ray_2_vs_1'))} "
        f"(steady {fmt(th.get('ratio_ray_2_vs_1_steady'))}), Ray 1 worker / local "
        f"{fmt(th.get('ratio_ray_1_vs_local'))}.",
        "",
    ]
    lines += [*table(["stage", "seconds"], [[k, v] for k, v in result["stages_s"].items()]), ""]

    def qrows(q: dict) -> list[list]:
        return [
            [name, v.get("p50_ms"), v.get("p95_ms"), v.get("recall_at_10", v.get("overlap_at_10_vs_faiss_hybrid", ""))]
            for name, v in q.items()
            if isinstance(v, dict)
        ]

    ix = result["index"]
    lines += [
        f"Real index ({ix['passages']:,} passages, {ix.get('factory', '')}): FAISS "
        f"{ix['faiss_bytes_per_passage']} + BM25 {ix['bm25_bytes_per_passage']} bytes/passage in RAM; Milvus "
        f"server +{ix['milvus_server_bytes_per_passage']} bytes/passage RSS, "
        f"{ix['milvus_memory']['data_dir_bytes'] / max(1, ix['passages']):.0f} bytes/passage on disk.",
        "",
    ]
    header = ["search", "p50 ms", "p95 ms", "recall@10 (hybrid: overlap with FAISS hybrid)"]
    lines += [*table(header, qrows(result["queries_real"])), ""]
    for s in result.get("synthetic", []):
        lines += [
            f"Synthetic {s['n']:,} passages: Milvus write {s['milvus_write_s']} s, server "
            f"+{s['milvus_server_bytes_per_passage']} bytes/passage; FAISS {s['faiss_bytes_per_passage']} "
            f"bytes/passage",
            "",
        ]
        lines += [*table(["search", "p50 ms", "p95 ms", "recall@10"], qrows(s["queries"])), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from bench.run import parse_sizes

    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, help="SaudiNewsNet folder (default ../shared/corpora/saudinewsnet)")
    p.add_argument("--limit", type=int, help="articles to index (default: all 31,030)")
    p.add_argument("--throughput-passages", type=int, default=2000, help="passages per engine in the throughput runs")
    p.add_argument("--queries", type=int, default=50, help="headlines to time as questions")
    p.add_argument("--sizes", help="synthetic sizes beyond the corpus, e.g. 1M (default none)")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="results folder")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = SanadConfig.from_env()
    result = bench_scale(
        config,
        corpus=args.corpus,
        limit=args.limit,
        throughput_passages=args.throughput_passages,
        n_queries=args.queries,
        synthetic_sizes=parse_sizes(args.sizes) if args.sizes else (),
        work_dir=args.out / "scale-work",
        log=lambda s: print(s, flush=True),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (args.out / f"scale-{stamp}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    markdown = render_markdown(result)
    (args.out / "scale-latest.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
