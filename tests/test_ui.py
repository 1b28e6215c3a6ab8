"""End-to-end tests of the web UI (app.py) in a real headless Chromium, plus its gradio_client API.

The app runs in-process on a copy of data/articles with the real offline models; Playwright
drives Debian's /usr/bin/chromium. Each step saves a screenshot into tests/artifacts/ui/.
The tests share one page and run in file order (ask → open the citation → …), like a user.

The LLM is a small 1.5B model: the tests assert on structure (an answer with a citation that
resolves to the expected article, the refusal notice, the error notice), not on wording.
LLM questions are few (four) because each takes ~15-25 s on a 2-core CPU.

Run:  .venv/bin/python -m pytest tests/test_ui.py -m browser -v
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid

import pytest
from ui_helpers import (
    ANSWER_TIMEOUT_MS,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DONE_SELECTOR,
    REPO_ROOT,
    TIMING_PROBE,
    UI_TIMEOUT_MS,
    ask,
    free_port,
    missing_requirements,
    model_dir,
    open_tab,
    screenshot,
    start_ask,
    wait_answer,
)

_MISSING = missing_requirements()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason="browser UI tests need: " + "; ".join(_MISSING)),
]

if str(REPO_ROOT) not in sys.path:  # app.py lives at the repository root, outside the rag package
    sys.path.insert(0, str(REPO_ROOT))

COALITION_DOC = "003_62634fc958774adb"  # "... نما هذا الائتلاف من 12 إلى 87 دولة"
# eval s144 (87). Not s046 («... بحسب بلينكن؟»): since the extractive fallback went off, the 1.5B model answers
# that phrasing "3" and the checker refuses it (measured: CI, 2026-12-02) -- the model's luck is the eval's job.
ARABIC_QUESTION = "كم دولة انضمت إلى التحالف الدولي ضد داعش؟"
# 535 million, 003 (the integration test's phrasing: "…did Blinken announce?" is refused under evidence first,
# see the #11 note on English false refusals)
ENGLISH_QUESTION = "How much humanitarian aid did the United States announce for the Syrian people?"
OUT_OF_SCOPE = "ما هي وصفة كعكة الشوكولاتة بالفراولة؟"  # no word of it occurs in the corpus
FESTIVAL_QUESTION = "كم عدد الزوار الذين حضروا مهرجان واحة السراب للتمور؟"
FESTIVAL_VISITORS = "7345"
FESTIVAL_TEXT = (
    "اختتام مهرجان واحة السراب للتمور <i>الدورة السابعة</i>\n"
    "اختتم مهرجان واحة السراب للتمور دورته السابعة مساء الخميس في مدينة النخيل الذهبي، "
    f"وقال رئيس اللجنة المنظمة سالم الراشدي إن {FESTIVAL_VISITORS} زائرا حضروا المهرجان خلال أيامه الخمسة.\n"
    "وشارك في المهرجان 112 مزارعا عرضوا أكثر من 40 صنفا من التمور، وفاز صنف البرحي بجائزة أفضل تمرة.\n"
)

TIMINGS: dict[str, float] = {}  # measured in the browser; also written to tests/artifacts/ui/timings.json


def _save_timings() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps({k: round(v, 3) for k, v in TIMINGS.items()}, indent=1))


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on a copy of the sample corpus, launched in-process on a free port."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import app
    from rag import Sanad, SanadConfig

    root = tmp_path_factory.mktemp("sanad-ui")
    shutil.copytree(REPO_ROOT / "data" / "articles", root / "articles")
    config = SanadConfig(index_dir=root / "index", corpus_dir=root / "articles", model_dir=model_dir())
    sanad = Sanad(config)
    app.ensure_index(sanad)  # builds the index from corpus_dir (Sanad.index): there is none yet
    sanad.load(llm=True)  # as `python app.py` does, so the first question does not pay for loading
    demo = app.build_app(sanad)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "sanad": sanad, "config": config, "root": root}
    finally:
        demo.close()
        close = getattr(sanad.generator, "close", None)
        if close is not None:  # stop the llama.cpp server threads before the interpreter exits
            close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(served["url"])
    pg.wait_for_selector("#sanad-ask")
    try:
        yield pg
    finally:
        context.close()


def _answer_state(page) -> dict:
    return page.eval_on_selector(
        "#sanad-answer-text",
        """e => ({dir: e.getAttribute('dir'), lang: e.lang,
        state: e.dataset.state, text: e.innerText, badges: e.querySelectorAll('a.sanad-cite').length})""",
    )


def _sources(page) -> list[dict]:
    # the latest turn of the conversation (earlier turns keep their own sources above it)
    return page.eval_on_selector_all(
        "#sanad-answer [data-latest] details.sanad-source",
        """els => els.map(e => ({
        id: e.id, doc: e.dataset.docId, open: e.open, title: e.querySelector('.sanad-title').textContent,
        mark: (e.querySelector('mark') || {}).textContent || '', meta: e.querySelector('.sanad-meta').textContent}))""",
    )


# -- the user's path -----------------------------------------------------------------------------------
def test_page_loads(page, served):
    page.wait_for_function(
        "document.querySelector('#sanad-stats') && "
        "document.querySelector('#sanad-stats').innerText.includes('5 articles')"
    )
    assert page.locator("#sanad-mode").is_visible() and page.locator("#sanad-k").is_visible()
    screenshot(page, "01-loaded")


def test_arabic_question_streams_rtl_with_citation(page):
    page.fill("#sanad-question textarea", ARABIC_QUESTION)
    page.evaluate(TIMING_PROBE)
    t0 = time.perf_counter()
    page.click("#sanad-ask")
    page.wait_for_selector(
        "#sanad-answer [data-state='streaming']:not([data-stale]) .sanad-stream", timeout=ANSWER_TIMEOUT_MS
    )
    wall_first = time.perf_counter() - t0
    screenshot(page, "02-arabic-streaming", full_page=False)
    page.wait_for_selector(DONE_SELECTOR, timeout=ANSWER_TIMEOUT_MS)
    timing = page.evaluate("() => window.__sanadTiming")
    state = _answer_state(page)
    screenshot(page, "03-arabic-answer")

    TIMINGS.update(
        arabic_click_to_first_token_s=(timing["first"] - timing["click"]) / 1000,
        arabic_click_to_answer_s=(timing["done"] - timing["click"]) / 1000,
        arabic_first_token_wall_s=wall_first,
    )
    _save_timings()
    print(
        f"\nArabic question: first token on screen {TIMINGS['arabic_click_to_first_token_s']:.2f} s after the "
        f"click, checked answer after {TIMINGS['arabic_click_to_answer_s']:.2f} s"
    )

    assert state["dir"] == "rtl" and state["lang"] == "ar"
    assert state["state"] == "done", f"Sanad refused or failed: {state['text']}"
    assert state["badges"] >= 1, "the answer shows no citation marker"
    assert page.locator("#sanad-passages details.sanad-passage").count() >= 1
    assert page.locator("#sanad-timings tr[data-key='retrieval_s']").count() == 1
    assert page.locator("#sanad-timings tr[data-key='generation_s']").count() == 1


def test_open_citation_shows_highlighted_source(page):
    sources = _sources(page)
    assert sources and not any(s["open"] for s in sources)
    badge = page.locator("#sanad-answer-text a.sanad-cite").first
    n = badge.get_attribute("data-n")
    badge.click()
    page.wait_for_function(f"document.querySelector('#sanad-cite-{n}').open")
    screenshot(page, "04-citation-open")
    opened = {s["id"]: s for s in _sources(page)}[f"sanad-cite-{n}"]
    assert opened["mark"].strip(), "the quoted span is not highlighted"
    assert "score" in opened["meta"] and opened["doc"] in opened["meta"]
    by_doc = {s["doc"]: s for s in _sources(page)}
    assert COALITION_DOC in by_doc, f"no citation resolves to {COALITION_DOC}: {list(by_doc)}"
    assert "87" in by_doc[COALITION_DOC]["mark"]


def test_english_question_is_ltr_while_another_user_searches(page, browser, served):
    start_ask(page, ENGLISH_QUESTION)
    # A second user searches while the model is busy with the first user's question: the queue
    # serialises only the LLM, so the search comes back long before the answer.
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page2 = other.new_page()
        page2.goto(served["url"])
        page2.wait_for_selector("#sanad-search")
        page2.fill("#sanad-question textarea", ARABIC_QUESTION)
        t0 = time.perf_counter()
        page2.click("#sanad-search")
        page2.wait_for_selector("#sanad-passages details.sanad-passage", timeout=ANSWER_TIMEOUT_MS)
        TIMINGS["second_user_search_s"] = time.perf_counter() - t0
        _save_timings()
        first_user_state = page.get_attribute("#sanad-answer-text", "data-state")
        screenshot(page2, "06-second-user-search", full_page=False)
        assert COALITION_DOC in page2.inner_text("#sanad-passages")
    finally:
        other.close()
    assert first_user_state in ("searching", "generating", "streaming"), first_user_state

    wait_answer(page)
    state = _answer_state(page)
    screenshot(page, "05-english-answer")
    assert state["dir"] == "ltr" and state["lang"] == "en"
    assert state["state"] == "done", f"Sanad refused or failed: {state['text']}"
    assert state["badges"] >= 1
    sources = {s["doc"]: s for s in _sources(page)}
    assert COALITION_DOC in sources and "535" in sources[COALITION_DOC]["mark"], sources
    assert page.locator("#sanad-timings tr[data-key='translate_s']").count() == 1


def test_out_of_scope_question_shows_refusal(page):
    page.locator("#sanad-mode").get_by_text("bm25", exact=True).click()  # the mode selector: words only
    ask(page, OUT_OF_SCOPE)
    screenshot(page, "07-refusal")
    assert page.locator("#sanad-answer .sanad-refusal[data-state='refused']").is_visible()
    assert "did not answer" in page.inner_text("#sanad-answer")
    assert page.locator("#sanad-answer [data-latest] a.sanad-cite").count() == 0
    page.locator("#sanad-mode").get_by_text("hybrid", exact=True).click()


def test_empty_question_plain_error(page):
    page.fill("#sanad-question textarea", "   ")
    page.click("#sanad-ask")
    page.wait_for_selector("#sanad-answer .sanad-error")  # the first error of this page: nothing stale
    toast = page.locator("[data-testid='toast-body']").filter(has_text="question is empty")
    toast.first.wait_for()
    screenshot(page, "08-empty-question", full_page=False)
    assert "the question is empty" in page.inner_text("#sanad-answer")
    assert "Traceback" not in page.content()


def test_bad_upload_changes_nothing(page, served, tmp_path):
    corpus = served["config"].corpus_dir
    before_files = sorted(p.name for p in corpus.iterdir())
    before_ids = [a.doc_id for a in served["sanad"].articles()]
    bad = tmp_path / "latin1_article.txt"
    bad.write_bytes("مقال".encode()[:3] + b"\xff\xfe not utf-8")
    open_tab(page, "Articles · المقالات")
    page.set_input_files("#sanad-upload input[type=file]", str(bad))
    page.locator("#sanad-upload").get_by_text(bad.name).wait_for()
    page.click("#sanad-add")
    page.locator("[data-testid='toast-body']").filter(has_text="not UTF-8").first.wait_for()
    screenshot(page, "09-bad-upload", full_page=False)
    assert "Traceback" not in page.content()
    assert sorted(p.name for p in corpus.iterdir()) == before_files
    assert [a.doc_id for a in served["sanad"].articles()] == before_ids
    page.reload()  # start the next step with an empty upload box
    page.wait_for_selector("#sanad-ask")


def test_upload_ask_and_remove(page, served, tmp_path):
    doc_id = f"festival_{uuid.uuid4().hex[:6]}"
    article = tmp_path / f"{doc_id}.txt"
    article.write_text(FESTIVAL_TEXT, encoding="utf-8")
    corpus = served["config"].corpus_dir

    open_tab(page, "Articles · المقالات")
    page.set_input_files("#sanad-upload input[type=file]", str(article))
    page.locator("#sanad-upload").get_by_text(article.name).wait_for()
    page.click("#sanad-add")
    page.locator("#sanad-articles-status").get_by_text("Added").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#sanad-articles").get_by_text(doc_id, exact=True).wait_for()
    screenshot(page, "10-uploaded")
    assert (corpus / article.name).read_text(encoding="utf-8") == FESTIVAL_TEXT
    assert doc_id in [a.doc_id for a in served["sanad"].articles()]
    # The markup in the title is shown as text, never interpreted.
    assert "<i>الدورة السابعة</i>" in page.inner_text("#sanad-articles")

    open_tab(page, "Ask · اسأل")
    ask(page, FESTIVAL_QUESTION)
    state = _answer_state(page)
    screenshot(page, "11-answer-from-upload")
    assert state["state"] == "done", f"Sanad refused or failed: {state['text']}"
    sources = {s["doc"]: s for s in _sources(page)}
    assert doc_id in sources, f"the answer does not cite the uploaded article: {list(sources)}"
    assert "<i>" in sources[doc_id]["title"]  # escaped, shown literally
    assert page.locator(f"#sanad-answer [data-latest] details.sanad-source[data-doc-id='{doc_id}'] mark").count() == 1

    open_tab(page, "Articles · المقالات")
    page.locator("#sanad-remove-id input").click()
    page.locator("#sanad-remove-id input").fill(doc_id)
    page.get_by_role("option", name=doc_id).click()
    page.click("#sanad-remove")
    page.locator("#sanad-articles-status").get_by_text("Removed").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_function(f"!document.querySelector('#sanad-articles').innerText.includes('{doc_id}')")
    screenshot(page, "12-removed")
    assert doc_id not in [a.doc_id for a in served["sanad"].articles()]
    assert not (corpus / article.name).exists()  # moved aside, so a rebuild does not bring it back
    assert any(p.name.startswith(article.name) for p in (corpus / ".removed").iterdir())


# -- programs ------------------------------------------------------------------------------------------
def test_gradio_client_search_and_ask(served):
    gradio_client = pytest.importorskip("gradio_client")
    client = gradio_client.Client(served["url"], verbose=False)

    hits = client.predict(ARABIC_QUESTION, 3, "hybrid", api_name="/search")
    assert isinstance(hits, list) and len(hits) == 3
    assert {"rank", "doc_id", "chunk_id", "title", "score", "text", "start", "end"} <= set(hits[0])
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert COALITION_DOC in {h["doc_id"] for h in hits}

    articles = client.predict(api_name="/list_articles")
    assert {a["doc_id"] for a in articles} >= {COALITION_DOC} and {"title", "passages"} <= set(articles[0])

    answer = client.predict(ARABIC_QUESTION, 5, "hybrid", api_name="/ask")
    assert {"question", "language", "answer", "refused", "citations", "sentences", "passages", "timings"} <= set(answer)
    assert answer["language"] == "ar" and answer["question"] == ARABIC_QUESTION
    assert not answer["refused"] and answer["citations"], answer["answer"]
    # [n] is evidence sentence n (#11): the citation quotes it, and its passage is among those retrieved
    evidence = {e["n"]: e for e in answer["evidence"]}
    passages = {p["chunk_id"] for p in answer["passages"]}
    for c in answer["citations"]:
        assert c["n"] in evidence and evidence[c["n"]]["chunk_id"] == c["chunk_id"] in passages
        assert c["quote"] == evidence[c["n"]]["text"] and c["quote_start"] < c["quote_end"]
    assert COALITION_DOC in {c["doc_id"] for c in answer["citations"]} and "87" in answer["answer"]

    with pytest.raises(Exception, match="question is empty"):
        client.predict("", 5, "hybrid", api_name="/ask")


def test_gradio_client_upload_limits_and_names(served, tmp_path):
    """Uploads from programs: names are sanitised into the corpus folder, size and type are limited."""
    gradio_client = pytest.importorskip("gradio_client")
    from rag.ingest import MAX_FILE_BYTES

    client = gradio_client.Client(served["url"], verbose=False)
    corpus = served["config"].corpus_dir
    before = sorted(p.name for p in corpus.iterdir())

    odd = tmp_path / "..evil name;$(rm -rf x).txt"
    odd.write_text("خبر تجريبي\nافتتحت بلدية المدينة حديقة عامة جديدة مساحتها 12 هكتارا.\n", encoding="utf-8")
    result = client.predict([gradio_client.handle_file(str(odd))], api_name="/add_articles")
    (doc_id,) = result["added"]
    assert doc_id == "evil_name_rm_-rf_x" and (corpus / f"{doc_id}.txt").is_file()
    assert all(p.resolve().parent == corpus.resolve() for p in corpus.iterdir() if p.is_file())
    assert client.predict(doc_id, api_name="/remove_article")["removed"] == [doc_id]

    big = tmp_path / "big.txt"
    big.write_bytes(("خبر " * (MAX_FILE_BYTES // 6)).encode("utf-8"))
    assert big.stat().st_size > MAX_FILE_BYTES
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own AppError/ValueError by version
        client.predict([gradio_client.handle_file(str(big))], api_name="/add_articles")
    with pytest.raises(Exception, match="not in the index"):
        client.predict("no_such_article", api_name="/remove_article")
    assert sorted(p.name for p in corpus.iterdir() if p.name != ".removed") == [n for n in before if n != ".removed"]
