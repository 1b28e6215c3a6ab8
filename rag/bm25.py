"""The lexical side: BM25 over normalised, lightly stemmed Arabic (and Latin) tokens.

``bm25s`` does the scoring; tokens come from :func:`rag.textnorm.tokenize`, because an
ASCII-only tokenizer would silently drop every Arabic word. Saved as bm25s' plain
``.npy``/``.json`` files (no pickle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

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

    def __init__(self, retriever, n_docs: int) -> None:
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

    def save(self, folder: Path) -> None:
        if self.n_docs:
            self._retriever.save(str(folder), allow_pickle=False)
        else:
            folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> BM25Index:
        import bm25s

        if n_docs == 0:
            return cls(bm25s.BM25(), 0)
        try:
            retriever = bm25s.BM25.load(str(folder), allow_pickle=False, load_corpus=False)
        except Exception as exc:
            raise IndexCorruptError(f"cannot read the BM25 index in {folder}: {exc}. Rebuild it with `sanad index`") from None
        found = int(retriever.scores.get("num_docs", -1))
        if found != n_docs:
            raise IndexCorruptError(f"the BM25 index holds {found} passages but the index lists {n_docs}; "
                                    f"rebuild it with `sanad index`")
        return cls(retriever, n_docs)
