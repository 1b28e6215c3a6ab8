"""Tests for rag.generators.llamacpp: settings and GGUF checks, then the real default GGUF with llama.cpp.

Tests marked ``slow`` run the real model (fixtures in ``conftest.py``; they skip when it is
absent). Nothing here mocks llama.cpp.
"""

from __future__ import annotations

import os
import re
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from rag.errors import GenerationError, InputError, ModelError
from rag.generators import ChatMessage, LlamaCppGenerator

ARITHMETIC = [ChatMessage("user", "What is 2+3? Reply with the number only.")]


def _arabic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("\u0600" <= c <= "\u06ff" for c in letters) / max(len(letters), 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_threads": 0}, "n_threads must be a positive int, got 0"),
        ({"n_ctx": 100}, "n_ctx must be at least 256 tokens, got 100"),
        ({"timeout_s": -1}, "timeout_s must be a positive number, got -1"),
        ({"n_batch": 128, "n_ubatch": 256}, "n_ubatch (256) must not exceed n_batch (128)"),
    ],
)
def test_llamacpp_init_bad_setting_raises(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        LlamaCppGenerator(tmp_path / "x.gguf", **kwargs)


def test_llamacpp_init_missing_file_does_not_touch_disk(tmp_path: Path) -> None:
    """__init__ only stores settings: a missing file is reported by load(), not by the constructor."""
    gen = LlamaCppGenerator(tmp_path / "nope.gguf")
    assert gen.model_path == tmp_path / "nope.gguf"


def test_llamacpp_generate_before_load_raises(tmp_path: Path) -> None:
    gen = LlamaCppGenerator(tmp_path / "x.gguf")
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        gen.generate(ARITHMETIC)
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        gen.stream(ARITHMETIC)
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        gen.count_tokens("hello")


def test_llamacpp_load_missing_file_raises_with_setup_hint(tmp_path: Path) -> None:
    gen = LlamaCppGenerator(tmp_path / "missing.gguf")
    message = f"LLM file not found: {tmp_path / 'missing.gguf'}; run `sanad setup`"
    with pytest.raises(ModelError, match=re.escape(message)):
        gen.load()


def test_llamacpp_load_zeros_file_raises_model_error(tmp_path: Path) -> None:
    """1 MB of zeros named .gguf: rejected by the magic-bytes check before llama.cpp sees it."""
    bad = tmp_path / "x.gguf"
    bad.write_bytes(bytes(1024 * 1024))
    gen = LlamaCppGenerator(bad)
    with pytest.raises(ModelError, match=re.escape("is not a GGUF file (it starts with b'\\x00\\x00\\x00\\x00'")):
        gen.load()
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        gen.generate(ARITHMETIC)


def test_llamacpp_load_gguf_header_with_garbage_raises_model_error(tmp_path: Path) -> None:
    """A file that passes the header check but is not a model: llama.cpp itself must refuse it
    with an exception (it used to be feared it would abort the whole process)."""
    pytest.importorskip("xllamacpp")
    bad = tmp_path / "garbage.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 3) + os.urandom(2 * 1024 * 1024))
    gen = LlamaCppGenerator(bad)
    with pytest.raises(ModelError, match=r"llama.cpp could not load .*garbage.gguf.*sanad setup"):
        gen.load()


def test_llamacpp_load_tiny_gguf_raises_model_error(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.gguf"
    tiny.write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(100))
    with pytest.raises(ModelError, match="too small to be a model"):
        LlamaCppGenerator(tiny).load()


@pytest.mark.slow
def test_llamacpp_load_twice_keeps_same_model(llm: LlamaCppGenerator) -> None:
    server = llm._server
    llm.load()
    assert llm._server is server


@pytest.mark.slow
def test_llamacpp_generate_arithmetic_answers_5(llm: LlamaCppGenerator) -> None:
    out = llm.generate(ARITHMETIC, max_tokens=16)
    assert "5" in out.text
    assert out.prompt_tokens > 10
    assert out.completion_tokens >= 1
    assert 0 < out.ttft_s <= out.total_s
    assert out.finish_reason == "stop"


@pytest.mark.slow
def test_llamacpp_stream_multiple_pieces_equal_generate_text(llm: LlamaCppGenerator) -> None:
    msgs = [ChatMessage("user", "List the first five prime numbers, separated by commas.")]
    pieces = list(llm.stream(msgs, max_tokens=40))
    assert len(pieces) > 1
    assert "".join(pieces) == llm.generate(msgs, max_tokens=40).text


@pytest.mark.slow
def test_llamacpp_stream_yields_before_generation_ends(llm: LlamaCppGenerator) -> None:
    """Streaming is real: the first piece arrives well before the last one."""
    msgs = [ChatMessage("user", "Count from 1 to 30, separated by commas.")]
    stamps = [time.perf_counter() for _ in llm.stream(msgs, max_tokens=80)]
    assert len(stamps) > 10
    assert stamps[-1] - stamps[0] > 0.2


@pytest.mark.slow
def test_llamacpp_arabic_prompt_replies_in_arabic(llm: LlamaCppGenerator) -> None:
    msgs = [ChatMessage("user", "ما هي عاصمة مصر؟ أجب بجملة واحدة باللغة العربية.")]
    out = llm.generate(msgs, max_tokens=40)
    assert _arabic_share(out.text) > 0.8, out.text
    assert "القاهرة" in out.text


@pytest.mark.slow
def test_llamacpp_count_tokens_arabic_and_english_positive(llm: LlamaCppGenerator) -> None:
    assert llm.count_tokens("hello world") == 2
    assert llm.count_tokens("مرحبا بالعالم") > 0
    assert llm.count_tokens("") == 0


@pytest.mark.slow
def test_llamacpp_stop_string_ends_answer_without_it(llm: LlamaCppGenerator) -> None:
    msgs = [ChatMessage("user", "Count from 1 to 20, separated by commas.")]
    out = llm.generate(msgs, max_tokens=80, stop=["7"])
    assert "6" in out.text
    assert "7" not in out.text


@pytest.mark.slow
def test_llamacpp_max_tokens_reached_reports_length(llm: LlamaCppGenerator) -> None:
    out = llm.generate([ChatMessage("user", "Write a long story about a cat.")], max_tokens=5)
    assert out.completion_tokens == 5
    assert out.finish_reason == "length"


@pytest.mark.slow
def test_llamacpp_prompt_over_context_raises_generation_error(llm: LlamaCppGenerator) -> None:
    msgs = [ChatMessage("user", "word " * 5000)]
    with pytest.raises(GenerationError, match="exceeds the available context size"):
        llm.generate(msgs, max_tokens=5)


@pytest.mark.slow
def test_llamacpp_timeout_raises_then_next_call_works(llm: LlamaCppGenerator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "timeout_s", 1.0)
    start = time.perf_counter()
    with pytest.raises(GenerationError, match="no answer within 1s"):
        llm.generate([ChatMessage("user", "Write a long story about a cat.")], max_tokens=500)
    assert time.perf_counter() - start < 2.0
    monkeypatch.setattr(llm, "timeout_s", 120.0)
    assert "5" in llm.generate(ARITHMETIC, max_tokens=16).text


@pytest.mark.slow
def test_llamacpp_stream_closed_early_cancels_and_next_call_works(llm: LlamaCppGenerator) -> None:
    it = llm.stream([ChatMessage("user", "Write a long story about a cat.")], max_tokens=500)
    first = [next(it), next(it)]
    it.close()  # what `break` in a for loop does
    assert all(isinstance(p, str) for p in first)
    start = time.perf_counter()
    assert "5" in llm.generate(ARITHMETIC, max_tokens=16).text
    assert time.perf_counter() - start < 10  # did not wait for 500 tokens of the cancelled story


@pytest.mark.slow
def test_llamacpp_load_truncated_real_gguf_raises_model_error(gguf_path: Path, tmp_path: Path) -> None:
    """The first 4 MB of the real model: a valid header, missing tensors."""
    truncated = tmp_path / "truncated.gguf"
    with open(gguf_path, "rb") as src:
        truncated.write_bytes(src.read(4 * 1024 * 1024))
    with pytest.raises(ModelError, match=re.escape("llama.cpp could not load")):
        LlamaCppGenerator(truncated).load()
