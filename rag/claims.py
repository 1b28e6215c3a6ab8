"""What a question claims, read for conflict detection: :class:`ClaimQuery`.

Before :mod:`rag.conflicts` can tell whether two evidence sentences disagree, it must know what the
question asks about: the kind of answer (a figure, a date, a name, a person), the unit of a figure
(«كم جندياً» → troops, "how much" with money cues → dollars), the places, people and organisations it
names (:mod:`rag.entities`), the office it asks about (``prime_minister:iraq``), the event (end, start,
meeting, withdrawal …), the years it states and, for an Arabic question, the words that qualify the
claim («المهمة القتالية»).

Reading the question is its own module because it needs no evidence and is used apart from detection:
:mod:`rag.notices` reads the question once to rank sentences by their readings of the claim, and
:class:`rag.conflicts.ConflictDetector` reads every sentence against it. The question-word, unit-word
and event cue tables live here with the one reader that uses them; the event cues (``_EVENT_RES``) are
also imported by :mod:`rag.conflicts`, which finds the asked-about event in a sentence with them.
``from rag.conflicts import ClaimQuery`` keeps working (it is re-exported there).

Example:
    >>> q = ClaimQuery.make("How many US troops are in Iraq?")
    >>> (q.kind, q.unit, sorted(q.entities))
    ('quantity', 'troops', ['iraq', 'us'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.dates import fold
from rag.entities import EntityMention, find_entities
from rag.quantities import _UNIT_OF
from rag.textnorm import tokenize

AskedKind = Literal["quantity", "date", "name", "person", "other"]

#: Entity types a sentence must share with the question to be about the same claim.
CLAIM_ENTITY_TYPES = ("place", "person", "org")

_KIND_PATTERNS: tuple[tuple[AskedKind, str], ...] = (
    (
        "name",
        r"(?:^|\s)(?:ما|وما)\s+(?:هو\s+|هي\s+)?(?:اسم|الاسم)|(?:^|\s)(?:ماذا|بماذا)\s+(?:يسمي|تسمي|تعرف|يعرف)"
        r"|\bwhat(?:'s| is| was)?\s+(?:the\s+)?name\b"
        r"|\bwhat\s+(?:is|was|are)\s+(?:it|this|that|the\s+\w+(?:\s+\w+)?)\s+called\b"
        r"|\bcalled\b|\bnamed\b",
    ),
    (
        "date",
        r"(?:^|\s)و?متي(?:\s|$|\?)|(?:في|منذ|بحلول)?\s?(?:اي|ايه)\s+(?:عام|سنه|يوم|شهر|تاريخ)"
        r"|(?:ما|وما)\s+(?:هو\s+)?(?:تاريخ|موعد)"
        r"|\bwhen\b|\bwhat\s+(?:year|date|day|month)\b|\bby\s+when\b|\bwhich\s+(?:year|date|day|month)\b",
    ),
    (
        "quantity",
        r"(?:^|\s)(?:و?كم|بكم|وبكم)(?:\s|$)|(?:^|\s)(?:ما|وما)\s+(?:هو\s+|هي\s+)?(?:عدد|قيمه|حجم|مقدار|مبلغ)"
        r"|(?:^|\s)عدد\s|\bhow\s+(?:many|much)\b|\bwhat\s+(?:number|amount|figure)\b|\bhow\s+large\b",
    ),
    ("person", r"^(?:و?من)(?:\s|$)|(?:^|\s)(?:من\s+هو|من\s+هي|ومن\s+هو|ومن\s+هي)(?:\s|$)|\bwho(?:m|se)?\b"),
)
_MONEY_CUES = re.compile(
    r"مبلغ|تمويل|قدم|يقدم|سيقدم|مساعدات|ميزاني|تكلف|انفق|ينفق|دولار|مليون|مليار|ساهم"
    r"|\bmoney\b|\bfund|\bspend|\bspent\b|\baid\b|\bbudget|\bcost|\bprovide|\bgive\b|\bdollars?\b"
    r"|\bcontribut|\bpledg|\bfinanc|\bmillion\b|\bbillion\b"
)
_EN_UNITS = {
    "troops": "troops",
    "soldiers": "troops",
    "soldier": "troops",
    "personnel": "troops",
    "forces": "troops",
    "servicemembers": "troops",
    "countries": "countries",
    "nations": "countries",
    "members": "countries",
    "kilometres": "km",
    "kilometers": "km",
    "km": "km",
    "far": "km",
    "distance": "km",
    "percent": "percent",
    "percentage": "percent",
    "years": "years",
    "dollars": "usd",
}
_EVENTS: dict[str, str] = {
    "end": r"نته|انهاء|نهايه|\bend(?:s|ed|ing)?\b|\bconclu|\bwind\s+down\b|\bover\b",
    "start": r"(?<![^\W\d_])(?:[وف]?)(?:بدا|بدء|بدات|انطلق)|\bstart|\bbeg[ai]n|\blaunch",
    "meet": r"اجتماع|اجتمع|لقاء|التقي|يلتقي|التقى|استقبل|زار|زياره|\bmeet|\bmet\b|\bmeeting|\btalks\b|\breceiv|\bhost",
    "return": r"(?<![^\W\d_])و?(?:عادت|عاد|عوده|يعود|تعود)(?![^\W\d_])|\breturn",
    "withdraw": r"انسحاب|انسحب|(?<![^\W\d_])(?:[وب]?)سحب|\bwithdr|\bpull(?:ed)?\s+out",
    # «لهزيمة» ("in order to defeat") states a purpose, not that a defeat happened
    "defeat": r"(?<!ل)هزيم|(?<![^\W\d_])هزم|تفكيك|\bdefeat|\bdismantl|\blast\s+stronghold",
    "sign": r"الموقعه|توقيع|وقعت|(?<![^\W\d_])وقع(?![^\W\d_])|\bsign",
    "election": r"انتخاب|\belection",
    "enter": r"(?<![^\W\d_])(?:[وف]?)(?:دخلت|دخل|دخول)|\benter|\binva[ds]",
    "advisory": r"استشاري|\badvis",
}
_EVENT_RES = {k: re.compile(v) for k, v in _EVENTS.items()}


@dataclass(frozen=True)
class ClaimQuery:
    """A question as conflict detection reads it.

    Attributes:
        text: the question.
        kind: what it asks for: ``quantity``, ``date``, ``name`` (what something is called),
            ``person`` (who), or ``other`` (no conflict is looked for).
        unit: the unit class of the figure asked for (``troops``, ``usd`` …), ``""`` when any.
        entities: gazetteer keys of the places, people and organisations it names.
        role: an office it asks about (``prime_minister:iraq``), ``""`` when none.
        events: event cues it names (``end``, ``meet`` …).
        years: years it states (a sentence must state them, date itself in them, or come from an
            article of that year that dates it no other way).
        terms: stems of an Arabic question (or of the translation) that qualify the claim («القتالية»);
            a sentence must hold them all.
    """

    text: str
    kind: AskedKind
    unit: str
    entities: frozenset[str]
    role: str
    events: frozenset[str]
    years: frozenset[str]
    terms: frozenset[str] = frozenset()

    @classmethod
    def make(cls, question: str, translation: str = "") -> ClaimQuery:
        folded = fold(question)[0]
        both = f"{question} {translation}".strip()
        kind: AskedKind = "other"
        best = None
        for k, pattern in _KIND_PATTERNS:
            m = re.search(pattern, folded)
            if m and (best is None or m.start() < best):
                best, kind = m.start(), k
        mentions = find_entities(both)
        entities = frozenset(m.key for m in mentions if m.type in CLAIM_ENTITY_TYPES)
        role = _role_of(mentions)
        if kind == "person" and role:
            entities = entities - {role.split(":")[1]}
        unit = ""
        words = re.findall(r"[^\W\d_]+", fold(both)[0])
        for w in words:
            if w in ("كم", "وكم", "بكم", "وبكم"):  # the question word, not kilometres
                continue
            u = _EN_UNITS.get(w) or next((_UNIT_OF[x] for x in _unprefixed(w) if x in _UNIT_OF), "")
            if u:
                unit = u
                break
        if kind == "quantity" and not unit and _MONEY_CUES.search(fold(both)[0]):
            unit = "usd"
        events = frozenset(k for k, rx in _EVENT_RES.items() if rx.search(fold(both)[0]))
        years = frozenset(re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", fold(both)[0]))
        arabic = translation if translation else (question if re.search(r"[\u0600-\u06ff]", question) else "")
        return cls(question, kind, unit, entities, role, events, years, _content_terms(arabic))


#: Words that say what is asked, not what about (they need not recur in a sentence about the claim).
_GENERIC = frozenset(
    tokenize(
        """قوات القوات عدد اسم قيمة مبلغ تاريخ موعد يوجد توجد هناك حاليا الآن الحالي بحسب وفق
    تقرير قال ذكر أعلن جديد يسمى تسمى يعرف تعرف ضد الذي التي المقبل الماضي ما هو هي من متى كم أين تنظيم""",
        drop_stopwords=False,
    )
)


def _content_terms(arabic: str) -> frozenset[str]:
    """The stems of an Arabic question that qualify its claim («المهمة القتالية»: a sentence about "the
    mission" without "combat" is about another mission): entities, units, event and question words aside."""
    if not arabic:
        return frozenset()
    text = arabic
    for m in sorted(find_entities(arabic), key=lambda m: -m.start):
        text = text[: m.start] + " " + text[m.end :]
    folded = fold(text)[0]
    for rx in _EVENT_RES.values():
        folded = rx.sub(" ", folded)
    folded = " ".join(w for w in folded.split() if not any(x in _UNIT_OF for x in _unprefixed(w.strip("?؟,."))))
    out = set()
    for t in tokenize(folded):
        if t in _GENERIC or t.isdigit() or len(t) < 3 or any(x in _UNIT_OF for x in _unprefixed(t)):
            continue
        out.add(t)
    return frozenset(out)


def _unprefixed(word: str) -> list[str]:
    """A folded word and its forms without clitics and article: والجنود → جنود."""
    forms = [word]
    for p in ("وبال", "وال", "بال", "فال", "لل", "ال", "و", "ب", "ل"):
        if word.startswith(p) and len(word) - len(p) >= 3:
            forms.append(word[len(p) :])
    return forms


def _role_of(mentions: Sequence[EntityMention]) -> str:
    """``role:country`` for the first role the mentions name next to a country (``prime_minister:iraq``)."""
    for i, m in enumerate(mentions):
        if m.type != "role":
            continue
        near = [
            o
            for o in mentions[max(0, i - 2) : i + 3]
            if (o.type == "place" and abs(o.start - m.end) < 25) or (o.type == "place" and abs(m.start - o.end) < 25)
        ]
        return f"{m.key}:{near[0].key}" if near else m.key
    return ""


__all__ = ["CLAIM_ENTITY_TYPES", "AskedKind", "ClaimQuery"]
