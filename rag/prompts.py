"""The LLM prompts and refusal texts, kept as data in one place.

The citation checker parses the ``[n]`` format these prompts ask for; change them
together, and measure every change with ``sanad eval`` (the small model is very
sensitive to wording).
"""

from __future__ import annotations

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

# Shown under an English question when it was translated for retrieval: helps the model
# match the Arabic passages.
TRANSLATION_HINT = "\n(The question in Arabic: {translation})"

TRANSLATE_SYSTEM = "You translate questions into Modern Standard Arabic. Reply with the Arabic translation only."
TRANSLATE_USER = "{question}"

BACK_TRANSLATE_SYSTEM = ("Translate the Arabic sentence into English. Keep every number exactly as written "
                         "(digits, not words). Reply with the English translation only.")

#: Phrases (in normalised form, see rag.textnorm.normalize_arabic) that mean the model declined.
REFUSAL_MARKERS = (
    "لا تتوفر في المصادر", "لا تتوفر معلومات", "لا تحتوي المقاطع", "لا تحتوي النصوص", "لا يوجد في المقاطع",
    "لا توجد معلومات كافيه", "لا توجد معلومات في المقاطع", "لا تذكر المقاطع", "لم تذكر المقاطع", "لم تذكر النصوص",
    "do not contain enough information", "does not contain enough information", "do not contain information",
    "not mentioned in the passages", "passages do not", "no information about", "not provided in the passages",
    "cannot be determined", "do not provide",
)
