"""Unit tests for rag.answer: refusal detection, the budgeted prompt and the Answerer flow.

The Answerer runs against a fake generator and a stub retriever (tests/fakes.py), so these
tests need no model and run in milliseconds.
"""

from __future__ import annotations

import re
import threading

import pytest
from fakes import ARTICLES, FakeGenerator, ScriptedGenerator, StubRetriever, passage_hits
from hypothesis import given, settings
from hypothesis import strategies as st

from rag import prompts, safety
from rag.answer import Answerer, PromptBuilder, StreamEvent, is_refusal
from rag.chunking import approx_token_count, sentence_spans
from rag.config import SanadConfig
from rag.errors import GenerationError, InputError
from rag.types import Chunk, Hit

AR_QUESTION = "كم مليون دولار أعلنت الولايات المتحدة كمساعدات للشعب السوري؟"
EN_QUESTION = "How much aid did the United States announce for the Syrian people?"
AR_TRANSLATION = "كم أعلنت الولايات المتحدة من مساعدات للشعب السوري؟"
GOOD_ANSWER = (
    "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1]. "
    "وأكد الوزراء ضرورة تعزيز الأمن والاستقرار في الشرق الأوسط [3]."
)

FILLER = [
    "تحدث التقرير عن موسم الأمطار الغزيرة في المناطق الجبلية الشمالية هذا الشتاء.",
    "وشهدت الأسواق المحلية حركة تجارية نشطة قبل حلول عيد الفطر المبارك.",
    "ونظمت البلدية مهرجانا ثقافيا كبيرا للأطفال والعائلات في الحديقة العامة.",
]
TARGET = "وأكد الوزراء ضرورة تعزيز الأمن والاستقرار في الشرق الأوسط."


def config(**overrides) -> SanadConfig:
    return SanadConfig(answer_passages=3, top_k=3, **{"evidence_first": False, **overrides})


def answerer(answer: str = GOOD_ANSWER, *, hits=None, translation: str = "", by_question=None, **overrides):
    gen = FakeGenerator(answer, translation=translation)
    retriever = StubRetriever(passage_hits("aid", "economy", "coalition") if hits is None else hits, by_question)
    return Answerer(config(**overrides), retriever, gen), gen, retriever


def long_hit(doc_id: str, sentences: list[str], rank: int = 1) -> Hit:
    text = " ".join(sentences)
    return Hit(Chunk(doc_id, 0, 0, len(text), text), 1.0 / rank, rank, title=doc_id)


def passage_lines(user_message: str, *, quoted: bool = False) -> list[str]:
    """The ``[n] text`` lines of the prompt; ``quoted``: as sent (``[n] «text»``, rag.safety.quote_passage)."""
    body = user_message.split("Passages:\n", 1)[1].split("\n\nQuestion:", 1)[0]
    lines = body.split("\n\n")
    return lines if quoted else [re.sub(r"^(\[\d+\]) «(.*)»$", r"\1 \2", line, flags=re.S) for line in lines]


# --------------------------------------------------------------------------- is_refusal


@pytest.mark.parametrize(
    "text",
    [
        prompts.REFUSALS["ar"],
        prompts.REFUSALS["en"],
        "لا تتوفّر في المصادر معلومات عن ذلك.",  # diacritics
        "لا توجد معلومات في المقاطع عن عدد الضحايا.",
        "The passages do not mention the exact figure.",
        "I'm sorry, but the passages do not contain enough information to answer.",
    ],
)
def test_is_refusal_refusals_and_paraphrases_detected(text):
    """Guards against a refusal being treated as an answer and sent through the citation checker."""
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        GOOD_ANSWER,
        "The IMF expects the world economy to grow 7.5 percent [2].",
    ],
)
def test_is_refusal_normal_answer_not_refusal(text):
    """Guards against a factual answer being replaced by the refusal text."""
    assert not is_refusal(text)


# --------------------------------------------------------------------------- PromptBuilder


def test_prompt_builder_passages_numbered_in_order():
    """Guards against passage numbers in the prompt disagreeing with Prompt.hits (citations would resolve wrongly)."""
    hits = passage_hits("aid", "economy", "coalition")
    prompt = PromptBuilder().build(AR_QUESTION, hits, "ar")
    lines = passage_lines(prompt.messages[1].content)
    assert prompt.hits == tuple(hits)
    assert lines == [f"[{i + 1}] {' '.join(h.chunk.text.split())}" for i, h in enumerate(hits)]


def test_prompt_builder_more_hits_than_max_passages_cut():
    """Guards against the prompt carrying more passages than answer_passages allows."""
    hits = passage_hits("aid", "economy", "coalition")
    prompt = PromptBuilder(max_passages=2).build(AR_QUESTION, hits, "ar")
    assert prompt.hits == tuple(hits[:2])
    assert [line[:3] for line in passage_lines(prompt.messages[1].content)] == ["[1]", "[2]"]


def test_prompt_builder_fitting_passage_unchanged_whitespace_collapsed():
    """Guards against trimming (or mangling) a passage that already fits the budget."""
    text = "أعلنت الولايات المتحدة\nعن 138   مليون دولار.  وقال المسؤولون إن الوزارة تمول البرنامج."
    hit = Hit(Chunk("d", 0, 0, len(text), text), 1.0, 1)
    prompt = PromptBuilder(budget_tokens=600).build(AR_QUESTION, [hit], "ar")
    assert passage_lines(prompt.messages[1].content) == ["[1] " + " ".join(text.split())]


def test_prompt_builder_best_passage_cut_least_and_unused_share_passed_on():
    """Guards against cutting the top passage (the one that most often holds the answer) as hard as the rest."""
    long_passages = [long_hit(f"d{i}", FILLER * 4 + [TARGET], i + 1) for i in range(3)]
    builder = PromptBuilder(budget_tokens=300, max_passages=3, split="rank")

    def sizes(hits):
        lines = passage_lines(builder.build("ماذا أكد الوزراء؟", hits, "ar").messages[1].content)
        return [approx_token_count(re.sub(r"^\[\d+\] ", "", line)) for line in lines]

    first, second, third = sizes(long_passages)
    assert first > second >= third
    short = Hit(Chunk("s", 0, 0, len(TARGET), TARGET), 1.0, 1)
    with_short_first = sizes([short, *long_passages[1:]])
    assert with_short_first[0] == approx_token_count(TARGET)
    assert with_short_first[2] > third  # the budget the short passage left is spent further down
    even = PromptBuilder(budget_tokens=300, max_passages=3).build("ماذا أكد الوزراء؟", long_passages, "ar")
    even_sizes = [
        approx_token_count(re.sub(r"^\[\d+\] ", "", line)) for line in passage_lines(even.messages[1].content)
    ]
    assert max(even_sizes) <= 100 + approx_token_count(TARGET) and first > max(even_sizes)


def test_prompt_builder_over_budget_keeps_question_relevant_sentence():
    """Guards against double-stemming the question ("الوزراء" -> "زراء") so the relevant sentence is cut."""
    hit = long_hit("long", FILLER * 3 + [TARGET] + FILLER)
    excerpt = PromptBuilder().excerpt(hit, "ماذا قال الوزراء؟", 30)
    assert excerpt == TARGET


@settings(max_examples=60, deadline=None)
@given(
    n_passages=st.integers(min_value=1, max_value=4),
    repeats=st.integers(min_value=1, max_value=6),
    budget=st.integers(min_value=200, max_value=700),
    numbered=st.booleans(),
    split=st.sampled_from(["even", "rank"]),
)
def test_prompt_builder_over_budget_passages_within_budget_plus_one_sentence(
    n_passages, repeats, budget, numbered, split
):
    """Guards against long passages blowing the prompt budget (prompt length dominates latency)."""
    fillers = [f"{FILLER[i % 3][:-1]} في الأسبوع رقم {i}." for i in range(3 * repeats)]  # distinct sentences
    sentences = fillers + [TARGET] + ([f"وبلغت قيمة العقد {budget} مليون دولار."] if numbered else [])
    hits = [long_hit(f"d{i}", sentences[i:] + sentences[:i], i + 1) for i in range(n_passages)]
    question = f"ماذا أكد الوزراء عن {budget} مليون؟"
    prompt = PromptBuilder(budget_tokens=budget, max_passages=4, split=split).build(question, hits, "ar")
    lines = passage_lines(prompt.messages[1].content)
    longest = max(approx_token_count(s) for s in sentences)
    kept = [piece for line in lines for piece in re.sub(r"^\[\d+\] ", "", line).split(" … ")]
    assert sum(approx_token_count(p) for p in kept) <= budget + longest
    # passage_tokens also counts the "[n]" labels and " … " joins, which the budget does not cover
    assert prompt.passage_tokens == sum(
        approx_token_count(line) for line in passage_lines(prompt.messages[1].content, quoted=True)
    )
    for line, hit in zip(lines, hits, strict=False):
        text = hit.chunk.text
        pieces = re.sub(r"^\[\d+\] ", "", line).split(" … ")
        if pieces == [" ".join(text.split())]:  # fitted its share: whole passage
            continue
        spans = [text[s:e] for s, e, _ in sentence_spans(text)]
        assert all(p in spans for p in pieces)  # whole sentences only
        positions = [spans.index(p) for p in pieces]
        assert positions == sorted(positions)  # in reading order
        assert TARGET in pieces  # shares words with the question
        if numbered:
            assert f"وبلغت قيمة العقد {budget} مليون دولار." in pieces  # shares the question's number


@pytest.mark.parametrize("language, name", [("ar", "Arabic"), ("en", "English")])
def test_prompt_builder_system_message_has_refusal_and_language(language, name):
    """Guards against the model being told the wrong refusal text or answer language."""
    prompt = PromptBuilder().build("q", passage_hits("aid"), language)
    system, user = prompt.messages
    assert (system.role, user.role) == ("system", "user")
    assert prompts.REFUSALS[language] in system.content
    assert system.content == (
        prompts.SYSTEM.format(refusal=prompts.REFUSALS[language], language=name) + "\n" + safety.QUOTE_RULE
    )
    other = "en" if language == "ar" else "ar"
    assert prompts.REFUSALS[language] in system.content and name in system.content
    assert prompts.REFUSALS[other] not in system.content and prompts.LANGUAGE_NAMES[other] not in system.content
    assert name in user.content


def test_prompt_builder_translation_hint_only_when_given():
    """Guards against an empty "(The question in Arabic: )" line confusing the model."""
    hits = passage_hits("aid")
    with_hint = PromptBuilder().build(EN_QUESTION, hits, "en", AR_TRANSLATION).messages[1].content
    without = PromptBuilder().build(EN_QUESTION, hits, "en").messages[1].content
    assert prompts.TRANSLATION_HINT.format(translation=AR_TRANSLATION) in with_hint
    assert "The question in Arabic" not in without


# --------------------------------------------------------------------------- Answerer


def test_answerer_stream_passages_then_tokens_then_answer():
    """Guards against the UI receiving tokens before passages, or token text that differs from the raw answer."""
    ans, _gen, _ = answerer()
    events = list(ans.stream(AR_QUESTION))
    assert all(isinstance(e, StreamEvent) for e in events)
    kinds = [e.kind for e in events]
    assert kinds[0] == "passages" and kinds[-1] == "answer"
    assert set(kinds[1:-1]) == {"token"} and len(kinds) > 3
    assert "".join(e.text for e in events[1:-1]) == GOOD_ANSWER
    assert events[0].hits == tuple(passage_hits("aid", "economy", "coalition"))
    assert events[-1].answer is not None and events[-1].answer.raw_answer == GOOD_ANSWER


def test_answerer_ask_citations_resolve_to_passages():
    """Guards against a citation [n] resolving to another passage than the prompt's n-th."""
    ans, gen, retriever = answerer()
    answer = ans.ask(AR_QUESTION)
    hits = passage_hits("aid", "economy", "coalition")
    assert not answer.refused and answer.language == "ar"
    assert [(c.n, c.doc_id, c.chunk_id) for c in answer.citations] == [
        (1, "aid", hits[0].chunk_id),
        (3, "coalition", hits[2].chunk_id),
    ]
    for c in answer.citations:
        assert ARTICLES[c.doc_id][c.quote_start : c.quote_end] == c.quote
    assert answer.passages == tuple(hits)
    assert len(gen.stream_calls) == 1 and retriever.calls == [(AR_QUESTION, 3, None)]
    assert "[1]" in answer.answer and "[3]" in answer.answer


@pytest.mark.parametrize(
    "question, reply, language",
    [
        (AR_QUESTION, prompts.REFUSALS["ar"], "ar"),
        (AR_QUESTION, prompts.REFUSALS["en"], "ar"),  # the model refused in the wrong language
        (EN_QUESTION, prompts.REFUSALS["en"], "en"),
        (EN_QUESTION, prompts.REFUSALS["ar"], "en"),
    ],
)
def test_answerer_model_refuses_refusal_in_question_language(question, reply, language):
    """Guards against showing the model's refusal (possibly in the wrong language) instead of the question's."""
    ans, _gen, _ = answerer(reply, translate_queries=False)
    answer = ans.ask(question)
    assert answer.refused and answer.language == language
    assert answer.answer == prompts.REFUSALS[language]
    assert answer.citations == () and answer.raw_answer == reply
    assert "no answer" in answer.refusal_reason


def test_answerer_all_sentences_unsupported_refused_with_reason():
    """Guards against an answer of invented figures being shown because the model cited a passage."""
    raw = "أعلنت الولايات المتحدة عن 380 مليون دولار [1]. ووظف المصنع 9000 عامل [2]."
    ans, _, _ = answerer(raw)
    answer = ans.ask(AR_QUESTION)
    assert answer.refused and answer.answer == prompts.REFUSALS["ar"]
    assert "no sentence of the answer is supported" in answer.refusal_reason
    assert [s.supported for s in answer.sentences] == [False, False]
    assert answer.unsupported == answer.sentences
    assert answer.raw_answer == raw and answer.citations == ()


def test_answerer_no_hits_refused_without_generator():
    """Guards against asking the model to answer from no passages (it would invent an answer)."""
    ans, gen, _ = answerer(hits=[])
    answer = ans.ask(AR_QUESTION)
    assert answer.refused and answer.answer == prompts.REFUSALS["ar"]
    assert answer.refusal_reason == "no passage matched"
    assert gen.calls == 0 and gen.load_calls == 0


@pytest.mark.parametrize(
    "question, match",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("؟ ! ...", "no words"),
        ("س" * 1001, "limit is 1,000"),
    ],
)
def test_answerer_bad_question_input_error_before_generator(question, match):
    """Guards against empty or over-long questions reaching retrieval or the model."""
    ans, gen, retriever = answerer()
    with pytest.raises(InputError, match=match):
        ans.ask(question)
    with pytest.raises(InputError, match=match):
        next(ans.stream(question))
    assert gen.calls == 0 and gen.load_calls == 0 and retriever.calls == []


def test_answerer_generation_error_propagates_then_next_ask_works():
    """Guards against a model failure being swallowed, or leaving the generation lock held (next ask hangs)."""
    ans, gen, _ = answerer()
    gen.fail_next = GenerationError("the model timed out after 120 s")
    with pytest.raises(GenerationError, match="timed out"):
        ans.ask(AR_QUESTION)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("answer", ans.ask(AR_QUESTION)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "second ask blocked: the lock was not released after GenerationError"
    assert not result["answer"].refused
    assert len(gen.stream_calls) == 2


def test_answerer_english_question_translated_once_and_retrievals_merged():
    """Guards against English questions retrieving only with English words over an Arabic corpus."""
    aid, economy, coalition = passage_hits("aid", "economy", "coalition")
    ans, gen, retriever = answerer(
        "The United States announced 138 million dollars in aid [1].",
        translation=f"«{AR_TRANSLATION}»\nextra",
        by_question={EN_QUESTION: [economy, coalition], AR_TRANSLATION: [aid, economy]},
        translate_queries=True,
    )
    answer = ans.ask(EN_QUESTION)
    assert len(gen.generate_calls) == 1
    system, user = gen.generate_calls[0]
    assert (system.role, system.content) == ("system", prompts.TRANSLATE_SYSTEM)
    assert (user.role, user.content) == ("user", EN_QUESTION)
    assert [q for q, _, _ in retriever.calls] == [EN_QUESTION, AR_TRANSLATION]
    # economy was found by both searches, so it is fused first; aid (translation's best) beats coalition
    assert [h.chunk_id for h in answer.passages] == [economy.chunk_id, aid.chunk_id, coalition.chunk_id]
    assert [h.rank for h in answer.passages] == [1, 2, 3]
    prompt_user = gen.stream_calls[0][1].content
    assert prompts.TRANSLATION_HINT.format(translation=AR_TRANSLATION) in prompt_user
    assert "translate_s" in answer.timings
    assert not answer.refused and answer.language == "en"
    assert [(c.n, c.doc_id) for c in answer.citations] == [(2, "aid")]  # the model's [1] re-attributed


def test_answerer_translation_not_arabic_ignored():
    """Guards against an English "translation" (the model echoing the question) being used as the Arabic query."""
    ans, gen, retriever = answerer(
        "The United States announced 138 million dollars in aid [1].",
        translation="How much aid did the US announce?",
        translate_queries=True,
    )
    ans.ask(EN_QUESTION)
    assert len(gen.generate_calls) == 1
    assert [q for q, _, _ in retriever.calls] == [EN_QUESTION]
    assert "The question in Arabic" not in gen.stream_calls[0][1].content


def test_answerer_translate_queries_off_no_translation_call():
    """Guards against an extra (slow) model call when query translation is switched off."""
    ans, gen, retriever = answerer(
        "The United States announced 138 million dollars in aid [1].",
        translation=AR_TRANSLATION,
        translate_queries=False,
    )
    answer = ans.ask(EN_QUESTION)
    assert gen.generate_calls == []
    assert [q for q, _, _ in retriever.calls] == [EN_QUESTION]
    assert "translate_s" not in answer.timings
    assert not answer.refused


def test_answerer_arabic_question_never_translated():
    """Guards against translating a question that is already Arabic."""
    ans, gen, retriever = answerer(translation=AR_TRANSLATION, translate_queries=True)
    ans.ask(AR_QUESTION)
    assert gen.generate_calls == [] and [q for q, _, _ in retriever.calls] == [AR_QUESTION]


def test_answerer_timings_recorded():
    """Guards against missing latency figures (retrieval, prompt size, time to first token, total)."""
    ans, _, _ = answerer()
    timings = ans.ask(AR_QUESTION).timings
    assert {"retrieval_s", "prompt_tokens", "ttft_s", "first_token_s", "total_s"} <= set(timings)
    assert timings["prompt_tokens"] > 0
    assert 0 <= timings["ttft_s"] <= timings["first_token_s"] <= timings["total_s"]
    assert timings["first_token_s"] >= timings["retrieval_s"]
    assert 0 <= timings["retrieval_s"] <= timings["total_s"]


def test_answerer_english_via_arabic_checks_arabic_then_streams_english():
    """Guards against the weak model answering English questions straight from Arabic passages."""
    draft = "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية للشعب السوري [1]."
    gen = ScriptedGenerator(
        [draft, "The United States announced 138 million dollars in humanitarian aid."], translation=AR_TRANSLATION
    )
    ans = Answerer(
        config(translate_queries=True, english_via_arabic=True), StubRetriever(passage_hits("aid", "economy")), gen
    )
    events = list(ans.stream(EN_QUESTION))
    answer = events[-1].answer
    assert "Answer in Arabic" in gen.stream_calls[0][1].content and AR_TRANSLATION in gen.stream_calls[0][1].content
    assert gen.stream_calls[1][0].content == prompts.BACK_TRANSLATE_SYSTEM
    tokens = "".join(e.text for e in events if e.kind == "token")
    assert "138 million" in tokens and "مليون" not in tokens  # only English is streamed
    assert answer.language == "en" and not answer.refused
    assert answer.answer == "The United States announced 138 million dollars in humanitarian aid. [1]"
    assert [(c.n, c.doc_id) for c in answer.citations] == [(1, "aid")]
    assert answer.raw_answer == draft and "translate_answer_s" in answer.timings


def test_answerer_english_via_arabic_translation_changes_number_keeps_arabic():
    """Guards against a back-translation that alters a verified figure (138 -> 183)."""
    draft = "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية للشعب السوري [1]."
    gen = ScriptedGenerator([draft, "The United States announced 183 million dollars."], translation=AR_TRANSLATION)
    ans = Answerer(config(translate_queries=True, english_via_arabic=True), StubRetriever(passage_hits("aid")), gen)
    answer = ans.ask(EN_QUESTION)
    assert "183" not in answer.answer and "138" in answer.answer and answer.answer.endswith("[1]")


def test_answerer_english_via_arabic_refusal_is_english():
    gen = ScriptedGenerator([prompts.REFUSALS["ar"]], translation=AR_TRANSLATION)
    ans = Answerer(config(translate_queries=True, english_via_arabic=True), StubRetriever(passage_hits("aid")), gen)
    answer = ans.ask(EN_QUESTION)
    assert answer.refused and answer.answer == prompts.REFUSALS["en"] and len(gen.stream_calls) == 1
