"""Numbers and names an answer states that its cited sentences do not hold (rag.evaluation.grounding)."""

from __future__ import annotations

from rag.answer_types import Answer, Citation, Evidence, SentenceCheck
from rag.evaluation.grounding import names, numbers, script_of, shown, ungrounded, ungrounded_in
from rag.types import Chunk, Hit

QUOTE_TROOPS = "وفي الوقت الحاضر، تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق"
QUOTE_WALLANDER = "والوفد الأميركي برئاسة مساعدة وزير الدفاع سيليست والاندر"
QUOTE_148 = "إن الولايات المتحدة ستقدم 148 مليون دولار لتعزيز عمليات الأمن الحدودية"


def test_numbers_are_normalised():
    assert numbers("The US keeps 2,500 troops [1].") == ["2500"]
    assert numbers("نحو ٢٥٠٠ جندي و1.5 مليار") == ["2500", "1.5"]
    assert numbers("في 15 نيسان/أبريل 2024 [2][3]") == ["15", "2024"]
    assert numbers("no digits [4]") == []


def test_names_are_the_other_script():
    assert names("Celeste Wallander (سيليست والاندر) led it [2].", "en") == ["سيليست والاندر"]
    assert names("The Pentagon (البنتاغون) and Austin (أوستن) [1]", "en") == ["البنتاغون", "أوستن"]
    assert names("قوة المهام المشتركة CJTF-OIR [1]", "ar") == ["CJTF-OIR"]
    assert names("نحو 2500 جندي [1]", "ar") == []


def test_grounded_sentences_pass():
    assert ungrounded_in("The United States keeps about 2,500 troops in Iraq [1].", [QUOTE_TROOPS], "en") == []
    assert ungrounded_in("It was Celeste Wallander (سيليست والاندر) [1].", [QUOTE_WALLANDER], "en") == []
    # A clitic the answer drops or adds does not matter: «الأميركي» vs «أميركي».
    assert ungrounded_in("the US delegation (الوفد أميركي) [1]", [QUOTE_WALLANDER], "en") == []


def test_numbers_and_names_from_elsewhere_are_caught():
    """The issue's cases: a figure the cited sentence does not hold, an invented name, an invented number."""
    found = ungrounded_in("The US keeps 3,000 troops in Iraq [1].", [QUOTE_TROOPS], "en")
    assert [(u.kind, u.text) for u in found] == [("number", "3000")]
    found = ungrounded_in("It is William Ousten (وليام أوستن) [1].", ["التقى وزير الدفاع الأميركي لويد أوستن"], "en")
    assert [(u.kind, u.text) for u in found] == [("name", "وليام أوستن")]
    found = ungrounded_in("1000000 الجنسود [1]", [QUOTE_TROOPS], "ar")
    assert [(u.kind, u.text) for u in found] == [("number", "1000000")]
    assert ungrounded_in("500 جندي", [QUOTE_TROOPS], "ar")[0].text == "500"  # not inside 2500
    assert ungrounded_in("CJTF-OIR هي المهمة", [QUOTE_TROOPS], "ar")[0].kind == "name"


def _answer(text: str, sentences: tuple[SentenceCheck, ...], refused: bool = False, evidence=()) -> Answer:
    chunk = Chunk("d1", 0, 0, len(QUOTE_148), QUOTE_148)
    hits = (Hit(chunk, 1.0, 1),)
    citations = (Citation(1, "d1", chunk.chunk_id, "t", QUOTE_148, 0, len(QUOTE_148)),)
    return Answer(
        question="?",
        language="en",
        answer=text,
        refused=refused,
        citations=citations,
        passages=hits,
        sentences=sentences,
        evidence=tuple(evidence),
    )


def test_answer_level_uses_each_sentences_own_citations():
    good = SentenceCheck("The US will give $148 million [1].", (1,), True)
    uncited = SentenceCheck("It was announced in 2024.", (), False)
    answer = _answer(good.text + " " + uncited.text, (good, uncited))
    found = ungrounded(answer)
    assert [(u.sentence, u.kind, u.text) for u in found] == [(1, "number", "2024")]
    # An Evidence sentence behind [2] counts as cited by a sentence citing [2].
    ev = Evidence(n=2, doc_id="d2", chunk_id="c2", title="t", text="في عام 2024 أعلنت", start=0, end=17)
    cites_two = SentenceCheck("It was announced in 2024 [2].", (2,), True)
    assert ungrounded(_answer(cites_two.text, (cites_two,), evidence=[ev])) == []
    # Refusals state nothing; an answer without sentence checks is read as one sentence citing everything.
    assert ungrounded(_answer("The sources do not say 2025.", (uncited,), refused=True)) == []
    assert [u.text for u in ungrounded(_answer("$148 million and 168 [1]", ()))] == ["168"]


def test_removed_sentences_do_not_count_and_each_sentence_keeps_its_script():
    kept = SentenceCheck("The US will give $148 million [1].", (1,), True)
    removed = SentenceCheck("It also gave 999 million [1].", (1,), False, "number not in the passage")
    answer = _answer(kept.text, (kept, removed))  # the checker dropped the second sentence from the answer
    assert ungrounded(answer) == []
    # An English question answered in Arabic: Arabic words are not "names" to find verbatim.
    arabic = SentenceCheck("ستقدم الولايات المتحدة 148 مليون دولار [1].", (1,), True)
    assert ungrounded(_answer(arabic.text, (arabic,))) == []
    assert script_of("ستقدم الولايات المتحدة 148 مليون دولار") == "ar" and script_of("It gave $148 million") == "en"
    assert shown("It also gave 999 million [1].", "It also gave 999 million. [1]")
