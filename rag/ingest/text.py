"""Plain text and Markdown: decoding bytes, front matter, cleaning scraping debris, titles.

Cleaning keeps the text a reader sees (no Arabic normalisation here: that is only for
matching, see :mod:`rag.textnorm`) and drops what scrapers leave behind: ``[ad_1]``
markers, a trailing lone ``المصدر`` ("source") line, stray spaces and runs of blank lines.

Decoding accepts UTF-8 (with or without a byte-order mark) and UTF-16 *with* a byte-order
mark (what Windows Notepad writes as "Unicode"): both are unambiguous. Anything else is
refused with a message that names the encoding the bytes look like (Windows-1256 Arabic,
UTF-16 without a byte-order mark) and the command that converts it, because a guessed
encoding silently turns an article into mojibake.
"""

from __future__ import annotations

import codecs
import re

from rag.errors import InputError

_AD_MARKER = re.compile(r"^[ \t\u00a0]*\[ad_\d+\][ \t\u00a0]*(?:\n|\Z)", re.MULTILINE)
_SOURCE_TAIL = re.compile(r"(?:(?:\A|\n)\s*(?:المصدر|Source)\s*[:：]?\s*)+\Z")
_BLANKS = re.compile(r"\n[ \t\u00a0]*\n(?:[ \t\u00a0]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_MD_SYNTAX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+)", re.MULTILINE)
_MD_INLINE = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n((?:[^\n]*\n){0,60}?)---[ \t]*(?:\n|\Z)")
_FM_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")
_MAX_TITLE_CHARS = 160
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_WORD_LETTER = re.compile(r"[^\W\d_]")
_ARABIC_OR_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


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
    return text.strip()


def guess_title(text: str) -> str:
    """The first line when it reads as a headline (short, no final full stop), else the text's opening."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= _MAX_TITLE_CHARS and not first.endswith((".", "。")):
        return first
    cut = first[:90]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def markdown_to_text(markup: str) -> str:
    """Markdown with its syntax (headings, emphasis, links, bullets, quotes) taken out."""
    text = _MD_LINK.sub(r"\1", markup)
    text = _MD_SYNTAX.sub("", text)
    return _MD_INLINE.sub("", text)


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """``(fields, body)`` of a text that opens with a ``---`` block of ``key: value`` lines.

    YAML-ish, not YAML: one ``key: value`` per line, values optionally in quotes, ``#`` lines
    ignored. A ``---`` block whose lines are not all of that form is not front matter (a
    Markdown horizontal rule at the top stays text).

    Example:
        >>> split_front_matter("---\\ndate: 2024-04-16\\nsource: \\"العربي الجديد\\"\\n---\\nنص")
        ({'date': '2024-04-16', 'source': 'العربي الجديد'}, 'نص')
    """
    text = raw.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, raw
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kv = _FM_LINE.match(line)
        if not kv:
            return {}, raw
        value = kv.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        fields[kv.group(1).lower()] = value
    return fields, text[match.end() :]


def decode(data: bytes, name: str) -> str:
    """The text of a file's bytes, or :class:`InputError` naming the encoding it looks like.

    Example:
        >>> decode("خبر".encode("utf-16"), "a.txt")
        'خبر'
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16") if len(data) % 2 == 0 else None
        except UnicodeDecodeError:
            text = None
        letters = _WORD_LETTER.findall(text or "")
        if text is None or (letters and sum(1 for ch in letters if _ARABIC_OR_LATIN.match(ch)) < 0.7 * len(letters)):
            raise InputError(
                f"{name} starts with a UTF-16 byte-order mark but does not read as UTF-16 text; re-save it as UTF-8"
            ) from None
        return text
    guess = _guess_legacy(data) if b"\x00" in data else ""  # UTF-16 Arabic/ASCII can pass as UTF-8 with NULs
    if not guess:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = exc.start
            guess = _guess_legacy(data)
    else:
        where = data.index(b"\x00")
    if guess == "utf-16-le" or guess == "utf-16-be":
        code = guess.upper().replace("UTF-16-", "UTF-16")
        raise InputError(
            f"{name} is not UTF-8 text (byte {where}); it looks like {code} without a byte-order "
            f"mark: convert it with `iconv -f {code} -t UTF-8 {name}`"
        )
    if guess == "cp1256":
        raise InputError(
            f"{name} is not UTF-8 text (byte {where}); it looks like Windows-1256 (cp1256) Arabic: "
            f"convert it with `iconv -f cp1256 -t utf-8 {name}`"
        )
    raise InputError(
        f"{name} is not UTF-8 text (byte {where}) and its encoding was not recognised; "
        f"save it as UTF-8 and index it again"
    )


def _guess_legacy(data: bytes) -> str:
    """``"utf-16-le"``, ``"utf-16-be"``, ``"cp1256"`` or ``""`` for bytes that are not UTF-8."""
    if len(data) >= 4 and len(data) % 2 == 0:
        for codec, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
            # Arabic and ASCII text in UTF-16: every other byte is 0x00 (ASCII) or 0x06 (Arabic block).
            if sum(b in (0x00, 0x06) for b in high) >= 0.9 * len(high):
                try:
                    data.decode(codec)
                    return codec
                except UnicodeDecodeError:
                    pass
    # Windows-1256 Arabic text: nearly every byte above 0x7f is an Arabic letter or Arabic punctuation.
    high = bytes(b for b in data if b >= 0x80)
    if high:
        decoded = high.decode("cp1256", errors="replace")
        arabic = sum(1 for ch in decoded if _ARABIC_LETTER.match(ch) or ch in "،؛؟ـ")
        if arabic >= 0.9 * len(high):
            return "cp1256"
    return ""
