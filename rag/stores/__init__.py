"""The store seam: where an index version's passages are kept and searched, swappable by a setting.

Two implementations pass one contract test suite (``tests/scale/test_store_contract.py``):

* ``faiss`` (:mod:`rag.stores.faiss`, the default): FAISS + BM25 files inside the version folder,
  searched in this process.
* ``milvus`` (:mod:`rag.stores.milvus`, ``SANAD_STORE=milvus``, ``pip install -e '.[scale]'``): one
  Milvus collection per version holding the dense vectors and Sanad's BM25 weights as sparse vectors,
  published by an alias switch, searched by a Milvus Lite process or a Milvus server.

The contract, for both:

* **Versioned, atomic.** :meth:`PassageStore.write` builds a version's search structures aside;
  nothing a reader sees changes until :meth:`PassageStore.publish` (FAISS: the ``CURRENT`` swap of
  ``rag.index``; Milvus: the alias switch). A failed build is :meth:`~PassageStore.discard`-ed and the
  previous version serves on; :meth:`~PassageStore.prune` drops old versions.
* **Rows are ids.** Row ``r`` of a version is passage ``r`` of its ``chunks.jsonl``; every hit is a
  :class:`StoreHit` (row, score), best first, score higher-is-better.
* **Dense**: inner product of unit vectors (cosine). **Lexical**: Sanad's BM25 (``rag.textnorm``
  terms, Lucene BM25 as ``bm25s`` computes it), only passages sharing a term. **Hybrid**: the two
  lists fused by reciprocal rank (score = Σ 1/(rrf_k + rank)).
* **Filters** (:class:`~rag.types.Filters`: article ids, outlets, a date range) apply before the cut
  to ``k`` on every side, so a filtered search returns the best ``k`` matching passages.
* **Delete by article** is the next version without that article's passages (an index version never
  changes once written): BM25 weights depend on the whole collection (IDF, mean length), so deleting
  rows in place would leave every other passage's lexical score stale.
* A store that cannot be reached raises :class:`StoreUnavailableError` naming where it looked:
  never an empty result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.errors import SanadError
from rag.types import Filters

if TYPE_CHECKING:
    from rag.config import SanadConfig

#: The store kinds ``SanadConfig.store`` accepts.
STORE_KINDS = ("faiss", "milvus")


class StoreUnavailableError(SanadError):
    """The configured store (a Milvus server or Milvus Lite folder) cannot be reached or opened."""


@dataclass(frozen=True)
class StoreHit:
    """A passage row of the searched index version and its score (higher is better)."""

    row: int
    score: float


@dataclass(frozen=True)
class StoreRow:
    """What a store keeps of one passage besides its vector: ids, text, and the article's filter fields.

    ``copies`` are the ``(doc_id, source, published)`` of other copies of the article's text indexed as
    this article (:attr:`rag.types.Article.copies`): a filter matches when any copy does.
    """

    chunk_id: str
    doc_id: str
    text: str
    source: str = ""
    published: str = ""
    copies: tuple[tuple[str, str, str], ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.doc_id, *(c[0] for c in self.copies))

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for s in (self.source, *(c[1] for c in self.copies)) if s))

    @property
    def dates(self) -> tuple[str, ...]:
        return tuple(sorted({d for d in (self.published, *(c[2] for c in self.copies)) if d}))


def store_rows(chunks: Sequence, articles: dict) -> list[StoreRow]:
    """One :class:`StoreRow` per :class:`~rag.types.Chunk`, with its article's outlet, date and copies."""
    rows = []
    for c in chunks:
        a = articles.get(c.doc_id)
        copies = tuple((cp[0], cp[1], cp[2]) for cp in a.copies) if a is not None else ()
        rows.append(
            StoreRow(
                c.chunk_id,
                c.doc_id,
                c.text,
                source=a.source if a else "",
                published=a.published if a else "",
                copies=copies,
            )
        )
    return rows


@runtime_checkable
class PassageSearch(Protocol):
    """One index version, searchable: dense, lexical and hybrid, each with filters."""

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def dense(self, queries: np.ndarray, k: int, filters: Filters | None = None) -> list[list[StoreHit]]:
        """Top ``k`` rows per query ((n, dim) float32 unit vectors) by inner product."""
        ...

    def lexical(self, query: str, k: int, filters: Filters | None = None) -> list[StoreHit]:
        """Up to ``k`` rows sharing a term with ``query``, by BM25."""
        ...

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
        """Dense top ``depth`` and lexical top ``depth`` fused by RRF, cut to ``k``."""
        ...


@runtime_checkable
class PassageStore(Protocol):
    """Where a deployment's index versions are written, published and opened."""

    kind: str

    def write(
        self, version: str, folder: Path, rows: Sequence[StoreRow], vectors: np.ndarray, *, factory: str = "Flat"
    ) -> None:
        """Build ``version``'s search structures (FAISS: files in ``folder``; Milvus: a collection); not live yet."""
        ...

    def publish(self, version: str) -> None:
        """Make ``version`` the one new readers see (after the ``CURRENT`` swap)."""
        ...

    def discard(self, version: str, folder: Path | None = None) -> None:
        """Remove what a failed :meth:`write` of ``version`` left (never the live version)."""
        ...

    def prune(self, keep: Iterable[str]) -> list[str] | None:
        """Drop versions other than ``keep`` (and the live one); the dropped ones where the store knows them."""
        ...

    def open(
        self, version: str, folder: Path, rows: Sequence[StoreRow], *, nprobe: int = 64, ef_search: int = 128
    ) -> PassageSearch:
        """A searcher on ``version`` (whose passages are ``rows``, in row order)."""
        ...


def allowed_rows(rows: Sequence[StoreRow], filters: Filters | None) -> np.ndarray | None:
    """(n,) bool: rows whose article matches ``filters`` (as :meth:`Filters.matches`); ``None`` when unfiltered."""
    if filters is None or filters.is_empty:
        return None
    from rag.types import Article

    cache: dict[tuple, bool] = {}
    out = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows):
        key = (r.doc_id, r.source, r.published, r.copies)
        if key not in cache:
            cache[key] = filters.matches(
                Article(
                    r.doc_id, "", "-", source=r.source, published=r.published, copies=tuple((*c, "") for c in r.copies)
                )
            )
        out[i] = cache[key]
    return out


class VersionWriter:
    """A version's search structures written by a :class:`PassageStore` while ``rag.index`` writes the folder.

    ``save_index`` calls :meth:`write_version_files` with the temporary version folder and the version
    name before it swaps ``CURRENT``; the indexer then calls :meth:`publish` (or :meth:`discard` after a
    failure).
    """

    def __init__(
        self, store: PassageStore, rows: Sequence[StoreRow], vectors: np.ndarray, *, factory: str = "Flat"
    ) -> None:
        self.store = store
        self.rows = rows
        self.vectors = vectors
        self.factory = factory
        self.version: str | None = None

    def write_version_files(self, folder: Path, version: str) -> None:
        self.version = version
        self.store.write(version, folder, self.rows, self.vectors, factory=self.factory)

    def publish(self) -> None:
        if self.version is not None:
            self.store.publish(self.version)

    def discard(self) -> None:
        if self.version is not None:
            self.store.discard(self.version)


def default_alias(index_dir: Path) -> str:
    """The Milvus alias of the index in ``index_dir`` when none is set: ``sanad_`` + a hash of its absolute path."""
    import hashlib

    return "sanad_" + hashlib.sha256(str(Path(index_dir).resolve()).encode("utf-8")).hexdigest()[:10]


def open_store(
    kind: str, *, index_dir: Path, milvus_uri: str = "", milvus_alias: str = "", nprobe: int = 64, ef_search: int = 128
) -> PassageStore:
    """The :class:`PassageStore` named by ``kind`` (``SanadConfig.store``).

    Milvus: ``milvus_uri`` defaults to the Milvus Lite folder ``<index_dir>/milvus.db``, the alias to
    :func:`default_alias`.
    """
    from rag.errors import InputError

    if kind == "faiss":
        from rag.stores.faiss import FaissStore

        return FaissStore(nprobe=nprobe, ef_search=ef_search)
    if kind == "milvus":
        from rag.stores.milvus import MilvusStore

        uri = milvus_uri or str(Path(index_dir) / "milvus.db")
        return MilvusStore(uri, alias=milvus_alias or default_alias(index_dir))
    raise InputError(f"store={kind!r} is not valid; choose one of {', '.join(STORE_KINDS)}")


def store_for(config: SanadConfig) -> PassageStore:
    """:func:`open_store` with a :class:`~rag.config.SanadConfig`'s settings."""
    return open_store(
        config.store,
        index_dir=config.index_dir,
        milvus_uri=config.milvus_uri,
        milvus_alias=config.milvus_alias,
        nprobe=config.ivf_nprobe,
        ef_search=config.hnsw_ef_search,
    )


__all__ = [
    "STORE_KINDS",
    "PassageSearch",
    "PassageStore",
    "StoreHit",
    "StoreRow",
    "StoreUnavailableError",
    "VersionWriter",
    "allowed_rows",
    "default_alias",
    "open_store",
    "store_for",
    "store_rows",
]
