"""Tests for rag.generators.openai_compat: the OpenAI wire format against a stdlib SSE server, then
against llama.cpp's own HTTP server running the real default GGUF (``slow``; fixtures in ``conftest.py``)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rag.errors import GenerationError, InputError, ModelError
from rag.generators import ChatMessage, Generation, LlamaCppGenerator, OpenAICompatGenerator

ARITHMETIC = [ChatMessage("user", "What is 2+3? Reply with the number only.")]


def test_openai_init_bad_url_raises() -> None:
    message = "base_url must start with http:// or https://, got 'localhost:8080'"
    with pytest.raises(InputError, match=re.escape(message)):
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

    pieces: ClassVar[list[str]] = ["Hel", "lo", " عالم", "!"]
    mode = "ok"  # "ok" | "http500" | "error_event" | "silent"
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # silent: keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
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
    with pytest.raises(GenerationError, match=r"answered HTTP 500: .*boom"):
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
    with pytest.raises(GenerationError, match=re.escape("timed out after 0.5s")):
        gen.generate(ARITHMETIC)
    assert time.perf_counter() - start < 2.5


# --------------------------------------------------------------------------- llama.cpp's HTTP server, real GGUF


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
