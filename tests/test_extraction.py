"""Extraction quality on files made from the seed articles: office PDFs and Word files (LibreOffice),
a legacy visual-order PDF, a scan, and saved web pages full of boilerplate (bench/extraction.py).

The LibreOffice round trips are marked ``office`` (and ``slow``: about a minute); they are skipped
where ``soffice`` is missing and run in CI, whose ``make test`` installs it (scripts/install_office.sh).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import extraction as ex
from bench import newsroom_fixtures as fx
from rag.errors import InputError
from rag.ingest import Ingestor

SEEDS = fx.seed_articles()
needs_office = pytest.mark.skipif(fx.soffice() is None, reason="LibreOffice not installed (scripts/install_office.sh)")


@pytest.fixture(scope="module")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed articles as .pdf and .docx made by LibreOffice, in a font with every character and in
    one without curly quotes (drawn from a fallback font)."""
    out = {}
    for key, font in fx.FONTS.items():
        folder = tmp_path_factory.mktemp(key)
        sources = []
        for doc_id, seed in SEEDS.items():
            (folder / f"{doc_id}.html").write_text(fx.rtl_html(seed["text"], font), encoding="utf-8")
            sources.append(folder / f"{doc_id}.html")
        for target in ("pdf", "docx"):
            fx.office_convert(sources, target, folder)
        out[key] = folder
    return out


@pytest.mark.slow
@pytest.mark.office
@needs_office
@pytest.mark.parametrize("doc_id", sorted(SEEDS))
@pytest.mark.parametrize("target", ["pdf", "docx"])
def test_office_round_trip_within_1pct(office_files: dict[str, Path], doc_id: str, target: str) -> None:
    """Guards against reversed Arabic, runs out of order or lost diacritics in PDF/DOCX text (#13: CER <= 1 %)."""
    article = Ingestor().read(office_files["dejavu"] / f"{doc_id}.{target}")
    assert ex.char_error_rate(SEEDS[doc_id]["text"], article.text) <= 0.01
    assert article.doc_id == doc_id and article.title


@pytest.mark.slow
@pytest.mark.office
@needs_office
@pytest.mark.parametrize("doc_id", sorted(SEEDS))
def test_office_pdf_fallback_font_words_intact(office_files: dict[str, Path], doc_id: str) -> None:
    """With glyphs from a fallback font only punctuation may move: the words read back within 1 %."""
    article = Ingestor().read(office_files["naskh"] / f"{doc_id}.pdf")
    assert ex.char_error_rate(SEEDS[doc_id]["text"], article.text, words=True) <= 0.01
    assert ex.char_error_rate(SEEDS[doc_id]["text"], article.text) <= 0.05


@pytest.mark.slow
@pytest.mark.parametrize("doc_id", sorted(SEEDS))
def test_visual_order_pdf_repaired(tmp_path: Path, doc_id: str) -> None:
    """Guards against a legacy PDF (Arabic stored in display order, presentation forms) indexed reversed."""
    fx.visual_order_pdf(SEEDS[doc_id]["text"], tmp_path / "v.pdf")
    text = Ingestor().read(tmp_path / "v.pdf").text
    assert ex.char_error_rate(SEEDS[doc_id]["text"], text) <= 0.01


def test_visual_order_pdf_detected_and_repaired_fast(tmp_path: Path) -> None:
    from rag.ingest.pdf import extract_pdf

    text = "\n".join(SEEDS["004_933cd54218a7fc21"]["text"].split("\n")[:5])
    fx.visual_order_pdf(text, tmp_path / "v.pdf")
    pdf = extract_pdf((tmp_path / "v.pdf").read_bytes(), "v.pdf")
    assert pdf.repaired_visual_order
    assert pdf.text.startswith("بايدن: الشراكة الأميركية العراقية مستمرة")
    assert ex.char_error_rate(text, pdf.text) <= 0.01


def test_scanned_pdf_refused_with_ocr_hint(tmp_path: Path) -> None:
    """Guards against a scan (no text layer) becoming an empty or garbage article."""
    fx.scanned_pdf(SEEDS["004_933cd54218a7fc21"]["text"], tmp_path / "scan.pdf")
    with pytest.raises(InputError, match=r"scan\.pdf has no text layer .*1 image\(s\).*looks like a scan.*ocrmypdf"):
        Ingestor().read(tmp_path / "scan.pdf")


@pytest.mark.parametrize("template", ["portal", "blog", "tables"])
@pytest.mark.parametrize("doc_id", sorted(SEEDS))
def test_saved_page_body_and_metadata(tmp_path: Path, template: str, doc_id: str) -> None:
    """Guards against menus, share bars, related links, comments, cookie notices and footers in the article."""
    meta = fx.page_meta(doc_id, SEEDS[doc_id], sorted(SEEDS).index(doc_id))
    path = tmp_path / f"{doc_id}.html"
    path.write_text(fx.saved_page(template, SEEDS[doc_id]["text"], meta), encoding="utf-8")
    article = Ingestor().read(path)
    reference = fx.page_reference(SEEDS[doc_id]["text"])
    boilerplate, recall = ex.boilerplate_share(reference, article.text)
    assert ex.char_error_rate(reference, article.text) <= 0.01
    assert boilerplate <= 0.01 and recall >= 0.99
    assert "ملفات تعريف الارتباط" not in article.text and "أبو أحمد" not in article.text
    assert (article.published, article.source, article.url, article.author) == (
        meta["published"],
        meta["source"],
        meta["url"],
        meta["author"],
    )


def test_saved_page_hashed_classes_mostly_clean(tmp_path: Path) -> None:
    """Without class names to go by, some boilerplate may stay, but the article must be all there."""
    doc_id = "002_b12590bbfa883fb9"
    meta = fx.page_meta(doc_id, SEEDS[doc_id], 2)
    path = tmp_path / "p.html"
    path.write_text(fx.saved_page("hashed", SEEDS[doc_id]["text"], meta), encoding="utf-8")
    boilerplate, recall = ex.boilerplate_share(fx.page_reference(SEEDS[doc_id]["text"]), Ingestor().read(path).text)
    assert boilerplate <= 0.10 and recall >= 0.99


def test_char_error_rate_and_boilerplate_share_measure() -> None:
    ref = "أعلنت القوات العراقية عن عملية جديدة في الأنبار."
    assert ex.char_error_rate(ref, ref) == 0.0
    assert 0.03 < ex.char_error_rate(ref, ref.replace("جديدة", "ةديدج")) <= 5 / len(ref)
    assert ex.char_error_rate("«نص» طويل", "نص طويل", words=True) == 0.0
    boilerplate, recall = ex.boilerplate_share(ref, "القائمة الرئيسية شارك الخبر " + ref)
    assert boilerplate == pytest.approx(1 - len(ref) / (len(ref) + 28)) and recall == 1.0
