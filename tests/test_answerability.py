"""rag.answerability: the decision made outside the model, and what a refusal says was found instead."""

from __future__ import annotations

import pytest
from models import needs_e5, seed_index

from rag.answerability import WEIGHTS, combine, explain, judge, qualifiers
from rag.evidence import select


def test_qualifiers_entities_and_numbers():
    keys = [q.key for q in qualifiers("How much will the fund give Iraqi forces in fiscal year 2026?")]
    assert "e:iraq" in keys and "n:2026" in keys


def test_combine_monotone_in_coverage():
    """More of the question covered never lowers the score."""
    low = {"hard": 0.5, "context": 0.5, "soft_ar": 0.3, "typed": 1.0, "similarity": 0.8, "en": 0.0}
    high = {**low, "hard": 1.0, "context": 1.0}
    assert combine(high, WEIGHTS) > combine(low, WEIGHTS)


def test_judge_no_evidence_refuses():
    verdict = judge("How many British troops are in Iraq?", [], language="en", threshold=0.5)
    assert not verdict.answerable and verdict.best == -1


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from rag.pipeline import Sanad

    sanad = Sanad(seed_index(tmp_path_factory.mktemp("ans")))
    sanad.retriever  # noqa: B018 - load now
    return sanad


def _verdict(sanad, question, lang):
    hits = sanad.search(question, k=sanad.config.evidence_passages)
    scored = select(question, hits, config=sanad.config, embedder=sanad.embedder)
    return judge(question, scored, language=lang, threshold=sanad.config.answerable_threshold), scored


@pytest.mark.slow
@needs_e5
@pytest.mark.parametrize(
    ("question", "lang", "missing"),
    [
        ("How many British troops are in Iraq?", "en", "British"),
        ("كم عدد الجنود البريطانيين في العراق؟", "ar", "البريطانيين"),
    ],
)
def test_judge_other_country_troops_refused_naming_it(sample, question, lang, missing):
    """The tempting kind: the articles give US troops only. The score is below the US question's, the
    missing qualifier is named, and the explanation gives the US figure with its citation."""
    verdict, scored = _verdict(sample, question, lang)
    us, _ = _verdict(sample, question.replace("British", "US").replace("البريطانيين", "الأمريكيين"), lang)
    assert verdict.score < us.score
    assert missing in verdict.missing
    text, n = explain(verdict, scored, lang, question)
    assert "2500" in text and f"[{n}]" in text and missing in text, text


@pytest.mark.slow
@needs_e5
@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("كم عدد الجنود الأمريكيين في العراق؟", "ar"),
        ("كم دولة انضمت إلى التحالف الدولي ضد داعش؟", "ar"),
        ("How many US troops are in Iraq?", "en"),
    ],
)
def test_judge_answerable_questions_pass(sample, question, lang):
    verdict, _ = _verdict(sample, question, lang)
    assert verdict.answerable, verdict.to_dict()
