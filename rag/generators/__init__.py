"""Generators: turn chat messages into text with a local or remote language model.

One small interface, :class:`Generator`, with three backends, one module each:

* :class:`LlamaCppGenerator` (:mod:`rag.generators.llamacpp`), the default: a GGUF file
  run in-process by llama.cpp through the prebuilt ``xllamacpp`` wheel (no compiler, no network).
* :class:`OpenAICompatGenerator` (:mod:`rag.generators.openai_compat`): any
  OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp server, vLLM, Ollama),
  streamed over server-sent events.
* :class:`TransformersGenerator` (:mod:`rag.generators.hf_transformers`): a Hugging Face
  ``transformers`` model; a fallback for machines with network access (it is slow on CPU
  for GGUF files: they are dequantised).

What they share (the chat types, argument checks, the one request body, streaming and
stop trimming, run stats) is in :mod:`rag.generators.base`. :func:`make_generator` picks
the backend a :class:`~rag.config.SanadConfig` names.

Every backend keeps ``__init__`` cheap (it only checks settings), loads in ``load()``
(safe to call twice), and refuses to generate before ``load()``. Heavy libraries
(``xllamacpp``, ``transformers``, ``torch``) are imported only in ``load()`` or per
request, so ``import rag.generators`` stays cheap.

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

from pathlib import Path

from rag.config import OFFLINE_LLM, SanadConfig
from rag.errors import InputError
from rag.generators.base import ChatMessage, Generation, Generator
from rag.generators.hf_transformers import TransformersGenerator
from rag.generators.llamacpp import LlamaCppGenerator
from rag.generators.openai_compat import OpenAICompatGenerator

__all__ = [
    "ChatMessage",
    "Generation",
    "Generator",
    "LlamaCppGenerator",
    "OpenAICompatGenerator",
    "TransformersGenerator",
    "make_generator",
]


def make_generator(config: SanadConfig) -> Generator:
    """The language model named by ``config`` (not loaded yet)."""
    if config.llm_backend == "llama-cpp":
        if config.llm_model == OFFLINE_LLM:
            from rag.models.llm_assets import GGUF_NAME

            path = config.model_dir / GGUF_NAME
        else:
            path = Path(config.llm_model).expanduser()
        return LlamaCppGenerator(
            path, n_threads=config.llm_threads, n_ctx=config.llm_ctx, timeout_s=config.llm_timeout_s
        )
    if config.llm_backend == "openai":
        if not config.llm_base_url:
            raise InputError("llm_backend='openai' needs llm_base_url (e.g. http://127.0.0.1:8080/v1)")
        model = "default" if config.llm_model == OFFLINE_LLM else config.llm_model
        import os

        return OpenAICompatGenerator(
            config.llm_base_url, model, api_key=os.environ.get("SANAD_LLM_API_KEY"), timeout_s=config.llm_timeout_s
        )
    if config.llm_model == OFFLINE_LLM:
        raise InputError("llm_backend='transformers' needs llm_model set to a model id or folder")
    return TransformersGenerator(config.llm_model)
