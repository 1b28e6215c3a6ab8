"""The evidence-first answer flow (rag.answer, #11) with a fake generator and a stub retriever (no model):
the model reads numbered evidence sentences, the checker verifies against them, refusals say what was found."""

from __future__ import annotations

from fakes import FakeGenerator, ScriptedGenerator, StubRetriever, passage_hits

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


# -- English via Arabic on the evidence path ------------------------------------------------------------------
EN_Q = "How much aid did the United States announce for the Syrian people?"
EN_Q_AR = "كم أعلنت الولايات المتحدة من مساعدات للشعب السوري؟"
DRAFT = "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية للشعب السوري [1]."


def via_arabic(scripts: list[str], **overrides):
    gen = ScriptedGenerator(scripts, translation=EN_Q_AR)
    config = SanadConfig(
        top_k=3,
        answer_passages=3,
        translate_queries=True,
        english_via_arabic=True,
        answerable_threshold=0.0,
        **overrides,
    )
    events = list(Answerer(config, StubRetriever(passage_hits("aid", "economy")), gen).stream(EN_Q))
    return events, events[-1].answer, gen


def test_english_via_arabic_answers_the_translation_checks_arabic_streams_english():
    """Guards against the 1.5B model answering an English question straight from Arabic sentences."""
    events, answer, gen = via_arabic([DRAFT, "The United States announced 138 million dollars in aid."])
    first = gen.stream_calls[0]
    assert "Source sentences:" in first[1].content and EN_Q_AR in first[1].content and EN_Q not in first[1].content
    assert "Answer in Arabic" in first[1].content
    assert gen.stream_calls[1][0].content == prompts.BACK_TRANSLATE_SYSTEM and "138" in gen.stream_calls[1][1].content
    tokens = "".join(e.text for e in events if e.kind == "token")
    assert "138 million" in tokens and "مليون" not in tokens  # only the English is shown
    assert answer.language == "en" and not answer.refused and answer.question == EN_Q
    assert answer.answer == "The United States announced 138 million dollars in aid. [1]"
    assert answer.citations[0].quote == answer.evidence[0].text and answer.raw_answer == DRAFT
    assert answer.timings["ttft_s"] <= answer.timings["first_token_s"] <= answer.timings["total_s"]


def test_english_via_arabic_unfaithful_translation_keeps_the_checked_arabic():
    _, answer, _ = via_arabic([DRAFT, "The United States announced 183 million dollars."])
    assert "183" not in answer.answer and "138" in answer.answer and answer.answer.endswith("[1]")


def test_english_via_arabic_wrong_figure_refused_in_english_with_what_was_found():
    """The Arabic draft's figure is not in the evidence: an English refusal, nothing translated."""
    _, answer, gen = via_arabic(["أعلنت الولايات المتحدة عن 148 مليون دولار [1]."])
    assert answer.refused and answer.language == "en" and answer.answer.startswith(prompts.REFUSALS["en"])
    assert "138" in answer.answer and len(gen.stream_calls) == 1 and answer.question == EN_Q


def test_english_via_arabic_off_answers_in_english_from_the_sentences():
    gen = FakeGenerator("The United States announced 138 million dollars [1].", translation=EN_Q_AR)
    config = SanadConfig(top_k=3, answer_passages=3, translate_queries=True, answerable_threshold=0.0)
    answer = Answerer(config, StubRetriever(passage_hits("aid", "economy")), gen).ask(EN_Q)
    assert "Answer in English" in gen.stream_calls[0][1].content and len(gen.stream_calls) == 1
    assert not answer.refused and "138" in answer.answer


def test_english_via_arabic_translation_adding_a_name_keeps_the_checked_arabic():
    """A back-translation that writes an Arabic name the cited sentence lacks is not shown (checker, in English)."""
    events, answer, _ = via_arabic([DRAFT, "China (الصين) announced 138 million dollars in aid."])
    assert "الصين" not in answer.answer and answer.answer.startswith("أعلنت الولايات المتحدة عن 138")
    assert answer.answer.endswith("[1]") and not answer.refused
    assert answer.sentences[0].reason.startswith("kept in Arabic")
    assert "الصين" not in "".join(e.text for e in events if e.kind == "token")  # never streamed, then taken back


def test_english_via_arabic_sentences_are_what_the_user_reads():
    _, answer, _ = via_arabic([DRAFT, "The United States announced 138 million dollars in aid."])
    shown = [s for s in answer.sentences if s.supported]
    assert [s.text for s in shown] == ["The United States announced 138 million dollars in aid."]
    assert shown[0].cited == (1,) and shown[0].reason == "checked in Arabic, then translated"


def test_english_via_arabic_translation_inventing_a_latin_name_keeps_the_checked_arabic():
    """The checker cannot read "George W. Bush" against Arabic text: a Latin name the sentence lacks is not shown."""
    _, answer, _ = via_arabic([DRAFT, "President George W. Bush announced 138 million dollars in aid."])
    assert "Bush" not in answer.answer and "138" in answer.answer
    assert "George W. Bush" in answer.sentences[0].reason
