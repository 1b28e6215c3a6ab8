"""Synthetic corpora at sizes the seed data cannot reach (1k to 1M passages), built from real data.

Vectors: random unit vectors are a poor stand-in for HNSW (no structure, every neighbour
nearly equidistant), so each synthetic passage vector is built from *real* passage
embeddings plus noise with the real embeddings' covariance, re-normalised, in one of two
structures (see :data:`STRUCTURES`). Queries stay real (embedded questions), so the score distribution a query
sees is close to the real one (:func:`top1_cosines` reports it for checking).

Texts: BM25 cost depends on how many passages hold each query term, so passages are
runs of real Arabic sentences (tokenised exactly as :mod:`rag.textnorm` does), with a
share of tokens swapped for rare made-up words so that the vocabulary grows with the
corpus as it does in real archives. The index is built straight from token ids with the
same Lucene BM25 formula as ``bm25s`` (checked against it in the tests), because bm25s'
own per-document Python loop would need minutes and gigabytes at 1M passages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bench.core import unit_rows
from rag.bm25 import BM25Index
from rag.textnorm import tokenize
from rag.types import Chunk

#: "clustered": every vector sits near one of the few hundred real passages (tight clusters,
#: like an archive of many near-duplicates of few stories); "spread": vectors sit around
#: ``n / 100`` pseudo-topics, each a random blend of three real passages (many small topics).
#: Which index type wins depends on this (IVF likes few tight clusters, HNSW many small
#: ones), so the bench measures the approximate indexes on both.
STRUCTURES = ("spread", "clustered")
DEFAULT_NOISE = 0.45  # clustered: noise norm around an anchor
DEFAULT_MIX = 0.35  # clustered: how far a vector leans to a second anchor
TOPIC_NOISE = 0.4  # spread: noise of a pseudo-topic around its blend of anchors
PASSAGE_NOISE = 0.25  # spread: noise of a passage around its pseudo-topic


def _noise_basis(anchors: np.ndarray, norm: float) -> np.ndarray:
    """Rows whose Gaussian combinations have the anchors' covariance, scaled to expected norm ``norm``."""
    centred = anchors.astype(np.float64) - anchors.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    basis = sv[:, None] * vt
    basis *= norm / max(np.sqrt(np.sum(sv**2)), 1e-12)  # E||g @ basis|| ~= norm for g ~ N(0, I)
    return basis.astype(np.float32)


def synthetic_vectors(
    anchors: np.ndarray,
    n: int,
    *,
    seed: int = 0,
    structure: str = "spread",
    noise: float = DEFAULT_NOISE,
    mix: float = DEFAULT_MIX,
    topics: int | None = None,
    block: int = 100_000,
) -> np.ndarray:
    """``n`` unit vectors around real ``anchors`` (float32, shape ``(n, dim)``).

    Noise is Gaussian with the anchors' own covariance (their principal directions and
    spread): isotropic noise would give the data the full 384 intrinsic dimensions of random
    vectors, which is much harder for HNSW than real embeddings are. The first
    ``len(anchors)`` rows are the anchors themselves, so the real passages are in every corpus.

    * ``structure="clustered"``: ``(1-λ)·a_i + λ·a_j + ε`` re-normalised, with ``λ ~ U(0, mix)``
      and ``||ε|| ≈ noise`` (0.45 makes the nearest-neighbour cosine between synthetic
      passages at 100k equal that between the real passages, 0.88).
    * ``structure="spread"``: ``topics`` (default ``n // 100``) pseudo-topics, each a random
      convex blend of three anchors plus noise, then each passage = a topic + smaller noise.
    """
    anchors = unit_rows(anchors)
    if anchors.ndim != 2 or len(anchors) < 2:
        raise ValueError("need at least two anchor vectors of shape (m, dim)")
    if n <= 0:
        raise ValueError(f"n={n} must be positive")
    if structure not in STRUCTURES:
        raise ValueError(f"structure={structure!r}: choose one of {STRUCTURES}")
    rng = np.random.default_rng(seed)
    m, dim = anchors.shape
    out = np.empty((n, dim), dtype=np.float32)
    head = min(n, m)
    out[:head] = anchors[:head]
    if structure == "spread":
        n_topics = max(m, topics or n // 100)
        weights = rng.dirichlet(np.ones(3), n_topics).astype(np.float32)
        picks = rng.integers(0, m, (n_topics, 3))
        centres = np.einsum("tk,tkd->td", weights, anchors[picks])
        basis = _noise_basis(anchors, TOPIC_NOISE)
        centres = unit_rows(centres + rng.standard_normal((n_topics, len(basis)), dtype=np.float32) @ basis)
        basis = _noise_basis(anchors, PASSAGE_NOISE)
        for start in range(head, n, block):
            size = min(block, n - start)
            x = centres[rng.integers(0, n_topics, size)]
            x = x + rng.standard_normal((size, len(basis)), dtype=np.float32) @ basis
            out[start : start + size] = unit_rows(x)
        return out
    basis = _noise_basis(anchors, noise)
    for start in range(head, n, block):
        size = min(block, n - start)
        i = rng.integers(0, m, size)
        j = rng.integers(0, m, size)
        lam = rng.uniform(0.0, mix, size).astype(np.float32)[:, None]
        x = (1 - lam) * anchors[i] + lam * anchors[j]
        x += rng.standard_normal((size, len(basis)), dtype=np.float32) @ basis
        out[start : start + size] = unit_rows(x)
    return out


def top1_cosines(queries: np.ndarray, corpus: np.ndarray, k: int = 1, block: int = 100_000) -> dict[str, float]:
    """Mean and range over ``queries`` of their ``k``-th best cosine in ``corpus`` (a realism check).

    With ``queries`` taken from ``corpus`` itself, ``k=2`` gives each row's nearest *other* row.
    """
    queries = np.asarray(queries, np.float32)
    best = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    for start in range(0, len(corpus), block):
        scores = queries @ np.asarray(corpus[start : start + block], np.float32).T
        best = np.concatenate([best, scores], axis=1)
        if best.shape[1] > k:
            best = -np.partition(-best, k - 1, axis=1)[:, :k]
    kth = np.sort(best, axis=1)[:, ::-1][:, k - 1]
    return {"mean": round(float(kth.mean()), 4), "min": round(float(kth.min()), 4), "max": round(float(kth.max()), 4)}


# -- texts -------------------------------------------------------------------------------------------
@dataclass
class TokenCorpus:
    """Passages as token ids: ``ids[offsets[d]:offsets[d+1]]`` are passage ``d``'s tokens."""

    vocab: list[str]
    ids: np.ndarray  # int32, all passages' token ids back to back
    offsets: np.ndarray  # int64, n_docs + 1

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def tokens(self, d: int) -> list[str]:
        return [self.vocab[t] for t in self.ids[self.offsets[d] : self.offsets[d + 1]]]

    def text(self, d: int) -> str:
        """A readable stand-in for passage ``d`` (its tokens, space separated)."""
        return " ".join(self.tokens(d))


def synthetic_token_corpus(
    texts: Sequence[str],
    n: int,
    *,
    lengths: Sequence[int] | None = None,
    seed: int = 0,
    rare_share: float = 0.1,
    rare_vocab: int | None = None,
    shuffle: bool = False,
) -> TokenCorpus:
    """``n`` passages made of runs of real tokens from ``texts`` (a random start at a sentence boundary).

    Args:
        texts: real Arabic text (passages or sentences); tokenised with :func:`rag.textnorm.tokenize`.
        lengths: passage lengths in tokens to draw from (default: the lengths of ``texts``).
        rare_share: share of tokens replaced by made-up rare words (Zipf-distributed ids over
            ``rare_vocab`` words, default ``max(1000, n // 2)``), so the vocabulary grows with ``n``.
        shuffle: shuffle the words inside each passage. BM25 scores ignore word order, so this
            only matters for text shown from the corpus; off by default (it costs memory at 1M).
    """
    if n <= 0:
        raise ValueError(f"n={n} must be positive")
    token_lists = [tokenize(t) for t in texts]
    token_lists = [t for t in token_lists if t]
    if not token_lists:
        raise ValueError("the texts hold no tokens")
    rng = np.random.default_rng(seed)
    vocab: dict[str, int] = {}
    stream: list[int] = []
    starts: list[int] = []
    for toks in token_lists:
        starts.append(len(stream))
        stream.extend(vocab.setdefault(t, len(vocab)) for t in toks)
    pool = np.asarray(stream + stream, dtype=np.int32)  # doubled so that a run may wrap around
    real_len = np.asarray(lengths if lengths is not None else [len(t) for t in token_lists], dtype=np.int64)
    real_len = np.clip(real_len, 1, len(stream))
    doc_len = real_len[rng.integers(0, len(real_len), n)]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(doc_len, out=offsets[1:])
    total = int(offsets[-1])
    doc_start = np.asarray(starts, dtype=np.int64)[rng.integers(0, len(starts), n)]
    # position of every token: its doc's start in the pool + its place inside the doc
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1], doc_len)
    ids = pool[np.repeat(doc_start, doc_len) + within]
    n_real = len(vocab)
    words = [None] * n_real
    for word, i in vocab.items():
        words[i] = word
    if rare_share > 0:
        size = rare_vocab or max(1000, n // 2)
        swap = rng.random(total) < rare_share
        k = int(swap.sum())
        rare = (rng.zipf(1.3, k) - 1) % size
        used, inverse = np.unique(rare, return_inverse=True)
        ids[swap] = (n_real + inverse).astype(np.int32)
        words.extend(f"zz{int(u)}" for u in used)
    if shuffle and total:
        key = np.repeat(np.arange(n, dtype=np.float64), doc_len) + rng.random(total) * 0.5
        ids = ids[np.argsort(key, kind="stable")]
    return TokenCorpus(vocab=words, ids=ids.astype(np.int32, copy=False), offsets=offsets)


def bm25_from_tokens(corpus: TokenCorpus, *, k1: float = 1.5, b: float = 0.75, block: int = 200_000) -> BM25Index:
    """A :class:`~rag.bm25.BM25Index` over ``corpus``, scored like ``bm25s`` (Lucene variant) but vectorised."""
    import bm25s

    n, n_vocab = corpus.n_docs, len(corpus.vocab)
    lengths = np.diff(corpus.offsets)
    avg_len = float(lengths.mean()) if n else 0.0
    docs, terms, tfs = [], [], []
    for lo in range(0, n, block):  # (doc, term) pairs per block keep memory bounded; docs stay ordered
        hi = min(n, lo + block)
        seg = corpus.ids[corpus.offsets[lo] : corpus.offsets[hi]].astype(np.int64)
        doc = np.repeat(np.arange(lo, hi, dtype=np.int64), lengths[lo:hi])
        keys, counts = np.unique(doc * n_vocab + seg, return_counts=True)
        docs.append((keys // n_vocab).astype(np.int32))
        terms.append((keys % n_vocab).astype(np.int32))
        tfs.append(counts.astype(np.float32))
    doc_idx = np.concatenate(docs) if docs else np.zeros(0, np.int32)
    term_idx = np.concatenate(terms) if terms else np.zeros(0, np.int32)
    tf = np.concatenate(tfs) if tfs else np.zeros(0, np.float32)
    df = np.bincount(term_idx, minlength=n_vocab)
    idf = np.zeros(n_vocab, dtype=np.float32)
    present = df > 0
    idf[present] = np.log(1 + (n - df[present] + 0.5) / (df[present] + 0.5))
    tfc = tf / (k1 * ((1 - b) + b * lengths[doc_idx] / avg_len) + tf)
    scores = (idf[term_idx] * tfc).astype(np.float32)
    del tfc, tf
    order = np.argsort(term_idx, kind="stable")  # column-major (CSC by term), docs ascending per term
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.scores = {"data": scores[order], "indices": doc_idx[order], "indptr": indptr, "num_docs": n}
    retriever.vocab_dict = {w: i for i, w in enumerate(corpus.vocab)}
    retriever.unique_token_ids_set = set(range(n_vocab))
    retriever.nonoccurrence_array = None
    return BM25Index(retriever, n)


def bm25_nbytes(index: BM25Index) -> dict[str, int]:
    """Bytes of the BM25 score matrix and (estimated) of its vocabulary dict."""
    import sys

    retriever = index._retriever
    scores = getattr(retriever, "scores", None) or {}
    matrix = sum(int(scores[k].nbytes) for k in ("data", "indices", "indptr") if k in scores)
    vocab = getattr(retriever, "vocab_dict", {}) or {}
    vocab_bytes = sys.getsizeof(vocab) + sum(sys.getsizeof(w) + 28 for w in vocab)
    return {"matrix": matrix, "vocab": int(vocab_bytes)}


class SyntheticChunks(Sequence[Chunk]):
    """Passages of a synthetic corpus, made on demand (a 1M-row list of real Chunk objects costs ~GBs).

    Row ``r`` belongs to article ``syn-{r // per_article}`` and shows a real seed text, so
    Retriever code paths (hits, titles, ids) run unchanged.
    """

    def __init__(self, n: int, texts: Sequence[str], per_article: int = 8) -> None:
        self.n = n
        self.texts = list(texts) or [""]
        self.per_article = per_article

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self.n))]
        if not -self.n <= row < self.n:
            raise IndexError(row)
        row %= self.n
        text = self.texts[row % len(self.texts)]
        return Chunk(
            doc_id=f"syn-{row // self.per_article:07d}",
            ordinal=row % self.per_article,
            start=0,
            end=len(text),
            text=text,
        )

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(self.n))
