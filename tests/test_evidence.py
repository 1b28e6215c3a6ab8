"""rag.evidence: the answer type a question asks for, and sentence-level evidence selection with the real e5
over the sample articles (offsets in the article's cleaned text)."""

from __future__ import annotations

import pytest
from models import needs_e5, seed_index

from rag.evidence import answer_type, candidates, expected_unit, has_type, select_evidence


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("كم عدد الجنود الأمريكيين في العراق؟", "quantity"),
        ("How many countries are in the coalition against ISIS?", "quantity"),
        ("متى زارت والاندر بغداد؟", "date"),
        ("When did the Higher Military Commission meet?", "date"),
        ("من هو وزير الدفاع العراقي؟", "person"),
        ("Who leads the Iraqi delegation?", "person"),
        ("أين عقد الاجتماع؟", "place"),
        ("In which city will the committee meet?", "place"),
        ("لماذا انسحبت القوات؟", "other"),
    ],
)
def test_answer_type_cues_classified(question, kind):
    assert answer_type(question) == kind


def test_answer_type_how_many_beats_when_clause():
    """A "when …, how many" question asks for a figure, not a date."""
    assert answer_type("When Iraq announced the change, what was the maximum number of US troops?") == "quantity"


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("How far is Harir base from Erbil?", "km"),
        ("كم أنفقت الولايات المتحدة على المعسكر؟", "usd"),
        ("How many British troops are in Iraq?", "troops"),
        ("كم دولة انضمت إلى التحالف؟", "countries"),
    ],
)
def test_expected_unit_from_question_words(question, unit):
    assert expected_unit(question) == unit


def test_has_type_quantity_needs_asked_unit():
    """A count of troops does not answer "how far": the figure must carry the unit asked for."""
    sentence = "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق"
    assert has_type(sentence, "quantity", "How many US troops are in Iraq?")
    assert not has_type(sentence, "quantity", "How far is Harir base from Erbil?")


def test_has_type_quantity_in_question_does_not_count():
    """The fiscal year the question names is not the figure it asks for."""
    assert not has_type("في العام المالي 2025", "quantity", "كم سيقدم الصندوق في العام المالي 2025؟")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from rag.pipeline import Sanad

    config = seed_index(tmp_path_factory.mktemp("ev"))
    sanad = Sanad(config)
    sanad.retriever  # noqa: B018 - load now
    return sanad


@pytest.mark.slow
@needs_e5
def test_select_evidence_finds_troop_count_with_offsets(sample):
    """The issue's first UI question: the 2,500-troops sentence was in none of the passages the model read."""
    question = "كم عدد الجنود الأمريكيين في العراق؟"
    hits = sample.search(question, k=sample.config.evidence_passages)
    evidence = select_evidence(question, hits, config=sample.config, embedder=sample.embedder)
    articles = sample.retriever.index.articles
    assert [e.n for e in evidence] == list(range(1, sample.config.evidence_sentences + 1))
    for e in evidence:
        assert articles[e.doc_id].text[e.start : e.end] == e.text
    assert any("2500" in e.text for e in evidence)


@pytest.mark.slow
@needs_e5
def test_select_evidence_english_question_cross_lingual(sample):
    question = "How many countries are in the coalition against ISIS?"
    hits = sample.search(question, k=sample.config.evidence_passages)
    evidence = select_evidence(question, hits, config=sample.config, embedder=sample.embedder)
    assert any("87" in e.text for e in evidence)


@pytest.mark.slow
@needs_e5
def test_select_evidence_no_hits_empty(sample):
    assert select_evidence("سؤال", [], config=sample.config, embedder=sample.embedder) == ()


def test_candidates_skip_headings_and_duplicates():
    """Overlapping passages repeat sentences; headings («في البنتاغون») are no evidence."""
    from rag.types import Chunk, Hit

    text = "في البنتاغون\nوتشاور السوداني مع وزير الدفاع لويد أوستن في البنتاغون. وأكد الجانبان التعاون الوثيق بينهما."
    a = Hit(Chunk("d", 0, 0, len(text), text), 1.0, 1)
    b = Hit(Chunk("d", 1, 13, len(text), text[13:]), 0.9, 2)
    found = candidates([a, b])
    assert [c.text for c in found] == [
        "وتشاور السوداني مع وزير الدفاع لويد أوستن في البنتاغون.",
        "وأكد الجانبان التعاون الوثيق بينهما.",
    ]
    assert all(text[c.start : c.end] == c.text for c in found)
