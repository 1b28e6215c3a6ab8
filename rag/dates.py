"""Dates in Arabic and English news text, found and resolved against the article's publication date.

News writes dates the way its readers speak: «يوم 15 نيسان/أبريل» (the year is the publication's),
«31 ديسمبر/ كانون الأول 2021», «أواخر كانون الثاني/يناير الماضي», «الاثنين الماضي», «مساء أمس
الثلاثاء», «الأسبوع المقبل», «العام المالي 2025», «١٥ رمضان ١٤٤٥ هـ». :func:`find_dates` finds them
and turns each into a :class:`DateMention`: the period it names (a day, an ISO week, a month or a
year), resolved against the publication date when the text leaves part of it out.

What is read:

* Gregorian months under their Egyptian/Gulf (يناير … ديسمبر), Levantine/Iraqi (كانون الثاني … كانون
  الأول) and Maghrebi (جانفي, فيفري, أفريل, جوان, جويلية, أوت …) names, alone or paired as news
  writes them («نيسان/أبريل», «يوليو/ تموز», «أبريل (نيسان)»); English month names and
  abbreviations ("April 15, 2024", "15 April", "Sept. 2025").
* Days and years in Western or Arabic-Indic digits (١٥, ۱۵), an optional «م» after a year.
* Years after a cue («عام 2003», «في 2014», «منذ عام 2014», "in 2014"), fiscal years («العام المالي
  2025», "fiscal year 2025", "FY2025").
* Relative dates: أمس/البارحة/أول أمس/اليوم/غداً, weekdays with or without الماضي/المقبل,
  «الأسبوع/الشهر/العام الماضي|المقبل|الجاري», «هذا العام», «قبل 10 سنوات», «قبل عامين»; English
  yesterday/today/tomorrow, (last|next|on) Monday, last/next/this week|month|year, "N years ago".
* Hijri dates (Umm al-Qura calendar, converted by the ``hijridate`` package): «15 رمضان 1445 هـ»,
  «رمضان 1445», «1445 هـ».

How missing parts are resolved (``published`` is the anchor; without it, relative dates and
day-month dates without a year are skipped): a bare weekday is the latest such day on or before
publication (news says «الاثنين» for this week's Monday), «الماضي» the latest strictly before, «المقبل»
the first strictly after; a month or day without a year takes the year that puts it nearest to the
publication date, unless «الماضي»/«المقبل» says which side.

One module past the house's ~400 lines on purpose: the vocabularies, the patterns built from them
and the resolution of each pattern's groups are one concern, and split apart they would have to
share the patterns' group names across files.

Example:
    >>> [m.value for m in find_dates("وبدأ الوفد، الاثنين الماضي، زيارة", "2023-08-09")]
    ['2023-08-07']
    >>> [m.value for m in find_dates("في 31 ديسمبر/ كانون الأول 2021، ضمن الاتفاق")]
    ['2021-12-31']
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

logger = logging.getLogger(__name__)

Granularity = Literal["day", "week", "month", "year"]
DateKind = Literal["absolute", "inferred_year", "relative", "fiscal", "hijri"]
GRANULARITY_ORDER: dict[str, int] = {"day": 0, "week": 1, "month": 2, "year": 3}


@dataclass(frozen=True)
class DateMention:
    """A date written in a text, and the period it names.

    Attributes:
        text: the words as written (``text[start:end]`` of the scanned text).
        start, end: offsets in the scanned text.
        value: the period in ISO form: ``2024-04-15`` (day), ``2024-W39`` (ISO week), ``2024-04``
            (month), ``2024`` (year) or ``FY2025`` (fiscal year).
        granularity: ``day``, ``week``, ``month`` or ``year``.
        first, last: the first and last day of the period (a fiscal year is given as its calendar year).
        kind: ``absolute`` (everything written), ``inferred_year`` (a day or month whose year came from
            the publication date), ``relative`` (أمس, الاثنين الماضي, last week …), ``fiscal``, ``hijri``.
        qualifier: a part of the period the text points at (``early``, ``mid``, ``late``), or ``""``.
    """

    text: str
    start: int
    end: int
    value: str
    granularity: Granularity
    first: date
    last: date
    kind: DateKind = "absolute"
    qualifier: str = ""

    @property
    def anchored(self) -> bool:
        """Whether the publication date was needed to resolve it."""
        return self.kind in ("inferred_year", "relative")

    def contains(self, other: DateMention) -> bool:
        """Whether ``other``'s period lies within this one (2021 contains 2021-12-31)."""
        return self.first <= other.first and other.last <= self.last

    def overlaps(self, other: DateMention) -> bool:
        return self.first <= other.last and other.first <= self.last

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data


def parse_published(published: str | date | None) -> date | None:
    """``YYYY-MM-DD`` (or a :class:`date`) as a date; ``None`` when empty or not a date."""
    if published is None or isinstance(published, date):
        return published
    text = published.strip()[:10]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        logger.debug("publication date %r is not YYYY-MM-DD; relative dates stay unresolved", published)
        return None


def period(value: str) -> tuple[date, date, Granularity] | None:
    """The first and last day and granularity of an ISO period string (as in :attr:`DateMention.value`).

    Example:
        >>> period("2024-W39")[0].isoformat(), period("FY2025")[2]
        ('2024-09-23', 'year')
    """
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            d = date.fromisoformat(value)
            return d, d, "day"
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", value):
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return first, first + timedelta(days=6), "week"
        if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            y, mo = int(m[1]), int(m[2])
            return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), "month"
        if m := re.fullmatch(r"(?:FY)?(\d{4})", value):
            y = int(m[1])
            return date(y, 1, 1), date(y, 12, 31), "year"
    except ValueError:
        return None
    return None


# -- folding: match on a normalised copy, report offsets in the original --------------------------
_DROP = frozenset(
    "\u0640"
    + "".join(chr(c) for c in range(0x064B, 0x0660))
    + "\u0670"
    + "".join(chr(c) for c in range(0x0610, 0x061B))
)
_MAP = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ی": "ي",
    "ک": "ك",
    "ھ": "ه",
    "\u00a0": " ",
    "\u200f": " ",
    "\u200e": " ",
    "،": ",",
    "٬": ",",
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` with diacritics and tatweel dropped, letters folded (أإآ→ا, ى→ي, ة→ه), digits made ASCII
    and Latin lower-cased; and for each folded character its offset in ``text`` (plus one past the end)."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in _DROP:
            continue
        ch = _MAP.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
        where.append(i)
    where.append(len(text))
    return "".join(out), where


def _f(word: str) -> str:
    return fold(word)[0]


def _alt(words: list[str]) -> str:
    """A regex alternation of folded words, longest first, inner spaces matching any white space."""
    unique = sorted({_f(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in unique)


# -- vocabularies -----------------------------------------------------------------------------------
_AR_MONTHS: dict[int, list[str]] = {
    1: ["يناير", "كانون الثاني", "كانون ثاني", "جانفي"],
    2: ["فبراير", "شباط", "فيفري"],
    3: ["مارس", "آذار"],
    4: ["أبريل", "إبريل", "نيسان", "أفريل"],
    5: ["مايو", "أيار", "ماي"],
    6: ["يونيو", "يونيه", "حزيران", "جوان"],
    7: ["يوليو", "يوليه", "تموز", "جويلية", "جويليه"],
    8: ["أغسطس", "آب", "أوت"],
    9: ["سبتمبر", "أيلول", "شتنبر"],
    10: ["أكتوبر", "تشرين الأول", "تشرين أول"],
    11: ["نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"],
    12: ["ديسمبر", "كانون الأول", "كانون أول", "دجنبر"],
}
_EN_MONTHS: dict[int, list[str]] = {
    1: ["january", "jan"],
    2: ["february", "feb"],
    3: ["march", "mar"],
    4: ["april", "apr"],
    5: ["may"],
    6: ["june", "jun"],
    7: ["july", "jul"],
    8: ["august", "aug"],
    9: ["september", "sept", "sep"],
    10: ["october", "oct"],
    11: ["november", "nov"],
    12: ["december", "dec"],
}
#: Month names that are also common words (آب "father", مارس "practised", ماي, may, march …): read as a
#: month only beside a day number, a year, or the month's other name.
_WEAK_MONTHS = frozenset(
    _f(w)
    for w in (
        "آب",
        "مارس",
        "ماي",
        "أوت",
        "may",
        "march",
        "mar",
        "jan",
        "jun",
        "jul",
        "aug",
        "sep",
        "oct",
        "nov",
        "dec",
        "feb",
        "apr",
        "sept",
    )
)
_MONTH_NUMBER: dict[str, int] = {_f(w): n for table in (_AR_MONTHS, _EN_MONTHS) for n, ws in table.items() for w in ws}

_HIJRI_MONTHS: dict[int, list[str]] = {
    1: ["محرم"],
    2: ["صفر"],
    3: ["ربيع الأول", "ربيع أول"],
    4: ["ربيع الآخر", "ربيع الثاني", "ربيع ثاني"],
    5: ["جمادى الأولى", "جمادى الأول"],
    6: ["جمادى الآخرة", "جمادى الثانية", "جمادى الآخر"],
    7: ["رجب"],
    8: ["شعبان"],
    9: ["رمضان"],
    10: ["شوال"],
    11: ["ذو القعدة", "ذي القعدة"],
    12: ["ذو الحجة", "ذي الحجة"],
}
_HIJRI_NUMBER: dict[str, int] = {_f(w): n for n, ws in _HIJRI_MONTHS.items() for w in ws}

_AR_WEEKDAYS = {
    "الاثنين": 0,
    "الإثنين": 0,
    "الثلاثاء": 1,
    "الأربعاء": 2,
    "الخميس": 3,
    "الجمعة": 4,
    "السبت": 5,
    "الأحد": 6,
}
_EN_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEKDAY_NUMBER = {_f(w): n for w, n in {**_AR_WEEKDAYS, **_EN_WEEKDAYS}.items()}

_PAST = ["الماضي", "الماضية", "المنصرم", "المنصرمة", "الفائت", "الفائتة", "السابق"]
_NEXT = ["المقبل", "المقبلة", "القادم", "القادمة"]
_THIS = ["الجاري", "الجارية", "الحالي", "الحالية"]
_PART = {
    "early": ["أوائل", "مطلع", "بداية", "أول", "early", "beginning of", "start of"],
    "mid": ["منتصف", "أواسط", "mid", "middle of"],
    "late": ["أواخر", "نهاية", "آخر", "late", "end of"],
}
_PART_OF = {_f(w): k for k, ws in _PART.items() for w in ws}
_AR_SMALL = {
    "عام": 1,
    "سنة": 1,
    "شهر": 1,
    "أسبوع": 1,
    "يوم": 1,
    "عامين": 2,
    "سنتين": 2,
    "شهرين": 2,
    "أسبوعين": 2,
    "يومين": 2,
    "عامان": 2,
    "سنتان": 2,
}
_AR_COUNT = {
    "ثلاث": 3,
    "ثلاثة": 3,
    "أربع": 4,
    "أربعة": 4,
    "خمس": 5,
    "خمسة": 5,
    "ست": 6,
    "ستة": 6,
    "سبع": 7,
    "سبعة": 7,
    "ثماني": 8,
    "ثمان": 8,
    "ثمانية": 8,
    "تسع": 9,
    "تسعة": 9,
    "عشر": 10,
    "عشرة": 10,
}
_EN_COUNT = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_AR_UNITS = {
    "year": ["سنوات", "سنة", "سنين", "أعوام", "عاما", "عام", "عامين", "سنتين", "عامان", "سنتان"],
    "month": ["أشهر", "شهور", "شهرا", "شهر", "شهرين"],
    "week": ["أسابيع", "أسبوعا", "أسبوع", "أسبوعين"],
    "day": ["أيام", "يوما", "يوم", "يومين"],
}
_UNIT_OF = {_f(w): k for k, ws in _AR_UNITS.items() for w in ws}

# Boundaries: Arabic clitics (و ف ب ل ك) may stick to a word; digits must not run on.
_B = r"(?<![^\W\d_])(?:[وف]?[بلك]?)"  # start of an Arabic word, optional clitics
_E = r"(?![^\W\d_])"  # end of a word
_EN_B = r"\b"

_AR_MONTH = _alt([w for ws in _AR_MONTHS.values() for w in ws])
_EN_MONTH = _alt([w for ws in _EN_MONTHS.values() for w in ws]) + r"\.?"
_HIJRI_MONTH = _alt([w for ws in _HIJRI_MONTHS.values() for w in ws])
_WEEKDAY_AR = _alt(list(_AR_WEEKDAYS))
_WEEKDAY_EN = _alt(list(_EN_WEEKDAYS))
_PAST_RE, _NEXT_RE, _THIS_RE = _alt(_PAST), _alt(_NEXT), _alt(_THIS)
_PART_AR = _alt([w for ws in _PART.values() for w in ws if not w.isascii()])
_PART_EN = _alt([w for ws in _PART.values() for w in ws if w.isascii()])
_YEAR = r"(?:19|20)\d\d"
#: Words that make a four-digit number a count, not a year («في 2000 موقع», "in 2000 homes").
_COUNTED = _alt(
    [
        "جندي",
        "جنود",
        "عسكري",
        "عسكريين",
        "شخص",
        "أشخاص",
        "قتيل",
        "قتلى",
        "جريح",
        "جرحى",
        "دولار",
        "موقع",
        "مواقع",
        "منزل",
        "طن",
        "كيلومتر",
        "كيلومترا",
        "متر",
        "مليون",
        "ألف",
        "مليار",
        "عنصر",
        "مقاتل",
        "مقاتلين",
        "فرد",
        "أفراد",
        "لاجئ",
        "نازح",
        "حالة",
        "مرة",
        "troops",
        "soldiers",
        "people",
        "dollars",
        "homes",
        "sites",
        "million",
        "thousand",
        "billion",
    ]
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])"

# A month written as one or two names: «نيسان/أبريل», «يوليو/ تموز», «أبريل (نيسان)».
_AR_MONTH_PAIR = rf"(?P<m1>{_AR_MONTH}){_E}(?:\s*/\s*(?P<m2>{_AR_MONTH}){_E}|\s*\(\s*(?P<m3>{_AR_MONTH})\s*\))?"
_AR_YEAR_TAIL = (
    rf"(?:\s*,?\s*(?:من\s+)?(?:(?:ال)?عام\s+|(?:ال)?سنه\s+)?(?P<year>{_YEAR})(?!\d)\s*(?:م{_E}|ميلادي(?:ه)?{_E})?)"
)
_AR_REL_TAIL = (
    rf"(?:\s+(?:من\s+)?(?:(?:ال)?عام|(?:ال)?سنه|هذا\s+العام|هذه\s+السنه)?\s*"
    rf"(?P<rel>{_PAST_RE}|{_NEXT_RE}|{_THIS_RE}){_E}|\s+من\s+(?P<this>هذا\s+العام|هذه\s+السنه|العام\s+(?:{_THIS_RE})){_E})"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # «١٥ رمضان ١٤٤٥ هـ», «رمضان 1445», «15 رمضان»
    (
        "hijri",
        re.compile(
            rf"(?:(?P<day>{_DAY})\s+(?:من\s+)?(?:شهر\s+)?)?{_B}(?P<hm>{_HIJRI_MONTH}){_E}"
            rf"(?:\s*,?\s*(?:من\s+)?(?:عام\s+|سنه\s+)?(?P<hy>1[3-5]\d\d)(?!\d)\s*(?P<hmark>ه{_E}|هجري(?:ه)?{_E}|للهجره{_E})?)?"
        ),
    ),
    ("hijri_year", re.compile(rf"(?<!\d)(?P<hy>1[3-5]\d\d)\s*(?P<hmark>ه{_E}|هجري(?:ه)?{_E}|للهجره{_E})")),
    # «31 ديسمبر/ كانون الأول 2021», «15 نيسان/أبريل», «أواخر كانون الثاني/يناير الماضي»
    (
        "ar_date",
        re.compile(
            rf"(?:{_B}(?P<part>{_PART_AR}){_E}\s+)?(?:(?P<day>{_DAY})(?!\d)\s*(?:من\s+)?(?:شهر\s+)?)?"
            rf"(?:{_B}|(?<=\d)){_AR_MONTH_PAIR}(?:{_AR_YEAR_TAIL}|{_AR_REL_TAIL})?"
        ),
    ),
    # "April 15, 2024", "April 2024", "Sept. 2025", "early January"
    (
        "en_mdy",
        re.compile(
            rf"(?:{_EN_B}(?P<part>{_PART_EN})\s+)?{_EN_B}(?P<m1>{_EN_MONTH})(?:\s+(?P<day>{_DAY})(?:st|nd|rd|th)?{_EN_B})?"
            rf"(?:\s*,?\s*(?P<year>{_YEAR})(?!\d))?"
        ),
    ),
    # "15 April 2024", "15th of April"
    (
        "en_dmy",
        re.compile(
            rf"{_EN_B}(?P<day>{_DAY})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_EN_MONTH}){_EN_B}(?:\s*,?\s*(?P<year>{_YEAR})(?!\d))?"
        ),
    ),
    # «العام المالي 2025», "fiscal year 2025", "FY2025", "FY 25"
    (
        "fiscal",
        re.compile(
            rf"(?:{_B}(?:ال)?(?:عام|سنه)\s+(?:ال)?مالي(?:ه)?\s+(?P<y1>{_YEAR})"
            rf"|{_EN_B}fiscal\s+(?:year\s+)?(?P<y2>{_YEAR})|{_EN_B}fy\s?(?P<y3>{_YEAR}|\d\d))(?!\d)"
        ),
    ),
    # «عام 2003», «في 2014», «منذ عام 2014», «العام 2017», "in 2014", "since 2014"
    (
        "year",
        re.compile(
            rf"(?:{_B}(?:(?:ال)?عام|(?:ال)?سنه|منذ|حتي|بحلول|مطلع|اواخر|اوايل|نهايه|بدايه|منتصف|خلال|قبل|بعد)\s+"
            rf"(?:(?:ال)?عام\s+|(?:ال)?سنه\s+)?|(?<![^\W\d_])في\s+|{_EN_B}(?:in|since|by|until|during|of|early|late|mid)\s+(?:the\s+year\s+)?)"
            rf"(?P<year>{_YEAR})(?!\d)(?!\s*(?:{_COUNTED}){_E})(?:\s*(?:م{_E}|ميلادي(?:ه)?{_E}))?"
        ),
    ),
    # «مساء أمس الثلاثاء», «أول أمس», «اليوم الاثنين», «غداً», "yesterday"
    (
        "day_word",
        re.compile(
            rf"(?:{_B}(?P<dw>اول\s+(?:من\s+)?امس|امس|الامس|البارحه|غدا|بعد\s+غد){_E}"
            rf"|(?<![^\W\d_])(?P<today>اليوم){_E}(?=\s+(?:{_WEEKDAY_AR}){_E})"
            rf"|{_EN_B}(?P<ew>yesterday|today|tomorrow){_EN_B})"
            rf"(?:\s*,?\s*(?:يوم\s+)?(?P<wd>{_WEEKDAY_AR}){_E})?"
        ),
    ),
    # «الاثنين الماضي», «يوم الاثنين», «الخميس المقبل», "last Monday", "on Monday"
    (
        "weekday",
        re.compile(
            rf"(?:{_B}(?P<wd>{_WEEKDAY_AR}){_E}(?:\s+(?P<rel>{_PAST_RE}|{_NEXT_RE}){_E})?"
            rf"|{_EN_B}(?:(?P<erel>last|next|this|on|coming|past)\s+)?(?P<ewd>{_WEEKDAY_EN}){_EN_B})"
        ),
    ),
    # «الأسبوع الماضي», «الشهر المقبل», «العام الجاري», «هذا العام», "last week", "this year"
    (
        "period",
        re.compile(
            rf"(?:{_B}(?:(?P<part>{_PART_AR})\s+)?(?P<unit>الاسبوع|الشهر|العام|السنه)\s+(?P<rel>{_PAST_RE}|{_NEXT_RE}|{_THIS_RE}){_E}"
            rf"|{_B}(?:(?P<part2>{_PART_AR})\s+)?(?P<this>هذا\s+(?:الاسبوع|الشهر|العام)|هذه\s+السنه){_E}"
            rf"|{_EN_B}(?:(?P<part3>{_PART_EN})\s+)?(?:the\s+)?(?P<erel>last|next|this|past|coming)\s+(?P<eunit>week|month|year){_EN_B})"
        ),
    ),
    # «قبل 10 سنوات», «قبل عامين», «منذ ثلاثة أشهر», "ten years ago"
    (
        "ago",
        re.compile(
            rf"(?:{_B}(?:قبل|منذ)\s+(?:(?P<n>\d{{1,3}})\s+|(?P<nw>{_alt(list(_AR_COUNT))})\s+)?(?P<unit>{_alt([w for ws in _AR_UNITS.values() for w in ws])}){_E}"
            rf"|{_EN_B}(?P<en>\d{{1,3}}|{'|'.join(_EN_COUNT)})\s+(?P<eunit>years?|months?|weeks?|days?)\s+ago{_EN_B})"
        ),
    ),
]
_PRIORITY = {name: i for i, (name, _) in enumerate(_PATTERNS)}


# -- resolution helpers ----------------------------------------------------------------------------
def _month_period(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _nearest_year(month: int, day: int | None, pub: date, rel: str) -> int:
    """The year that puts (month, day) nearest to ``pub``; «الماضي» forces before, «المقبل» after."""
    best: tuple[int, int] | None = None
    for year in (pub.year - 1, pub.year, pub.year + 1):
        try:
            first, last = (date(year, month, day), date(year, month, day)) if day else _month_period(year, month)
        except ValueError:
            continue
        if rel == "past" and not last < (pub if day else date(pub.year, pub.month, 1)):
            continue
        if rel == "next" and not first > (pub if day else _month_period(pub.year, pub.month)[1]):
            continue
        if rel == "this" and year != pub.year:
            continue
        gap = 0 if first <= pub <= last else min(abs((first - pub).days), abs((last - pub).days))
        if best is None or gap < best[0]:
            best = (gap, year)
    return best[1] if best else pub.year


def _rel_kind(word: str | None) -> str:
    if not word:
        return ""
    w = re.sub(r"\s+", " ", word)
    if w in {_f(x) for x in _PAST} or w in ("last", "past"):
        return "past"
    if w in {_f(x) for x in _NEXT} or w in ("next", "coming"):
        return "next"
    if w in {_f(x) for x in _THIS} or w == "this" or "هذا" in w or "هذه" in w or w.startswith("العام"):
        return "this"
    return ""


def _week_value(d: date) -> tuple[str, date, date]:
    iso = d.isocalendar()
    first = d - timedelta(days=d.weekday())
    return f"{iso[0]}-W{iso[1]:02d}", first, first + timedelta(days=6)


def _weekday(pub: date, wd: int, rel: str) -> date:
    delta = (pub.weekday() - wd) % 7
    if rel == "next":
        return pub + timedelta(days=((wd - pub.weekday()) % 7) or 7)
    if rel == "past":
        return pub - timedelta(days=delta or 7)
    return pub - timedelta(days=delta)  # bare weekday: this week's, on or before publication


def _day(d: date) -> tuple[str, date, date, Granularity]:
    return d.isoformat(), d, d, "day"


def _month(y: int, m: int) -> tuple[str, date, date, Granularity]:
    first, last = _month_period(y, m)
    return f"{y:04d}-{m:02d}", first, last, "month"


def _year(y: int) -> tuple[str, date, date, Granularity]:
    return f"{y:04d}", date(y, 1, 1), date(y, 12, 31), "year"


def _shift_months(d: date, months: int) -> tuple[int, int]:
    total = d.year * 12 + d.month - 1 + months
    return total // 12, total % 12 + 1


def _hijri_to_gregorian(y: int, m: int, d: int) -> date | None:
    try:
        from hijridate import Hijri
    except ImportError:  # pragma: no cover - a declared dependency
        logger.warning("hijridate is not installed (pip install hijridate); Hijri dates are skipped")
        return None
    try:
        return date(*Hijri(y, m, d).to_gregorian().datetuple())
    except (ValueError, OverflowError):
        return None


def _hijri_month_length(y: int, m: int) -> int:
    try:
        from hijridate import Hijri

        return Hijri(y, m, 1).month_length()
    except (ImportError, ValueError, OverflowError):
        return 29


def _gregorian_to_hijri_year(d: date) -> int | None:
    try:
        from hijridate import Gregorian

        return Gregorian(d.year, d.month, d.day).to_hijri().year
    except (ImportError, ValueError, OverflowError):
        return None


Resolved = tuple[str, date, date, Granularity, DateKind, str]


def _resolve(name: str, m: re.Match[str], pub: date | None) -> Resolved | None:
    """The period a matched pattern names, or ``None`` when it cannot be resolved (or is not a date)."""
    g = m.groupdict()
    if name == "hijri":
        month = _HIJRI_NUMBER[re.sub(r"\s+", " ", g["hm"])]
        year = int(g["hy"]) if g.get("hy") else None
        day = int(g["day"]) if g.get("day") else None
        if year is None and (day is None or pub is None):
            return None  # «رمضان» alone, or «صفر» (also "zero"): not enough to be sure it is a date
        if year is None:
            if day is None or pub is None:
                return None
            base = _gregorian_to_hijri_year(pub)
            if base is None:
                return None
            anchor, hday = pub, day
            options = [
                (y, greg)
                for y in (base - 1, base, base + 1)
                if (greg := _hijri_to_gregorian(y, month, hday)) is not None
            ]
            if not options:
                return None
            year = min(options, key=lambda o: abs((o[1] - anchor).days))[0]
        if day:
            d = _hijri_to_gregorian(year, month, day)
            return (*_day(d), "hijri", "") if d else None
        first = _hijri_to_gregorian(year, month, 1)
        if first is None:
            return None
        last = first + timedelta(days=_hijri_month_length(year, month) - 1)
        return f"AH{year}-{month:02d}", first, last, "month", "hijri", ""
    if name == "hijri_year":
        y = int(g["hy"])
        first, nxt = _hijri_to_gregorian(y, 1, 1), _hijri_to_gregorian(y + 1, 1, 1)
        if first is None or nxt is None:
            return None
        return f"AH{y}", first, nxt - timedelta(days=1), "year", "hijri", ""
    if name in ("ar_date", "en_mdy", "en_dmy"):
        names = [re.sub(r"\s+", " ", g[k]).rstrip(".") for k in ("m1", "m2", "m3") if g.get(k)]
        months = [_MONTH_NUMBER[n] for n in names if n in _MONTH_NUMBER]
        if not months:
            return None
        if len(set(months)) > 1:
            logger.debug("paired month names disagree in %r; using the first", m.group())
        month = months[0]
        day = int(g["day"]) if g.get("day") else None
        year = int(g["year"]) if g.get("year") else None
        rel = _rel_kind(g.get("rel") or g.get("this"))
        part = _PART_OF.get(re.sub(r"\s+", " ", g.get("part") or ""), "")
        if names[0] in _WEAK_MONTHS and len(names) == 1 and day is None and year is None and not rel:
            return None  # «آب» "father", "may", "march" …
        if name == "en_mdy" and names[0] in _WEAK_MONTHS and day is None and year is None:
            return None
        kind: DateKind = "absolute"
        if year is None:
            if pub is None:
                return None
            year, kind = _nearest_year(month, day, pub, rel), "inferred_year"
        if day:
            try:
                return (*_day(date(year, month, day)), kind, part)
            except ValueError:
                return None
        return (*_month(year, month), kind, part)
    if name == "fiscal":
        raw = str(g.get("y1") or g.get("y2") or g.get("y3"))
        y = int(raw) + (2000 if len(raw) == 2 else 0)
        return f"FY{y}", date(y, 1, 1), date(y, 12, 31), "year", "fiscal", ""
    if name == "year":
        return (*_year(int(g["year"])), "absolute", "")
    if pub is None:
        return None
    if name == "day_word":
        word = re.sub(r"\s+", " ", g.get("dw") or g.get("today") or g.get("ew") or "")
        offset = {
            "امس": -1,
            "الامس": -1,
            "البارحه": -1,
            "yesterday": -1,
            "غدا": 1,
            "tomorrow": 1,
            "بعد غد": 2,
            "اليوم": 0,
            "today": 0,
        }.get(word, -2 if word.startswith("اول") else None)
        if offset is None:
            return None
        d = pub + timedelta(days=offset)
        if g.get("wd") and _WEEKDAY_NUMBER.get(g["wd"]) != d.weekday():
            logger.debug("%r: the weekday does not match the publication date %s; keeping the day word", m.group(), pub)
        return (*_day(d), "relative", "")
    if name == "weekday":
        wd = _WEEKDAY_NUMBER[str(g.get("wd") or g.get("ewd"))]
        rel = _rel_kind(g.get("rel") or (g.get("erel") if g.get("erel") not in ("on", "this") else None))
        return (*_day(_weekday(pub, wd, rel)), "relative", "")
    if name == "period":
        part = _PART_OF.get(re.sub(r"\s+", " ", g.get("part") or g.get("part2") or g.get("part3") or ""), "")
        if g.get("this"):
            unit, rel = g["this"].split()[-1], "this"
        else:
            unit, rel = g.get("unit") or g.get("eunit"), _rel_kind(g.get("rel") or g.get("erel"))
        step = {"past": -1, "next": 1}.get(rel, 0)
        if unit in ("الاسبوع", "week"):
            value, first, last = _week_value(pub + timedelta(weeks=step))
            return value, first, last, "week", "relative", part
        if unit in ("الشهر", "month"):
            return (*_month(*_shift_months(pub, step)), "relative", part)
        return (*_year(pub.year + step), "relative", part)
    if name == "ago":
        if g.get("eunit"):
            raw = g["en"]
            n = int(raw) if raw.isdigit() else _EN_COUNT[raw]
            unit = g["eunit"].rstrip("s")
        else:
            unit_word = re.sub(r"\s+", " ", g["unit"])
            unit = _UNIT_OF[unit_word]
            if g.get("n"):
                n = int(g["n"])
            elif g.get("nw"):
                n = _AR_COUNT.get(g["nw"], 0) or next((v for k, v in _AR_COUNT.items() if _f(k) == g["nw"]), 0)
            else:
                n = next((v for k, v in _AR_SMALL.items() if _f(k) == unit_word), 0)
            if not n:
                return None
        if unit == "year":
            return (*_year(pub.year - n), "relative", "")
        if unit == "month":
            return (*_month(*_shift_months(pub, -n)), "relative", "")
        if unit == "week":
            value, first, last = _week_value(pub - timedelta(weeks=n))
            return value, first, last, "week", "relative", ""
        return (*_day(pub - timedelta(days=n)), "relative", "")
    return None


def _candidates(folded: str, pub: date | None) -> Iterator[tuple[int, int, int, Resolved]]:
    for name, pattern in _PATTERNS:
        for m in pattern.finditer(folded):
            if m.end() == m.start():
                continue
            resolved = _resolve(name, m, pub)
            if resolved is not None:
                yield m.start(), m.end(), _PRIORITY[name], resolved


def find_dates(text: str, published: str | date | None = None) -> list[DateMention]:
    """Every date written in ``text``, resolved against ``published`` (``YYYY-MM-DD``), in text order.

    Overlapping readings keep the longest (then the more specific pattern): «31 ديسمبر/ كانون الأول
    2021» is one day, not a day plus a year. Dates that need the publication date are skipped when
    it is unknown.

    Example:
        >>> [(m.text, m.value) for m in find_dates("اجتماع عقد يوم 15 نيسان/أبريل", "2024-04-15")]
        [('15 نيسان/أبريل', '2024-04-15')]
    """
    if not text:
        return []
    pub = parse_published(published)
    folded, where = fold(text)
    chosen: list[tuple[int, int, int, Resolved]] = []
    for cand in sorted(_candidates(folded, pub), key=lambda c: (-(c[1] - c[0]), c[2], c[0])):
        if all(cand[1] <= s or cand[0] >= e for s, e, _, _ in chosen):
            chosen.append(cand)
    out = []
    for s, e, _, (value, first, last, gran, kind, qualifier) in sorted(chosen):
        start, end = where[s], where[e - 1] + 1
        # trim white space and punctuation the pattern swallowed at the edges
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not (text[end - 1].isalnum() or text[end - 1] in ")"):
            end -= 1
        out.append(
            DateMention(
                text=text[start:end],
                start=start,
                end=end,
                value=value,
                granularity=gran,
                first=first,
                last=last,
                kind=kind,
                qualifier=qualifier,
            )
        )
    return out


__all__ = ["GRANULARITY_ORDER", "DateMention", "find_dates", "fold", "parse_published", "period"]
