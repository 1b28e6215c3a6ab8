"""Tests for rag.generate: the Generator interface and its llama.cpp, OpenAI-HTTP and transformers backends.

Tests marked ``slow`` run the real default GGUF (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) with
llama.cpp; they find it through ``SANAD_MODEL_DIR`` (default ``~/.cache/sanad/models``)
and skip when it is absent. Nothing here mocks llama.cpp.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rag.errors import GenerationError, InputError, ModelError
from rag.generate import (
    ChatMessage,
    Generation,
    Generator,
    LlamaCppGenerator,
    OpenAICompatGenerator,
    TransformersGenerator,
)
from rag.models.llm_assets import GGUF_NAME

ARITHMETIC = [ChatMessage("user", "What is 2+3? Reply with the number only.")]


def _arabic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("\u0600" <= c <= "\u06ff" for c in letters) / max(len(letters), 1)


# --------------------------------------------------------------------------- interface and validation


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
    with pytest.raises(ModelError, match=re.escape(f"LLM file not found: {tmp_path / 'missing.gguf'}; run `sanad setup`")):
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


def test_transformers_init_bad_settings_raise() -> None:
    with pytest.raises(InputError, match=re.escape("dtype must be one of ['float32', 'bfloat16', 'float16', 'auto']")):
        TransformersGenerator("org/model", dtype="fp8")
    with pytest.raises(InputError, match=re.escape("device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'")):
        TransformersGenerator("org/model", device="gpu")
    with pytest.raises(InputError, match="gguf_file must be the name of a .gguf file"):
        TransformersGenerator("org/model", gguf_file="model.bin")
    with pytest.raises(InputError, match="model_id must be a non-empty string"):
        TransformersGenerator("  ")


def test_transformers_generate_before_load_raises() -> None:
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        TransformersGenerator("org/model").generate(ARITHMETIC)


def test_transformers_load_nonexistent_local_path_raises_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gen = TransformersGenerator(str(tmp_path / "no-such-model"))
    start = time.perf_counter()
    with pytest.raises(ModelError, match="model folder not found"):
        gen.load()
    assert time.perf_counter() - start < 5


def test_transformers_load_unknown_repo_offline_raises_model_error() -> None:
    """A repo id that is not cached, with HF_HUB_OFFLINE=1: transformers' OSError becomes a ModelError.

    Runs in a subprocess because huggingface_hub reads HF_HUB_OFFLINE once, at import.
    """
    code = (
        "from rag.generate import TransformersGenerator\n"
        "from rag.errors import ModelError\n"
        "try:\n"
        "    TransformersGenerator('sanad-test/no-such-model').load()\n"
        "except ModelError as e:\n"
        "    print('MODELERROR', e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180)
    assert "MODELERROR transformers could not load transformers:sanad-test/no-such-model" in proc.stdout, proc.stderr
    assert "HF_HUB_OFFLINE is set" in proc.stdout


def _tiny_chat_model(folder: Path) -> Path:
    """A 2-layer random Llama with a 300-piece byte-level BPE and a chat template (no download)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(["hello world مرحبا بالعالم 1 2 3 4 5"], trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|im_end|>")
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder


def test_transformers_tiny_local_model_stream_equals_generate(tmp_path: Path) -> None:
    """The transformers path end to end (template, streamer thread, token counts) on a tiny random model."""
    gen = TransformersGenerator(str(_tiny_chat_model(tmp_path / "tiny")))
    gen.load()
    gen.load()
    msgs = [ChatMessage("user", "hello")]
    streamed = "".join(gen.stream(msgs, max_tokens=12))
    out = gen.generate(msgs, max_tokens=12)
    assert streamed == out.text
    assert out.prompt_tokens > 3
    assert out.completion_tokens == 12
    assert out.finish_reason == "length"
    assert gen.count_tokens("hello world") > 0


@pytest.mark.parametrize(
    ("pieces", "stops", "expected"),
    [
        (["ab", "c\n", "\nde"], ["\n\n"], "abc"),
        (["a", "b", "c"], ["x"], "abc"),
        (["12", "34", "56"], ["4", "5"], "123"),
        (["abc"], [], "abc"),
    ],
)
def test_stop_trimmer_stop_split_across_pieces_cuts_before_it(pieces: list[str], stops: list[str], expected: str) -> None:
    from rag.generate import _StopTrimmer

    trimmer = _StopTrimmer(stops)
    text = "".join(trimmer.feed(p) for p in pieces) + trimmer.flush()
    assert text == expected


def test_openai_init_bad_url_raises() -> None:
    with pytest.raises(InputError, match=re.escape("base_url must start with http:// or https://, got 'localhost:8080'")):
        OpenAICompatGenerator("localhost:8080", "m")


def test_openai_load_unreachable_server_raises_model_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gen = OpenAICompatGenerator(f"http://127.0.0.1:{port}/v1", "m", timeout_s=5)
    with pytest.raises(ModelError, match="cannot reach the LLM server"):
        gen.load()


# --------------------------------------------------------------------------- OpenAI wire format, stdlib SSE server


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Serves ``/v1/models`` and a streamed ``/v1/chat/completions`` the way llama.cpp/vLLM do."""

    pieces = ["Hel", "lo", " عالم", "!"]
    mode = "ok"  # "ok" | "http500" | "error_event" | "silent"
    requests: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found"}})
            return
        type(self).requests.append({"body": body, "auth": self.headers.get("Authorization")})
        if self.mode == "http500":
            self._send_json(500, {"error": {"message": "boom"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.mode == "silent":
            time.sleep(3)
            return
        if self.mode == "error_event":
            self._event({"error": {"message": "context too long", "code": 400}})
            return
        self.wfile.write(b": keep-alive comment\n\n")
        self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
        for piece in self.pieces:
            self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            time.sleep(0.01)
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self._event({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, obj: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n\n")
        self.wfile.flush()

    def _send_json(self, code: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_openai() -> Iterator[type[_FakeOpenAI]]:
    handler = type("Handler", (_FakeOpenAI,), {"requests": [], "mode": "ok"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_openai_stream_fake_server_yields_pieces_in_order(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model", api_key="k123")
    gen.load()
    pieces = list(gen.stream([ChatMessage("system", "Be brief."), ChatMessage("user", "hi")], stop=["\n\n"], seed=7))
    assert pieces == ["Hel", "lo", " عالم", "!"]
    sent = fake_openai.requests[-1]
    assert sent["auth"] == "Bearer k123"
    assert sent["body"]["model"] == "fake-model"
    assert sent["body"]["stream"] is True
    assert sent["body"]["stop"] == ["\n\n"]
    assert sent["body"]["seed"] == 7
    assert sent["body"]["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]


def test_openai_generate_fake_server_reports_usage(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model")
    gen.load()
    out = gen.generate([ChatMessage("user", "hi")])
    assert isinstance(out, Generation)
    assert out.text == "Hello عالم!"
    assert (out.prompt_tokens, out.completion_tokens, out.finish_reason) == (12, 4, "stop")
    assert 0 < out.ttft_s <= out.total_s


def test_openai_count_tokens_without_tokenize_endpoint_is_approximate(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model")
    gen.load()
    assert gen.tokens_exact is False
    assert gen.count_tokens("abcdefg") == 3  # ceil(7 / 3)
    assert gen.count_tokens("") == 0


def test_openai_generate_bad_arguments_raise(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model")
    gen.load()
    with pytest.raises(InputError, match="max_tokens must be an int >= 1, got 0"):
        gen.generate(ARITHMETIC, max_tokens=0)
    with pytest.raises(InputError, match="stop must be a sequence of strings, not one string"):
        gen.generate(ARITHMETIC, stop="\n")
    with pytest.raises(InputError, match="messages must be a non-empty sequence"):
        gen.generate([])
    with pytest.raises(InputError, match="messages must hold ChatMessage objects, got dict"):
        gen.generate([{"role": "user", "content": "hi"}])  # type: ignore[list-item]


def test_openai_http_500_raises_generation_error_with_body(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model")
    gen.load()
    fake_openai.mode = "http500"
    with pytest.raises(GenerationError, match="answered HTTP 500: .*boom"):
        gen.generate(ARITHMETIC)


def test_openai_error_event_raises_generation_error(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model")
    gen.load()
    fake_openai.mode = "error_event"
    with pytest.raises(GenerationError, match="context too long"):
        gen.generate(ARITHMETIC)


def test_openai_silent_server_times_out(fake_openai: Any) -> None:
    gen = OpenAICompatGenerator(fake_openai.base_url, "fake-model", timeout_s=0.5)
    gen.load()
    fake_openai.mode = "silent"
    start = time.perf_counter()
    with pytest.raises(GenerationError, match="timed out after 0.5s"):
        gen.generate(ARITHMETIC)
    assert time.perf_counter() - start < 2.5


# --------------------------------------------------------------------------- real GGUF with llama.cpp


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
    with pytest.raises(GenerationError, match="timed out after 1s"):
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
    with pytest.raises(ModelError, match="llama.cpp could not load"):
        LlamaCppGenerator(truncated).load()


@pytest.fixture(scope="module")
def llamacpp_http(gguf_path: Path) -> Iterator[tuple[str, str]]:
    """llama.cpp's own OpenAI-compatible HTTP server (xllamacpp.Server) on 127.0.0.1."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(gguf_path)
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.api_keys = ["test-key"]
    params.verbosity = 1
    server = xlc.Server(params)
    yield server.listening_address, "test-key"
    del server


@pytest.mark.slow
def test_openai_llamacpp_http_server_round_trip(llamacpp_http: tuple[str, str], llm: LlamaCppGenerator) -> None:
    base, key = llamacpp_http
    gen = OpenAICompatGenerator(f"{base}/v1", "qwen", api_key=key)
    gen.load()
    assert gen.tokens_exact is True
    assert gen.count_tokens("hello world") == llm.count_tokens("hello world")
    pieces = list(gen.stream(ARITHMETIC, max_tokens=16))
    out = gen.generate(ARITHMETIC, max_tokens=16)
    assert "5" in out.text
    assert "".join(pieces) == out.text == llm.generate(ARITHMETIC, max_tokens=16).text
    assert out.prompt_tokens > 10 and out.completion_tokens >= 1


@pytest.mark.slow
def test_openai_llamacpp_http_server_wrong_key_raises(llamacpp_http: tuple[str, str]) -> None:
    base, _ = llamacpp_http
    with pytest.raises(ModelError, match="refused the API key"):
        OpenAICompatGenerator(f"{base}/v1", "qwen", api_key="wrong").load()
