"""Fixtures for the generator tests that run the real default GGUF (Qwen2.5-Coder-1.5B-Instruct Q4_K_M).

They find it through ``SANAD_MODEL_DIR`` (default ``~/.cache/sanad/models``) and skip when it
is absent. ``llm`` is session-scoped, so the llama.cpp and OpenAI-over-llama.cpp tests share
one loaded model. Nothing here mocks llama.cpp.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.generators import LlamaCppGenerator
from rag.models.llm_assets import GGUF_NAME


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    model_dir = Path(os.environ.get("SANAD_MODEL_DIR", "~/.cache/sanad/models")).expanduser()
    path = model_dir / GGUF_NAME
    if not path.is_file():
        pytest.skip(f"LLM GGUF not found at {path}; run `sanad setup` (or set SANAD_MODEL_DIR) to run slow LLM tests")
    pytest.importorskip("xllamacpp", reason="xllamacpp is not installed: `pip install xllamacpp`")
    return path


@pytest.fixture(scope="session")
def llm(gguf_path: Path) -> LlamaCppGenerator:
    gen = LlamaCppGenerator(gguf_path, n_threads=2, n_ctx=4096, timeout_s=120)
    gen.load()
    return gen
