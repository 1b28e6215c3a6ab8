"""The LLM prompts and refusal texts, kept as data in one place.

The citation checker parses the ``[n]`` format these prompts ask for; change them
together, and measure every change with ``sanad eval`` (the small model is very
sensitive to wording).
"""

from __future__ import annotations

from rag.safety import QUOTE_RULE, quote_passage

LANGUAGE_NAMES = {"ar": "Arabic", "en": "English"}

REFUSALS = {
    "ar": "لا تتوفر في المصادر معلومات كافية للإجابة عن هذا السؤال.",
    "en": "The sources do not contain enough information to answer this question.",
}

SYSTEM = (
    "Answer the question in one or two short sentences, using ONLY facts written in the numbered passages.\n"
    "Copy numbers, names and dates exactly as the passages write them; never compute or guess one.\n"
    "End each sentence with the number of the passage it comes from, like [1].\n"
    "If the passages do not contain the answer, reply exactly: {refusal}\n"
    "Reply in {language}."
)

USER = "Passages:\n{passages}\n\nQuestion: {question}{hint}\nAnswer in {language}, citing passages like [1]:"

PASSAGE = "[{n}] {text}"

# -- evidence first (#11): the model reads a few numbered source sentences, not passages ------------------
# Kept short on purpose: prompt length is the time to first token on a CPU.
EVIDENCE_SYSTEM = (
    "Answer the question in one or two short sentences in {language}, using only the numbered source sentences.\n"
    "Copy numbers, names and dates exactly as written. End each sentence with the number of the source "
    "sentence it uses, like [1].\n"
    "If the sentences do not answer the question, reply exactly: {refusal}"
)
# Added for English answers: Arabic names stay beside the English, so that reader and checker can match them.
EVIDENCE_NAMES_EN = (
    "\nAfter each name of a person, place or organisation, give its Arabic spelling from the "
    "source in parentheses, e.g. Celeste Wallander (سيليست والاندر)."
)
EVIDENCE_USER = "Source sentences:\n{evidence}\n\nQuestion: {question}{hint}\nAnswer in {language}:"


def wrap_evidence(n: int, text: str) -> str:
    """How evidence sentence ``n`` appears in the prompt (``[n] text``): the one place that wraps source text
    for the model, so quoting or delimiting untrusted article text belongs here."""
    return quote_passage(n, text)


def evidence_messages(question: str, evidence: list[str], language: str, translation: str = "") -> tuple[str, str]:
    """The ``(system, user)`` texts asking for an answer to ``question`` from the numbered ``evidence``."""
    name = LANGUAGE_NAMES[language]
    system = EVIDENCE_SYSTEM.format(language=name, refusal=REFUSALS[language]) + "\n" + QUOTE_RULE
    if language == "en":
        system += EVIDENCE_NAMES_EN
    hint = TRANSLATION_HINT.format(translation=translation) if translation else ""
    lines = "\n".join(wrap_evidence(i, text) for i, text in enumerate(evidence, 1))
    return system, EVIDENCE_USER.format(evidence=lines, question=question, hint=hint, language=name)


# What a refusal says about what the sources do give (rag.answerability.explain fills it in).
REFUSAL_FOUND = {"ar": "{refusal} {found}", "en": "{refusal} {found}"}

# Shown under an English question when it was translated for retrieval: helps the model
# match the Arabic passages.
TRANSLATION_HINT = "\n(The question in Arabic: {translation})"

TRANSLATE_SYSTEM = "You translate questions into Modern Standard Arabic. Reply with the Arabic translation only."
TRANSLATE_USER = "{question}"

BACK_TRANSLATE_SYSTEM = (
    "Translate the Arabic sentence into English. Keep every number exactly as written "
    "(digits, not words). Reply with the English translation only."
)

#: Phrases (in normalised form, see rag.textnorm.normalize_arabic) that mean the model declined.
REFUSAL_MARKERS = (
    "لا تتوفر في المصادر",
    "لا تتوفر معلومات",
    "لا تحتوي المقاطع",
    "لا تحتوي النصوص",
    "لا يوجد في المقاطع",
    "لا توجد معلومات كافيه",
    "لا توجد معلومات في المقاطع",
    "لا تذكر المقاطع",
    "لم تذكر المقاطع",
    "لم تذكر النصوص",
    "do not contain enough information",
    "does not contain enough information",
    "do not contain information",
    "not mentioned in the passages",
    "passages do not",
    "no information about",
    "not provided in the passages",
    "cannot be determined",
    "do not provide",
)
