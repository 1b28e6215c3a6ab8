"""Test files built from the seed articles, for :mod:`bench.extraction` and the extraction tests.

Office documents (LibreOffice, headless), a legacy visual-order PDF and a scan (matplotlib), and
saved news pages in four layouts full of boilerplate. Each builder is independent of Sanad's
readers (:mod:`rag.ingest`), which the files are made to test.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

SEED_CORPUS = Path(__file__).resolve().parents[1] / "data" / "articles"
FONTS = {"dejavu": "DejaVu Sans", "naskh": "Noto Naskh Arabic"}
TEMPLATES = ("portal", "blog", "tables", "hashed")


# -- reference texts ----------------------------------------------------------------------------
def seed_articles(folder: Path = SEED_CORPUS) -> dict[str, dict[str, str]]:
    """doc_id -> {"text", "title", "published", "source", "url", "author"} of the seed articles as Sanad reads them."""
    from rag.ingest import Ingestor

    articles, _ = Ingestor().run([folder])
    return {
        a.doc_id: {
            "text": a.text,
            "title": a.title,
            "published": a.published,
            "source": a.source,
            "url": a.url,
            "author": a.author,
        }
        for a in articles
    }


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


# -- office documents ---------------------------------------------------------------------------
def soffice() -> str | None:
    """The LibreOffice binary, or ``None`` when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def rtl_html(text: str, font: str) -> str:
    """An HTML document with the text as right-to-left paragraphs in ``font``."""
    body = "\n".join(f'<p dir="rtl">{html.escape(p)}</p>' for p in paragraphs(text))
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><style>body, p '
        f'{{ font-family: "{font}"; font-size: 12pt; }}</style></head><body dir="rtl">\n{body}\n</body></html>'
    )


def office_convert(sources: Sequence[Path], target: str, out_dir: Path, timeout_s: float = 300) -> None:
    """Convert HTML files with LibreOffice Writer (``target``: ``pdf`` or ``docx``) into ``out_dir``.

    A private user profile keeps parallel runs (or a running desktop LibreOffice) from blocking it.
    """
    binary = soffice()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) is not installed; run scripts/install_office.sh")
    fmt = "docx:MS Word 2007 XML" if target == "docx" else "pdf:writer_pdf_Export"
    with tempfile.TemporaryDirectory(prefix="sanad-lo-") as profile:
        cmd = [
            binary,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--infilter=HTML (StarWriter)",
            "--convert-to",
            fmt,
            "--outdir",
            str(out_dir),
            *map(str, sources),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    missing = [s.name for s in sources if not (out_dir / f"{s.stem}.{target}").exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not convert {missing}: {done.stderr.strip()[-500:]}")


# -- legacy visual-order PDF and a scan (matplotlib) ---------------------------------------------------
_RIGHT_JOINING = set("اأإآٱدذرزوؤةى")


def _shape(text: str) -> str:
    """Arabic letters replaced by their contextual presentation forms (no lam-alef ligatures): a fixture tool."""

    def letter(ch: str) -> bool:
        return unicodedata.name(ch, "").startswith("ARABIC LETTER") and ch != "ء"

    out = []
    for i, ch in enumerate(text):
        if not letter(ch):
            out.append(ch)
            continue
        j = i - 1
        while j >= 0 and unicodedata.category(text[j]) == "Mn":
            j -= 1
        k = i + 1
        while k < len(text) and unicodedata.category(text[k]) == "Mn":
            k += 1
        joins_prev = j >= 0 and letter(text[j]) and text[j] not in _RIGHT_JOINING
        joins_next = k < len(text) and letter(text[k]) and ch not in _RIGHT_JOINING
        form = {(True, True): "MEDIAL", (True, False): "FINAL", (False, True): "INITIAL"}.get(
            (joins_prev, joins_next), "ISOLATED"
        )
        try:
            out.append(unicodedata.lookup(f"{unicodedata.name(ch)} {form} FORM"))
        except KeyError:
            out.append(ch)
    return "".join(out)


def to_visual(line: str) -> str:
    """A logical line as a legacy generator stores it: shaped, reversed (diacritics on their letter),
    mirrored brackets, Latin and digit runs left to right. Written independently of the repair in
    :mod:`rag.ingest.pdf`."""
    clusters: list[str] = []
    for ch in _shape(line):
        if unicodedata.category(ch) == "Mn" and clusters:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    mirrored = "".join(reversed(clusters)).translate(str.maketrans("()[]{}«»", ")(][}{»«"))
    return re.sub(r"[A-Za-z0-9][A-Za-z0-9 .,:/%+\-]*[A-Za-z0-9]|[A-Za-z0-9]", lambda m: m.group()[::-1], mirrored)


def _pages_of_lines(text: str, words_per_line: int = 9, lines_per_page: int = 45) -> list[list[str]]:
    lines = []
    for para in paragraphs(text):
        words = para.split()
        lines += [" ".join(words[i : i + words_per_line]) for i in range(0, len(words), words_per_line)]
    return [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]


def visual_order_pdf(text: str, path: Path) -> None:
    """A PDF whose text layer stores each line in visual order with presentation forms (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for page in _pages_of_lines(text):
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(page):
                fig.text(0.92, 0.95 - i * 0.02, to_visual(line), ha="right", family="DejaVu Sans", fontsize=10)
            pdf.savefig(fig)
            plt.close(fig)


def scanned_pdf(text: str, path: Path) -> None:
    """A PDF holding the text only as a picture (a scan): no text layer."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.27, 11.69), dpi=72)
    for i, line in enumerate(_pages_of_lines(text)[0]):
        fig.text(0.92, 0.95 - i * 0.02, to_visual(line), ha="right", family="DejaVu Sans", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    buf.seek(0)
    image = plt.imread(buf)
    page = plt.figure(figsize=(8.27, 11.69), dpi=72)
    page.figimage(image, 0, 0)
    page.savefig(path, format="pdf")
    plt.close(page)


# -- saved web pages --------------------------------------------------------------------------------
_MENU = (
    "الرئيسية",
    "سياسة",
    "اقتصاد",
    "رياضة",
    "ثقافة",
    "منوعات",
    "تكنولوجيا",
    "صحة",
    "رأي",
    "تحقيقات",
    "فيديو",
    "صور",
    "بودكاست",
    "الطقس",
    "اتصل بنا",
)
_RELATED = (
    "الحكومة العراقية تعلن خطة جديدة لإعادة إعمار المناطق المحررة في الأنبار ونينوى",
    "أسعار النفط ترتفع بعد قرار أوبك تمديد خفض الإنتاج حتى نهاية العام المقبل",
    "البرلمان يناقش مشروع قانون الموازنة الاتحادية وسط خلافات بين الكتل السياسية",
    "وزير الخارجية يبحث مع نظيره التركي ملف المياه والحدود المشتركة بين البلدين",
    "انطلاق معرض بغداد الدولي للكتاب بمشاركة أكثر من ثلاثمئة دار نشر عربية وأجنبية",
    "المنتخب الوطني يستعد لمواجهة حاسمة في تصفيات كأس العالم الشهر المقبل",
)
_COMMENTS = (
    ("أبو أحمد", "تحليل ممتاز، لكن السؤال الحقيقي هو متى ستغادر القوات الأجنبية فعلاً؟ سمعنا هذه الوعود مرات كثيرة."),
    ("سارة من بغداد", "المهم أن يستفيد المواطن العادي من هذه الاتفاقيات، الكهرباء ما زالت مقطوعة في حينا."),
    ("محمد", "شكراً على التغطية، أتمنى أن تنشروا النص الكامل للبيان المشترك."),
)
_COOKIE = (
    "نستخدم ملفات تعريف الارتباط (الكوكيز) لتحسين تجربتك على موقعنا وتحليل حركة الزوار. "
    "بمتابعة التصفح فإنك توافق على سياسة الخصوصية. موافق"
)
_OUTLETS = ("صحيفة الرافدين", "الشرق نيوز", "بوابة الخليج", "وكالة الأنباء", "الحدث اليوم")
_PAGES = Path(__file__).resolve().parent / "pages"


def _json_ld(meta: dict[str, str], headline: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline,
        "datePublished": f"{meta['published']}T09:30:00+03:00",
        "author": {"@type": "Person", "name": meta["author"]},
        "publisher": {"@type": "Organization", "name": meta["source"]},
        "mainEntityOfPage": meta["url"],
    }
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def page_headline(text: str) -> tuple[str, list[str]]:
    """``(headline, body paragraphs)`` for a page: the first line when it reads as a headline, else a
    kicker and the article's first seven words (an editor's headline, not a copy of the first line)."""
    paras = paragraphs(text)
    first = paras[0]
    if len(first) <= 120 and not first.endswith((".", "،", ":")):
        return first, paras[1:]
    return "تقرير: " + " ".join(first.split()[:7]).rstrip("،,.:"), paras


def page_reference(text: str) -> str:
    """What a reader sees of an article on its page: the headline, then the body."""
    headline, body = page_headline(text)
    return "\n".join([headline, *body])


def saved_page(template: str, text: str, meta: dict[str, str]) -> str:
    """A full saved news page in ``template`` layout (``pages/<template>.html``) around the article ``text``.

    ``hashed`` is the portal with every class and id replaced by a meaningless hash and no
    semantic tags (``article``, ``footer`` …), so no name tells boilerplate from article.
    """
    from string import Template

    if template == "hashed":

        def hashed(m: re.Match[str]) -> str:
            names = " ".join("c-" + hashlib.sha1(n.encode()).hexdigest()[:6] for n in m.group(2).split())
            return f'{m.group(1)}="{names}"'

        portal = saved_page("portal", text, meta)
        portal = re.sub(r"<(/?)(article|figure|figcaption|footer|nav|aside|header)\b", r"<\1div", portal)
        return re.sub(r'\b(class|id)="([^"]*)"', hashed, portal)
    if template not in TEMPLATES:
        raise ValueError(f"template={template!r}; choose one of {', '.join(TEMPLATES)}")
    esc = html.escape
    headline, body = page_headline(text)
    paras = [f"<p>{esc(p)}</p>" for p in body]
    read_also = (
        f'<div class="read-also"><strong>اقرأ أيضاً</strong><ul><li><a href="/x">{esc(_RELATED[0])}</a>'
        f'</li><li><a href="/y">{esc(_RELATED[1])}</a></li></ul></div>'
    )
    middle = len(paras) // 2
    values = {
        "headline": esc(headline),
        "source": esc(meta["source"]),
        "published": esc(meta["published"]),
        "author": esc(meta["author"]),
        "url": esc(meta["url"]),
        "json_ld": _json_ld(meta, headline),
        "cookie": esc(_COOKIE),
        "body": "".join(paras),
        "body_with_read_also": "".join([*paras[:middle], read_also, *paras[middle:]]),
        "body_rows": "".join(f"<tr><td>{p}</td></tr>" for p in paras),
        "menu": " ".join(f'<a href="/{i}">{esc(m)}</a>' for i, m in enumerate(_MENU)),
        "menu_cells": "".join(f'<td><a href="/{i}">{esc(m)}</a></td>' for i, m in enumerate(_MENU[:10])),
        "related": "".join(f'<li><a href="/news/{i}">{esc(r)}</a></li>' for i, r in enumerate(_RELATED)),
        "most_read": "".join(f'<li><a href="/m/{i}">{esc(r)}</a></li>' for i, r in enumerate(reversed(_RELATED))),
        "related_2": esc(_RELATED[2]),
        "related_3": esc(_RELATED[3]),
        "comments": "".join(
            f'<div class="comment"><span class="name">{esc(n)}</span><p>{esc(c)}</p>'
            f'<a href="#">رد</a> <span>منذ ساعتين</span></div>'
            for n, c in _COMMENTS
        ),
    }
    return Template((_PAGES / f"{template}.html").read_text(encoding="utf-8")).substitute(values)


def page_meta(doc_id: str, meta: dict[str, str], i: int) -> dict[str, str]:
    """The metadata written into a fixture page (real where the manifest knows it, else made up)."""
    return {
        "published": meta["published"] or f"2024-0{i + 1}-1{i}",
        "source": meta["source"] or _OUTLETS[i % len(_OUTLETS)],
        "url": meta["url"] or f"https://news.example/{doc_id}",
        "author": meta["author"] or "فريق التحرير",
    }
