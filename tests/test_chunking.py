"""Tests for rag.chunking: offsets, coverage, token bounds and whole-sentence overlap.

Property-based tests feed random Arabic/English/punctuation texts and random sizes; the
invariants are the ones citations and re-indexing rely on.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED_CORPUS
from rag.chunking import Chunker, approx_token_count, sentence_spans
from rag.errors import InputError
from rag.ingest import Ingestor
from rag.types import Article, Chunk

_ARABIC_WORDS = [
    "القوات",
    "العراقية",
    "بغداد",
    "واشنطن",
    "مُحَمَّد",
    "إنسانيـــة",
    "١٢٣",
    "2.5",
    "معًا..ففي",
    "داعش",
    "«الدولة»",
    "(التحالف)",
    "“قال”",
    "ى",
    "و",
]
_LATIN_WORDS = ["Oil", "prices", "rose", "OPEC", "U.S.", "e.g.", "3.14", "Mr.", "x"]
_PUNCT = [".", "!", "?", "؟", "؛", "…", "..", "...", "،", ",", ":", "!?", "."]
_SPACE = [" ", " ", " ", "\n", "\n\n", "  ", "\t", " \n ", "\u00a0"]

_token = st.one_of(
    st.sampled_from(_ARABIC_WORDS),
    st.sampled_from(_LATIN_WORDS),
    st.sampled_from(_PUNCT),
    st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي", min_size=1, max_size=12),
)
texts = st.lists(st.tuples(_token, st.sampled_from(_SPACE)), min_size=0, max_size=120).map(
    lambda parts: "".join(t + s for t, s in parts)
)
sizes = st.integers(min_value=1, max_value=80).flatmap(
    lambda m: st.tuples(st.just(m), st.integers(min_value=0, max_value=m - 1))
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chunks(text: str, max_tokens: int, overlap: int) -> tuple[Article, list[Chunk]]:
    article = Article(doc_id="doc", title="t", text=text)
    return article, Chunker(max_tokens, overlap, approx_token_count).run(article)


# -- properties -------------------------------------------------------------------------------
@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_offsets_slice_article_text(text: str, size: tuple[int, int]) -> None:
    """Guards against offsets drifting from the text (citations quote article.text[start:end])."""
    article, chunks = _chunks(text, *size)
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert c.doc_id == "doc"


@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_every_non_space_character_covered(text: str, size: tuple[int, int]) -> None:
    """Guards against a sentence (or the tail of a long one) falling between chunks and becoming unsearchable."""
    _, chunks = _chunks(text, *size)
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == []
    for start, end, _ in sentence_spans(text):
        assert any(c.start <= start and end <= c.end for c in chunks) or _is_split_long(chunks, start, end)


def _is_split_long(chunks: list[Chunk], start: int, end: int) -> bool:
    """An over-long sentence may be cut between words over consecutive chunks."""
    return any(c.start <= start < c.end for c in chunks) and any(c.start < end <= c.end for c in chunks)


@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_token_bound_respected(text: str, size: tuple[int, int]) -> None:
    """Guards against passages longer than the embedder reads (they would be silently truncated)."""
    max_tokens, overlap = size
    _, chunks = _chunks(text, max_tokens, overlap)
    for c in chunks:
        n = approx_token_count(c.text)
        assert n <= max_tokens or len(c.text.split()) == 1, (n, max_tokens, c.text)


@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_ordinals_consecutive_and_progressing(text: str, size: tuple[int, int]) -> None:
    _, chunks = _chunks(text, *size)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for prev, nxt in itertools.pairwise(chunks):
        assert prev.start < nxt.start and prev.end < nxt.end  # never stalls, never repeats a whole chunk
    assert len({c.chunk_id for c in chunks}) == len(chunks)


@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_overlap_whole_sentences_within_budget(text: str, size: tuple[int, int]) -> None:
    """Guards against overlap that starts mid-sentence or repeats more than overlap_tokens."""
    max_tokens, overlap = size
    chunker = Chunker(max_tokens, overlap, approx_token_count)
    article = Article(doc_id="doc", title="t", text=text)
    chunks = chunker.run(article)
    span_starts = {s.start for s in chunker.spans(text)}
    span_ends = {s.end for s in chunker.spans(text)}
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start in span_starts
        if nxt.start < prev.end:
            assert overlap > 0
            assert prev.end in span_ends
            repeated = [s for s in chunker.spans(text) if nxt.start <= s.start and s.end <= prev.end]
            assert repeated and repeated[0].start == nxt.start and repeated[-1].end == prev.end
            assert sum(s.tokens for s in repeated) <= overlap


@PROPERTY
@given(text=texts, size=sizes)
def test_chunker_deterministic(text: str, size: tuple[int, int]) -> None:
    """Guards against chunk ids changing between runs, which would force needless re-embedding."""
    assert _chunks(text, *size)[1] == _chunks(text, *size)[1]


# -- sentence boundaries ----------------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e, _ in sentence_spans(text)]


def test_sentence_spans_arabic_punctuation_boundaries() -> None:
    """Guards against ؟ and ؛ (Arabic question mark, semicolon) not ending sentences."""
    text = "أين الوزير؟ في بغداد؛ ثم سافر. نعم! وقال «انتهى.» بعدها\nسطر جديد"
    assert _sentences(text) == ["أين الوزير؟", "في بغداد؛", "ثم سافر.", "نعم!", "وقال «انتهى.»", "بعدها", "سطر جديد"]


def test_sentence_spans_line_breaks_are_paragraphs() -> None:
    """Guards against blank or whitespace-only lines counting as paragraphs."""
    spans = list(sentence_spans("أول.\n\nثان. ثالث\n   \nرابع"))
    assert [p for _, _, p in spans] == [0, 1, 1, 2]


def test_sentence_spans_decimal_not_split() -> None:
    """Guards against numbers like 2.5 or ٣.١ being cut into two 'sentences'."""
    assert _sentences("ارتفع النمو 2.5 في المئة و٣.١ أخرى. انتهى") == ["ارتفع النمو 2.5 في المئة و٣.١ أخرى.", "انتهى"]


def test_sentence_spans_double_dot_one_boundary() -> None:
    """Guards against '..' producing an empty or one-dot sentence (the scraped 'معًا..ففي' pattern)."""
    assert _sentences("عملنا معًا..ففي العام الماضي... تحقق الهدف") == [
        "عملنا معًا..",
        "ففي العام الماضي...",
        "تحقق الهدف",
    ]


def test_sentence_spans_abbreviation_without_space_not_split() -> None:
    """Guards against splitting at every dot (U.S.A) rather than at dot + space."""
    assert _sentences("U.S.A وقعت.") == ["U.S.A وقعت."]


def test_sentence_spans_whitespace_only_empty() -> None:
    """Guards against whitespace-only text yielding empty sentences."""
    assert _sentences(" \n\t\n ") == []


# -- settings and sizes -----------------------------------------------------------------------
@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (-5, 0), (10, 10), (10, 11), (10, -1)])
def test_chunker_invalid_settings_raise(max_tokens: int, overlap: int) -> None:
    """Guards against settings that would loop forever or repeat whole passages."""
    with pytest.raises(InputError, match="need max_tokens > 0 and 0 <= overlap_tokens < max_tokens"):
        Chunker(max_tokens, overlap)


def test_chunker_empty_text_no_chunks() -> None:
    """Guards against an empty article producing an empty passage."""
    assert Chunker().run(Article(doc_id="e", title="", text="")) == []


def test_chunker_long_sentence_split_between_words() -> None:
    """Guards against a sentence with no punctuation becoming one over-long passage."""
    text = " ".join(f"كلمة{i}" for i in range(100))
    _article, chunks = _chunks(text, 16, 0)
    assert len(chunks) > 1
    assert all(approx_token_count(c.text) <= 16 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_chunker_single_word_over_limit_kept_alone() -> None:
    """Guards against dropping (or looping on) a word longer than max_tokens."""
    _, chunks = _chunks("واحد اثنان", 1, 0)
    assert [c.text for c in chunks] == ["واحد", "اثنان"]


def test_chunker_overlap_repeats_previous_sentence() -> None:
    """Guards against overlap that repeats nothing, or more than the budget allows."""
    text = "الجملة الأولى هنا. الجملة الثانية هنا. الجملة الثالثة هنا. الجملة الرابعة هنا."
    _, chunks = _chunks(text, 16, 6)  # each sentence: 3 words -> 5 tokens
    assert [c.text for c in chunks] == [
        "الجملة الأولى هنا. الجملة الثانية هنا. الجملة الثالثة هنا.",
        "الجملة الثالثة هنا. الجملة الرابعة هنا.",
    ]


def test_chunker_no_overlap_disjoint() -> None:
    """Guards against overlap creeping in when overlap_tokens=0."""
    text = "أ ب ج. د ه و. ز ح ط. ي ك ل."
    _, chunks = _chunks(text, 10, 0)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_chunker_new_paragraph_starts_chunk_when_half_full() -> None:
    """Guards against packing the tail of one paragraph with the head of an unrelated next one."""
    text = "فقرة أولى فيها ست كلمات هنا.\nفقرة ثانية قصيرة."
    _, chunks = _chunks(text, 20, 0)  # first paragraph: 10 tokens >= 20 // 2
    assert [c.text for c in chunks] == ["فقرة أولى فيها ست كلمات هنا.", "فقرة ثانية قصيرة."]


def test_chunker_custom_token_counter_used() -> None:
    """Guards against ignoring the embedder's own token counter (chunks sized in the wrong unit)."""
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        return len(text)

    Chunker(50, 0, count).run(Article(doc_id="d", title="", text="قصير. وأطول قليلاً."))
    assert "قصير." in calls


def test_chunker_seed_corpus_invariants() -> None:
    """Guards against real articles (long lines, quotes, '..') breaking the offset or size invariants."""
    articles, _ = Ingestor().run([SEED_CORPUS])
    chunker = Chunker(160, 40, approx_token_count)
    total = 0
    for article in articles:
        chunks = chunker.run(article)
        total += len(chunks)
        assert chunks, article.doc_id
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        for c in chunks:
            assert article.text[c.start : c.end] == c.text
            assert approx_token_count(c.text) <= 160
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)
    assert total > len(articles)  # real articles need more than one passage each


def test_approx_token_count_values() -> None:
    assert approx_token_count("") == 0
    assert approx_token_count("كلمة") == 2
    assert approx_token_count("كلمة أخرى وثالثة") == 5
