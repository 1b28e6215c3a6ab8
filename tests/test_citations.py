"""Unit tests for rag.citations: marker parsing, answer splitting and the citation checker.

Passages are hand-made hits (tests/fakes.py) whose chunk offsets point into real article
strings, so quote offsets can be checked against the article text.
"""

from __future__ import annotations

import re

import pytest
from fakes import ARTICLES, make_hit, passage_hits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import sentence_spans
from rag.citations import (
    MIN_OVERLAP,
    CitationChecker,
    best_quote,
    numbers_in,
    parse_markers,
    split_answer,
    strip_markers,
    support,
)

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ANY_MARKER = re.compile(r"\[\s*[0-9\u0660-\u0669]+(?:\s*[,،]\s*[0-9\u0660-\u0669]+)*\s*\]")


@pytest.fixture
def hits():
    """Passages [1] aid (138 million), [2] economy (7.5 %, 2,500 workers, ١٫٤ %), [3] coalition meeting."""
    return passage_hits("aid", "economy", "coalition")


def run(answer, hits, language="ar"):
    return CitationChecker().run(answer, hits, language)


# --------------------------------------------------------------------------- parse_markers / strip_markers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("النص [1].", [1]),
        ("النص [1, 2].", [1, 2]),
        ("النص [1،2].", [1, 2]),
        ("النص [ 3 ، 4 ].", [3, 4]),
        ("النص [١].", [1]),
        ("النص [١٢] ثم [2].", [12, 2]),
    ],
    ids=["single", "list", "arabic-comma", "spaced-arabic-comma", "arabic-indic", "two-markers"],
)
def test_parse_markers_marker_forms_numbers_in_order(text, expected):
    """Guards against missing list markers, the Arabic comma or Arabic-Indic digits in citations."""
    assert parse_markers(text) == expected


def test_parse_markers_non_marker_brackets_ignored():
    """Guards against reading bracketed words or scraping debris ([ad_1]) as citations."""
    assert parse_markers("قال [المتحدث] إن [ad_1] العدد 5 [a1]") == []


def test_strip_markers_marker_before_full_stop_removed_without_space():
    """Guards against a stray space left before the full stop where a marker was removed."""
    assert strip_markers("ارتفعت الأسعار [1]. وتراجع الطلب [2، 3].") == "ارتفعت الأسعار. وتراجع الطلب."


_WORDS = st.sampled_from(
    ["أعلنت", "الولايات", "المتحدة", "مليون", "دولار", "7.5", "2,500", "١٣٨", "Oil", "rose", "(قال)", "،", "-"]
)
_MARKER_NUMBERS = st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=3)


@st.composite
def answers_with_markers(draw):
    """Text of random words and random [n] markers (ASCII or Arabic-Indic digits, ',' or '،' lists)."""
    parts: list[str] = []
    numbers: list[int] = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        parts.extend(draw(st.lists(_WORDS, max_size=5)))
        marked = draw(_MARKER_NUMBERS)
        numbers.extend(marked)
        digits = [str(n).translate(ARABIC_INDIC) if draw(st.booleans()) else str(n) for n in marked]
        sep = draw(st.sampled_from([",", ", ", "،", " ، "]))
        inner = " " if draw(st.booleans()) else ""
        parts.append(f"[{inner}{sep.join(digits)}{inner}]")
        parts.append(draw(st.sampled_from(["", ".", "؟", "\n"])))
    return " ".join(parts), numbers


@settings(max_examples=150, deadline=None)
@given(answers_with_markers())
def test_parse_markers_generated_markers_all_numbers_found(case):
    """Guards against marker numbers lost for some mix of digit scripts, separators and spacing."""
    text, numbers = case
    assert parse_markers(text) == numbers


@settings(max_examples=150, deadline=None)
@given(answers_with_markers())
def test_strip_markers_generated_markers_none_left(case):
    """Guards against a [n] marker surviving into the displayed or checked sentence text."""
    text, _ = case
    out = strip_markers(text)
    assert ANY_MARKER.search(out) is None
    assert parse_markers(out) == []


# --------------------------------------------------------------------------- split_answer


def test_split_answer_marker_after_full_stop_attaches_to_previous_sentence():
    """Guards against "... دولار. [1] وقال" giving [1] to the sentence after it."""
    sentences = split_answer(
        "أعلنت الولايات المتحدة عن 138 مليون دولار. [1] وقال المسؤولون إن الوزارة تمول البرنامج [2]."
    )
    assert [s.markers for s in sentences] == [(1,), (2,)]
    assert sentences[0].text == "أعلنت الولايات المتحدة عن 138 مليون دولار."
    assert sentences[1].text.startswith("وقال المسؤولون")


def test_split_answer_lone_marker_line_attaches_to_previous_sentence():
    """Guards against a "[2]" on its own line becoming an empty sentence or being lost."""
    sentences = split_answer("وتشمل المساعدات الغذاء والدواء.\n[2]\nوأكد الوزراء ضرورة تعزيز الأمن [1، 3].")
    assert [(s.text, s.markers) for s in sentences] == [
        ("وتشمل المساعدات الغذاء والدواء.", (2,)),
        ("وأكد الوزراء ضرورة تعزيز الأمن.", (1, 3)),
    ]


def test_split_answer_decimals_not_split():
    """Guards against "7.5" and "1.4" being cut into two sentences at their decimal point."""
    sentences = split_answer("ينمو الاقتصاد بنسبة 7.5 في المئة [2]. وبلغ التضخم 1.4 في المئة [2].")
    assert [s.text for s in sentences] == ["ينمو الاقتصاد بنسبة 7.5 في المئة.", "وبلغ التضخم 1.4 في المئة."]


def test_split_answer_repeated_marker_kept_once():
    """Guards against a marker repeated in one sentence producing duplicate citations."""
    assert split_answer("ارتفع النفط [1] بنسبة 2.5 في المئة [1].")[0].markers == (1,)


@pytest.mark.parametrize(
    "answer, text, markers",
    [
        ("Oil rose 2.5 percent, as stated in passage [1].", "Oil rose 2.5 percent.", (1,)),
        ("Prices rose, according to passage [3].", "Prices rose.", (3,)),
        ("ارتفع النفط كما ذكر في الفقرة [1].", "ارتفع النفط.", (1,)),
        ("وقالت الوزارة إن المساعدات وصلت، كما ورد في المقطع [2].", "وقالت الوزارة إن المساعدات وصلت.", (2,)),
        ("اجتمع الوزراء في واشنطن وفقًا لما ورد في المقطع [3].", "اجتمع الوزراء في واشنطن.", (3,)),
        ("اجتمع الوزراء في واشنطن كما ذُكر في الفقرة [3].", "اجتمع الوزراء في واشنطن.", (3,)),
        (
            "According to passage [1], the US announced 138 million dollars.",
            "the US announced 138 million dollars.",
            (1,),
        ),
    ],
    ids=["as-stated-in", "according-to", "kama-dhukira", "kama-warada", "wifqan-tanween", "dhukira-damma", "leading"],
)
def test_split_answer_meta_clause_removed_marker_kept(answer, text, markers):
    """Guards against "as stated in passage [1]" (also with diacritics, or leading) staying in the checked claim."""
    assert [(s.text, s.markers) for s in split_answer(answer)] == [(text, markers)]


def test_checker_meta_clause_with_diacritics_does_not_dilute_support(hits):
    """Guards against "وفقًا لما ورد في المقطع" (tanween) counting as claim words and sinking a true sentence."""
    text, checks, citations = run("اجتمع الوزراء في واشنطن وفقًا لما ورد في المقطع [3].", hits)
    assert checks[0].supported and checks[0].cited == (3,)
    assert "المقطع" not in text
    assert [c.doc_id for c in citations] == ["coalition"]


@pytest.mark.parametrize(
    "answer",
    [
        "Oil rose 2.5 percent [1]. This information is found in passage [2].",
        "ارتفع النفط 2.5 في المئة [1]. المعلومات موجودة في المقطع [2].",
    ],
    ids=["en", "ar"],
)
def test_split_answer_meta_sentence_dropped_markers_merged(answer):
    """Guards against a sentence that only points at a passage being flagged as an unsupported claim."""
    sentences = split_answer(answer)
    assert len(sentences) == 1
    assert sentences[0].markers == (1, 2)


# --------------------------------------------------------------------------- numbers_in / support / best_quote


@pytest.mark.parametrize(
    "a, b", [("2,500", "2500"), ("٢٥٠٠", "2500"), ("٧٫٥", "7.5"), ("١٫٤", "1.4"), ("٢٬٥٠٠", "2500")]
)
def test_numbers_in_separators_and_digit_scripts_match(a, b):
    """Guards against the same figure failing to match across thousands separators or digit scripts."""
    assert numbers_in(f"بلغ العدد {a} عامل") == numbers_in(f"بلغ العدد {b} عامل") != set()


def test_numbers_in_different_figures_differ():
    """Guards against "380" matching the "138" it contains (substring instead of whole-number match)."""
    assert numbers_in("380 مليون") != numbers_in("138 مليون")
    assert support("أعلنت الولايات المتحدة عن 380 مليون دولار", [ARTICLES["aid"]], "ar").missing_numbers == ("380",)


def test_support_unrelated_arabic_words_below_overlap():
    """Guards against the lexical check passing an Arabic sentence whose words are not in the passage."""
    unrelated = support("اجتمع الرؤساء العرب في القاهرة لبحث أزمة المياه", [ARTICLES["coalition"]], "ar")
    related = support("اجتمع وزراء خارجية التحالف في واشنطن", [ARTICLES["coalition"]], "ar")
    assert unrelated.overlap < MIN_OVERLAP and not unrelated.ok("ar")
    assert related.overlap >= MIN_OVERLAP and related.ok("ar")


def test_best_quote_picks_sentence_with_the_number():
    """Guards against the quote being the passage's first sentence instead of the one holding the figure."""
    hit = make_hit("economy")
    quote, start, end = best_quote("ووظف المصنع 2500 عامل.", hit)
    assert quote == "ووظف المصنع الجديد 2,500 عامل في المدينة."
    assert ARTICLES["economy"][start:end] == quote


# --------------------------------------------------------------------------- CitationChecker


@pytest.mark.parametrize("marker", ["[7]", "[0]"])
def test_checker_marker_naming_no_passage_removed(hits, marker):
    """Guards against [7] (3 passages) or [0] reaching the answer or indexing a wrong/negative passage."""
    text, checks, citations = run(f"أعلنت الولايات المتحدة عن 138 مليون دولار {marker}.", hits)
    assert marker not in text
    assert set(parse_markers(text)) == {1}
    assert checks[0].cited == (1,) and checks[0].supported
    assert [c.n for c in citations] == [1]


def test_checker_invalid_marker_beside_valid_one_dropped(hits):
    """Guards against an out-of-range number in a list marker ([1, 7]) being kept or breaking the valid one."""
    text, checks, citations = run("أعلنت الولايات المتحدة عن 138 مليون دولار [1, 7].", hits)
    assert parse_markers(text) == [1]
    assert checks[0].cited == (1,) and checks[0].reason == ""
    assert [c.n for c in citations] == [1]


def test_checker_invented_figure_unsupported_and_dropped(hits):
    """Guards against an invented figure (380 where the passage says 138) reaching the answer."""
    text, checks, citations = run(
        "أعلنت الولايات المتحدة عن 380 مليون دولار [1]. ووظف المصنع الجديد 2500 عامل [2].", hits
    )
    assert "380" not in text
    assert "2500" in text
    bad = checks[0]
    assert not bad.supported and "380" in bad.reason
    assert checks[1].supported
    assert [c.n for c in citations] == [2]


def test_checker_wrong_passage_reattributed(hits):
    """Guards against keeping a citation to a passage that does not hold the sentence's figure."""
    text, checks, citations = run("أعلنت الولايات المتحدة عن 138 مليون دولار [2].", hits)
    assert checks[0].supported and checks[0].cited == (1,)
    assert "re-attributed" in checks[0].reason
    assert parse_markers(text) == [1]
    assert [(c.n, c.doc_id) for c in citations] == [(1, "aid")]


def test_checker_uncited_supported_sentence_gets_citation(hits):
    """Guards against a supported sentence without a marker being shown uncited or dropped."""
    text, checks, citations = run("وأكد الوزراء ضرورة تعزيز الأمن والاستقرار في الشرق الأوسط.", hits)
    assert checks[0].supported and checks[0].cited == (3,)
    assert "citation added" in checks[0].reason
    assert parse_markers(text) == [3]
    assert [(c.n, c.doc_id) for c in citations] == [(3, "coalition")]


def test_checker_arabic_sentence_with_foreign_words_unsupported(hits):
    """Guards against an Arabic claim with no figure passing just because it carries a marker."""
    text, checks, citations = run("اجتمع الرؤساء العرب في القاهرة لبحث أزمة المياه [3].", hits)
    assert text == ""
    assert not checks[0].supported
    assert citations == ()


def test_checker_english_sentence_right_number_supported(hits):
    """Guards against English answers (over Arabic passages) failing a lexical check that cannot apply."""
    text, checks, citations = run("The IMF expects the world economy to grow 7.5 percent [2].", hits, "en")
    assert checks[0].supported and checks[0].cited == (2,) and checks[0].reason == ""
    assert parse_markers(text) == [2]
    assert [(c.n, c.doc_id) for c in citations] == [(2, "economy")]


def test_checker_english_sentence_wrong_number_unsupported(hits):
    """Guards against the number check being skipped for English answers."""
    text, checks, _ = run("The IMF expects the world economy to grow 8.5 percent [2].", hits, "en")
    assert not checks[0].supported and "8.5" in checks[0].reason
    assert text == ""


def test_checker_thousands_separator_number_supported(hits):
    """Guards against "2500" in the answer failing to match "2,500" in the passage."""
    _, checks, citations = run("ووظف المصنع الجديد 2500 عامل [2].", hits)
    assert checks[0].supported and checks[0].cited == (2,)
    assert citations[0].quote == "ووظف المصنع الجديد 2,500 عامل في المدينة."


def test_checker_arabic_indic_digits_supported(hits):
    """Guards against Arabic-Indic digits in the answer failing to match ASCII digits in the passage (and back)."""
    _, checks, _ = run("ينمو الاقتصاد العالمي بنسبة ٧٫٥ في المئة [٢]. وبلغ معدل التضخم 1.4 في المئة [2].", hits)
    assert [(c.supported, c.cited) for c in checks] == [(True, (2,)), (True, (2,))]


def test_checker_quote_is_passage_sentence_with_article_offsets(hits):
    """Guards against quote offsets relative to the chunk instead of the article (highlighting the wrong text)."""
    _, _, citations = run(
        "أعلنت الولايات المتحدة عن 138 مليون دولار [1]. ووظف المصنع الجديد 2500 عامل [2]. "
        "وأكد الوزراء ضرورة تعزيز الأمن والاستقرار [3].",
        hits,
    )
    assert [c.n for c in citations] == [1, 2, 3]
    for c, hit in zip(citations, hits, strict=False):
        assert (c.doc_id, c.chunk_id, c.title) == (hit.doc_id, hit.chunk_id, hit.title)
        assert ARTICLES[c.doc_id][c.quote_start : c.quote_end] == c.quote
        assert hit.chunk.start > 0  # the headline precedes the passage, so chunk-relative offsets would differ
        sentences = [hit.chunk.text[s:e] for s, e, _ in sentence_spans(hit.chunk.text)]
        assert c.quote in sentences
    assert "2,500" in citations[1].quote


def test_checker_claimless_uncited_sentence_kept_without_citation(hits):
    """Guards against a short connective sentence ("نعم.") being flagged as an unsupported claim."""
    text, checks, _ = run("نعم. أعلنت الولايات المتحدة عن 138 مليون دولار [1].", hits)
    assert checks[0].supported and checks[0].cited == () and checks[0].reason == "no factual claim"
    assert text.startswith("نعم.")


_PASSAGE_SENTENCES = [
    ARTICLES[d][s + h.chunk.start : e + h.chunk.start]
    for d, h in ((d, make_hit(d)) for d in ("aid", "economy", "coalition"))
    for s, e, _ in sentence_spans(h.chunk.text)
]
_INVENTED = ["وبلغ عدد الضحايا 380 شخصا.", "Growth reached 9.9 percent.", "وقال الوزير إن الاجتماع ناجح."]


@st.composite
def checked_answers(draw):
    """Answers of passage sentences (and a few invented ones), each followed by random markers 0..5."""
    pieces = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        sentence = draw(st.sampled_from(_PASSAGE_SENTENCES + _INVENTED))
        markers = draw(st.lists(st.integers(min_value=0, max_value=5), max_size=3))
        marker = f" [{', '.join(map(str, markers))}]" if markers else ""
        if sentence.endswith(".") and draw(st.booleans()):
            pieces.append(sentence[:-1] + marker + ".")  # marker before the full stop
        else:
            pieces.append(sentence + marker)  # marker after it
    return " ".join(pieces), draw(st.sampled_from(["ar", "en"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=checked_answers())
def test_checker_random_answers_citations_valid_and_numbers_supported(hits, case):
    """Guards against out-of-range citations, or a kept sentence whose figures are absent from its cited passages."""
    answer, language = case
    text, checks, citations = run(answer, hits, language)
    assert all(1 <= n <= len(hits) for n in parse_markers(text))
    for c in citations:
        assert 1 <= c.n <= len(hits)
        assert c.chunk_id == hits[c.n - 1].chunk_id
        assert ARTICLES[c.doc_id][c.quote_start : c.quote_end] == c.quote
    assert [c.n for c in citations] == sorted({n for s in checks if s.supported for n in s.cited})
    for check in checks:
        if check.supported:
            assert all(1 <= n <= len(hits) for n in check.cited)
            cited_numbers = set().union(*(numbers_in(hits[n - 1].chunk.text) for n in check.cited))
            assert numbers_in(check.text) <= cited_numbers
        else:
            assert check.text not in text
