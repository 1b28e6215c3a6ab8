"""Figures in Arabic and English news sentences: the number, its unit, and how exact the text says it is.

Conflict detection (:mod:`rag.conflicts`) compares figures directly, so it needs each one read the
same way whatever the spelling: «2500», «2,500», «٢٥٠٠» and «ألفين وخمسمائة» are one value; «380
مليون دولار» and "$380 million" too. The words around a number say how to compare it: «نحو»,
«حوالي», "about" make it approximate (±10 %); «لا يتجاوز», «بعدد لا يتجاوز», "no more than", "up to"
make it an upper bound; «أكثر من», "more than", "over" a lower bound. Each figure becomes a
:class:`Quantity` holding the interval ``[low, high]`` it allows: two figures for the same claim
disagree only when their intervals do not meet.

Numbers that are not figures are left out: years (``2014`` after «عام»/«في», or alone), days of a
written date (the ``15`` of «15 نيسان»), and numbers inside a date mention (:func:`rag.dates.find_dates`).

Just past the house's ~400 lines: a third of it is the word tables (number words, scales, units,
qualifiers) that the formatter lays out one entry per line; the reading code itself is short.

Example:
    >>> q = find_quantities("وبعدد لا يتجاوز ألفي عسكري")[0]
    >>> (q.value, q.qualifier, q.unit, q.high)
    (2000.0, 'at_most', 'troops', 2000.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.dates import find_dates, fold

#: Relative tolerance of an approximate figure («نحو», «حوالي», "about").
APPROX = 0.10


@dataclass(frozen=True)
class Quantity:
    """A figure in a sentence.

    Attributes:
        value: the number, scale words applied (``380 مليون`` → 380000000.0).
        unit: the unit class (``troops``, ``usd``, ``countries``, ``km``, ``percent``, ``years``,
            ``people``) or ``n:<word>`` for any other counted noun, or ``""`` when none follows.
        noun: the unit word as written (``جندي``), or ``""``.
        qualifier: ``exact``, ``about``, ``at_most``, ``at_least``.
        low, high: the interval of values the wording allows.
        text: the words as written, qualifier included; ``start``/``end`` its offsets in the text.
    """

    value: float
    unit: str
    noun: str
    qualifier: str
    low: float
    high: float
    text: str
    start: int
    end: int

    def agrees_with(self, other: Quantity) -> bool:
        """Whether the two figures can describe the same fact (their intervals meet)."""
        return self.low <= other.high * (1 + 1e-9) and other.low <= self.high * (1 + 1e-9)

    @property
    def normalized(self) -> str:
        """``about 2500``, ``at most 2000``, ``380000000``: the figure as compared."""
        number = f"{self.value:,.0f}".replace(",", "") if self.value == int(self.value) else f"{self.value:g}"
        prefix = {"about": "about ", "at_most": "at most ", "at_least": "at least "}.get(self.qualifier, "")
        return f"{prefix}{number}"


def _f(words: str) -> list[str]:
    return [fold(w)[0] for w in words.split()]


_ONES = {
    w: v
    for v, ws in {
        1: "واحد واحدة",
        2: "اثنان اثنين اثنتان اثنتين",
        3: "ثلاث ثلاثة",
        4: "أربع أربعة",
        5: "خمس خمسة",
        6: "ست ستة",
        7: "سبع سبعة",
        8: "ثمان ثماني ثمانية",
        9: "تسع تسعة",
        10: "عشر عشرة",
        20: "عشرون عشرين",
        30: "ثلاثون ثلاثين",
        40: "أربعون أربعين",
        50: "خمسون خمسين",
        60: "ستون ستين",
        70: "سبعون سبعين",
        80: "ثمانون ثمانين",
        90: "تسعون تسعين",
        100: "مائة مئة",
        200: "مائتان مائتين مئتان مئتين",
        300: "ثلاثمائة ثلاثمئة",
        400: "أربعمائة أربعمئة",
        500: "خمسمائة خمسمئة",
        600: "ستمائة ستمئة",
        700: "سبعمائة سبعمئة",
        800: "ثمانمائة ثمانمئة ثمانيمائة",
        900: "تسعمائة تسعمئة",
        1000: "ألف",
        2000: "ألفان ألفين ألفي",
        1_000_000: "مليون",
        2_000_000: "مليونان مليونين مليوني",
        1_000_000_000: "مليار",
        2_000_000_000: "ملياران مليارين",
    }.items()
    for w in _f(ws)
}
_EN_ONES = {
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
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {
    **dict.fromkeys(_f("آلاف ألف"), 1000),
    **dict.fromkeys(_f("ملايين مليون"), 1000000),
    **dict.fromkeys(_f("مليارات مليار"), 1000000000),
    "thousand": 1000,
    "thousands": 1000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "billion": 1_000_000_000,
    "billions": 1_000_000_000,
    "hundred": 100,
}

_UNITS: dict[str, list[str]] = {
    "troops": [
        *_f("جندي جنود جنديا عسكري عسكريين عسكريا مقاتل مقاتلين عنصر عناصر"),
        "troops",
        "soldiers",
        "soldier",
        "personnel",
        "servicemembers",
        "forces",
        "service",
    ],
    "usd": [*_f("دولار دولارا دولارات"), "dollars", "dollar", "usd"],
    "countries": [*_f("دولة دول دولا بلد بلدان"), "countries", "country", "nations", "members"],
    "km": [*_f("كيلومتر كيلومترا كيلومترات كلم كم"), "km", "kilometres", "kilometers", "kilometre", "kilometer"],
    "percent": [*_f("بالمئة بالمائة المئة المائة %"), "percent", "%"],
    "years": [*_f("سنوات سنة سنين أعوام عاما عام"), "years", "year"],
    "people": [*_f("شخص أشخاص قتيل قتلى جريح جرحى مدني مدنيين"), "people", "civilians", "killed", "dead"],
}
_UNIT_OF = {w: u for u, ws in _UNITS.items() for w in ws}
_QUALIFIERS: list[tuple[str, list[str]]] = [
    (
        "at_most",
        [
            "لا يتجاوز",
            "لا يتجاوزون",
            "لا تتجاوز",
            "لا يزيد على",
            "لا يزيد عن",
            "لا يزيد",
            "ما لا يزيد عن",
            "ما لا يزيد على",
            "بحد أقصى",
            "حتى",
            "أقل من",
            "ما دون",
            "no more than",
            "up to",
            "at most",
            "not exceed",
            "not to exceed",
            "fewer than",
            "less than",
            "maximum of",
            "a maximum of",
            "capped at",
        ],
    ),
    (
        "at_least",
        [
            "أكثر من",
            "ما يزيد على",
            "ما يزيد عن",
            "يزيد على",
            "يزيد عن",
            "ما لا يقل عن",
            "لا يقل عن",
            "على الأقل",
            "more than",
            "over",
            "at least",
            "upwards of",
            "in excess of",
        ],
    ),
    (
        "about",
        [
            "نحو",
            "حوالي",
            "حوالى",
            "قرابة",
            "زهاء",
            "ما يقارب",
            "يقارب",
            "تقريبا",
            "ما يناهز",
            "يناهز",
            "around",
            "about",
            "approximately",
            "roughly",
            "some",
            "nearly",
            "almost",
            "an estimated",
            "estimated",
        ],
    ),
]
_QUAL_FOLDED = [(kind, [tuple(_f(p)) for p in phrases]) for kind, phrases in _QUALIFIERS]
_CLITICS = ("وب", "فب", "و", "ب", "ل", "ف")
_TOKEN = re.compile(r"\d+(?:[.,٫]\d+)*|[^\W\d_]+|[%$]")
_YEAR_CUES = set(_f("عام العام سنة السنة منذ في بحلول حتى مطلع أواخر نهاية بداية خلال قبل بعد")) | {
    "in",
    "since",
    "by",
    "until",
    "year",
    "fy",
}


def _strip(word: str) -> str:
    for c in _CLITICS:
        if word.startswith(c) and (word[len(c) :] in _ONES or word[len(c) :] in _SCALES or word[len(c) :] in _UNIT_OF):
            return word[len(c) :]
    return word


def _digits(token: str) -> float | None:
    raw = token.replace("٫", ".")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        raw = raw.replace(",", "")
    elif "," in raw:
        raw = raw.replace(",", ".") if raw.count(",") == 1 and len(raw.split(",")[1]) != 3 else raw.replace(",", "")
    try:
        return float(raw)
    except ValueError:
        return None


def _qualifier(words: list[str], i: int) -> tuple[str, int]:
    """The qualifier ending just before token ``i`` (``exact`` when none) and the index where it starts."""
    for kind, phrases in _QUAL_FOLDED:
        for phrase in sorted(phrases, key=len, reverse=True):
            n = len(phrase)
            if i - n < 0:
                continue
            window = words[i - n : i]
            last_ok = window[-1] == phrase[-1] or _strip_any(window[-1]) == phrase[-1]
            if list(window[:-1]) == list(phrase[:-1]) and last_ok:
                return kind, i - n
            if n == 1 and i - 2 >= 0 and words[i - 2] in ("بعدد", "بعديد") and window[-1] == phrase[-1]:
                return kind, i - 2
    return "exact", i


def _strip_any(word: str) -> str:
    for c in _CLITICS:
        if word.startswith(c) and len(word) - len(c) >= 3:
            return word[len(c) :]
    return word


def _interval(value: float, qualifier: str) -> tuple[float, float]:
    if qualifier == "about":
        return value * (1 - APPROX), value * (1 + APPROX)
    if qualifier == "at_most":
        return 0.0, value
    if qualifier == "at_least":
        return value, math.inf
    return value, value


def find_quantities(text: str) -> list[Quantity]:
    """Every figure in ``text`` (a sentence), in order, with its unit and qualifier.

    Example:
        >>> [(q.value, q.qualifier, q.unit) for q in find_quantities("تحتفظ الولايات المتحدة بحوالي 2500 جندي")]
        [(2500.0, 'about', 'troops')]
    """
    folded, where = fold(text)
    date_spans = [(m.start, m.end) for m in find_dates(text, "2000-01-01")]
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded)]
    words = [t[0] for t in tokens]
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        word, s, _ = tokens[i]
        base = _strip(word)
        value: float | None = None
        j = i
        if word[0].isdigit():
            value = _digits(word)
            j = i + 1
        elif base in _ONES or (word.lower() in _EN_ONES):
            value, j = _number_words(words, i)
        if value is None:
            i += 1
            continue
        # scale words: «380 مليون», "2.5 billion", «ثلاثة آلاف»
        while j < len(words) and _strip(words[j]) in _SCALES and words[j] != "hundred":
            value *= _SCALES[_strip(words[j])]
            j += 1
        start_orig, end_orig = where[s], where[tokens[j - 1][2] - 1] + 1
        if any(ds <= start_orig < de for ds, de in date_spans):
            i = j
            continue
        # a range «من 12 إلى 87 دولة»: the first number takes the unit of the second
        unit_at = j
        if j + 1 < len(words) and words[j] in ("الي", "to", "و") and words[j + 1][:1].isdigit():
            unit_at = j + 2
        noun, unit = "", ""
        if unit_at < len(words):
            cand = _strip_any(words[unit_at]) if words[unit_at] not in _UNIT_OF else words[unit_at]
            cand = words[unit_at] if words[unit_at] in _UNIT_OF else cand
            if cand in _UNIT_OF:
                noun, unit = tokens[unit_at][0], _UNIT_OF[cand]
                if unit_at == j:
                    end_orig = where[tokens[j][2] - 1] + 1
                    j += 1
            elif re.fullmatch(r"[^\W\d_]{3,}", words[unit_at]) and unit_at == j:
                noun, unit = words[unit_at], f"n:{words[unit_at]}"
        if i > 0 and words[i - 1] == "$":
            unit, noun = "usd", "$"
            start_orig = where[tokens[i - 1][1]]
        is_year = word.isdigit() and len(word) == 4 and 1900 <= value <= 2100 and unit not in ("troops", "usd")
        if is_year and (not unit or unit.startswith("n:") or (i > 0 and words[i - 1] in _YEAR_CUES)):
            i = j
            continue
        qualifier, qstart = _qualifier(words, i if not (i > 0 and words[i - 1] == "$") else i - 1)
        if qstart < i and words[qstart] not in ("$",):
            start_orig = where[tokens[qstart][1]]
        low, high = _interval(value, qualifier)
        written = text[where[tokens[unit_at][1]] : where[tokens[unit_at][2] - 1] + 1] if noun and noun != "$" else noun
        out.append(
            Quantity(
                value=float(value),
                unit=unit,
                noun=written,
                qualifier=qualifier,
                low=low,
                high=high,
                text=text[start_orig:end_orig],
                start=start_orig,
                end=end_orig,
            )
        )
        i = max(j, i + 1)
    return out


def _number_words(words: list[str], i: int) -> tuple[float | None, int]:
    """A run of number words from ``words[i]`` («ألفين وخمسمائة», "two thousand five hundred")."""
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(words):
        w = words[j]
        base = w[1:] if seen and w.startswith("و") and w[1:] in _ONES else _strip(w)
        if base in _ONES:
            v = _ONES[base]
            if v >= 1000:
                total += v if current == 0 else current * (v / (2 if str(int(v))[0] == "2" else 1))
                current = 0
            else:
                current += v
        elif w in _EN_ONES:
            current += _EN_ONES[w]
        elif w in ("thousand", "million", "billion") and seen:
            total += max(current, 1) * _SCALES[w]
            current = 0
        elif w == "hundred" and seen:
            current = max(current, 1) * 100
        elif w in ("and", "و") and seen:
            j += 1
            continue
        else:
            break
        seen = True
        j += 1
    if not seen:
        return None, i
    while j > i and words[j - 1] in ("and", "و"):
        j -= 1
    return total + current, j


__all__ = ["APPROX", "Quantity", "find_quantities"]
