"""The conversation, the conflict notice and the timeline of the web UI, in a real headless Chromium (issue #14).

Same setup as tests/test_ui.py (its fixtures: the app in-process on a copy of data/articles with the real
offline models, Debian's /usr/bin/chromium driven by Playwright). The steps share one page and run in
file order, like a user: a question whose sources disagree, a follow-up in the same conversation, the
timeline tab, then the API. Screenshots go to docs/screenshots/ (chat.png, conflict.png, timeline.png),
which the README shows.

LLM-heavy (three answers, each an English question: translation + answer): run it under the lock,
``flock /tmp/sanad-llm.lock .venv/bin/python -m pytest tests/test_ui_news.py -m browser -v``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui import browser, page, served  # noqa: F401 - the shared fixtures (app, browser, page)
from ui_helpers import REPO_ROOT, UI_TIMEOUT_MS, ask, missing_requirements, open_tab

_MISSING = missing_requirements()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason="browser UI tests need: " + "; ".join(_MISSING)),
]

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
# About 2,500 (2024) vs at most 2,000 (the 2021 arrangement). Under evidence first (#11) the 1.5B model refuses
# the terser "How many US troops are in Iraq?" from the Arabic evidence (the English false refusals the
# issue's note reports); this phrasing it answers.
CONFLICT_QUESTION = "How many American soldiers does the United States keep in Iraq?"
HISTORY_QUESTION = "How many US troops are in Iraq?"
FOLLOW_UP = "Why are they there?"  # → "Why are US troops in Iraq?" (rules; the model words it its own way)
IRAQ_2024 = "001_dc5b0399aa33f440"
IRAQ_2021 = "002_b12590bbfa883fb9"
TIMELINE_TOPIC = "ماذا جرى بين واشنطن وبغداد في 2024؟"
TIMELINE_TAB = "Timeline · التسلسل الزمني"


def _shot(target, name: str) -> Path:
    """Save docs/screenshots/<name>.png of a page or a locator."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


def test_conflicting_reports_get_a_notice_with_both_values_dates_and_citations(page):  # noqa: F811
    ask(page, CONFLICT_QUESTION)
    latest = page.locator("#sanad-answer .sanad-turn[data-latest]")
    state = latest.locator("[data-state]").first.get_attribute("data-state")
    assert state == "done", f"Sanad did not answer: {latest.inner_text()}"
    notice = page.locator("#sanad-conflict")
    notice.wait_for()
    _shot(latest, "conflict")
    sides = page.eval_on_selector_all(
        "#sanad-conflict li.sanad-conflict-side",
        "els => els.map(e => ({n: e.dataset.n, doc: e.dataset.docId, date: e.dataset.date, text: e.innerText}))",
    )
    by_doc = {s["doc"]: s for s in sides}
    assert {IRAQ_2024, IRAQ_2021} <= set(by_doc), sides
    assert by_doc[IRAQ_2024]["date"] == "2024-04-15" and "2500" in by_doc[IRAQ_2024]["text"]
    assert by_doc[IRAQ_2021]["date"] == "2021-12-31" and "ألفي" in by_doc[IRAQ_2021]["text"]
    sentence = notice.locator(".sanad-conflict-text").inner_text()
    assert "2,500" in sentence and "2,000" in sentence and "2021-12-31" in sentence and "2024-04-15" in sentence
    for side in (by_doc[IRAQ_2024], by_doc[IRAQ_2021]):  # each citation opens the source it names
        source = latest.locator(f"details.sanad-source#sanad-cite-{side['n']}")
        assert source.get_attribute("data-doc-id") == side["doc"]
    notice.locator(f"a.sanad-cite[data-n='{by_doc[IRAQ_2021]['n']}']").first.click()  # sentence and list both cite it
    page.wait_for_function(f"document.querySelector('#sanad-cite-{by_doc[IRAQ_2021]['n']}').open")


def test_follow_up_is_answered_with_the_conversation(page):  # noqa: F811
    ask(page, FOLLOW_UP)
    turns = page.locator("#sanad-answer .sanad-turn")
    assert turns.count() == 2
    first, latest = turns.nth(0), turns.nth(1)
    assert CONFLICT_QUESTION in first.locator(".sanad-question").inner_text()
    assert FOLLOW_UP in latest.locator(".sanad-question").inner_text()
    rewritten = latest.locator(".sanad-rewritten").inner_text()
    assert "Iraq" in rewritten and FOLLOW_UP not in rewritten, rewritten  # the model's (or the rules') rewrite
    # the first answer stays on screen with its own sources and its conflict notice
    assert first.locator("details.sanad-source").count() >= 2 and first.locator(".sanad-conflict").count() == 1
    badge = first.locator("a.sanad-cite").first
    target = badge.get_attribute("href")
    assert target.startswith("#sanad-cite-t1-"), target
    badge.click()
    page.wait_for_function(f"document.querySelector('{target}').open")
    state = latest.locator("[data-state]").first.get_attribute("data-state")
    assert state in ("done", "refused")
    _shot(page, "chat")
    page.click("#sanad-new-chat")
    page.wait_for_function("document.querySelectorAll('#sanad-answer .sanad-turn').length === 0")


def test_timeline_tab_lists_dated_events_in_order(page):  # noqa: F811
    open_tab(page, TIMELINE_TAB)
    page.locator("#sanad-timeline-topic textarea, #sanad-timeline-topic input").first.fill(TIMELINE_TOPIC)
    page.click("#sanad-timeline-go")
    page.wait_for_selector("#sanad-timeline-events li.sanad-event", timeout=UI_TIMEOUT_MS)
    events = page.eval_on_selector_all(
        "#sanad-timeline-events li.sanad-event",
        "els => els.map(e => ({first: e.dataset.first, doc: e.dataset.docId, text: e.innerText}))",
    )
    _shot(page, "timeline")
    firsts = [e["first"] for e in events]
    assert len(events) >= 3 and firsts == sorted(firsts) and all(f.startswith("2024") for f in firsts), firsts
    assert all(e["doc"] and e["doc"] in e["text"] for e in events)  # each event names its source article
    open_tab(page, "Ask · اسأل")


def test_gradio_client_timeline_and_ask_with_history(served):  # noqa: F811
    gradio_client = pytest.importorskip("gradio_client")
    client = gradio_client.Client(served["url"], verbose=False)
    timeline = client.predict(TIMELINE_TOPIC, "", "", api_name="/timeline")
    assert timeline["events"] and all(e["first"].startswith("2024") for e in timeline["events"])
    history = [{"question": HISTORY_QUESTION, "answer": "About 2,500 [1]."}]
    answer = client.predict("And how many in Syria?", 5, "hybrid", "", "", "", "", history, api_name="/ask")
    assert answer["question"] == "And how many in Syria?"
    assert "Syria" in answer["rewritten"] and "troops" in answer["rewritten"], answer["rewritten"]
