"""The evidence-first citation check (#11): answers that cite numbered evidence *sentences*.

When the prompt shows numbered sentences instead of passages (:mod:`rag.answer_evidence`), every answer
sentence must cite a sentence holding its numbers, its names (Arabic verbatim, or the Arabic in
parentheses of an English answer) and, for Arabic, its key words (:func:`evidence_problem`);
:class:`EvidenceChecker` re-attributes a sentence that fails against what it cites to the one evidence
sentence that supports it, else drops it. :func:`translation_problem` guards the English shown for a checked
Arabic sentence (``english_via_arabic``): the checker cannot read Latin names against Arabic text, so a
translation may only name what the gazetteer finds in the Arabic sentence or what the question names.

Its own module because it shares only answer splitting and number reading with the passage checker
(:class:`rag.citations.CitationChecker`); those stay in :mod:`rag.citations` and are imported from there.
:mod:`rag.citations` re-exports this module's public names on first use, so
``from rag.citations import EvidenceChecker`` keeps working without the two importing each other at load time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer_types import Citation, Evidence, SentenceCheck
from rag.citations import _has_claim, numbers_in, split_answer
from rag.entities import find_entities
from rag.textnorm import STOPWORDS, light_stem, normalize_arabic, tokenize

# Words an answer may add around the facts it copies (normalised, stemmed as rag.textnorm.tokenize does).
_GLUE = frozenset(
    tokenize(
        "يبلغ تبلغ بلغ بلغت يوجد توجد هناك يقدر تقدر قدر عدد قيمه حوالي نحو قرابه اكثر اقل هو هي هم كان كانت "
        "يكون تكون وفق وفقا حسب بحسب المصادر المصدر ذكرت تذكر اشار اشارت قال قالت اكد اكدت ايضا فقط نفس "
        "اسم تاريخ يوم عام سنه مبلغ الجواب الاجابه السوال الاسيله",
        drop_stopwords=False,
    )
)
_AR_WORD = re.compile(r"[\u0621-\u064a]+")
_AR_RUN = re.compile(r"[\u0621-\u064a\u064b-\u0652]+(?:\s+[\u0621-\u064a\u064b-\u0652]+)*")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_CLITIC = ("وب", "وال", "بال", "فال", "لل", "ال", "وس", "و", "ب", "ل", "ف", "ك", "س")

#: Share of an Arabic answer sentence's own key words (not in the question, not glue) that may be
#: missing from the sentence it cites (a paraphrased verb); a near-copy of a cited word always fails.
MAX_MISSING_KEYWORDS = 0.34


def _forms(word: str) -> set[str]:
    """A normalised word, its light stem, and both without one leading clitic."""
    out = {word, light_stem(word)}
    for c in _CLITIC:
        if word.startswith(c) and len(word) - len(c) >= 2:
            out |= {word[len(c) :], light_stem(word[len(c) :])}
    return out


def _word_forms(text: str) -> set[str]:
    return {f for w in _AR_WORD.findall(normalize_arabic(text)) for f in _forms(w)}


def _edit_distance(a: str, b: str, cap: int = 3) -> int:
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return min(prev[-1], cap)


def near_copy(word: str, pool: set[str]) -> str:
    """A word of ``pool`` that ``word`` garbles (edit distance 1–2, same first letter, 4+ letters), or ``""``:
    «العميل» beside «العزم»."""
    core = light_stem(word)
    if len(core) < 3:
        return ""
    for other in pool:
        if other != core and other[:1] == core[:1] and len(other) >= 3 and _edit_distance(core, other) <= 2:
            return other
    return ""


def _swapped(answer_words: list[str], missing: str, cited: Sequence[str]) -> str:
    """The cited word that ``missing`` stands in for inside a phrase the answer otherwise copies, or ``""``.

    «عملية العميل الصلب» against «عملية العزم الصلب»: the answer copies the words on both sides, and in
    the cited sentence another word sits between them: a name copied wrongly. With the phrase copied on
    one side only, the two words must also look alike (:func:`near_copy`).
    """
    for sentence in cited:
        words = _AR_WORD.findall(normalize_arabic(sentence))
        for i, w in enumerate(answer_words):
            if w != missing:
                continue
            before = answer_words[i - 1] if i > 0 else None
            after = answer_words[i + 1] if i + 1 < len(answer_words) else None
            for k, slot in enumerate(words):
                if slot == missing or slot in STOPWORDS or _forms(slot) & _forms(missing):
                    continue
                left = before is not None and k > 0 and words[k - 1] == before
                right = after is not None and k + 1 < len(words) and words[k + 1] == after
                if (left and right) or ((left or right) and near_copy(missing, {light_stem(slot)})):
                    return slot
    return ""


def keyword_problem(sentence: str, cited: Sequence[str], question: str) -> str:
    """Why the key words of an Arabic answer sentence are not those of the sentences it cites, or ``""``.

    Key words: its content words not in the question and not glue ("يبلغ", "حوالي"). Each must occur in
    a cited sentence (with or without a clitic); one that replaces a word inside a phrase the answer
    otherwise copies (a garbled name: «العميل الصلب» for «العزم الصلب») fails the sentence, and so does
    more than :data:`MAX_MISSING_KEYWORDS` of them missing.
    """
    asked = _word_forms(question)
    pool = set().union(*(_word_forms(c) for c in cited)) if cited else set()
    words = [
        w
        for w in dict.fromkeys(_AR_WORD.findall(normalize_arabic(sentence)))
        if w not in STOPWORDS and not (_forms(w) & asked) and not (_forms(w) & _GLUE) and len(w) >= 2
    ]
    missing = [w for w in words if not (_forms(w) & pool)]
    answer_words = _AR_WORD.findall(normalize_arabic(sentence))
    for w in missing:
        other = _swapped(answer_words, w, cited)
        if other:
            return f"«{w}» is not in the cited sentence (it has «{other}» there)"
    if words and len(missing) / len(words) > MAX_MISSING_KEYWORDS:
        return "key words not in the cited sentence: " + "، ".join(missing)
    return ""


def name_problem(sentence: str, cited: Sequence[str], language: str) -> str:
    """A name written in the other script that no cited sentence holds (an Arabic name in parentheses in
    an English answer; a Latin name in an Arabic one), or ``""``."""
    if language == "en":
        for run in _AR_RUN.findall(sentence):
            words = [normalize_arabic(w) for w in run.split()]
            if not any(all(_forms(w) & _word_forms(c) for w in words) for c in cited):
                return f"name «{run}» is not in the cited sentence"
        return ""
    for name in _LATIN.findall(sentence):
        if sum(ch.isalpha() for ch in name) >= 2 and not any(name.lower() in c.lower() for c in cited):
            return f"name {name!r} is not in the cited sentence"
    return ""


def evidence_problem(sentence: str, cited: Sequence[str], language: str, question: str = "") -> str:
    """Why ``sentence`` is not supported by the ``cited`` evidence sentences, or ``""`` when it is."""
    if not cited:
        return "cites no evidence sentence"
    missing = sorted(numbers_in(sentence) - numbers_in("\n".join(cited)))
    if missing:
        return f"numbers not in the cited sentence: {', '.join(missing)}"
    problem = name_problem(sentence, cited, language)
    if problem:
        return problem
    if language == "ar" or (re.search(r"[\u0621-\u064a]{2,}", sentence) and not re.search(r"[A-Za-z]{3,}", sentence)):
        return keyword_problem(sentence, cited, question)
    return ""


# Capitalised words a translation may use that name no one (titles and words of roles, weekdays, months).
_CAPITALISED_OK = frozenset(
    {
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "of",
        "for",
        "and",
        "but",
        "he",
        "she",
        "it",
        "they",
        "his",
        "her",
        "its",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "by",
        "with",
        "as",
        "according",
        "from",
        "to",
        "defense",
        "defence",
        "foreign",
        "interior",
        "minister",
        "ministry",
        "prime",
        "president",
        "secretary",
        "assistant",
        "spokesman",
        "spokesperson",
        "deputy",
        "army",
        "forces",
        "force",
        "government",
        "council",
        "parliament",
        "state",
        "states",
        "united",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "split",
    }
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")


def translation_problem(english: str, arabic: str, question: str = "") -> str:
    """Why the English translation of a checked Arabic sentence may not be shown, or ``""``.

    The small model, translating alone, renders names freely («جو بايدن» as "George W. Bush", «السوداني»
    as "the Sudanese"), and nothing else checks a Latin name against Arabic text. So every name the
    translation writes must be a gazetteer entity (:mod:`rag.entities`) that the Arabic sentence names, or a
    word of the question; any other capitalised word (not the first, not a title or date word) fails.

    Example:
        >>> translation_problem("President George W. Bush met them.", "التقى الرئيس جو بايدن بهم.")
        'a name the sentence does not give: George W. Bush'
        >>> translation_problem("President Joe Biden met them.", "التقى الرئيس جو بايدن بهم.")
        ''
    """
    given = {m.key for m in find_entities(arabic)} | {m.key for m in find_entities(question)}
    text = english
    for m in reversed(find_entities(english)):
        if m.key not in given:
            return f"a name the sentence does not give: {m.text}"
        text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
    asked = {w.casefold() for w in re.findall(r"[\w'-]+", question)}
    words = [m for m in _CAPITALISED.finditer(text) if m.start() > 0 and text[: m.start()].strip()]
    unknown = [
        m.group() for m in words if m.group().casefold() not in _CAPITALISED_OK and m.group().casefold() not in asked
    ]
    return f"a name the sentence does not give: {', '.join(dict.fromkeys(unknown))}" if unknown else ""


class EvidenceChecker:
    """Checks an answer against the numbered evidence sentences it was generated from.

    Every answer sentence must cite an evidence sentence holding its numbers, its names (Arabic
    verbatim, or the Arabic in parentheses of an English answer) and, for Arabic, its key words
    (:func:`evidence_problem`); a sentence that fails against what it cites is re-attributed to the one
    evidence sentence that supports it, else dropped.

    Example:
        >>> from rag.answer_types import Evidence
        >>> ev = [Evidence(1, "d", "c", "t", "عملية العزم الصلب بقيادة أميركية", 0, 33)]
        >>> EvidenceChecker().run("تعرف باسم عملية العميل الصلب [1].", ev, "ar")[0]
        ''
    """

    def run(
        self, answer: str, evidence: Sequence[Evidence], language: str, question: str = ""
    ) -> tuple[str, tuple[SentenceCheck, ...], tuple[Citation, ...]]:
        """The answer's supported sentences (with their markers), per-sentence checks, and citations."""
        checks: list[SentenceCheck] = []
        kept: list[str] = []
        used: set[int] = set()
        texts = {e.n: e.text for e in evidence}
        for sentence in split_answer(answer):
            valid = tuple(n for n in sentence.markers if n in texts)
            problem = evidence_problem(sentence.text, [texts[n] for n in valid], language, question)
            reason = ""
            if problem:
                fits = [n for n in texts if not evidence_problem(sentence.text, [texts[n]], language, question)]
                if fits:
                    reason = (
                        f"re-attributed from {list(sentence.markers)} to [{fits[0]}]"
                        if sentence.markers
                        else f"citation added: [{fits[0]}]"
                    )
                    valid = (fits[0],)
                elif not _has_claim(sentence.text) and not numbers_in(sentence.text):
                    checks.append(SentenceCheck(sentence.text, (), True, "no factual claim"))
                    kept.append(sentence.text)
                    continue
                else:
                    checks.append(SentenceCheck(sentence.text, tuple(sentence.markers), False, problem))
                    continue
            used.update(valid)
            checks.append(SentenceCheck(sentence.text, valid, True, reason))
            kept.append(sentence.text + " " + "".join(f"[{n}]" for n in valid))
        citations = tuple(
            Citation(
                n=e.n,
                doc_id=e.doc_id,
                chunk_id=e.chunk_id,
                title=e.title,
                quote=e.text,
                quote_start=e.start,
                quote_end=e.end,
                published=e.published,
                source=e.source,
            )
            for e in evidence
            if e.n in used
        )
        if not citations:  # sentences with no claim alone are no answer
            return "", tuple(checks), ()
        return " ".join(kept).strip(), tuple(checks), citations


__all__ = [
    "MAX_MISSING_KEYWORDS",
    "EvidenceChecker",
    "evidence_problem",
    "keyword_problem",
    "name_problem",
    "near_copy",
]
