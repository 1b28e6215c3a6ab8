"""`sanad doctor`: where things are, what is missing, and the command that fixes it (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FakeEmbedder
from rag.cli import main
from rag.config import SanadConfig
from rag.doctor import diagnose, render
from rag.indexer import Indexer


def test_doctor_empty_folders_lists_missing_with_fix(tmp_path: Path) -> None:
    """Guards against a fresh install failing later with no hint: every missing part names its command."""
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "models")
    report = diagnose(config, load=False)
    assert report.where["index"].startswith(str(tmp_path / "index"))
    missing = "\n".join(report.missing)
    assert "no usable index" in missing and "sanad setup" in missing and "sanad index PATH" in missing
    assert "offline embedding model is not built" in missing and "offline language model" in missing
    assert report.packages["numpy"] != "not installed" and report.engine == ""
    text = render(report)
    assert text.startswith("where\n") and "\nmissing\n" in text


def test_doctor_index_present_reports_its_contents(tmp_path: Path, corpus_dir: Path) -> None:
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "models")
    Indexer(config, FakeEmbedder()).index_paths([corpus_dir])
    report = diagnose(config, load=False)
    assert "5 articles" in report.details["index"] and "fake-hash-embedder" in report.details["index"]
    assert not any("no usable index" in m for m in report.missing)


def test_doctor_cli_json_exit_1_and_sources(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Exit 1 when something is missing (a readiness check for scripts); says where each folder came from."""
    clean_env.setenv("SANAD_MODEL_DIR", str(tmp_path / "models"))
    code = main(["doctor", "--json", "--no-load", "--index-dir", str(tmp_path / "i")])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["missing"]
    assert data["where"]["index"].endswith("(--index-dir)") and data["where"]["models"].endswith("(SANAD_MODEL_DIR)")


def test_doctor_points_at_index_left_in_old_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_dir: Path
) -> None:
    """Guards against an upgrade silently losing the user's index: the old ./index is found and named."""
    monkeypatch.chdir(tmp_path)
    Indexer(SanadConfig(index_dir=Path("index"), model_dir=tmp_path / "m"), FakeEmbedder()).index_paths([corpus_dir])
    report = diagnose(SanadConfig(index_dir=tmp_path / "new", model_dir=tmp_path / "m"), load=False)
    assert any("--index-dir index" in m for m in report.missing)
