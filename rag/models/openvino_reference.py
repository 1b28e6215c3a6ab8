"""The quick load of the OpenVINO export: no PyTorch, no ``transformers``, the same guarantee.

A search embeds one question, but checking the export against PyTorch at every load meant importing
PyTorch, ``transformers`` and sentence-transformers and loading the weights twice (~7 s of a cold
``sanad search``, issue #12). So the check is split in time:

* after a good live check (:func:`rag.models.openvino_encoder.load_openvino_encoder`),
  :func:`write_reference` stores beside the export PyTorch's vectors of two probe texts, the model
  folder's fingerprint (:func:`~rag.models.folders.folder_fingerprint`), the versions of the packages
  that made them, and the tokenizer files of :mod:`rag.models.fast_tokenizer` (used only when they give
  ``transformers``' ids on the probes, a truncated text and a padded batch);
* :func:`load_verified` compiles from OpenVINO's model cache, tokenizes with ``tokenizers`` alone and
  embeds the probes again: they must match the stored PyTorch vectors (cosine >=
  :data:`~rag.models.openvino_encoder.SAME_EMBEDDINGS_COSINE`), and the folder, packages and export must
  be those the reference was made with. Otherwise it returns ``None`` and the caller takes the full path
  (PyTorch, live check, re-export when needed, a new reference).

The guarantee is the one the live check gave: OpenVINO's vectors equal PyTorch's on the probes, for
these weights and these package versions.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.models.fast_tokenizer import FastTokenizer
from rag.models.folders import read_marker
from rag.models.openvino_encoder import (
    _PROBES,
    SAME_EMBEDDINGS_COSINE,
    ExportedEncoder,
    PerThreadInfer,
    _compile,
    _is_complete,
    probe_vectors,
)

logger = logging.getLogger(__name__)

#: PyTorch's probe vectors and what they were made with: written after a good live check (see the module doc).
REFERENCE_FILE = "sanad_reference.json"
_REFERENCE_VERSION = 1
#: A change to any of these may change PyTorch's vectors or the tokenizer's ids: the reference is then redone.
_REFERENCE_PACKAGES = ("torch", "transformers", "sentence-transformers", "tokenizers")

#: The quick load's probes: two short texts of different lengths (a padded batch), ~20 tokens in all, so the
#: check costs ~0.03 s, not the ~0.15 s of the full probe set; any change of weights or runtime shows in them.
_QUICK_PROBES = ("ما هي نتائج الانتخابات العراقية؟", "Who leads the coalition against ISIS in Mosul?")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a reference depends on (``None``: not installed); no imports."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in _REFERENCE_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def load_verified(folder: Path, source: str, *, threads: int = 1) -> ExportedEncoder | None:
    """The export in ``folder`` checked against its stored PyTorch reference, without loading PyTorch.

    Args:
        folder: the export folder (see :func:`export_openvino`).
        source: :func:`~rag.models.folders.folder_fingerprint` of the model folder in use.
        threads: OpenVINO inference threads.

    Returns:
        The encoder, or ``None`` when the reference is missing, stale or not met (the reason is
        logged); the caller then loads PyTorch and :func:`load_openvino_encoder` checks live.

    Raises:
        ImportError: ``openvino`` is not installed.
    """
    import openvino  # noqa: F401 - fail early when it is missing

    ref = read_marker(folder, REFERENCE_FILE)
    why = _stale_reason(folder, ref, source)
    if why:
        logger.info("OpenVINO quick load not possible (%s); checking against PyTorch", why)
        return None
    assert ref is not None
    try:
        tokenizer = FastTokenizer.load(folder, ref["tokenizer"])
        encoder = ExportedEncoder(
            tokenizer,
            int(ref["max_length"]),
            PerThreadInfer(_compile(folder, threads)),
            str(ref["pooling"]),
            name="openvino",
            dim=int(ref["dim"]),
        )
        reference = np.asarray(ref["vectors"], dtype=np.float32)
        got = encoder.encode(list(ref["probes"]), "", len(ref["probes"]))
        cosine = float(np.min(np.sum(reference * got, axis=1)))
    except Exception as exc:  # noqa: BLE001 - any broken file: the full path checks and rebuilds
        logger.warning("OpenVINO quick load failed in %s (%s); checking against PyTorch", folder, exc)
        return None
    if cosine < SAME_EMBEDDINGS_COSINE:
        logger.warning(
            "the OpenVINO export in %s no longer gives the stored PyTorch vectors (probe cosine %.6f); "
            "checking against PyTorch",
            folder,
            cosine,
        )
        return None
    logger.info("OpenVINO embedding engine ready without PyTorch (probe cosine to stored PyTorch vectors %.6f)", cosine)
    return encoder


def _stale_reason(folder: Path, ref: dict[str, Any] | None, source: str) -> str:
    """Why the reference in ``folder`` cannot vouch for the export, or ``""`` when it can."""
    if ref is None:
        return "no stored PyTorch reference yet"
    if ref.get("reference_version") != _REFERENCE_VERSION:
        return "reference from another Sanad version"
    if not _is_complete(folder):
        return "export incomplete"
    if ref.get("source") != source:
        return "the model folder changed since the reference was made"
    if ref.get("packages") != package_versions():
        return "torch, transformers, sentence-transformers or tokenizers changed since the reference was made"
    if not ref.get("tokenizer") or not ref.get("vectors") or not ref.get("probes"):
        return "reference without tokenizer or probe vectors"
    return ""


def write_reference(st_model: Any, folder: Path, source: str, reference: np.ndarray, pooling: str) -> bool:
    """Store PyTorch's probe vectors and the tokenizer files in ``folder`` so later loads skip PyTorch.

    Call only after the export passed the live check. The tokenizer files are used only when they give
    the ``transformers`` tokenizer's ids on the probes, on a text past ``max_seq_length`` and on a padded
    batch. Returns whether the reference was written (a read-only cache or a tokenizer that cannot be
    reproduced is logged and leaves the quick load off).
    """
    texts = [*_PROBES, "query: " + " ".join(_PROBES) * 40, ""]
    try:
        settings = _tokenizer_files(st_model, folder, texts)
        if settings is None:
            return False
        vectors = probe_vectors(st_model, _QUICK_PROBES)
        ref = {
            "reference_version": _REFERENCE_VERSION,
            "source": source,
            "packages": package_versions(),
            "pooling": pooling,
            "dim": int(reference.shape[1]),
            "max_length": int(st_model.max_seq_length),
            "tokenizer": settings,
            "probes": list(_QUICK_PROBES),
            "vectors": vectors.astype(float).tolist(),
        }
        tmp = folder / f".{REFERENCE_FILE}.tmp"
        tmp.write_text(json.dumps(ref, ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder / REFERENCE_FILE)
    except (OSError, ModelError) as exc:
        logger.info("could not store the PyTorch reference in %s (%s); every load will load PyTorch", folder, exc)
        return False
    return True


def _tokenizer_files(st_model: Any, folder: Path, texts: list[str]) -> dict[str, Any] | None:
    """Write the tokenizer files and return their settings, or ``None`` when they differ from ``transformers``."""
    from rag.models.fast_tokenizer import COMPACT_MAX_CHARS, write_tokenizer_files

    settings = write_tokenizer_files(st_model.tokenizer, folder, st_model.max_seq_length)
    hf, max_length = st_model.tokenizer, st_model.max_seq_length
    compact = FastTokenizer.load(folder, settings)  # short texts only: stays on the compact engine
    full = FastTokenizer.load(folder, settings)
    full.count("")  # loads the full engine
    short = [t for t in texts if len(t) < COMPACT_MAX_CHARS]
    for engine, cases in ((compact, [[t] for t in short] + [short]), (full, [[t] for t in texts] + [texts])):
        for batch in cases:
            want = hf(batch, padding=True, truncation=True, max_length=max_length, return_tensors="np")
            got_ids, got_mask = engine.encode(batch)
            if not (np.array_equal(want["input_ids"], got_ids) and np.array_equal(want["attention_mask"], got_mask)):
                logger.info(
                    "the tokenizers-only tokenizer (%s) differs from transformers' on %r; quick load off",
                    engine.engine,
                    batch[0][:40],
                )
                return None
    if any(full.count(t) != len(hf(t, add_special_tokens=False)["input_ids"]) for t in short):
        logger.info("the tokenizers-only tokenizer counts tokens differently from transformers'; quick load off")
        return None
    return settings
