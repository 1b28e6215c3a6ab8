"""`--engine ray`: passage embedding on a real local Ray cluster (a head and a worker node process).

The ordinary Indexer builds the index with a RayEmbedder, so the chunks, the incremental re-use of
unchanged articles and the atomic version swap are the local build's; these tests check that the
vectors are too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import SanadConfig
from rag.errors import SanadError
from rag.index import load_index
from rag.indexer import Indexer
from tests.models import MODEL_DIR

pytestmark = [pytest.mark.scale, pytest.mark.slow]

SEEDS = Path(__file__).resolve().parents[2] / "data" / "articles"


def _config(tmp: Path, name: str) -> SanadConfig:
    return SanadConfig(index_dir=tmp / name, model_dir=MODEL_DIR)


def _corpus(tmp: Path) -> Path:
    folder = tmp / "corpus"
    folder.mkdir(exist_ok=True)
    for f in SEEDS.glob("*.txt"):
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def builds(tmp_path_factory, ray_cluster, e5):
    """The seed corpus indexed locally and through the Ray cluster (2 actors: head + worker node)."""
    from rag.distributed.ray_index import RayEmbedder

    tmp = Path(tmp_path_factory.mktemp("ray-builds"))
    corpus = _corpus(tmp)
    local = Indexer(_config(tmp, "local"), e5).index_paths([corpus])
    ray_embedder = RayEmbedder(e5, address=ray_cluster.address, workers=2, batch_size=16, stall_timeout_s=300)
    try:
        remote = Indexer(_config(tmp, "ray"), ray_embedder).index_paths([corpus])
        yield tmp, corpus, ray_embedder, local, remote
    finally:
        ray_embedder.close()


def test_ray_build_gives_the_local_builds_chunks_and_vectors(builds) -> None:
    tmp, _, _, local, remote = builds
    a, b = load_index(tmp / "local"), load_index(tmp / "ray")
    assert remote.n_chunks == local.n_chunks > 0
    assert [c.chunk_id for c in b.chunks] == [c.chunk_id for c in a.chunks]
    assert b.manifest.embedding_model == a.manifest.embedding_model
    np.testing.assert_allclose(b.embeddings(), a.embeddings(), atol=1e-5)
    assert remote.embedded_chunks == local.n_chunks


def test_ray_build_used_both_nodes(builds, ray_cluster) -> None:
    """Both node processes are alive members of the cluster the build ran on."""
    assert ray_cluster.alive_nodes() == 2


def test_ray_update_embeds_only_changed_articles(builds) -> None:
    tmp, corpus, ray_embedder, _, _ = builds
    before = load_index(tmp / "ray")
    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nوأضاف المتحدث أن الاجتماع المقبل سيعقد في بغداد.\n", encoding="utf-8"
    )
    (corpus / "new_article.txt").write_text(
        "خبر جديد عن الاقتصاد\nارتفعت أسعار النفط في الأسواق العالمية اليوم.\n", encoding="utf-8"
    )
    report = Indexer(_config(tmp, "ray"), ray_embedder).index_paths([corpus])
    after = load_index(tmp / "ray")
    assert report.added == ("new_article",) and report.updated == (changed.stem,)
    fresh = [c for c in after.chunks if c.doc_id in (changed.stem, "new_article")]
    assert report.embedded_chunks == len(fresh)
    old_rows = {c.chunk_id: i for i, c in enumerate(before.chunks)}
    for i, c in enumerate(after.chunks):
        if c.doc_id not in (changed.stem, "new_article"):
            assert np.array_equal(after.embeddings()[i], before.embeddings()[old_rows[c.chunk_id]])


def test_ray_engine_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch, e5) -> None:
    from rag.distributed.ray_index import RayEmbedder

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[scale\]'"):
        RayEmbedder(e5).embed_passages(["نص"])


def test_ray_address_without_a_cluster_raises_clearly(e5, ray_token) -> None:
    import ray

    from rag.distributed.local import NODE_IP, free_port
    from rag.distributed.ray_index import RayEmbedder

    if ray.is_initialized():  # an earlier test's cluster: joining a second one in a process is refused
        ray.shutdown()
    address = f"{NODE_IP}:{free_port()}"
    embedder = RayEmbedder(e5, address=address)
    with pytest.raises(SanadError, match=f"cannot join the Ray cluster at {address}"):
        embedder.embed_passages(["نص"])
