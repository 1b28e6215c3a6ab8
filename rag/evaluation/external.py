"""External benchmarks beyond XQuAD: ARCD (questions written in Arabic) and XQuAD-R's sentence boundaries.

* :func:`load_arcd` reads the copy of ARCD's train split shipped in ``eval/arcd/`` (MIT; the
  paragraphs are Arabic Wikipedia text, CC BY-SA): its 231 paragraphs become articles
  ``arcd-<article>-<paragraph>`` and each of the 693 questions, written directly in Arabic
  by crowdworkers, has its paragraph as gold document and the answer span as evidence.
* :func:`load_xquad_sentences` reads XQuAD-R's sentence boundaries of the Arabic paragraphs
  (``eval/xquad/xquad-r.ar.json``, CC BY-SA 4.0) and :func:`gold_sentences` maps each XQuAD
  question to the sentence(s) its answer lies in: the external check of evidence selection.

Both are unchanged copies of the published files (checksums in their READMEs); nothing here
reads outside the project.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.evaluation.datasets import DatasetError, QAItem, Suite, eval_dir, xquad_doc_id
from rag.evaluation.metrics import locate_quote
from rag.textnorm import normalize_arabic
from rag.types import Article

ARCD_FILE = "arcd-train.json"
XQUAD_R_FILE = "xquad-r.ar.json"

# ARCD's questions carry crowd-sourcing debris: a leading "- " and, on 42 of them, a stray
# "ال" after the question mark. Users type neither, so both are removed (the file is unchanged).
_LEADING_DASH = re.compile(r"^[\s\-–—]+")
_TRAILING_AL = re.compile(r"(?<=[؟?])\s*ال\s*$")


def arcd_doc_id(article_index: int, paragraph_index: int) -> str:
    return f"arcd-{article_index:02d}-{paragraph_index}"


def clean_arcd_question(text: str) -> str:
    """ARCD question text as a user would type it: no leading dash, no stray ``ال`` after ``؟``.

    Example:
        >>> clean_arcd_question(" - متى ولد جمال أحمد حمزة خاشقجي وتوفي؟ ال")
        'متى ولد جمال أحمد حمزة خاشقجي وتوفي؟'
    """
    return _TRAILING_AL.sub("", _LEADING_DASH.sub("", text.strip())).strip()


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {what} ships in {path.parent}/ (see its README.md)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not SQuAD-format JSON with a 'data' list: {exc}") from None
    return data


def _answer_span(context: str, text: str, start: int) -> tuple[int, int]:
    """Where an answer lies in ``context``: at ``answer_start`` when it is there verbatim, else the
    nearest place it occurs (ARCD has a few answers whose offsets or spacing differ from the text),
    else the ``answer_start`` span as given."""
    if context[start : start + len(text)] == text:
        return start, start + len(text)
    found = [m.start() for m in re.finditer(re.escape(text), context)]
    if found:
        at = min(found, key=lambda i: abs(i - start))
        return at, at + len(text)
    where = locate_quote(context, text)
    if where is not None:
        return where
    folded = normalize_arabic(text)
    for i in range(len(context)):  # diacritics or alef forms differ: match in normalised form
        if normalize_arabic(context[i : i + len(text) + 4]).startswith(folded):
            return i, i + len(text)
    return start, min(len(context), start + len(text))


#: Characters of context either side of an answer that another paragraph must repeat verbatim to count as
#: holding the same passage (ARCD repeats some articles' first paragraph at the start of the second).
ARCD_SHARED_CONTEXT = 60


def _also_gold(context: str, span: tuple[int, int], others: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """Other paragraphs of the same article that repeat the answer with its surrounding text verbatim."""
    start, end = span
    window = context[max(0, start - ARCD_SHARED_CONTEXT) : end + ARCD_SHARED_CONTEXT]
    found = []
    for doc_id, text in others:
        at = text.find(window)
        if at >= 0:
            offset = at + (start - max(0, start - ARCD_SHARED_CONTEXT))
            found.append((doc_id, offset, offset + end - start))
    return found


def load_arcd(folder: Path | str | None = None) -> Suite:
    """Load ARCD's train split from ``folder`` (default ``eval/arcd``): 231 paragraphs, 693 Arabic questions.

    Each question's gold document is its paragraph, its evidence the answer span, its accepted
    answer the gold answer text; questions are cleaned with :func:`clean_arcd_question`. In 11
    articles ARCD's second paragraph starts with the whole first one, so the same passage is
    indexed twice: a question whose answer lies in the repeated text (with
    :data:`ARCD_SHARED_CONTEXT` characters either side) has both paragraphs as gold, else which
    copy ranks first would decide its score.

    Raises:
        DatasetError: the file is missing or not in SQuAD layout.
    """
    folder = Path(folder) if folder is not None else eval_dir() / "arcd"
    data = _read_json(folder / ARCD_FILE, "ARCD")["data"]
    articles: list[Article] = []
    items: list[QAItem] = []
    shared = 0
    for a, art in enumerate(data):
        title = str(art.get("title", f"article {a}")).replace("_", " ")
        paragraphs = [(arcd_doc_id(a, p), par["context"]) for p, par in enumerate(art["paragraphs"])]
        for p, par in enumerate(art["paragraphs"]):
            doc_id = arcd_doc_id(a, p)
            context = par["context"]
            articles.append(
                Article(doc_id=doc_id, title=f"{title} ({p + 1})", text=context, source=f"{ARCD_FILE}#{a}.{p}")
            )
            others = [(d, t) for d, t in paragraphs if d != doc_id]
            for q in par["qas"]:
                answers = tuple(dict.fromkeys(x["text"].strip() for x in q["answers"] if x["text"].strip()))
                own = [(doc_id, *_answer_span(context, x["text"], int(x["answer_start"]))) for x in q["answers"]]
                extra = [s for _, st, en in own for s in _also_gold(context, (st, en), others)]
                spans = tuple(dict.fromkeys(own + extra))
                shared += bool(extra)
                question = clean_arcd_question(q["question"])
                if not question or not answers:
                    raise DatasetError(f"{folder / ARCD_FILE}: question {q.get('id')} has no text or no answer")
                texts = dict(paragraphs)
                items.append(
                    QAItem(
                        id=f"arcd-{q['id']}",
                        question=question,
                        lang="ar",
                        answerable=True,
                        gold_doc_ids=tuple(dict.fromkeys(d for d, _, _ in spans)),
                        evidence=tuple(texts[d][s:e] for d, s, e in spans),
                        answers=answers,
                        type="factoid",
                        evidence_spans=spans,
                        group=str(q["id"]),
                    )
                )
    return Suite(
        name="arcd",
        items=tuple(items),
        articles=tuple(articles),
        source=str(folder),
        info={
            "paragraphs": len(articles),
            "questions": len(items),
            "questions_with_repeated_passage": shared,
            "licence": "MIT (husseinmozannar/SOQAL); paragraphs: Arabic Wikipedia, CC BY-SA",
        },
    )


# -- XQuAD-R sentence boundaries -----------------------------------------------------------------
@dataclass(frozen=True)
class GoldSentence:
    """A sentence of an XQuAD Arabic paragraph that holds (part of) a question's gold answer."""

    doc_id: str
    start: int
    end: int
    text: str


def load_xquad_sentences(folder: Path | str | None = None) -> dict[str, tuple[tuple[int, int], ...]]:
    """``{xquad doc id: ((start, end), ...)}``: XQuAD-R's sentence spans of each Arabic paragraph.

    The paragraphs are XQuAD's (same order, same text: checked), so the doc ids are those of
    :func:`rag.evaluation.datasets.load_xquad`.

    Raises:
        DatasetError: the file is missing, or its paragraphs or sentences do not match.
    """
    folder = Path(folder) if folder is not None else eval_dir() / "xquad"
    data = _read_json(folder / XQUAD_R_FILE, "XQuAD-R")["data"]
    spans: dict[str, tuple[tuple[int, int], ...]] = {}
    for a, art in enumerate(data):
        for p, par in enumerate(art["paragraphs"]):
            context = par["context"]
            breaks = tuple((int(s), int(e)) for s, e in par["sentence_breaks"])
            for (s, e), sentence in zip(breaks, par.get("sentences", []), strict=False):
                if context[s:e] != sentence:
                    raise DatasetError(
                        f"{folder / XQUAD_R_FILE}: paragraph {a}.{p}: sentence span {s}:{e} does not "
                        f"hold its sentence; the file is not XQuAD-R's"
                    )
            spans[xquad_doc_id(a, p)] = breaks
    return spans


def gold_sentences(
    item: QAItem, sentences: dict[str, tuple[tuple[int, int], ...]], articles: dict[str, Article]
) -> tuple[GoldSentence, ...]:
    """The sentences of ``item``'s gold paragraph that its gold answer span(s) overlap.

    Raises:
        DatasetError: the paragraph has no sentence spans or the item has no evidence span
            (only XQuAD items carry both).
    """
    if not item.evidence_spans:
        raise DatasetError(f"{item.id} has no gold answer span; sentence-level evidence needs XQuAD items")
    found: dict[tuple[str, int, int], GoldSentence] = {}
    for doc_id, start, end in item.evidence_spans:
        if doc_id not in sentences or doc_id not in articles:
            raise DatasetError(f"{item.id}: no XQuAD-R sentences for paragraph {doc_id}")
        text = articles[doc_id].text
        for s, e in sentences[doc_id]:
            if s < max(end, start + 1) and start < e:
                found[(doc_id, s, e)] = GoldSentence(doc_id, s, e, text[s:e])
    return tuple(found.values())


__all__ = [
    "GoldSentence",
    "arcd_doc_id",
    "clean_arcd_question",
    "gold_sentences",
    "load_arcd",
    "load_xquad_sentences",
]
