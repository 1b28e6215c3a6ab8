"""Conflict notices: the sentence an answer gains when its sources disagree, written without the model.

When the evidence for a question disagrees on a figure, a date or a name (:mod:`rag.conflicts`
finds that by reading the sentences), the answer must say so with both values, both dates and both
citations. The model is not trusted with that: :func:`conflict_notice` writes the sentence from the
:class:`rag.answer_types.Conflict` records, in the answer's language, and :func:`with_conflict_notice` appends
it to the answer text. Three steps, each a plain function so that the answer pipeline can be re-wired
around them:

1. :func:`evidence_for` — the evidence sentences for the question (the pipeline's evidence selection
   when ``rag.evidence`` is installed, else the best sentences of the retrieved passages, plus a
   keyword probe for the other side of a possible disagreement), and the passages they come from;
2. :func:`attach_conflicts` — the conflicts renumbered into the answer's citation numbers: a side
   already among the passages the model read keeps that passage's number; a side from another passage
   is appended to ``Answer.passages`` and cited with the next number;
3. :func:`with_conflict_notice` — ``answer text + " " + notice``.

Example:
    >>> print(conflict_notice([conflict], "en"))                                    # doctest: +SKIP
    Sources disagree on this figure: about 2,500 according to a report of 2024-04-15 [1]; at most 2,000
    as of 2021-12-31 (report of 2023-08-09) [3].
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rag.answer_types import Answer, Citation, Conflict, ConflictValue, Evidence
from rag.chunking import sentence_spans
from rag.claims import ClaimQuery
from rag.conflicts import ConflictDetector
from rag.entities import find_entities
from rag.textnorm import tokenize
from rag.types import Article, Filters, Hit

if TYPE_CHECKING:
    from rag.pipeline import Sanad

logger = logging.getLogger(__name__)

#: Passages retrieved per question for conflict evidence, and evidence sentences kept.
EVIDENCE_PASSAGES = 12
EVIDENCE_SENTENCES = 16
#: Passages each conflict probe (a keyword search for the other side of a claim) adds.
PROBE_PASSAGES = 4

#: The notice's words, per answer language (data, like the prompts in rag/prompts.py).
NOTICE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "quantity": "Sources disagree on this figure: ",
        "date": "Sources disagree on this date: ",
        "name": "Sources disagree on this name: ",
        "other": "Sources disagree: ",
        "published": "{value} according to a report of {published}",
        "dated": "{value} as of {date}",
        "dated_report": "{value} as of {date} (report of {published})",
        "undated": "{value}",
        "sep": "; ",
        "end": ".",
    },
    "ar": {
        "quantity": "تختلف المصادر في هذا الرقم: ",
        "date": "تختلف المصادر في هذا التاريخ: ",
        "name": "تختلف المصادر في هذا الاسم: ",
        "other": "تختلف المصادر: ",
        "published": "{value} بحسب تقرير بتاريخ {published}",
        "dated": "{value} في {date}",
        "dated_report": "{value} في {date} (تقرير بتاريخ {published})",
        "undated": "{value}",
        "sep": "؛ ",
        "end": ".",
    },
}

_QUALIFIERS_EN = re.compile(r"^(about|at most|at least|more than|less than|over|under|nearly|up to)\s+")


def _number(text: str) -> str:
    """Digits grouped by thousands (``2500`` → ``2,500``); other text as it is."""
    return re.sub(r"(?<![\d.,])\d{4,}(?![\d.,])", lambda m: f"{int(m.group()):,}", text)


def value_text(value: ConflictValue, kind: str, language: str) -> str:
    """How a side's value is written in the notice (and the UI's notice block): the source's words in Arabic, the normalised reading
    (``about 2,500``) in English for figures; never empty."""
    if language == "en" and kind == "quantity" and value.normalized:
        return _number(value.normalized)
    if language == "ar":  # «بحوالي 2500 جندي» reads «حوالي 2500 جندي» on its own
        return re.sub(r"^[بو](?=(?:حوالي|حوالى|نحو|قرابة)\b)", "", value.value) or value.normalized
    return value.normalized or value.value


def conflict_notice(conflicts: Sequence[Conflict], language: str) -> str:
    """The notice for ``conflicts``: one sentence per conflict, each side with its value, date and ``[n]``.

    Deterministic (no model): the same conflicts always give the same text. ``""`` when there are none.
    A side's date is the one its sentence gives (``as of``), with the report's publication date when
    that differs, else the publication date (``according to a report of``).
    """
    words = NOTICE_TEXT["ar" if language == "ar" else "en"]
    sentences = []
    for conflict in conflicts:
        sides = []
        for v in conflict.values:
            value = value_text(v, conflict.kind, language)
            if v.date and v.date_source == "text":
                key = "dated_report" if v.published and v.published != v.date else "dated"
            elif v.date or v.published:
                key = "published"
            else:
                key = "undated"
            text = words[key].format(value=value, date=v.date, published=v.published or v.date)
            sides.append(f"{text} [{v.n}]")
        if len(sides) >= 2:
            sentences.append(words.get(conflict.kind, words["other"]) + words["sep"].join(sides) + words["end"])
    return " ".join(sentences)


def with_conflict_notice(answer_text: str, conflicts: Sequence[Conflict], language: str) -> str:
    """``answer_text`` with the conflict notice appended (unchanged when there is no conflict)."""
    notice = conflict_notice(conflicts, language)
    if not notice:
        return answer_text
    return f"{answer_text.rstrip()}\n\n{notice}" if answer_text.strip() else notice


# -- evidence ------------------------------------------------------------------------------------------
def evidence_for(
    sanad: Sanad,
    question: str,
    articles: Mapping[str, Article],
    *,
    passages: int = EVIDENCE_PASSAGES,
    sentences: int = EVIDENCE_SENTENCES,
    filters: Filters | None = None,
) -> tuple[Evidence, ...]:
    """The evidence sentences for ``question``, numbered from 1, without the LLM (see :func:`gather_evidence`)."""
    return gather_evidence(sanad, question, articles, passages=passages, sentences=sentences, filters=filters)[0]


def gather_evidence(
    sanad: Sanad,
    question: str,
    articles: Mapping[str, Article],
    *,
    passages: int = EVIDENCE_PASSAGES,
    sentences: int = EVIDENCE_SENTENCES,
    filters: Filters | None = None,
) -> tuple[tuple[Evidence, ...], dict[str, Hit]]:
    """The evidence sentences for ``question`` and the retrieved passages by chunk id.

    The sentences of the retrieved passages ranked by shared words and entities with the question and by
    passage rank; a keyword probe for the other side of a possible disagreement adds passages. (Not the
    answer's own evidence selection, :mod:`rag.evidence`: that keeps the few sentences that answer, and
    may leave out the other side of a disagreement; the conflicts suite measures this pick.)
    """

    hits = list(sanad.search(question, k=passages, filters=filters))
    seen = {h.chunk_id for h in hits}
    first = _lexical_evidence(question, hits, articles, sentences)
    for probe in ConflictDetector().probes(question, first):  # the other side of a possible disagreement
        for h in sanad.search(probe, k=PROBE_PASSAGES, mode="bm25", filters=filters):
            if h.chunk_id not in seen:
                seen.add(h.chunk_id)
                hits.append(h)
    # Article text is untrusted (#10): a figure an injected instruction asks for must not become one side of a
    # "disagreement". Sentences are read from the whole article here, so flagged articles are left out.
    from rag.safety import screen_hits

    screened, flagged = screen_hits(hits, articles)
    hits = [h for h in screened if h.doc_id not in flagged]
    by_chunk = {h.chunk_id: h for h in hits}
    return _lexical_evidence(question, hits, articles, sentences), by_chunk


def _lexical_evidence(
    question: str, hits: Sequence[Hit], articles: Mapping[str, Article], limit: int
) -> tuple[Evidence, ...]:
    """Sentences of ``hits`` ranked by shared stems, shared entities, readings of the claim the question
    asks about (a figure in its unit, a date, a name: :meth:`ConflictDetector.readings`) and passage rank."""
    terms = set(tokenize(question))
    keys = {m.key for m in find_entities(question)}
    detector = ConflictDetector()
    query = ClaimQuery.make(question)
    scored: dict[tuple[str, int], tuple[float, Evidence]] = {}
    for rank, hit in enumerate(hits):
        article = articles.get(hit.doc_id)
        if article is None:
            continue
        for s, e, _ in sentence_spans(article.text):
            if e <= hit.chunk.start or s >= hit.chunk.end or (hit.doc_id, s) in scored:
                continue
            text = article.text[s:e]
            probe = Evidence(
                n=0, doc_id=hit.doc_id, chunk_id="", title="", text=text, start=s, end=e, published=article.published
            )
            score = (
                len(terms & set(tokenize(text)))
                + 2 * len(keys & {m.key for m in find_entities(text)})
                + 6 * min(1, detector.readings(query, probe))
                + 1.0 / (1 + rank)
            )
            scored[(hit.doc_id, s)] = (
                score,
                Evidence(
                    n=0,
                    doc_id=hit.doc_id,
                    chunk_id=hit.chunk_id,
                    title=article.title,
                    text=text,
                    start=s,
                    end=e,
                    score=score,
                    published=article.published,
                    source=article.source,
                ),
            )
    best = sorted(scored.values(), key=lambda x: -x[0])[:limit]
    return tuple(dataclasses.replace(ev, n=i) for i, (_, ev) in enumerate(best, 1))


# -- the answer ----------------------------------------------------------------------------------------
def attach_conflicts(answer: Answer, conflicts: Sequence[Conflict], hits: Mapping[str, Hit]) -> Answer:
    """``answer`` with ``conflicts`` renumbered into its citations, and the notice appended to its text.

    Each side is cited by the number of the passage it is in: one the model read keeps its number; any
    other (from ``hits``, by chunk id) is appended to ``answer.passages``. Every side gets a
    :class:`Citation` (its sentence as the quote) unless the answer already cites that sentence.
    """
    if not conflicts:
        return answer
    passages = list(answer.passages)
    citations = list(answer.citations)
    renumbered = []
    for conflict in conflicts:
        values = []
        for v in conflict.values:
            n = next((i for i, h in enumerate(passages, 1) if h.chunk_id and h.chunk_id == _chunk_of(v, hits)), 0)
            if not n:
                n = next(
                    (
                        i
                        for i, h in enumerate(passages, 1)
                        if h.doc_id == v.doc_id and h.chunk.start <= v.start < h.chunk.end
                    ),
                    0,
                )
            if not n:
                hit = hits.get(_chunk_of(v, hits))
                if hit is None:
                    logger.warning("conflict side in %s has no passage; not cited", v.doc_id)
                    break
                passages.append(hit)
                n = len(passages)
            hit = passages[n - 1]
            if not any(c.n == n and c.quote_start < v.end and v.start < c.quote_end for c in citations):
                citations.append(
                    Citation(
                        n=n,
                        doc_id=v.doc_id,
                        chunk_id=hit.chunk_id,
                        title=hit.title or v.title,
                        quote=v.quote,
                        quote_start=v.start,
                        quote_end=v.end,
                        published=hit.published or v.published,
                        source=hit.source or v.source,
                        url=hit.url,
                        author=hit.author,
                    )
                )
            values.append(dataclasses.replace(v, n=n))
        else:
            renumbered.append(dataclasses.replace(conflict, values=tuple(values)))
    if not renumbered:
        return answer
    citations.sort(key=lambda c: (c.n, c.quote_start))
    return dataclasses.replace(
        answer,
        answer=with_conflict_notice(answer.answer, renumbered, answer.language),
        citations=tuple(citations),
        passages=tuple(passages),
        conflicts=tuple(renumbered),
    )


def _chunk_of(value: ConflictValue, hits: Mapping[str, Hit]) -> str:
    """The chunk id of the retrieved passage that holds ``value``'s sentence (``""`` when none)."""
    holding = [
        (cid, h) for cid, h in hits.items() if h.doc_id == value.doc_id and h.chunk.start <= value.start < h.chunk.end
    ]
    whole = [cid for cid, h in holding if h.chunk.end >= value.end]  # the whole sentence, when one has it
    return (whole or [cid for cid, _ in holding] or [""])[0]


def detect_conflicts(sanad: Sanad, question: str, answer: Answer, *, filters: Filters | None = None) -> Answer:
    """``answer`` with the conflicts its question's evidence holds, renumbered and noticed (no model)."""
    articles: Mapping[str, Any] = sanad.retriever.index.articles
    evidence, hits = gather_evidence(sanad, question, articles, filters=filters)
    conflicts = ConflictDetector().run(question, evidence, articles)
    return attach_conflicts(answer, conflicts, hits)


__all__ = [
    "attach_conflicts",
    "conflict_notice",
    "detect_conflicts",
    "evidence_for",
    "gather_evidence",
    "value_text",
    "with_conflict_notice",
]
