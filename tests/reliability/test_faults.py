"""Faults during a write (issue #10, defect 8): a full disk and a kill -9 never cost the live version.

A hostile test filled the disk at the ``CURRENT`` write: the new version folder stayed behind as an
orphan, and the next save kept it as "previous" while deleting the real previous version. A
``.tmp-v-*`` folder lingered after a kill. Disk full is simulated (``OSError(ENOSPC)`` from the
write), the kill is real (``SIGKILL`` to a build running in a subprocess).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import FakeEmbedder, write_corpus
from rag.config import SanadConfig
from rag.errors import IndexWriteError
from rag.index import live_version, load_index
from rag.index_files import clean_leftovers
from rag.indexer import Indexer
from rag.pipeline import Sanad

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> SanadConfig:
    return SanadConfig(corpus_dir=write_corpus(tmp_path / "corpus"), index_dir=tmp_path / "index")


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "target",
    [
        "rag.index._atomic_write_text",
        "rag.index.np.save",
        "rag.index._write_json",
        "rag.index._fsync_tree",
        "rag.index.os.replace",
    ],
)
def test_disk_full_during_save_previous_live_and_no_leftovers(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards against a failed save leaving an orphan version or a temp folder, or losing the live one."""
    config = _config(tmp_path)
    indexer = Indexer(config, FakeEmbedder())
    indexer.index_paths([config.corpus_dir])
    live = live_version(config.index_dir).name
    write_corpus(config.corpus_dir, {"z_new": "خبر جديد عن الموصل."})
    monkeypatch.setattr(target, _enospc)
    with pytest.raises(IndexWriteError, match=r"No space left on device.*previous version is still live"):
        indexer.index_paths([config.corpus_dir])
    monkeypatch.undo()
    assert live_version(config.index_dir).name == live
    assert sorted(p.name for p in config.index_dir.iterdir() if p.name.startswith(("v-", ".tmp", ".CURRENT"))) == [live]
    assert "z_new" not in load_index(config.index_dir).articles


def test_disk_full_twice_then_success_keeps_the_real_previous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported sequence: A live, a save fails at CURRENT, the next save succeeds -> A is the fallback."""
    config = _config(tmp_path)
    indexer = Indexer(config, FakeEmbedder())
    indexer.index_paths([config.corpus_dir])
    first = live_version(config.index_dir).name
    write_corpus(config.corpus_dir, {"z_new": "خبر جديد عن الموصل."})
    monkeypatch.setattr("rag.index._atomic_write_text", _enospc)
    for _ in range(2):
        with pytest.raises(IndexWriteError):
            indexer.index_paths([config.corpus_dir])
    monkeypatch.undo()
    time.sleep(0.01)
    indexer.index_paths([config.corpus_dir])
    second = live_version(config.index_dir).name
    assert sorted(p.name for p in config.index_dir.glob("v-*")) == sorted([first, second])


def test_leftovers_of_older_code_cleaned_at_next_start(tmp_path: Path) -> None:
    """An orphan newer than CURRENT (the old bug's state) and a .tmp-v-* folder go; live and previous stay."""
    config = _config(tmp_path)
    indexer = Indexer(config, FakeEmbedder())
    indexer.index_paths([config.corpus_dir])
    previous = live_version(config.index_dir).name
    time.sleep(0.01)
    write_corpus(config.corpus_dir, {"z_new": "خبر جديد عن الموصل."})
    indexer.index_paths([config.corpus_dir])
    live = live_version(config.index_dir).name
    time.sleep(0.01)
    orphan = config.index_dir / "v-29991231T235959-orphan"
    shutil.copytree(config.index_dir / live, orphan)
    os.utime(orphan / "manifest.json")  # written after the live version, never made live
    (config.index_dir / ".tmp-v-20240101T000000-killed").mkdir()
    (config.index_dir / ".CURRENT.abc123").write_text("v-x\n", encoding="utf-8")

    sanad = Sanad(config, embedder=FakeEmbedder())
    assert sanad.search("القوات العراقية", mode="bm25")  # the first load cleans up (no build is running)
    assert sorted(
        p.name for p in config.index_dir.iterdir() if p.name.startswith(("v-", ".tmp", ".CURRENT"))
    ) == sorted([previous, live])
    assert clean_leftovers(config.index_dir) == []


_BUILD = """
import sys, time
from pathlib import Path
sys.path[:0] = [{root!r}, {tests!r}]
import rag.index
from conftest import FakeEmbedder
from rag.config import SanadConfig
from rag.indexer import Indexer

stage = {stage!r}
original = getattr(rag.index, stage)
def slow(*args, **kwargs):
    out = original(*args, **kwargs)
    Path({marker!r}).write_text("in " + stage)
    time.sleep(60)  # killed here
    return out
setattr(rag.index, stage, slow)
config = SanadConfig(corpus_dir=Path({corpus!r}), index_dir=Path({index!r}))
Indexer(config, FakeEmbedder()).index_paths([config.corpus_dir])
"""


@pytest.mark.parametrize("stage", ["_write_json", "_fsync_tree"])
def test_kill_9_during_build_previous_live_leftovers_cleaned(tmp_path: Path, stage: str) -> None:
    """Guards against a kill -9 mid-build changing what searches see or leaving .tmp-v-* forever."""
    config = _config(tmp_path)
    embedder = FakeEmbedder()
    Indexer(config, embedder).index_paths([config.corpus_dir])
    live = live_version(config.index_dir).name
    before = load_index(config.index_dir)
    write_corpus(config.corpus_dir, {"z_new": "خبر جديد عن الموصل."})
    marker = tmp_path / "marker"
    script = _BUILD.format(
        root=str(ROOT),
        tests=str(ROOT / "tests"),
        stage=stage,
        marker=str(marker),
        corpus=str(config.corpus_dir),
        index=str(config.index_dir),
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never reached the stage"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(config.index_dir.glob(".tmp-v-*")), "the kill should have left the half-built folder"
    assert live_version(config.index_dir).name == live
    after = load_index(config.index_dir)
    assert after.chunks == before.chunks
    np.testing.assert_array_equal(after.embeddings(), before.embeddings())

    report = Indexer(config, embedder).index_paths([config.corpus_dir])  # the next build cleans up
    assert report.added == ("z_new",)
    assert not list(config.index_dir.glob(".tmp-v-*"))
    assert sorted(p.name for p in config.index_dir.glob("v-*")) == sorted([live, live_version(config.index_dir).name])
