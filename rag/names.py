"""Names in news sentences: an operation's name, the holder of an office, and whether two names are one.

Conflict detection (:mod:`rag.conflicts`) reports two reports that name one thing differently: the
operation «العزم الصلب» in one article and «العزم الثابت» in another, or the Iraqi prime minister as
«مصطفى الكاظمي» in one and «محمد شياع السوداني» in another. This module reads those names:

* :data:`OPERATION`, :data:`OPERATION_EN`: the name after «عملية» / "Operation" (on folded Arabic text);
* :func:`office_holders`: ``(role:country, name)`` for each office written with its holder
  («رئيس الوزراء العراقي مصطفى الكاظمي» → ``("prime_minister:iraq", "مصطفى الكاظمي")``), the country
  read from a nationality word after the office, a holder marked «السابق» (former) left out;
* :func:`same_name`: one name's words are all in the other's (ثابت العباسي = ثابت محمد العباسي,
  spelling variants allowed); :func:`share_word`: two names have a word in common.

A module of its own so that :mod:`rag.conflicts` stays under ~400 lines and holds the detector; how a
name is read and compared is found here, without the figure and date readings around it.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from rag.dates import fold
from rag.entities import BY_KEY, find_entities

OPERATION = re.compile(r"(?<![^\W\d_])(?:[وفبل]{0,2})عمليه\s+((?:ال[^\W\d_]+)(?:\s+ال[^\W\d_]+){0,2})")
OPERATION_EN = re.compile(r"\bOperation\s+([A-Z][\w-]+(?:\s+[A-Z][\w-]+){0,2})")
# Words a holder's name stops at (prepositions, relatives, verbs of saying, pronouns, demonstratives).
_NAME_STOP = {
    fold(w)[0]
    for w in [
        "في",
        "من",
        "على",
        "إلى",
        "عن",
        "خلال",
        "مع",
        "الذي",
        "التي",
        "الذين",
        "قد",
        "أن",
        "إن",
        "أنه",
        "وقال",
        "قال",
        "يلتقي",
        "بشأن",
        "حول",
        "بين",
        "لدى",
        "ضد",
        "منذ",
        "بعد",
        "قبل",
        "عند",
        "كما",
        "حيث",
        "ثم",
        "لكن",
        "بل",
        "وهو",
        "وهي",
        "هو",
        "هي",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
    ]
}
# Nationality words after an office («رئيس الوزراء العراقي»): the country whose office it is.
_NATIONALITY = {"iraq": ("العراقي", "العراقيه"), "us": ("الامريكي", "الاميركي", "الامريكيه", "الاميركيه")}
_NAT_OF = {fold(w)[0]: k for k, ws in _NATIONALITY.items() for w in ws}
# A holder written as former («السابق») is not the office's holder at the time of the report.
_FORMER = ("السابق", "السابقه", "former")


def office_holders(text: str) -> list[tuple[str, str]]:
    """``(role:country, name)`` for each office named with its holder («رئيس الوزراء العراقي مصطفى الكاظمي»)."""
    out = []
    mentions = find_entities(text)
    for m in mentions:
        if m.type != "role":
            continue
        rest = text[m.end :]
        folded_rest = fold(rest)[0]
        words = re.findall(r"[^\W\d_]+|[^\w\s]", rest)
        fwords = re.findall(r"[^\W\d_]+|[^\w\s]", folded_rest)
        i, country = 0, ""
        while i < len(fwords) and fwords[i] in _NAT_OF:
            country = _NAT_OF[fwords[i]]
            i += 1
        if m.key == "defense_minister" and fold(m.text)[0].endswith("دفاعه"):
            country = country or "iraq"
        if i < len(fwords) and fwords[i] in _FORMER:
            continue
        name: list[str] = []
        while i < len(fwords) and len(name) < 3:
            w = fwords[i]
            if not re.fullmatch(r"[^\W\d_]+", w) or w in _NAME_STOP or (w.startswith("و") and len(name) >= 1):
                break
            if BY_KEY.get(w) or w in _NAT_OF:
                break
            name.append(words[i])
            i += 1
        if not name:
            continue
        holder = " ".join(name)
        # a name is a person's only when the gazetteer or its shape says so: at least one word
        # known as a person, or two words not starting with ال (bare role words are not names)
        persons = list(find_entities(holder, ("person",)))
        if not persons and (len(name) < 2 or all(fold(n)[0].startswith("ال") for n in name)):
            continue
        out.append((f"{m.key}:{country}" if country else m.key, holder))
    return out


def _tokens(name: str) -> list[str]:
    return [t for t in re.findall(r"[^\W\d_]+", name) if t not in ("ال",)]


def _token_eq(a: str, b: str) -> bool:
    a, b = a.removeprefix("ال"), b.removeprefix("ال")
    return a == b or (min(len(a), len(b)) >= 4 and SequenceMatcher(None, a, b).ratio() >= 0.8)


def same_name(a: str, b: str) -> bool:
    """One name's words are all in the other's (ثابت العباسي / ثابت محمد العباسي; spelling variants allowed)."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return False
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return all(any(_token_eq(s, t) for t in long_) for s in short)


def share_word(a: str, b: str) -> bool:
    """The two names have a word in common (العزم الصلب / العزم الثابت; spelling variants allowed)."""
    return any(_token_eq(x, y) for x in _tokens(a) for y in _tokens(b))


__all__ = ["OPERATION", "OPERATION_EN", "office_holders", "same_name", "share_word"]
