"""Real distributed services on one machine, for tests and the bench: a Ray cluster and a Milvus server.

:class:`LocalRayCluster` runs ``ray start --head`` and ``ray start --address=...`` for each worker
node as separate processes (the head, the worker nodes and everything they spawn: GCS, raylets,
workers), each in its own process group so that :meth:`~LocalRayCluster.stop` ends exactly
those processes (never ``ray stop``, which would end every Ray process on the machine).
:class:`MilvusLiteServer` runs ``milvus-lite server`` as its own process on a free loopback
port. Both are context managers, bounded in start time, and stop on exit even after a failure.

Example:
    >>> with LocalRayCluster(workers=1) as cluster:                     # doctest: +SKIP
    ...     RayEmbedder(embedder, address=cluster.address)
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.errors import SanadError

logger = logging.getLogger(__name__)


#: The nodes' address. Ray rewrites 127.0.0.1 into the machine's network address; another loopback
#: address keeps every connection of the cluster on this machine's loopback interface.
NODE_IP = "127.0.0.2"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_token(path: Path) -> Path:
    """``path``, holding a random Ray authentication token (created, private to this user, when missing)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path


def _bin(name: str) -> str:
    """The console script ``name`` of this interpreter's environment."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise SanadError(f"`{name}` is not installed in this environment: pip install -e '.[scale]'")
    return found


def _end_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM the process group that ``proc`` leads, then SIGKILL what is left after ``grace_s``."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        proc.poll()
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


class LocalRayCluster:
    """A Ray head node and ``workers`` worker nodes, each a separate ``ray start --block`` process group.

    Args:
        workers: worker nodes besides the head.
        head_cpus: CPUs the head offers to tasks and actors (0: it only coordinates).
        worker_cpus: CPUs each worker node offers.
        object_store_mb: object store per node.
        start_timeout_s: how long the nodes may take to register before :class:`SanadError`.
        token_path: the cluster's authentication token file (Ray's token auth: the GCS listens on every
            interface); created with a fresh token when missing. A driver joins with :attr:`driver_env` set.
    """

    def __init__(
        self,
        workers: int = 1,
        *,
        head_cpus: int = 1,
        worker_cpus: int = 1,
        object_store_mb: int = 256,
        start_timeout_s: float = 120.0,
        token_path: Path | None = None,
    ) -> None:
        self.n_workers = workers
        self.head_cpus = head_cpus
        self.worker_cpus = worker_cpus
        self.object_store_mb = object_store_mb
        self.start_timeout_s = start_timeout_s
        self.token_path = token_path
        self.port = 0
        self.head: subprocess.Popen | None = None
        self.nodes: list[subprocess.Popen] = []
        self._tmp: Path | None = None

    @property
    def address(self) -> str:
        return f"{NODE_IP}:{self.port}"

    @property
    def driver_env(self) -> dict[str, str]:
        """Environment a driver process needs to join (Ray reads it at ``ray.init``)."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self.token_path), "RAY_USAGE_STATS_ENABLED": "0"}

    def _start_node(self, args: list[str], log_name: str) -> subprocess.Popen:
        assert self._tmp is not None
        env = {**os.environ, **self.driver_env, "HF_HUB_OFFLINE": "1"}
        log = open(self._tmp / log_name, "wb")  # noqa: SIM115 - kept open for the node's life
        # Ports Ray would otherwise take from fixed defaults: two clusters on one machine must not clash.
        ports = [f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}"]
        return subprocess.Popen(
            [
                _bin("ray"),
                "start",
                "--block",
                "--disable-usage-stats",
                f"--object-store-memory={self.object_store_mb * 2**20}",
                *ports,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    def start(self) -> LocalRayCluster:
        self._tmp = Path(tempfile.mkdtemp(prefix="sanad-ray-", dir="/tmp"))
        self.token_path = ensure_token(self.token_path or self._tmp / "auth_token")
        self.port = free_port()
        self.head = self._start_node(
            [
                "--head",
                f"--node-ip-address={NODE_IP}",
                f"--port={self.port}",
                f"--num-cpus={self.head_cpus}",
                "--include-dashboard=false",
                f"--ray-client-server-port={free_port()}",
                f"--temp-dir={self._tmp}",
            ],
            "head.log",
        )
        try:
            self._wait_for_nodes(1)
            for i in range(self.n_workers):  # one at a time: a raylet that starts on a busy machine may time out
                for attempt in (1, 2):
                    self.nodes.append(self.add_worker(i))
                    try:
                        self._wait_for_nodes(2 + i)
                        break
                    except SanadError:
                        failed = self.nodes.pop()
                        _end_group(failed)
                        if attempt == 2:
                            raise
                        logger.warning("Ray worker node %d failed to start; starting it again", i)
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(self, i: int) -> subprocess.Popen:
        """Start worker node ``i`` (joins the head); returns its process."""
        return self._start_node(
            [f"--address={self.address}", f"--node-ip-address={NODE_IP}", f"--num-cpus={self.worker_cpus}"],
            f"worker-{i}.log",
        )

    def alive_nodes(self) -> int:
        """Nodes the head's GCS reports alive (asked through the ``ray`` CLI, not by joining)."""
        out = subprocess.run(
            [_bin("ray"), "status", f"--address={self.address}"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
        )
        if out.returncode != 0:
            return 0
        lines = out.stdout.splitlines()
        try:
            start = next(i for i, line in enumerate(lines) if line.strip().startswith("Active:"))
        except StopIteration:
            return 0
        count = 0
        for line in lines[start + 1 :]:
            if not line.strip() or line.strip().endswith(":"):
                break
            count += 1
        return count

    def _wait_for_nodes(self, n: int) -> None:
        """Wait until ``n`` node processes print that their Ray runtime started (they register with the GCS first)."""
        assert self._tmp is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            logs = [self._tmp / "head.log", *(self._tmp / f"worker-{i}.log" for i in range(len(self.nodes)))]
            for proc, log in zip((self.head, *self.nodes), logs, strict=True):
                if proc is not None and proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
                    raise SanadError(f"a Ray node exited while starting (status {proc.returncode}): {tail}")
            started = sum(1 for p in logs if p.exists() and b"Ray runtime started" in p.read_bytes())
            if started >= n:
                return
            time.sleep(0.5)
        raise SanadError(
            f"the local Ray cluster did not reach {n} nodes in {self.start_timeout_s:.0f} s; see {self._tmp}"
        )

    def kill_worker(self, i: int = 0) -> None:
        """Kill worker node ``i`` and everything it runs at once (SIGKILL to its process group): a lost machine."""
        proc = self.nodes[i]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def stop(self) -> None:
        """End every process of the cluster (worker nodes first), then remove its temp folder."""
        for proc in reversed(self.nodes):
            _end_group(proc)
        if self.head is not None:
            _end_group(self.head)
        self.nodes, self.head = [], None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LocalRayCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MilvusLiteServer:
    """``milvus-lite server`` as a separate process on a free 127.0.0.1 port, data in ``data_dir``.

    Args:
        data_dir: the Milvus Lite data folder (kept after :meth:`stop`, so a restart finds the collections).
        start_timeout_s: how long the server may take to accept connections.
    """

    def __init__(self, data_dir: Path, *, start_timeout_s: float = 60.0, port: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.start_timeout_s = start_timeout_s
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MilvusLiteServer:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log = open(self.data_dir.parent / f"{self.data_dir.name}.server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                _bin("milvus-lite"),
                "server",
                "--data-dir",
                str(self.data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SanadError(f"milvus-lite server exited at start (status {self.proc.returncode}); see {log.name}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.2)
        self.stop()
        raise SanadError(f"milvus-lite server did not listen on port {self.port} within {self.start_timeout_s:.0f} s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): an outage, not a shutdown."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            _end_group(self.proc)
            self.proc = None

    def __enter__(self) -> MilvusLiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
