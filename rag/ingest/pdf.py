"""PDF files: the text layer, read by pypdf and put back into Arabic *logical* order.

PDF stores glyphs at positions, not text; extractors that follow the content stream get
Arabic wrong in two known ways, both handled here:

* **Runs out of order.** Office suites write a line as several text runs (split at a
  diacritic, a fallback font, a bidi level change) and the stream order of those runs is not
  reading order: LibreOffice emits a line's final tanween (ً) as its own run, so pypdf's
  plain text reads ``" ًالأميركي … معربا"`` for ``"… معرباً"``. The runs are therefore
  collected with their positions (pypdf's visitor) and each line is rebuilt in reading
  order: right to left for an Arabic line, keeping embedded Latin/digit runs left to right;
  a run made only of diacritics joins the run it sits on.
* **Visual order.** Older generators store Arabic as it is displayed, left to right, so the
  text layer holds every line reversed ("ةيقارعلا" for "العراقية"). That is detected from
  letter statistics that cannot occur in logical Arabic (words that start with ة or ى and
  end with a reversed article لا, against words that start with ال and end with ة/ى) and
  repaired line by line: characters reversed with their diacritics kept on their letter,
  Latin/digit runs turned back, mirrored brackets swapped.

Lines are joined into paragraphs by their vertical spacing; a lone page number is dropped.
A PDF without a text layer (a scan) is refused with the OCR command to run, never indexed
as an empty article. Round-trip figures on PDFs made by LibreOffice from the seed articles:
``python -m bench.extraction``.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
import unicodedata
from dataclasses import dataclass
from typing import Any

from rag.errors import InputError
from rag.ingest.metadata import Metadata

logger = logging.getLogger(__name__)

_ARABIC = re.compile(r"[\u0621-\u064a\u0671-\u06d3\ufb50-\ufdff\ufe70-\ufefc]")
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9\u0660-\u0669]")
_LATIN = re.compile(r"[A-Za-z]")
_AR_WORD = re.compile(r"[\u0621-\u064a\u0671-\u06d3]{2,}")
_LTR_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,:/%+\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_PAGE_NUMBER = re.compile(r"^\W*(?:page|صفحة|ص)?\W*[\d\u0660-\u0669]{1,4}\W*$", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", "؟", ":", "…", "”", "»", '"')
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")
_PRESENTATION = re.compile(r"[\ufb50-\ufdff\ufe70-\ufefc]+")


@dataclass(frozen=True)
class _Run:
    """A piece of text drawn at one position (x, y = baseline start, in points; size = font size)."""

    text: str
    x: float
    y: float
    size: float
    seq: int = 0  # order in the content stream

    @property
    def marks_only(self) -> bool:
        return bool(self.text.strip()) and all(unicodedata.category(c) == "Mn" for c in self.text.strip())


@dataclass(frozen=True)
class PdfText:
    """The text of a PDF in logical order and its document properties."""

    text: str
    metadata: Metadata
    pages: int
    repaired_visual_order: bool


def extract_pdf(data: bytes, name: str) -> PdfText:
    """Text (logical order, paragraphs separated by newlines) and title/author of a PDF.

    Raises:
        InputError: the file is not a readable PDF, is password-protected, or has no text layer.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name} is password-protected; save an unprotected copy (or its text) and index that")
        pages = list(reader.pages)
        page_lines = [_page_lines(page) for page in pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise InputError(
            f"{name} cannot be read as a PDF ({type(exc).__name__}: {exc}); check the file, or export it again"
        ) from None
    joined = "\n".join(line.text for lines in page_lines for line in lines)
    if not re.search(r"[^\W_]", joined):
        images = sum(_image_count(p) for p in pages)
        what = (
            f"its {len(pages)} page(s) hold {images} image(s) and no text: it looks like a scan"
            if images
            else f"its {len(pages)} page(s) hold no text"
        )
        raise InputError(
            f"{name} has no text layer ({what}); run OCR first, e.g. "
            f"`ocrmypdf -l ara {name} {name.rsplit('.', 1)[0]}-ocr.pdf`, and index the result"
        )
    visual = looks_visual(_base_letters(joined))
    if visual:
        logger.info("%s: text layer is in visual (display) order; reversing it into logical order", name)
        page_lines = [
            [_Line(visual_to_logical(line.text), line.y, line.size) for line in lines] for lines in page_lines
        ]
    text = _base_letters(_paragraphs(page_lines))
    info: Any = reader.metadata or {}
    meta = Metadata.from_mapping({"title": _info(info, "/Title"), "author": _info(info, "/Author")}, name, strict=False)
    return PdfText(text, meta, len(pages), visual)


def _base_letters(text: str) -> str:
    """Arabic presentation forms (ﻢ, ﺗ, the ligature ﻻ …), which some generators store instead of
    letters, turned into the letters they show (NFKC, applied to those characters only)."""
    return _PRESENTATION.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _info(info: Any, key: str) -> str:
    try:
        value = info.get(key)
    except Exception:  # noqa: BLE001 - damaged document information dictionary
        return ""
    return str(value).strip() if value else ""


def _image_count(page: Any) -> int:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    except Exception:  # noqa: BLE001 - a damaged PDF part only loses this detail, never the article
        return 0


# -- one page: runs -> lines in reading order ------------------------------------------------
@dataclass(frozen=True)
class _Line:
    text: str
    y: float
    size: float


def _page_lines(page: Any) -> list[_Line]:
    runs: list[_Run] = []

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, font_size: float) -> None:
        text = text.replace("\n", "").replace("\r", "")
        if not text:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
        runs.append(_Run(text, float(x), float(y), float(font_size or 10.0) * float(scale), len(runs)))

    page.extract_text(visitor_text=visit)
    out = [
        _Line(" ".join(_line_text(line).split()), line[0].y, max(r.size for r in line)) for line in _group_lines(runs)
    ]
    out = [line for line in out if line.text]
    # A lone number at the top or bottom of a page is a page number, not article text.
    while out and _PAGE_NUMBER.match(out[-1].text):
        out.pop()
    while out and _PAGE_NUMBER.match(out[0].text):
        out.pop(0)
    return out


def _group_lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs grouped into lines (top to bottom); diacritic-only runs merged into the run they sit on."""
    base = sorted((r for r in runs if not r.marks_only and r.text.strip()), key=lambda r: (-r.y, r.x))
    lines: list[list[_Run]] = []
    for run in base:
        if lines and abs(lines[-1][0].y - run.y) <= 0.5 * max(run.size, 1.0):
            lines[-1].append(run)
        else:
            lines.append([run])
    # Spaces-only runs carry word gaps between runs: keep them with their line.
    for run in runs:
        if run.text.strip():
            continue
        target = _nearest_line(lines, run)
        if target is not None:
            target.append(run)
    for mark in (r for r in runs if r.marks_only):
        target = _nearest_line(lines, mark, tolerance=1.0)
        if target is None:
            continue
        # A run's x is where it starts on the left: for an Arabic run that is its logical end,
        # which is where a split-off final diacritic is drawn.
        host = min((r for r in target if r.text.strip()), key=lambda r: abs(r.x - mark.x))
        target[target.index(host)] = _Run(
            host.text.rstrip() + mark.text.strip() + host.text[len(host.text.rstrip()) :],
            host.x,
            host.y,
            host.size,
            host.seq,
        )
    return lines


def _nearest_line(lines: list[list[_Run]], run: _Run, tolerance: float = 0.5) -> list[_Run] | None:
    best = min(lines, key=lambda line: abs(line[0].y - run.y), default=None)
    if best is None or abs(best[0].y - run.y) > tolerance * max(run.size, 1.0):
        return None
    return best


def _line_text(line: list[_Run]) -> str:
    """The runs of one line in reading order."""
    text = "".join(r.text for r in line)
    rtl = len(_ARABIC.findall(text)) >= len(_LATIN.findall(text))
    # pypdf reports the position where a text operation starts; runs drawn one after another
    # in one operation share it, and each is drawn to the right of the one before: later in the
    # stream means further right.
    ordered = sorted(line, key=lambda r: (-round(r.x, 1), -r.seq) if rtl else (round(r.x, 1), r.seq))
    if rtl:  # punctuation between bidi runs is laid out left to right: "." + '"' for '".'
        ordered = [_Run(r.text[::-1], r.x, r.y, r.size, r.seq) if _is_neutral(r.text) else r for r in ordered]
    # Inside an Arabic line a Latin/digit phrase split over several runs still reads left to right
    # (and inside a Latin line an Arabic phrase right to left): turn such stretches back.
    foreign = (
        (lambda t: bool(_LATIN_OR_DIGIT.search(t)) and not _ARABIC.search(t))
        if rtl
        else (lambda t: bool(_ARABIC.search(t)))
    )
    out: list[_Run] = []
    i = 0
    while i < len(ordered):
        if not foreign(ordered[i].text):
            out.append(ordered[i])
            i += 1
            continue
        j = i
        while j + 1 < len(ordered) and (
            foreign(ordered[j + 1].text)
            or (not ordered[j + 1].text.strip() and j + 2 < len(ordered) and foreign(ordered[j + 2].text))
        ):
            j += 1
        out.extend(_swap_edge_spaces(r) if rtl else r for r in reversed(ordered[i : j + 1]))
        i = j + 1
    return "".join(r.text for r in out)


def _swap_edge_spaces(run: _Run) -> _Run:
    """A left-to-right run inside a right-to-left line: the space drawn on its right comes before it
    in reading order ("12 " drawn left to right sits after the word read before it), and vice versa."""
    core = run.text.strip()
    if not core:
        return run
    lead = run.text[: len(run.text) - len(run.text.lstrip())]
    trail = run.text[len(run.text.rstrip()) :]
    return _Run(trail + core + lead, run.x, run.y, run.size, run.seq)


def _is_neutral(text: str) -> bool:
    core = text.strip()
    return len(core) > 1 and not re.search(r"[^\W_]", core)


def _paragraphs(page_lines: list[list[_Line]]) -> str:
    """Lines joined into paragraphs.

    A new paragraph starts after a gap wider than the page's usual line spacing (paragraph
    spacing, a headline's larger type), or after a short line that ends a sentence (the last
    line of a paragraph in a document without paragraph spacing).
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for lines in page_lines:
        gaps = [a.y - b.y for a, b in itertools.pairwise(lines) if a.y > b.y]
        usual = statistics.median(gaps) if gaps else 0.0
        typical = statistics.median(len(line.text) for line in lines) if lines else 0
        for i, line in enumerate(lines):
            current.append(line.text)
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            wide_gap = nxt is not None and usual > 0 and (line.y - nxt.y) > 1.2 * usual
            short_end = line.text.endswith(_SENTENCE_END) and len(line.text) < 0.85 * typical
            if wide_gap or short_end:
                paragraphs.append(" ".join(current))
                current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n".join(paragraphs)


# -- visual order ---------------------------------------------------------------------------
def looks_visual(text: str) -> bool:
    """Whether Arabic in ``text`` is stored in display (visual) order, i.e. each word reversed.

    Counts signs that only one order can produce: in logical order many words start with the
    article ال and end with ة/ى; in visual order they end with لا and start with ة/ى (which
    no Arabic word does).

    Example:
        >>> looks_visual("ةيقارعلا تاوقلا ةدايق"), looks_visual("قيادة القوات العراقية")
        (True, False)
    """
    words = _AR_WORD.findall(text)
    logical = sum(w.startswith("ال") and len(w) >= 4 for w in words) + sum(w.endswith(("ة", "ى")) for w in words)
    visual = sum(w.endswith("لا") and len(w) >= 4 for w in words) + sum(w.startswith(("ة", "ى")) for w in words)
    return visual >= 3 and visual > 2 * logical


def visual_to_logical(line: str) -> str:
    """One line from display order back to logical order.

    Letters are reversed with their diacritics kept after their letter, runs of Latin letters
    and digits keep their left-to-right order, and mirrored brackets are swapped back.

    Example:
        >>> visual_to_logical("2024 ماع يف (شعاد) ميظنت")
        'تنظيم (داعش) في عام 2024'
    """
    if not _ARABIC.search(line):
        return line
    clusters: list[str] = []
    pending = ""
    for ch in line:
        if unicodedata.category(ch) == "Mn":
            if clusters:
                clusters[-1] += ch
            else:
                pending += ch
        else:
            clusters.append(ch + pending)
            pending = ""
    # Generators that draw a diacritic as its own glyph can repeat its letter in the text layer
    # (letter+mark twice: matplotlib does); in unvowelled news text that never happens for real.
    clusters = [c for k, c in enumerate(clusters) if not (k and len(c) > 1 and c == clusters[k - 1])]
    reversed_line = "".join(reversed(clusters)).translate(_MIRROR)
    return _LTR_RUN.sub(lambda m: m.group()[::-1], reversed_line)
