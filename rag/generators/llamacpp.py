"""The default backend: a GGUF chat model run in-process by llama.cpp (the ``xllamacpp`` wheel).

Holds :class:`LlamaCppGenerator` and the GGUF file checks that fail fast, with a useful
message, before llama.cpp sees a missing, truncated or foreign file. It is its own module
because it is the one backend that owns a model in this process (a server thread, a
worker thread per request, cancellation through llama.cpp's chunk callback).
``xllamacpp`` is imported in ``load()``, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import queue
import secrets
import struct
import threading
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.errors import GenerationError, InputError, ModelError
from rag.generators.base import (
    ChatMessage,
    _BaseGenerator,
    _chat_payload,
    _check_positive,
    _consume_openai_chunk,
    _error_text,
    _post_json,
    _RunStats,
)

__all__ = ["LlamaCppGenerator"]

logger = logging.getLogger(__name__)

_GGUF_MAGIC = b"GGUF"
_GGUF_MIN_BYTES = 1024 * 1024  # any real model is far larger; smaller means truncated or not a model
_SETUP_HINT = "run `sanad setup` to download and assemble the default model"


class LlamaCppGenerator(_BaseGenerator):
    """Run a GGUF chat model in-process with llama.cpp (the ``xllamacpp`` wheel).

    The GGUF's own chat template formats the messages. llama.cpp keeps the KV cache of
    the previous prompt, so a request that shares a long prefix with the one before
    (Sanad's fixed system prompt) only pays for the new tokens. Temperature 0 is
    greedy decoding; with a fixed seed, results repeat.

    xllamacpp embeds llama.cpp's server: besides the in-process calls used here it
    listens on ``127.0.0.1`` on a random port. Each generator sets a random API key,
    so only this object (which uses it for ``/tokenize``) can talk to it.

    Example:
        >>> gen = LlamaCppGenerator(Path("model.gguf"), n_threads=2)
        >>> gen.load()  # doctest: +SKIP
        >>> for piece in gen.stream([ChatMessage("user", "مرحبا")]):  # doctest: +SKIP
        ...     print(piece, end="", flush=True)

    Args:
        model_path: the ``.gguf`` file.
        n_threads: CPU threads for prompt processing and generation.
        n_ctx: context window in tokens (prompt + answer).
        timeout_s: wall-clock limit for one request; past it the request is cancelled
            and :class:`~rag.errors.GenerationError` is raised. The generator stays usable.
        n_batch: logical batch size for prompt processing.
        n_ubatch: physical (micro) batch size for prompt processing.
        cache_ram_mib: RAM llama.cpp may use to keep KV caches of earlier prompts
            beyond the live one (0 turns that extra cache off; the live prefix cache stays).
        verbose: let llama.cpp print its info log to stderr (errors are always printed).
    """

    def __init__(
        self,
        model_path: Path,
        *,
        n_threads: int = 2,
        n_ctx: int = 4096,
        timeout_s: float = 120,
        n_batch: int = 512,
        n_ubatch: int = 512,
        cache_ram_mib: int = 1024,
        verbose: bool = False,
    ) -> None:
        _check_positive("n_threads", n_threads, integer=True)
        _check_positive("n_ctx", n_ctx, integer=True)
        _check_positive("timeout_s", timeout_s, integer=False)
        _check_positive("n_batch", n_batch, integer=True)
        _check_positive("n_ubatch", n_ubatch, integer=True)
        if n_ctx < 256:
            raise InputError(f"n_ctx must be at least 256 tokens, got {n_ctx}")
        if n_ubatch > n_batch:
            raise InputError(f"n_ubatch ({n_ubatch}) must not exceed n_batch ({n_batch})")
        if isinstance(cache_ram_mib, bool) or not isinstance(cache_ram_mib, int) or cache_ram_mib < 0:
            raise InputError(f"cache_ram_mib must be an int >= 0, got {cache_ram_mib!r}")
        self.model_path = Path(model_path).expanduser()
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.timeout_s = float(timeout_s)
        self.n_batch = n_batch
        self.n_ubatch = n_ubatch
        self.cache_ram_mib = cache_ram_mib
        self.verbose = verbose
        self.name = f"llama.cpp:{self.model_path.stem}"
        self.load_s: float | None = None
        self._server: Any = None
        self._api_key = ""
        self._lock = threading.Lock()

    def _is_loaded(self) -> bool:
        return self._server is not None

    def load(self) -> None:
        """Check the GGUF file and start llama.cpp on it (2-6 s, ~1.9 GB RAM for the default).

        Raises:
            ModelError: the file is missing, is not a GGUF, or llama.cpp refused it.
            ImportError: ``xllamacpp`` is not installed.
        """
        with self._lock:
            if self._server is not None:
                return
            _check_gguf_file(self.model_path)
            try:
                import xllamacpp as xlc
            except ImportError as exc:
                raise ImportError(
                    "LlamaCppGenerator needs the prebuilt llama.cpp bindings: `pip install xllamacpp`"
                ) from exc

            api_key = secrets.token_urlsafe(24)
            params = xlc.CommonParams()
            params.model.path = str(self.model_path)
            params.n_ctx = self.n_ctx
            params.n_batch = self.n_batch
            params.n_ubatch = self.n_ubatch
            params.n_parallel = 1
            params.cpuparams.n_threads = self.n_threads
            params.cpuparams_batch.n_threads = self.n_threads
            params.cache_prompt = True
            params.cache_ram_mib = self.cache_ram_mib
            params.n_threads_http = 1
            params.hostnames = ["127.0.0.1"]
            params.port = 0  # random free port
            params.api_keys = [api_key]
            params.verbosity = 3 if self.verbose else 1
            params.sampling.temp = 0.0
            params.sampling.seed = 0

            start = time.perf_counter()
            try:
                server = xlc.Server(params)
            except RuntimeError as exc:
                raise ModelError(
                    f"llama.cpp could not load {self.model_path}: {exc} The file may be corrupt, "
                    f"truncated or a model this llama.cpp version does not support; delete it and "
                    f"{_SETUP_HINT}"
                ) from exc
            self.load_s = time.perf_counter() - start
            self._server = server
            self._api_key = api_key
            logger.info(
                "loaded %s in %.1fs (%d threads, n_ctx %d)",
                self.model_path.name,
                self.load_s,
                self.n_threads,
                self.n_ctx,
            )

    def close(self) -> None:
        """Free the model and its memory; ``load()`` may be called again afterwards."""
        with self._lock:
            self._server = None  # xllamacpp stops its server thread in the destructor

    def count_tokens(self, text: str) -> int:
        """Exact token count of ``text`` (no BOS or other special tokens added).

        Raises:
            ModelError: the model is not loaded or the tokenizer call failed.
        """
        self._require_loaded()
        if not text:
            return 0
        url = f"{self._server.listening_address}/tokenize"
        try:
            answer = _post_json(
                url,
                {"content": text, "add_special": False},
                {"Authorization": f"Bearer {self._api_key}"},
                timeout_s=self.timeout_s,
            )
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ModelError(f"{self.name}: tokenizing failed at {url}: {exc}") from exc
        return len(answer["tokens"])

    def _run(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        seed: int,
        stop: list[str],
        stats: _RunStats,
    ) -> Iterator[str]:
        request = _chat_payload(messages, max_tokens, temperature, seed, stop, cache_prompt=True)
        return self._stream_request(self._server, request, stats)

    def _stream_request(self, server: Any, request: dict[str, Any], stats: _RunStats) -> Iterator[str]:
        """Run one streaming request in a worker thread and yield its text pieces.

        xllamacpp calls a callback per chunk and blocks until the request ends, so the
        call runs in a daemon thread that feeds a queue. Returning True from the
        callback makes llama.cpp stop; that is how a timeout or an early ``close()`` of
        this iterator cancels generation (it takes effect at the next token, so a
        request still in prompt processing finishes that first).
        """
        chunks: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancel = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            chunks.put(("chunk", chunk))
            return cancel.is_set()

        def work() -> None:
            try:
                result = server.handle_chat_completions(request, on_chunk)
                chunks.put(("done", result))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
                chunks.put(("exc", exc))

        with _ACTIVE_LOCK:
            others = _ACTIVE[0]  # requests already running on this machine's model: contention, not prompt length
            _ACTIVE[0] += 1
        deadline = time.monotonic() + self.timeout_s
        produced = 0
        worker = threading.Thread(target=work, name="sanad-llamacpp", daemon=True)
        worker.start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    kind, item = chunks.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    cancel.set()
                    raise GenerationError(_timeout_message(self.name, self.timeout_s, produced, others)) from None
                if kind == "exc":
                    raise GenerationError(f"{self.name}: llama.cpp failed: {item}") from item
                if kind == "done":
                    if isinstance(item, dict) and "error" in item:
                        raise GenerationError(f"{self.name}: {_error_text(item['error'])}")
                    return
                piece = _consume_openai_chunk(item, stats, self.name)
                if piece:
                    produced += 1
                    yield piece
        finally:
            cancel.set()
            with _ACTIVE_LOCK:
                _ACTIVE[0] -= 1


_ACTIVE_LOCK = threading.Lock()
_ACTIVE = [0]


def _timeout_message(name: str, timeout_s: float, produced: int, others: int) -> str:
    """Why a request ran out of time, as far as can be told: contention, prompt processing, or a long answer."""
    base = f"{name}: no answer within {timeout_s:g}s"
    if others:
        return (
            f"{base}: {others} other request(s) were already using the model when it started, so it waited "
            f"behind them (contention; the server's ask queue bounds this). Try again, or raise llm_timeout_s"
        )
    if not produced:
        return (
            f"{base} and no token was produced: processing the prompt took that long (a long prompt, or a busy "
            f"CPU). Lower prompt_budget_tokens, or raise llm_timeout_s"
        )
    return f"{base}: it was still writing after {produced} pieces of text; lower llm_max_tokens or raise llm_timeout_s"


def _check_gguf_file(path: Path) -> None:
    """Fail fast, with a useful message, on a missing, tiny or non-GGUF file."""
    if not path.is_file():
        raise ModelError(f"LLM file not found: {path}; {_SETUP_HINT}, or pass the path of a .gguf file")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] != _GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF file (it starts with {head[:4]!r}, expected {_GGUF_MAGIC!r}); "
            f"delete it and {_SETUP_HINT}"
        )
    version = struct.unpack("<I", head[4:8])[0] if len(head) == 8 else -1
    if version not in (2, 3):
        raise ModelError(f"{path} has GGUF version {version}, expected 2 or 3; delete it and {_SETUP_HINT}")
    if size < _GGUF_MIN_BYTES:
        raise ModelError(
            f"{path} is only {size} bytes: too small to be a model (truncated?); delete it and {_SETUP_HINT}"
        )
