"""Fixtures that start real engines: a Milvus Lite server process and a local Ray cluster of node processes.

Both are torn down by process group when the module's tests end, failed or not. Tests here are
marked ``scale`` and skip when the ``scale`` extra (``pip install -e '.[scale]'``) is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.distributed.local import MilvusLiteServer


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """A ``milvus-lite server`` process on a free loopback port (its own data folder)."""
    pytest.importorskip("pymilvus", reason="needs the scale extra: pip install -e '.[scale]'")
    pytest.importorskip("milvus_lite", reason="needs the scale extra: pip install -e '.[scale]'")
    server = MilvusLiteServer(Path(tmp_path_factory.mktemp("milvus")) / "data")
    with server:
        yield server
