"""Embedding passages on a Ray cluster: ``sanad index PATH --engine ray [--ray-address auto|ray://host:10001]``.

:class:`RayEmbedder` is an :class:`~rag.embeddings.Embedder` whose :meth:`~RayEmbedder.embed_passages`
runs on Ray; questions, token counts (chunking) and the model identity stay local. So the ordinary
:class:`rag.indexer.Indexer` builds the index: the same chunks, the same incremental re-use of
unchanged articles, the same atomic version swap. Only the "embed these passages" step moves.

How the step runs: the passages (sorted by length, as the local engine batches them) become a
Ray Dataset in blocks of ``batch_size``; ``map_batches`` streams them through a pool of
:class:`PassageEncoder` actors, one per worker, each holding the model (OpenVINO by default) loaded
once; the driver collects vectors by row as batches come back and shows progress. Ray restarts
an actor whose worker dies and retries its batch; if no batch arrives for ``stall_timeout_s`` (a
lost node and nowhere to run) the step fails with :class:`~rag.errors.SanadError`, nothing is
written, and the previous index version serves on.

Without an address a local Ray cluster is started in this process (and stopped after); with one,
the driver joins that cluster (``auto``: the one ``ray start`` runs on this machine; ``ray://``:
Ray Client). Every worker machine needs the ``scale`` extra and the models (``sanad setup``); the
``rag`` package itself is shipped to the workers so they run the driver's code.

Example:
    >>> embedder = RayEmbedder(Embedder.from_config(config), workers=2)     # doctest: +SKIP
    >>> Indexer(config, embedder).index_paths([Path("data/articles")])      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import Embedder
from rag.errors import InputError, SanadError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[scale]'"


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ImportError(f"--engine ray needs Ray Data: {INSTALL_HINT}") from exc
    return ray


class PassageEncoder:
    """A Ray actor: loads the embedding model once, then embeds batches of passages.

    Args:
        settings: keyword arguments of :class:`~rag.embeddings.Embedder` (model, folders, prompts,
            batch size, threads, engine), so every worker computes the driver's vectors.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        settings = dict(settings)
        model_dir = settings.pop("model_dir", None)
        self.embedder = Embedder(settings.pop("model"), model_dir=Path(model_dir) if model_dir else None, **settings)
        self.embedder.load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {
            "row": np.asarray(batch["row"], dtype=np.int64),
            "vector": self.embedder.embed_passages(texts).astype(np.float32),
        }


class RayEmbedder:
    """An :class:`~rag.embeddings.Embedder` whose passage embedding runs on a Ray cluster.

    Args:
        local: the embedder the driver uses for questions, token counts and the model identity.
        address: a Ray cluster (``auto``, ``ray://host:10001``, ``host:6379``); ``None`` starts a local one.
        workers: model-holding actors (default: the cluster's CPUs divided by ``local.threads``).
        batch_size: passages per Ray batch (a multiple of the model batch, so batches match a local run).
        stall_timeout_s: fail when no batch has come back for this long.
        object_store_mb: object store size of a local cluster started here.
        on_progress: called as ``on_progress(done, total)`` (passages) each time a batch comes back.
    """

    def __init__(
        self,
        local: Embedder,
        *,
        address: str | None = None,
        workers: int | None = None,
        batch_size: int = 256,
        stall_timeout_s: float = 600.0,
        object_store_mb: int = 512,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if workers is not None and workers <= 0:
            raise InputError(f"ray workers={workers} must be a positive number")
        if batch_size <= 0:
            raise InputError(f"ray batch_size={batch_size} must be a positive number")
        self.local = local
        self.address = address or None
        self.workers = workers
        step = max(1, int(getattr(local, "batch_size", 16)))
        self.batch_size = max(step, batch_size // step * step)
        self.stall_timeout_s = stall_timeout_s
        self.object_store_mb = object_store_mb
        self.on_progress = on_progress
        self._ray = None
        self._joined = False
        #: Seconds per stage of the last :meth:`embed_passages` (``ray_start_s``, ``embed_s``).
        self.timings: dict[str, float] = {}

    # -- the Embedder surface the indexer uses --------------------------------------------------
    def load(self) -> None:
        self.local.load()

    @property
    def dim(self) -> int:
        return self.local.dim

    @property
    def fingerprint(self) -> str:
        return self.local.fingerprint

    @property
    def max_tokens(self) -> int:
        return self.local.max_tokens

    @property
    def backend(self) -> str:
        return self.local.backend

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32 unit vectors, computed by the cluster's actors; row ``i`` is ``texts[i]``."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        t0 = time.perf_counter()
        ray = self._connect()
        self.timings = {"ray_start_s": time.perf_counter() - t0}
        t0 = time.perf_counter()
        vectors = self._run(ray, list(texts), show_progress=show_progress)
        self.timings["embed_s"] = time.perf_counter() - t0
        return vectors

    # -- Ray --------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """What a worker needs to build the driver's embedder."""
        e = self.local
        return {
            "model": e.model_name,
            "model_dir": str(e.model_dir) if e.model_dir else None,
            "query_prompt": e.query_prompt,
            "passage_prompt": e.passage_prompt,
            "batch_size": e.batch_size,
            "threads": e.threads,
            "device": e.device,
            "backend": e.requested_backend,
        }

    def _connect(self):
        if self._ray is not None:
            return self._ray
        ray = _import_ray()
        import rag

        env = {
            "py_modules": [str(Path(rag.__file__).parent)],
            "env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
        }
        if ray.is_initialized():
            joined = ray.get_runtime_context().gcs_address
            if self.address and self.address not in ("auto", joined) and not self.address.startswith("ray://"):
                raise SanadError(
                    f"this process is already connected to the Ray cluster at {joined}, not "
                    f"{self.address}; use one cluster per process"
                )
            logger.info("using the Ray cluster this process is already connected to (%s)", joined)
        elif self.address:
            _check_reachable(self.address)
            host = self.address.removeprefix("ray://").rsplit(":", 1)[0]
            # A cluster on this machine's loopback (tests, one-box setups): Ray would otherwise take the
            # machine's network address as this driver's node address and not find the cluster's raylet.
            local = {"_node_ip_address": host} if host.startswith("127.") and "://" not in self.address else {}
            try:
                ray.init(
                    address=self.address, runtime_env=env, logging_level=logging.WARNING, log_to_driver=False, **local
                )
            except Exception as exc:  # noqa: BLE001 - whatever Ray raises, the user gets one line naming the address
                raise SanadError(
                    f"cannot join the Ray cluster at {self.address}: {exc}. Start one with `ray start "
                    f"--head` (then --ray-address auto) or leave --ray-address out to start a local "
                    f"one; nothing was changed"
                ) from None
            self._joined = True
        else:
            cpus = (self.workers or 1) * max(1, self.local.threads)
            ray.init(
                num_cpus=cpus,
                include_dashboard=False,
                object_store_memory=self.object_store_mb * 2**20,
                runtime_env=env,
                logging_level=logging.WARNING,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )  # a cluster of this process only: stay on loopback
            self._joined = True
        self._ray = ray
        return ray

    def _pool_size(self, ray: Any) -> int:
        if self.workers:
            return self.workers
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return max(1, cpus // max(1, self.local.threads))

    def _run(self, ray: Any, texts: list[str], *, show_progress: bool) -> np.ndarray:
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False  # one bar, the driver's, in passages
        ctx.verbose_stats_logs = False
        n = len(texts)
        # Longest first, as the local engine orders its batches: similar lengths share a batch (less
        # padding) and each Ray batch is the run of model batches a local build would make.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        items = [{"row": int(i), "text": texts[i]} for i in order]
        blocks = max(1, -(-n // self.batch_size))
        ds = ray.data.from_items(items, override_num_blocks=blocks)
        pool = min(self._pool_size(ray), blocks)  # no actor (and model load) without a batch to embed
        ds = ds.map_batches(
            PassageEncoder,
            fn_constructor_kwargs={"settings": self.settings()},
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=max(1, self.local.threads),
        )
        logger.info("embedding %d passages on Ray: %d actors, batches of %d", n, pool, self.batch_size)
        out = np.zeros((n, self.dim), dtype=np.float32)
        seen = np.zeros(n, dtype=bool)
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc=f"Embedding on Ray ({pool} workers)", unit="passage")
        chars = np.array([len(t) for t in texts], dtype=np.float64)
        t0 = time.perf_counter()
        first: tuple[float, float] | None = None  # (seconds, characters) when the first batch came back
        try:
            for batch in _stream(ds, self.stall_timeout_s):
                rows = np.asarray(batch["row"], dtype=np.int64)
                out[rows] = np.asarray(batch["vector"], dtype=np.float32)
                seen[rows] = True
                if first is None:
                    first = (time.perf_counter() - t0, float(chars[rows].sum()))
                if bar is not None:
                    bar.update(len(rows))
                if self.on_progress is not None:
                    self.on_progress(int(seen.sum()), n)
        finally:
            if bar is not None:
                bar.close()
        total_s = time.perf_counter() - t0
        if first is not None:
            # Steady rate: after the first batch, i.e. once the actors hold the model (their start is in
            # first_batch_s). Counted in characters, then turned into passages of the average length: batches go
            # longest first, so the first one holds the longest passages, and counting the rest in passages would
            # overstate the rate (by 6 % on the scale bench's 2,000 news passages, whose
            # longest 240 hold 17 % of the text).
            self.timings["first_batch_s"] = first[0]
            left = float(chars.sum()) - first[1]
            if total_s > first[0] and left > 0:
                per_passage = float(chars.sum()) / n
                self.timings["steady_passages_per_s"] = left / per_passage / (total_s - first[0])
        if not seen.all():
            raise SanadError(
                f"the Ray cluster returned {int(seen.sum())} of {n} passage vectors; the index was not "
                f"changed. Run `sanad index` again"
            )
        return out

    def close(self) -> None:
        """Leave the cluster (and stop it when it was started here)."""
        if self._ray is not None and self._joined:
            self._ray.shutdown()
        self._ray = None
        self._joined = False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_DONE = object()


def _stream(ds: Any, stall_timeout_s: float) -> Iterator[Any]:
    """Batches of ``ds`` as they come back; :class:`SanadError` when none comes for ``stall_timeout_s``."""
    inbox: queue.Queue = queue.Queue(maxsize=8)
    stop = threading.Event()

    def pump() -> None:
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                while not stop.is_set():
                    try:
                        inbox.put(batch, timeout=1.0)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            inbox.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which re-raises it
            inbox.put(exc)

    worker = threading.Thread(target=pump, name="sanad-ray-results", daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = inbox.get(timeout=stall_timeout_s)
            except queue.Empty:
                raise SanadError(
                    f"no embeddings came back from the Ray cluster for {stall_timeout_s:.0f} s (a worker "
                    f"lost and no other to take its batches?); the index was not changed. Check "
                    f"`ray status` and run `sanad index` again"
                ) from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise SanadError(
                    f"embedding on the Ray cluster failed: {_short(item)}; the index was not changed. "
                    f"Run `sanad index` again"
                ) from item
            yield item
    finally:
        stop.set()


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail at once when ``host:port`` (or ``ray://host:port``) does not accept connections.

    ``ray.init`` would otherwise retry a dead GCS address for many minutes. ``auto`` is left to Ray,
    which fails at once when no local cluster runs.
    """
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(
            f"--ray-address {address!r}: give auto, host:port (the head's GCS, port 6379 by "
            f"default) or ray://host:10001"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise SanadError(
            f"cannot join the Ray cluster at {address}: nothing answers there ({exc}). Start one "
            f"with `ray start --head` or leave --ray-address out to start a local one; nothing "
            f"was changed"
        ) from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400] + ("…" if len(text) > 400 else "")
