"""Sanad's BM25 as sparse vectors, for stores that score lexical matches by inner product (Milvus).

A passage's sparse vector holds, for each of its terms, the BM25 weight that ``bm25s`` (the
engine behind :class:`rag.bm25.BM25Index`: Lucene variant, k1=1.5, b=0.75) gives that term in
that passage; a query's sparse vector counts its terms. Their inner product is then exactly the
BM25 score :class:`~rag.bm25.BM25Index` computes (``bm25s`` adds a passage's weight once per
query occurrence of a term), so a remote store ranks lexical hits as the in-process one does.
Terms are :func:`rag.textnorm.tokenize` tokens (Arabic normalisation, light stemming), never a
store's own analyzer.

A term's dimension is a 32-bit hash of the term, so neither side needs a vocabulary file and any
stateless reader can build query vectors. Two terms of one index can share a dimension: with a
vocabulary of V terms about V²/2³³ pairs do (~10 at 300k terms, ~120 at 1M); :func:`passage_weights`
logs how many, and their effect is the one measured by ``sanad eval`` parity between the stores.

Example:
    >>> w = passage_weights(["القوات العراقية", "الاقتصاد العالمي"])
    >>> q = query_weights("قوات العراق")
    >>> round(sum(w.rows[0].get(d, 0.0) * v for d, v in q.items()), 3) > 0
    True
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.textnorm import tokenize

logger = logging.getLogger(__name__)

#: Dimensions must lie in [0, 2**32 - 2] (Milvus); terms hash below EMPTY_DIM.
EMPTY_DIM = 2**32 - 2
#: Weight at :data:`EMPTY_DIM` for a passage without terms: stores reject all-zero sparse vectors,
#: and no query ever has this dimension, so it never scores.
EMPTY_WEIGHT = 1e-6


def term_dim(term: str) -> int:
    """The sparse dimension of a (normalised, stemmed) term: blake2b, 32 bits, below :data:`EMPTY_DIM`."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % EMPTY_DIM


@dataclass(frozen=True)
class SparseRows:
    """One sparse vector per passage (``{dimension: BM25 weight}``) and what was folded."""

    rows: tuple[dict[int, float], ...]
    vocabulary: int
    collisions: int


def passage_weights(texts: Sequence[str]) -> SparseRows:
    """BM25 term weights of every passage, exactly as :class:`rag.bm25.BM25Index` scores them.

    Args:
        texts: the passages in row order.

    Returns:
        :class:`SparseRows` with ``rows[i]`` for ``texts[i]``; a passage without terms gets
        ``{EMPTY_DIM: EMPTY_WEIGHT}``.
    """
    import bm25s
    from scipy import sparse

    if not texts:
        return SparseRows((), 0, 0)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = bm25s.BM25()  # the defaults BM25Index.build uses
    retriever.index([tokenize(t) or [""] for t in texts], show_progress=False)
    vocab = retriever.vocab_dict
    scores = retriever.scores
    # bm25s keeps a CSC matrix: column = term id, row = passage.
    matrix = sparse.csc_matrix(
        (scores["data"], scores["indices"], scores["indptr"]),
        shape=(int(scores["num_docs"]), len(scores["indptr"]) - 1),
    ).tocsr()
    dims = np.zeros(matrix.shape[1], dtype=np.int64)
    names = [""] * matrix.shape[1]
    for term, tid in vocab.items():
        if tid < len(dims):
            dims[tid] = term_dim(term) if term else -1
            names[tid] = term
    used = dims[dims >= 0]
    collisions = int(len(used) - len(np.unique(used)))
    if collisions:
        logger.info("%d of %d BM25 terms share a sparse dimension with another term", collisions, len(used))
    rows: list[dict[int, float]] = []
    for r in range(matrix.shape[0]):
        start, end = matrix.indptr[r], matrix.indptr[r + 1]
        row: dict[int, float] = {}
        for tid, weight in zip(matrix.indices[start:end].tolist(), matrix.data[start:end].tolist(), strict=True):
            d = int(dims[tid])
            if d >= 0 and weight > 0:
                row[d] = row.get(d, 0.0) + float(weight)
        rows.append(row or {EMPTY_DIM: EMPTY_WEIGHT})
    return SparseRows(tuple(rows), len(used), collisions)


def query_weights(query: str) -> dict[int, float]:
    """The query's sparse vector: each term's dimension weighted by how often the term occurs.

    Empty when the query has no searchable terms (only stopwords or punctuation).
    """
    weights: dict[int, float] = {}
    for term, count in Counter(tokenize(query)).items():
        d = term_dim(term)
        weights[d] = weights.get(d, 0.0) + float(count)
    return weights
