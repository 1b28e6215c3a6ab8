"""Reading articles from disk and cleaning away scraping debris.

Cleaning keeps the text a reader sees (no Arabic normalisation here: that is only for
matching, see :mod:`rag.textnorm`) and drops what scrapers leave behind: ``[ad_1]``
markers, a trailing lone ``المصدر`` ("source") line, stray spaces and runs of blank lines.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import InputError
from rag.types import Article

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_FILE_BYTES = 5_000_000

_AD_MARKER = re.compile(r"^[ \t\u00a0]*\[ad_\d+\][ \t\u00a0]*(?:\n|\Z)", re.MULTILINE)
_SOURCE_TAIL = re.compile(r"(?:(?:\A|\n)\s*(?:المصدر|Source)\s*[:：]?\s*)+\Z")
_BLANKS = re.compile(r"\n[ \t\u00a0]*\n(?:[ \t\u00a0]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_MD_SYNTAX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+)", re.MULTILINE)
_MD_INLINE = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MAX_TITLE_CHARS = 160


def clean_text(raw: str) -> str:
    """Remove scraping debris, keep the readable text.

    Example:
        >>> clean_text("[ad_1]\\nخبر مهم.\\n\\n\\n\\nتفاصيل.\\n[ad_2]\\nالمصدر\\n")
        'خبر مهم.\\n\\nتفاصيل.'
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = _AD_MARKER.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    text = text.strip()
    text = _SOURCE_TAIL.sub("", text)
    text = _BLANKS.sub("\n\n", text)
    # Lines left empty by removed markers at the start are gone with strip(); remove
    # single empty lines that markers leave between paragraphs only when doubled above.
    return text.strip()


def guess_title(text: str) -> str:
    """The first line when it reads as a headline (short, no final full stop), else the text's opening."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= _MAX_TITLE_CHARS and not first.endswith((".", "。")):
        return first
    cut = first[:90]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


class _HTMLText(HTMLParser):
    """Collects the visible text of an HTML page, one block element per line."""

    _BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "article", "section", "title"}
    _SKIP = {"script", "style", "noscript", "nav", "footer", "header", "aside", "form"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)  # convert_charrefs already decoded entities once


def markdown_to_text(markup: str) -> str:
    text = _MD_LINK.sub(r"\1", markup)
    text = _MD_SYNTAX.sub("", text)
    return _MD_INLINE.sub("", text)


@dataclass(frozen=True)
class SkippedFile:
    """A file that could not be read, and why (reported, never fatal for the others)."""

    path: str
    reason: str


class Ingestor:
    """Turns files and folders into cleaned :class:`Article` records.

    Example:
        >>> articles, skipped = Ingestor().run([Path("data/articles")])  # doctest: +SKIP
    """

    def __init__(self, suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.max_bytes = max_bytes

    def discover(self, paths: list[Path]) -> list[Path]:
        """Supported files under ``paths`` (files given directly are checked too), sorted."""
        found: list[Path] = []
        for path in map(Path, paths):
            if not path.exists():
                raise InputError(f"{path} does not exist; give a file or folder of .txt, .md or .html articles")
            if path.is_dir():
                found.extend(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in self.suffixes
                             and not any(part.startswith(".") for part in p.relative_to(path).parts))
            elif path.suffix.lower() in self.suffixes:
                found.append(path)
            else:
                raise InputError(f"{path} is not a supported file type; use one of {', '.join(self.suffixes)}")
        return sorted(set(found))

    def read(self, path: Path, *, doc_id: str | None = None) -> Article:
        """Read and clean one file. Raises :class:`InputError` with the reason if it cannot be used."""
        size = path.stat().st_size
        if size > self.max_bytes:
            raise InputError(f"{path.name} is {size:,} bytes, over the {self.max_bytes:,}-byte limit for one article")
        data = path.read_bytes()
        try:
            raw = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path.name} is not UTF-8 text (byte {exc.start}); convert it, e.g. "
                f"`iconv -f cp1256 -t utf-8 {path.name}`") from None
        return self.parse(raw, doc_id=doc_id or path.stem, suffix=path.suffix.lower(), origin=str(path))

    def parse(self, raw: str, *, doc_id: str, suffix: str = ".txt", origin: str = "") -> Article:
        """Clean an article given as a string (used for uploads and tests)."""
        if "\x00" in raw:
            raise InputError(f"{doc_id}: contains NUL bytes; it looks like a binary file, not an article")
        if suffix in (".html", ".htm"):
            raw = html_to_text(raw)
        elif suffix == ".md":
            raw = markdown_to_text(raw)
        text = clean_text(raw)
        if not text:
            raise InputError(f"{doc_id}: no text left after cleaning; the file is empty or only boilerplate")
        return Article(doc_id=doc_id, title=guess_title(text), text=text, origin=origin)

    def run(self, paths: list[Path]) -> tuple[list[Article], list[SkippedFile]]:
        """Read every supported file under ``paths``; bad files are skipped and reported, not fatal."""
        articles: list[Article] = []
        skipped: list[SkippedFile] = []
        seen: dict[str, str] = {}
        for path in self.discover(paths):
            try:
                article = self.read(path)
            except InputError as exc:
                logger.warning("skipping %s: %s", path, exc)
                skipped.append(SkippedFile(str(path), str(exc)))
                continue
            if article.doc_id in seen:
                reason = f"duplicate article id {article.doc_id!r} (also {seen[article.doc_id]}); rename one file"
                logger.warning("skipping %s: %s", path, reason)
                skipped.append(SkippedFile(str(path), reason))
                continue
            seen[article.doc_id] = str(path)
            articles.append(article)
        return articles, skipped
