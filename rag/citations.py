"""Parsing and checking the ``[n]`` citations in a generated answer.

The small local model cites wrongly or not at all, so nothing it says is trusted as it
comes: markers that name no passage are removed; every answer sentence is checked
against the passages it cites (its numbers must occur there, and for Arabic answers
most of its content words too); a sentence its citation does not support is
re-attributed to a passage that does, or flagged unsupported. Each surviving citation
carries the passage sentence that supports it, with offsets into the article.

The evidence-first checker (:class:`~rag.citations_evidence.EvidenceChecker`: answers that cite numbered
evidence sentences) lives in :mod:`rag.citations_evidence` and reuses the answer splitting and number
reading here. Its public names are re-exported from this module on first use (PEP 562), so
``from rag.citations import EvidenceChecker`` keeps working although that module imports this one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer_types import Citation, SentenceCheck
from rag.chunking import sentence_spans
from rag.textnorm import content_words, light_stem, normalize_arabic
from rag.types import Hit

if TYPE_CHECKING:  # what type checkers see; at run time these are imported on first use (``__getattr__`` below)
    from rag.citations_evidence import (
        MAX_MISSING_KEYWORDS,
        EvidenceChecker,
        evidence_problem,
        keyword_problem,
        name_problem,
        near_copy,
    )


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


#: Names whose home is :mod:`rag.citations_evidence`, re-exported here. That module imports this one's answer
#: splitting, so importing them at the top would make the two modules import each other.
_EVIDENCE_NAMES = frozenset(
    {"MAX_MISSING_KEYWORDS", "EvidenceChecker", "evidence_problem", "keyword_problem", "name_problem", "near_copy"}
)


def __getattr__(name: str) -> Any:
    if name not in _EVIDENCE_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rag import citations_evidence

    value = getattr(citations_evidence, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EVIDENCE_NAMES})


__all__ = [
    "MAX_MISSING_KEYWORDS",
    "MIN_OVERLAP",
    "CitationChecker",
    "EvidenceChecker",
    "ParsedSentence",
    "Support",
    "best_quote",
    "evidence_problem",
    "keyword_problem",
    "name_problem",
    "near_copy",
    "numbers_in",
    "parse_markers",
    "split_answer",
    "strip_markers",
    "support",
]
