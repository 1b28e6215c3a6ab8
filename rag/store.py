"""The dense side: a FAISS index over unit-norm passage vectors (cosine = inner product).

The index type is named by a FAISS factory string. ``"Flat"`` is exact; past
``approx_threshold`` vectors ``"auto"`` switches to an approximate index (by
default: IVF1024,Flat, nprobe 64 — HNSW32 missed recall@10 0.95 at 1M passages), whose
recall against exact search is measured by ``sanad bench``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexCorruptError, InputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VectorHit:
    """Row number of a stored vector and its inner product with the query."""

    row: int
    score: float


def choose_factory(
    factory: str, n_vectors: int, *, approx_factory: str = "IVF1024,Flat", approx_threshold: int = 200_000
) -> str:
    """Resolve ``"auto"`` to an exact or approximate factory string by corpus size."""
    if factory != "auto":
        return factory
    return approx_factory if n_vectors >= approx_threshold else "Flat"


class VectorStore:
    """FAISS index with inner-product metric, built from (n, dim) float32 unit vectors.

    Example:
        >>> store = VectorStore.build(np.eye(4, dtype="float32"), "Flat")
        >>> store.search(np.eye(4, dtype="float32")[:1], k=1)[0][0].row
        0
    """

    def __init__(self, index: Any, factory: str) -> None:
        self.index = index
        self.factory = factory

    @classmethod
    def build(
        cls, vectors: np.ndarray, factory: str = "Flat", *, ef_search: int = 128, nprobe: int = 64
    ) -> VectorStore:
        import faiss

        vectors = _as_matrix(vectors)
        try:
            index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise InputError(f"FAISS cannot build index_factory={factory!r}: {exc}") from None
        if not index.is_trained:
            if len(vectors) < 2:
                raise InputError(f"index type {factory!r} needs training vectors; use 'Flat' for tiny corpora")
            index.train(vectors)
        if len(vectors):
            index.add(vectors)
        store = cls(index, factory)
        store.set_search_params(ef_search=ef_search, nprobe=nprobe)
        return store

    def set_search_params(self, *, ef_search: int = 128, nprobe: int = 64) -> None:
        """Search breadth of approximate indexes (higher: better recall, slower); Flat ignores both.

        ``ef_search`` applies to HNSW, ``nprobe`` (inverted lists visited) to IVF.
        """
        import faiss

        base = faiss.downcast_index(self.index)
        if hasattr(base, "hnsw"):
            base.hnsw.efSearch = ef_search
        with contextlib.suppress(RuntimeError):  # RuntimeError: not an IVF index
            faiss.extract_index_ivf(self.index).nprobe = nprobe

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[VectorHit]]:
        """Top ``k`` rows per query; queries are (n, dim) float32 unit vectors. Missing hits (-1) dropped.

        ``allowed`` ((len(self),) bool) restricts the search to those rows *inside* FAISS (an ID
        selector), so a filter never leaves fewer than ``k`` hits when ``k`` allowed rows exist
        in an exact index. An approximate index visits only part of the data and may still find
        fewer: :class:`~rag.retrieval.Retriever` then completes the search exactly.
        """
        queries = _as_matrix(queries)
        if queries.shape[1] != self.dim:
            raise InputError(
                f"query dimension {queries.shape[1]} does not match the index ({self.dim}); "
                f"the index was built with another embedding model"
            )
        if len(self) == 0:
            return [[] for _ in range(len(queries))]
        if allowed is None:
            scores, rows = self.index.search(queries, min(k, len(self)))
        else:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (len(self),):
                raise InputError(f"allowed has shape {allowed.shape}; expected ({len(self)},), one flag per row")
            n_allowed = int(allowed.sum())
            if n_allowed == 0:
                return [[] for _ in range(len(queries))]
            bits = np.packbits(allowed, bitorder="little")  # must outlive the search call
            scores, rows = self.index.search(queries, min(k, n_allowed), params=self._selector_params(bits))
        return [
            [VectorHit(int(r), float(s)) for r, s in zip(rs, ss, strict=True) if r >= 0]
            for rs, ss in zip(rows, scores, strict=True)
        ]

    @property
    def exact(self) -> bool:
        """Whether every search compares the query with every stored vector (a flat index)."""
        import faiss

        return isinstance(faiss.downcast_index(self.index), (faiss.IndexFlat,))

    def _selector_params(self, bits: np.ndarray) -> Any:
        """FAISS search parameters that admit only the rows set in ``bits`` (little-endian bitmap)."""
        import faiss as faiss_module

        faiss: Any = faiss_module  # its bundled stubs lack the SearchParameters keyword arguments

        selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bits))
        base = faiss.downcast_index(self.index)
        if hasattr(base, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=base.hnsw.efSearch)
        else:
            try:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=faiss.extract_index_ivf(self.index).nprobe)
            except RuntimeError:  # not an IVF index
                params = faiss.SearchParameters(sel=selector)
        params._keep = (selector, bits)  # noqa: SLF001 - the SWIG objects hold raw pointers: keep their owners alive
        return params

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, factory: str, *, ef_search: int = 128, nprobe: int = 64) -> VectorStore:
        import faiss

        try:
            index = faiss.read_index(str(path))
        except Exception as exc:  # noqa: BLE001 - FAISS raises RuntimeError with C++ text on a bad file
            raise IndexCorruptError(
                f"cannot read the vector index {path}: {exc}. Rebuild it with `sanad index`"
            ) from None
        store = cls(index, factory)
        store.set_search_params(ef_search=ef_search, nprobe=nprobe)
        return store


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise InputError(f"expected a (n, dim) matrix, got shape {vectors.shape}")
    return np.ascontiguousarray(vectors)
