"""The threshold curve simulates a refusal before the model exactly from one run at threshold 0."""

from rag.evaluation.threshold_curve import Outcome, at_threshold, choose, load_outcomes, render


def _o(i: int, lang: str, answerable: bool, score: float, refused: bool, accepted: bool, ungrounded=False) -> Outcome:
    return Outcome(f"q{i}", lang, answerable, score, refused, accepted, ungrounded)


OUTCOMES = [
    _o(1, "ar", True, 0.9, False, True),  # right answer, confident
    _o(2, "ar", True, 0.4, False, True),  # right answer, low score: lost above 0.4
    _o(3, "ar", True, 0.8, True, False),  # the model refused
    _o(4, "ar", False, 0.3, False, False, ungrounded=True),  # answered an unanswerable question
    _o(5, "ar", False, 0.7, True, False),  # the model refused: a refusal at every threshold
    _o(6, "en", True, 0.6, False, False),  # wrong answer
    _o(7, "en", False, 0.5, False, False),
]


def test_threshold_zero_is_the_run_itself():
    r = at_threshold(OUTCOMES, 0.0, "ar")
    assert r["accepted"] == 2 / 3 and r["false_refusal"] == 1 / 3
    assert r["refusal_recall"] == 1 / 2 and r["answered_unanswerable"] == 1 / 2
    assert r["ungrounded"] == 1.0


def test_a_higher_threshold_only_turns_answers_into_refusals():
    r = at_threshold(OUTCOMES, 0.45, "ar")
    assert r["accepted"] == 1 / 3  # q2 refused now
    assert r["false_refusal"] == 2 / 3
    assert r["refusal_recall"] == 1.0 and r["ungrounded"] == 0.0  # q4 refused before the model
    en = at_threshold(OUTCOMES, 0.55, "en")
    assert en["wrong_answer"] == 1.0 and en["refusal_recall"] == 1.0


def test_choose_prefers_the_best_balanced_score_then_the_lowest_threshold():
    # balanced (accepted + refusal recall): 0.0 -> 2/4 + 1/3; 0.45 -> 1/4 + 2/3; 0.55 -> 1/4 + 3/3; 0.95 -> 0 + 1
    best = choose(OUTCOMES, (0.0, 0.45, 0.55, 0.95))
    assert best == 0.55
    assert choose([_o(1, "ar", True, 0.9, False, True)], (0.0, 0.5)) == 0.0


def test_report_rows_are_read_and_errors_left_out():
    report = {
        "questions": [
            {
                "id": "a",
                "lang": "ar",
                "answerable": True,
                "answer": {
                    "scores": {"refused": False, "accepted": True, "ungrounded": []},
                    "timings": {"answerability": 0.7},
                },
            },
            {"id": "b", "lang": "en", "answerable": False, "answer": {"error": "timeout", "scores": {}}},
            {"id": "c", "lang": "en", "answerable": False, "answer": None},
        ]
    }
    rows = load_outcomes(report)
    assert rows == [Outcome("a", "ar", True, 0.7, False, True, False)]
    assert "| 0.70 |" in render(rows)


def test_quotes_for_declined_questions_only_above_the_confidence():
    from rag.evaluation.threshold_curve import with_quotes

    rows = [
        Outcome("a", "ar", True, 0.9, True, False, False, quote_accepted=True),  # declined; the quote is right
        Outcome("b", "ar", False, 0.9, True, False, False, quote_accepted=False),  # declined rightly; a quote is wrong
        Outcome("c", "ar", True, 0.6, True, False, False, quote_accepted=True),  # below the confidence asked for
        Outcome("d", "ar", True, 0.9, True, False, False, quote_accepted=None),  # no quote possible
    ]
    r = with_quotes(rows, 0.55, 0.8)
    assert r["accepted"] == 1 / 3 and r["answered_unanswerable"] == 1.0
    assert with_quotes(rows, 0.55, 0.5)["accepted"] == 2 / 3


def test_without_fallback_turns_quoted_answers_into_refusals():
    from rag.evaluation.threshold_curve import without_fallback

    rows = [
        Outcome("a", "ar", True, 0.9, False, True, False, quoted=True),
        Outcome("b", "ar", False, 0.9, False, False, True, quoted=True),
        Outcome("c", "ar", True, 0.9, False, True, False),
    ]
    r = at_threshold(without_fallback(rows), 0.55)
    assert r["accepted"] == 0.5 and r["refusal_recall"] == 1.0 and r["ungrounded"] == 0.0
