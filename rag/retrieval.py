"""Finding the passages that answer a question: dense, BM25 or hybrid retrieval.

Filters (:class:`~rag.types.Filters`: article ids, outlets, a date range) are applied *inside*
candidate generation, before anything is cut to ``k``: the dense side searches FAISS with an ID
selector (completed by an exact search over the allowed rows when an approximate index finds
too few), the BM25 side masks scores before its top ``k``. A filtered search therefore returns
the best ``k`` allowed passages whenever ``k`` exist, never the allowed remainder of an
unfiltered top ``k``. An optional recency preference (``recency_half_life_days``) reorders
candidates by age before the cut.

Hybrid fuses the two candidate lists in one place, :meth:`Retriever._fuse` (z-score fusion
weighted by the question's BM25 term coverage by default, or RRF; see :mod:`rag.hybrid`).
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable
from dataclasses import replace

import faiss
import numpy as np

from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import InputError
from rag.hybrid import lexical_weight, rrf, zscore_fusion
from rag.index import IndexData, load_index
from rag.indexer import expected_manifest
from rag.textnorm import has_words
from rag.types import RETRIEVAL_MODES, Article, Filters, Hit, RetrievalMode

logger = logging.getLogger(__name__)

#: Below this many allowed rows a filtered dense search over an approximate index scans them exactly
#: (50k x 384 float32 products: a few ms); above it FAISS searches with an ID selector.
EXACT_FILTERED_ROWS = 50_000

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
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes from argv or a file that were not UTF-8
        raise InputError(
            "the question holds bytes that are not UTF-8 text; check the terminal's or the "
            "file's encoding (e.g. LANG=C.UTF-8)"
        ) from None
    if len(stripped) > max_chars:
        raise InputError(
            f"the question is {len(stripped):,} characters long; the limit is {max_chars:,}. "
            f"Shorten it, or raise max_question_chars (SANAD_MAX_QUESTION_CHARS)"
        )
    if not has_words(stripped):  # tatweel (ـ) is a "letter" to Unicode: a question of only ـــ has no words
        raise InputError("the question has no words in it; type a question in Arabic or English")
    return stripped


def check_k(k: object) -> int:
    """``k`` as an int, or :class:`InputError` for anything but a positive whole number (5.5, "3", True)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise InputError(f"k={k!r} must be a positive number of passages (a whole number, e.g. 5)")
    return int(k)


_BOUND = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def date_bound(value: str, *, end: bool = False, name: str = "since") -> str:
    """A filter date as ``YYYY-MM-DD``: ``2024`` or ``2024-04`` mean the first day (``end``: the last).

    Other spellings (``16/04/2024``, ``16 أبريل 2024``) are read as in article metadata.

    Example:
        >>> date_bound("2024"), date_bound("2024-02", end=True), date_bound("16/04/2024")
        ('2024-01-01', '2024-02-29', '2024-04-16')
    """
    from rag.ingest.metadata import normalize_date

    text = str(value).strip()
    m = _BOUND.match(text)
    try:
        if m and not m.group(3):
            year, month = int(m.group(1)), int(m.group(2) or (12 if end else 1))
            day = calendar.monthrange(year, month)[1] if end else 1
            return normalize_date(f"{year:04d}-{month:02d}-{day:02d}")
        return normalize_date(text)
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise InputError(f"{name}={value!r} is not a date ({exc}); use YYYY-MM-DD, YYYY-MM or YYYY") from None


def make_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    sources: Iterable[str] | str | None = None,
    doc_ids: Iterable[str] | str | None = None,
) -> Filters | None:
    """Checked :class:`Filters` from user input (CLI flags, UI fields, API parameters); ``None`` if all empty.

    ``sources``/``doc_ids`` may be lists or comma-separated text; dates may be partial (see
    :func:`date_bound`). A ``since`` after ``until`` is an error rather than an empty result.
    """

    def listed(value: Iterable[str] | str | None) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        parts = (p for item in items for p in item.split(","))
        return tuple(dict.fromkeys(" ".join(p.split()) for p in parts if p.strip()))

    low = date_bound(since, name="since") if since and str(since).strip() else ""
    high = date_bound(until, end=True, name="until") if until and str(until).strip() else ""
    if low and high and low > high:
        raise InputError(f"since={low} is after until={high}; no article can match. Swap them")
    filters = Filters(doc_ids=listed(doc_ids), sources=listed(sources), since=low, until=high)
    return None if filters.is_empty else filters


def recency_factors(articles: Iterable[Article], half_life_days: float) -> dict[str, float]:
    """doc_id -> ``0.5 ** (age / half_life_days)``, age in days before the newest dated article.

    Undated articles get the factor of the oldest dated one (no evidence of being recent).
    Only ratios matter for ranking, so the reference date (the newest article, not today)
    changes no order. Returns ``{}`` when no article has a date.
    """
    import datetime as dt

    articles = list(articles)
    dates = {
        a.doc_id: dt.date.fromisoformat(max(d for d in (a.published, *(c[2] for c in a.copies)) if d))
        for a in articles
        if a.published or any(c[2] for c in a.copies)
    }
    if not dates or half_life_days <= 0:
        return {}
    newest, oldest = max(dates.values()), min(dates.values())
    return {a.doc_id: 0.5 ** (((newest - dates.get(a.doc_id, oldest)).days) / half_life_days) for a in articles}


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
        # Row -> article position, so a filter over articles becomes a row mask in one numpy step.
        self._docs: list[Article] = list(index.articles.values())
        position = {a.doc_id: i for i, a in enumerate(self._docs)}
        self._row_doc = np.array([position.get(c.doc_id, -1) for c in index.chunks], dtype=np.int64)
        self._recency: dict[str, float] | None = None

    @classmethod
    def load(cls, config: SanadConfig, embedder: Embedder | None) -> Retriever:
        """Load the index in ``config.index_dir``, refusing one built with other settings."""
        name = embedder.fingerprint if embedder is not None else None
        expected = expected_manifest(config, name) if name else None
        if expected is None:  # BM25-only use: still check everything but the model
            expected = {k: v for k, v in expected_manifest(config, "").items() if k != "embedding_model"}
        index = load_index(
            config.index_dir,
            expected,
            ef_search=config.hnsw_ef_search,
            nprobe=config.ivf_nprobe,
            milvus_uri=config.milvus_uri if config.store == "milvus" else "",
            verify=config.verify_on_load,
        )
        # One question per search: extra OpenMP threads only add hand-off cost (`sanad bench`, Flat rows).
        faiss.omp_set_num_threads(config.search_threads)
        return cls(index, embedder, config)

    def search(
        self, question: str, k: int | None = None, mode: RetrievalMode | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first (``score`` is higher-is-better).

        With ``filters`` only passages of matching articles are candidates, on every side,
        before the cut to ``k``.
        """
        question = check_question(question, self.config.max_question_chars)
        k = self.config.top_k if k is None else check_k(k)
        mode = mode or self.config.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"mode={mode!r} is not valid; choose one of {', '.join(RETRIEVAL_MODES)}")
        if filters is not None and not isinstance(filters, Filters):
            raise InputError(
                f"filters must be a rag.types.Filters (see rag.retrieval.make_filters), got {type(filters).__name__}"
            )
        allowed = self.allowed_rows(filters)
        if allowed is not None and not allowed.any():
            return []
        depth = max(self.config.candidate_k, k)
        cut = depth if self.config.recency_half_life_days > 0 else k  # recency reorders: cut after it
        if self.index.searcher is not None:
            return self._finish(self._remote(question, mode, cut, depth, filters, allowed), k)
        if mode == "dense":
            return self._finish(self._dense(question, cut, allowed), k)
        if mode == "bm25":
            return self._finish(self._bm25(question, cut, allowed), k)
        dense = self._dense(question, depth, allowed)
        lexical = self._bm25(question, depth, allowed)
        return self._finish(self._fuse(question, dense, lexical, cut), k)

    def _fuse(self, question: str, dense: list[Hit], lexical: list[Hit], k: int) -> list[Hit]:
        """The hybrid ranking of two candidate lists (``config.fusion``); hits keep both sides' scores."""
        by_id = {h.chunk_id: h for h in (*lexical, *dense)}
        raw = {h.chunk_id: dict(h.scores) for h in (*lexical, *dense)}
        for h in dense:
            raw[h.chunk_id]["dense"] = h.score
        for h in lexical:
            raw[h.chunk_id]["bm25"] = h.score
        if self.config.fusion == "rrf":
            fused = rrf(
                {"dense": [h.chunk_id for h in dense], "bm25": [h.chunk_id for h in lexical]}, k=self.config.rrf_k
            )
        else:
            weight = self.config.fusion_dense_weight
            bm25 = self.index.bm25
            coverage = bm25.coverage(question) if lexical and bm25 is not None else 0.0
            fused = zscore_fusion(
                {"dense": [(h.chunk_id, h.score) for h in dense], "bm25": [(h.chunk_id, h.score) for h in lexical]},
                {"dense": weight, "bm25": lexical_weight(weight, coverage)},
            )
            for _, _, info in fused:
                info["bm25_coverage"] = coverage
        return [
            Hit(chunk=by_id[cid].chunk, score=score, rank=i + 1, title=by_id[cid].title, scores={**raw[cid], **info})
            for i, (cid, score, info) in enumerate(fused[:k])
        ]

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """(n_chunks,) bool: rows whose article matches ``filters``; ``None`` when nothing is filtered."""
        if filters is None or filters.is_empty:
            return None
        doc_ok = np.array([filters.matches(a) for a in self._docs] + [False], dtype=bool)  # [-1]: no article
        return doc_ok[self._row_doc]

    def _finish(self, hits: list[Hit], k: int) -> list[Hit]:
        """Apply the recency preference (if on), cut to ``k`` and give each hit its article's metadata.

        Metadata is attached here, after fusion, so that however the sides are fused the hits
        carry the article's date, outlet, URL and author.
        """
        if self.config.recency_half_life_days > 0 and hits:
            if self._recency is None:
                self._recency = recency_factors(self._docs, self.config.recency_half_life_days)
            factors = self._recency
            hits = sorted(
                (
                    replace(
                        h,
                        score=h.score * factors.get(h.doc_id, 1.0),
                        scores={**h.scores, "recency": factors.get(h.doc_id, 1.0)},
                    )
                    for h in hits
                ),
                key=lambda h: (-h.score, h.chunk_id),
            )
        return [
            Hit.from_article(h.chunk, self.index.articles.get(h.doc_id), h.score, i + 1, h.scores)
            for i, h in enumerate(hits[:k])
        ]

    def _hit(self, row: int, score: float, rank: int, side: str) -> Hit:
        chunk = self.index.chunks[row]
        return Hit.from_article(chunk, self.index.articles.get(chunk.doc_id), score, rank, {side: score})

    def _dense(self, question: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        if self.embedder is None:
            raise InputError("dense and hybrid search need the embedding model; use mode='bm25' or pass an Embedder")
        self.embedder.load()
        vector = self.embedder.embed_queries([question])
        store = self.index.store
        assert store is not None, "the FAISS path; another store searches through IndexData.searcher"
        if allowed is None:
            found = store.search(vector, k)[0]
        elif not getattr(store, "exact", True) and int(allowed.sum()) <= EXACT_FILTERED_ROWS:
            # A filter that leaves few rows: scanning them exactly is cheap and beats an approximate
            # index, whose probed lists may hold few of them.
            found = self._exact_dense(np.asarray(vector, dtype=np.float32)[0], k, allowed)
        else:
            found = store.search(vector, k, allowed=allowed)[0]
            if len(found) < min(k, int(allowed.sum())):
                # The approximate index visited too few allowed rows: search those rows exactly.
                found = self._exact_dense(np.asarray(vector, dtype=np.float32)[0], k, allowed)
        return [self._hit(v.row, v.score, i + 1, "dense") for i, v in enumerate(found)]

    def _remote(
        self, question: str, mode: str, cut: int, depth: int, filters: Filters | None, allowed: np.ndarray | None
    ) -> list[Hit]:
        """Search a version kept in another store (Milvus): filters pushed down, hybrid fused by its RRF ranker.

        Hybrid asks the store for ``depth`` fused hits and orders equal scores by chunk id, as the
        in-process fusion does, before the cut.
        """
        searcher = self.index.searcher
        if mode == "bm25":
            found = searcher.lexical(question, cut, filters)
            return [self._hit(h.row, h.score, i + 1, "bm25") for i, h in enumerate(found)]
        vector = self._query_vector(question)
        if mode == "dense":
            found = searcher.dense(vector, cut, filters)[0]
            if allowed is not None and len(found) < min(cut, int(allowed.sum())):
                found = self._exact_dense(vector[0], cut, allowed)  # an approximate index saw too few allowed rows
            return [self._hit(h.row, h.score, i + 1, "dense") for i, h in enumerate(found)]
        fused = searcher.hybrid(vector[0], question, depth, depth=depth, rrf_k=self.config.rrf_k, filters=filters)
        fused = sorted(fused, key=lambda h: (-round(h.score, 12), self.index.chunks[h.row].chunk_id))[:cut]
        return [self._hit(h.row, h.score, i + 1, "rrf") for i, h in enumerate(fused)]

    def _query_vector(self, question: str) -> np.ndarray:
        if self.embedder is None:
            raise InputError("dense and hybrid search need the embedding model; use mode='bm25' or pass an Embedder")
        self.embedder.load()
        return np.asarray(self.embedder.embed_queries([question]), dtype=np.float32)

    def _exact_dense(self, vector: np.ndarray, k: int, allowed: np.ndarray) -> list:
        from rag.store import VectorHit

        rows = np.flatnonzero(allowed)
        scores = np.asarray(self.index.embeddings()[rows], dtype=np.float32) @ vector
        top = np.argsort(-scores, kind="stable")[:k]
        return [VectorHit(int(rows[i]), float(scores[i])) for i in top]

    def _bm25(self, question: str, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        bm25 = self.index.bm25
        assert bm25 is not None, "the FAISS path; another store searches through IndexData.searcher"
        return [
            self._hit(h.row, h.score, i + 1, "bm25") for i, h in enumerate(bm25.search(question, k, allowed=allowed))
        ]
