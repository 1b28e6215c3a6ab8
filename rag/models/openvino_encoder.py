"""The embedding model's transformer run by OpenVINO: the same vectors, several times faster on CPU.

Why: ``sanad bench`` measured multilingual-e5-small at ~11 passages/s with PyTorch and ~65/s
with OpenVINO on this 2-core machine, at cosine >= 0.9999 to PyTorch's vectors. The
``backend="openvino"`` of sentence-transformers needs ``optimum-intel``, whose releases pin
``transformers<5``; this module does the same job with ``openvino`` alone:

* :func:`export_openvino` converts the model's transformer (token ids -> token embeddings)
  straight from PyTorch with ``openvino.convert_model`` and saves it as OpenVINO IR
  (``model.xml`` + ``model.bin``) in a cache folder, built beside it and swapped in.
* :class:`ExportedEncoder` reproduces what ``SentenceTransformer.encode`` does around the
  transformer: the same tokenizer and truncation, inputs sorted by length, mean or CLS pooling,
  L2 normalisation. ``bench/`` (sanad bench) reuses it for the ONNX Runtime comparison.
* :func:`load_openvino_encoder` exports once, compiles, and checks that the result embeds a few
  probe texts like PyTorch does (cosine >= :data:`SAME_EMBEDDINGS_COSINE`); a stale or broken
  export is rebuilt once, and a model that still differs is refused, so the caller can fall back
  to PyTorch. After a good check it stores the *reference* that lets later loads skip PyTorch
  (:mod:`rag.models.openvino_reference`: :func:`~rag.models.openvino_reference.load_verified`).

Example:
    >>> st = SentenceTransformer(folder)                                         # doctest: +SKIP
    >>> enc = load_openvino_encoder(st, cache_dir / "openvino" / "e5", threads=1)  # doctest: +SKIP
    >>> enc.encode(["ما عاصمة العراق؟"], prompt="query: ", batch_size=16).shape      # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.models.fast_tokenizer import FastTokenizer
from rag.models.folders import read_marker, replace_folder

logger = logging.getLogger(__name__)

#: Vectors closer than this to PyTorch's count as "the same embeddings" (issue #6's bar).
SAME_EMBEDDINGS_COSINE = 0.999
_EXPORT_VERSION = 1
_MARKER = "sanad_export.json"  # written last: its presence means the folder is complete
_CACHE_DIR = "cache"  # OpenVINO's compiled-model cache, inside the export folder (replaced with it)
_PROBES = (
    "ما هي نتائج الانتخابات العراقية؟",
    "Who leads the coalition against ISIS in Mosul?",
    "قالت وزارة الدفاع إن القوات تقدمت نحو المدينة بعد معارك استمرت ثلاثة أيام، وفق بيان رسمي.",
    "x",
)


class ExportedEncoder:
    """Sentence embeddings from an exported transformer, computed the way sentence-transformers does.

    Args:
        tokenizer: the model's Hugging Face tokenizer (``SentenceTransformer.tokenizer``).
        max_length: truncation length in tokens (``SentenceTransformer.max_seq_length``).
        run: maps ``{"input_ids", "attention_mask"}`` int64 arrays to token embeddings
            ``(batch, seq, dim)``.
        pooling: ``"mean"`` (over the attention mask, prompt included) or ``"cls"``.
        name: what logs and benchmarks call this engine.
        dim: the vector width, when known before the first call.

    ``tokenizer`` is either a ``transformers`` tokenizer or a
    :class:`~rag.models.fast_tokenizer.FastTokenizer`; both give the same ids and masks.
    """

    def __init__(
        self,
        tokenizer: Any,
        max_length: int,
        run: Callable[[dict[str, np.ndarray]], np.ndarray],
        pooling: str = "mean",
        name: str = "exported",
        dim: int | None = None,
    ) -> None:
        if pooling not in ("mean", "cls"):
            raise ModelError(f"pooling {pooling!r} is not supported by the exported encoder (mean or cls)")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pooling = pooling
        self.name = name
        self.dim = dim
        self._run = run
        self._tokenizer_lock = threading.Lock()

    def encode(self, texts: Sequence[str], prompt: str, batch_size: int, *, show_progress: bool = False) -> np.ndarray:
        """``(n, dim)`` float32 unit vectors of ``prompt + text`` for each text."""
        texts = [prompt + t.strip() for t in texts]
        order = np.argsort([-len(t) for t in texts], kind="stable")  # as sentence-transformers sorts
        rows = []
        starts = range(0, len(texts), batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            batch = [texts[i] for i in order[start : start + batch_size]]
            ids, mask = self._tokenize(batch)
            hidden = self._run({"input_ids": ids, "attention_mask": mask})
            if self.pooling == "cls":
                pooled = hidden[:, 0, :]
            else:
                m = mask[..., None].astype(np.float32)
                pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            rows.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        out = np.vstack(rows).astype(np.float32)
        restored = np.empty_like(out)
        restored[order] = out
        return restored

    def _tokenize(self, batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask)`` int64, padded to the longest text, truncated at ``max_length``."""
        with self._tokenizer_lock:  # a fast tokenizer changes its padding state per call: not re-entrant
            if isinstance(self.tokenizer, FastTokenizer):
                return self.tokenizer.encode(batch)
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def pooling_mode(st_model: Any) -> str | None:
    """``"mean"`` or ``"cls"`` when ``st_model`` is Transformer + Pooling (+ Normalize) that an export
    reproduces exactly; ``None`` otherwise (other poolings, prompt-excluding means, extra layers)."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if len(names) < 2 or names[0] != "Transformer" or names[1] != "Pooling" or any(n != "Normalize" for n in names[2:]):
        return None
    cfg = modules[1].get_config_dict() if hasattr(modules[1], "get_config_dict") else {}
    mode = cfg.get("pooling_mode") or (
        "mean" if cfg.get("pooling_mode_mean_tokens") else "cls" if cfg.get("pooling_mode_cls_token") else None
    )
    if isinstance(mode, (list, tuple)):
        mode = mode[0] if len(mode) == 1 else None
    if mode == "mean" and cfg.get("include_prompt", True) is False:
        return None  # sentence-transformers would leave the prompt's tokens out of the mean
    return mode if mode in ("mean", "cls") else None


def export_openvino(st_model: Any, dest: Path) -> Path:
    """Convert ``st_model``'s transformer to OpenVINO IR in ``dest`` (replaced atomically); returns ``dest``."""
    import openvino as ov
    import torch

    class _TokenEmbeddings(torch.nn.Module):
        def __init__(self, hf: Any) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.hf(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    start = time.perf_counter()
    sample = st_model.tokenizer(
        ["passage: مرحبا", "passage: القوات العراقية في بغداد"], padding=True, return_tensors="pt"
    )
    shape = ov.PartialShape([-1, -1])
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about data-dependent branches: shapes stay dynamic
        converted = ov.convert_model(
            _TokenEmbeddings(st_model[0].auto_model).eval(),
            example_input={"input_ids": sample["input_ids"], "attention_mask": sample["attention_mask"]},
            input=[("input_ids", shape, ov.Type.i64), ("attention_mask", shape, ov.Type.i64)],
        )

    def write(folder: Path) -> None:
        folder.mkdir()
        ov.save_model(converted, str(folder / "model.xml"), compress_to_fp16=False)  # fp16 would move the vectors
        (folder / _MARKER).write_text(
            json.dumps({"export_version": _EXPORT_VERSION, "openvino": ov.__version__}), encoding="utf-8"
        )

    replace_folder(dest, write)
    logger.info("exported the embedding model to OpenVINO in %.1fs: %s", time.perf_counter() - start, dest)
    return dest


def _is_complete(folder: Path) -> bool:
    marker = read_marker(folder, _MARKER) or {}
    return (
        marker.get("export_version") == _EXPORT_VERSION
        and (folder / "model.xml").is_file()
        and (folder / "model.bin").is_file()
    )


def compile_openvino(st_model: Any, folder: Path, threads: int, pooling: str = "mean") -> ExportedEncoder:
    """An encoder running the export in ``folder`` on ``threads`` CPU threads (no equality check)."""
    return ExportedEncoder(
        st_model.tokenizer, st_model.max_seq_length, PerThreadInfer(_compile(folder, threads)), pooling, name="openvino"
    )


def _compile(folder: Path, threads: int) -> Any:
    """The export compiled for the CPU, through OpenVINO's model cache when the folder is writable.

    The cache is "weightless" (``CACHE_MODE=OPTIMIZE_SIZE``: under 1 MB, the weights stay in ``model.bin``)
    and cut compiling from ~2.5 s to ~0.35 s of CPU; OpenVINO keys it on the model, device, settings and
    its own version, so a stale entry is never used. ``SNIPPETS_MODE=DISABLE`` halves what is left
    (~0.17 s): the JIT-fused subgraphs it skips made no measurable difference to inference, neither for one
    question nor for batches of 16 passages of 160 tokens (`sanad bench --sections startup,indexing`).
    """
    import openvino as ov

    # f32, not the CPU plugin's bf16 default on CPUs with AVX512-BF16/AMX: bf16 moved vectors by up to ~1e-3 and
    # made them depend on the batch a passage was padded in, so two builds of one corpus differed.
    # No CPU pinning: OpenVINO pins its inference threads to the first cores by default, so two processes on
    # one machine (two Ray workers, a server beside an indexer, the LLM beside the embedder) shared core 0 while
    # core 1 idled (measured: Ray with 2 worker nodes embedded at the 1-worker rate, 22 passages/s).
    settings: dict[str, Any] = {
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "f32",
        "ENABLE_CPU_PINNING": False,
    }
    # One cache folder per setting: OpenVINO's cache key leaves SNIPPETS_MODE out (measured: a blob compiled
    # with snippets was reused under SNIPPETS_MODE=DISABLE, keeping the slow import).
    cache = folder / _CACHE_DIR / f"threads{threads}-nosnippets-f32-nopin"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        return ov.Core().compile_model(
            str(folder / "model.xml"),
            "CPU",
            {**settings, "SNIPPETS_MODE": "DISABLE", "CACHE_DIR": str(cache), "CACHE_MODE": "OPTIMIZE_SIZE"},
        )
    except Exception as exc:  # noqa: BLE001 - a read-only cache or an older OpenVINO only costs time
        logger.info("OpenVINO model cache or settings unusable in %s (%s); compiling without them", cache, exc)
        return ov.Core().compile_model(str(folder / "model.xml"), "CPU", settings)


class PerThreadInfer:
    """Runs a compiled OpenVINO model with one infer request per calling thread.

    Why: ``CompiledModel.__call__`` reuses a single infer request, so two threads calling it at
    once overwrite each other's inputs and outputs (issue #10: 48 % errors, 19 % of searches
    answered with another client's passages, and ``free(): invalid size`` aborts). Each thread
    gets its own request, created on first use; the outputs are copied before they are returned,
    since a request's output tensor is reused by its next inference.
    """

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self._output = compiled.output(0)
        self._local = threading.local()

    def __call__(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        return np.array(request.infer(feeds)[self._output], dtype=np.float32, copy=True)


def probe_vectors(st_model: Any, texts: Sequence[str] = _PROBES) -> np.ndarray:
    """PyTorch's ``(len(texts), dim)`` float32 unit vectors of ``texts`` (the probe texts by default)."""
    return np.asarray(
        st_model.encode(
            list(texts),
            prompt="",
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )


def _min_cosine(reference: np.ndarray, encoder: ExportedEncoder) -> float:
    return float(np.min(np.sum(reference * encoder.encode(_PROBES, "", len(_PROBES)), axis=1)))


def probe_cosine(st_model: Any, encoder: ExportedEncoder) -> float:
    """Lowest cosine between PyTorch's and ``encoder``'s vectors of a few probe texts."""
    return _min_cosine(probe_vectors(st_model), encoder)


def load_openvino_encoder(
    st_model: Any, folder: Path, *, threads: int = 1, source: str | None = None
) -> ExportedEncoder:
    """An OpenVINO encoder for ``st_model``, exported to ``folder`` on first use.

    With ``source`` (the model folder's :func:`~rag.models.folders.folder_fingerprint`), a good check
    also stores the reference that lets :func:`~rag.models.openvino_reference.load_verified` skip PyTorch
    next time.

    Raises:
        ModelError: the model's layout cannot be reproduced, or its export does not give the same
            embeddings as PyTorch even after a fresh export.
        ImportError: ``openvino`` is not installed.
    """
    import openvino  # noqa: F401 - fail early, before any export work, when it is missing

    pooling = pooling_mode(st_model)
    if pooling is None:
        raise ModelError(
            "the embedding model is not Transformer + mean/CLS Pooling; OpenVINO export would change its vectors"
        )
    reference = probe_vectors(st_model)
    for attempt in (1, 2):
        if attempt == 2 or not _is_complete(folder):
            export_openvino(st_model, folder)
        try:
            encoder = compile_openvino(st_model, folder, threads, pooling)
            cosine = _min_cosine(reference, encoder)
        except Exception as exc:
            if attempt == 2:
                raise ModelError(f"OpenVINO could not run the exported embedding model in {folder}: {exc}") from exc
            logger.warning("the OpenVINO export in %s is unusable (%s); exporting again", folder, exc)
            continue
        if cosine >= SAME_EMBEDDINGS_COSINE:
            logger.info("OpenVINO embedding engine ready (probe cosine to PyTorch %.6f)", cosine)
            encoder.dim = int(reference.shape[1])
            if source is not None:
                from rag.models.openvino_reference import write_reference

                write_reference(st_model, folder, source, reference, pooling)
            return encoder
        if attempt == 2:
            raise ModelError(
                f"the OpenVINO export gives different embeddings (probe cosine {cosine:.6f} < {SAME_EMBEDDINGS_COSINE})"
            )
        logger.warning("the OpenVINO export in %s is stale (probe cosine %.6f); exporting again", folder, cosine)
    raise AssertionError("unreachable")  # pragma: no cover
