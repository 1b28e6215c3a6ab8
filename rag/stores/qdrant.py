"""An optional :class:`~rag.stores.VectorBackend` on Qdrant (``pip install qdrant-client``).

Here it runs Qdrant's *local mode* (``QdrantClient(":memory:")`` or ``QdrantClient(path=...)``:
no server, exact search in the client), which is what the tests compare with FAISS Flat. In a
scaled-out deployment the same class takes ``url=`` (a Qdrant server or cluster, HNSW on the
server side) and ``save``/``load`` only record which collection to use: the data lives in
the server (see ``docs/scaling.md``).

Example:
    >>> import numpy as np
    >>> store = QdrantVectorStore.build(np.eye(4, dtype="float32"))    # doctest: +SKIP
    >>> store.search(np.eye(4, dtype="float32")[:1], k=1)[0][0].row      # doctest: +SKIP
    0
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, InputError
from rag.store import VectorHit, _as_matrix

_BATCH = 2048


class QdrantVectorStore:
    """Unit vectors in a Qdrant collection with cosine distance; point id = row number."""

    def __init__(self, client, collection: str, dim: int, count: int, *, url: str | None = None) -> None:
        self.client = client
        self.collection = collection
        self._dim = dim
        self._count = count
        self.url = url
        self.factory = "qdrant"

    @staticmethod
    def _client(url: str | None = None, path: Path | None = None):
        try:
            from qdrant_client import QdrantClient
        except ImportError as exc:  # optional dependency
            raise ImportError("QdrantVectorStore needs `pip install qdrant-client`") from exc
        if url:
            return QdrantClient(url=url)
        return QdrantClient(path=str(path)) if path else QdrantClient(":memory:")

    @classmethod
    def build(cls, vectors: np.ndarray, factory: str = "qdrant", *, url: str | None = None,
              collection: str | None = None, **_: object) -> QdrantVectorStore:
        """Create a collection holding ``vectors`` (row i -> point id i)."""
        from qdrant_client import models

        vectors = _as_matrix(vectors)
        client = cls._client(url)
        name = collection or f"sanad-{uuid.uuid4().hex[:8]}"
        client.create_collection(name, vectors_config=models.VectorParams(size=int(vectors.shape[1]),
                                                                          distance=models.Distance.COSINE))
        for start in range(0, len(vectors), _BATCH):
            block = vectors[start:start + _BATCH]
            client.upsert(name, points=models.Batch(ids=list(range(start, start + len(block))), vectors=block.tolist()),
                          wait=True)
        return cls(client, name, int(vectors.shape[1]), len(vectors), url=url)

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return self._count

    def search(self, queries: np.ndarray, k: int) -> list[list[VectorHit]]:
        from qdrant_client import models

        queries = _as_matrix(queries)
        if queries.shape[1] != self.dim:
            raise InputError(f"query dimension {queries.shape[1]} does not match the index ({self.dim}); "
                             f"the index was built with another embedding model")
        if self._count == 0:
            return [[] for _ in range(len(queries))]
        requests = [models.QueryRequest(query=q.tolist(), limit=min(k, self._count)) for q in queries]
        answers = self.client.query_batch_points(self.collection, requests=requests)
        return [[VectorHit(int(p.id), float(p.score)) for p in a.points] for a in answers]

    def save(self, path: Path) -> None:
        """Local mode: write the vectors (``path/vectors.npy``); server mode: write only where the collection is."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"collection": self.collection, "url": self.url, "dim": self.dim, "count": self._count}
        if not self.url:
            points, _ = self.client.scroll(self.collection, limit=max(1, self._count), with_vectors=True)
            vectors = np.zeros((self._count, self.dim), dtype=np.float32)
            for p in points:
                vectors[int(p.id)] = p.vector
            np.save(path / "vectors.npy", vectors, allow_pickle=False)
        (path / "qdrant.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, factory: str = "qdrant", **_: object) -> QdrantVectorStore:
        path = Path(path)
        try:
            meta = json.loads((path / "qdrant.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read the Qdrant store description in {path}: {exc}") from None
        if meta.get("url"):
            return cls(cls._client(meta["url"]), meta["collection"], int(meta["dim"]), int(meta["count"]),
                       url=meta["url"])
        vectors = np.load(path / "vectors.npy", allow_pickle=False)
        return cls.build(vectors, collection=meta["collection"])
