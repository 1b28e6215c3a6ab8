"""The corruption matrix (issue #10, defect 6): every way a file of the index can be damaged is refused.

A hostile test found 15 of 53 damaged indexes loading silently, four of them changing article
text, offsets or results, because only file sizes were checked. Each index file is now
truncated, bit-flipped at several offsets (same size), zero-filled (same size) and deleted; each
.npy gets a header naming another dtype; CURRENT gets invalid UTF-8; the manifest bad JSON. Every
case must fail the load with one line that names the file and the command that fixes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import FakeEmbedder, write_corpus
from rag.config import SanadConfig
from rag.errors import IndexError_
from rag.index import live_version, load_index, verify_index
from rag.indexer import Indexer

ROOT = Path(__file__).resolve().parents[2]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(fraction: float) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = min(len(data) - 1, int(len(data) * fraction))
        data[at] ^= 0x01  # one bit: the size stays, and ASCII stays ASCII
        path.write_bytes(bytes(data))

    return damage


def _zero_fill(path: Path) -> None:
    path.write_bytes(b"\0" * path.stat().st_size)


def _delete(path: Path) -> None:
    path.unlink()


def _other_dtype(path: Path) -> None:
    """The .npy header names another dtype of the same width in characters ('<f4' -> '<i4', '<i4' -> '<f4')."""
    data = path.read_bytes()
    for old, new in ((b"'<f4'", b"'<i4'"), (b"'<i4'", b"'<f4'"), (b"'<i8'", b"'<f8'"), (b"'<u4'", b"'<i4'")):
        if old in data[:128]:
            path.write_bytes(data.replace(old, new, 1))
            return
    raise AssertionError(f"no known dtype in the header of {path}")


def _invalid_utf8(path: Path) -> None:
    path.write_bytes(b"\xff\xfe" + path.read_bytes()[2:])


def _bad_json(path: Path) -> None:
    path.write_text('{"dim": 64, "files": ', encoding="utf-8")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncate": _truncate,
    "flip-start": _flip(0.0),
    "flip-third": _flip(1 / 3),
    "flip-middle": _flip(0.5),
    "flip-end": _flip(1.0),
    "zero-fill": _zero_fill,
    "delete": _delete,
}

INDEX_FILES = (
    "CURRENT",
    "manifest.json",
    "articles.json",
    "chunks.jsonl",
    "embeddings.npy",
    "vectors.faiss",
    "bm25/params.index.json",
    "bm25/vocab.index.json",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
)
NPY_FILES = tuple(f for f in INDEX_FILES if f.endswith(".npy"))

CASES = (
    [(f, d) for f in INDEX_FILES for d in DAMAGE]
    + [(f, "other-dtype") for f in NPY_FILES]
    + [("CURRENT", "invalid-utf8"), ("manifest.json", "bad-json")]
)
EXTRA = {"other-dtype": _other_dtype, "invalid-utf8": _invalid_utf8, "bad-json": _bad_json}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the tiny corpus (fake embedder), copied for each case."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = write_corpus(root / "corpus")
    config = SanadConfig(corpus_dir=corpus, index_dir=root / "index")  # default settings: the CLI reads it too
    Indexer(config, FakeEmbedder()).index_paths([corpus])
    return config.index_dir


def _damaged_copy(pristine: Path, tmp_path: Path, rel: str, damage: str) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    target = index_dir / rel if rel == "CURRENT" else live_version(index_dir) / rel
    assert target.is_file(), f"the index has no {rel}: the matrix is out of date"
    (DAMAGE.get(damage) or EXTRA[damage])(target)
    return index_dir


def test_corruption_matrix_has_at_least_53_cases() -> None:
    """The issue's matrix had 53 cases; this one must not be smaller."""
    assert len(CASES) >= 53, len(CASES)


@pytest.mark.parametrize(("rel", "damage"), CASES, ids=[f"{f}:{d}" for f, d in CASES])
def test_load_index_damaged_file_refused_naming_file_and_fix(
    pristine: Path, tmp_path: Path, rel: str, damage: str
) -> None:
    """Guards against a damaged index loading silently (15/53 did) or failing with a traceback."""
    index_dir = _damaged_copy(pristine, tmp_path, rel, damage)
    with pytest.raises(IndexError_) as caught:
        data = load_index(index_dir)
        data.embeddings()  # the lazily read part too
    message = str(caught.value)
    assert "\n" not in message, message
    assert Path(rel).name in message, f"{rel} not named in: {message}"
    assert "sanad index" in message, f"no fix in: {message}"
    with pytest.raises(IndexError_):
        verify_index(index_dir)


@pytest.mark.parametrize(
    ("rel", "damage"),
    [("embeddings.npy", "flip-middle"), ("CURRENT", "invalid-utf8"), ("bm25/params.index.json", "zero-fill")],
)
def test_cli_verify_damaged_index_one_line_no_traceback(pristine: Path, tmp_path: Path, rel: str, damage: str) -> None:
    """Guards against `sanad verify` and `sanad search` printing a traceback for a damaged index."""
    index_dir = _damaged_copy(pristine, tmp_path, rel, damage)
    for command in (["verify"], ["search", "--mode", "bm25", "الموصل"]):
        run = subprocess.run(
            [sys.executable, "-m", "rag.cli", *command, "--index-dir", str(index_dir)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert run.returncode == 1, run
        assert "Traceback" not in run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and Path(rel).name in lines[0] and "sanad index" in lines[0], run.stderr


def test_cli_verify_intact_index_passes(pristine: Path) -> None:
    """`sanad verify` on an intact index: exit 0 and a line saying the checksums were checked."""
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "verify", "--index-dir", str(pristine)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "intact" in run.stdout and "sha256 checked" in run.stdout


def test_verify_on_load_off_sizes_checked_and_sanad_verify_reads_the_rest(pristine: Path, tmp_path: Path) -> None:
    """``verify_on_load=False`` (very large indexes) still refuses size damage; `sanad verify` finds the rest."""
    index_dir = _damaged_copy(pristine, tmp_path, "vectors.faiss", "flip-middle")
    load_index(index_dir, verify=False)  # same-size damage: only the checksums can see it
    with pytest.raises(IndexError_, match=r"vectors\.faiss is damaged"):
        verify_index(index_dir)
    _truncate(live_version(index_dir) / "chunks.jsonl")
    with pytest.raises(IndexError_, match=r"chunks\.jsonl is missing or has the wrong size"):
        load_index(index_dir, verify=False)


def test_update_over_damaged_embeddings_refused_never_copied(pristine: Path, tmp_path: Path) -> None:
    """Guards against a damaged embeddings.npy being copied into the next version (the old vectors are reused)."""
    index_dir = _damaged_copy(pristine, tmp_path, "embeddings.npy", "flip-middle")
    damaged = live_version(index_dir).name
    corpus = write_corpus(tmp_path / "corpus")
    config = SanadConfig(corpus_dir=corpus, index_dir=index_dir)
    embedder = FakeEmbedder()
    with pytest.raises(IndexError_, match=r"embeddings\.npy is damaged.*--rebuild"):
        Indexer(config, embedder).index_paths([corpus])
    assert live_version(index_dir).name == damaged  # nothing written on top of it
    Indexer(config, embedder).index_paths([corpus], rebuild=True)
    data = load_index(index_dir)
    np.testing.assert_allclose(data.embeddings(), embedder._encode([c.text for c in data.chunks]), atol=1e-6)
