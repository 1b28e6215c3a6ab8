"""Publication metadata on the records that leave Sanad: Hit, Citation (JSON stays backwards-compatible)."""

from __future__ import annotations

from rag.answer_types import Citation
from rag.citations import CitationChecker
from rag.types import Article, Chunk, Hit
from tests.fakes import make_hit

OLD_HIT_KEYS = {"rank", "doc_id", "chunk_id", "title", "score", "scores", "ordinal", "start", "end", "text"}
OLD_CITATION_KEYS = {"n", "doc_id", "chunk_id", "title", "quote", "quote_start", "quote_end"}


def _article() -> Article:
    return Article(
        "002",
        "بغداد وواشنطن",
        "أعلنت بغداد وواشنطن استمرار التعاون الأمني.",
        published="2023-08-09",
        source="العربي الجديد",
        url="https://www.alaraby.co.uk/x",
        author="مراسل",
        copies=(("002b", "سبق", "2023-08-10", ""),),
    )


def test_hit_from_article_carries_metadata_and_json_keeps_old_keys() -> None:
    article = _article()
    chunk = Chunk("002", 0, 0, len(article.text), article.text)
    hit = Hit.from_article(chunk, article, 0.5, 1, {"bm25": 0.5})
    assert (hit.published, hit.source, hit.url, hit.author, hit.also_in) == (
        "2023-08-09",
        "العربي الجديد",
        "https://www.alaraby.co.uk/x",
        "مراسل",
        ("سبق",),
    )
    data = hit.to_dict()
    assert set(data) >= OLD_HIT_KEYS and data["source"] == "العربي الجديد" and data["also_in"] == ["سبق"]
    assert hit.byline == "العربي الجديد · 2023-08-09"


def test_citation_label_reads_outlet_and_date() -> None:
    c = Citation(2, "002", "c", "بغداد وواشنطن", "q", 0, 1, published="2023-08-09", source="العربي الجديد")
    assert c.label == "[2] العربي الجديد · 2023-08-09"
    assert Citation(1, "d", "c", "عنوان", "q", 0, 1).label == "[1] عنوان"  # unknown outlet and date: the title
    assert Citation(3, "d", "c", "t", "q", 0, 1, published="2021-07-26").label == "[3] 2021-07-26"
    assert set(c.to_dict()) >= OLD_CITATION_KEYS and c.to_dict()["label"] == c.label


def test_citation_checker_copies_hit_metadata_into_citations() -> None:
    """Guards against citations losing the date and outlet their passage carries."""
    from dataclasses import replace

    hit = replace(make_hit("aid"), published="2024-09-30", source="وكالة الأنباء", url="http://x/aid")
    _, _, citations = CitationChecker().run(
        "أعلنت الولايات المتحدة عن 138 مليون دولار كمساعدات إنسانية [1].", [hit], "ar"
    )
    assert citations and (citations[0].published, citations[0].source, citations[0].url) == (
        "2024-09-30",
        "وكالة الأنباء",
        "http://x/aid",
    )
    assert citations[0].label == "[1] وكالة الأنباء · 2024-09-30"


def test_article_round_trip_with_copies() -> None:
    article = _article()
    assert Article.from_dict(article.to_dict()) == article
    assert Article.from_dict({k: v for k, v in article.to_dict().items() if k != "copies"}).copies == ()
