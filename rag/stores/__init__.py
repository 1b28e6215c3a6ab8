"""The seam where the dense vector store can be swapped: the :class:`VectorBackend` protocol.

Everything above the store (``rag.index``, ``rag.retrieval``) needs only these calls, with
row numbers as ids: row ``r`` of the store is passage ``r`` of ``chunks.jsonl``. The default
:class:`rag.store.VectorStore` (FAISS, in-process) satisfies it; :mod:`rag.stores.qdrant`
is an optional second implementation (``pip install qdrant-client``) that runs Qdrant in
local mode here and points at a Qdrant server in a scaled-out deployment (see
``docs/scaling.md``).

Example:
    >>> import numpy as np
    >>> from rag.store import VectorStore
    >>> isinstance(VectorStore.build(np.eye(3, dtype="float32")), VectorBackend)
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from rag.store import VectorHit


@runtime_checkable
class VectorBackend(Protocol):
    """A dense index over unit-norm float32 vectors, searched by inner product (= cosine).

    Contract (what :class:`rag.store.VectorStore` guarantees and a replacement must keep):

    * ``build(vectors, ...)`` (classmethod) indexes an ``(n, dim)`` float32 matrix; row ``i``
      of the matrix is id ``i``.
    * ``search(queries, k)`` returns, per query row, up to ``k`` :class:`~rag.store.VectorHit`
      (row, score) best first, score = inner product; never a row that does not exist.
    * ``save(path)`` / ``load(path, ...)`` (classmethod) round-trip the index through ``path``
      (a file or a folder the backend owns inside the index version folder).
    * ``dim`` and ``len()`` describe what is stored; a query of another dimension raises
      :class:`~rag.errors.InputError`.
    """

    @classmethod
    def build(cls, vectors: np.ndarray, *args, **kwargs) -> VectorBackend: ...

    @classmethod
    def load(cls, path: Path, *args, **kwargs) -> VectorBackend: ...

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> list[list[VectorHit]]: ...

    def save(self, path: Path) -> None: ...


__all__ = ["VectorBackend"]
