"""Publication metadata: dates, outlets, URLs and bylines, from wherever a newsroom keeps them.

Where metadata can come from, and which wins when two places disagree (first wins, field by
field; an empty value never overrides):

1. a sidecar ``<stem>.meta.json`` next to the file (``report.pdf`` → ``report.meta.json``);
2. the folder's manifest, ``articles.jsonl`` (one JSON object per line) or ``articles.csv``
   (header row), whose ``file`` column names the article by its path relative to the
   manifest's folder; the manifest in the nearest folder wins over one further up;
3. what the file says about itself: Markdown/text front matter, HTML JSON-LD
   (``datePublished``, ``author``, ``publisher``), HTML meta tags, what trafilatura finds,
   Word document properties (title, author);
4. nothing: the title is guessed from the text, the rest stays ``""`` (unknown).

What the user wrote down (1, 2) beats what the file claims (3), because saved pages and office
files often carry a template's or a converter's values. Keys are read case-insensitively with
the usual aliases (``date``/``published``/``datePublished``, ``source``/``outlet``/``site_name``,
``url``/``link``, ``author``/``byline``, ``title``/``headline``). Dates are normalised to
``YYYY-MM-DD`` as written (a timestamp's own local date, not converted to UTC); a date that
cannot be read in a sidecar, manifest or front matter is an error naming the field, while a date
a web page only implies is dropped quietly (best-effort extraction).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import InputError

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".meta.json"
MANIFEST_NAMES = ("articles.jsonl", "articles.csv")

#: Accepted keys (lower case) -> Metadata field.
ALIASES: dict[str, str] = {
    "title": "title",
    "headline": "title",
    "published": "published",
    "date": "published",
    "datepublished": "published",
    "date_published": "published",
    "published_at": "published",
    "publication_date": "published",
    "pubdate": "published",
    "source": "source",
    "outlet": "source",
    "site": "source",
    "site_name": "source",
    "sitename": "source",
    "publisher": "source",
    "newspaper": "source",
    "url": "url",
    "link": "url",
    "canonical": "url",
    "author": "author",
    "byline": "author",
    "authors": "author",
    "by": "author",
}
#: Manifest keys that are not metadata (ignored without a warning).
_NON_METADATA = {"file", "path", "comment", "comments", "note", "notes", "doc_id", "id"}

_AR_MONTHS = {
    "يناير": 1,
    "كانون الثاني": 1,
    "فبراير": 2,
    "شباط": 2,
    "مارس": 3,
    "آذار": 3,
    "اذار": 3,
    "أبريل": 4,
    "ابريل": 4,
    "إبريل": 4,
    "نيسان": 4,
    "مايو": 5,
    "أيار": 5,
    "ايار": 5,
    "يونيو": 6,
    "يونيه": 6,
    "حزيران": 6,
    "يوليو": 7,
    "يوليه": 7,
    "تموز": 7,
    "أغسطس": 8,
    "اغسطس": 8,
    "آب": 8,
    "اب": 8,
    "سبتمبر": 9,
    "أيلول": 9,
    "ايلول": 9,
    "أكتوبر": 10,
    "اكتوبر": 10,
    "تشرين الأول": 10,
    "تشرين الاول": 10,
    "نوفمبر": 11,
    "تشرين الثاني": 11,
    "ديسمبر": 12,
    "كانون الأول": 12,
    "كانون الاول": 12,
}
_EN_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    )
}
_MONTH_WORDS = sorted([*_AR_MONTHS, *_EN_MONTHS, *(m[:3] for m in _EN_MONTHS)], key=len, reverse=True)
_MONTH_RE = "|".join(re.escape(m) for m in _MONTH_WORDS)
_DIGITS = str.maketrans(
    {**{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)}}
)
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: [\d:.]+)?$")
_WORDY = re.compile(
    rf"^(?:\w+[،,]?\s+)?(\d{{1,2}})\s+(?:{_MONTH_RE})(?:\s*/\s*(?:{_MONTH_RE}))?[،,]?\s+(\d{{4}})$"
    rf"|^(?:{_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Metadata:
    """What is known about an article's publication; ``""`` means unknown."""

    title: str = ""
    published: str = ""
    source: str = ""
    url: str = ""
    author: str = ""

    def over(self, base: Metadata) -> Metadata:
        """``self``'s non-empty fields on top of ``base``."""
        return replace(base, **{f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str, *, strict: bool = True) -> Metadata:
        """Read the known keys of ``data`` (aliases accepted); ``where`` names the place in messages.

        With ``strict`` a date that cannot be read raises :class:`InputError`; otherwise it is dropped.
        """
        values: dict[str, str] = {}
        for key, raw in data.items():
            name = ALIASES.get(str(key).strip().lower().replace("-", "_").replace(":", "_"))
            if name is None:
                if str(key).strip().lower() not in _NON_METADATA:
                    logger.debug("%s: ignoring unknown metadata key %r", where, key)
                continue
            value = _as_text(raw)
            if not value or values.get(name):
                continue
            if name == "published":
                try:
                    value = normalize_date(value)
                except ValueError as exc:
                    if strict:
                        raise InputError(
                            f"{where}: {key} {value!r} is not a date ({exc}); write it as YYYY-MM-DD, "
                            f"or leave it empty when unknown"
                        ) from None
                    logger.debug("%s: dropping unreadable date %r", where, value)
                    continue
            values[name] = " ".join(value.split())
        return cls(**values)


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat()
    if isinstance(raw, Mapping):  # JSON-LD style {"name": ...}
        return _as_text(raw.get("name") or raw.get("@id") or "")
    if isinstance(raw, (list, tuple)):
        return ", ".join(t for t in (_as_text(r) for r in raw) if t)
    return str(raw).strip()


def normalize_date(value: str | dt.date) -> str:
    """A publication date as ``YYYY-MM-DD``; raises ``ValueError`` saying why it cannot be read.

    Reads ISO dates and timestamps (``2024-04-16``, ``2024-04-16T10:00:00+03:00``,
    ``2015-07-21 02:51:32``: the date as written, no time-zone conversion), ``16/04/2024``
    (day first, the Arab and European order; month first only when the day cannot be a month),
    and written dates in Arabic or English with either digit set (``16 أبريل 2024``,
    ``١٦ نيسان/أبريل ٢٠٢٤``, ``April 16, 2024``).

    Example:
        >>> normalize_date("١٦ نيسان/أبريل ٢٠٢٤"), normalize_date("2015-07-21 02:51:32")
        ('2024-04-16', '2015-07-21')
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = " ".join(str(value).translate(_DIGITS).split())
    if not text:
        raise ValueError("empty")
    if m := _ISO.match(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _DMY.match(text):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if mo > 12 >= d:  # 04/16/2024: only month-first reads as a date
            d, mo = mo, d
    elif m := _WORDY.match(text):
        if m.group(1):
            d, y = int(m.group(1)), int(m.group(2))
        else:
            d, y = int(m.group(3)), int(m.group(4))
        mo = _month_in(text)
    else:
        raise ValueError("unrecognised format")
    if not 1800 <= y <= 2200:
        raise ValueError(f"year {y} out of range")
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _month_in(text: str) -> int:
    lowered = text.lower()
    for word in _MONTH_WORDS:
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
            return (
                _AR_MONTHS.get(word)
                or _EN_MONTHS.get(word.lower())
                or _EN_MONTHS[next(m for m in _EN_MONTHS if m.startswith(word.lower()))]
            )
    raise ValueError("no month name")


# -- sidecars and manifests ---------------------------------------------------------------------
def sidecar_path(path: Path) -> Path:
    """Where the sidecar of ``path`` lives: ``report.pdf`` → ``report.meta.json``."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> Metadata:
    """The sidecar's metadata for ``path`` (empty when there is none)."""
    side = sidecar_path(path)
    if not side.is_file():
        return Metadata()
    try:
        data = json.loads(side.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{side.name} cannot be read as UTF-8 JSON ({exc}); fix or delete it") from None
    if not isinstance(data, dict):
        raise InputError(f'{side.name} must hold one JSON object, like {{"date": "2024-04-16", "source": "..."}}')
    return Metadata.from_mapping(data, side.name)


class FolderManifest:
    """The ``articles.jsonl`` / ``articles.csv`` of one folder: relative path -> :class:`Metadata`.

    Rows are checked when the manifest is read, so one bad row is reported with its line
    number; rows naming no existing file are listed in :attr:`unmatched` after a run.
    """

    def __init__(self, folder: Path, rows: dict[str, Metadata], name: str) -> None:
        self.folder = folder
        self.rows = rows
        self.name = name
        self.used: set[str] = set()

    @classmethod
    def load(cls, folder: Path) -> FolderManifest | None:
        present = [folder / n for n in MANIFEST_NAMES if (folder / n).is_file()]
        if not present:
            return None
        if len(present) > 1:
            raise InputError(f"{folder} holds both articles.jsonl and articles.csv; keep one manifest per folder")
        path = present[0]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} cannot be read as UTF-8 ({exc}); save it as UTF-8") from None
        records = _jsonl_rows(text, path) if path.suffix == ".jsonl" else _csv_rows(text, path)
        rows: dict[str, Metadata] = {}
        for line, record in records:
            where = f"{path.name} line {line}"
            name = _as_text(record.get("file") or record.get("path"))
            if not name:
                raise InputError(f"{where}: no 'file' column naming the article (a path relative to {folder})")
            key = Path(name).as_posix()
            if key in rows:
                raise InputError(f"{where}: {name!r} is listed twice; keep one row per file")
            rows[key] = Metadata.from_mapping(record, where)
        return cls(folder, rows, path.name)

    def lookup(self, path: Path) -> Metadata | None:
        try:
            key = path.relative_to(self.folder).as_posix()
        except ValueError:
            return None
        found = self.rows.get(key)
        if found is not None:
            self.used.add(key)
        return found

    @property
    def unmatched(self) -> list[str]:
        return sorted(set(self.rows) - self.used)


def _jsonl_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path.name} line {i} is not JSON ({exc}); one JSON object per line") from None
        if not isinstance(record, dict):
            raise InputError(f"{path.name} line {i} must be a JSON object with a 'file' key")
        rows.append((i, record))
    return rows


def _csv_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"file", "path"} & {f.strip().lower() for f in reader.fieldnames}:
        raise InputError(f"{path.name} needs a header row with a 'file' column (and e.g. date, source, url, author)")
    return [
        (i + 2, {str(k).strip().lower(): v for k, v in row.items() if k is not None}) for i, row in enumerate(reader)
    ]
