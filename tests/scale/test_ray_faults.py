"""A Ray worker node killed in the middle of an index build: the build retries or fails cleanly, and
the previous index version serves throughout."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from rag.config import SanadConfig
from rag.errors import SanadError
from rag.index import load_index
from rag.indexer import Indexer
from rag.retrieval import Retriever
from tests.models import MODEL_DIR

pytestmark = [pytest.mark.scale, pytest.mark.slow]

SEEDS = Path(__file__).resolve().parents[2] / "data" / "articles"


def test_worker_killed_mid_index_retries_or_fails_cleanly(tmp_path: Path, ray_token, e5) -> None:
    from rag.distributed.local import LocalRayCluster
    from rag.distributed.ray_index import RayEmbedder

    config = SanadConfig(index_dir=tmp_path / "index", model_dir=MODEL_DIR)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    (corpus / seeds[0].name).write_text(seeds[0].read_text(encoding="utf-8"), encoding="utf-8")
    Indexer(config, e5).index_paths([corpus])  # the live version before the Ray build
    previous = load_index(config.index_dir)
    for copy in range(2):  # new articles: ~80 passages, several Ray batches
        for f in seeds:
            (corpus / f"{f.stem}_{copy}.txt").write_text(
                f"نسخة {copy}\n" + f.read_text(encoding="utf-8"), encoding="utf-8"
            )

    served: list[int] = []
    with LocalRayCluster(workers=1, token_path=ray_token) as cluster:

        def on_progress(done: int, total: int) -> None:
            if served:
                return
            cluster.kill_worker(0)  # a lost machine, after the first batch came back
            retriever = Retriever.load(config, e5)  # readers still get the previous version, whole
            served.append(len(retriever.index.chunks))
            assert retriever.search("القوات العراقية", k=3)

        embedder = RayEmbedder(
            e5, address=cluster.address, workers=2, batch_size=16, stall_timeout_s=240, on_progress=on_progress
        )
        outcome: dict[str, object] = {}
        worker = threading.Thread(target=lambda: outcome.update(run=_index(config, embedder, corpus)))
        worker.start()
        worker.join(timeout=900)
        embedder.close()
    assert not worker.is_alive(), "the build neither finished nor failed in time"
    assert served == [len(previous.chunks)]
    result = outcome["run"]
    now = load_index(config.index_dir)
    if isinstance(result, SanadError):  # failed cleanly: the previous version is still the live one
        assert [c.chunk_id for c in now.chunks] == [c.chunk_id for c in previous.chunks]
    else:  # retried on the surviving node: a complete index with the local engine's vectors
        assert not isinstance(result, BaseException), result
        assert now.manifest.n_articles == 1 + 2 * len(seeds)
        sample = [i for i, c in enumerate(now.chunks) if c.doc_id.endswith("_1")][:6]
        expected = e5.embed_passages([now.chunks[i].text for i in sample])
        np.testing.assert_allclose(now.embeddings()[sample], expected, atol=1e-5)


def _index(config: SanadConfig, embedder, corpus: Path):
    try:
        return Indexer(config, embedder).index_paths([corpus])
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        return exc
