"""The page: where each component sits and which handler each event calls; nothing else.

Why apart: the layout is read as a picture of the page, so it holds no logic — what an event does is
a method of :class:`rag.ui.handlers.Handlers`, and what a panel looks like is in :mod:`rag.ui.render`.
One function builds each tab (:func:`_ask_tab`, :func:`_timeline_tab`, :func:`_articles_tab`) and returns its
components; one wires each tab's events (:func:`_wire_ask`, :func:`_wire_timeline`, :func:`_wire_articles`). A new panel or tab adds a
builder and a wiring function here.

Element ids (``sanad-*``) are what the browser tests and the CSS hold on to; ``api_name`` values are
the ``gradio_client`` endpoints (``/search``, ``/ask``, ``/timeline``, ``/list_articles``, ``/add_articles``,
``/remove_article``). Concurrency ids let the ask queue's questions in (Sanad answers them one at a time) and index
writes to one
at a time, while searches run four at once beside them.

One module just past the house's ~400 lines on purpose: it is the one picture of the page, so every tab's
components and wiring are read side by side here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.access import WriteGuard
from rag.config import SanadConfig
from rag.ingest import MAX_FILE_BYTES, SUPPORTED_SUFFIXES
from rag.pipeline import Sanad
from rag.types import RETRIEVAL_MODES
from rag.ui.assets import CITE_JS, CSS
from rag.ui.handlers import MAX_K, Handlers
from rag.ui.news_render import render_chat, render_timeline
from rag.ui.render import render_timings
from rag.ui.uploads import ARTICLE_HEADERS

EXAMPLES = [
    ["كم عدد الدول الأعضاء في التحالف الدولي لهزيمة داعش؟"],
    ["ما قيمة المساعدات الإنسانية التي أعلنتها الولايات المتحدة للشعب السوري؟"],
    ["How much humanitarian aid for the Syrian people did Blinken announce?"],
]


class SanadBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch`` defaults to Sanad's upload limit, styles and queue settings."""

    def launch(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("max_file_size", MAX_FILE_BYTES)
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("show_error", True)  # only ever our plain-words gr.Error messages reach it
        kwargs.setdefault("footer_links", ["api"])
        return super().launch(*args, **kwargs)


@dataclass(frozen=True)
class AskTab:
    """The components of the Ask tab that events read or write."""

    question: gr.Textbox
    ask_btn: gr.Button
    search_btn: gr.Button
    mode: gr.Radio
    k: gr.Slider
    since: gr.Textbox
    until: gr.Textbox
    sources: gr.Dropdown
    doc_ids: gr.Dropdown
    answer_html: gr.HTML
    passages_html: gr.HTML
    timings_html: gr.HTML
    answer_json: gr.JSON
    turns: gr.State
    new_btn: gr.Button


@dataclass(frozen=True)
class TimelineTab:
    """The components of the Timeline tab."""

    topic: gr.Textbox
    since: gr.Textbox
    until: gr.Textbox
    go_btn: gr.Button
    events_html: gr.HTML


@dataclass(frozen=True)
class ArticlesTab:
    """The components of the Articles tab that events read or write (and the hidden API buttons)."""

    upload: gr.File
    replace: gr.Checkbox
    token: gr.Textbox
    add_btn: gr.Button
    refresh_btn: gr.Button
    status: gr.HTML
    table: gr.Dataframe
    remove_id: gr.Dropdown
    remove_btn: gr.Button
    api_add_btn: gr.Button
    api_remove_btn: gr.Button
    api_result: gr.JSON


def build_app(sanad: Sanad, *, login: bool = False) -> gr.Blocks:
    """The Gradio app over ``sanad`` (nothing global: every handler is a method of one Handlers(sanad)).

    ``login``: the app is launched behind Gradio's login (``auth=``), so writes are attributed to users.
    """
    handlers = Handlers(sanad, WriteGuard.from_config(sanad.config, login=login))
    with SanadBlocks(title="Sanad · سند", analytics_enabled=False) as demo:
        header = gr.HTML(handlers.stats_html(), elem_id="sanad-header", css_template=CSS, js_on_load=None)
        with gr.Tabs():
            ask = _ask_tab(sanad.config)
            timeline = _timeline_tab(sanad.config)
            articles = _articles_tab(show_token=bool(sanad.config.write_token))
        _wire_ask(handlers, ask)
        _wire_timeline(handlers, timeline)
        _wire_articles(handlers, articles, header, demo)
        _wire_filters(handlers, ask, articles, demo)
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


# -- the tabs ---------------------------------------------------------------------------------------
def _ask_tab(config: SanadConfig) -> AskTab:
    """Question, mode and k; then the answer, the passages, the timings and the answer's JSON."""
    with gr.Tab("Ask · اسأل", id="ask"):
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                label="Question (Arabic or English)",
                lines=2,
                max_lines=6,
                scale=5,
                placeholder="كم عدد الدول الأعضاء في التحالف الدولي لهزيمة داعش؟  ·  "
                "How many countries are in the coalition?",
                max_length=config.max_question_chars,
                elem_id="sanad-question",
            )
            with gr.Column(scale=1, min_width=140):
                ask_btn = gr.Button("Ask", variant="primary", elem_id="sanad-ask")
                search_btn = gr.Button("Search only", elem_id="sanad-search")
                new_btn = gr.Button("New conversation", size="sm", elem_id="sanad-new-chat")
        with gr.Row():
            mode = gr.Radio(
                list(RETRIEVAL_MODES),
                value=config.mode,
                label="Retrieval mode",
                info="dense: meaning · bm25: words · hybrid: both",
                elem_id="sanad-mode",
            )
            k = gr.Slider(
                1,
                MAX_K,
                value=min(config.top_k, MAX_K),
                step=1,
                label="Passages to retrieve",
                info=f"the model reads the best {config.answer_passages}",
                elem_id="sanad-k",
            )
        with gr.Accordion("Filters: outlet, date, article", open=False, elem_id="sanad-filters-box"), gr.Row():
            sources = gr.Dropdown(
                choices=[], multiselect=True, label="Outlets", info="any of these", elem_id="sanad-sources", scale=2
            )
            since = gr.Textbox(
                label="Published from",
                placeholder="YYYY-MM-DD, YYYY-MM or YYYY",
                max_length=40,
                elem_id="sanad-since",
                scale=1,
            )
            until = gr.Textbox(
                label="Published until",
                placeholder="YYYY-MM-DD, YYYY-MM or YYYY",
                max_length=40,
                elem_id="sanad-until",
                scale=1,
            )
            doc_ids = gr.Dropdown(
                choices=[], multiselect=True, label="Articles", info="only these", elem_id="sanad-docs", scale=2
            )
        # The conversation: every turn stays under its question with its own sources (rag.ui.news_render).
        turns = gr.State([])
        answer_html = gr.HTML(render_chat([]), elem_id="sanad-answer", css_template=CSS, js_on_load=CITE_JS)
        with gr.Accordion("Retrieved passages", open=True, elem_id="sanad-passages-box"):
            passages_html = gr.HTML("", elem_id="sanad-passages-panel", css_template=CSS, js_on_load=None)
        with gr.Accordion("Timings", open=True, elem_id="sanad-timings-box"):
            timings_html = gr.HTML(render_timings({}), elem_id="sanad-timings-panel", css_template=CSS, js_on_load=None)
        with gr.Accordion("Answer as JSON", open=False):
            answer_json = gr.JSON(label="Answer.to_dict()", elem_id="sanad-answer-json")
        gr.Examples(EXAMPLES, inputs=[question], label="Examples")
    return AskTab(
        question,
        ask_btn,
        search_btn,
        mode,
        k,
        since,
        until,
        sources,
        doc_ids,
        answer_html,
        passages_html,
        timings_html,
        answer_json,
        turns,
        new_btn,
    )


def _timeline_tab(config: SanadConfig) -> TimelineTab:
    """A topic (and optional bounds); the dated events the articles report, oldest first, each cited."""
    with gr.Tab("Timeline · التسلسل الزمني", id="timeline"):
        with gr.Row(equal_height=True):
            topic = gr.Textbox(
                label="Topic",
                lines=1,
                max_lines=3,
                scale=5,
                max_length=config.max_question_chars,
                placeholder="ماذا جرى بين واشنطن وبغداد في 2024؟  ·  "
                "What happened between Washington and Baghdad in 2024?",
                elem_id="sanad-timeline-topic",
            )
            since = gr.Textbox(
                label="From", placeholder="YYYY-MM-DD", max_length=40, scale=1, elem_id="sanad-timeline-since"
            )
            until = gr.Textbox(
                label="Until", placeholder="YYYY-MM-DD", max_length=40, scale=1, elem_id="sanad-timeline-until"
            )
            go_btn = gr.Button("Build timeline", variant="primary", scale=1, elem_id="sanad-timeline-go")
        events_html = gr.HTML(render_timeline(None), elem_id="sanad-timeline", css_template=CSS, js_on_load=None)
        gr.Examples(
            [["ماذا جرى بين واشنطن وبغداد في 2024؟"], ["التحالف الدولي ضد داعش"]], inputs=[topic], label="Examples"
        )
    return TimelineTab(topic, since, until, go_btn, events_html)


def _articles_tab(*, show_token: bool = False) -> ArticlesTab:
    """Upload and add, the table of indexed articles, removal by id; hidden buttons for the API."""
    with gr.Tab("Articles · المقالات", id="articles"):
        gr.Markdown(
            f"Add news articles as `.txt`, `.md`, `.html`, `.pdf` or `.docx` files (text in UTF-8; up to "
            f"{MAX_FILE_BYTES // 1_000_000} MB each). They are saved into the corpus folder and "
            f"indexed right away; if anything fails, nothing changes."
        )
        with gr.Row():
            upload = gr.File(
                label="Articles to add",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                elem_id="sanad-upload",
                scale=3,
            )
            with gr.Column(scale=1, min_width=160):
                replace = gr.Checkbox(
                    False,
                    label="Replace existing articles",
                    elem_id="sanad-replace",
                    info="an upload named like an indexed article replaces it only when ticked",
                )
                token = gr.Textbox(
                    "",
                    type="password",
                    label="Write token",
                    visible=show_token,
                    max_length=200,
                    elem_id="sanad-token",
                    info="this server needs it to add or remove articles",
                )
                add_btn = gr.Button("Add to index", variant="primary", elem_id="sanad-add")
                refresh_btn = gr.Button("Refresh list", elem_id="sanad-refresh")
        status = gr.HTML("", elem_id="sanad-articles-status", css_template=CSS, js_on_load=None, min_height=40)
        table = gr.Dataframe(
            headers=ARTICLE_HEADERS,
            datatype=["str", "str", "str", "str", "number", "number", "str"],
            interactive=False,
            wrap=True,
            label="Indexed articles",
            elem_id="sanad-articles",
            column_widths=["18%", "36%", "10%", "12%", "7%", "8%", "9%"],
        )
        with gr.Row():
            remove_id = gr.Dropdown(
                choices=[], label="Article to remove", allow_custom_value=True, elem_id="sanad-remove-id", scale=3
            )
            remove_btn = gr.Button("Remove from index", variant="stop", elem_id="sanad-remove", scale=1)
        # Endpoints for programs (gradio_client): same inputs, JSON results, errors raised.
        api_add_btn = gr.Button(visible=False)
        api_remove_btn = gr.Button(visible=False)
        api_result = gr.JSON(visible=False, label="result")
    return ArticlesTab(
        upload,
        replace,
        token,
        add_btn,
        refresh_btn,
        status,
        table,
        remove_id,
        remove_btn,
        api_add_btn,
        api_remove_btn,
        api_result,
    )


# -- the events -------------------------------------------------------------------------------------
def _wire_ask(h: Handlers, tab: AskTab) -> None:
    """Ask (button or Enter) streams an answer; Search only lists passages; ``/search`` and ``/ask``."""
    inputs = [tab.question, tab.mode, tab.k, tab.since, tab.until, tab.sources, tab.doc_ids]
    # Questions reach Sanad's own bounded queue (rag/askqueue.py), which answers "busy" at once past it.
    llm = h.config.ask_queue + 2  # answering + waiting + one more, which is told "busy" at once
    ask_outputs = [tab.answer_html, tab.passages_html, tab.timings_html, tab.answer_json, tab.turns]
    tab.ask_btn.click(
        fn=h.chat_ui,
        inputs=[*inputs, tab.turns],
        outputs=ask_outputs,
        api_name="ask_stream",
        api_visibility="undocumented",
        concurrency_id="sanad-llm",
        concurrency_limit=llm,
    )
    tab.question.submit(
        fn=h.chat_ui,
        inputs=[*inputs, tab.turns],
        outputs=ask_outputs,
        api_visibility="private",
        concurrency_id="sanad-llm",
        concurrency_limit=llm,
    )
    tab.new_btn.click(h.new_chat, None, ask_outputs, api_visibility="private")
    tab.search_btn.click(
        h.search_ui,
        inputs,
        [tab.answer_html, tab.passages_html, tab.timings_html],
        api_visibility="private",
        concurrency_id="sanad-search",
        concurrency_limit=4,
    )
    gr.api(h.search, api_name="search", concurrency_id="sanad-search", concurrency_limit=4)
    gr.api(h.ask, api_name="ask", concurrency_id="sanad-llm", concurrency_limit=llm)


def _wire_timeline(h: Handlers, tab: TimelineTab) -> None:
    """Build timeline (button or Enter) lists the topic's events; ``/timeline`` returns them as JSON."""
    inputs = [tab.topic, tab.since, tab.until]
    tab.go_btn.click(
        h.timeline_ui,
        inputs,
        [tab.events_html],
        api_visibility="private",
        concurrency_id="sanad-search",
        concurrency_limit=4,
    )
    tab.topic.submit(
        h.timeline_ui,
        inputs,
        [tab.events_html],
        api_visibility="private",
        concurrency_id="sanad-search",
        concurrency_limit=4,
    )
    gr.api(h.timeline, api_name="timeline", concurrency_id="sanad-search", concurrency_limit=4)


def _wire_filters(h: Handlers, ask: AskTab, articles: ArticlesTab, demo: gr.Blocks) -> None:
    """The filter controls offer the index's outlets and articles: filled on load and whenever the
    articles table changes (after an upload, a removal or a refresh)."""
    choices = [ask.sources, ask.doc_ids]
    demo.load(h.filter_choices, None, choices, api_visibility="private")
    articles.table.change(h.filter_choices, None, choices, api_visibility="private")


def _wire_articles(h: Handlers, tab: ArticlesTab, header: gr.HTML, demo: gr.Blocks) -> None:
    """Add, remove and refresh (each refreshes the header too); ``/list_articles``, ``/add_articles``,
    ``/remove_article``; the table is filled when the page loads."""
    listing = [header, tab.table, tab.remove_id]
    refresh = h.refresh  # one object for both events: gradio's default concurrency id is id(fn), one queue
    gr.api(h.list_articles, api_name="list_articles", concurrency_limit=None)
    tab.add_btn.click(
        h.add_ui,
        [tab.upload, tab.replace, tab.token],
        [tab.status, tab.table, tab.remove_id, header, tab.upload],
        api_visibility="private",
        concurrency_id="sanad-index-write",
        concurrency_limit=1,
        show_progress_on=[tab.status],
    )
    tab.remove_btn.click(
        h.remove_ui,
        [tab.remove_id, tab.token],
        [tab.status, tab.table, tab.remove_id, header],
        api_visibility="private",
        concurrency_id="sanad-index-write",
        concurrency_limit=1,
        show_progress_on=[tab.status],
    )
    tab.api_add_btn.click(
        h.add_articles,
        [tab.upload, tab.replace],
        [tab.api_result],
        api_name="add_articles",
        concurrency_id="sanad-index-write",
        concurrency_limit=1,
    )
    tab.api_remove_btn.click(
        h.remove_article,
        [tab.remove_id],
        [tab.api_result],
        api_name="remove_article",
        concurrency_id="sanad-index-write",
        concurrency_limit=1,
    )
    tab.refresh_btn.click(refresh, None, listing, api_visibility="private")
    demo.load(refresh, None, listing, api_visibility="private")
