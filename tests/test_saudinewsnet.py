"""A real corpus with metadata (SaudiNewsNet, 14 outlets, read in place from ../shared, never copied):
a subset indexed through the manifest path, filters by outlet and date checked on it.

Uses the fake embedder (filter correctness does not depend on the model) and is marked ``slow``
(a few thousand articles); skipped where the corpus is not present. SANAD_SAUDINEWSNET points
at another copy of the daily ZIP files.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest

from bench.duplicates import read_saudinewsnet, write_manifest_subset
from conftest import REPO_ROOT, FakeEmbedder
from rag.config import SanadConfig
from rag.indexer import Indexer
from rag.retrieval import Retriever, make_filters

_CANDIDATES = [
    os.environ.get("SANAD_SAUDINEWSNET", ""),  # else ../shared from the main checkout or a worktree
    REPO_ROOT.parent / "shared/corpora/saudinewsnet",
    REPO_ROOT.parent.parent / "shared/corpora/saudinewsnet",
]
CORPUS = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(_CANDIDATES[1]))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(CORPUS.glob("*.zip")), reason=f"SaudiNewsNet not found in {CORPUS}"),
]

PER_OUTLET = 200  # 14 outlets: about 2,500 articles
QUESTIONS = [
    "ارتفاع أسعار النفط",
    "مجلس الوزراء يوافق على نظام جديد",
    "هيئة كبار العلماء",
    "الحوثيين في اليمن",
    "الهلال والنصر في دوري جميل",
    "القبض على خلية إرهابية",
    "وزارة التعليم والمعلمين",
    "الأمطار والسيول",
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Retriever, list[dict[str, str]]]:
    folder = tmp_path_factory.mktemp("snn")
    articles = list(read_saudinewsnet(CORPUS))
    n = write_manifest_subset(articles, folder / "corpus", per_outlet=PER_OUTLET)
    manifest = (folder / "corpus" / "articles.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in manifest.splitlines()]
    assert n == len(rows) > 1000
    config = SanadConfig(index_dir=folder / "index", model_dir=folder / "models")
    embedder = FakeEmbedder()
    report = Indexer(config, embedder).index_paths([folder / "corpus"])
    assert report.n_articles + len(report.skipped) == n
    return Retriever.load(config, embedder), rows


def test_manifest_metadata_reaches_the_index(indexed: tuple[Retriever, list[dict[str, str]]]) -> None:
    retriever, rows = indexed
    by_id = retriever.index.articles
    for row in rows[:: max(1, len(rows) // 200)]:
        article = by_id.get(Path(row["file"]).stem)
        if article is None:  # an empty or duplicate article reported at ingest
            continue
        assert (article.source, article.published, article.url) == (row["source"], row["published"][:10], row["url"])
        assert article.title == " ".join(row["title"].split()) or not row["title"].strip()
    per_outlet = collections.Counter(a.source for a in by_id.values())
    assert len(per_outlet) >= 10 and max(per_outlet.values()) <= PER_OUTLET


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_filters_by_outlet_and_date_on_real_corpus(indexed: tuple[Retriever, list[dict[str, str]]], mode: str) -> None:
    retriever, _ = indexed
    outlets = collections.Counter(a.source for a in retriever.index.articles.values())
    dates = sorted(a.published for a in retriever.index.articles.values() if a.published)
    middle = dates[len(dates) // 2]
    for outlet, _ in outlets.most_common(4):
        for filters in (
            make_filters(sources=[outlet]),
            make_filters(sources=[outlet], since=middle),
            make_filters(until=middle),
            make_filters(sources=[outlet, "sabq"], since=dates[0], until=middle),
        ):
            allowed = retriever.allowed_rows(filters)
            for question in QUESTIONS:
                hits = retriever.search(question, k=10, mode=mode, filters=filters)
                assert all(filters.matches(retriever.index.articles[h.doc_id]) for h in hits)
                if mode == "dense":
                    assert len(hits) == min(10, int(allowed.sum()))
