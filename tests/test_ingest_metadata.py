"""Publication metadata at ingest: front matter, sidecars, folder manifests, saved pages; dates; precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_CORPUS
from rag.errors import InputError
from rag.ingest import Ingestor
from rag.ingest.html import extract_html
from rag.ingest.metadata import Metadata, normalize_date
from rag.ingest.text import split_front_matter

BODY = "أعلنت وزارة الدفاع العراقية عن بدء عملية أمنية جديدة في محافظة الأنبار لملاحقة خلايا داعش."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-04-16", "2024-04-16"),
        ("2024-04-16T23:30:00-05:00", "2024-04-16"),
        ("2015-07-21 02:51:32", "2015-07-21"),
        ("16/04/2024", "2024-04-16"),
        ("04/16/2024", "2024-04-16"),
        ("2024/4/6", "2024-04-06"),
        ("١٦ نيسان/أبريل ٢٠٢٤", "2024-04-16"),
        ("الثلاثاء 16 أبريل 2024", "2024-04-16"),
        ("15 آب 2023", "2023-08-15"),
        ("April 16, 2024", "2024-04-16"),
        ("16 Apr 2024", "2024-04-16"),
        ("٩ أغسطس ٢٠٢٣", "2023-08-09"),
    ],
)
def test_normalize_date_formats(raw: str, expected: str) -> None:
    """Guards against a date kept in the form it was written (then date filters compare text wrongly)."""
    assert normalize_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/31/2024", "2024-02-30", "yesterday", "", "0024-01-01"])
def test_normalize_date_invalid_raises(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_date(raw)


def test_split_front_matter_fields_and_body() -> None:
    fields, body = split_front_matter('---\ndate: 2024-04-16\nsource: "العربي الجديد"\n# a comment\n---\nنص الخبر')
    assert fields == {"date": "2024-04-16", "source": "العربي الجديد"} and body == "نص الخبر"


def test_split_front_matter_rule_not_front_matter() -> None:
    """Guards against a Markdown horizontal rule at the top swallowing the first paragraph."""
    raw = "---\nهذه فقرة عادية وليست بيانات.\n---\nنص"
    assert split_front_matter(raw) == ({}, raw)


def test_markdown_front_matter_becomes_metadata(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: بايدن يستقبل السوداني\npublished: 16/04/2024\noutlet: العربي الجديد\n"
        "link: https://www.alaraby.co.uk/x\nbyline: محمد علي\n---\n# عنوان آخر\n\n" + BODY,
        encoding="utf-8",
    )
    [article], skipped = Ingestor().run([tmp_path])
    assert skipped == []
    got = (article.title, article.published, article.source, article.url, article.author)
    assert got == ("بايدن يستقبل السوداني", "2024-04-16", "العربي الجديد", "https://www.alaraby.co.uk/x", "محمد علي")
    assert article.text.startswith("عنوان آخر") and "published" not in article.text


def test_front_matter_bad_date_skips_file_naming_field(tmp_path: Path) -> None:
    """Guards against a mistyped date being indexed as no date (or a wrong one) without a word."""
    (tmp_path / "a.txt").write_text("---\ndate: 31/13/2024\n---\n" + BODY, encoding="utf-8")
    articles, [skipped] = Ingestor().run([tmp_path])
    assert articles == []
    assert "date '31/13/2024' is not a date" in skipped.reason and "YYYY-MM-DD" in skipped.reason


def test_sidecar_overrides_file_metadata(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nsource: مصدر خاطئ\nauthor: كاتب\n---\n" + BODY, encoding="utf-8")
    (tmp_path / "a.meta.json").write_text(
        json.dumps({"source": "الشرق الأوسط", "date": "2024-01-05"}, ensure_ascii=False), encoding="utf-8"
    )
    [article], _ = Ingestor().run([tmp_path])
    assert (article.source, article.published, article.author) == ("الشرق الأوسط", "2024-01-05", "كاتب")


def test_sidecar_not_json_object_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "a.meta.json").write_text("[1, 2]", encoding="utf-8")
    _, [skipped] = Ingestor().run([tmp_path])
    assert "a.meta.json must hold one JSON object" in skipped.reason


def test_manifest_jsonl_applies_to_folder_and_subfolders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text(BODY + " وأضاف البيان.", encoding="utf-8")
    rows = [
        {"file": "a.txt", "source": "سبق", "date": "2015-07-21 02:51:32", "url": "http://sabq.org/a"},
        {"file": "sub/b.txt", "source": "عكاظ", "published": "2015-07-22", "comment": "ignored"},
        {"file": "missing.txt", "source": "x"},
    ]
    (tmp_path / "articles.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    articles, skipped = Ingestor().run([tmp_path])
    by_id = {a.doc_id: a for a in articles}
    assert skipped == []
    assert (by_id["a"].source, by_id["a"].published, by_id["a"].url) == ("سبق", "2015-07-21", "http://sabq.org/a")
    assert (by_id["b"].source, by_id["b"].published) == ("عكاظ", "2015-07-22")


def test_manifest_nearest_folder_wins_sidecar_beats_both(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "articles.csv").write_text("file,source,date,author\nsub/b.txt,البعيد,2020-01-01,أ\n", encoding="utf-8")
    (tmp_path / "sub" / "articles.csv").write_text("file,source\nb.txt,القريب\n", encoding="utf-8")
    [article], _ = Ingestor().run([tmp_path])
    assert (article.source, article.published, article.author) == ("القريب", "2020-01-01", "أ")
    (tmp_path / "sub" / "b.meta.json").write_text('{"source": "الملحق"}', encoding="utf-8")
    [article], _ = Ingestor().run([tmp_path])
    assert article.source == "الملحق"


def test_manifest_errors_name_line_and_fix(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "articles.jsonl").write_text('{"file": "a.txt", "date": "2024-99-01"}\n', encoding="utf-8")
    _, [skipped] = Ingestor().run([tmp_path])
    assert "articles.jsonl line 1: date '2024-99-01' is not a date" in skipped.reason
    (tmp_path / "articles.csv").write_text("file\na.txt\n", encoding="utf-8")
    _, [skipped] = Ingestor().run([tmp_path])
    assert "both articles.jsonl and articles.csv" in skipped.reason
    (tmp_path / "articles.jsonl").unlink()
    (tmp_path / "articles.csv").write_text("name,source\na.txt,x\n", encoding="utf-8")
    _, [skipped] = Ingestor().run([tmp_path])
    assert "needs a header row with a 'file' column" in skipped.reason


def test_metadata_over_keeps_known_fields() -> None:
    base = Metadata(title="t", published="2024-01-01", source="s")
    assert Metadata(source="n", url="u").over(base) == Metadata("t", "2024-01-01", "n", "u", "")


# -- saved pages ---------------------------------------------------------------------------------
PAGE = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>بايدن يستقبل السوداني | العربي الجديد</title>
<meta property="og:site_name" content="العربي الجديد"><meta property="og:url" content="https://www.alaraby.co.uk/og">
<link rel="canonical" href="https://www.alaraby.co.uk/politics/biden-sudani">
<meta property="article:published_time" content="2024-04-15T08:00:00+03:00">
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "x"},
 {"@type": "NewsArticle", "headline": "بايدن يستقبل السوداني", "datePublished": "2024-04-16T10:00:00+03:00",
  "author": [{"@type": "Person", "name": "محمد علي"}],
  "publisher": {"@type": "Organization", "name": "العربي الجديد"}}]}
</script></head><body>
<div class="menu"><a href="/">الرئيسية</a> <a href="/p">سياسة</a> <a href="/e">اقتصاد</a></div>
<article><h1>بايدن يستقبل السوداني</h1><p>استقبل الرئيس الأميركي جو بايدن في البيت الأبيض رئيس الوزراء العراقي
محمد شياع السوداني، وبحث معه مستقبل التحالف الدولي ضد تنظيم داعش والعلاقات الثنائية.</p>
<p>وقال بايدن إن الشراكة بين البلدين مستمرة وإن التعاون في مكافحة الإرهاب لن يتوقف في المرحلة المقبلة.</p></article>
<div class="share">شارك: فيسبوك تويتر واتساب</div><footer>جميع الحقوق محفوظة © 2025</footer></body></html>"""


def test_extract_html_json_ld_beats_meta_tags() -> None:
    """Guards against the meta tag (or the copyright year) winning over the article's own datePublished."""
    meta = extract_html(PAGE, "p.html").metadata
    assert meta == Metadata(
        title="بايدن يستقبل السوداني",
        published="2024-04-16",
        source="العربي الجديد",
        url="https://www.alaraby.co.uk/politics/biden-sudani",
        author="محمد علي",
    )


def test_extract_html_meta_tags_without_json_ld() -> None:
    page = PAGE.split('<script type="application/ld+json">')[0] + PAGE.split("</script>", 1)[1]
    meta = extract_html(page, "p.html").metadata
    assert (meta.published, meta.source, meta.url) == (
        "2024-04-15",
        "العربي الجديد",
        "https://www.alaraby.co.uk/politics/biden-sudani",
    )


def test_extract_html_no_date_stays_unknown() -> None:
    """Guards against a date guessed from a copyright line or the file's own date."""
    page = "<html><body><article><p>" + BODY + "</p><p>" + BODY + "</p></article><footer>© 2025</footer></body></html>"
    assert extract_html(page, "p.html").metadata.published == ""


def test_extract_html_menu_and_share_bar_left_out() -> None:
    text = extract_html(PAGE, "p.html").text
    assert text.startswith("بايدن يستقبل السوداني\n") and "التعاون في مكافحة الإرهاب" in text
    assert "فيسبوك" not in text and "اقتصاد" not in text and "الحقوق" not in text


def test_extract_html_no_visible_text_raises() -> None:
    with pytest.raises(InputError, match="no article text found"):
        extract_html("<html><head><title>ت</title></head><body><script>var a = 'نص';</script></body></html>", "s.html")


def test_page_file_with_manifest_precedence(tmp_path: Path) -> None:
    """The manifest (what the user wrote down) beats the page's own JSON-LD."""
    (tmp_path / "p.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "articles.jsonl").write_text('{"file": "p.html", "date": "2024-04-17"}', encoding="utf-8")
    [article], _ = Ingestor().run([tmp_path])
    assert (article.published, article.source) == ("2024-04-17", "العربي الجديد")


# -- the shipped sample corpus -------------------------------------------------------------------
def test_seed_corpus_manifest_gives_dates_and_outlets() -> None:
    """Guards against the sample articles losing the dates and outlets their manifest gives them."""
    articles, skipped = Ingestor().run([SEED_CORPUS])
    assert skipped == [] and len(articles) == 5
    by_id = {a.doc_id: a for a in articles}
    assert by_id["002_b12590bbfa883fb9"].source == "العربي الجديد"
    assert by_id["004_933cd54218a7fc21"].published.startswith("2021-07")
    assert by_id["003_62634fc958774adb"].published.startswith("2024-09")
    assert all(not a.published or a.published[:4] in ("2021", "2023", "2024") for a in articles)
