"""Tests for rag.generators.hf_transformers: settings, load errors, and the whole path on a tiny random model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.errors import InputError, ModelError
from rag.generators import ChatMessage, TransformersGenerator

ARITHMETIC = [ChatMessage("user", "What is 2+3? Reply with the number only.")]


def test_transformers_init_bad_settings_raise() -> None:
    with pytest.raises(InputError, match=re.escape("dtype must be one of ['float32', 'bfloat16', 'float16', 'auto']")):
        TransformersGenerator("org/model", dtype="fp8")
    with pytest.raises(InputError, match=re.escape("device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'")):
        TransformersGenerator("org/model", device="gpu")
    with pytest.raises(InputError, match=re.escape("gguf_file must be the name of a .gguf file")):
        TransformersGenerator("org/model", gguf_file="model.bin")
    with pytest.raises(InputError, match="model_id must be a non-empty string"):
        TransformersGenerator("  ")


def test_transformers_generate_before_load_raises() -> None:
    with pytest.raises(ModelError, match=r"call load\(\) first"):
        TransformersGenerator("org/model").generate(ARITHMETIC)


def test_transformers_load_nonexistent_local_path_raises_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        "from rag.generators import TransformersGenerator\n"
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
