"""Conflict detection on the seed articles' own sentences (rag/conflicts.py): disagreement is found and
cited with both dates; agreement written differently is not flagged."""

from __future__ import annotations

import pytest

from rag.answer_types import Conflict
from rag.conflicts import ClaimQuery, ConflictDetector
from tests.news_helpers import evidence, seed_articles

ARTICLES = seed_articles()
TROOPS = (("001", "بحوالي 2500 جندي"), ("002", "لا يتجاوز ألفي"))


def run(question, *quotes):
    return ConflictDetector().run(question, evidence(ARTICLES, *quotes), ARTICLES)


@pytest.mark.parametrize(
    "question",
    ["كم عدد الجنود الأمريكيين في العراق؟", "How many US troops are in Iraq?", "كم جندياً أمريكياً يوجد في العراق؟"],
)
def test_detector_troops_figures_disagree_with_dates_and_citations(question):
    (conflict,) = run(question, *TROOPS)
    assert conflict.kind == "quantity"
    older, newer = conflict.values
    assert (older.normalized, older.date, older.n, older.doc_id[:3]) == ("at most 2000 troops", "2021-12-31", 2, "002")
    assert (newer.normalized, newer.date, newer.n, newer.doc_id[:3]) == ("about 2500 troops", "2024-04-15", 1, "001")
    assert newer.date_source == "published" and older.date_source == "text"
    assert conflict.citations == (2, 1)
    assert Conflict.from_dict(conflict.to_dict()) == conflict


def test_detector_operation_names_that_share_a_word_disagree():
    (conflict,) = run(
        "What is the name of the coalition operation against ISIS?",
        ("000", "عملية العزم الصلب"),
        ("003", "العزم الثابت"),
        ("002", "عملية العزم الصلب"),
    )
    assert conflict.kind == "name"
    assert [v.value for v in conflict.values] == ["العزم الصلب", "العزم الثابت"]


def test_detector_mission_end_dates_disagree_and_pick_the_deadline():
    """«بحلول سبتمبر 2025» is the end the question asks about, not the «2014» of the same sentence."""
    (conflict,) = run(
        "متى تنتهي مهمة القوات الأمريكية في العراق؟", ("003", "بحلول سبتمبر 2025"), ("004", "بنهاية العام الجاري")
    )
    assert [v.date for v in conflict.values] == ["2021", "2025-09"]


def test_detector_office_holders_over_time():
    (conflict,) = run(
        "Who is the Iraqi prime minister?",
        ("000", "محمد شياع السوداني في اجتماع"),
        ("004", "رئيس الوزراء العراقي مصطفى الكاظمي، وقال"),
    )
    assert [(v.value, v.date) for v in conflict.values] == [
        ("مصطفى الكاظمي", "2021-07-26"),
        ("محمد شياع السوداني", "2024-04-15"),
    ]


@pytest.mark.parametrize(
    ("question", "quotes"),
    [
        # 15 April and «يوم الاثنين» of an article of Monday 15 April 2024 are one day
        ("متى التقى بايدن بالسوداني؟", (("000", "يوم 15 نيسان"), ("001", "في الاجتماع الأول الذي عقد يوم الاثنين"))),
        # the Kadhimi meeting is another claim: the question names Sudani
        ("When did Biden meet Sudani?", (("000", "يوم 15 نيسان"), ("004", "رئيس الوزراء العراقي مصطفى الكاظمي، وقال"))),
        (
            "When was ISIS defeated in Iraq?",
            (("001", "الهزيمة الإقليمية لتنظيم داعش في عام 2017"), ("003", "ففي عام 2017")),
        ),
        (
            "من هو وزير الدفاع الأمريكي؟",
            (("000", "وزير الدفاع الأميركي لويد أوستن"), ("001", "وزير الدفاع الأمريكي لويد أوستن")),
        ),
        # the end of 2021 holds 31 December 2021
        (
            "When did the US combat mission in Iraq end?",
            (("004", "بنهاية العام الجاري"), ("002", "في 31 ديسمبر/ كانون الأول 2021")),
        ),
        # «القتالية»: Blinken's 2025 deadline is for another mission
        (
            "متى انتهت المهمة القتالية الأمريكية في العراق؟",
            (("004", "بنهاية العام الجاري"), ("003", "بحلول سبتمبر 2025")),
        ),
        # one sentence giving 12 and 87 is growth, and one article is not a disagreement
        ("كم دولة انضمت إلى التحالف الدولي ضد داعش؟", (("003", "من 12 إلى 87 دولة"), ("000", "في غضون 10 سنوات"))),
        (
            "من هو الرئيس الأمريكي؟",
            (
                ("000", "الرئيس الأميركي جو بايدن ورئيس"),
                ("004", "استقبل الرئيس الأميركي جو بايدن"),
                ("004", "الرئيس السابق جورج"),
            ),
        ),
        # the question's year leaves out the 2021 arrangement
        ("How many US troops were in Iraq in 2024?", TROOPS),
    ],
)
def test_detector_agreement_is_not_flagged(question, quotes):
    assert run(question, *quotes) == ()


def test_detector_questions_without_a_claim_and_single_sources():
    assert run("ماذا قال بلينكن عن داعش؟", *TROOPS) == ()  # "what did he say": no figure, date or name asked
    assert run("How many US troops are in Iraq?", TROOPS[0]) == ()  # one sentence cannot disagree


def test_claim_query_reads_the_question():
    q = ClaimQuery.make("How many US troops are in Iraq?")
    assert (q.kind, q.unit, q.entities) == ("quantity", "troops", frozenset({"us", "iraq"}))
    assert ClaimQuery.make("كم سيقدم الصندوق للقوات العراقية؟").unit == "usd"
    assert ClaimQuery.make("من هو رئيس الوزراء العراقي؟").role == "prime_minister:iraq"
    assert ClaimQuery.make("متى انتهت المهمة القتالية الأمريكية في العراق؟").terms >= {"قتال"}


def test_probes_name_the_claim_in_arabic():
    detector = ConflictDetector()
    assert detector.probes("How many US troops are in Iraq?") == ("العراق الولايات المتحدة جندي عسكري جنود",)
    ev = evidence(ARTICLES, ("000", "عملية العزم الصلب"))
    assert "عملية العزم" in detector.probes("ما اسم عملية التحالف الدولي ضد داعش؟", ev)
    assert detector.probes("ماذا قال بلينكن؟") == ()


def test_detector_rejects_fewer_than_two_sides():
    with pytest.raises(ValueError, match="at least 2"):
        ConflictDetector(max_values=1)
