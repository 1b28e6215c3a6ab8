"""Finding the passages that answer a question: dense, BM25 or hybrid retrieval.

Hybrid fuses the two candidate lists in one place, :meth:`Retriever._fuse` (z-score fusion
weighted by the question's BM25 term coverage by default, or RRF; see :mod:`rag.hybrid`).
"""

from __future__ import annotations

import logging
import re

import faiss

from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import InputError
from rag.hybrid import lexical_weight, rrf, zscore_fusion
from rag.index import IndexData, load_index
from rag.indexer import expected_manifest
from rag.types import RETRIEVAL_MODES, Hit, RetrievalMode

logger = logging.getLogger(__name__)

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """``"ar"`` when Arabic letters outnumber Latin ones, else ``"en"``."""
    return "ar" if len(_ARABIC.findall(text)) >= len(_LATIN.findall(text)) and _ARABIC.search(text) else "en"


def check_question(question: object, max_chars: int) -> str:
    """Return the question stripped, or raise :class:`InputError` saying what is wrong with it."""
    if not isinstance(question, str):
        raise InputError(f"the question must be text, got {type(question).__name__}")
    stripped = question.strip()
    if not stripped:
        raise InputError("the question is empty; type a question in Arabic or English")
    if len(stripped) > max_chars:
        raise InputError(f"the question is {len(stripped):,} characters long; the limit is {max_chars:,}. "
                         f"Shorten it, or raise max_question_chars (SANAD_MAX_QUESTION_CHARS)")
    if not re.search(r"[^\W_]", stripped):
        raise InputError("the question has no words in it; type a question in Arabic or English")
    return stripped


class Retriever:
    """Searches a loaded index.

    Example:
        >>> retriever = Retriever.load(SanadConfig(), embedder)     # doctest: +SKIP
        >>> [h.doc_id for h in retriever.search("كم دولة في التحالف؟", k=3)]  # doctest: +SKIP
    """

    def __init__(self, index: IndexData, embedder: Embedder | None, config: SanadConfig) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config

    @classmethod
    def load(cls, config: SanadConfig, embedder: Embedder | None) -> Retriever:
        """Load the index in ``config.index_dir``, refusing one built with other settings."""
        name = embedder.fingerprint if embedder is not None else None
        expected = expected_manifest(config, name) if name else None
        if expected is None:  # BM25-only use: still check everything but the model
            expected = {k: v for k, v in expected_manifest(config, "").items() if k != "embedding_model"}
        index = load_index(config.index_dir, expected, ef_search=config.hnsw_ef_search, nprobe=config.ivf_nprobe)
        # One question per search: extra OpenMP threads only add hand-off cost (`sanad bench`, Flat rows).
        faiss.omp_set_num_threads(config.search_threads)
        return cls(index, embedder, config)

    def search(self, question: str, k: int | None = None, mode: RetrievalMode | None = None) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first (``score`` is higher-is-better)."""
        question = check_question(question, self.config.max_question_chars)
        k = self.config.top_k if k is None else k
        if k <= 0:
            raise InputError(f"k={k} must be a positive number of passages")
        mode = mode or self.config.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"mode={mode!r} is not valid; choose one of {', '.join(RETRIEVAL_MODES)}")
        depth = max(self.config.candidate_k, k)
        if mode == "dense":
            return self._dense(question, k)
        if mode == "bm25":
            return self._bm25(question, k)
        dense = self._dense(question, depth)
        lexical = self._bm25(question, depth)
        return self._fuse(question, dense, lexical, k)

    def _fuse(self, question: str, dense: list[Hit], lexical: list[Hit], k: int) -> list[Hit]:
        """The hybrid ranking of two candidate lists (``config.fusion``); hits keep both sides' scores."""
        by_id = {h.chunk_id: h for h in (*lexical, *dense)}
        raw = {h.chunk_id: dict(h.scores) for h in (*lexical, *dense)}
        for h in dense:
            raw[h.chunk_id]["dense"] = h.score
        for h in lexical:
            raw[h.chunk_id]["bm25"] = h.score
        if self.config.fusion == "rrf":
            fused = rrf({"dense": [h.chunk_id for h in dense], "bm25": [h.chunk_id for h in lexical]},
                        k=self.config.rrf_k)
        else:
            weight = self.config.fusion_dense_weight
            coverage = self.index.bm25.coverage(question) if lexical else 0.0
            fused = zscore_fusion({"dense": [(h.chunk_id, h.score) for h in dense],
                                   "bm25": [(h.chunk_id, h.score) for h in lexical]},
                                  {"dense": weight, "bm25": lexical_weight(weight, coverage)})
            for _, _, info in fused:
                info["bm25_coverage"] = coverage
        return [Hit(chunk=by_id[cid].chunk, score=score, rank=i + 1, title=by_id[cid].title,
                    scores={**raw[cid], **info})
                for i, (cid, score, info) in enumerate(fused[:k])]

    def _hit(self, row: int, score: float, rank: int, side: str) -> Hit:
        chunk = self.index.chunks[row]
        article = self.index.articles.get(chunk.doc_id)
        return Hit(chunk=chunk, score=score, rank=rank, title=article.title if article else chunk.doc_id,
                   scores={side: score})

    def _dense(self, question: str, k: int) -> list[Hit]:
        if self.embedder is None:
            raise InputError("dense and hybrid search need the embedding model; use mode='bm25' or pass an Embedder")
        self.embedder.load()
        vector = self.embedder.embed_queries([question])
        return [self._hit(v.row, v.score, i + 1, "dense") for i, v in enumerate(self.index.store.search(vector, k)[0])]

    def _bm25(self, question: str, k: int) -> list[Hit]:
        return [self._hit(h.row, h.score, i + 1, "bm25") for i, h in enumerate(self.index.bm25.search(question, k))]
