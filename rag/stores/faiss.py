"""The default store: FAISS (dense) and BM25 (lexical) files inside each index version folder.

A version's files are ``vectors.faiss`` and ``bm25/``, written by :meth:`FaissStore.write` into the
version folder while it is still a temporary folder; ``rag.index``'s ``CURRENT`` swap publishes it,
so :meth:`FaissStore.publish` has nothing left to do. Searches run in this process; filters become a
row mask applied inside FAISS (an ID selector) and to the BM25 scores, before the cut to ``k``.

Example:
    >>> import numpy as np
    >>> from pathlib import Path
    >>> store = FaissStore()
    >>> rows = [StoreRow("c0", "d0", "القوات العراقية"), StoreRow("c1", "d1", "الاقتصاد العالمي")]
    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> store.write("v-1", folder, rows, np.eye(2, dtype="float32"))
    >>> store.open("v-1", folder, rows).lexical("قوات", k=1)[0].row
    0
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.bm25 import BM25Index
from rag.errors import InputError
from rag.hybrid import rrf
from rag.store import VectorStore
from rag.stores import StoreHit, StoreRow, allowed_rows
from rag.types import Filters

VECTORS = "vectors.faiss"
BM25_DIR = "bm25"


class FaissSearch:
    """A loaded version: the FAISS index, the BM25 index and the rows' filter fields."""

    def __init__(self, store: VectorStore, bm25: BM25Index, rows: Sequence[StoreRow]) -> None:
        self.store = store
        self.bm25 = bm25
        self.rows = rows

    @property
    def dim(self) -> int:
        return self.store.dim

    def __len__(self) -> int:
        return len(self.store)

    def dense(self, queries: np.ndarray, k: int, filters: Filters | None = None) -> list[list[StoreHit]]:
        allowed = allowed_rows(self.rows, filters)
        if allowed is not None and not allowed.any():
            return [[] for _ in range(len(np.atleast_2d(queries)))]
        found = self.store.search(queries, k) if allowed is None else self.store.search(queries, k, allowed=allowed)
        return [[StoreHit(h.row, h.score) for h in per_query] for per_query in found]

    def lexical(self, query: str, k: int, filters: Filters | None = None) -> list[StoreHit]:
        allowed = allowed_rows(self.rows, filters)
        if allowed is not None and not allowed.any():
            return []
        found = self.bm25.search(query, k) if allowed is None else self.bm25.search(query, k, allowed=allowed)
        return [StoreHit(h.row, h.score) for h in found if h.score > 0]

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
        """The dense and BM25 lists fused by :func:`rag.hybrid.rrf`; equal scores in row order."""
        depth = max(depth, k)
        dense = self.dense(np.atleast_2d(query_vector), depth, filters)[0]
        lexical = self.lexical(query, depth, filters)
        fused = rrf({"dense": [str(h.row) for h in dense], "bm25": [str(h.row) for h in lexical]}, k=rrf_k)
        hits = sorted((StoreHit(int(r), s) for r, s, _ in fused), key=lambda h: (-round(h.score, 9), h.row))
        return hits[:k]


class FaissStore:
    """Index versions as files in their version folders (no server; the ``CURRENT`` swap publishes)."""

    kind = "faiss"

    def __init__(self, *, nprobe: int = 64, ef_search: int = 128) -> None:
        self.nprobe = nprobe
        self.ef_search = ef_search

    def write(
        self, version: str, folder: Path, rows: Sequence[StoreRow], vectors: np.ndarray, *, factory: str = "Flat"
    ) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) != len(rows):
            raise InputError(f"{len(rows)} passages but {len(vectors)} vectors; they must be row-aligned")
        folder.mkdir(parents=True, exist_ok=True)
        VectorStore.build(vectors, factory, ef_search=self.ef_search, nprobe=self.nprobe).save(folder / VECTORS)
        BM25Index.build([r.text for r in rows]).save(folder / BM25_DIR)

    def publish(self, version: str) -> None:
        """Nothing to do: the version folder becomes live through ``rag.index``'s ``CURRENT`` swap."""

    def discard(self, version: str, folder: Path | None = None) -> None:
        if folder is not None:
            (folder / VECTORS).unlink(missing_ok=True)
            shutil.rmtree(folder / BM25_DIR, ignore_errors=True)

    def prune(self, keep: Iterable[str]) -> None:
        """Nothing to do: old version folders (and their files) are pruned by ``rag.index``."""

    def open(
        self,
        version: str,
        folder: Path,
        rows: Sequence[StoreRow],
        *,
        factory: str = "Flat",
        nprobe: int | None = None,
        ef_search: int | None = None,
    ) -> FaissSearch:
        store = VectorStore.load(
            folder / VECTORS, factory, ef_search=ef_search or self.ef_search, nprobe=nprobe or self.nprobe
        )
        return FaissSearch(store, BM25Index.load(folder / BM25_DIR, len(rows)), rows)
