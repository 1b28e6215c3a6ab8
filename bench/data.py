"""Real inputs for the benchmark: the seed passages, Arabic questions, XQuAD paragraphs, real sentences."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from rag.config import SanadConfig
from rag.errors import InputError
from rag.evaluation.datasets import QAItem, load_qa

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_QA = REPO_ROOT / "eval" / "seeds_qa.jsonl"
XQUAD_DIRS = (
    REPO_ROOT / "eval" / "xquad",
    REPO_ROOT.parent / "shared" / "benchmarks" / "xquad",
    Path("/work/shared/benchmarks/xquad"),
)

_SENTENCE_END = re.compile(r"(?<=[.!?؟。])\s+|\n+")


#: The bench reads the same records the evaluation does (validated by its loader).
SeedQuestion = QAItem


def seed_passages(config: SanadConfig) -> list[str]:
    """The passage texts of the live index in ``config.index_dir`` (the seed corpus by default)."""
    from rag.index import live_version

    version = live_version(config.index_dir)
    with open(version / "chunks.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    if not texts:
        raise InputError(f"the index in {config.index_dir} holds no passages; run `sanad setup` first")
    return texts


def repeat_to(items: list[str], n: int) -> list[str]:
    """``items`` cycled until there are ``n`` of them (the order repeats, so batches see every length).

    Example:
        >>> repeat_to(["a", "b"], 5)
        ['a', 'b', 'a', 'b', 'a']
    """
    if not items:
        raise InputError("nothing to repeat")
    return [items[i % len(items)] for i in range(n)]


def seed_questions(
    path: Path = SEEDS_QA, *, lang: str | None = "ar", answerable: bool | None = None
) -> list[SeedQuestion]:
    """Questions of the seed Q&A file, filtered by language and answerability."""
    if not path.is_file():
        raise InputError(f"{path} is missing; the bench reads real questions from the seed Q&A file")
    return [
        q for q in load_qa(path) if (not lang or q.lang == lang) and (answerable is None or q.answerable == answerable)
    ]


def answer_questions(n: int, path: Path = SEEDS_QA) -> list[SeedQuestion]:
    """``n`` answerable Arabic seed questions about different articles where possible (for LLM timing)."""
    pool = seed_questions(path, lang="ar", answerable=True)
    chosen: list[SeedQuestion] = []
    seen: set[tuple[str, ...]] = set()
    for q in pool:  # first one per gold article, then fill up in file order
        if q.gold_doc_ids not in seen:
            chosen.append(q)
            seen.add(q.gold_doc_ids)
        if len(chosen) == n:
            return chosen
    for q in pool:
        if q not in chosen:
            chosen.append(q)
        if len(chosen) == n:
            break
    return chosen


def xquad_paragraphs(limit: int | None = None) -> list[str]:
    """The Arabic XQuAD paragraphs (240) when a copy is present, else ``[]``."""
    for folder in XQUAD_DIRS:
        path = folder / "xquad.ar.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))["data"]
            paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
            return paragraphs[:limit] if limit else paragraphs
    logger.warning(
        "no XQuAD Arabic copy found (looked in %s); synthetic data will use the seed passages only",
        ", ".join(str(d) for d in XQUAD_DIRS),
    )
    return []


def sentences(texts: list[str], *, min_words: int = 4) -> list[str]:
    """Sentences of ``texts`` (split on end punctuation and newlines) with at least ``min_words`` words.

    Example:
        >>> sentences(["جملة أولى هنا طويلة. وجملة ثانية هنا أيضا؟ قصيرة"], min_words=3)
        ['جملة أولى هنا طويلة.', 'وجملة ثانية هنا أيضا؟']
    """
    out = []
    for text in texts:
        for piece in _SENTENCE_END.split(text):
            piece = piece.strip()
            if len(piece.split()) >= min_words:
                out.append(piece)
    return out
