"""Fixtures that start real engines: a Milvus Lite server process and a local Ray cluster of node processes.

Both are torn down by process group when the module's tests end, failed or not. Tests here are
marked ``scale`` and skip when the ``scale`` extra (``pip install -e '.[scale]'``) is missing.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from rag.distributed.local import MilvusLiteServer


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session", autouse=True)
def _sigterm_tears_down():
    """`timeout` and CI stop a run with SIGTERM, which would skip fixture teardown and leave the Ray nodes and
    Milvus servers below running: turn it into an interrupt, which pytest unwinds through the finalizers."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """A ``milvus-lite server`` process on a free loopback port (its own data folder)."""
    pytest.importorskip("pymilvus", reason="needs the scale extra: pip install -e '.[scale]'")
    pytest.importorskip("milvus_lite", reason="needs the scale extra: pip install -e '.[scale]'")
    server = MilvusLiteServer(Path(tmp_path_factory.mktemp("milvus")) / "data")
    with server:
        yield server


@pytest.fixture(scope="session")
def ray_token(tmp_path_factory: pytest.TempPathFactory):
    """One Ray authentication token for every cluster of the session, exported to this (driver) process.

    Set before ``ray`` is first imported: Ray reads its authentication settings at import.
    """
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        pytest.skip("needs the scale extra: pip install -e '.[scale]'")
    from rag.distributed.local import LocalRayCluster, ensure_token

    token = ensure_token(Path(tmp_path_factory.mktemp("ray-auth")) / "auth_token")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in LocalRayCluster(token_path=token).driver_env.items():
            mp.setenv(name, value)
        yield token


@pytest.fixture(scope="module")
def ray_cluster(ray_token):
    """A head node (1 CPU) and one worker node (1 CPU): separate `ray start` process groups."""
    from rag.distributed.local import LocalRayCluster

    with LocalRayCluster(workers=1, token_path=ray_token) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def e5():
    """The real offline e5 embedder (OpenVINO engine), loaded once."""
    from rag.config import SanadConfig
    from rag.embeddings import Embedder
    from tests.models import E5_READY, MODEL_DIR

    if not E5_READY:
        pytest.skip(f"offline e5 not built in {MODEL_DIR}; run `sanad setup`")
    embedder = Embedder.from_config(SanadConfig(model_dir=MODEL_DIR))
    embedder.load()
    return embedder
