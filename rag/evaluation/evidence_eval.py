"""Evidence selection without the LLM: is the gold sentence among the sentences selected for the model?

For each answerable question the passages are retrieved (``sanad.search``, the configured mode,
``evidence_passages`` of them, as the answer pipeline reads) and handed to an *evidence selector*, a callable::

    selector(question: str, hits: Sequence[Hit]) -> Sequence[Evidence]

returning the source sentences the model would read (``Evidence.doc_id/start/end`` in article
offsets). The production selector is found with :func:`load_selector` (``rag.evidence``); any
callable of that shape can be passed to :func:`evaluate_evidence` instead.

Gold: XQuAD's answer sentence from XQuAD-R's sentence boundaries (an external check: nobody on the
project drew them), else the item's evidence (the seeds' quotes, ARCD's answer span). A gold span
counts as found when a selected sentence covers at least half of it
(:func:`rag.evaluation.metrics.covers`). Also reported: the same for the retrieved passages
themselves (the most any selector over them can find), and how many sentences / characters were
selected (what the prompt costs).

As the evidence stage of ``sanad eval`` (:func:`rag.evaluation.runner.run_eval`), :func:`evidence_stage`
scores a seeded sample of the answerable questions (:data:`EVIDENCE_DEFAULT` on XQuAD / ARCD, every one
of a seeds or user suite) against the gold sentences :func:`suite_sentences` finds.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rag.answer_types import Evidence
from rag.errors import SanadError
from rag.evaluation import metrics as M
from rag.evaluation.datasets import SEED, QAItem, Suite, paired_sample, stratified_sample
from rag.textnorm import tokenize
from rag.types import Hit

if TYPE_CHECKING:
    from rag.pipeline import Sanad

logger = logging.getLogger(__name__)

Selector = Callable[[str, Sequence[Hit]], Sequence[Evidence]]
Span = tuple[str, int, int]
#: Questions whose evidence selection is scored (no LLM) on XQuAD / ARCD when --evidence is not given.
EVIDENCE_DEFAULT = 300
EVIDENCE_COLUMNS = ("n", "passage_recall", "sentence_recall", "selected", "chars")
_SENTENCE_END = re.compile(r"[.!?؟۔]+[\"'”»)]*(?=\s|$)|\n+")


def load_selector(sanad: Any) -> tuple[Selector | None, str]:
    """The production evidence selector bound to ``sanad``'s config and embedder, and its name.

    Contract (``rag/evidence.py``): ``select_evidence(question, hits, *, config, embedder)`` returning
    ``Evidence`` records, numbered from 1. ``(None, reason)`` when there is none yet.
    """
    try:
        from rag import evidence
    except ImportError:
        return None, "no evidence selector (rag/evidence.py) in this version"
    select = getattr(evidence, "select_evidence", None)
    if select is None:
        return None, "rag.evidence has no select_evidence(question, hits, *, config, embedder)"

    def selector(question: str, hits: Sequence[Hit]) -> Sequence[Evidence]:
        return select(question, hits, config=sanad.config, embedder=sanad.embedder)

    label = "rag.evidence.select_evidence"
    selector.label = label  # type: ignore[attr-defined]
    return selector, label


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (shifted by ``offset``), trimmed of spaces."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        piece = text[s:e]
        if piece.strip():
            s += len(piece) - len(piece.lstrip())
            e -= len(piece) - len(piece.rstrip())
            out.append((offset + s, offset + e))
    return out


def lexical_selector(max_sentences: int = 3) -> Selector:
    """A reference selector: the passages' sentences sharing the most question terms (ties: passage order).

    Not the production selector: a floor to compare it with, and what the metric's tests use.
    """

    def select(question: str, hits: Sequence[Hit]) -> list[Evidence]:
        terms = set(tokenize(question))
        scored = []
        for rank, hit in enumerate(hits):
            chunk = hit.chunk
            for s, e in split_sentences(chunk.text, chunk.start):
                text = chunk.text[s - chunk.start : e - chunk.start]
                overlap = len(terms & set(tokenize(text)))
                scored.append((-overlap, rank, s, hit, e, text))
        scored.sort(key=lambda x: x[:3])
        return [
            Evidence(
                n=i + 1,
                doc_id=h.doc_id,
                chunk_id=h.chunk_id,
                title=h.title,
                text=text,
                start=s,
                end=e,
                score=float(-neg),
            )
            for i, (neg, _, s, h, e, text) in enumerate(scored[:max_sentences])
        ]

    select.label = f"lexical overlap, top {max_sentences} sentences"  # type: ignore[attr-defined]
    return select


def gold_evidence(
    item: QAItem, articles: Mapping[str, Any], sentences: Mapping[str, tuple[tuple[int, int], ...]] | None = None
) -> list[Span]:
    """The gold spans evidence selection is scored against: XQuAD-R sentences for XQuAD items when
    ``sentences`` is given, else the item's evidence spans (or its quotes located in the articles)."""
    if sentences and item.evidence_spans and all(d in sentences for d, _, _ in item.evidence_spans):
        from rag.evaluation.external import gold_sentences

        return [(g.doc_id, g.start, g.end) for g in gold_sentences(item, dict(sentences), dict(articles))]
    if item.evidence_spans is not None:
        return list(item.evidence_spans)
    spans = []
    for doc_id, quote in zip(item.gold_doc_ids, item.evidence, strict=False):
        article = articles.get(doc_id)
        where = M.locate_quote(article.text, quote) if article is not None else None
        if where is not None:
            spans.append((doc_id, *where))
    return spans


def evaluate_evidence(
    sanad: Any,
    items: Sequence[QAItem],
    selector: Selector,
    *,
    k: int | None = None,
    sentences: Mapping[str, tuple[tuple[int, int], ...]] | None = None,
    show_progress: bool = False,
) -> tuple[dict[str, dict], dict[str, dict]]:
    """Score ``selector`` on the answerable ``items``: ``({lang group: row}, {item id: record})``.

    Rows hold ``n``, ``passage_recall`` (gold covered by a retrieved passage), ``sentence_recall``
    (gold covered by a selected sentence), ``selected`` (mean sentences) and ``chars`` (mean characters).
    """
    k = k or getattr(sanad.config, "evidence_passages", sanad.config.answer_passages)
    articles = sanad.retriever.index.articles
    records: dict[str, dict] = {}
    chosen = [it for it in items if it.answerable]
    iterable: Any = chosen
    if show_progress:
        from tqdm import tqdm

        iterable = tqdm(chosen, desc="evidence", unit="q", file=sys.stderr, dynamic_ncols=True)
    for it in iterable:
        gold = gold_evidence(it, articles, sentences)
        if not gold:
            continue
        t = time.perf_counter()
        hits = sanad.search(it.question, k=k)
        picked = list(selector(it.question, hits))
        seconds = time.perf_counter() - t
        passages = [(h.doc_id, h.chunk.start, h.chunk.end) for h in hits]
        selected = [(e.doc_id, e.start, e.end) for e in picked]
        records[it.id] = {
            "lang": it.lang,
            "gold": [list(g) for g in gold],
            "selected": [list(s) for s in selected],
            "passage_recall": M.evidence_recall(passages, gold),
            "sentence_recall": M.evidence_recall(selected, gold),
            "selected_n": len(picked),
            "chars": sum(len(e.text) for e in picked),
            "seconds": seconds,
        }
    table: dict[str, dict] = {}
    for group in ("ar", "en", "all"):
        rows = [r for r in records.values() if group in ("all", r["lang"])]
        if rows:
            table[group] = {
                "n": len(rows),
                "passage_recall": M.mean(r["passage_recall"] for r in rows),
                "sentence_recall": M.mean(r["sentence_recall"] for r in rows),
                "selected": M.mean(r["selected_n"] for r in rows),
                "chars": M.mean(r["chars"] for r in rows),
            }
    return table, records


def evidence_markdown(table: Mapping[str, dict], selector_name: str, gold_name: str, k: int) -> list[str]:
    """The Evidence section of the report."""
    lines = [
        "## Evidence selection (no LLM)",
        "",
        f"Selector `{selector_name}` over the top {k} passages of `sanad.search`; gold: {gold_name}. "
        "Passage R: gold sentence inside a retrieved passage (the most a selector can find); sentence R: "
        "covered by a selected sentence (≥ half of it); selected / chars: per question.",
        "",
    ]
    header = ["lang", "n", "passage R", "sentence R", "selected", "chars"]
    rows = []
    for group, row in table.items():
        rows.append(
            [
                group,
                str(row["n"]),
                *(f"{row[c]:.3f}" if row[c] is not None else "–" for c in ("passage_recall", "sentence_recall")),
                f"{row['selected']:.1f}",
                f"{row['chars']:.0f}",
            ]
        )
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    return lines


# -- the evidence stage of sanad eval ---------------------------------------------------------------
def suite_sentences(suite: Suite) -> dict[str, tuple[tuple[int, int], ...]] | None:
    """XQuAD-R's sentence spans for the XQuAD suite (the gold evidence sentences), else ``None``."""
    if suite.name != "xquad":
        return None
    from rag.evaluation.external import load_xquad_sentences

    try:
        return load_xquad_sentences()
    except SanadError as exc:
        logger.warning("no XQuAD-R sentences (%s); evidence is scored against the answer spans", exc)
        return None


def evidence_stage(
    target: Sanad,
    items: Sequence[QAItem],
    suite: Suite,
    n: int | None,
    selector: Selector | None,
    sentences: Mapping[str, tuple[tuple[int, int], ...]] | None,
    seed: int = SEED,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Score evidence selection on a sample of the answerable questions (no LLM); ``{}`` when ``n`` is 0."""
    if n == 0:
        return {}
    name = getattr(selector, "label", "the given selector")
    if selector is None:
        selector, name = load_selector(target)
        if selector is None:
            return {"skipped": name}
    answerable = [it for it in items if it.answerable]
    if n is None:
        n = EVIDENCE_DEFAULT if suite.articles else len(answerable)
    chosen = (
        paired_sample(answerable, n, seed=seed)
        if suite.name == "xquad"
        else stratified_sample(answerable, n, key=lambda it: (it.lang, it.type), seed=seed)
    )
    t = time.perf_counter()
    table, records = evaluate_evidence(target, chosen, selector, sentences=sentences, show_progress=show_progress)
    k = getattr(target.config, "evidence_passages", target.config.answer_passages)
    return {
        "table": table,
        "records": records,
        "selector": name,
        "k": k,
        "gold": "XQuAD-R sentence of the gold answer" if sentences else "the gold evidence quote / answer span",
        "n": len(chosen),
        "seconds": time.perf_counter() - t,
    }


__all__ = [
    "EVIDENCE_COLUMNS",
    "EVIDENCE_DEFAULT",
    "Selector",
    "evaluate_evidence",
    "evidence_markdown",
    "evidence_stage",
    "gold_evidence",
    "lexical_selector",
    "load_selector",
    "split_sentences",
    "suite_sentences",
]
