"""Extraction quality: do PDF, Word and saved-page versions of the seed articles read back as the text?

Run ``python -m bench.extraction`` (needs LibreOffice for the office rows: ``scripts/install_office.sh``).
It builds, from the five seed articles (their cleaned text is the reference):

* **PDF and DOCX made by a real office suite**: each article as right-to-left paragraphs in an
  HTML file, converted by LibreOffice (headless) to ``.pdf`` and ``.docx``, twice: in DejaVu Sans,
  a font with every character the texts use (as Arabic office documents in Arial or Times have),
  and in Noto Naskh Arabic, which lacks the curly quotes, so LibreOffice draws them from a
  fallback font in separate runs (harder for extraction).
* **A visual-order PDF**: each line pre-shaped into Arabic presentation forms and stored left to
  right, as legacy generators do, drawn by matplotlib (which does no bidi of its own).
* **A scanned PDF**: the text as an image only; Sanad must refuse it with a message.
* **Saved web pages**: each article inside four page layouts written here (a news portal with a
  menu, breaking-news ticker, "read also" box inside the body, share bar, tags, related articles,
  comments, newsletter box, cookie notice and footer; a WordPress-style blog with a sidebar of
  most-read links and a comment form; a table-and-div portal with no semantic tags at all; the
  portal again with every class and id replaced by a meaningless hash, as CSS-in-JS sites ship,
  so no "comment" or "share" name gives the boilerplate away), each with the outlet, date, URL
  and author in JSON-LD or meta tags.

For each file it reports the character error rate (CER) of the extracted text against the
reference after normalisation (Unicode NFC, whitespace runs made one space): the exact edit
distance divided by the reference length, with and without punctuation. For pages it also
reports the share of the extracted text that is not article text (boilerplate left in) and the
share of the article recovered (both from the longest common subsequence), and whether the
date, outlet, URL and author came out right; a naive "all visible text" extraction
(trafilatura's ``html2txt``) is shown for comparison.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.newsroom_fixtures import (
    FONTS,
    TEMPLATES,
    office_convert,
    page_meta,
    page_reference,
    rtl_html,
    saved_page,
    scanned_pdf,
    seed_articles,
    soffice,
    visual_order_pdf,
)

logger = logging.getLogger(__name__)


__all__ = ["boilerplate_share", "char_error_rate", "main", "normalise", "run", "summarise", "words_only"]


# -- measures ---------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """NFC, whitespace runs as one space: what "equal text" means for the round trip."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def words_only(text: str) -> str:
    """Letters, digits, diacritics and spaces: punctuation removed (to tell misplaced quotes from broken words)."""
    return "".join(ch if ch.isalnum() or ch.isspace() or unicodedata.category(ch) == "Mn" else " " for ch in text)


def levenshtein(a: str, b: str) -> int:
    """Exact edit distance (insertions, deletions, substitutions), bit-parallel (Myers 1999): fast on whole articles.

    Example:
        >>> levenshtein("العراقية", "العراقيه"), levenshtein("", "abc"), levenshtein("kitten", "sitting")
        (1, 3, 3)
    """
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    full, last = (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = full, 0, m
    for ch in a:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def common_subsequence(a: str, b: str) -> int:
    """Length of the longest common subsequence, bit-parallel (Crochemore et al. 2001)."""
    if not a or not b:
        return 0
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    full = (1 << len(b)) - 1
    v = full
    for ch in a:
        u = v & peq.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - bin(v).count("1")


def char_error_rate(reference: str, extracted: str, *, words: bool = False) -> float:
    """Edit distance per reference character, both texts normalised (:func:`normalise`).

    With ``words`` punctuation is removed from both first.

    Example:
        >>> round(char_error_rate("القوات العراقية", "القوات العراقيه"), 3)
        0.067
    """
    if words:
        reference, extracted = words_only(reference), words_only(extracted)
    ref, hyp = normalise(reference), normalise(extracted)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(ref, hyp) / len(ref)


def boilerplate_share(reference: str, extracted: str) -> tuple[float, float]:
    """``(boilerplate, recall)``: share of the extracted characters that are not article text, and
    share of the article's characters that were extracted, both from their longest common subsequence."""
    ref, hyp = normalise(reference), normalise(extracted)
    if not hyp:
        return 0.0, 0.0
    common = common_subsequence(ref, hyp)
    return 1 - common / len(hyp), common / len(ref) if ref else 0.0


# -- the run ----------------------------------------------------------------------------------------
@dataclass
class Row:
    """One extracted file: what it is, how it read back."""

    doc_id: str
    kind: str
    cer: float | None = None
    cer_words: float | None = None
    boilerplate: float | None = None
    recall: float | None = None
    metadata_ok: dict[str, bool] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0


def run(work: Path, *, office: bool = True) -> list[Row]:
    """Build every fixture under ``work`` and extract it with Sanad's readers."""
    import trafilatura

    from rag.errors import InputError
    from rag.ingest import Ingestor

    seeds = seed_articles()
    ingestor = Ingestor()
    rows: list[Row] = []

    def read(doc_id: str, kind: str, path: Path, reference: str) -> Row:
        t = time.perf_counter()
        try:
            article = ingestor.read(path, doc_id=doc_id)
        except InputError as exc:
            return Row(doc_id, kind, error=str(exc), seconds=time.perf_counter() - t)
        return Row(
            doc_id,
            kind,
            cer=char_error_rate(reference, article.text),
            cer_words=char_error_rate(reference, article.text, words=True),
            seconds=time.perf_counter() - t,
        )

    if office and soffice():
        for key, font in FONTS.items():
            folder = work / key
            folder.mkdir(parents=True, exist_ok=True)
            sources = []
            for doc_id, seed in seeds.items():
                (folder / f"{doc_id}.html").write_text(rtl_html(seed["text"], font), encoding="utf-8")
                sources.append(folder / f"{doc_id}.html")
            for target in ("pdf", "docx"):
                office_convert(sources, target, folder)
                for doc_id, seed in seeds.items():
                    rows.append(
                        read(doc_id, f"{target} ({key}, LibreOffice)", folder / f"{doc_id}.{target}", seed["text"])
                    )
    elif office:
        logger.warning("LibreOffice not found: office rows skipped (run scripts/install_office.sh)")
    legacy = work / "legacy"
    legacy.mkdir(parents=True, exist_ok=True)
    for doc_id, seed in seeds.items():
        visual_order_pdf(seed["text"], legacy / f"{doc_id}.pdf")
        rows.append(read(doc_id, "pdf (visual order, matplotlib)", legacy / f"{doc_id}.pdf", seed["text"]))
    first = next(iter(seeds))
    scanned_pdf(seeds[first]["text"], legacy / "scan.pdf")
    rows.append(read(first, "pdf (scan, no text layer)", legacy / "scan.pdf", seeds[first]["text"]))

    pages = work / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    for i, (doc_id, seed) in enumerate(seeds.items()):
        meta = page_meta(doc_id, seed, i)
        for template in TEMPLATES:
            markup = saved_page(template, seed["text"], meta)
            path = pages / f"{doc_id}-{template}.html"
            path.write_text(markup, encoding="utf-8")
            reference = page_reference(seed["text"])
            row = read(doc_id, f"page ({template}), trafilatura", path, reference)
            if not row.error:
                article = ingestor.read(path, doc_id=doc_id)
                row.boilerplate, row.recall = boilerplate_share(reference, article.text)
                row.metadata_ok = {k: getattr(article, k) == meta[k] for k in ("published", "source", "url", "author")}
            rows.append(row)
            naive = trafilatura.html2txt(markup)
            b, r = boilerplate_share(reference, naive)
            rows.append(
                Row(
                    doc_id,
                    f"page ({template}), all visible text",
                    cer=char_error_rate(reference, naive),
                    boilerplate=b,
                    recall=r,
                )
            )
    return rows


def summarise(rows: list[Row]) -> list[dict[str, object]]:
    """One line per kind of file: mean and worst CER, boilerplate and recall, metadata fields right."""
    out = []
    for kind in dict.fromkeys(r.kind for r in rows):
        group = [r for r in rows if r.kind == kind]
        cers = [r.cer for r in group if r.cer is not None]
        line: dict[str, object] = {"kind": kind, "files": len(group), "errors": sum(bool(r.error) for r in group)}
        if cers:
            line.update(cer_mean=statistics.fmean(cers), cer_max=max(cers), within_1pct=sum(c <= 0.01 for c in cers))
            words = [r.cer_words for r in group if r.cer_words is not None]
            if words:
                line["cer_words_mean"] = statistics.fmean(words)
        shares = [r.boilerplate for r in group if r.boilerplate is not None]
        if shares:
            line.update(
                boilerplate_mean=statistics.fmean(shares),
                boilerplate_max=max(shares),
                recall_mean=statistics.fmean(r.recall for r in group if r.recall is not None),
            )
        checks = [ok for r in group for ok in r.metadata_ok.values()]
        if checks:
            line["metadata_right"] = f"{sum(checks)}/{len(checks)}"
        if line["errors"]:
            line["error"] = next(r.error for r in group if r.error)
        out.append(line)
    return out


def _pct(value: object) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, float) else "–"


def markdown(summary: list[dict[str, object]]) -> str:
    """The summary as a Markdown table (what ``main`` prints)."""
    lines = [
        "| file kind | files | CER mean | CER max | ≤ 1 % | CER without punctuation | "
        "boilerplate left (mean / max) | article recovered | metadata right | refused |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        read = int(s["files"]) - int(s["errors"])
        within = f"{s['within_1pct']}/{read}" if "within_1pct" in s else "–"
        left = f"{_pct(s['boilerplate_mean'])} / {_pct(s['boilerplate_max'])}" if "boilerplate_mean" in s else "–"
        refused = f"{s['errors']}" + (f": {str(s['error'])[:90]}" if s.get("error") else "")
        cells = [
            s["kind"],
            s["files"],
            _pct(s.get("cer_mean")),
            _pct(s.get("cer_max")),
            within,
            _pct(s.get("cer_words_mean")),
            left,
            _pct(s.get("recall_mean")),
            s.get("metadata_right", "–"),
            refused,
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def bench_extraction(config: object = None, *, office: bool = True, log=print) -> dict[str, object]:
    """The ``extraction`` section of ``sanad bench``: builds the files in a temporary folder, returns the
    summary rows and their Markdown table (``config`` is unused: extraction has no settings)."""
    with tempfile.TemporaryDirectory(prefix="sanad-extraction-") as tmp:
        rows = run(Path(tmp), office=office)
    summary = summarise(rows)
    table = markdown(summary)
    log(table)
    return {"summary": summary, "markdown": table, "rows": [asdict(r) for r in rows]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the rows and summary as JSON here")
    parser.add_argument("--keep", type=Path, help="build the fixture files in this folder (kept) instead of a temp one")
    parser.add_argument("--no-office", action="store_true", help="skip the LibreOffice rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="sanad-extraction-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = run(work, office=not args.no_office)
    summary = summarise(rows)
    print(markdown(summary))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps({"summary": summary, "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
