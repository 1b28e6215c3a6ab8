"""Tests for rag.ingest: cleaning scraping debris, reading files and folders, skipping bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEED_CORPUS, TINY_CORPUS
from rag.errors import InputError
from rag.ingest import Ingestor, clean_text, guess_title, markdown_to_text
from rag.ingest.html import extract_html

BODY = "الفقرة الأولى: قال الوزير إن ١٢ جندياً عادوا.\nالفقرة الثانية ــ بتطويل وتشكيلٌ."


# -- clean_text -------------------------------------------------------------------------------
def test_clean_text_ad_markers_dropped_rest_byte_for_byte() -> None:
    """Guards against cleaning that also rewrites the readable text (diacritics, tatweel, digits)."""
    raw = f"[ad_1]\n{BODY}\n[ad_2]\n"
    assert clean_text(raw) == BODY


def test_clean_text_mid_text_ad_marker_line_removed_whole() -> None:
    """Guards against a removed [ad_n] line leaving an extra blank line between paragraphs."""
    assert clean_text("سطر أول.\n[ad_1]\nسطر ثان.") == "سطر أول.\nسطر ثان."
    assert clean_text("سطر أول.\n  [ad_17]  \nسطر ثان.") == "سطر أول.\nسطر ثان."


def test_clean_text_inline_ad_like_text_kept() -> None:
    """Guards against deleting a whole line of news because it mentions [ad_1] inline."""
    raw = "النص يذكر [ad_1] داخل الجملة."
    assert clean_text(raw) == raw


@pytest.mark.parametrize(
    "tail", ["\nالمصدر", "\nالمصدر\n", "\n\nالمصدر  \n\n", "\nالمصدر:", "\nSource\n", "\n[ad_2]\nالمصدر\n"]
)
def test_clean_text_trailing_lone_source_dropped(tail: str) -> None:
    """Guards against the scraper's trailing 'المصدر' line ending up in passages and titles."""
    assert clean_text(BODY + tail) == BODY


def test_clean_text_source_with_attribution_kept() -> None:
    """Guards against dropping a real attribution line such as 'المصدر: وكالة الأنباء'."""
    raw = BODY + "\nالمصدر: وكالة الأنباء"
    assert clean_text(raw) == raw


def test_clean_text_mid_text_source_word_kept() -> None:
    """Guards against removing المصدر where it is an ordinary word inside a sentence."""
    raw = "وقال المسؤولون إن المصدر الرئيسي للتمويل هو الوزارة.\nالمصدر\nوتابع البيان حديثه."
    assert clean_text(raw) == raw


def test_clean_text_blank_line_runs_collapsed() -> None:
    """Guards against runs of blank lines (left by scrapers) surviving into the display text."""
    assert clean_text("أ.\n\n\n\n\nب.\n \t \n\nج.") == "أ.\n\nب.\n\nج."


def test_clean_text_single_blank_line_kept() -> None:
    """Guards against cleaning merging paragraphs that a single blank line separates."""
    assert clean_text("أ.\n\nب.") == "أ.\n\nب."


def test_clean_text_crlf_bom_and_trailing_spaces_normalised() -> None:
    """Guards against Windows line ends or a BOM shifting offsets and splitting sentences oddly."""
    assert clean_text("\ufeffسطر   \r\nآخر\t\r\n") == "سطر\nآخر"


def test_clean_text_only_boilerplate_empty() -> None:
    """Guards against an ads-only file becoming an article whose text is a marker."""
    assert clean_text("[ad_1]\n\n[ad_2]\n") == ""


# -- guess_title ------------------------------------------------------------------------------
def test_guess_title_headline_first_line() -> None:
    assert guess_title("الاقتصاد العالمي يتباطأ\nتوقع الصندوق...") == "الاقتصاد العالمي يتباطأ"


def test_guess_title_sentence_first_line_cut_at_word() -> None:
    """Guards against a whole first paragraph (ending in a full stop) becoming the title."""
    first = " ".join(["كلمة"] * 40) + "."
    title = guess_title(first + "\nبقية")
    assert title.endswith("…")
    assert len(title) <= 91
    assert title[:-1].split() == ["كلمة"] * len(title[:-1].split())  # no word cut in half


def test_guess_title_short_sentence_not_headline() -> None:
    """Guards against a one-sentence first line ending in '.' being taken for a headline."""
    assert guess_title("قصير.") == "قصير.…"


# -- formats ----------------------------------------------------------------------------------
def test_extract_html_boilerplate_blocks_left_out() -> None:
    """Guards against script/style/nav/footer text being indexed or block elements running together."""
    markup = (
        "<html><head><title>عنوان الخبر</title><style>p{color:red}</style>"
        "<script>var x = 'خفي';</script></head><body><nav>القائمة</nav>"
        "<article><h1>بايدن يستقبل الكاظمي</h1><p>قال الرئيس إن الشراكة مستمرة مع العراق في كل المجالات.</p>"
        "<p>وأضاف أن التعاون في مكافحة الإرهاب سيستمر.</p></article>"
        "<footer>حقوق النشر</footer></body></html>"
    )
    page = extract_html(markup, "x.html")
    assert page.text == (
        "بايدن يستقبل الكاظمي\nقال الرئيس إن الشراكة مستمرة مع العراق في كل المجالات.\n"
        "وأضاف أن التعاون في مكافحة الإرهاب سيستمر."
    )
    assert page.metadata.title == "بايدن يستقبل الكاظمي"


def test_markdown_to_text_syntax_stripped() -> None:
    """Guards against '#', '**', link URLs and bullets ending up in passages."""
    md = "# عنوان\n\n**خبر** مهم عن [التحالف](http://x.y) ![صورة](a.png)\n- بند أول\n> اقتباس `رمز`"
    assert markdown_to_text(md) == "عنوان\n\nخبر مهم عن التحالف صورة\nبند أول\nاقتباس رمز"


def test_ingestor_read_md_and_html_files(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text("# عنوان مقال\n\nنص **المقال** هنا.\n", encoding="utf-8")
    (tmp_path / "y.html").write_text("<h1>خبر</h1><p>تفاصيل &amp; المزيد.</p>", encoding="utf-8")
    (tmp_path / "z.htm").write_text("<p>سطر.</p>", encoding="utf-8")
    articles, skipped = Ingestor().run([tmp_path])
    by_id = {a.doc_id: a for a in articles}
    assert skipped == []
    assert by_id["x"].title == "عنوان مقال" and by_id["x"].text == "عنوان مقال\n\nنص المقال هنا."
    assert by_id["y"].title == "خبر" and by_id["y"].text == "خبر\nتفاصيل & المزيد."  # <h1> kept as headline
    assert by_id["z"].text == "سطر."


# -- files and folders ------------------------------------------------------------------------
def test_ingestor_run_tiny_corpus_cleaned(corpus_dir: Path) -> None:
    articles, skipped = Ingestor().run([corpus_dir])
    assert skipped == []
    assert [a.doc_id for a in articles] == sorted(TINY_CORPUS)
    first = articles[0]
    assert first.title == "القوات العراقية تواصل عملياتها في الأنبار"
    assert "[ad_" not in first.text and not first.text.endswith("المصدر")
    assert first.origin == str(corpus_dir / "a01_iraq_forces.txt")
    assert "نفّذت" in first.text and "١٢" in first.text  # display text is not normalised


def test_ingestor_run_non_utf8_file_skipped_with_reason(corpus_dir: Path) -> None:
    """Guards against one cp1256 file aborting the whole run or being read as mojibake."""
    (corpus_dir / "zz_legacy.txt").write_bytes("خبر بترميز ويندوز العربي".encode("cp1256"))
    articles, skipped = Ingestor().run([corpus_dir])
    assert len(articles) == len(TINY_CORPUS)
    assert [Path(s.path).name for s in skipped] == ["zz_legacy.txt"]
    assert "not UTF-8" in skipped[0].reason and "iconv -f cp1256" in skipped[0].reason


def test_ingestor_read_non_utf8_raises(tmp_path: Path) -> None:
    """Guards against cp1256 bytes being decoded as mojibake instead of refused with a fix."""
    path = tmp_path / "legacy.txt"
    path.write_bytes("مرحبا بالعالم".encode("cp1256"))
    with pytest.raises(InputError, match=r"legacy.txt is not UTF-8 text \(byte 0\)"):
        Ingestor().read(path)


def test_ingestor_run_empty_file_skipped(corpus_dir: Path) -> None:
    """Guards against empty or boilerplate-only files producing empty articles."""
    (corpus_dir / "empty.txt").write_bytes(b"")
    (corpus_dir / "ads_only.txt").write_text("[ad_1]\n\nالمصدر\n", encoding="utf-8")
    articles, skipped = Ingestor().run([corpus_dir])
    assert len(articles) == len(TINY_CORPUS)
    assert {Path(s.path).name for s in skipped} == {"empty.txt", "ads_only.txt"}
    assert all("no text left after cleaning" in s.reason for s in skipped)


def test_ingestor_parse_nul_bytes_raises() -> None:
    """Guards against indexing a binary file renamed to .txt."""
    with pytest.raises(InputError, match="NUL bytes"):
        Ingestor().parse("abc\x00def", doc_id="bin")


def test_ingestor_read_oversize_raises(tmp_path: Path) -> None:
    """Guards against a huge (likely wrong) file being read into memory and indexed."""
    path = tmp_path / "big.txt"
    path.write_text("كلمة " * 100, encoding="utf-8")
    with pytest.raises(InputError, match="over the 100-byte limit"):
        Ingestor(max_bytes=100).read(path)


def test_ingestor_run_empty_folder_nothing_found(tmp_path: Path) -> None:
    """Guards against Ingestor inventing articles from unsupported files."""
    (tmp_path / "notes.csv").write_text("a,b", encoding="utf-8")
    assert Ingestor().run([tmp_path]) == ([], [])


def test_indexer_index_paths_empty_folder_raises(tmp_path: Path, sanad_config, fake_embedder) -> None:
    """Guards against an empty folder producing an empty index instead of an error."""
    from rag.indexer import Indexer

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no \.txt, \.md, \.html, \.pdf or \.docx files found"):
        Indexer(sanad_config, fake_embedder).index_paths([empty])
    assert not (sanad_config.index_dir / "CURRENT").exists()


def test_ingestor_discover_missing_path_raises(tmp_path: Path) -> None:
    """Guards against a typo in a path being treated as an empty corpus."""
    with pytest.raises(InputError, match="does not exist"):
        Ingestor().discover([tmp_path / "nope"])


def test_ingestor_discover_unsupported_file_raises(tmp_path: Path) -> None:
    """Guards against a spreadsheet named on the command line being read as text."""
    path = tmp_path / "article.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InputError, match="not a supported file type"):
        Ingestor().discover([path])


def test_ingestor_discover_folder_filters_suffix_and_hidden(tmp_path: Path) -> None:
    """Guards against picking up editor backups, hidden folders or other file types."""
    for rel in (
        "a.txt",
        "b.TXT",
        "sub/c.md",
        "d.pdf",
        "e.docx",
        ".hidden.txt",
        ".git/e.txt",
        "f.txt~",
        "g.csv",
        "a.meta.json",
        "articles.jsonl",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("نص", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in Ingestor().discover([tmp_path])]
    assert found == ["a.txt", "b.TXT", "d.pdf", "e.docx", "sub/c.md"]


def test_ingestor_run_same_stem_two_files_conflict_both_reported(tmp_path: Path) -> None:
    """Guards against x.txt and x.htm silently becoming one article (#10: one doc id, two files)."""
    (tmp_path / "same.txt").write_text("النسخة النصية.", encoding="utf-8")
    (tmp_path / "same.htm").write_text("<p>النسخة الثانية من الخبر.</p>", encoding="utf-8")
    (tmp_path / "other.txt").write_text("خبر آخر.", encoding="utf-8")
    articles, skipped = Ingestor().run([tmp_path])
    assert [a.doc_id for a in articles] == ["other"]
    assert sorted(Path(s.path).name for s in skipped) == ["same.htm", "same.txt"]
    assert all(
        s.kind == "conflict"
        and s.doc_id == "same"
        and "would both be article 'same'" in s.reason
        and "Rename one" in s.reason
        for s in skipped
    )


def test_ingestor_run_same_file_twice_read_once(corpus_dir: Path) -> None:
    """Guards against a file named twice (folder + file) being reported as its own duplicate."""
    articles, skipped = Ingestor().run([corpus_dir, corpus_dir / "a02_syria_aid.txt"])
    assert len(articles) == len(TINY_CORPUS) and skipped == []


def test_ingestor_seed_corpus_five_clean_articles() -> None:
    """Guards against scraping debris ([ad_n], trailing المصدر) left in the shipped corpus."""
    articles, skipped = Ingestor().run([SEED_CORPUS])
    assert skipped == []
    assert len(articles) == 5
    for a in articles:
        assert "[ad_" not in a.text
        assert not a.text.rstrip().endswith("المصدر")
        assert a.text == a.text.strip() and "\n\n\n" not in a.text
        assert a.title and len(a.title) <= 161
        assert len(a.sha) == 16
