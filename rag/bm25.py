"""The lexical side: BM25 over normalised, lightly stemmed Arabic (and Latin) tokens.

``bm25s`` does the scoring; tokens come from :func:`rag.textnorm.tokenize`, because an
ASCII-only tokenizer would silently drop every Arabic word. Saved as bm25s' plain
``.npy``/``.json`` files (no pickle). A saved index is read back by :class:`_SavedScores`
(numpy alone, memory-mapped), which scores exactly as bm25s does without importing it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexCorruptError
from rag.textnorm import tokenize

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LexicalHit:
    """Row number of a stored passage and its BM25 score (> 0)."""

    row: int
    score: float


class BM25Index:
    """BM25 (Lucene variant, k1=1.5, b=0.75) over passage texts.

    Example:
        >>> bm = BM25Index.build(["القوات العراقية", "الاقتصاد العالمي"])
        >>> bm.search("قوات العراق", k=1)[0].row
        0
    """

    def __init__(self, retriever: Any, n_docs: int) -> None:
        self._retriever = retriever
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: Sequence[str]) -> BM25Index:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
        tokens = [tokenize(t) or [""] for t in texts]
        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def __len__(self) -> int:
        return self.n_docs

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[LexicalHit]:
        """Up to ``k`` passages sharing at least one term with ``query``, best first.

        ``allowed`` ((n_docs,) bool) masks the scores *before* the top ``k`` are taken, so a
        filter returns the best ``k`` allowed passages, not what is left of the overall best.
        """
        if self.n_docs == 0:
            return []
        vocab = self._retriever.vocab_dict
        terms = [t for t in tokenize(query) if t in vocab]
        if not terms:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float32)
        if allowed is not None:
            scores = np.where(np.asarray(allowed, dtype=bool), scores, np.float32(0.0))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        order = sorted(top.tolist(), key=lambda r: (-scores[r], r))
        return [LexicalHit(int(r), float(scores[r])) for r in order if scores[r] > 0]

    def coverage(self, query: str) -> float:
        """Share of the query's terms (stopwords dropped, stemmed) that occur in the indexed passages.

        Near 0 for an English question over Arabic passages (BM25 cannot match it), 1 when every
        term is known; 0 for a query with no terms. Used to weight BM25 in hybrid fusion.
        """
        terms = tokenize(query)
        if not terms or self.n_docs == 0:
            return 0.0
        vocab = self._retriever.vocab_dict
        return sum(t in vocab for t in terms) / len(terms)

    def save(self, folder: Path) -> None:
        if self.n_docs:
            self._retriever.save(str(folder), allow_pickle=False)
        else:
            folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> BM25Index:
        if n_docs == 0:
            import bm25s

            return cls(bm25s.BM25(), 0)
        try:
            retriever = _SavedScores.read(folder)
            if retriever is None:
                import bm25s

                retriever = bm25s.BM25.load(str(folder), allow_pickle=False, load_corpus=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file means the same thing: rebuild
            raise IndexCorruptError(
                f"cannot read the BM25 index in {folder}: {exc}. Rebuild it with `sanad index`"
            ) from None
        found = int(retriever.scores.get("num_docs", -1))
        if found != n_docs:
            raise IndexCorruptError(
                f"the BM25 index holds {found} passages but the index lists {n_docs}; rebuild it with `sanad index`"
            )
        return cls(retriever, n_docs)


class _SavedScores:
    """bm25s' saved score matrix read with numpy alone: ``get_scores`` gives bm25s' very numbers.

    Why: importing bm25s pulls in scipy.sparse and tqdm, ~0.3 s of CPU, a fifth of a cold
    `sanad search` (issue #12). A query needs only the vocabulary and the CSC arrays of precomputed
    per-term scores, summed in query-term order as ``bm25s.BM25.get_scores`` does (same dtype, same
    order, so the same floats). The arrays are memory-mapped. Variants with a non-occurrence array
    (BM25L, BM25+) are left to bm25s (:meth:`read` returns ``None``).
    """

    def __init__(
        self,
        vocab_dict: dict[str, int],
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        num_docs: int,
        dtype: str,
        int_dtype: str,
    ) -> None:
        self.vocab_dict = vocab_dict
        self.scores = {"num_docs": num_docs}  # what BM25Index.load checks, named as in bm25s
        self._data, self._indices, self._indptr, self._n = data, indices, indptr, num_docs
        self._dtype, self._int_dtype = np.dtype(dtype), np.dtype(int_dtype)

    @classmethod
    def read(cls, folder: Path) -> _SavedScores | None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if (folder / "nonoccurrence_array.index.npy").exists():
            return None
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [
            np.load(folder / f"{name}.csc.index.npy", mmap_mode="r", allow_pickle=False)
            for name in ("data", "indices", "indptr")
        ]
        data, indices, indptr = arrays
        dtype, int_dtype = np.dtype(params.get("dtype", "float32")), np.dtype(params.get("int_dtype", "int32"))
        if (
            dtype.kind != "f"
            or int_dtype.kind not in "iu"
            or data.dtype.kind != "f"
            or indices.dtype.kind not in "iu"
            or indptr.dtype.kind not in "iu"
            or data.ndim != 1
            or indices.shape != data.shape
            or indptr.ndim != 1
            or not isinstance(vocab, dict)
            or not len(indptr)
            or int(indptr[-1]) != len(data)
        ):
            raise ValueError(
                f"params.index.json or the score arrays disagree (dtype {dtype}, int_dtype {int_dtype}, "
                f"arrays {data.dtype}/{indices.dtype}/{indptr.dtype}, {len(vocab)} terms, "
                f"{len(indptr)} offsets)"
            )
        return cls(
            vocab, data, indices, indptr, num_docs=int(params["num_docs"]), dtype=str(dtype), int_dtype=str(int_dtype)
        )

    def get_scores(self, terms: list[str]) -> np.ndarray:
        """(num_docs,) scores of the passages for ``terms`` (repeats count again, as in bm25s)."""
        ids = np.asarray([self.vocab_dict[t] for t in terms if t in self.vocab_dict], dtype=self._int_dtype)
        if ids.size and int(ids.max()) >= len(self._indptr) - 1:
            raise IndexCorruptError("the BM25 vocabulary points past its score matrix; rebuild with `sanad index`")
        out = np.zeros(self._n, dtype=self._dtype)
        for start, end in zip(self._indptr[ids], self._indptr[ids + 1], strict=True):
            np.add.at(out, self._indices[start:end], self._data[start:end])
        return out
