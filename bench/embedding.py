"""Indexing throughput of the embedder: batch size x threads, length-sorted batching, ONNX Runtime, OpenVINO.

All variants embed the same passages (the seed passages cycled to ~200) and are compared
with the default configuration's vectors; only a variant whose every vector has cosine
>= 0.999 with the default one may be recommended.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.core import Stopwatch, load_average
from bench.data import repeat_to, seed_passages
from bench.embedding_onnx import export_onnx, onnx_status, onnxruntime_encoder, quantize_onnx
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.models.openvino_encoder import SAME_EMBEDDINGS_COSINE, ExportedEncoder, load_openvino_encoder, pooling_mode

logger = logging.getLogger(__name__)


def sorts_by_length() -> dict:
    """Whether this sentence-transformers version sorts inputs by length inside ``encode`` (read from its source)."""
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    try:
        source = inspect.getsource(SentenceTransformer._inference)
        where = "SentenceTransformer._inference"
    except (AttributeError, OSError, TypeError):
        source = inspect.getsource(SentenceTransformer.encode)
        where = "SentenceTransformer.encode"
    found = "length_sorted_idx" in source and "argsort" in source
    return {
        "sentence_transformers": sentence_transformers.__version__,
        "sorted": found,
        "where": where,
        "how": "np.argsort(-len(text)) over the whole input list, then batches in that order, results "
        "restored to input order"
        if found
        else "not found in the source",
    }


def token_counts(model, texts: Sequence[str], prompt: str) -> list[int]:
    """Tokens the model actually processes per text (prompt and special tokens included, truncated)."""
    enc = model.tokenizer([prompt + t.strip() for t in texts], truncation=True, max_length=model.max_seq_length)
    return [len(ids) for ids in enc["input_ids"]]


def padded_tokens(lengths: Sequence[int], batch_size: int, *, sort: bool) -> int:
    """Token slots computed when batching ``lengths`` (every row padded to its batch's longest).

    Example:
        >>> padded_tokens([1, 9, 1, 9], 2, sort=False), padded_tokens([1, 9, 1, 9], 2, sort=True)
        (36, 20)
    """
    order = sorted(lengths, reverse=True) if sort else list(lengths)
    return sum(
        max(order[i : i + batch_size]) * len(order[i : i + batch_size]) for i in range(0, len(order), batch_size)
    )


def _min_cos(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.min(np.sum(a * b, axis=1))), 6)


def _time_encode(encode: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        with Stopwatch() as sw:
            out = encode()
        best = min(best, sw.s)
    return best, out  # type: ignore[return-value]


# -- the section -------------------------------------------------------------------------------------
def bench_indexing(
    config: SanadConfig,
    *,
    n_passages: int = 200,
    batch_sizes: Sequence[int] = (1, 8, 16, 32),
    threads: Sequence[int] = (1, 2),
    repeats: int = 1,
    unsorted_batch_sizes: Sequence[int] = (16, 32),
    onnx: bool = True,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Passages per second and tokens per second for each configuration; see the module doc.

    Every row's vectors are compared with PyTorch's at the default threads and batch size (the
    reference implementation); ``default`` is the row of the engine the configuration runs.
    """
    import torch

    embedder = embedder or Embedder.from_config(config)
    embedder.load()
    model = embedder.model
    base = seed_passages(config)
    texts = repeat_to(base, n_passages)
    prompt = embedder.passage_prompt
    lengths = token_counts(model, texts, prompt)
    n_tokens = int(sum(lengths))
    result: dict = {
        "passages": len(texts),
        "distinct_passages": len(base),
        "tokens": n_tokens,
        "mean_tokens_per_passage": round(n_tokens / len(texts), 1),
        "max_seq_length": model.max_seq_length,
        "load_avg_start": load_average(),
        "length_sorting": sorts_by_length(),
    }
    default_threads, default_batch = config.embed_threads, config.embed_batch_size
    original_threads = torch.get_num_threads()

    def encode(batch_size: int, subset: Sequence[str] = texts) -> np.ndarray:
        return model.encode(
            list(subset),
            prompt=prompt,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    try:
        torch.set_num_threads(default_threads)
        encode(default_batch, texts[:default_batch])  # warm-up
        ref_s, reference = _time_encode(lambda: encode(default_batch), 1)
        rows = []
        for t in threads:
            torch.set_num_threads(t)
            for bs in batch_sizes:
                encode(bs, texts[: max(bs, 2)])
                secs, vectors = _time_encode(lambda bs=bs: encode(bs), repeats)
                row = _row("torch", t, bs, secs, len(texts), n_tokens, _min_cos(vectors, reference))
                rows.append(row)
                log(
                    f"  embed torch threads={t} batch={bs}: {row['chunks_per_s']} chunks/s, "
                    f"{row['tokens_per_s']} tokens/s"
                )
        # Unsorted batching: feed fixed batches in a shuffled order, one encode() call per batch, so the
        # library's sort can only act inside each batch (the same as no sorting at all).
        rng = np.random.default_rng(0)
        shuffled_idx = rng.permutation(len(texts))
        shuffled = [texts[i] for i in shuffled_idx]
        best_t = max(threads, key=lambda t: max((r["chunks_per_s"] for r in rows if r["threads"] == t), default=0))
        torch.set_num_threads(best_t)
        sorting = []
        for bs in unsorted_batch_sizes:

            def unsorted(bs: int = bs) -> np.ndarray:
                return np.vstack([encode(bs, shuffled[i : i + bs]) for i in range(0, len(shuffled), bs)])

            s_unsorted, v_unsorted = _time_encode(unsorted, repeats)
            s_sorted, _ = _time_encode(lambda bs=bs: encode(bs, shuffled), repeats)
            back = np.empty_like(v_unsorted)
            back[shuffled_idx] = v_unsorted
            shuffled_lengths = [lengths[i] for i in shuffled_idx]
            sorting.append(
                {
                    "threads": best_t,
                    "batch_size": bs,
                    "sorted_s": round(s_sorted, 3),
                    "unsorted_s": round(s_unsorted, 3),
                    "speedup": round(s_unsorted / s_sorted, 3),
                    "padded_tokens_sorted": padded_tokens(shuffled_lengths, bs, sort=True),
                    "padded_tokens_unsorted": padded_tokens(shuffled_lengths, bs, sort=False),
                    "real_tokens": n_tokens,
                    "min_cosine_vs_default": _min_cos(back, reference),
                }
            )
            log(f"  length sorting batch={bs}: sorted {s_sorted:.2f}s vs unsorted {s_unsorted:.2f}s")
        result["sorting"] = sorting

        status = onnx_status()
        result["onnx_status"] = status
        if onnx and status.get("onnxruntime") and status.get("onnx") and cache_dir is not None:
            if pooling_mode(model) != "mean":
                result["onnx_error"] = "the model's pooling is not mean pooling; the ONNX comparison covers mean only"
            else:
                try:
                    errors: list[str] = []
                    rows.extend(
                        _bench_onnx(
                            model,
                            texts,
                            prompt,
                            reference,
                            n_tokens,
                            threads,
                            [b for b in batch_sizes if b > 1] or [default_batch],
                            repeats,
                            cache_dir,
                            log,
                            errors,
                        )
                    )
                    if errors:
                        result["onnx_error"] = "; ".join(errors)
                except Exception as exc:  # noqa: BLE001 - the optional backend failing is a finding, not a crash
                    logger.warning("ONNX Runtime comparison failed: %s", exc)
                    result["onnx_error"] = f"{type(exc).__name__}: {exc}"
        elif onnx:
            result["onnx_error"] = (
                "onnxruntime and onnx are not installed (`pip install onnxruntime onnx`)"
                if cache_dir is not None
                else "no cache folder for the exported model"
            )
    finally:
        torch.set_num_threads(original_threads)

    engine = embedder.backend or "torch"  # what Sanad runs with this configuration
    if not any(
        r["backend"] == engine and r["threads"] == default_threads and r["batch_size"] == default_batch for r in rows
    ):  # e.g. OpenVINO in --quick mode, where the export comparison is skipped
        embedder.embed_passages(texts[:default_batch])
        secs, vectors = _time_encode(lambda: embedder.embed_passages(texts), repeats)
        rows.append(
            {
                "backend": engine,
                "threads": default_threads,
                "batch_size": default_batch,
                "seconds": round(secs, 3),
                "chunks_per_s": round(len(texts) / secs, 2),
                "tokens_per_s": round(n_tokens / secs, 1),
                "min_cosine_vs_default": _min_cos(vectors, reference),
                "sorted": True,
            }
        )
        log(
            f"  embed {engine} (Sanad's engine) threads={default_threads} batch={default_batch}: "
            f"{rows[-1]['chunks_per_s']} chunks/s"
        )
    result["rows"] = rows
    same_as_default = [
        r
        for r in rows
        if r["backend"] == engine and r["threads"] == default_threads and r["batch_size"] == default_batch
    ]
    result["default"] = (
        {k: same_as_default[0][k] for k in ("backend", "threads", "batch_size", "seconds", "chunks_per_s")}
        if same_as_default
        # the grid's own figure; else the (single, colder) reference run
        else {
            "backend": "torch",
            "threads": default_threads,
            "batch_size": default_batch,
            "seconds": round(ref_s, 3),
            "chunks_per_s": round(len(texts) / ref_s, 2),
        }
    )
    same = [r for r in rows if r["min_cosine_vs_default"] >= SAME_EMBEDDINGS_COSINE]
    engine_rows = [r for r in rows if r["backend"] == engine]
    if same:
        best = max(same, key=lambda r: r["chunks_per_s"])
        result["fastest_same_embeddings"] = best
    if engine_rows:
        result["fastest_default_engine"] = max(engine_rows, key=lambda r: r["chunks_per_s"])
    result["load_avg_end"] = load_average()
    return result


def _bench_onnx(
    model, texts, prompt, reference, n_tokens, threads, batch_sizes, repeats, cache_dir, log, errors: list[str]
) -> list[dict]:
    rows = []
    fp32 = export_onnx(model, cache_dir / "model.onnx")
    variants: list[tuple[str, Callable[[int], ExportedEncoder]]] = [
        ("onnxruntime", lambda t: onnxruntime_encoder(model, fp32, t))
    ]
    try:
        int8 = quantize_onnx(fp32, cache_dir / "model.int8.onnx")
        variants.append(("onnxruntime-int8", lambda t: onnxruntime_encoder(model, int8, t)))
    except Exception as exc:  # noqa: BLE001 - quantisation is a bonus
        logger.warning("int8 quantisation failed: %s", exc)
    try:
        import openvino  # noqa: F401

        # the export Sanad's embedding_backend="openvino" runs, exported on first use and probe-checked
        variants.append(("openvino", lambda t: load_openvino_encoder(model, cache_dir / "openvino", threads=t)))
    except ImportError:
        pass
    for name, make in variants:
        for t in threads:
            try:
                encoder = make(t)
            except Exception as exc:  # noqa: BLE001 - an engine that cannot load the model is a finding
                logger.warning("%s could not load the exported model: %s", name, exc)
                errors.append(f"{name} ({t} thread(s)): {type(exc).__name__}: {exc}")
                break
            for bs in sorted(set(batch_sizes) & {8, 16, 32}) or batch_sizes[:1]:
                encoder.encode(texts[:bs], prompt, bs)
                secs, vectors = _time_encode(lambda e=encoder, bs=bs: e.encode(texts, prompt, bs), repeats)
                row = _row(name, t, bs, secs, len(texts), n_tokens, _min_cos(vectors, reference))
                rows.append(row)
                log(
                    f"  embed {name} threads={t} batch={bs}: {row['chunks_per_s']} chunks/s "
                    f"(min cosine {row['min_cosine_vs_default']})"
                )
    return rows


def _row(
    backend: str, threads: int, batch_size: int, secs: float, n_texts: int, n_tokens: int, min_cosine: float
) -> dict:
    """One throughput row (length-sorted batches, as sentence-transformers does)."""
    return {
        "backend": backend,
        "threads": threads,
        "batch_size": batch_size,
        "seconds": round(secs, 3),
        "chunks_per_s": round(n_texts / secs, 2),
        "tokens_per_s": round(n_tokens / secs, 1),
        "min_cosine_vs_default": min_cosine,
        "sorted": True,
    }
