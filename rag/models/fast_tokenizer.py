"""The embedding model's tokenizer through the ``tokenizers`` library alone, quick to load for one question.

Why: a search embeds one short question, but loading the tokenizer took seconds. Through
``transformers`` it costs the ``transformers`` import (~4 s); through ``tokenizers`` alone,
``Tokenizer.from_file`` still spends ~1 s of CPU building the trie of multilingual-e5's 250,002
Unigram pieces (measured on the 2-core machine), most of a 1.5 s budget.

So :class:`FastTokenizer` has two engines that give the same ids:

* *full*: the whole tokenizer (the JSON that ``transformers`` runs, saved by :func:`write_tokenizer_files`),
  loaded on first need: batches of passages, token counting, text with special-token strings in it;
* *compact* (Unigram models): the question's text is normalised and pre-tokenised, every vocabulary
  piece that occurs in it as a substring is looked up in :class:`PieceTable` (a hash table in
  memory-mapped ``.npy`` files: nothing to build at load), and a Unigram model of just those
  pieces (plus the unknown piece and one unmatchable entry carrying the vocabulary's lowest score, so the
  unknown-token penalty is unchanged) tokenises it. Viterbi over a lattice only ever uses pieces that
  occur in the text, so the segmentation is the full model's; its ids are mapped back to the real ones.

Truncation and padding reproduce ``tokenizer(texts, padding=True, truncation=True, max_length=n)``:
each text is encoded without special tokens, cut to ``n`` minus the special tokens the post-processor
adds (from the configured side), post-processed, and padded to the longest row with the pad id. The
export check (:mod:`rag.models.openvino_encoder`) compares these ids with the ``transformers`` tokenizer's
before the files are used, and ``tests/test_fast_tokenizer.py`` compares both engines on real text.

One lock serialises every call: the compact engine swaps the model of a shared tokenizer object.

Example:
    >>> tok = FastTokenizer.load(export_folder, settings)                 # doctest: +SKIP
    >>> ids, mask = tok.encode(["query: ما عاصمة العراق؟"])               # doctest: +SKIP
    >>> ids.shape == mask.shape, ids.dtype                                  # doctest: +SKIP
    (True, dtype('int64'))
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError

logger = logging.getLogger(__name__)

TOKENIZER_FILE = "tokenizer.json"  # the full tokenizer, truncation and padding removed
_BASE_FILE = "tokenizer_base.json"  # the same with a one-piece vocabulary: normaliser, pre-tokeniser, template
_TABLE_PREFIX = "tokenizer_pieces"  # PieceTable files: tokenizer_pieces.{bin,offsets.npy,buckets.npy,...}
#: Above this many characters in one call the full tokenizer is loaded and used instead (passages, indexing).
COMPACT_MAX_CHARS = 4000
_UNMATCHABLE = "\ue000\ue001\ue002"  # private-use code points: carries the lowest score, never matched


def write_tokenizer_files(hf_tokenizer: Any, folder: Path, max_length: int) -> dict[str, Any]:
    """Save what :class:`FastTokenizer` needs from a ``transformers`` fast tokenizer into ``folder``.

    Returns the settings to keep beside the files (they go into the export's reference marker).

    Raises:
        ModelError: the tokenizer is not a fast (``tokenizers``-backed) one.
    """
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(f"{type(hf_tokenizer).__name__} is not backed by the tokenizers library")
    spec = json.loads(backend.to_str())
    spec["truncation"] = None
    spec["padding"] = None
    _write_text(folder / TOKENIZER_FILE, json.dumps(spec, ensure_ascii=False))
    pad_token = hf_tokenizer.pad_token if hf_tokenizer.pad_token is not None else ""
    settings: dict[str, Any] = {
        "max_length": int(max_length),
        "pad_id": int(hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0),
        "pad_token": str(pad_token),
        "padding_side": str(getattr(hf_tokenizer, "padding_side", "right")),
        "truncation_side": str(getattr(hf_tokenizer, "truncation_side", "right")),
        "compact": None,
    }
    model = spec.get("model") or {}
    vocab = model.get("vocab")
    if (
        model.get("type") == "Unigram"
        and isinstance(vocab, list)
        and len(vocab) > 1
        and not model.get("byte_fallback")
        and model.get("unk_id") is not None
        and not any("\n" in piece for piece, _ in vocab)
    ):
        pieces = [piece for piece, _ in vocab]
        unk_id = int(model["unk_id"])
        base = dict(spec, model={**model, "vocab": [vocab[unk_id]], "unk_id": 0})
        _write_text(folder / _BASE_FILE, json.dumps(base, ensure_ascii=False))
        PieceTable.write(folder, pieces, [float(score) for _, score in vocab])
        settings["compact"] = {
            "unk_id": unk_id,
            "min_score": float(min(score for _, score in vocab)),
            "max_piece_chars": max(len(p) for p in pieces),
            "n_pieces": len(pieces),
            "special": sorted({t["content"] for t in spec.get("added_tokens", [])}),
        }
    return settings


class FastTokenizer:
    """Token ids and attention masks as the ``transformers`` tokenizer gives them, from ``tokenizers`` alone.

    Args:
        folder: where :func:`write_tokenizer_files` saved the files.
        settings: what it returned.
    """

    def __init__(self, folder: Path, settings: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        self.max_length = int(settings["max_length"])
        self.pad_id = int(settings["pad_id"])
        self.padding_side = settings.get("padding_side", "right")
        self.truncation_side = settings.get("truncation_side", "right")
        if self.padding_side not in ("left", "right") or self.truncation_side not in ("left", "right"):
            raise ModelError(f"unsupported padding/truncation side in {folder}: {settings}")
        self._lock = threading.RLock()
        self._full: Any = None
        self._compact = settings.get("compact")
        self._base: Any = None
        self._table: PieceTable | None = None
        if self._compact:
            self._base = Tokenizer.from_file(str(folder / _BASE_FILE))
            self._table = PieceTable(folder, int(self._compact["n_pieces"]))
            self._special = tuple(self._compact["special"])
        self._n_special: int | None = None

    @classmethod
    def load(cls, folder: Path, settings: dict[str, Any]) -> FastTokenizer:
        """The tokenizer saved in ``folder`` (see :func:`write_tokenizer_files`)."""
        try:
            return cls(folder, settings)
        except ModelError:
            raise
        except Exception as exc:  # missing, truncated or foreign files all mean "export again"
            raise ModelError(f"cannot load the tokenizer files in {folder}: {exc}; export the model again") from exc

    # -- public ----------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask)``, both ``(len(texts), longest)`` int64, truncated and padded."""
        with self._lock:
            rows = self._rows(list(texts))
        width = max((len(r) for r in rows), default=0)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            if self.padding_side == "right":
                ids[i, : len(row)], mask[i, : len(row)] = row, 1
            elif row:
                ids[i, -len(row) :], mask[i, -len(row) :] = row, 1
        return ids, mask

    def count(self, text: str) -> int:
        """Tokens of ``text`` without special tokens and without truncation (what chunking sizes by)."""
        with self._lock:
            return len(self._full_tokenizer().encode(text, add_special_tokens=False).ids)

    @property
    def engine(self) -> str:
        """``"full"`` once the whole tokenizer is loaded, else ``"compact"``."""
        return "full" if self._full is not None or not self._compact else "compact"

    # -- inside ----------------------------------------------------------------------------------
    def _full_tokenizer(self) -> Any:
        if self._full is None:
            from tokenizers import Tokenizer

            self._full = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        return self._full

    def _special_count(self, tok: Any) -> int:
        if self._n_special is None:
            self._n_special = int(tok.num_special_tokens_to_add(False))
        return self._n_special

    def _rows(self, texts: list[str]) -> list[list[int]]:
        if self._full is None and self._compact and sum(map(len, texts)) <= COMPACT_MAX_CHARS:
            rows = self._compact_rows(texts)
            if rows is not None:
                return rows
        tok = self._full_tokenizer()
        return [self._finish(tok, enc, None) for enc in tok.encode_batch(texts, add_special_tokens=False)]

    def _finish(self, tok: Any, encoding: Any, id_map: np.ndarray | None) -> list[int]:
        """Truncate (leaving room for the special tokens), add them, map compact ids back."""
        keep = max(self.max_length - self._special_count(tok), 0)
        if len(encoding.ids) > keep:
            encoding.truncate(keep, direction=self.truncation_side)
        done = tok.post_process(encoding)
        ids = done.ids
        if id_map is None:
            return list(ids)
        return [i if special else int(id_map[i]) for i, special in zip(ids, done.special_tokens_mask, strict=True)]

    def _compact_rows(self, texts: list[str]) -> list[list[int]] | None:
        """Rows through a Unigram of only the pieces found in ``texts``; ``None`` when that cannot be exact."""
        from tokenizers.models import Unigram

        assert self._table is not None and self._compact is not None
        base, longest, table = self._base, int(self._compact["max_piece_chars"]), self._table
        found: set[int] = set()
        for text in texts:
            if any(s and s in text for s in self._special):
                return None  # special-token strings are split out before normalisation: the full path
            normalized = base.normalizer.normalize_str(text) if base.normalizer is not None else text
            if _UNMATCHABLE in normalized or any(s and s in normalized for s in self._special):
                return None
            words = (
                [w for w, _ in base.pre_tokenizer.pre_tokenize_str(normalized)]
                if base.pre_tokenizer is not None
                else [normalized]
            )
            for word in words:
                found.update(table.substrings(word, longest))
        unk = int(self._compact["unk_id"])
        found.discard(unk)
        original = [unk, *sorted(found)]
        vocab = [(_UNMATCHABLE, float(self._compact["min_score"]))]
        vocab += [(table.piece(i), table.score(i)) for i in original]
        id_map = np.array([unk, *original], dtype=np.int64)  # compact id -> real id (0: never produced)
        base.model = Unigram(vocab, unk_id=1, byte_fallback=False)
        return [self._finish(base, enc, id_map) for enc in base.encode_batch(texts, add_special_tokens=False)]


class PieceTable:
    """A Unigram vocabulary as a hash table in memory-mapped files: piece -> id, id -> piece and score.

    Why files: building a Python dict of 250,002 pieces costs ~0.15 s at every start; these arrays are
    mapped, not read, and a lookup touches a few bytes. Layout (all written by :meth:`write`):

    * ``.bin``: the pieces' UTF-8 bytes, concatenated in id order; ``.offsets.npy``: ``(n + 1,)`` uint32
      byte offsets into it;
    * ``.buckets.npy``: ``(B + 1,)`` uint32, ``B`` a power of two >= n: bucket ``h`` (``crc32(piece) & (B - 1)``)
      holds ``.entries.npy[buckets[h]:buckets[h + 1]]``, int32 ids. A piece listed twice keeps only its
      last id, as ``tokenizers`` does;
    * ``.scores.npy``: ``(n,)`` float64 scores.
    """

    def __init__(self, folder: Path, n_pieces: int) -> None:
        stem = folder / _TABLE_PREFIX
        self._blob = Path(f"{stem}.bin").read_bytes()
        arrays = {
            name: np.load(f"{stem}.{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ("offsets", "buckets", "entries", "scores")
        }
        if (
            len(arrays["offsets"]) != n_pieces + 1
            or len(arrays["scores"]) != n_pieces
            or int(arrays["offsets"][-1]) != len(self._blob)
        ):
            raise ModelError(f"the tokenizer piece table in {folder} is inconsistent; export the model again")
        self._scores = arrays["scores"]
        # memoryviews: indexing one gives a plain int, ~20x quicker than a numpy scalar
        self._offsets, self._buckets, self._entries = (memoryview(arrays[k]) for k in ("offsets", "buckets", "entries"))
        self._mask = len(self._buckets) - 2

    @staticmethod
    def write(folder: Path, pieces: Sequence[str], scores: Sequence[float]) -> None:
        encoded = [p.encode("utf-8") for p in pieces]
        offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
        offsets[1:] = np.cumsum([len(b) for b in encoded])
        size = 1 << max(len(encoded) - 1, 1).bit_length()
        last = {b: i for i, b in enumerate(encoded)}  # a repeated piece keeps its last id
        ids = np.array(sorted(last.values()), dtype=np.int32)
        bucket_of = np.array([zlib.crc32(encoded[i]) & (size - 1) for i in ids], dtype=np.int64)
        order = np.argsort(bucket_of, kind="stable")
        buckets = np.zeros(size + 1, dtype=np.uint32)
        buckets[1:] = np.cumsum(np.bincount(bucket_of, minlength=size))
        stem = folder / _TABLE_PREFIX
        for name, array in (
            ("offsets", offsets),
            ("buckets", buckets),
            ("entries", ids[order]),
            ("scores", np.asarray(scores, dtype=np.float64)),
        ):
            tmp = Path(f"{stem}.{name}.{uuid.uuid4().hex[:6]}.tmp.npy")
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, f"{stem}.{name}.npy")
        tmp = Path(f"{stem}.{uuid.uuid4().hex[:6]}.tmp")
        tmp.write_bytes(b"".join(encoded))
        os.replace(tmp, f"{stem}.bin")

    def lookup(self, key: bytes) -> int | None:
        """The id of the piece whose UTF-8 bytes are ``key``, or ``None``."""
        h = zlib.crc32(key) & self._mask
        offsets, blob = self._offsets, self._blob
        for k in range(self._buckets[h], self._buckets[h + 1]):
            i = self._entries[k]
            if blob[offsets[i] : offsets[i + 1]] == key:
                return i
        return None

    def substrings(self, word: str, longest: int) -> set[int]:
        """Ids of every piece that occurs in ``word`` (pieces are at most ``longest`` characters)."""
        data = word.encode("utf-8")
        bounds = [0]
        for ch in word:
            bounds.append(bounds[-1] + len(ch.encode("utf-8")))
        found = set()
        n = len(word)
        for i in range(n):
            for j in range(i + 1, min(n, i + longest) + 1):
                hit = self.lookup(data[bounds[i] : bounds[j]])
                if hit is not None:
                    found.add(hit)
        return found

    def piece(self, i: int) -> str:
        return self._blob[self._offsets[i] : self._offsets[i + 1]].decode("utf-8")

    def score(self, i: int) -> float:
        return float(self._scores[i])


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
