"""The shared half of every LLM backend: the chat types, the ``Generator`` protocol and the base class.

Sanad talks to a language model through one small interface, :class:`Generator`
(``load``, ``count_tokens``, ``stream``, ``generate``). Its three backends live next to
this module, one per file (:mod:`rag.generators.llamacpp`,
:mod:`rag.generators.openai_compat`, :mod:`rag.generators.hf_transformers`); what they
have in common lives here, so it is written once:

* :class:`ChatMessage` and :class:`Generation`, the frozen values that cross the seam;
* ``_BaseGenerator``: the per-call argument checks, the not-loaded guard, and
  ``generate()`` built on a backend's streaming ``_run()`` with its run stats (``_RunStats``);
* the one OpenAI-style streaming request body (``_chat_payload``) and the reader of its
  answer chunks (``_consume_openai_chunk``), which llama.cpp and HTTP servers share;
* ``_StopTrimmer``, stop strings for a backend that streams raw text, and small helpers
  (``_check_positive``, ``_approx_tokens``, ``_post_json``, ``_error_text``).

Names with a leading underscore are private to the :mod:`rag.generators` package, not to
this module: the backends import them; nothing outside the package should.
This module imports only the standard library.
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from rag.errors import GenerationError, InputError, ModelError

__all__ = ["ChatMessage", "Generation", "Generator"]

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")

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


def _chat_payload(
    messages: list[ChatMessage], max_tokens: int, temperature: float, seed: int, stop: list[str], **extra: Any
) -> dict[str, Any]:
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
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # the URL is a checked http(s) one
        return json.loads(resp.read().decode("utf-8"))


def _error_text(err: Any) -> str:
    """The human message inside an OpenAI/llama.cpp style ``{"error": ...}`` payload."""
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)


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
