"""HTML of the conversation, the conflict notice and the timeline (rag/ui/news_render.py), without a browser."""

from __future__ import annotations

import re

from rag.answer_types import Answer, Citation, Timeline, TimelineEvent
from rag.notices import conflict_notice, with_conflict_notice
from rag.types import Chunk, Hit
from rag.ui.news_render import history_of, render_chat, render_conflicts, render_timeline
from tests.test_notices import IRAQ_2021, IRAQ_2024, NEW, OLD, TROOPS


def _answer(question: str, text: str, doc_id: str, *, rewritten: str = "", conflicts=()) -> Answer:
    chunk = Chunk(doc_id=doc_id, ordinal=0, start=0, end=len(text), text=text, chunk_id=f"{doc_id}#0")
    hit = Hit(chunk=chunk, score=1.0, rank=1, title="<b>title</b>")
    cite = Citation(
        n=1, doc_id=doc_id, chunk_id=chunk.chunk_id, title=hit.title, quote=text, quote_start=0, quote_end=len(text)
    )
    return Answer(
        question=question,
        language="en",
        answer=text + " [1]",
        refused=False,
        citations=(cite,),
        passages=(hit,),
        rewritten=rewritten,
        conflicts=tuple(conflicts),
    )


def test_render_chat_keeps_each_answer_under_its_question_with_its_own_sources() -> None:
    first = _answer("How many US troops are in Iraq?", "About 2500 troops.", IRAQ_2024)
    second = _answer("And in Syria?", "About 900 troops.", IRAQ_2021, rewritten="How many US troops are in Syria?")
    html = render_chat([first, second])
    turns = re.findall(r'<div class="sanad-turn" data-turn="(\d)"( data-latest)?>', html)
    assert turns == [("1", ""), ("2", " data-latest")]
    assert html.count('id="sanad-answer-text"') == 1 and html.count('data-state="done"') == 1
    assert 'id="sanad-cite-t1-1"' in html and 'href="#sanad-cite-t1-1"' in html  # the first turn's own source
    assert 'id="sanad-cite-1"' in html and 'href="#sanad-cite-1"' in html  # the latest keeps the plain id
    assert html.index("How many US troops are in Iraq?") < html.index("About 2500") < html.index("And in Syria?")
    assert "answered as:" in html and "How many US troops are in Syria?" in html
    assert "<b>title</b>" not in html and "&lt;b&gt;title&lt;/b&gt;" in html


def test_render_chat_pending_turn_is_the_latest() -> None:
    first = _answer("How many US troops are in Iraq?", "About 2500 troops.", IRAQ_2024)
    html = render_chat([first], "And in Syria?", state="streaming", text="About", rewritten="How many in Syria?")
    assert 'data-turn-state="done"' in html and 'data-state="streaming"' in html
    assert html.count("data-latest") == 1 and "How many in Syria?" in html
    failed = render_chat([first], error="the question is empty")
    assert "sanad-error" in failed and "data-turn-state" in failed


def test_conflict_notice_is_a_block_not_repeated_in_the_answer_text() -> None:
    base = _answer("How many US troops are in Iraq?", "About 2500 troops.", IRAQ_2024)
    cites = (
        *base.citations,
        Citation(
            n=3, doc_id=IRAQ_2021, chunk_id="x", title="t", quote=OLD.quote, quote_start=OLD.start, quote_end=OLD.end
        ),
    )
    answer = Answer(
        **{
            **base.__dict__,
            "answer": with_conflict_notice(base.answer, [TROOPS], "en"),
            "conflicts": (TROOPS,),
            "citations": cites,
        }
    )
    html = render_chat([answer])
    block = html[html.index('id="sanad-conflict"') :]
    text = html[html.index('id="sanad-answer-text"') : html.index('id="sanad-conflict"')]
    assert "Sources disagree on this figure" not in text.split("sanad-sources")[0]
    assert "2021-12-31" in block and "2024-04-15" in block and "2023-08-09" in block
    assert 'data-n="3"' in block and 'data-n="1"' in block and 'href="#sanad-cite-3"' in block
    assert {NEW.value.removeprefix("ب"), OLD.value} <= set(re.findall(r'<b dir="rtl">([^<]+)</b>', block))
    assert conflict_notice([TROOPS], "en").split(":")[0] in block
    assert render_conflicts(base) == ""


def test_render_timeline_lists_events_oldest_first_with_sources() -> None:
    events = tuple(
        TimelineEvent(
            n=i,
            date=d,
            granularity="day",
            first=d,
            text=f"event <{i}>",
            doc_id=IRAQ_2024,
            start=i,
            end=i + 5,
            title="t",
            published="2024-04-15",
            source="outlet",
            date_text=w,
            from_published=not w,
        )
        for i, (d, w) in enumerate([("2021-12-31", "31 ديسمبر 2021"), ("2024-04-15", "")], 1)
    )
    html = render_timeline(Timeline(topic="Washington & Baghdad", events=events))
    assert html.index("2021-12-31") < html.index("2024-04-15")
    assert "event &lt;1&gt;" in html and "Washington &amp; Baghdad" in html and "«<bdi>31 ديسمبر 2021</bdi>»" in html
    assert "publication date" in html and 'id="sanad-event-2"' in html
    assert "No dated event" in render_timeline(Timeline(topic="x", events=()))


def test_history_of_gives_what_ask_takes() -> None:
    first = _answer("How many US troops are in Iraq?", "About 2500 troops.", IRAQ_2024)
    assert history_of([first]) == [
        {"question": first.question, "answer": first.answer, "rewritten": "", "doc_ids": [IRAQ_2024]}
    ]
