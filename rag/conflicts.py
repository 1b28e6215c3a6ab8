"""Conflicting reports: evidence sentences that disagree on a figure, a date or a name for one claim.

News changes and outlets differ: "How many US troops are in Iraq?" is answered by «تحتفظ الولايات
المتحدة بحوالي 2500 جندي في العراق» (an April 2024 report) and by «وبعدد لا يتجاوز ألفي عسكري» (the
December 2021 arrangement, in a 2023 article); one operation is «العزم الصلب» in one article and
«العزم الثابت» in another. :class:`ConflictDetector` finds such disagreements in the evidence chosen
for a question by reading the sentences, not by asking the model:

* **figures** (quantity questions: كم, how many, how much): every figure with the unit the question
  asks for (troops, dollars, countries …) is read with its qualifier (:mod:`rag.quantities`); two
  figures disagree when the intervals their wording allows do not meet («حوالي 2500» vs «لا يتجاوز
  2000»), never because they are written differently (2,500 / 2500 / ألفين وخمسمائة; «نحو 380» / 380);
* **dates** (متى, when): the dates a sentence gives (:mod:`rag.dates`, relative ones resolved against
  its article's publication date) disagree with another sentence's when no period of one meets a
  period of the other (2021 and 2021-12-31 agree; «يوم 15 نيسان/أبريل» and «يوم الاثنين» of a
  2024-04-15 article agree);
* **names** (ما اسم, who, what is X called): the name an operation is given after «عملية» /
  "Operation" («العزم الصلب» vs «العزم الثابت»: two names sharing a word), or the holder of an office the
  question asks about («رئيس الوزراء العراقي مصطفى الكاظمي» vs «… محمد شياع السوداني»): names
  disagree unless one's words are contained in the other's (ثابت العباسي = ثابت محمد العباسي).

A sentence takes part only when it is about the question's claim: it (with the sentence before
it, when the article is at hand) names every place, person and organisation the question names
(:mod:`rag.entities`; English questions are matched through the gazetteer, or through the
pipeline's Arabic translation when there is one), the event the question asks about (end, start,
meeting, withdrawal …) and any year the question states. Disagreement is only reported between
different articles: two reports, each cited with its number and its date.

What the question claims (kind, unit, entities, office, event, years, qualifying words) is read once
into a :class:`ClaimQuery`. That reading lives in :mod:`rag.claims`, since it needs no evidence and
:mod:`rag.notices` uses it on its own. How a name is read in a sentence (an operation's name, an
office's holder) and when two names are one lives in :mod:`rag.names`. This module holds the detector
and the rest of the sentence-side reading (which figure, which date answers the question).
``ClaimQuery`` is re-exported here, so ``from rag.conflicts import ClaimQuery`` keeps working.

Example:
    >>> detector = ConflictDetector()
    >>> conflicts = detector.run("How many US troops are in Iraq?", evidence, articles)   # doctest: +SKIP
    >>> [(v.normalized, v.date, v.n) for v in conflicts[0].values]                          # doctest: +SKIP
    [('at most 2000', '2021-12-31', 3), ('about 2500', '2024-04-15', 1)]
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer_types import Conflict, ConflictValue, Evidence
from rag.chunking import sentence_spans
from rag.claims import _EVENT_RES, ClaimQuery
from rag.dates import DateMention, find_dates, fold
from rag.entities import BY_KEY, find_entities
from rag.names import OPERATION, OPERATION_EN, office_holders, same_name, share_word
from rag.quantities import find_quantities
from rag.textnorm import tokenize
from rag.types import Article

logger = logging.getLogger(__name__)

# Date cues that tie a date to an end (بحلول سبتمبر 2025) or a start (منذ عام 2014).
_END_CUES = re.compile(r"(?:بحلول|بنهايه|نهايه|حتي|قبل|\bby|\buntil|\bend\s+of)\s*$")
_START_CUES = re.compile(r"(?:منذ|بدايه|مطلع|\bsince|\bfrom)\s*$")


#: Arabic words that find sentences stating a figure in a unit, or an event (for :meth:`ConflictDetector.probes`).
_PROBE_UNITS = {
    "troops": "جندي عسكري جنود",
    "usd": "مليون دولار",
    "countries": "دولة دول",
    "km": "كيلومتر",
    "percent": "بالمئة",
    "years": "سنوات",
    "people": "قتيل شخص",
}
_PROBE_EVENTS = {
    "end": "تنتهي انتهاء نهاية",
    "start": "بدء بدأت",
    "meet": "اجتماع لقاء التقى استقبل",
    "return": "عادت",
    "withdraw": "انسحاب",
    "defeat": "هزيمة تفكيك",
    "sign": "الموقعة توقيع",
    "election": "الانتخابات",
    "enter": "دخلت",
    "advisory": "استشارية",
}


def _covers(terms: frozenset[str], text: str) -> bool:
    stems = set(tokenize(text))
    return all(any(t in s or (s in t and len(s) >= 3) for s in stems) for t in terms)


@dataclass(frozen=True)
class _Side:
    """One evidence sentence's reading of the claim."""

    evidence: Evidence
    value: Any
    written: str
    normalized: str
    date: str
    date_source: str


class ConflictDetector:
    """Finds disagreements among the evidence sentences chosen for one question.

    Args:
        max_values: at most this many disagreeing sides are reported per conflict (oldest first).

    Example:
        >>> ConflictDetector().run("ما اسم عملية التحالف؟", [])
        ()
    """

    def __init__(self, max_values: int = 3) -> None:
        if max_values < 2:
            raise ValueError(f"max_values={max_values} must be at least 2 (a conflict has two sides)")
        self.max_values = max_values

    def run(
        self,
        question: str | ClaimQuery,
        evidence: Sequence[Evidence],
        articles: Mapping[str, Article] | None = None,
        *,
        translation: str = "",
    ) -> tuple[Conflict, ...]:
        """The conflicts among ``evidence`` on the claim ``question`` asks about (empty when they agree).

        Args:
            question: the (self-contained) question, or its :class:`ClaimQuery`.
            evidence: the evidence sentences, numbered as they are cited.
            articles: the indexed articles by doc id; when given, a sentence is read with the sentence
                before it to decide whether it is about the claim (the subject is often named there).
            translation: the Arabic translation of an English question, when the pipeline has one.
        """
        query = question if isinstance(question, ClaimQuery) else ClaimQuery.make(question, translation)
        if query.kind == "other" or len(evidence) < 2:
            return ()
        relevant = [e for e in evidence if self._about(query, e, articles)]
        if len({e.doc_id for e in relevant}) < 2:
            return ()
        if query.kind == "quantity":
            sides = [s for e in relevant for s in self._quantities(query, e)]
            found = self._cluster(sides, lambda a, b: a.value.agrees_with(b.value))
            return self._conflict("quantity", query, found)
        if query.kind == "date":
            sides = [s for e in relevant for s in self._dates(query, e)]
            found = self._cluster(sides, lambda a, b: any(x.overlaps(y) for x in a.value for y in b.value))
            return self._conflict("date", query, found)
        sides = [s for e in relevant for s in self._names(query, e)]
        if query.kind == "name" or not query.role:
            sides = [s for s in sides if s.value[0] == "operation"]
            found = self._cluster(sides, lambda a, b: same_name(a.value[1], b.value[1]))
            # «العزم الصلب» vs «العزم الثابت»: variants of one name share a word; wholly different names
            # after «عملية» («عملية اللجنة العسكرية») are other things, not a disagreement
            if len(found) >= 2 and not share_word(found[0][0].value[1], found[1][0].value[1]):
                return ()
        else:
            sides = [s for s in sides if s.value[0] == query.role]
            found = self._cluster(sides, lambda a, b: same_name(a.value[1], b.value[1]))
        return self._conflict("name", query, found)

    # -- is a sentence about the claim? ------------------------------------------------------------
    def probes(self, question: str | ClaimQuery, evidence: Sequence[Evidence] = ()) -> tuple[str, ...]:
        """Arabic keyword queries that find the *other* side of a possible disagreement.

        Retrieval ranks passages for the question as asked, so the report that words the claim
        differently («لا يتجاوز ألفي عسكري» for "how many troops", «العزم الثابت» beside «العزم
        الصلب») may be missing from the evidence. A lexical search with the claim's words (the
        question's places, people and organisations in Arabic, the unit's or event's Arabic words,
        the first word of each name found after «عملية») brings it in. Empty when the question asks
        for nothing a conflict is looked for in.
        """
        query = question if isinstance(question, ClaimQuery) else ClaimQuery.make(question)
        if query.kind == "other":
            return ()
        words = [BY_KEY[k].ar[0] for k in sorted(query.entities) if k in BY_KEY and BY_KEY[k].ar]
        if query.role and query.role.split(":")[0] in BY_KEY:
            words.append(BY_KEY[query.role.split(":")[0]].ar[0])
        if query.kind == "quantity" and query.unit in _PROBE_UNITS:
            words.append(_PROBE_UNITS[query.unit])
        if query.kind == "date":
            words += [_PROBE_EVENTS[e] for e in sorted(query.events) if e in _PROBE_EVENTS]
        probes = [" ".join(words)] if words else []
        if query.kind in ("name", "person") and not query.role:
            heads = {n.value[1].split()[0] for e in evidence for n in self._names(query, e)}
            probes += [f"عملية {h}" for h in sorted(heads)] or ["عملية"]
        return tuple(p for p in probes if p.strip())

    def readings(self, question: str | ClaimQuery, ev: Evidence) -> int:
        """How many readings of the claim ``ev`` holds (figures in the unit asked, dates, names): evidence
        selection can use it to keep both sides of a possible disagreement in the pool."""
        query = question if isinstance(question, ClaimQuery) else ClaimQuery.make(question)
        if query.kind == "quantity":
            return len(self._quantities(query, ev))
        if query.kind == "date":
            return len(self._dates(query, ev))
        if query.kind in ("name", "person"):
            return len(self._names(query, ev))
        return 0

    def _about(self, query: ClaimQuery, ev: Evidence, articles: Mapping[str, Article] | None) -> bool:
        text = ev.text
        window = _window(ev, articles)
        keys = {m.key for m in find_entities(window)}
        needed = set(query.entities)
        if query.kind == "person" and query.role:
            needed -= {query.role.split(":")[1]} if ":" in query.role else set()
        if needed - keys:
            return False
        folded = fold(text)[0]
        if query.events and not any(_EVENT_RES[k].search(folded) for k in query.events):
            return False
        if query.terms and not _covers(query.terms, window):
            return False
        if not query.years:
            return True
        years = {y for y in query.years if y in folded}
        years |= {m.value[:4] for m in find_dates(text, ev.published or None)} & query.years
        if ev.published[:4] in query.years and not find_dates(text, ev.published or None):
            years.add(ev.published[:4])
        return years >= query.years

    # -- readings ----------------------------------------------------------------------------------
    def _quantities(self, query: ClaimQuery, ev: Evidence) -> list[_Side]:
        dates = find_dates(ev.text, ev.published or None)
        out = []
        for q in find_quantities(ev.text):
            if query.unit and q.unit != query.unit:
                continue
            if not query.unit and not q.unit:
                continue
            if query.years and str(int(q.value)) in query.years:
                continue
            date, source = _date_near(dates, q.start, ev.published)
            unit = f" {q.unit}" if q.unit and not q.unit.startswith("n:") else ""
            out.append(_Side(ev, q, q.text, q.normalized + unit, date, source))
        return out

    def _dates(self, query: ClaimQuery, ev: Evidence) -> list[_Side]:
        mentions = [m for m in find_dates(ev.text, ev.published or None) if not m.value.startswith("FY")]
        mentions = [m for m in mentions if m.value not in query.years]
        if not mentions:
            return []
        best = _best_date(query, ev.text, mentions)
        return [_Side(ev, tuple(mentions), best.text, best.value, best.value, "text")]

    def _names(self, query: ClaimQuery, ev: Evidence) -> list[_Side]:
        out = []
        folded, where = fold(ev.text)
        for m in OPERATION.finditer(folded):
            name = ev.text[where[m.start(1)] : where[m.end(1) - 1] + 1]
            out.append(_Side(ev, ("operation", fold(name)[0]), name, name, *_pub(ev)))
        for m in OPERATION_EN.finditer(ev.text):
            out.append(_Side(ev, ("operation", fold(m.group(1))[0]), m.group(1), m.group(1), *_pub(ev)))
        if query.role:
            for role, name in office_holders(ev.text):
                if role == query.role or role.split(":")[0] == query.role:
                    dates = find_dates(ev.text, ev.published or None)
                    date, source = _date_near(dates, ev.text.find(name), ev.published)
                    out.append(_Side(ev, (query.role, fold(name)[0]), name, name, date, source))
        return out

    # -- grouping ----------------------------------------------------------------------------------
    @staticmethod
    def _cluster(sides: Sequence[_Side], same: Callable[[_Side, _Side], bool]) -> list[list[_Side]]:
        """Group sides that agree with every member of the group; groups in order of first citation."""
        groups: list[list[_Side]] = []
        for side in sorted(sides, key=lambda s: (s.evidence.n, s.evidence.start)):
            for group in groups:
                if all(same(side, other) for other in group):
                    group.append(side)
                    break
            else:
                groups.append([side])
        return groups

    def _conflict(self, kind: str, query: ClaimQuery, groups: list[list[_Side]]) -> tuple[Conflict, ...]:
        if len(groups) < 2:
            return ()
        docs = [{s.evidence.doc_id for s in g} for g in groups]
        # keep groups that a different article than the first group's supports
        keep = [groups[0], *(g for g, d in zip(groups[1:], docs[1:], strict=True) if d - docs[0])]
        if len(keep) < 2:
            return ()
        chosen: list[_Side] = []
        for g in keep[: self.max_values]:
            # the side from the best-ranked evidence of an article not already used
            used = {c.evidence.doc_id for c in chosen}
            side = next((s for s in g if s.evidence.doc_id not in used), g[0])
            chosen.append(side)
        if len({s.evidence.doc_id for s in chosen}) < 2:
            return ()
        chosen.sort(key=lambda s: (s.date or "9999", s.evidence.n))
        values = tuple(
            ConflictValue(
                value=s.written,
                normalized=s.normalized,
                n=s.evidence.n,
                doc_id=s.evidence.doc_id,
                quote=s.evidence.text,
                start=s.evidence.start,
                end=s.evidence.end,
                title=s.evidence.title,
                published=s.evidence.published,
                source=s.evidence.source,
                date=s.date,
                date_source=s.date_source,
            )
            for s in chosen
        )
        logger.info("conflict on %r: %s", query.text, "; ".join(f"{v.normalized} [{v.n}] {v.date}" for v in values))
        return (Conflict(kind=kind, claim=_claim(query, chosen), values=values),)  # type: ignore[arg-type]


# -- helpers ---------------------------------------------------------------------------------------
def _window(ev: Evidence, articles: Mapping[str, Article] | None) -> str:
    """The sentence with the one before it in its article (when the article is at hand)."""
    article = articles.get(ev.doc_id) if articles else None
    if article is None or article.text[ev.start : ev.end] != ev.text:
        return ev.text
    before = ""
    for s, e, _ in sentence_spans(article.text[: ev.start]):
        before = article.text[s:e]
    return f"{before} {ev.text}".strip()


def _pub(ev: Evidence) -> tuple[str, str]:
    return (ev.published, "published") if ev.published else ("", "")


def _date_near(dates: Sequence[DateMention], pos: int, published: str) -> tuple[str, str]:
    """The date written nearest to ``pos`` in the sentence, else the publication date."""
    usable = [d for d in dates if not d.value.startswith("FY")]
    if usable:
        best = min(usable, key=lambda d: min(abs(d.start - pos), abs(d.end - pos)))
        return best.value, "text"
    return (published, "published") if published else ("", "")


def _best_date(query: ClaimQuery, text: str, mentions: Sequence[DateMention]) -> DateMention:
    """The date that answers the question: one tied to an end («بحلول») or start («منذ») cue when the
    question asks about an end or a start, else the one nearest to the event word."""
    folded, where = fold(text)
    events = [where[x.start()] for k in query.events for x in _EVENT_RES[k].finditer(folded)]

    def score(m: DateMention) -> tuple[int, int]:
        before = fold(text[max(0, m.start - 16) : m.start])[0]
        cue = 0
        if "end" in query.events and (_END_CUES.search(before) or m.qualifier == "late"):
            cue = -1
        if "start" in query.events and _START_CUES.search(before):
            cue = -1
        return cue, min((abs(m.start - e) for e in events), default=m.start)

    return min(mentions, key=score)


def _claim(query: ClaimQuery, sides: Sequence[_Side]) -> str:
    """A short label for what is disputed, from the question (e.g. ``How many US troops are in Iraq``)."""
    return re.sub(r"\s+", " ", query.text).strip().rstrip("?؟").strip()


def sentence_evidence(
    article: Article, start: int, end: int, *, n: int, chunk_id: str = "", score: float = 0.0
) -> Evidence:
    """An :class:`Evidence` record for ``article.text[start:end]`` (tools and tests build evidence this way)."""
    return Evidence(
        n=n,
        doc_id=article.doc_id,
        chunk_id=chunk_id,
        title=article.title,
        text=article.text[start:end],
        start=start,
        end=end,
        score=score,
        published=article.published,
        source=article.source,
    )


__all__ = ["ClaimQuery", "ConflictDetector", "sentence_evidence"]
