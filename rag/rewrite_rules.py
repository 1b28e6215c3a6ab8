"""Follow-up questions made self-contained by rules: :class:`RuleRewriter` (no model, a few microseconds).

It reads the previous turn (:mod:`rag.conversation` says what a follow-up is and why it is rewritten):

* **substitution** — an elliptic follow-up that names a new place, person, organisation or year
  («وفي سوريا؟», "What about Syria?", "And how many in Syria?", "And in 2021?") takes the previous
  question and puts the new entity where the previous one of the same kind stood (a nationality
  replaces a nationality: "What about the British?" turns "US troops" into "British troops"); with
  nothing of that kind to replace, it is added;
* **reference** — a pronoun or demonstrative («ذلك», «هذا», «هو», "it", "that", "he", "they") is
  replaced by what it points at: a person named in the previous answer or question for he/she/هو/هي,
  else the previous question's subject ("When will that end?" → "When will the coalition's mission in
  Iraq end?");
* **context** — a follow-up that names nothing («وكم عددهم؟», "Why?") gets the previous question's
  subject added in brackets, so retrieval still finds the story.

A question that names its own subject is left as it is (a leading "And"/«و» aside). The words the
rules read are in :mod:`rag.rewrite_words`; the :class:`~rag.answer_types.Rewrite` they return is a
record of :mod:`rag.answer_types`. :class:`~rag.conversation.ModelRewriter` falls back to these rules.

Example:
    >>> turns = (Turn("How many US troops are in Iraq?", "About 2,500 [1]."),)
    >>> RuleRewriter().run("And how many in Syria?", turns).question
    'How many US troops are in Syria?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from rag.answer_types import Rewrite, Turn
from rag.dates import fold
from rag.entities import BY_KEY, EntityMention, find_entities
from rag.rewrite_words import (
    AR_COUNTED,
    AR_DEMONSTRATIVES,
    AR_PRONOUNS_PERSON,
    AR_PRONOUNS_THING,
    AR_SUBJECT,
    AR_WH_VERB,
    AR_WHAT_ABOUT,
    EN_COUNTED,
    EN_LEAD,
    EN_PRONOUNS_PERSON,
    EN_PRONOUNS_THING,
    EN_SUBJECT,
    FILLER,
    HEADS_AR,
    HEADS_EN,
    WHAT_ABOUT,
    YEAR,
)
from rag.textnorm import tokenize


def language_of(text: str) -> Literal["ar", "en"]:
    """``"ar"`` when Arabic letters are at least as many as Latin ones (so also for no letters), else ``"en"``."""
    arabic = len(re.findall(r"[\u0600-\u06ff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "ar" if arabic >= latin else "en"


def _is_adjectival(mention: EntityMention) -> bool:
    """«الأمريكيين», "British", "US troops": a nationality written as an adjective, not the country itself."""
    t = fold(mention.text)[0]
    if mention.text.isascii():
        return bool(re.search(r"(?:ish|ian|ese|an|i)$", mention.text)) or mention.text.replace(".", "") in ("US", "UK")
    return bool(re.search(r"(?:ي|يه|يين|يون)$", t)) and not t.endswith("سوريا")


def _bare(surface: str) -> str:
    """An entity's words without a leading و/ف clitic."""
    return re.sub(r"^[وف](?=[\u0621-\u064a]{3,})", "", surface.strip())


def _person_in(text: str) -> EntityMention | None:
    people = list(find_entities(text, ("person",)))
    return people[0] if people else None


def _subject(question: str) -> str:
    """The previous question's subject: the question with its question words and mark removed."""
    q = question.strip().rstrip("?؟").strip()
    if language_of(q) == "en":
        return EN_SUBJECT.sub("", q).strip()
    return AR_SUBJECT.sub("", q).strip()


def _referent(question: str, lang: str, plural: bool) -> str:
    """What "it"/"they"/«هم» most likely points at in the previous question: for "they", the counted thing
    of a how-many question ("US troops"); for "it", an organisation it names ("the coalition"); else its
    subject."""
    q = question.strip().rstrip("?؟").strip()
    counted = (EN_COUNTED if lang == "en" else AR_COUNTED).match(q)
    orgs = list(find_entities(q, ("org",))) if lang == "en" else []
    org = ""
    if orgs:
        m = orgs[-1]
        org = ("the " if q[max(0, m.start - 4) : m.start].lower() == "the " else "") + m.text
    if plural and counted:
        return counted.group(1)
    if not plural and org:
        return org
    return (counted.group(1) if counted else "") or org or _subject(q)


def _content(text: str) -> set[str]:
    """Content stems of a question (question words, fillers and entities removed)."""
    stripped = text
    for m in sorted(find_entities(text), key=lambda m: -m.start):
        stripped = stripped[: m.start] + " " + stripped[m.end :]
    stripped = YEAR.sub(" ", stripped)
    words = [re.sub(r"(?<=...)(?:هما|هم|ها|هن)$", "", w) for w in re.findall(r"[^\W\d_]+", fold(stripped)[0])]
    words = [w for w in words if w not in FILLER]
    return {t for t in tokenize(" ".join(words)) if len(t) > 1}


class RuleRewriter:
    """Makes a follow-up self-contained from the previous turn, by rules (see the module docstring).

    Example:
        >>> RuleRewriter().run("When will that end?", (Turn("What is the coalition's mission in Iraq?"),)).question
        "When will the coalition's mission in Iraq end?"
    """

    def run(self, question: str, history: Sequence[Turn]) -> Rewrite:
        original = question
        question = " ".join(question.split())
        if not history or not question:
            return Rewrite(original, question)
        prev = history[-1]
        prev_q = prev.standalone
        lang = language_of(question)
        if language_of(prev_q) != lang:
            return Rewrite(original, question)  # a switch of language starts afresh
        mark = "؟" if lang == "ar" else "?"
        core = question.rstrip("?؟ ").strip()
        what_about = WHAT_ABOUT.match(core) if lang == "en" else AR_WHAT_ABOUT.match(core)
        if what_about:
            core = core[what_about.end() :]
        core = EN_LEAD.sub("", core) if lang == "en" else core
        new_ents = [m for m in find_entities(core) if m.type in ("place", "person", "org")]
        new_years = YEAR.findall(core)
        content = _content(core)
        prev_content = _content(prev_q)
        elliptic = bool(what_about) or not (content - prev_content)
        # 1. an Arabic question word and verb with no subject, after an answer that names a person
        #    («ومن التقى في البنتاغون؟» after an answer naming السوداني)
        person = _person_in(prev.answer) or _person_in(prev_q)
        if (
            lang == "ar"
            and person is not None
            and not any(m.type == "person" for m in new_ents)
            and AR_WH_VERB.match(core)
            and len(core.split()) <= 6
        ):
            body = _strip_lead(core, lang)
            return Rewrite(original, f"{body} ({_display(person, lang)}){mark}", "rules", "context")
        # 2. substitution: an elliptic follow-up naming a new entity or year
        if elliptic and (new_ents or new_years):
            out = self._substitute(prev_q, new_ents, new_years, lang)
            if out:
                return Rewrite(original, out, "rules", "substitution")
        # 3. reference: a pronoun, a demonstrative, or «the fund» for the fund the previous question named
        ref = self._reference(core, prev, lang)
        if ref:
            return Rewrite(original, _finish(ref, mark), "rules", "reference")
        # 4. context: a follow-up that names nothing of its own
        if not new_ents and not new_years and (elliptic or len(content) <= 2) and find_entities(prev_q):
            subject = _subject(prev_q)
            body = _strip_lead(core, lang)
            if subject and fold(subject)[0] not in fold(body)[0]:
                return Rewrite(original, f"{body} ({subject}){mark}", "rules", "context")
        cleaned = _finish(_strip_lead(core if not what_about else question.rstrip("?؟ "), lang), mark)
        return Rewrite(original, cleaned if cleaned != question else question)

    @staticmethod
    def _substitute(prev_q: str, new_ents: list[EntityMention], new_years: list[str], lang: str) -> str:
        out = prev_q.rstrip("?؟ ").strip()
        mark = "؟" if lang == "ar" else "?"
        prev_ents = [m for m in find_entities(out) if m.type in ("place", "person", "org")]
        changed = False
        for new in new_ents:
            if any(p.key == new.key for p in prev_ents):
                continue
            same = [p for p in prev_ents if p.type == new.type]
            if new.type == "place" and same:
                adj = _is_adjectival(new)
                same = [p for p in same if _is_adjectival(p) == adj] or same[-1:]
            if same:
                target = same[0] if new.type == "place" and _is_adjectival(new) else same[-1]
                repl = _bare(new.text)
                if lang == "ar" and target.text[:1] in "بلو" and not repl.startswith(("ب", "ل")):
                    lead = re.match(r"^(?:و?[بل]?)(?=ال|[^\s])", target.text)
                    prefix = lead.group() if lead and lead.group() and not fold(target.text)[0].startswith("ال") else ""
                    repl = prefix + repl
                out = out[: target.start] + repl + out[target.end :]
                prev_ents = [m for m in find_entities(out) if m.type in ("place", "person", "org")]
            else:
                out += (" في " if lang == "ar" else " in ") + _bare(new.text)
            changed = True
        for year in new_years:
            old = YEAR.findall(out)
            if old:
                out = out.replace(old[-1], year)
            else:
                out += (" في عام " if lang == "ar" else " in ") + year
            changed = True
        return out + mark if changed else ""

    @staticmethod
    def _reference(core: str, prev: Turn, lang: str) -> str:
        body = _strip_lead(core, lang)
        head = _definite_head(body, prev.standalone, lang)
        if head:
            return head
        words = body.split()
        changed = False
        person = _person_in(prev.answer) or _person_in(prev.standalone)
        places = [m for m in find_entities(prev.standalone, ("place",)) if not _is_adjectival(m)]
        for i, word in enumerate(words):
            w = word.lower().strip(",.") if lang == "en" else fold(word)[0].strip(",.،")
            tail = word[len(word.rstrip(",.،")) :]
            if (lang == "en" and w in EN_PRONOUNS_PERSON) or (lang == "ar" and w in AR_PRONOUNS_PERSON):
                if person is None:
                    continue
                words[i] = _display(person, lang) + ("'s" if w in ("his", "her") else "") + tail
                changed = True
            elif lang == "en" and w == "there":
                if places:
                    words[i] = ("" if i > 0 and words[i - 1].lower() == "in" else "in ") + places[-1].text + tail
                    changed = True
            elif (lang == "en" and w in EN_PRONOUNS_THING) or (
                lang == "ar" and (w in AR_DEMONSTRATIVES or w in AR_PRONOUNS_THING)
            ):
                plural = w in ("they", "them", "their", "those", "these", "هم", "هن", "هؤلاء")
                demonstrative = w in ("that", "this", "ذلك", "هذا", "هذه", "تلك")
                referent = _subject(prev.standalone) if demonstrative else _referent(prev.standalone, lang, plural)
                if not referent or (lang == "en" and referent.split()[0].islower() and referent.split()[0] != "the"):
                    continue  # "led the American side": a clause, not a noun phrase
                words[i] = referent + ("'s" if w in ("its", "their") else "") + tail
                changed = True
        if not changed:
            return ""
        out = " ".join(words)
        if lang == "en":  # "Why are US troops are in Iraq": drop a verb the referent already carried
            out = re.sub(r"\b(are|is|was|were) ([\w' -]+?) \1\b", r"\1 \2", out)
        return out


def _definite_head(body: str, prev_q: str, lang: str) -> str:
    """«the fund» → "the Counter-ISIS Train and Equip Fund" when the previous question named it in full."""
    named = [m for m in find_entities(prev_q) if m.type in ("org", "place")]
    if lang == "en":
        m = re.search(r"\bthe (" + "|".join(HEADS_EN) + r")\b", body, re.I)
        if not m:
            return ""
        full = next((e for e in named if m.group(1).lower() in e.text.lower()), None)
        if full is None or full.text.lower() == m.group(1).lower():
            return ""
        return body[: m.start()] + "the " + full.text + body[m.end() :]
    for word, stem in HEADS_AR.items():
        at = fold(body)[0].find(fold(word)[0])
        if at < 0:
            continue
        full = next((e for e in named if fold(stem)[0] in fold(e.text)[0]), None)
        folded_body, where = fold(body)
        if full is None or fold(full.text)[0] in folded_body:
            continue
        start, end = where[at], where[at + len(fold(word)[0]) - 1] + 1
        return body[:start] + full.text + body[end:]
    return ""


def _display(person: EntityMention, lang: str) -> str:
    entry = BY_KEY.get(person.key)
    if entry is None:
        return person.text
    forms = entry.en if lang == "en" else entry.ar
    plain = [f for f in forms if "'" not in f] or list(forms)
    return max(plain, key=len) if plain else person.text


def _strip_lead(core: str, lang: str) -> str:
    if lang == "en":
        out = EN_LEAD.sub("", core).strip()
        return out[:1].upper() + out[1:]
    # «ومتى» → «متى», «وكم» → «كم»: only a clitic و before a question word or a demonstrative
    m = re.match(r"^[وف]((?:كم|متى|من|أين|اين|ما|ماذا|لماذا|كيف|هل|أي|اي|في|هل|ذلك|هذا|هذه)(?:\s|$))", core)
    return core[1:] if m else core


def _finish(text: str, mark: str) -> str:
    text = text.strip().rstrip("?؟").strip()
    return f"{text}{mark}"


__all__ = ["RuleRewriter", "language_of"]
