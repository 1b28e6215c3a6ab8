"""The fallback backend: a chat model run by Hugging Face ``transformers``.

Holds :class:`TransformersGenerator`, which streams through ``TextIteratorStreamer`` in a
worker thread and cuts stop strings itself. It is named ``hf_transformers`` so that it
can never shadow the ``transformers`` package. ``torch`` and ``transformers`` are
imported in ``load()`` and per request, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rag.errors import GenerationError, InputError, ModelError
from rag.generators.base import ChatMessage, _BaseGenerator, _check_positive, _RunStats, _StopTrimmer

__all__ = ["TransformersGenerator"]

logger = logging.getLogger(__name__)


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
            model.to(self.device)  # type: ignore[arg-type]  # transformers' stubs type .to() as a decorator
            model.eval()
            self._tokenizer, self._model = tokenizer, model
            logger.info(
                "loaded %s in %.1fs on %s (%s)", self.name, time.perf_counter() - start, self.device, self.dtype
            )

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
