"""Tests for rag.generators.base and the package front: chat types, the Generator protocol, stop trimming,
``make_generator``, and a cheap ``import rag.generators``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import SanadConfig
from rag.errors import InputError
from rag.generators import (
    ChatMessage,
    Generator,
    LlamaCppGenerator,
    OpenAICompatGenerator,
    TransformersGenerator,
    make_generator,
)
from rag.generators.base import _StopTrimmer
from rag.models.llm_assets import GGUF_NAME


def test_chat_message_bad_role_raises() -> None:
    with pytest.raises(InputError, match=re.escape("chat role 'bot' is not one of ['system', 'user', 'assistant']")):
        ChatMessage("bot", "hi")  # type: ignore[arg-type]


def test_backends_instances_satisfy_generator_protocol(tmp_path: Path) -> None:
    for gen in (
        LlamaCppGenerator(tmp_path / "x.gguf"),
        OpenAICompatGenerator("http://127.0.0.1:1/v1", "m"),
        TransformersGenerator("org/model"),
    ):
        assert isinstance(gen, Generator)
        assert gen.name


@pytest.mark.parametrize(
    ("pieces", "stops", "expected"),
    [
        (["ab", "c\n", "\nde"], ["\n\n"], "abc"),
        (["a", "b", "c"], ["x"], "abc"),
        (["12", "34", "56"], ["4", "5"], "123"),
        (["abc"], [], "abc"),
    ],
)
def test_stop_trimmer_stop_split_across_pieces_cuts_before_it(
    pieces: list[str], stops: list[str], expected: str
) -> None:
    trimmer = _StopTrimmer(stops)
    text = "".join(trimmer.feed(p) for p in pieces) + trimmer.flush()
    assert text == expected


def test_import_generators_loads_no_heavy_library() -> None:
    """Backends import xllamacpp, transformers and torch lazily: importing the package pulls in none of them."""
    code = (
        "import sys, rag.generators\n"
        "print(sorted(m for m in ('torch', 'transformers', 'xllamacpp') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_make_generator_default_is_llamacpp_on_the_offline_gguf(tmp_path: Path) -> None:
    config = SanadConfig(model_dir=tmp_path, llm_threads=3, llm_ctx=2048, llm_timeout_s=30.0)
    gen = make_generator(config)
    assert isinstance(gen, LlamaCppGenerator)
    assert gen.model_path == tmp_path / GGUF_NAME
    assert (gen.n_threads, gen.n_ctx, gen.timeout_s) == (3, 2048, 30.0)


def test_make_generator_openai_and_transformers_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANAD_LLM_API_KEY", "k1")
    gen = make_generator(SanadConfig(llm_backend="openai", llm_base_url="http://127.0.0.1:8080/v1"))
    assert isinstance(gen, OpenAICompatGenerator)
    assert (gen.model, gen.base_url) == ("default", "http://127.0.0.1:8080/v1")
    assert gen._headers() == {"Authorization": "Bearer k1"}
    gen = make_generator(SanadConfig(llm_backend="transformers", llm_model="org/model"))
    assert isinstance(gen, TransformersGenerator)
    assert gen.model_id == "org/model"


def test_make_generator_missing_settings_raise() -> None:
    with pytest.raises(InputError, match=re.escape("llm_backend='openai' needs llm_base_url")):
        make_generator(SanadConfig(llm_backend="openai"))
    with pytest.raises(InputError, match=re.escape("llm_backend='transformers' needs llm_model set")):
        make_generator(SanadConfig(llm_backend="transformers"))
