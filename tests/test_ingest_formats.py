"""PDF and Word readers on small files made in the test (no office suite needed), and the Arabic
order repair on written-out examples. Round trips through LibreOffice: tests/test_extraction.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.errors import InputError
from rag.ingest import Ingestor
from rag.ingest.dedup import jaccard, near_duplicate_groups, shingles
from rag.ingest.pdf import extract_pdf, looks_visual, visual_to_logical

BODY = "أعلنت وزارة الدفاع العراقية عن بدء عملية أمنية جديدة في محافظة الأنبار لملاحقة خلايا داعش."


def _docx(tmp_path: Path, *, title: str = "", author: str = "") -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.add_paragraph("بغداد تعلن خطة أمنية جديدة")
    document.add_paragraph(BODY)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "المحافظة", "عدد العمليات"
    table.cell(1, 0).text, table.cell(1, 1).text = "الأنبار", "12"
    document.add_paragraph("وأضاف البيان أن العمليات ستستمر حتى نهاية العام.")
    document.sections[0].footer.paragraphs[0].text = "صفحة 1 — سري"
    path = tmp_path / "statement.docx"
    document.save(path)
    return path


def test_docx_paragraphs_tables_in_order_footer_left_out(tmp_path: Path) -> None:
    article = Ingestor().read(_docx(tmp_path))
    assert article.text == (
        "بغداد تعلن خطة أمنية جديدة\n" + BODY + "\nالمحافظة | عدد العمليات\nالأنبار | 12\n"
        "وأضاف البيان أن العمليات ستستمر حتى نهاية العام."
    )
    assert article.title == "بغداد تعلن خطة أمنية جديدة" and "سري" not in article.text


def test_docx_properties_give_title_and_author_sidecar_wins(tmp_path: Path) -> None:
    path = _docx(tmp_path, title="بيان وزارة الدفاع", author="المكتب الإعلامي")
    article = Ingestor().read(path)
    assert (article.title, article.author, article.published) == ("بيان وزارة الدفاع", "المكتب الإعلامي", "")
    (tmp_path / "statement.meta.json").write_text('{"author": "وزارة الدفاع", "date": "2024-04-16"}', encoding="utf-8")
    article = Ingestor().read(path)
    assert (article.author, article.published) == ("وزارة الدفاع", "2024-04-16")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04not really", "cannot be read as a Word .docx"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 60, "old binary .doc"),
    ],
)
def test_docx_not_a_docx_raises(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "x.docx").write_bytes(data)
    with pytest.raises(InputError, match=message):
        Ingestor().read(tmp_path / "x.docx")


def _blank_pdf(pages: int = 2, password: str = "") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_without_text_refused_with_ocr_command() -> None:
    """Guards against a PDF with no text layer becoming an empty article."""
    with pytest.raises(InputError, match=r"x\.pdf has no text layer \(its 2 page\(s\) hold no text\).*ocrmypdf -l ara"):
        extract_pdf(_blank_pdf(), "x.pdf")


def test_pdf_password_protected_refused() -> None:
    with pytest.raises(InputError, match="password-protected"):
        extract_pdf(_blank_pdf(password="secret"), "locked.pdf")


def test_pdf_damaged_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\n garbage without objects")
    articles, [skipped] = Ingestor().run([tmp_path])
    assert articles == [] and "cannot be read as a PDF" in skipped.reason


@pytest.mark.parametrize(
    ("visual", "logical"),
    [
        ("ةيقارعلا تاوقلا", "القوات العراقية"),
        ("2024 ماع يف (شعاد) ميظنت", "تنظيم (داعش) في عام 2024"),
        ("CJTF-OIR ةمهم", "مهمة CJTF-OIR"),
        ("اًبرعم", "معرباً"),  # the tanween stays on its letter
        ("Joe Biden نم ةلاسر", "رسالة من Joe Biden"),
    ],
)
def test_visual_to_logical_examples(visual: str, logical: str) -> None:
    assert visual_to_logical(visual) == logical


def test_looks_visual_needs_evidence() -> None:
    assert looks_visual("ةيقارعلا تاوقلا ةدايق تنلعأ ةيلمع ةديدج")
    assert not looks_visual("أعلنت قيادة القوات العراقية عن عملية جديدة")
    assert not looks_visual("Oil prices rose on Monday")  # no Arabic: nothing to decide
    assert not looks_visual("مثلا")  # one word ending in لا is not evidence


# -- near duplicates ---------------------------------------------------------------------------
STORY = (
    "أعلنت وزارة الداخلية السعودية اليوم القبض على خلية إرهابية في الرياض تضم عشرة أشخاص كانوا يخططون "
    "لتنفيذ عمليات ضد منشآت حكومية، وقال المتحدث الأمني إن الأجهزة رصدت تحركات الخلية منذ أشهر وإن "
    "التحقيقات ما زالت جارية لكشف بقية المتورطين وصلاتهم بتنظيمات خارجية."
)


def test_shingles_normalised_words() -> None:
    """Diacritics, alef forms and taa marbuta do not make two copies of a story different."""
    assert list(shingles("أعلنت الوزارةُ اليوم عن خطة جديدة")) == list(shingles("اعلنت الوزاره اليوم عن خطه جديده"))


def test_near_duplicate_groups_agency_copy_with_edits() -> None:
    edited = "الرياض - واس: " + STORY.replace("عشرة أشخاص", "عشرة اشخاص") + " وأكد البيان أن الأمن مستتب."
    other = "توقع صندوق النقد الدولي أن يتباطأ نمو الاقتصاد العالمي إلى ٣٫١ في المئة هذا العام بسبب الفائدة."
    groups = near_duplicate_groups([STORY, other, edited, STORY[: len(STORY) // 3]], threshold=0.6)
    assert [g.members for g in groups] == [(0, 2)]
    assert 0.6 <= groups[0].min_similarity < 1.0
    assert jaccard(shingles(STORY), shingles(edited)) == pytest.approx(groups[0].min_similarity)


def test_near_duplicates_merged_by_setting(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "b.txt").write_text(STORY + " وأضاف المتحدث أن التحقيقات مستمرة.", encoding="utf-8")
    (tmp_path / "articles.csv").write_text(
        "file,source,date\na.txt,سبق,2015-07-22\nb.txt,عكاظ,2015-07-21\n", encoding="utf-8"
    )
    kept, skipped = Ingestor().run([tmp_path])
    assert len(kept) == 2 and skipped == []  # the default keeps each copy
    [merged], [copy] = Ingestor(near_duplicates="merge", near_threshold=0.8).run([tmp_path])
    assert merged.doc_id == "b" and merged.sources == ("عكاظ", "سبق")  # the earliest copy stands for both
    assert copy.kind == "duplicate" and "near-verbatim copy" in copy.reason


def test_ingestor_bad_near_duplicate_setting_raises() -> None:
    with pytest.raises(InputError, match="near_duplicates='drop' is not valid; choose one of keep, merge"):
        Ingestor(near_duplicates="drop")
