"""The evidence-first answer flow (rag.answer, #11) with a fake generator and a stub retriever (no model):
the model reads numbered evidence sentences, the checker verifies against them, refusals say what was found."""

from __future__ import annotations

from fakes import FakeGenerator, StubRetriever, passage_hits

from rag import prompts
from rag.answer import Answerer
from rag.config import SanadConfig

AID_Q = "كم مليون دولار أعلنت الولايات المتحدة كمساعدات للشعب السوري؟"


def run(answer: str, question: str = AID_Q, **overrides):
    gen = FakeGenerator(answer)
    config = SanadConfig(top_k=3, answer_passages=3, **{"answerable_threshold": 0.0, **overrides})
    result = Answerer(config, StubRetriever(passage_hits("aid", "economy", "coalition")), gen).ask(question)
    return result, gen


def test_prompt_holds_only_numbered_evidence_sentences():
    answer, gen = run("أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1].")
    user = gen.stream_calls[-1][-1].content
    assert user.startswith("Source sentences:\n[1] ")
    assert len([line for line in user.splitlines() if line.startswith("[")]) == len(answer.evidence) == 3
    assert not answer.refused and "138" in answer.answer
    assert answer.citations[0].quote == answer.evidence[0].text


def test_wrong_figure_falls_back_to_quoting_the_evidence():
    """The model's figure is not in the evidence: the sentence holding a figure is quoted and cited instead."""
    answer, _ = run("أعلنت الولايات المتحدة عن 148 مليون دولار [1].", extractive_fallback=True)
    assert not answer.refused and "138 مليون دولار" in answer.answer
    assert answer.timings.get("extractive") == 1.0


def test_wrong_figure_without_fallback_refuses_with_what_was_found():
    answer, _ = run("أعلنت الولايات المتحدة عن 148 مليون دولار [1].", extractive_fallback=False)
    assert answer.refused and answer.answer.startswith(prompts.REFUSALS["ar"])
    assert "138" in answer.answer and "[1]" in answer.answer
    assert answer.evidence and answer.refusal_reason


def test_model_refusal_kept_and_explained():
    answer, _ = run(prompts.REFUSALS["ar"])
    assert answer.refused and "138" in answer.answer


def test_below_threshold_refused_before_generation():
    answer, gen = run("أعلنت الولايات المتحدة عن 138 مليون دولار [1].", answerable_threshold=1.0)
    assert answer.refused and gen.calls == 0
    assert "answerability" in answer.refusal_reason
