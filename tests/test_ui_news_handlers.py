"""The conversation and timeline handlers of the web UI over a real index, a fake embedder and a fake LLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import SanadConfig
from rag.indexer import Indexer
from rag.pipeline import Sanad
from tests.conftest import FakeEmbedder
from tests.fakes import FakeGenerator

gr = pytest.importorskip("gradio")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def handlers(tmp_path):
    from rag.ui.handlers import Handlers

    config = SanadConfig(
        index_dir=tmp_path / "index",
        model_dir=tmp_path / "models",
        corpus_dir=ROOT / "data" / "articles",
        mode="bm25",
        rewrite="rules",  # the rewrite shown while the answer streams is the rules'
    )
    embedder = FakeEmbedder()
    Indexer(config, embedder).index_paths([ROOT / "data" / "articles"])
    return Handlers(Sanad(config, embedder=embedder, generator=FakeGenerator("لا تتوفر في المصادر معلومات عن ذلك.")))


def _last(gen):
    out = list(gen)
    return out, out[-1]


def test_chat_ui_second_turn_uses_history_and_shows_rewrite(handlers) -> None:
    _, first = _last(handlers.chat_ui("كم عدد الجنود الأمريكيين في العراق؟", "bm25", 4, turns=[]))
    turns = first[4]
    assert len(turns) == 1 and turns[0].question == "كم عدد الجنود الأمريكيين في العراق؟"
    steps, second = _last(handlers.chat_ui("وفي سوريا؟", "bm25", 4, turns=turns))
    assert "كم عدد الجنود الأمريكيين في سوريا؟" in steps[0][0]  # shown while the answer is on its way
    turns = second[4]
    assert [t.question for t in turns] == ["كم عدد الجنود الأمريكيين في العراق؟", "وفي سوريا؟"]
    assert turns[1].rewritten == "كم عدد الجنود الأمريكيين في سوريا؟"
    html = second[0]
    assert html.count('class="sanad-turn"') == 2 and "answered as:" in html
    assert second[3]["rewritten"] == turns[1].rewritten


def test_chat_ui_error_keeps_the_conversation(handlers) -> None:
    _, first = _last(handlers.chat_ui("كم عدد الجنود الأمريكيين في العراق؟", "bm25", 4, turns=[]))
    _, failed = _last(handlers.chat_ui("   ", "bm25", 4, turns=first[4]))
    assert "sanad-error" in failed[0] and "كم عدد الجنود الأمريكيين في العراق؟" in failed[0]
    assert failed[4] == gr.skip()  # the history is left as it was
    assert handlers.new_chat()[4] == []


def test_timeline_handlers_list_dated_events(handlers) -> None:
    data = handlers.timeline("ماذا جرى بين واشنطن وبغداد في 2024؟")
    assert data["events"] and all(e["first"].startswith("2024") for e in data["events"])
    html = handlers.timeline_ui("ماذا جرى بين واشنطن وبغداد في 2024؟")
    assert 'id="sanad-timeline-events"' in html and html.count('class="sanad-event"') == len(data["events"])
    with pytest.raises(gr.Error, match="empty"):
        handlers.timeline("  ")


def test_ask_api_takes_history(handlers) -> None:
    out = handlers.ask(
        "وفي سوريا؟",
        4,
        "bm25",
        history=[{"question": "كم عدد الجنود الأمريكيين في العراق؟", "answer": "حوالي 2500 [1]."}],
    )
    assert out["question"] == "وفي سوريا؟" and out["rewritten"] == "كم عدد الجنود الأمريكيين في سوريا؟"
