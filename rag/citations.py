"""Parsing and checking the ``[n]`` citations in a generated answer.

The small local model cites wrongly or not at all, so nothing it says is trusted as it
comes: markers that name no passage are removed; every answer sentence is checked
against the passages it cites (its numbers must occur there, and for Arabic answers
most of its content words too); a sentence its citation does not support is
re-attributed to a passage that does, or flagged unsupported. Each surviving citation
carries the passage sentence that supports it, with offsets into the article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.textnorm import STOPWORDS, content_words, light_stem, normalize_arabic, tokenize
from rag.types import Citation, Evidence, Hit, SentenceCheck

_MARKER = re.compile(r"\[\s*([0-9\u0660-\u0669]+(?:\s*[,،]\s*[0-9\u0660-\u0669]+)*)\s*\]")
_BOUNDARY = re.compile(r"(?<=[.!?؟؛])\s+|\n+")
_LEADING_MARKERS = re.compile(r"^(?:\[[^\]\n]{1,20}\]\s*)+")
# Clauses that point at the passages instead of stating a fact; removed before checking.
# Arabic letters in the pattern may carry diacritics in the answer ("وفقًا", "ذُكر").
_META = re.compile(
    r"[,،]?\s*(?:as (?:stated|mentioned|noted|indicated|shown) in|according to|based on|see)\s+(?:the\s+)?"
    r"(?:passage|passages|source|sources)\s*(?:\[?\d+\]?)?"
    + re.sub(
        r"([\u0621-\u064a])",
        "\\1[\u064b-\u0652]*",
        r"|[,،]?\s*(?:كما|وفقا لما|وفق ما)\s+(?:ذكر|ورد|جاء|هو مذكور)\s*(?:ت)?\s+في\s+(?:الفقره|الفقرة|المقطع|النص|المصدر)\s*(?:\[?\d+\]?)?",
    ),
    re.IGNORECASE,
)
_META_WORDS = frozenset(
    {
        "information",
        "found",
        "can",
        "seen",
        "see",
        "shown",
        "passage",
        "passages",
        "stated",
        "mentioned",
        "source",
        "sources",
        "provided",
        "given",
        "text",
        "الفقره",
        "المقطع",
        "النص",
        "المصدر",
        "مذكور",
        "ذكر",
        "ورد",
        "المعلومات",
        "المعلومه",
        "موجوده",
        "توجد",
    }
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

#: Share of an Arabic sentence's content words that must occur in its cited passage(s).
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class ParsedSentence:
    """An answer sentence with its markers taken out."""

    text: str
    markers: tuple[int, ...]


def _digits(s: str) -> str:
    return s.translate({0x0660 + i: str(i) for i in range(10)})


def parse_markers(text: str) -> list[int]:
    """All marker numbers in order of appearance (``[1]``, ``[1, 2]``, ``[١]``)."""
    found: list[int] = []
    for m in _MARKER.finditer(text):
        found.extend(int(_digits(x)) for x in re.split(r"\s*[,،]\s*", m.group(1).strip()))
    return found


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.!?؟؛,،])", r"\1", _MARKER.sub("", text)).strip()


def split_answer(answer: str) -> list[ParsedSentence]:
    """Answer sentences, each keeping the markers that follow it (also after its full stop).

    A sentence ends at . ! ? ؟ ؛ followed by white space (so "7.5" stays whole) or at a line break.
    """
    sentences: list[ParsedSentence] = []
    for piece in _BOUNDARY.split(answer):
        piece = piece.strip()
        lead = _LEADING_MARKERS.match(piece)
        if lead and sentences:  # "... دولار. [1] وقال ..." : the [1] belongs to the sentence before
            prev = sentences[-1]
            sentences[-1] = ParsedSentence(
                prev.text, tuple(dict.fromkeys(prev.markers + tuple(parse_markers(lead.group()))))
            )
            piece = piece[lead.end() :].strip()
        body = _META.sub("", strip_markers(piece)).strip().lstrip(",،").strip()  # "According to passage [1], ..."
        if not re.search(r"[^\W_]", body) or _is_meta(body):
            if sentences and parse_markers(piece):
                prev = sentences[-1]
                sentences[-1] = ParsedSentence(
                    prev.text, tuple(dict.fromkeys(prev.markers + tuple(parse_markers(piece))))
                )
            continue
        sentences.append(ParsedSentence(body, tuple(dict.fromkeys(parse_markers(piece)))))
    return sentences


def _is_meta(sentence: str) -> bool:
    """A sentence that only talks about the passages ("This is found in passage [2].")."""
    words = set(content_words(sentence))
    return bool(words) and words <= _META_WORDS


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text``, digits normalised and thousands separators dropped."""
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(_digits(normalize_arabic(text)))}


def _stems(text: str) -> set[str]:
    return {light_stem(w) for w in content_words(text)}


@dataclass(frozen=True)
class Support:
    """How well a set of passages supports one sentence."""

    missing_numbers: tuple[str, ...]
    overlap: float

    def ok(self, language: str) -> bool:
        if self.missing_numbers:
            return False
        return language != "ar" or self.overlap >= MIN_OVERLAP


def support(sentence: str, passages: Sequence[str], language: str) -> Support:
    """Numbers of ``sentence`` missing from ``passages``, and how much of its wording they back.

    ``overlap`` is measured against *anchor windows* (a passage sentence with its
    neighbours), not the whole passage: for each number of the sentence, the window
    around an occurrence of that number; for a sentence without numbers, its best
    window. A real figure quoted about the wrong subject ("380 fighters" where the
    passage says "380 million dollars for the fund") then fails the check.
    """
    have = numbers_in("\n".join(passages))
    wanted = numbers_in(sentence)
    missing = tuple(sorted(n for n in wanted if n not in have))
    words = _stems(sentence) - wanted
    if not words:
        return Support(missing, 1.0)
    windows = [w for p in passages for w in _windows(p)]
    if wanted:
        anchors: set[str] = set()
        for number in wanted:
            holding = [w for w in windows if number in w[1]]
            if holding:
                anchors |= max(holding, key=lambda w: len(words & w[0]))[0]
        covered = len(words & anchors)
    else:
        covered = max((len(words & w[0]) for w in windows), default=0)
    return Support(missing, covered / len(words))


def _windows(passage: str) -> list[tuple[set[str], set[str]]]:
    """(stems, numbers) of each passage sentence joined with its neighbours."""
    spans = [passage[s:e] for s, e, _ in sentence_spans(passage)] or [passage]
    out = []
    for i in range(len(spans)):
        text = " ".join(spans[max(0, i - 1) : i + 2])
        out.append((_stems(text), numbers_in(text)))
    return out


def best_quote(sentence: str, hit: Hit) -> tuple[str, int, int]:
    """The sentence of ``hit``'s passage that best supports ``sentence``, with article offsets."""
    want_numbers = numbers_in(sentence)
    want_words = _stems(sentence)
    best = (-1.0, 0, len(hit.chunk.text))
    for start, end, _ in sentence_spans(hit.chunk.text):
        piece = hit.chunk.text[start:end]
        score = 2.0 * len(want_numbers & numbers_in(piece)) + len(want_words & _stems(piece))
        if score > best[0]:
            best = (score, start, end)
    _, start, end = best
    return hit.chunk.text[start:end], hit.chunk.start + start, hit.chunk.start + end


class CitationChecker:
    """Checks an answer against the numbered passages it was generated from.

    Example:
        >>> checker = CitationChecker()
        >>> text, sentences, citations = checker.run("The fund gives 380 million [1].", hits, "en")  # doctest: +SKIP
    """

    def run(
        self, answer: str, passages: Sequence[Hit], language: str
    ) -> tuple[str, tuple[SentenceCheck, ...], tuple[Citation, ...]]:
        """Return the cleaned answer (supported sentences, valid markers), per-sentence checks and citations.

        Citation numbers are the passage numbers shown in the prompt (1-based).
        """
        n_passages = len(passages)
        checks: list[SentenceCheck] = []
        kept: list[str] = []
        used: dict[int, tuple[str, int, int]] = {}
        for sentence in split_answer(answer):
            valid = tuple(n for n in sentence.markers if 1 <= n <= n_passages)
            cited_text = [passages[n - 1].chunk.text for n in valid]
            verdict = support(sentence.text, cited_text, language) if valid else None
            reason = ""
            if verdict is None or not verdict.ok(language):
                # Re-attribute to the single passage that supports the sentence best, if any does.
                candidates = [(support(sentence.text, [h.chunk.text], language), i + 1) for i, h in enumerate(passages)]
                good = [(s.overlap, -n, n) for s, n in candidates if s.ok(language)]
                if good:
                    n = max(good)[2]
                    reason = (
                        f"re-attributed from {list(sentence.markers)} to [{n}]"
                        if sentence.markers
                        else f"citation added: [{n}]"
                    )
                    valid, verdict = (n,), support(sentence.text, [passages[n - 1].chunk.text], language)
                elif not _has_claim(sentence.text):
                    checks.append(SentenceCheck(sentence.text, (), True, "no factual claim"))
                    kept.append(sentence.text)
                    continue
                else:
                    why = (
                        f"numbers not in any passage: {', '.join(verdict.missing_numbers)}"
                        if verdict is not None and verdict.missing_numbers
                        else "no passage supports it"
                    )
                    checks.append(SentenceCheck(sentence.text, tuple(sentence.markers), False, why))
                    continue
            for n in valid:
                if n not in used:
                    used[n] = best_quote(sentence.text, passages[n - 1])
            checks.append(SentenceCheck(sentence.text, valid, True, reason))
            kept.append(sentence.text + " " + "".join(f"[{n}]" for n in valid))
        citations = tuple(
            Citation(
                n=n,
                doc_id=passages[n - 1].doc_id,
                chunk_id=passages[n - 1].chunk_id,
                title=passages[n - 1].title,
                quote=q,
                quote_start=s,
                quote_end=e,
                **passages[n - 1].meta(),
            )
            for n, (q, s, e) in sorted(used.items())
        )
        return " ".join(kept).strip(), tuple(checks), citations


def _has_claim(sentence: str) -> bool:
    """Whether a sentence states something checkable (a number or three or more content words)."""
    return bool(numbers_in(sentence)) or len(content_words(sentence)) >= 3


# -- evidence first (#11): answers cite numbered evidence *sentences* ---------------------------------------
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


class EvidenceChecker:
    """Checks an answer against the numbered evidence sentences it was generated from.

    Every answer sentence must cite an evidence sentence holding its numbers, its names (Arabic
    verbatim, or the Arabic in parentheses of an English answer) and, for Arabic, its key words
    (:func:`evidence_problem`); a sentence that fails against what it cites is re-attributed to the one
    evidence sentence that supports it, else dropped.

    Example:
        >>> from rag.types import Evidence
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
