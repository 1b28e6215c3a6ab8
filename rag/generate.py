"""Generators: turn chat messages into text with a local or remote language model.

One small interface, :class:`Generator`, with three backends:

* :class:`LlamaCppGenerator`, the default: a GGUF file run in-process by llama.cpp
  through the prebuilt ``xllamacpp`` wheel (no compiler, no network).
* :class:`OpenAICompatGenerator`: any OpenAI-compatible ``/chat/completions`` endpoint
  (llama.cpp server, vLLM, Ollama), streamed over server-sent events.
* :class:`TransformersGenerator`: a Hugging Face ``transformers`` model; a fallback for
  machines with network access (it is slow on CPU for GGUF files: they are dequantised).

Every backend keeps ``__init__`` cheap (it only checks settings), loads in ``load()``
(safe to call twice), and refuses to generate before ``load()``.

Example:
    >>> from pathlib import Path
    >>> gen = LlamaCppGenerator(Path("~/.cache/sanad/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))
    >>> gen.load()  # doctest: +SKIP
    >>> msgs = [ChatMessage("user", "What is 2+3? Reply with the number only.")]
    >>> gen.generate(msgs).text  # doctest: +SKIP
    '5'
    >>> "".join(gen.stream(msgs))  # doctest: +SKIP
    '5'
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import secrets
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from rag.errors import GenerationError, InputError, ModelError

__all__ = [
    "ChatMessage",
    "Generation",
    "Generator",
    "LlamaCppGenerator",
    "OpenAICompatGenerator",
    "TransformersGenerator",
]

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")

_GGUF_MAGIC = b"GGUF"
_GGUF_MIN_BYTES = 1024 * 1024  # any real model is far larger; smaller means truncated or not a model
_SETUP_HINT = "run `sanad setup` to download and assemble the default model"
_CHARS_PER_TOKEN = 3.0  # rough, for mixed Arabic/English text with Qwen/Llama-style BPE vocabularies


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a chat.

    Attributes:
        role: ``"system"``, ``"user"`` or ``"assistant"``.
        content: the text of the turn.
    """

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(f"chat role {self.role!r} is not one of {list(ROLES)}")
        if not isinstance(self.content, str):
            raise InputError(f"chat content must be a str, got {type(self.content).__name__}")

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Generation:
    """A finished answer and what it cost.

    Attributes:
        text: the generated text (stop strings excluded).
        prompt_tokens: tokens in the templated prompt, cached ones included.
        completion_tokens: tokens generated.
        ttft_s: seconds from the call to the first non-empty piece of text (nearly all of
            it is prompt processing); equals ``total_s`` when nothing was generated.
        total_s: seconds from the call to the end of generation.
        finish_reason: ``"stop"`` (end of turn or a stop string), ``"length"``
            (``max_tokens`` reached), or ``""`` when the backend did not say.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    total_s: float
    finish_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Generator(Protocol):
    """What the answering pipeline needs from a language model."""

    name: str

    def load(self) -> None:
        """Load the model (heavy); safe to call twice."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes with this model's tokenizer."""
        ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield pieces of the answer as the model produces them."""
        ...

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Generation:
        """Return the whole answer with token counts and timings."""
        ...


# --------------------------------------------------------------------------- shared machinery


@dataclass
class _RunStats:
    """Filled in by a backend while one request streams; read by ``generate()``."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _BaseGenerator:
    """Argument checks, ``generate()`` built on ``_run()``, and the not-loaded guard."""

    name: str = "generator"

    def _is_loaded(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _run(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        seed: int,
        stop: list[str],
        stats: _RunStats,
    ) -> Iterator[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _require_loaded(self) -> None:
        if not self._is_loaded():
            raise ModelError(f"{self.name}: the model is not loaded; call load() first")

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield pieces of the answer as the model produces them.

        Checks happen when this is called, not on the first ``next()``. Closing the
        iterator early (``break``) cancels the request.

        Args:
            messages: the chat, oldest first.
            max_tokens: most tokens to generate.
            temperature: 0 means greedy decoding (deterministic).
            seed: sampling seed, for reproducible runs at temperature > 0.
            stop: strings that end the answer; they are not included in it.

        Raises:
            ModelError: the model is not loaded.
            InputError: a bad argument.
            GenerationError: (while iterating) the backend failed or timed out.
        """
        self._require_loaded()
        args = _check_request(messages, max_tokens, temperature, seed, stop)
        return self._run(*args, stats=_RunStats())

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] = (),
    ) -> Generation:
        """Return the whole answer with token counts and timings.

        Same arguments and errors as :meth:`stream`.
        """
        self._require_loaded()
        args = _check_request(messages, max_tokens, temperature, seed, stop)
        stats = _RunStats()
        pieces: list[str] = []
        start = time.perf_counter()
        ttft: float | None = None
        for piece in self._run(*args, stats=stats):
            if ttft is None and piece:
                ttft = time.perf_counter() - start
            pieces.append(piece)
        total = time.perf_counter() - start
        gen = Generation(
            text="".join(pieces),
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            ttft_s=total if ttft is None else ttft,
            total_s=total,
            finish_reason=stats.finish_reason,
        )
        logger.debug(
            "%s: %d prompt + %d completion tokens, ttft %.2fs, total %.2fs, finish %r",
            self.name,
            gen.prompt_tokens,
            gen.completion_tokens,
            gen.ttft_s,
            gen.total_s,
            gen.finish_reason,
        )
        timings = stats.extra.get("timings")
        if timings:  # llama.cpp reports its own split of the time
            logger.debug(
                "%s: %d cached prompt tokens; prompt %.1f tok/s, generation %.1f tok/s",
                self.name,
                int(timings.get("cache_n", 0)),
                float(timings.get("prompt_per_second", 0.0)),
                float(timings.get("predicted_per_second", 0.0)),
            )
        return gen


def _check_request(
    messages: Sequence[ChatMessage],
    max_tokens: int,
    temperature: float,
    seed: int,
    stop: Sequence[str],
) -> tuple[list[ChatMessage], int, float, int, list[str]]:
    """Validate per-call arguments; return them in the order ``_run`` takes them."""
    if isinstance(messages, (str, bytes)) or not messages:
        raise InputError("messages must be a non-empty sequence of ChatMessage")
    msgs = list(messages)
    for m in msgs:
        if not isinstance(m, ChatMessage):
            raise InputError(f"messages must hold ChatMessage objects, got {type(m).__name__}")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InputError(f"max_tokens must be an int >= 1, got {max_tokens!r}")
    if not isinstance(temperature, (int, float)) or not 0.0 <= float(temperature) <= 5.0:
        raise InputError(f"temperature must be a number in [0, 5], got {temperature!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(stop, str):
        raise InputError("stop must be a sequence of strings, not one string: use stop=[...]")
    stops = list(stop)
    for s in stops:
        if not isinstance(s, str) or not s:
            raise InputError(f"stop strings must be non-empty str, got {s!r}")
    return msgs, max_tokens, float(temperature), seed, stops


def _check_positive(name: str, value: float, *, integer: bool) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise InputError(f"{name} must be a positive {'int' if integer else 'number'}, got {value!r}")


def _approx_tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARS_PER_TOKEN) if text else 0


def _chat_payload(messages: list[ChatMessage], max_tokens: int, temperature: float, seed: int, stop: list[str],
                  **extra: Any) -> dict[str, Any]:
    """A streaming OpenAI-style ``/chat/completions`` request body (llama.cpp reads the same one)."""
    payload: dict[str, Any] = {
        "messages": [m.to_dict() for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
        "seed": seed,
        "stream": True,
        "stream_options": {"include_usage": True},
        **extra,
    }
    if stop:
        payload["stop"] = stop
    return payload


def _post_json(url: str, payload: dict[str, Any], headers: dict[str, str], timeout_s: float) -> Any:
    """POST JSON and return the decoded JSON answer (stdlib only)."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - URL is a checked http(s) one
        return json.loads(resp.read().decode("utf-8"))


def _error_text(err: Any) -> str:
    """The human message inside an OpenAI/llama.cpp style ``{"error": ...}`` payload."""
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)


# --------------------------------------------------------------------------- llama.cpp (xllamacpp)


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

        deadline = time.monotonic() + self.timeout_s
        worker = threading.Thread(target=work, name="sanad-llamacpp", daemon=True)
        worker.start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    kind, item = chunks.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    cancel.set()
                    raise GenerationError(
                        f"{self.name}: generation timed out after {self.timeout_s:g}s; use a shorter "
                        "prompt or fewer max_tokens, or raise timeout_s"
                    ) from None
                if kind == "exc":
                    raise GenerationError(f"{self.name}: llama.cpp failed: {item}") from item
                if kind == "done":
                    if isinstance(item, dict) and "error" in item:
                        raise GenerationError(f"{self.name}: {_error_text(item['error'])}")
                    return
                piece = _consume_openai_chunk(item, stats, self.name)
                if piece:
                    yield piece
        finally:
            cancel.set()


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


def _consume_openai_chunk(chunk: Any, stats: _RunStats, name: str) -> str:
    """Read one ``chat.completion.chunk``: record usage/finish reason, return its text."""
    if not isinstance(chunk, dict):
        return ""
    if "error" in chunk:
        raise GenerationError(f"{name}: {_error_text(chunk['error'])}")
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        stats.completion_tokens = int(usage.get("completion_tokens") or 0)
    if isinstance(chunk.get("timings"), dict):
        stats.extra["timings"] = chunk["timings"]
    text = ""
    for choice in chunk.get("choices") or ():
        if choice.get("finish_reason"):
            stats.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content:
            text += content
    return text


# --------------------------------------------------------------------------- OpenAI-compatible HTTP


class OpenAICompatGenerator(_BaseGenerator):
    """Stream answers from an OpenAI-compatible ``/chat/completions`` endpoint.

    Works with llama.cpp's server, vLLM, Ollama (``http://localhost:11434/v1``) and the
    OpenAI API. Uses only the standard library (``urllib``).

    ``count_tokens`` is exact when the server has llama.cpp's ``/tokenize`` endpoint
    (looked for at ``base_url`` and at its root, without ``/v1``), and otherwise an
    approximation, ``ceil(len(text) / 3)``; :attr:`tokens_exact` says which.

    Example:
        >>> gen = OpenAICompatGenerator("http://127.0.0.1:8080/v1", "qwen2.5-coder-1.5b")
        >>> gen.load()  # doctest: +SKIP
        >>> gen.generate([ChatMessage("user", "Hi")]).text  # doctest: +SKIP

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8080/v1`` (``/chat/completions``
            is appended).
        model: the model name the server expects.
        api_key: sent as ``Authorization: Bearer <key>`` when given.
        timeout_s: limit for connecting, for any silence between two chunks, and for the
            whole answer.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 120) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InputError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not isinstance(model, str) or not model.strip():
            raise InputError(f"model must be a non-empty string, got {model!r}")
        if api_key is not None and not isinstance(api_key, str):
            raise InputError("api_key must be a string or None")
        _check_positive("timeout_s", timeout_s, integer=False)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = float(timeout_s)
        self.name = f"openai:{model}@{self.base_url}"
        self._api_key = api_key
        self._loaded = False
        self._tokenize_url: str | None = None

    @property
    def tokens_exact(self) -> bool:
        """True when :meth:`count_tokens` uses the server's tokenizer."""
        return self._tokenize_url is not None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _is_loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """Check that the server answers and look for a ``/tokenize`` endpoint.

        Raises:
            ModelError: the server cannot be reached or rejects the API key.
        """
        if self._loaded:
            return
        url = f"{self.base_url}/models"
        req = urllib.request.Request(url, headers=self._headers())
        try:
            with urllib.request.urlopen(req, timeout=min(self.timeout_s, 30.0)) as resp:  # noqa: S310
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise ModelError(f"{url} refused the API key (HTTP {exc.code}); pass the right api_key") from exc
            logger.warning("%s answered HTTP %d; going on, chat requests may still work", url, exc.code)
        except (urllib.error.URLError, OSError) as exc:
            raise ModelError(
                f"cannot reach the LLM server at {self.base_url} ({exc}); start it or fix base_url"
            ) from exc
        self._tokenize_url = self._find_tokenize_url()
        self._loaded = True
        logger.info(
            "connected to %s (token counts %s)", self.base_url, "exact" if self._tokenize_url else "approximate"
        )

    def _find_tokenize_url(self) -> str | None:
        candidates = [f"{self.base_url}/tokenize"]
        if self.base_url.endswith("/v1"):
            candidates.append(f"{self.base_url[: -len('/v1')]}/tokenize")
        for url in candidates:
            try:
                answer = _post_json(url, {"content": "hello"}, self._headers(), timeout_s=min(self.timeout_s, 10.0))
            except (urllib.error.URLError, OSError, ValueError):
                continue
            if isinstance(answer, dict) and isinstance(answer.get("tokens"), list):
                return url
        return None

    def count_tokens(self, text: str) -> int:
        """Token count of ``text``: exact via ``/tokenize`` when the server has it, else ``ceil(len/3)``.

        Raises:
            ModelError: not loaded.
        """
        self._require_loaded()
        if not text:
            return 0
        if self._tokenize_url is not None:
            try:
                answer = _post_json(
                    self._tokenize_url, {"content": text, "add_special": False}, self._headers(), self.timeout_s
                )
                return len(answer["tokens"])
            except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("tokenize at %s failed (%s); using the approximate count", self._tokenize_url, exc)
        return _approx_tokens(text)

    def _run(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        seed: int,
        stop: list[str],
        stats: _RunStats,
    ) -> Iterator[str]:
        payload = {"model": self.model, **_chat_payload(messages, max_tokens, temperature, seed, stop)}
        return self._stream_sse(payload, messages, stats)

    def _stream_sse(self, payload: dict[str, Any], messages: list[ChatMessage], stats: _RunStats) -> Iterator[str]:
        url = f"{self.base_url}/chat/completions"
        req = urllib.request.Request(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "text/event-stream", **self._headers()},
        )
        deadline = time.monotonic() + self.timeout_s
        n_pieces = 0
        got_usage = False
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                for data in _iter_sse_data(resp):
                    if time.monotonic() > deadline:
                        raise GenerationError(
                            f"{self.name}: generation timed out after {self.timeout_s:g}s; raise timeout_s "
                            "or ask for fewer max_tokens"
                        )
                    if data.strip() == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except json.JSONDecodeError as exc:
                        raise GenerationError(f"{self.name}: server sent a non-JSON event: {data[:200]!r}") from exc
                    got_usage = got_usage or isinstance(chunk.get("usage"), dict)
                    piece = _consume_openai_chunk(chunk, stats, self.name)
                    if piece:
                        n_pieces += 1
                        yield piece
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")[:500]
            hint = "; check api_key" if exc.code in (401, 403) else ""
            raise GenerationError(f"{self.name}: {url} answered HTTP {exc.code}: {body}{hint}") from exc
        except (TimeoutError, socket.timeout) as exc:
            raise GenerationError(
                f"{self.name}: generation timed out after {self.timeout_s:g}s without data from the server"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GenerationError(f"{self.name}: request to {url} failed: {exc}") from exc
        if not got_usage:  # the server did not report usage: estimate it
            stats.prompt_tokens = sum(_approx_tokens(m.content) for m in messages)
            stats.completion_tokens = n_pieces


def _iter_sse_data(lines: Any) -> Iterator[str]:
    """Yield the ``data`` of each server-sent event (multi-line data joined by newlines)."""
    buf: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if buf:
                yield "\n".join(buf)
                buf = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        fieldname, _, value = line.partition(":")
        if fieldname == "data":
            buf.append(value[1:] if value.startswith(" ") else value)
        elif fieldname == "error":  # some servers send a bare error line
            raise GenerationError(f"server error: {value.strip()}")
    if buf:
        yield "\n".join(buf)


# --------------------------------------------------------------------------- Hugging Face transformers


_DTYPES = ("float32", "bfloat16", "float16", "auto")


class TransformersGenerator(_BaseGenerator):
    """Run a chat model with Hugging Face ``transformers`` (fallback backend).

    Uses the tokenizer's chat template and ``TextIteratorStreamer`` for streaming. A
    GGUF file can be given with ``gguf_file`` but is dequantised to ``dtype`` on load
    (for the default 1.5B model: ~90 s, 9 GB RAM, ~2 tokens/s on 2 CPU cores), so
    prefer :class:`LlamaCppGenerator` for GGUF files.

    Example:
        >>> gen = TransformersGenerator("Qwen/Qwen2.5-1.5B-Instruct")
        >>> gen.load()  # doctest: +SKIP

    Args:
        model_id: a Hugging Face repo id or a local folder.
        gguf_file: a GGUF file name inside ``model_id`` to load instead of safetensors.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        dtype: one of ``float32``, ``bfloat16``, ``float16``, ``auto``. float16 on CPU is slow.
        timeout_s: wall-clock limit for one request.
    """

    def __init__(
        self,
        model_id: str,
        *,
        gguf_file: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        timeout_s: float = 600,
    ) -> None:
        if not isinstance(model_id, str) or not model_id.strip():
            raise InputError(f"model_id must be a non-empty string, got {model_id!r}")
        if gguf_file is not None and (not isinstance(gguf_file, str) or not gguf_file.endswith(".gguf")):
            raise InputError(f"gguf_file must be the name of a .gguf file, got {gguf_file!r}")
        if not isinstance(device, str) or not (
            device in ("cpu", "cuda", "mps") or (device.startswith("cuda:") and device[5:].isdigit())
        ):
            raise InputError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
        if dtype not in _DTYPES:
            raise InputError(f"dtype must be one of {list(_DTYPES)}, got {dtype!r}")
        _check_positive("timeout_s", timeout_s, integer=False)
        self.model_id = model_id
        self.gguf_file = gguf_file
        self.device = device
        self.dtype = dtype
        self.timeout_s = float(timeout_s)
        self.name = f"transformers:{model_id}" + (f"/{gguf_file}" if gguf_file else "")
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _is_loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load tokenizer and model (may download them unless ``HF_HUB_OFFLINE=1``).

        Raises:
            ModelError: the model cannot be found or loaded.
            ImportError: ``transformers``/``torch`` are not installed.
        """
        with self._lock:
            if self._model is not None:
                return
            local = Path(self.model_id).expanduser()
            if self.model_id.startswith((".", "/", "~", "\\")) and not local.exists():
                raise ModelError(f"model folder not found: {local}; pass an existing folder or a Hugging Face repo id")
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise ImportError(
                    "TransformersGenerator needs transformers and torch: `pip install transformers torch`"
                ) from exc
            source = str(local) if local.exists() else self.model_id
            kwargs: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            torch_dtype: Any = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
            start = time.perf_counter()
            try:
                tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, **kwargs)
            except (OSError, ValueError, ImportError) as exc:
                offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
                raise ModelError(
                    f"transformers could not load {self.name}: {exc}"
                    + (" (HF_HUB_OFFLINE is set: only local folders and cached models work)" if offline else "")
                ) from exc
            if getattr(tokenizer, "chat_template", None) is None:
                raise ModelError(f"{self.name} has no chat template; use an instruct/chat model")
            model.to(self.device)
            model.eval()
            self._tokenizer, self._model = tokenizer, model
            logger.info("loaded %s in %.1fs on %s (%s)", self.name, time.perf_counter() - start, self.device, self.dtype)

    def count_tokens(self, text: str) -> int:
        """Exact token count of ``text`` (no special tokens added)."""
        self._require_loaded()
        return len(self._tokenizer.encode(text, add_special_tokens=False)) if text else 0

    def _run(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        seed: int,
        stop: list[str],
        stats: _RunStats,
    ) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tok, model = self._tokenizer, self._model
        inputs = tok.apply_chat_template(
            [m.to_dict() for m in messages],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        ).to(self.device)
        n_prompt = int(inputs["input_ids"].shape[-1])
        cancel = threading.Event()

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return cancel.is_set()

        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s)
        gen_kwargs: dict[str, Any] = {
            **inputs,
            "max_new_tokens": max_tokens,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([_Cancel()]),
            "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        }
        if temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=temperature)
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            gen_kwargs.update(stop_strings=stop, tokenizer=tok)
        outputs: dict[str, Any] = {}

        def work() -> None:
            try:
                with torch.inference_mode():
                    if temperature > 0:
                        torch.manual_seed(seed)
                    outputs["ids"] = model.generate(**gen_kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
                outputs["exc"] = exc
                streamer.end()

        return self._consume(work, streamer, cancel, outputs, n_prompt, max_tokens, stop, stats)

    def _consume(
        self,
        work: Callable[[], None],
        streamer: Any,
        cancel: threading.Event,
        outputs: dict[str, Any],
        n_prompt: int,
        max_tokens: int,
        stop: list[str],
        stats: _RunStats,
    ) -> Iterator[str]:
        worker = threading.Thread(target=work, name="sanad-transformers", daemon=True)
        deadline = time.monotonic() + self.timeout_s
        trimmer = _StopTrimmer(stop)
        worker.start()
        try:
            for piece in streamer:
                if time.monotonic() > deadline:
                    raise GenerationError(f"{self.name}: generation timed out after {self.timeout_s:g}s")
                out = trimmer.feed(piece)
                if out:
                    yield out
                if trimmer.stopped:
                    break
            else:
                tail = trimmer.flush()
                if tail:
                    yield tail
        except queue.Empty:
            raise GenerationError(f"{self.name}: generation timed out after {self.timeout_s:g}s") from None
        finally:
            cancel.set()
        worker.join(timeout=max(deadline - time.monotonic(), 1.0))
        if "exc" in outputs:
            raise GenerationError(f"{self.name}: generation failed: {outputs['exc']}") from outputs["exc"]
        stats.prompt_tokens = n_prompt
        if "ids" in outputs:
            stats.completion_tokens = int(outputs["ids"].shape[-1]) - n_prompt
            stats.finish_reason = "length" if stats.completion_tokens >= max_tokens and not trimmer.stopped else "stop"


class _StopTrimmer:
    """Cut a streamed text at the first stop string, holding back text that may start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = list(stops)
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.buf = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return piece
        self.buf += piece
        hits = [i for i in (self.buf.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self.buf = self.buf[: min(hits)], ""
            return out
        cut = max(len(self.buf) - self.hold, 0)
        out, self.buf = self.buf[:cut], self.buf[cut:]
        return out

    def flush(self) -> str:
        out, self.buf = ("" if self.stopped else self.buf), ""
        return out
