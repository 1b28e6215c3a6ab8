"""Searching one index version's Milvus collection: dense, Sanad-BM25 sparse and RRF hybrid, filters pushed down.

Split from :mod:`rag.stores.milvus` (which writes, publishes and opens versions) to keep each module small.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import InputError
from rag.stores import StoreHit, StoreRow, allowed_rows
from rag.stores.lexical import query_weights
from rag.types import Filters

if TYPE_CHECKING:
    from rag.stores.milvus import MilvusStore


def filter_expression(filters: Filters | None) -> str:
    """A Milvus boolean expression for ``filters`` (``""`` when nothing is filtered).

    An article matches when any of its copies does (:meth:`Filters.matches`): ids and outlets are
    arrays (``ids_all``, ``sources_all``), dates the earliest and latest known (``date_min``,
    ``date_max``; an article without a date never matches a date bound). With both bounds and copies
    dated on either side of the window the expression admits a little more than
    :meth:`Filters.matches`; :class:`rag.retrieval.Retriever` drops those rows. Values are JSON string
    literals, so quotes or backslashes in an outlet name or article id cannot change the expression.

    Example:
        >>> filter_expression(Filters(sources=("BBC",), since="2015-08-01"))
        'array_contains_any(sources_all, ["BBC"]) and date_max != "" and date_max >= "2015-08-01"'
    """
    if filters is None or filters.is_empty:
        return ""

    def lit(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    parts: list[str] = []
    if filters.doc_ids:
        parts.append(f"array_contains_any(ids_all, [{', '.join(lit(d) for d in filters.doc_ids)}])")
    if filters.sources:
        parts.append(f"array_contains_any(sources_all, [{', '.join(lit(s) for s in filters.sources)}])")
    if filters.since or filters.until:
        parts.append('date_max != ""')
    if filters.since:  # some date >= since  <=>  the latest is
        parts.append(f"date_max >= {lit(filters.since)}")
    if filters.until:  # some date <= until  <=>  the earliest is
        parts.append(f"date_min <= {lit(filters.until)}")
    return " and ".join(parts)


def index_params(factory: str, *, nprobe: int = 64, ef_search: int = 128) -> tuple[dict[str, Any], dict[str, Any]]:
    """Milvus index and search parameters for a FAISS factory string (the same index, server side).

    ``Flat`` → ``FLAT`` (exact), ``IVF<n>,Flat`` → ``IVF_FLAT`` (nlist n, nprobe), ``HNSW<M>[,Flat]`` →
    ``HNSW`` (M, efConstruction 40 as FAISS, ef). All with the inner-product metric.
    """
    if factory == "Flat":
        return {"index_type": "FLAT", "params": {}}, {}
    ivf = re.fullmatch(r"IVF(\d+),Flat", factory)
    if ivf:
        return {"index_type": "IVF_FLAT", "params": {"nlist": int(ivf.group(1))}}, {"nprobe": nprobe}
    hnsw = re.fullmatch(r"HNSW(\d+)(,Flat)?", factory)
    if hnsw:
        return {"index_type": "HNSW", "params": {"M": int(hnsw.group(1)), "efConstruction": 40}}, {"ef": ef_search}
    raise InputError(f"index_factory={factory!r} has no Milvus equivalent; use 'Flat', 'IVF<n>,Flat' or 'HNSW<M>,Flat'")


class MilvusSearcher:
    """Searches one index version's collection: dense, lexical (BM25) and hybrid (RRF), filters pushed down.

    Hits carry row numbers of that version's ``chunks.jsonl``, best first.
    """

    def __init__(
        self,
        store: MilvusStore,
        collection: str,
        *,
        dim: int,
        count: int,
        factory: str = "Flat",
        nprobe: int = 64,
        ef_search: int = 128,
    ) -> None:
        self.store = store
        self.collection = collection
        self._dim = dim
        self._count = count
        self.factory = factory
        #: The version's passages when known (:meth:`MilvusStore.open`): filters are then exact, see :meth:`_exact`.
        self.rows: list[StoreRow] | None = None
        self.set_search_params(nprobe=nprobe, ef_search=ef_search)

    def set_search_params(self, *, nprobe: int = 64, ef_search: int = 128) -> None:
        """Search breadth of an approximate dense index (``nprobe`` for IVF, ``ef`` for HNSW)."""
        _, self._dense_params = index_params(self.factory, nprobe=nprobe, ef_search=ef_search)

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return self._count

    def dense(self, queries: np.ndarray, k: int, filters: Filters | None = None) -> list[list[StoreHit]]:
        """Top ``k`` rows per query by inner product; queries are (n, dim) float32 unit vectors."""
        queries = self._queries(queries)
        if self._count == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        result = self.store.call(
            "search",
            self.store.client.search,
            self.collection,
            data=list(queries),
            anns_field="dense",
            limit=self._limit(k, filters),
            filter=filter_expression(filters),
            output_fields=["row"],
            search_params={"metric_type": "IP", "params": self._dense_params},
        )
        return [self._exact(_hits(per_query), filters, k) for per_query in result]

    def lexical(self, query: str, k: int, filters: Filters | None = None) -> list[StoreHit]:
        """Up to ``k`` rows sharing a term with ``query``, by Sanad's BM25 score (inner product of weights)."""
        weights = query_weights(query)
        if not weights or self._count == 0 or k <= 0:
            return []
        result = self.store.call(
            "search",
            self.store.client.search,
            self.collection,
            data=[weights],
            anns_field="sparse",
            limit=self._limit(k, filters),
            filter=filter_expression(filters),
            output_fields=["row"],
            search_params={"metric_type": "IP"},
        )
        return self._exact([h for h in _hits(result[0]) if h.score > 0], filters, k)

    def hybrid(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        *,
        depth: int,
        rrf_k: int = 60,
        filters: Filters | None = None,
    ) -> list[StoreHit]:
        """Dense top ``depth`` and BM25 top ``depth`` fused by Milvus's RRF ranker, cut to ``k``.

        Score = Σ 1/(rrf_k + rank) over the two lists, as :func:`rag.hybrid.rrf`; equal scores
        are ordered by row so that the order is deterministic.
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        vector = self._queries(query_vector)[0]
        weights = query_weights(query)
        if self._count == 0 or k <= 0:
            return []
        depth = self._limit(max(depth, k), filters)
        expr = filter_expression(filters)
        requests = [
            AnnSearchRequest(
                [vector], "dense", {"metric_type": "IP", "params": self._dense_params}, limit=depth, expr=expr or None
            )
        ]
        if weights:
            requests.append(
                AnnSearchRequest([weights], "sparse", {"metric_type": "IP"}, limit=depth, expr=expr or None)
            )
        result = self.store.call(
            "search",
            self.store.client.hybrid_search,
            self.collection,
            requests,
            RRFRanker(rrf_k),
            limit=self._limit(k, filters),
            output_fields=["row"],
        )
        hits = sorted(_hits(result[0]), key=lambda h: (-round(h.score, 9), h.row))
        return self._exact(hits, filters, k)

    def _limit(self, k: int, filters: Filters | None) -> int:
        """Rows to ask for: ``k``, or more when the expression may admit rows :meth:`_exact` then drops."""
        loose = filters is not None and bool(filters.since and filters.until) and self.rows is not None
        return min(self._count, 2 * k + 10 if loose else k)

    def _exact(self, hits: list[StoreHit], filters: Filters | None, k: int) -> list[StoreHit]:
        """Drop hits :meth:`Filters.matches` refuses (copies dated on both sides of a window), cut to ``k``."""
        if filters is not None and filters.since and filters.until and self.rows is not None:
            allowed = allowed_rows(self.rows, filters)
            if allowed is not None:
                hits = [h for h in hits if allowed[h.row]]
        return hits[:k]

    def _queries(self, queries: np.ndarray) -> np.ndarray:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2 or queries.shape[1] != self._dim:
            raise InputError(
                f"query dimension {queries.shape[-1]} does not match the index ({self._dim}); "
                f"the index was built with another embedding model"
            )
        return queries


def _hits(per_query: Iterable[Any]) -> list[StoreHit]:
    return [StoreHit(int(h["row"] if "row" in h else h["id"]), float(h["distance"])) for h in per_query]
