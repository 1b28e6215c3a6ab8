"""The bad-input matrix (issue #10, defect 7): one clear line, never a traceback.

A hostile test got raw tracebacks from invalid UTF-8 in CURRENT, a bad BM25 params dtype, a
damaged embeddings.npy header, undecodable bytes in a CLI question, ``k=5.5``/``k="3"`` in the
Python API and a full disk during a save. The CLI cases run ``sanad`` as a subprocess and read
its stderr; the API cases expect :class:`InputError` or an index error with a usable message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import FakeEmbedder, write_corpus
from rag.config import SanadConfig
from rag.errors import IndexCorruptError, InputError, SanadError
from rag.index import Manifest, live_version
from rag.indexer import Indexer
from rag.pipeline import Sanad
from tests.fakes import FakeGenerator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    corpus = write_corpus(root / "corpus")
    config = SanadConfig(corpus_dir=corpus, index_dir=root / "index")
    Indexer(config, FakeEmbedder()).index_paths([corpus])
    return config.index_dir


@pytest.fixture
def index_dir(pristine: Path, tmp_path: Path) -> Path:
    shutil.copytree(pristine, tmp_path / "index")
    return tmp_path / "index"


def _rehash(version: Path) -> None:
    """Make the manifest agree with the files as they are (a consistent forgery: only the parsers can object)."""
    import hashlib

    manifest = Manifest.from_dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))
    paths = [p for p in sorted(version.rglob("*")) if p.is_file() and p.name != "manifest.json"]
    files = {p.relative_to(version).as_posix(): p.stat().st_size for p in paths}
    sha = {p.relative_to(version).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    manifest = Manifest(**{**manifest.to_dict(), "files": files, "sha256": sha})
    manifest = Manifest(**{**manifest.to_dict(), "checksum": manifest.compute_checksum()})
    (version / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")


def _sanad(*args: str | bytes, index_dir: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    argv: list[str | bytes] = [sys.executable, "-m", "rag.cli", *args]
    if index_dir is not None:
        argv += ["--index-dir", str(index_dir)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=120, env=env)


def _one_clear_line(run: subprocess.CompletedProcess[bytes], *needles: str, usage: bool = False) -> str:
    """The one line on stderr (``usage``: argparse's usage block may come first, as argparse prints it)."""
    stderr = run.stderr.decode("utf-8", "replace")
    assert run.returncode in (1, 2), (run.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    if usage and lines[0].startswith("usage:"):
        lines = [line for line in lines if line.startswith("sanad")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- CLI: questions --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("ـــــ", "no words"),
        ("\u064b\u064c", "no words"),
        (b"\xff\xfe\xfd \xd9", "not UTF-8"),
    ],
    ids=["empty", "whitespace", "tatweel-only", "diacritics-only", "undecodable-bytes"],
)
def test_cli_search_bad_question_one_line(index_dir: Path, question: str | bytes, needle: str) -> None:
    """Guards against an unusable question reaching the model (or a UnicodeEncodeError traceback)."""
    run = _sanad("search", "--mode", "bm25", question, index_dir=index_dir)
    _one_clear_line(run, needle)
    assert run.returncode == 2


@pytest.mark.parametrize("k", ["5.5", "3x", "-1", "0"])
def test_cli_search_bad_k_one_line(index_dir: Path, k: str) -> None:
    """Guards against a bad -k reaching FAISS."""
    _one_clear_line(_sanad("search", "--mode", "bm25", "-k", k, "الموصل", index_dir=index_dir), "k", usage=True)


# -- CLI: a damaged index ----------------------------------------------------------------------------
def test_cli_invalid_utf8_current_one_line(index_dir: Path) -> None:
    (index_dir / "CURRENT").write_bytes(b"v-\xff\xfe\n")
    _one_clear_line(_sanad("search", "--mode", "bm25", "الموصل", index_dir=index_dir), "CURRENT", "sanad index")
    _one_clear_line(_sanad("list", index_dir=index_dir), "CURRENT", "sanad index")


@pytest.mark.parametrize(("field", "value"), [("dtype", "int8"), ("int_dtype", "float32"), ("dtype", "banana")])
def test_cli_bad_bm25_params_dtype_one_line(index_dir: Path, field: str, value: str) -> None:
    """Guards against a params.index.json naming another dtype failing at query time with a traceback.

    The manifest is rewritten to match, so only the BM25 reader can notice.
    """
    version = live_version(index_dir)
    params_path = version / "bm25" / "params.index.json"
    params = json.loads(params_path.read_text(encoding="utf-8"))
    params[field] = value
    params_path.write_text(json.dumps(params), encoding="utf-8")
    _one_clear_line(
        _sanad("search", "--mode", "bm25", "الموصل", index_dir=index_dir), "params.index.json", "sanad index"
    )
    _rehash(version)
    _one_clear_line(_sanad("search", "--mode", "bm25", "الموصل", index_dir=index_dir), "BM25", "sanad index")


@pytest.mark.parametrize("header", [b"NOTNUMPY", b"\x93NUMPY\x01\x00\xff\xff"], ids=["magic", "header-length"])
def test_cli_damaged_embeddings_header_one_line(index_dir: Path, header: bytes) -> None:
    """Guards against a damaged embeddings.npy header surfacing as a numpy ValueError traceback."""
    version = live_version(index_dir)
    path = version / "embeddings.npy"
    path.write_bytes(header + path.read_bytes()[len(header) :])
    _one_clear_line(_sanad("list", index_dir=index_dir), "embeddings.npy", "sanad index")
    _rehash(version)
    _one_clear_line(_sanad("list", index_dir=index_dir), "embeddings.npy", "sanad index")


def test_cli_embeddings_wrong_dtype_forged_one_line(index_dir: Path) -> None:
    """A header naming float64 with a consistent manifest: refused, never read as other numbers."""
    version = live_version(index_dir)
    vectors = np.load(version / "embeddings.npy")
    np.save(version / "embeddings.npy", vectors.astype(np.float64))
    _rehash(version)
    _one_clear_line(_sanad("list", index_dir=index_dir), "embeddings.npy", "float32")


def test_cli_disk_full_during_save_one_line(index_dir: Path, tmp_path: Path) -> None:
    """Guards against ENOSPC at the CURRENT write surfacing as an OSError traceback."""
    corpus = write_corpus(tmp_path / "more", {"z_extra": "خبر إضافي عن الموصل والانتخابات."})
    script = (
        "import errno, sys, rag.index, rag.embeddings\n"
        "from conftest import FakeEmbedder\n"
        "def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "rag.index._atomic_write_text = full\n"
        "rag.embeddings.Embedder.from_config = classmethod(lambda cls, config: FakeEmbedder())\n"
        "from rag.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    before = (index_dir / "CURRENT").read_text(encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", script, "index", "-q", str(corpus), "--index-dir", str(index_dir)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"},
    )
    _one_clear_line(run, "No space left on device", "previous version is still live")
    assert (index_dir / "CURRENT").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in index_dir.glob("v-*")) == [before.strip()]


# -- Python API ------------------------------------------------------------------------------------
@pytest.fixture
def sanad(index_dir: Path) -> Sanad:
    config = SanadConfig(index_dir=index_dir, translate_queries=False)
    return Sanad(config, embedder=FakeEmbedder(), generator=FakeGenerator("لا أعرف"))


@pytest.mark.parametrize("k", [5.5, "3", True, 0, -2, None.__class__])
def test_api_search_bad_k_raises_input_error(sanad: Sanad, k: object) -> None:
    """Guards against k=5.5 / k="3" surfacing as TypeError from FAISS or slicing."""
    with pytest.raises(InputError, match=r"k=.* must be a positive number"):
        sanad.search("الموصل", k=k)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"k=.* must be a positive number"):
        sanad.ask("الموصل", k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "match"),
    [
        (None, "must be text"),
        (42, "must be text"),
        (b"bytes", "must be text"),
        (["list"], "must be text"),
        ("", "empty"),
        ("  \n ", "empty"),
        ("ـــ", "no words"),
        ("\udcff\udcfe", "not UTF-8"),
    ],
)
def test_api_bad_question_raises_input_error(sanad: Sanad, question: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        sanad.search(question)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=match):
        sanad.ask(question)  # type: ignore[arg-type]


def test_api_numpy_integer_k_accepted(sanad: Sanad) -> None:
    """k from numpy (np.int64) is a whole number and works."""
    assert len(sanad.search("الموصل", k=np.int64(2), mode="bm25")) <= 2


def test_api_invalid_utf8_current_raises_index_error(sanad: Sanad, index_dir: Path) -> None:
    (index_dir / "CURRENT").write_bytes(b"\xff\n")
    with pytest.raises(IndexCorruptError, match=r"CURRENT is damaged .*sanad index"):
        sanad.search("الموصل")


def test_api_errors_are_sanad_errors(sanad: Sanad) -> None:
    """Everything above is catchable as SanadError (one except clause for a caller)."""
    assert issubclass(InputError, SanadError) and issubclass(IndexCorruptError, SanadError)
