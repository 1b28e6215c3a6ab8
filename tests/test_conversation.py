"""Follow-ups made self-contained (rag/conversation.py, rag/rewrite_rules.py)."""

from __future__ import annotations

import pytest

from rag.answer_types import Turn
from rag.conversation import ModelRewriter, as_history, make_rewriter
from rag.errors import InputError
from rag.generators import Generation
from rag.rewrite_rules import RuleRewriter

TROOPS_EN = Turn("How many US troops are in Iraq?", "About 2,500 (حوالي 2500) [1].")
TROOPS_AR = Turn("كم عدد الجنود الأمريكيين في العراق؟", "حوالي 2500 جندي [1].")


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        ((TROOPS_EN,), "And how many in Syria?", "How many US troops are in Syria?"),
        ((TROOPS_EN,), "What about the British?", "How many British troops are in Iraq?"),
        ((TROOPS_AR,), "وفي سوريا؟", "كم عدد الجنود الأمريكيين في سوريا؟"),
        ((TROOPS_AR,), "وماذا عن البريطانيين؟", "كم عدد الجنود البريطانيين في العراق؟"),
        ((TROOPS_AR,), "وكم عددهم في سوريا؟", "كم عدد الجنود الأمريكيين في سوريا؟"),
        (
            (Turn("ما هي مهمة التحالف الدولي في العراق؟"),),
            "ومتى سينتهي ذلك؟",
            "متى سينتهي مهمة التحالف الدولي في العراق؟",
        ),
        (
            (Turn("What is the coalition's mission in Iraq?"),),
            "When will that end?",
            "When will the coalition's mission in Iraq end?",
        ),
        (
            (Turn("Which Iraqi prime minister met Biden?", "Mohammed Shia al-Sudani (محمد شياع السوداني) [1]."),),
            "Who did he meet at the Pentagon?",
            "Who did Mohammed Shia al-Sudani meet at the Pentagon?",
        ),
        (
            (Turn("من هو رئيس الوزراء العراقي؟", "محمد شياع السوداني [1]."),),
            "ومن التقى في البنتاغون؟",
            "من التقى في البنتاغون (محمد شياع السوداني)؟",
        ),
        (
            (Turn("How much will the fund give Iraqi forces in fiscal year 2025?"),),
            "And in 2024?",
            "How much will the fund give Iraqi forces in fiscal year 2024?",
        ),
        (
            (Turn("How many countries are in the coalition?"),),
            "And when was it formed?",
            "When was the coalition formed?",
        ),
        ((TROOPS_EN,), "Why are they there?", "Why are US troops in Iraq?"),
        ((Turn("متى التقى بايدن بالسوداني؟"),), "والكاظمي؟", "متى التقى بايدن بالكاظمي؟"),
        (
            (Turn("How much will the Counter-ISIS Train and Equip Fund give Iraq?"),),
            "How often is the fund appropriated?",
            "How often is the Counter-ISIS Train and Equip Fund appropriated?",
        ),
    ],
)
def test_rule_rewriter_written_follow_ups(history, question, expected):
    rewrite = RuleRewriter().run(question, history)
    assert rewrite.question == expected
    assert rewrite.changed and rewrite.method == "rules"


def test_rule_rewriter_leaves_self_contained_questions():
    rewrite = RuleRewriter().run("How many countries are in the coalition?", (TROOPS_EN,))
    assert rewrite.question == "How many countries are in the coalition?" and not rewrite.changed
    assert RuleRewriter().run("كم دولة في التحالف؟", ()).method == "none"
    # a change of language starts afresh
    assert RuleRewriter().run("وفي سوريا؟", (TROOPS_EN,)).question == "وفي سوريا؟"


def test_rule_rewriter_uses_the_rewritten_previous_turn():
    turns = (
        TROOPS_AR,
        Turn("وأين يتمركزون؟", "في عين الأسد وحرير [1].", rewritten="أين يتمركز الجنود الأمريكيون في العراق؟"),
    )
    assert "حرير" in RuleRewriter().run("وكم منهم في قاعدة حرير؟", turns).question


class _Gen:
    """Returns a fixed text, and keeps the messages it was asked with."""

    def __init__(self, text: str) -> None:
        self.text, self.messages = text, None

    def generate(self, messages, **kw):
        self.messages = messages
        return Generation(text=self.text, prompt_tokens=0, completion_tokens=0, ttft_s=0.0, total_s=0.0)


_gen = _Gen


def test_model_rewriter_uses_the_model_and_falls_back():
    good = _gen("How many US troops are in Syria?")
    rw = ModelRewriter(good).run("And how many in Syria?", (TROOPS_EN,))
    assert (rw.question, rw.method) == ("How many US troops are in Syria?", "model")
    assert "How many US troops are in Iraq?" in good.messages[-1].content
    # wrong language, or the follow-up's own place dropped: the rules answer instead
    for bad in ("كم عدد الجنود في سوريا؟", "How many US troops are in Iraq?", ""):
        rw = ModelRewriter(_gen(bad)).run("And how many in Syria?", (TROOPS_EN,))
        assert (rw.question, rw.method) == ("How many US troops are in Syria?", "rules")


def test_as_history_and_make_rewriter():
    turns = as_history([("q1", "a1"), {"question": "q2", "answer": "a2"}, Turn("q3"), ("", "")])
    assert [t.question for t in turns] == ["q1", "q2", "q3"]
    with pytest.raises(InputError, match="history turn"):
        as_history([42])
    assert make_rewriter("off") is None and isinstance(make_rewriter("rules"), RuleRewriter)
    with pytest.raises(InputError, match="rewrite mode"):
        make_rewriter("llm")
