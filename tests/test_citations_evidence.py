"""rag.citations.EvidenceChecker: answers citing numbered evidence sentences (numbers, names, key words)."""

from __future__ import annotations

import pytest

from rag.answer_types import Evidence
from rag.citations_evidence import EvidenceChecker, evidence_problem, near_copy, translation_problem

EVIDENCE = (
    Evidence(1, "d1", "c1", "t1", "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق", 0, 49),
    Evidence(2, "d1", "c1", "t1", "ويعرف التحالف أيضا باسم عملية العزم الصلب.", 60, 102),
    Evidence(3, "d2", "c2", "t2", "وقالت مساعدة وزير الدفاع سيليست والاندر إن الاجتماع كان مثمرا.", 5, 66),
)
TROOPS_Q = "كم عدد الجنود الأمريكيين في العراق؟"


def run(answer, lang="ar", question=TROOPS_Q):
    return EvidenceChecker().run(answer, EVIDENCE, lang, question)


def test_paraphrased_arabic_answer_with_copied_figure_kept():
    text, checks, citations = run("يبلغ عدد الجنود الأمريكيين في العراق حوالي 2500 جندي [1].")
    assert "2500" in text and [c.n for c in citations] == [1] and checks[0].supported
    assert citations[0].quote == EVIDENCE[0].text and citations[0].quote_start == 0


def test_wrong_number_dropped():
    text, checks, citations = run("يبلغ عدد الجنود 3000 جندي [1].")
    assert text == "" and citations == () and "3000" in checks[0].reason


def test_garbled_name_rejected():
    """The issue's case: «العميل الصلب» passed the old checker against «العزم الصلب»."""
    text, checks, _ = run("يعرف التحالف باسم عملية العميل الصلب [2].", question="ما اسم العملية؟")
    assert text == "" and not checks[0].supported and "العميل" in checks[0].reason


def test_wrong_marker_reattributed():
    text, checks, _ = run("يعرف التحالف باسم عملية العزم الصلب [1].", question="ما اسم العملية؟")
    assert text.endswith("[2]") and "re-attributed" in checks[0].reason


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("It was Celeste Wallander (سيليست والاندر) [3].", True),
        ("It was Celeste Wallander (سيليست والندر) [3].", False),
        ("It was Ali Hassan (علي حسن) [3].", False),
    ],
)
def test_english_answer_arabic_name_must_be_verbatim(answer, ok):
    text, _, _ = run(answer, lang="en", question="Who said the meeting was fruitful?")
    assert bool(text) is ok


def test_english_answer_number_checked():
    assert run("The US keeps about 2500 troops in Iraq [1].", "en", "How many US troops are in Iraq?")[0]
    assert not run("The US keeps about 2000 troops in Iraq [1].", "en", "How many US troops are in Iraq?")[0]


def test_no_citation_marker_gets_one_when_supported():
    text, checks, _ = run("تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق.")
    assert text.endswith("[1]") and "citation added" in checks[0].reason


def test_evidence_problem_without_cited_sentence():
    assert evidence_problem("2500 جندي", [], "ar") == "cites no evidence sentence"


def test_near_copy_examples():
    assert near_copy("سيلست", {"سيليست"}) == "سيليست"
    assert near_copy("جندي", {"صلب"}) == ""


@pytest.mark.parametrize(
    ("english", "arabic", "ok"),
    [
        (
            "The United States maintains approximately 2,500 troops in Iraq.",
            "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق.",
            True,
        ),
        ("Defense Secretary Lloyd Austin met them on Monday.", "التقى وزير الدفاع لويد أوستن بهم يوم الاثنين.", True),
        ("The Sudanese met Defense Secretary Lloyd Austin.", "تشاور السوداني مع وزير الدفاع لويد أوستن.", False),
        ("President George W. Bush met them.", "التقى الرئيس جو بايدن بهم.", False),
        ("Mohammed Sheikhabdul met them.", "التقى محمد شياع السوداني بهم.", False),
    ],
)
def test_translation_names_only_what_the_arabic_sentence_names(english, arabic, ok):
    assert (translation_problem(english, arabic) == "") is ok
