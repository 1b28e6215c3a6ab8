"""The news suites' data files and runners (rag/evaluation/news_data.py, news_suites.py, eval/validate_news.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import SanadConfig
from rag.evaluation.news_data import load_conflicts, load_followups, load_timeline
from rag.evaluation.thresholds import load_thresholds
from rag.indexer import Indexer
from rag.pipeline import Sanad
from tests.conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_files_validate():
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "eval" / "validate_news.py"),
            "eval/followups.jsonl",
            "eval/conflicts.jsonl",
            "eval/timeline.jsonl",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_validator_names_a_quote_not_in_the_article(tmp_path):
    bad = tmp_path / "conflicts.jsonl"
    lines = (ROOT / "eval" / "conflicts.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    rec["sides"][0]["evidence"] = "جملة لا توجد في المقال"
    bad.write_text("\n".join([json.dumps(rec, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "eval" / "validate_news.py"),
            str(bad),
            "--corpus",
            str(ROOT / "data" / "articles"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and "not found verbatim" in out.stdout


def test_loaders_read_the_shipped_files():
    followups, conflicts, timeline = load_followups(), load_conflicts(), load_timeline()
    assert len(followups) >= 30 and {f.lang for f in followups} == {"ar", "en"}
    assert any(len(f.turns) == 2 for f in followups) and any(not f.qa.answerable for f in followups)
    assert sum(c.conflict for c in conflicts) >= 10 and sum(not c.conflict for c in conflicts) >= 10
    assert len(timeline.events) >= 30 and len(timeline.topics) >= 4 and len(timeline.published) == 5


def test_thresholds_name_metrics_the_suites_report():
    thresholds = load_thresholds()
    prefixes = {
        "followups": ("rewrite.", "retrieval.", "answers."),
        "conflicts": ("gold.", "retrieved.", "answers."),
        "timeline": ("extraction.", "topics."),
    }
    for suite, allowed in prefixes.items():
        names = [k for k in thresholds[suite] if not k.startswith("_")]
        assert names and all(n.startswith(allowed) for n in names), suite


@pytest.fixture
def fake_sanad(tmp_path) -> Sanad:
    config = SanadConfig(
        index_dir=tmp_path / "index", model_dir=tmp_path / "models", corpus_dir=ROOT / "data" / "articles"
    )
    embedder = FakeEmbedder()
    Indexer(config, embedder).index_paths([ROOT / "data" / "articles"])
    return Sanad(config, embedder=embedder)


@pytest.mark.parametrize("suite", ["followups", "conflicts", "timeline"])
def test_run_news_eval_writes_a_report(fake_sanad, tmp_path, suite):
    """The whole suite on the seed corpus with a hashed bag-of-words embedder: no model, no LLM."""
    from rag.evaluation.news_suites import run_news_eval

    report = run_news_eval(fake_sanad, suite, out_dir=tmp_path / "reports", thresholds={"x.never.measured": 0.5})
    assert (tmp_path / "reports" / f"{suite}-latest.json").is_file()
    markdown = (tmp_path / "reports" / f"{suite}-latest.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# sanad eval --suite {suite}")
    metrics = report["metrics"]
    assert report["check"]["skipped"] and not report["check"]["failures"]
    assert all(v is None or isinstance(v, (int, float)) for v in metrics.values())
    if suite == "followups":
        assert metrics["rewrite.rules.all.entity_recall"] > 0.5
    if suite == "conflicts":
        assert metrics["gold.conflict.all.complete"] == 1.0 and metrics["gold.agree.all.false_flag"] <= 0.1
    if suite == "timeline":
        assert metrics["extraction.recall"] > 0.9 and metrics["extraction.precision"] > 0.9


def test_run_news_eval_rejects_bad_options(fake_sanad, tmp_path):
    from rag.errors import InputError
    from rag.evaluation.news_suites import run_news_eval

    with pytest.raises(InputError, match="rewrite"):
        run_news_eval(fake_sanad, "followups", rewrite="llm", write=False)
    with pytest.raises(InputError, match="unknown news suite"):
        run_news_eval(fake_sanad, "seeds", write=False)
