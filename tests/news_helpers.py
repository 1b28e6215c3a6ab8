"""The seed articles with the publication dates eval/timeline.jsonl gives, and evidence built from their sentences."""

from __future__ import annotations

from pathlib import Path

from rag.answer_types import Evidence
from rag.chunking import sentence_spans
from rag.conflicts import sentence_evidence
from rag.types import Article

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = {"000": "2024-04-15", "001": "2024-04-15", "002": "2023-08-09", "003": "2024-09-30", "004": "2021-07-26"}


def seed_articles() -> dict[str, Article]:
    out = {}
    for path in sorted((ROOT / "data" / "articles").glob("*.txt")):
        out[path.stem] = Article(
            doc_id=path.stem, title=path.stem, text=path.read_text(encoding="utf-8"), published=PUBLISHED[path.stem[:3]]
        )
    return out


def evidence(articles: dict[str, Article], *quotes: tuple[str, str]) -> list[Evidence]:
    """One Evidence per ``(doc prefix, words in the sentence)``, numbered from 1, the whole sentence each."""
    out = []
    for n, (prefix, words) in enumerate(quotes, 1):
        article = next(a for d, a in articles.items() if d.startswith(prefix))
        at = article.text.index(words)
        s, e = next((s, e) for s, e, _ in sentence_spans(article.text) if s <= at < e)
        out.append(sentence_evidence(article, s, e, n=n))
    return out
