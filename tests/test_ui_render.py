"""Unit tests of the web UI's HTML (rag/ui/render.py): escaping, direction, badges, highlighted quotes.

The HTML is parsed with the standard library's parser, so the assertions are about the elements a
browser would build (which tags, which attributes), not about substrings. No gradio, no model.
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser

from fakes import ARTICLES, make_hit

from rag.answer_types import Answer, Citation, SentenceCheck
from rag.ui.render import (
    direction,
    esc,
    highlighted,
    render_answer,
    render_error,
    render_header,
    render_passages,
    render_placeholder,
    render_progress,
    render_status,
    render_timings,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> & \'q\''


class _Elements(HTMLParser):
    """Every start tag as (tag, attrs dict), in document order, and the text of each ``<mark>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.marks: list[str] = []
        self.text: list[str] = []
        self._in_mark = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_mark:
            self.marks[-1] += data


def parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def by_class(doc: _Elements, tag: str, cls: str) -> list[dict[str, str | None]]:
    return [a for t, a in doc.elements if t == tag and cls in (a.get("class") or "").split()]


def _answer(
    text: str,
    *,
    cited: tuple[int, ...] = (1,),
    refused: bool = False,
    language: str = "ar",
    quote: str = "138 مليون دولار",
    unsupported: tuple[str, ...] = (),
    title: str = "",
) -> Answer:
    hits = (make_hit("aid", 1), make_hit("economy", 2))
    citations = []
    for n in cited:
        hit = hits[n - 1]
        start = hit.chunk.start + hit.chunk.text.index(quote)
        citations.append(
            Citation(
                n=n,
                doc_id=hit.doc_id,
                chunk_id=hit.chunk_id,
                title=title or hit.title,
                quote=quote,
                quote_start=start,
                quote_end=start + len(quote),
            )
        )
    sentences = tuple(SentenceCheck(text=s, cited=(), supported=False, reason="") for s in unsupported)
    return Answer(
        question="سؤال",
        language=language,
        answer=text,
        refused=refused,  # type: ignore[arg-type]
        citations=tuple(citations),
        passages=hits,
        sentences=sentences,
        refusal_reason="no passage supports it" if refused else "",
    )


# -- escaping and direction ----------------------------------------------------------------------------
def test_esc_hostile_text_escapes_every_markup_character() -> None:
    assert esc(HOSTILE) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)"
        "&quot;&gt; &amp; &#x27;q&#x27;"
    )
    assert esc(42) == "42"


def test_direction_arabic_rtl_latin_ltr() -> None:
    assert direction("كم عدد الدول في التحالف؟") == "rtl"
    assert direction("How many countries are in the coalition?") == "ltr"
    assert direction("ما هو OPEC في الاقتصاد العالمي؟") == "rtl"  # mostly Arabic, one Latin word
    assert direction("") == "ltr" and direction("2025 - 87") == "ltr"


def test_highlighted_marks_the_span_and_escapes_around_it() -> None:
    text = "<b>قال</b> إن 87 دولة"
    start = text.index("87")
    doc = parse(highlighted(text, start, start + 2))
    assert doc.marks == ["87"]
    assert [t for t, _ in doc.elements] == ["mark"]  # the <b> of the text stayed text
    assert "".join(doc.text) == text


def test_highlighted_empty_or_out_of_range_span_clamps() -> None:
    assert highlighted("<x>", 2, 2) == "&lt;x&gt;"  # empty span: nothing marked
    assert highlighted("abc", 5, 1) == "abc"  # reversed: nothing marked
    assert parse(highlighted("abc", -4, 99)).marks == ["abc"]  # clamped to the whole text


# -- the answer panel --------------------------------------------------------------------------------
def test_render_answer_cited_marker_links_its_source_uncited_is_plain() -> None:
    doc = parse(render_answer(_answer("أعلنت الولايات المتحدة 138 مليون دولار [1] وربما أكثر [2].")))
    links = by_class(doc, "a", "sanad-cite")
    assert [(a["href"], a["data-n"], a["role"]) for a in links] == [("#sanad-cite-1", "1", "button")]
    assert len(by_class(doc, "span", "sanad-cite")) == 2  # [2] unlinked, and the [1] in the source's summary
    (panel,) = [a for t, a in doc.elements if a.get("id") == "sanad-answer-text"]
    assert (panel["dir"], panel["lang"], panel["data-state"]) == ("rtl", "ar", "done")
    (source,) = by_class(doc, "details", "sanad-source")
    assert (source["id"], source["data-doc-id"]) == ("sanad-cite-1", "aid")
    assert doc.marks == ["138 مليون دولار"]


def test_render_answer_english_is_ltr() -> None:
    doc = parse(render_answer(_answer("The US announced 138 million dollars [1].", language="en")))
    (panel,) = [a for t, a in doc.elements if a.get("id") == "sanad-answer-text"]
    assert (panel["dir"], panel["lang"]) == ("ltr", "en")


def test_render_answer_hostile_answer_and_title_stay_text() -> None:
    doc = parse(render_answer(_answer(f"{HOSTILE} [1]", title=HOSTILE)))
    tags = {t for t, _ in doc.elements}
    assert "script" not in tags and "img" not in tags
    assert HOSTILE in "".join(doc.text)  # shown to the reader as written
    (title,) = by_class(doc, "span", "sanad-title")
    assert title["dir"] == "ltr"  # the Latin-only hostile title


def test_render_answer_quote_offsets_wrong_falls_back_to_finding_the_quote() -> None:
    answer = _answer("نص [1]")
    bad = answer.citations[0]
    moved = Citation(
        n=1,
        doc_id=bad.doc_id,
        chunk_id=bad.chunk_id,
        title=bad.title,
        quote=bad.quote,
        quote_start=bad.quote_start + 3,
        quote_end=bad.quote_end + 3,
    )
    doc = parse(
        render_answer(
            Answer(
                question="q",
                language="ar",
                answer=answer.answer,
                refused=False,
                citations=(moved,),
                passages=answer.passages,
            )
        )
    )
    assert doc.marks == [bad.quote]


def test_render_answer_refusal_has_no_links_and_its_own_state() -> None:
    doc = parse(render_answer(_answer("لا تدعم المصادر إجابة [1].", cited=(), refused=True)))
    assert by_class(doc, "a", "sanad-cite") == []
    (panel,) = by_class(doc, "div", "sanad-refusal")
    assert panel["data-state"] == "refused" and panel["id"] == "sanad-answer-text"
    assert "reason: no passage supports it" in "".join(doc.text)


def test_render_answer_unsupported_sentences_listed_with_direction() -> None:
    doc = parse(render_answer(_answer("138 مليون دولار [1].", unsupported=("Paris is in Spain.", "الشمس باردة."))))
    assert by_class(doc, "div", "sanad-unsupported")
    items = [a["dir"] for t, a in doc.elements if t == "li"]
    assert items == ["ltr", "rtl"]
    assert "not supported by the passages" in "".join(doc.text)


def test_render_progress_streaming_badges_unlinked_and_direction_from_question() -> None:
    doc = parse(render_progress("How much aid?", "streaming", "138 million [1] <b>x</b>", status=HOSTILE))
    (panel,) = [a for t, a in doc.elements if a.get("id") == "sanad-answer-text"]
    assert (panel["dir"], panel["lang"], panel["data-state"]) == ("ltr", "en", "streaming")
    assert by_class(doc, "a", "sanad-cite") == [] and len(by_class(doc, "span", "sanad-cite")) == 1
    assert {t for t, _ in doc.elements} == {"div", "span"}  # neither the <b> nor the hostile status became tags
    arabic = parse(render_progress("كم دولة؟", "searching"))
    (panel,) = [a for t, a in arabic.elements if a.get("id") == "sanad-answer-text"]
    assert (panel["dir"], panel["lang"]) == ("rtl", "ar") and by_class(arabic, "span", "sanad-stream") == []


def test_render_error_and_placeholder() -> None:
    doc = parse(render_error(HOSTILE))
    assert by_class(doc, "div", "sanad-error")[0]["role"] == "alert"
    assert HOSTILE in "".join(doc.text) and "script" not in {t for t, _ in doc.elements}
    assert "اطرح سؤالاً" in render_placeholder()


# -- passages, timings, header, status ---------------------------------------------------------------
def test_render_passages_numbers_the_ones_sent_to_the_model() -> None:
    hits = [make_hit("aid", 1), make_hit("economy", 2), make_hit("coalition", 3)]
    doc = parse(render_passages(hits, hits[:2], mode="hybrid"))
    assert [a["data-doc-id"] for a in by_class(doc, "details", "sanad-passage")] == ["aid", "economy", "coalition"]
    assert [a["title"] for a in by_class(doc, "span", "sanad-cite")] == [
        "passage [1] in the prompt",
        "passage [2] in the prompt",
    ]
    text = "".join(doc.text)
    assert "3 passages (hybrid); the model read the first 2" in text and ARTICLES["coalition"].split("\n")[1] in text


def test_render_passages_none_is_a_hint() -> None:
    assert "No passage matched" in render_passages([])


def test_render_timings_pipeline_order_units_then_unknown_keys() -> None:
    doc = parse(
        render_timings(
            {"total_s": 3.456, "retrieval_s": 0.1, "zeta": 1.0, "prompt_tokens": 512.0}, {"ui_first_token_s": 1.25}
        )
    )
    keys = [a["data-key"] for t, a in doc.elements if t == "tr" and "data-key" in a]
    assert keys == ["retrieval_s", "total_s", "prompt_tokens", "ui_first_token_s", "zeta"]
    text = "".join(doc.text)
    assert "3.46 s" in text and "512" in text and "512.00" not in text and "1.25 s" in text
    assert "Timings appear" in render_timings({})


def test_render_header_and_status_escape_their_text() -> None:
    assert "script" not in {t for t, _ in parse(render_header(HOSTILE)).elements}
    ok = parse(render_status("ok", "Added a <b>."))
    assert by_class(ok, "div", "sanad-ok") and "".join(ok.text) == "Done. Added a <b>."
    problem = parse(render_status("problem", "nothing was added: x.txt is not UTF-8"))
    assert by_class(problem, "div", "sanad-problem")
    assert "".join(problem.text) == "Nothing changed: x.txt is not UTF-8"


def test_render_and_uploads_import_without_gradio() -> None:
    """The seam: rendering and corpus code (and ``import rag``) never pull gradio in."""
    code = (
        "import sys, rag, rag.ui, rag.ui.render, rag.ui.uploads, rag.ui.assets; "
        "assert 'gradio' not in sys.modules, 'gradio was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_render_answer_refusal_shows_evidence_quoted_with_title_and_date() -> None:
    """#11: under a refusal the user sees what the sources do say, each sentence quoted with its article."""
    from rag.answer_types import Evidence

    ev = Evidence(
        1,
        "d1",
        "c1",
        "عنوان <b>المقال</b>",
        "تحتفظ الولايات المتحدة بحوالي 2500 جندي <script>",
        0,
        10,
        published="2024-04-16",
        source="العربي الجديد",
    )
    answer = Answer(
        question="q",
        language="ar",
        answer="لا تتوفر … بحوالي 2500 جندي [1]",
        refused=True,
        citations=(),
        passages=(),
        refusal_reason="missing: البريطانيين",
        evidence=(ev,),
    )
    html = render_answer(answer)
    assert 'id="sanad-evidence-1"' in html and "2024-04-16" in html and "العربي الجديد" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    assert html.index("sanad-refusal") < html.index("sanad-evidence")
