"""Serving from Milvus: one collection per index version, published by switching an alias.

``SANAD_STORE=milvus`` with ``SANAD_MILVUS_URI`` either a Milvus Lite folder (``index/milvus.db``:
pymilvus starts Milvus Lite's gRPC server inside this process) or a server
(``http://host:19530``: Milvus standalone or cluster, or ``milvus-lite server``). Needs
``pip install -e '.[scale]'``.

Each index version becomes a collection ``<alias>_<version>`` holding, per passage row: the row
number (primary key, = the line of ``chunks.jsonl``), ``chunk_id``, ``doc_id``, the article's
``source`` (outlet) and ``published`` date for filters, the passage text, the dense e5 vector
and Sanad's own BM25 weights as a sparse vector (:mod:`rag.stores.lexical`: the same
tokenizer, stemming and scores as :class:`rag.bm25.BM25Index`). A version is written and
loaded aside, then :meth:`MilvusStore.publish` points the alias at it in one server-side
switch (the Milvus equivalent of the atomic ``CURRENT`` swap); older collections are dropped,
keeping the previous one so that readers which opened it serve on.

Search pushes :class:`~rag.types.Filters` down as a Milvus filter expression, and hybrid
search is one ``hybrid_search`` call fusing a dense and a sparse request with Milvus's
``RRFRanker`` (the same formula as :func:`rag.hybrid.rrf`). An unreachable server raises
:class:`StoreUnavailableError` naming the URI: never an empty result.

Just past the house's ~400 lines: the store's write, publish, prune and delete paths each wrap
pymilvus's errors into one line naming the URI; the query side already lives in
:mod:`rag.stores.milvus_search`.

Example:
    >>> store = MilvusStore("index/milvus.db")                           # doctest: +SKIP
    >>> store.write_version("v-1", rows, vectors)                        # doctest: +SKIP
    >>> store.publish("v-1")                                             # doctest: +SKIP
    >>> store.searcher().dense(query_vectors, k=5)[0][0].row             # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexCorruptError, IndexMissingError, InputError, SanadError
from rag.stores import StoreRow, StoreUnavailableError
from rag.stores.lexical import passage_weights
from rag.stores.milvus_search import MilvusSearcher, filter_expression, index_params

__all__ = [
    "DESCRIPTION",
    "MilvusSearcher",
    "MilvusStore",
    "collection_name",
    "filter_expression",
    "index_params",
    "open_version",
]

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[scale]'"
#: The file in a version folder naming that version's collection.
DESCRIPTION = "milvus.json"
_BATCH = 1000
_MAX_TEXT_BYTES = 65_535
_MAX_KEY_BYTES = 1_024
_MAX_COPIES = 4_096


def collection_name(alias: str, version: str) -> str:
    """The collection holding ``version`` (Milvus names allow letters, digits and underscores)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{alias}_{version}")


def _connect(uri: str, timeout_s: float) -> Any:
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise ImportError(f"the Milvus store needs pymilvus and milvus-lite: {INSTALL_HINT}") from exc
    # pymilvus logs every failed call with a traceback; each failure reaches the caller as a SanadError instead.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
        folder = Path(uri).expanduser()
        if folder.suffix != ".db":
            raise InputError(
                f"SANAD_MILVUS_URI={uri!r}: give a Milvus Lite folder ending in .db "
                f"(e.g. index/milvus.db) or a server address such as http://127.0.0.1:19530"
            )
        folder.parent.mkdir(parents=True, exist_ok=True)
        uri = str(folder)
    try:
        # A connection of its own: a shared one outlives a restarted server in a state that never reconnects.
        return MilvusClient(uri=uri, timeout=timeout_s, dedicated=True)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises many types; each is turned into one SanadError naming the URI
        local = (
            ""
            if uri.startswith(("http", "tcp", "unix"))
            else (
                " Milvus Lite lets one process at a time open a folder: if another Sanad process (the UI, an index "
                "build) holds it, run a Milvus server (`milvus-lite server --data-dir ... --port 19530`, or Milvus "
                "standalone) and point SANAD_MILVUS_URI at it."
            )
        )
        raise StoreUnavailableError(
            f"cannot connect to Milvus at {uri}: {_reason(exc)}.{local} Check that the "
            f"server runs and SANAD_MILVUS_URI is right; nothing was searched or changed"
        ) from None


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())[:300]


class MilvusStore:
    """Sanad's index versions in one Milvus deployment.

    Args:
        uri: a Milvus Lite folder (``index/milvus.db``) or a server address (``http://host:19530``).
        alias: the alias readers follow; collections are named ``<alias>_<version>``.
        timeout_s: per-call timeout, so that a dead server fails a call instead of hanging it.
    """

    kind = "milvus"

    def __init__(self, uri: str, *, alias: str = "sanad", timeout_s: float = 30.0) -> None:
        if not uri:
            raise InputError("the Milvus store needs SANAD_MILVUS_URI (e.g. index/milvus.db or http://host:19530)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", alias):
            raise InputError(
                f"milvus alias {alias!r} must be letters, digits and underscores, not starting with a digit"
            )
        if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
            uri = str(Path(uri).expanduser().resolve())  # a Milvus Lite folder: the same from any working folder
        self.uri = uri
        self.alias = alias
        self.timeout_s = timeout_s
        self._client = None

    # -- connection -------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            self._client = _connect(self.uri, self.timeout_s)
        return self._client

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one client call; a connection failure becomes :class:`StoreUnavailableError` naming the URI."""
        try:
            return fn(*args, timeout=self.timeout_s, **kwargs)
        except SanadError:
            raise
        except Exception as exc:  # noqa: BLE001 - pymilvus raises many types; each is turned into one SanadError naming the URI
            if _is_missing_collection(exc):
                raise IndexMissingError(
                    f"Milvus at {self.uri} has no collection for this index ({_reason(exc)}); "
                    f"rebuild it with `sanad index --rebuild`"
                ) from None
            raise StoreUnavailableError(
                f"Milvus at {self.uri} failed to {what}: {_reason(exc)}. Check that the "
                f"server runs and SANAD_MILVUS_URI is right"
            ) from None

    def close(self) -> None:
        """Close the connection (a Milvus Lite server started for a folder stops when the process exits)."""
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    # -- writing ----------------------------------------------------------------------------
    def write_version(
        self,
        version: str,
        rows: Sequence[StoreRow],
        vectors: np.ndarray,
        *,
        factory: str = "Flat",
        nprobe: int = 64,
        ef_search: int = 128,
    ) -> str:
        """Create, fill, index and load the collection for ``version``; it is not live until :meth:`publish`.

        Args:
            version: the index version name (the version folder's name).
            rows: the passages in row order (row ``i`` is ``rows[i]``).
            vectors: (n, dim) float32 unit vectors, row-aligned with ``rows``.

        Returns:
            The collection name. On failure the half-written collection is dropped.
        """
        from pymilvus import DataType, MilvusClient

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(rows):
            raise InputError(f"{len(rows)} passages but vectors of shape {vectors.shape}; they must be row-aligned")
        _check_sizes(rows)
        name = collection_name(self.alias, version)
        build, _ = index_params(factory, nprobe=nprobe, ef_search=ef_search)
        if self.call("list collections", self.client.has_collection, name):
            self.call("drop a stale collection", self.client.drop_collection, name)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=_MAX_KEY_BYTES)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=_MAX_KEY_BYTES)
        schema.add_field("source", DataType.VARCHAR, max_length=_MAX_KEY_BYTES)
        schema.add_field("published", DataType.VARCHAR, max_length=64)
        schema.add_field(
            "ids_all",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            max_capacity=_MAX_COPIES,
            max_length=_MAX_KEY_BYTES,
        )
        schema.add_field(
            "sources_all",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            max_capacity=_MAX_COPIES,
            max_length=_MAX_KEY_BYTES,
        )
        schema.add_field("date_min", DataType.VARCHAR, max_length=64)
        schema.add_field("date_max", DataType.VARCHAR, max_length=64)
        schema.add_field("text", DataType.VARCHAR, max_length=_MAX_TEXT_BYTES)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        self.call("create a collection", self.client.create_collection, name, schema=schema, consistency_level="Strong")
        try:
            sparse = passage_weights([r.text for r in rows]).rows
            for start in range(0, len(rows), _BATCH):
                stop = min(len(rows), start + _BATCH)
                batch = [_entity(i, rows[i], vectors[i], sparse[i]) for i in range(start, stop)]
                self.call("insert passages", self.client.insert, name, batch)
            self.call("flush", self.client.flush, name)
            params = self.client.prepare_index_params()
            params.add_index(
                field_name="dense", index_type=build["index_type"], metric_type="IP", params=build["params"]
            )
            params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            params.add_index(field_name="date_max", index_type="INVERTED")
            self.call("build the indexes", self.client.create_index, name, params)
            self.call("load the collection", self.client.load_collection, name)
            props = {"sanad.factory": factory, "sanad.rows": str(len(rows)), "sanad.dim": str(vectors.shape[1])}
            self.call("describe the version", self.client.alter_collection_properties, name, properties=props)
        except BaseException:
            self.discard(version)
            raise
        logger.info("Milvus collection %s holds %d passages (%s)", name, len(rows), factory)
        return name

    def write(
        self, version: str, folder: Path, rows: Sequence[StoreRow], vectors: np.ndarray, *, factory: str = "Flat"
    ) -> None:
        """:meth:`write_version`, and ``folder/milvus.json`` saying where the version's collection is."""
        name = self.write_version(version, rows, vectors, factory=factory)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DESCRIPTION).write_text(
            json.dumps(
                {"uri": self.uri, "alias": self.alias, "collection": name, "factory": factory, "rows": len(rows)},
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    def publish(self, version: str) -> None:
        """Point the alias at ``version``'s collection (one server-side switch; readers of the alias move at once)."""
        name = collection_name(self.alias, version)
        if self.live_collection() is None:
            self.call("create the alias", self.client.create_alias, name, self.alias)
        else:
            self.call("switch the alias", self.client.alter_alias, name, self.alias)
        logger.info("Milvus alias %s -> %s", self.alias, name)

    def live_collection(self) -> str | None:
        """The collection the alias points at, or ``None`` before the first publish."""
        aliases = self.call("list aliases", self.client.list_aliases)
        if self.alias not in (aliases.get("aliases", []) if isinstance(aliases, dict) else aliases):
            return None
        return self.call("describe the alias", self.client.describe_alias, self.alias)["collection_name"]

    def discard(self, version: str, folder: Path | None = None) -> None:
        """Drop ``version``'s collection (after a failed build); never the live one."""
        if folder is not None:
            (folder / DESCRIPTION).unlink(missing_ok=True)
        name = collection_name(self.alias, version)
        try:
            if name != self.live_collection() and self.client.has_collection(name, timeout=self.timeout_s):
                self.client.drop_collection(name, timeout=self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - cleanup after a failure must not hide the failure
            logger.warning("could not drop the unfinished Milvus collection %s: %s", name, _reason(exc))

    def prune(self, keep: Iterable[str]) -> list[str]:
        """Drop this alias's version collections except ``keep`` (version names) and the live one."""
        keep_names = {collection_name(self.alias, v) for v in keep}
        live = self.live_collection()
        dropped = []
        for name in self.call("list collections", self.client.list_collections):
            if name.startswith(f"{self.alias}_") and name not in keep_names and name != live:
                self.call("drop an old version", self.client.drop_collection, name)
                dropped.append(name)
        return dropped

    def versions(self) -> list[str]:
        """Collections of this alias's versions, oldest name first."""
        return sorted(
            n for n in self.call("list collections", self.client.list_collections) if n.startswith(f"{self.alias}_")
        )

    # -- reading ----------------------------------------------------------------------------
    def open(
        self, version: str, folder: Path, rows: Sequence[StoreRow] = (), *, nprobe: int = 64, ef_search: int = 128
    ) -> MilvusSearcher:
        """A searcher on the collection ``folder/milvus.json`` names (the version's own, not the alias)."""
        try:
            described = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"cannot read {folder / DESCRIPTION} ({exc}); rebuild with `sanad index --rebuild`"
            ) from None
        if described.get("uri") != self.uri:
            raise IndexCorruptError(
                f"this index version lives in Milvus at {described.get('uri')}, but "
                f"SANAD_MILVUS_URI is {self.uri}; point it there or rebuild with "
                f"`sanad index --rebuild`"
            )
        searcher = self.searcher(described.get("collection"), collection=True)
        searcher.set_search_params(nprobe=nprobe, ef_search=ef_search)
        if rows and len(searcher) != len(rows):
            raise IndexCorruptError(
                f"Milvus collection {searcher.collection} holds {len(searcher)} passages but "
                f"the index lists {len(rows)}; rebuild with `sanad index --rebuild`"
            )
        searcher.rows = list(rows) or None
        return searcher

    def searcher(self, version: str | None = None, *, collection: bool = False) -> MilvusSearcher:
        """A searcher on ``version``'s collection (``collection``: ``version`` is the collection name), or on
        whatever the alias points at when ``None`` (a stateless reader)."""
        if version is None:
            name = self.live_collection()
            if name is None:
                raise IndexMissingError(
                    f"Milvus at {self.uri} has no published index (alias {self.alias!r}); build one with `sanad index`"
                )
        else:
            name = version if collection else collection_name(self.alias, version)
        desc = self.call("describe the collection", self.client.describe_collection, name)
        state = self.call("check the collection is loaded", self.client.get_load_state, name)
        if getattr(state.get("state"), "name", str(state.get("state"))) != "Loaded":
            # A restarted server (Milvus Lite) may come back with its collections released.
            self.call("load the collection", self.client.load_collection, name)
        props = desc.get("properties", {}) or {}
        dim = next(int(f["params"]["dim"]) for f in desc["fields"] if f["name"] == "dense")
        rows = int(props.get("sanad.rows", -1))
        if rows < 0:
            rows = int(self.call("count passages", self.client.get_collection_stats, name)["row_count"])
        factory = str(props.get("sanad.factory", "Flat"))
        return MilvusSearcher(self, name, dim=dim, count=rows, factory=factory)


def _entity(i: int, r: StoreRow, vector: np.ndarray, sparse: dict[int, float]) -> dict[str, Any]:
    dates = r.dates
    return {
        "row": i,
        "chunk_id": r.chunk_id,
        "doc_id": r.doc_id,
        "source": r.source,
        "published": r.published,
        "ids_all": list(r.ids),
        "sources_all": list(r.sources) or [""],
        "date_min": dates[0] if dates else "",
        "date_max": dates[-1] if dates else "",
        "text": r.text,
        "dense": vector,
        "sparse": sparse,
    }


def open_version(
    folder: Path, rows: Sequence[StoreRow], *, uri: str = "", nprobe: int = 64, ef_search: int = 128
) -> MilvusSearcher:
    """The searcher of the index version in ``folder`` (its ``milvus.json`` names URI, alias and collection).

    ``uri``: the URI the settings name (``""``: the one recorded); a different one raises
    :class:`~rag.errors.IndexCorruptError` rather than silently searching another deployment.
    """
    try:
        described = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"cannot read {folder / DESCRIPTION} ({exc}); rebuild with `sanad index --rebuild`"
        ) from None
    store = MilvusStore(uri or described.get("uri", ""), alias=described.get("alias") or "sanad")
    return store.open(folder.name, folder, rows, nprobe=nprobe, ef_search=ef_search)


def _check_sizes(rows: Sequence[StoreRow]) -> None:
    for i, r in enumerate(rows):
        if len(r.copies) >= _MAX_COPIES:
            raise InputError(
                f"article {r.doc_id} stands for {len(r.copies)} copies, more than a Milvus array "
                f"holds ({_MAX_COPIES - 1}); index with near_duplicates='keep'"
            )
        if len(r.text.encode("utf-8")) > _MAX_TEXT_BYTES:
            raise InputError(
                f"passage {i} of {r.doc_id} is over {_MAX_TEXT_BYTES} bytes, more than a Milvus text "
                f"field holds; lower chunk_tokens"
            )
        for field_name in ("chunk_id", "doc_id", "source"):
            if len(getattr(r, field_name).encode("utf-8")) > _MAX_KEY_BYTES:
                raise InputError(
                    f"the {field_name} of passage {i} ({getattr(r, field_name)[:60]}…) is over "
                    f"{_MAX_KEY_BYTES} bytes; shorten the file name or the outlet name"
                )


def _is_missing_collection(exc: BaseException) -> bool:
    text = _reason(exc).lower()
    return "collection not found" in text or "can't find collection" in text or "not exist" in text
