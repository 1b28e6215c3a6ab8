"""A backend for any OpenAI-compatible ``/chat/completions`` endpoint, streamed over server-sent events.

Holds :class:`OpenAICompatGenerator` (llama.cpp's server, vLLM, Ollama, the OpenAI API)
and the server-sent-events reader it streams with. It uses only the standard library
(``urllib``), so it adds no dependency and importing it is cheap.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from rag.errors import GenerationError, InputError, ModelError
from rag.generators.base import (
    ChatMessage,
    _approx_tokens,
    _BaseGenerator,
    _chat_payload,
    _check_positive,
    _consume_openai_chunk,
    _post_json,
    _RunStats,
)

__all__ = ["OpenAICompatGenerator"]

logger = logging.getLogger(__name__)


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
            with urllib.request.urlopen(req, timeout=min(self.timeout_s, 30.0)) as resp:
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
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
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
        except TimeoutError as exc:  # socket.timeout is an alias of it
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
