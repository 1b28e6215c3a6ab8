"""Dates, outlets and filters in the web UI: the HTML (unit), the Gradio API (gradio_client) and the page
in a real headless Chromium, with screenshots in tests/artifacts/ui/ (``filters-*.png``).

The app runs over the sample articles (with their manifest: dates and one outlet) and an extra
outlet's copy, with the fake embedder and a fake language model: filters act in retrieval, so no
real model is needed to check them. The browser part is marked ``browser`` and ``slow``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SEED_CORPUS, FakeEmbedder
from rag.answer_types import Answer, Citation
from rag.config import SanadConfig
from rag.pipeline import Sanad
from rag.types import Chunk, Hit
from rag.ui.handlers import Handlers
from rag.ui.render import byline_html, render_answer, render_passages, safe_url
from tests.fakes import FakeGenerator

if str(REPO_ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(REPO_ROOT))

EXTRA = (
    "تقرير: واشنطن وبغداد تبحثان مستقبل التحالف\n"
    "قال مسؤولون عراقيون إن القوات الأمنية العراقية قادرة على مواجهة تنظيم داعش وإن التحالف الدولي "
    "سيواصل تقديم المشورة والتدريب خلال المرحلة المقبلة.\n"
)


def _hit(source: str = "العربي الجديد", published: str = "2023-08-09", url: str = "https://www.alaraby.co.uk/x") -> Hit:
    text = "أعلنت بغداد وواشنطن استمرار التعاون الأمني المشترك."
    return Hit(
        Chunk("002", 0, 0, len(text), text),
        0.9,
        1,
        "بغداد وواشنطن",
        {"bm25": 0.9},
        published=published,
        source=source,
        url=url,
    )


# -- HTML ----------------------------------------------------------------------------------------
def test_passages_show_outlet_date_and_filter_scope() -> None:
    html = render_passages([_hit()], mode="bm25", scope="العربي الجديد; 2023-01-01 to …")
    assert '<bdi>العربي الجديد</bdi> · <bdi dir="ltr">2023-08-09</bdi>' in html  # the date never reads 09-08-2023
    assert 'href="https://www.alaraby.co.uk/x"' in html
    assert "filtered: العربي الجديد; 2023-01-01 to …" in html
    assert 'data-source="العربي الجديد"' in html and 'data-published="2023-08-09"' in html
    assert "within the filters (سبق)" in render_passages([], scope="سبق")


def test_citation_shows_outlet_and_date() -> None:
    hit = _hit()
    citation = Citation(1, "002", hit.chunk_id, hit.title, hit.chunk.text, 0, len(hit.chunk.text), **hit.meta())
    answer = Answer("سؤال؟", "ar", "أعلنت بغداد وواشنطن استمرار التعاون [1].", False, (citation,), (hit,))
    html = render_answer(answer)
    assert '<span class="sanad-cite">1</span> <span class="sanad-byline" dir="auto"><a href="https://www' in html
    assert '<bdi>العربي الجديد</bdi> · <bdi dir="ltr">2023-08-09</bdi></a>' in html


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", 'https://x.y/"onmouseover=alert(1)', "//evil.example", ""]
)
def test_unsafe_article_url_never_linked(url: str) -> None:
    """Guards against an article's URL (untrusted metadata) running script when clicked."""
    assert safe_url(url) == ""
    html = byline_html("سبق", "2015-07-21", url)
    assert "href" not in html and '<bdi>سبق</bdi> · <bdi dir="ltr">2015-07-21</bdi>' in html


def test_byline_escapes_outlet() -> None:
    assert "&lt;script&gt;" in byline_html("<script>alert(1)</script>", "")


# -- handlers and the Gradio API -------------------------------------------------------------------
@pytest.fixture(scope="module")
def sanad(tmp_path_factory: pytest.TempPathFactory) -> Sanad:
    root = tmp_path_factory.mktemp("ui-filters")
    corpus = root / "articles"
    shutil.copytree(SEED_CORPUS, corpus)
    (corpus / "extra.txt").write_text(EXTRA, encoding="utf-8")
    (corpus / "extra.meta.json").write_text(
        '{"source": "وكالة الأنباء العراقية", "date": "2024-05-02"}', encoding="utf-8"
    )
    config = SanadConfig(
        index_dir=root / "index", corpus_dir=corpus, model_dir=root / "models", translate_queries=False
    )
    s = Sanad(config, embedder=FakeEmbedder(), generator=FakeGenerator("لا تتوفر في المصادر معلومات كافية."))
    s.index([corpus])
    return s


def test_handlers_search_api_filters_and_metadata(sanad: Sanad) -> None:
    h = Handlers(sanad)
    hits = h.search("التحالف الدولي داعش القوات العراقية", 10, "bm25", since="2024", sources="")
    assert hits and all(x["published"] >= "2024-01-01" for x in hits)
    hits = h.search("التحالف الدولي داعش", 10, "bm25", sources="العربي الجديد,وكالة الأنباء العراقية")
    assert {x["source"] for x in hits} <= {"العربي الجديد", "وكالة الأنباء العراقية"} and len(hits) >= 2
    rows = h.list_articles()
    assert {"published", "source"} <= set(rows[0]) and any(r["source"] == "العربي الجديد" for r in rows)
    outlets, docs = h.filter_choices()
    assert outlets["choices"] == ["العربي الجديد", "وكالة الأنباء العراقية"] and "extra" in docs["choices"]


def test_handlers_bad_filter_plain_error(sanad: Sanad) -> None:
    import gradio as gr

    with pytest.raises(gr.Error, match="since='2024-13' is not a date"):
        Handlers(sanad).search("التحالف", 5, "bm25", since="2024-13")


@pytest.fixture(scope="module")
def served(sanad: Sanad):
    from ui_helpers import free_port

    import app

    demo = app.build_app(sanad)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.mark.slow
def test_gradio_client_search_and_ask_take_filters(served: str) -> None:
    from gradio_client import Client

    client = Client(served, verbose=False)
    hits = client.predict(
        "التحالف الدولي داعش", 8, "bm25", "2024-01", "", "وكالة الأنباء العراقية", "", api_name="/search"
    )
    assert hits and {h["source"] for h in hits} == {"وكالة الأنباء العراقية"}
    old_style = client.predict("التحالف الدولي داعش", 3, "bm25", api_name="/search")  # filters are optional
    assert len(old_style) == 3 and "source" in old_style[0]
    answer = client.predict("ما مستقبل التحالف؟", 4, "bm25", "", "2021-12-31", "", "", api_name="/ask")
    assert answer["passages"] and all(p["published"] <= "2021-12-31" for p in answer["passages"])


# -- the page in a browser -------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.browser
def test_page_filters_by_outlet_and_date(served: str) -> None:
    from ui_helpers import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, screenshot

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (run scripts/install_browser.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="en-US")
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(served)
        page.wait_for_selector("#sanad-search")
        page.fill("#sanad-question textarea", "التحالف الدولي ضد داعش والقوات العراقية")
        page.click("#sanad-search")
        page.wait_for_selector("#sanad-passages details.sanad-passage")
        unfiltered = page.eval_on_selector_all("#sanad-passages details.sanad-passage", "els => els.length")
        screenshot(page, "filters-01-unfiltered")

        page.click("#sanad-filters-box button")  # open the accordion
        page.click("#sanad-sources input")
        page.click("ul[role='listbox'] li:has-text('العربي الجديد')")
        page.keyboard.press("Escape")
        page.click("#sanad-search")
        page.wait_for_selector("#sanad-passages .sanad-scope")
        rows = page.eval_on_selector_all(
            "#sanad-passages details.sanad-passage", "els => els.map(e => [e.dataset.source, e.dataset.published])"
        )
        assert rows and all(src == "العربي الجديد" for src, _ in rows)
        assert "العربي الجديد · 2023-08-09" in page.inner_text("#sanad-passages")
        screenshot(page, "filters-02-outlet")

        page.click("#sanad-sources input")  # clear the outlet, bound the dates instead
        page.keyboard.press("Backspace")
        page.keyboard.press("Escape")
        page.fill("#sanad-since textarea, #sanad-since input", "2024-04")
        page.fill("#sanad-until textarea, #sanad-until input", "2024-06")
        page.click("#sanad-search")
        page.wait_for_function(
            "() => (document.querySelector('#sanad-passages .sanad-scope') || {}).textContent"
            "?.includes('2024-04-01 to 2024-06-30')"
        )
        rows = page.eval_on_selector_all(
            "#sanad-passages details.sanad-passage", "els => els.map(e => e.dataset.published)"
        )
        assert rows and all("2024-04-01" <= d <= "2024-06-30" for d in rows) and len(rows) <= unfiltered
        screenshot(page, "filters-03-dates")

        page.fill("#sanad-since textarea, #sanad-since input", "2024-13")
        page.click("#sanad-search")
        page.wait_for_selector("text=is not a date")
        screenshot(page, "filters-04-bad-date", full_page=False)

        page.click("button[role='tab']:has-text('Articles')")
        page.wait_for_selector("#sanad-articles")
        assert "العربي الجديد" in page.inner_text("#sanad-articles")
        screenshot(page, "filters-05-articles-with-dates")
        browser.close()


def test_seed_manifest_exists_in_copy() -> None:
    assert (Path(SEED_CORPUS) / "articles.jsonl").is_file()
