"""Tests for rag.textnorm: the one normaliser every matcher (BM25, citation checks) relies on."""

from __future__ import annotations

import re

import pytest

from rag.textnorm import STOPWORDS, content_words, light_stem, normalize_arabic, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مُحَمَّدٌ", "محمد"),  # harakat, shadda, tanwin
        ("الرَّئِيسُ", "الرييس"),  # diacritics, then ئ→ي
        ("إنسانيـــة", "انسانيه"),  # tatweel, إ→ا, ة→ه
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آخر", "اخر"),
        ("ٱلله", "الله"),  # alef wasla
        ("مستشفى", "مستشفي"),  # ى→ي
        ("مدرسة", "مدرسه"),  # ة→ه
        ("مؤتمر", "موتمر"),  # ؤ→و
        ("١٢٣٤٥٦٧٨٩٠", "1234567890"),  # Arabic-Indic digits
        ("۱۲۳", "123"),  # Eastern Arabic-Indic digits
        ("٣٫١", "3.1"),  # Arabic decimal separator
        ("ISIS and OPEC", "isis and opec"),  # Latin lower-cased
        ("كيف؟ نعم، لا؛", "كيف? نعم, لا;"),  # Arabic punctuation folded
    ],
)
def test_normalize_arabic_written_examples_match(raw: str, expected: str) -> None:
    """Guards against a spelling variant (diacritic, alef form, ى/ة, digit) not folding, so equal words never match."""
    assert normalize_arabic(raw) == expected


def test_normalize_arabic_superscript_alef_removed() -> None:
    """Guards against the dagger alef (U+0670) surviving and splitting otherwise equal words."""
    assert normalize_arabic("هٰذا") == "هذا"


def test_normalize_arabic_idempotent_on_corpus_text() -> None:
    """Guards against a second normalisation changing text again (query vs stored form drift)."""
    text = "أعلنت الولايات المتحدة عن ٥٣٥ مليون دولار كمساعدات إنسانيـــة للشعب السوريّ."
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


def test_tokenize_arabic_words_kept() -> None:
    """Guards against an ASCII-only tokenizer (\\w+ over ASCII, or str.isascii filters) that drops Arabic."""
    tokens = tokenize("القوات العراقية في بغداد", stem=False, drop_stopwords=False)
    assert tokens == ["القوات", "العراقيه", "في", "بغداد"]
    assert re.findall(r"[A-Za-z0-9]+", "القوات العراقية في بغداد") == []  # what an ASCII tokenizer would keep


def test_tokenize_docstring_example_matches() -> None:
    assert tokenize("وأكد الرئيسُ أن القوات العراقية") == ["اكد", "رييس", "قوات", "عراق"]


def test_tokenize_mixed_latin_and_digits_kept() -> None:
    """Guards against numbers and Latin names (OPEC, 2024) being dropped from BM25 terms."""
    assert tokenize("Brent crude ٢٫٥ ISIS 2024") == ["brent", "crude", "2", "5", "isis", "2024"]


def test_tokenize_punctuation_and_underscore_dropped() -> None:
    """Guards against punctuation or '_' leaking into BM25 terms (the pattern is [^\\W_]+)."""
    assert tokenize("؟ ، ؛ ... !!! ___ «»") == []


def test_tokenize_stopwords_dropped_only_when_asked() -> None:
    assert tokenize("في من على", drop_stopwords=True) == []
    assert tokenize("في من على", stem=False, drop_stopwords=False) == ["في", "من", "علي"]


def test_stopwords_are_in_normalised_form() -> None:
    """Guards against stopwords listed with أ/ى/ة that could never match a normalised token."""
    assert all(normalize_arabic(w) == w for w in STOPWORDS)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("والقوات", "قوات"),  # وال prefix
        ("القوات", "قوات"),  # ال prefix; ات would leave a 2-letter stem, so kept
        ("بالعراق", "عراق"),  # بال prefix
        ("للشعب", "شعب"),  # لل prefix
        ("العراقيه", "عراق"),  # ال + يه
        ("مساعدات", "مساعد"),  # ات suffix
        ("المسؤولون", "مسوول"),  # ال + ون (ؤ already folded by normalize_arabic, not by light_stem)
        ("وزير", "زير"),  # و prefix (over-strips a root و: known light-stem limitation)
        ("قال", "قال"),  # too short to strip anything
        ("ولد", "ولد"),  # و would leave 2 letters: kept
        ("brent", "brent"),  # Latin untouched
        ("2024", "2024"),
        ("", ""),
    ],
)
def test_light_stem_examples_match(token: str, expected: str) -> None:
    token = normalize_arabic(token)
    assert light_stem(token) == normalize_arabic(expected)


def test_light_stem_minimum_stem_length_kept() -> None:
    """Guards against over-stemming short words into 1-2 letter stems that collide."""
    for word in ("بال", "الى", "ات", "وال", "هما"):
        assert len(light_stem(word)) >= min(3, len(word))


def test_tokenize_query_and_document_forms_meet() -> None:
    """Guards against queries and passages being normalised differently, so BM25 could never match."""
    query = "القوات العراقيّة"
    document = "وأكد أن قوات العراق ستبقى"
    assert set(tokenize(query)) <= set(tokenize(document))


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("مستشفى", "المستشفي"),
        ("إنسانية", "الانسانيه"),
        ("١٥ نيسان", "15 نيسان"),
        ("الرئيس", "الرَّئِيسُ"),
        ("الحكومة", "الحكومـــة"),
    ],
)
def test_tokenize_variant_spellings_same_tokens(query: str, document: str) -> None:
    """Guards against a query and a passage spelling the same word differently and never matching."""
    assert tokenize(query) == tokenize(document)


def test_content_words_unstemmed_without_stopwords() -> None:
    assert content_words("وأكد الرئيس في بغداد") == ["واكد", "الرييس", "بغداد"]
