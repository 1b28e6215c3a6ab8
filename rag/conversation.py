"""Follow-up questions made self-contained before retrieval, by rules or by the model.

A reader working on a story asks "How many US troops are in Iraq?", then "And how many in Syria?",
then «ومتى سينتهي ذلك؟». Retrieval and evidence selection read one question at a time, so each
follow-up is first rewritten into the question it stands for ("How many US troops are in Syria?"),
and that rewritten question is what is answered and what the user is shown.

:class:`RuleRewriter` (the default; no model, a few microseconds) reads the previous turn:

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

A question that names its own subject is left as it is (a leading "And"/«و» aside).

:class:`ModelRewriter` asks the LLM for the standalone question instead (one short prompt) and falls
back to the rules when the model's output is empty, in the wrong language, or drops the question's
own entities. ``sanad eval --suite followups`` scores both (``--rewrite rules|model``).

One module past the house's ~400 lines on purpose: over a third of it is the rule rewriter's word lists,
private to the rules that read them and changed with them, and the model rewriter falls back to those rules.

Example:
    >>> turns = (Turn("How many US troops are in Iraq?", "About 2,500 [1]."),)
    >>> RuleRewriter().run("And how many in Syria?", turns).question
    'How many US troops are in Syria?'
    >>> RuleRewriter().run("وفي سوريا؟", (Turn("كم عدد الجنود الأمريكيين في العراق؟"),)).question
    'كم عدد الجنود الأمريكيين في سوريا؟'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rag.answer_types import History, Turn
from rag.dates import fold
from rag.entities import BY_KEY, EntityMention, find_entities
from rag.errors import InputError, SanadError
from rag.textnorm import tokenize

logger = logging.getLogger(__name__)

RewriteMethod = Literal["none", "rules", "model"]
REWRITE_MODES = ("rules", "model", "off")

#: The prompt the model rewrites with (data, like the prompts in rag/prompts.py).
REWRITE_SYSTEM = (
    "You rewrite a follow-up question so that it can be understood without the conversation. "
    "Replace pronouns and fill in what the follow-up leaves out from the previous question. "
    "Keep the follow-up's language (Arabic stays Arabic, English stays English) and its meaning. "
    "Reply with the rewritten question only."
)
REWRITE_USER = "Conversation:\n{history}\nFollow-up: {question}\nStandalone question:"


@dataclass(frozen=True)
class Rewrite:
    """A question as asked and the self-contained question it stands for.

    Attributes:
        original: the question as the user typed it.
        question: the self-contained question to retrieve and answer with (``original`` when unchanged).
        method: ``none`` (left as it was), ``rules`` or ``model``.
        reason: what the rules did (``substitution``, ``reference``, ``context``), for display and logs.
    """

    original: str
    question: str
    method: RewriteMethod = "none"
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.question.strip() != self.original.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "question": self.question,
            "method": self.method,
            "reason": self.reason,
            "changed": self.changed,
        }


class Rewriter(Protocol):
    def run(self, question: str, history: Sequence[Turn]) -> Rewrite: ...


def language_of(text: str) -> Literal["ar", "en"]:
    arabic = len(re.findall(r"[\u0600-\u06ff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "ar" if arabic >= latin else "en"


# -- vocabulary -----------------------------------------------------------------------------------
_AR_QWORDS = (
    "كم",
    "متى",
    "من",
    "أين",
    "اين",
    "ما",
    "ماذا",
    "لماذا",
    "كيف",
    "هل",
    "أي",
    "اي",
    "بكم",
    "لمن",
    "بمن",
    "مع",
)
_EN_QWORDS = (
    "how",
    "when",
    "who",
    "whom",
    "whose",
    "where",
    "what",
    "which",
    "why",
    "is",
    "are",
    "was",
    "were",
    "did",
    "does",
    "do",
    "will",
    "can",
    "could",
    "has",
    "have",
)
_EN_PRONOUNS_PERSON = ("he", "him", "his", "she", "her", "hers")
_EN_PRONOUNS_THING = ("it", "its", "that", "this", "they", "them", "their", "those", "these", "there")
_AR_DEMONSTRATIVES = ("ذلك", "هذا", "هذه", "تلك", "هؤلاء", "ذاك", "هذان", "هاتان")
_AR_PRONOUNS_PERSON = ("هو", "هي")
_AR_PRONOUNS_THING = ("هم", "هن")
# Words that only make a question: what remains when these are removed says whether it has a subject.
_FILLER = {
    fold(w)[0]
    for w in [
        "و",
        "ف",
        "في",
        "من",
        "الى",
        "إلى",
        "على",
        "عن",
        "مع",
        "ماذا",
        "وماذا",
        "عن",
        "ما",
        "هو",
        "هي",
        "هم",
        "كم",
        "وكم",
        "متى",
        "ومتى",
        "من",
        "ومن",
        "أين",
        "وأين",
        "اين",
        "واين",
        "لماذا",
        "ولماذا",
        "كيف",
        "وكيف",
        "هل",
        "وهل",
        "أي",
        "اي",
        "عدد",
        "ذلك",
        "هذا",
        "هذه",
        "تلك",
        "أيضا",
        "ايضا",
        "إذن",
        "اذن",
        "بالنسبة",
    ]
} | {
    "and",
    "what",
    "about",
    "how",
    "many",
    "much",
    "in",
    "on",
    "at",
    "of",
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "did",
    "does",
    "do",
    "will",
    "when",
    "who",
    "where",
    "why",
    "which",
    "there",
    "then",
    "so",
    "also",
    "for",
    "to",
    "by",
    "it",
    "that",
    "this",
    "they",
    "them",
    "he",
    "she",
    "his",
    "her",
    "its",
    "their",
    "those",
    "these",
    "with",
    "year",
    "say",
    "says",
    "said",
    "else",
    "more",
    "number",
}
_EN_LEAD = re.compile(r"^\s*(?:and|but|so|also|then|ok(?:ay)?|well)\s*,?\s+", re.I)
_AR_LEAD = re.compile(r"^\s*(?:و|ف)(?=\S)")
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+", re.I)
_AR_WHAT_ABOUT = re.compile(r"^\s*و?(?:ماذا|ما)\s+(?:عن|بشأن|بخصوص)\s+")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_EN_SUBJECT = re.compile(
    r"^(?:what|which|who|whom|when|where|why|how(?:\s+many|\s+much|\s+long|\s+far|\s+often)?)\s+"
    r"(?:(?:is|are|was|were|did|does|do|will|would|can|has|have|had)\s+)?(?:the\s+name\s+of\s+)?",
    re.I,
)
_AR_SUBJECT = re.compile(r"^(?:ما|ماذا|من|متى|أين|اين|كم|كيف|لماذا|هل|بكم)\s+(?:هو|هي|هم|عدد|اسم|قيمة)?\s*")


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
        return _EN_SUBJECT.sub("", q).strip()
    return _AR_SUBJECT.sub("", q).strip()


_AR_WH_VERB = re.compile(r"^[وف]?(?:من|متى|أين|اين|ماذا|لماذا|كيف|مع من|بمن)\s+\S+")
_EN_COUNTED = re.compile(
    r"^how\s+(?:many|much)\s+(.+?)\s+(?:are|is|was|were|did|does|do|will|would|has|have|had|can)\b", re.I
)
_AR_COUNTED = re.compile(r"^و?كم\s+(?:عدد\s+)?(\S+(?:\s+ال\S+)?)")


def _referent(question: str, lang: str, plural: bool) -> str:
    """What "it"/"they"/«هم» most likely points at in the previous question: for "they", the counted thing
    of a how-many question ("US troops"); for "it", an organisation it names ("the coalition"); else its
    subject."""
    q = question.strip().rstrip("?؟").strip()
    counted = (_EN_COUNTED if lang == "en" else _AR_COUNTED).match(q)
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
    stripped = _YEAR.sub(" ", stripped)
    words = [re.sub(r"(?<=...)(?:هما|هم|ها|هن)$", "", w) for w in re.findall(r"[^\W\d_]+", fold(stripped)[0])]
    words = [w for w in words if w not in _FILLER]
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
        what_about = _WHAT_ABOUT.match(core) if lang == "en" else _AR_WHAT_ABOUT.match(core)
        if what_about:
            core = core[what_about.end() :]
        core = _EN_LEAD.sub("", core) if lang == "en" else core
        new_ents = [m for m in find_entities(core) if m.type in ("place", "person", "org")]
        new_years = _YEAR.findall(core)
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
            and _AR_WH_VERB.match(core)
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
            old = _YEAR.findall(out)
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
            if (lang == "en" and w in _EN_PRONOUNS_PERSON) or (lang == "ar" and w in _AR_PRONOUNS_PERSON):
                if person is None:
                    continue
                words[i] = _display(person, lang) + ("'s" if w in ("his", "her") else "") + tail
                changed = True
            elif lang == "en" and w == "there":
                if places:
                    words[i] = ("" if i > 0 and words[i - 1].lower() == "in" else "in ") + places[-1].text + tail
                    changed = True
            elif (lang == "en" and w in _EN_PRONOUNS_THING) or (
                lang == "ar" and (w in _AR_DEMONSTRATIVES or w in _AR_PRONOUNS_THING)
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


_HEADS_EN = (
    "fund",
    "base",
    "mission",
    "agreement",
    "committee",
    "commission",
    "coalition",
    "operation",
    "dialogue",
    "delegation",
    "service",
    "campaign",
)
_HEADS_AR = {
    "الصندوق": "صندوق",
    "القاعدة": "قاعدة",
    "اللجنة": "لجنة",
    "الاتفاقية": "اتفاقية",
    "الحوار": "حوار",
    "العملية": "عملية",
    "الحملة": "حملة",
}


def _definite_head(body: str, prev_q: str, lang: str) -> str:
    """«the fund» → "the Counter-ISIS Train and Equip Fund" when the previous question named it in full."""
    named = [m for m in find_entities(prev_q) if m.type in ("org", "place")]
    if lang == "en":
        m = re.search(r"\bthe (" + "|".join(_HEADS_EN) + r")\b", body, re.I)
        if not m:
            return ""
        full = next((e for e in named if m.group(1).lower() in e.text.lower()), None)
        if full is None or full.text.lower() == m.group(1).lower():
            return ""
        return body[: m.start()] + "the " + full.text + body[m.end() :]
    for word, stem in _HEADS_AR.items():
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
        out = _EN_LEAD.sub("", core).strip()
        return out[:1].upper() + out[1:]
    # «ومتى» → «متى», «وكم» → «كم»: only a clitic و before a question word or a demonstrative
    m = re.match(r"^[وف]((?:كم|متى|من|أين|اين|ما|ماذا|لماذا|كيف|هل|أي|اي|في|هل|ذلك|هذا|هذه)(?:\s|$))", core)
    return core[1:] if m else core


def _finish(text: str, mark: str) -> str:
    text = text.strip().rstrip("?؟").strip()
    return f"{text}{mark}"


class ModelRewriter:
    """Asks the LLM for the standalone question; falls back to :class:`RuleRewriter` when its answer is unusable.

    Args:
        generator: a :class:`rag.generators.Generator` (loaded on first use).
        max_turns: how many earlier turns the prompt shows.
        seed: generation seed (temperature 0).
    """

    def __init__(self, generator: Any, *, max_turns: int = 2, seed: int = 0) -> None:
        self.generator = generator
        self.max_turns = max_turns
        self.seed = seed
        self.rules = RuleRewriter()

    def run(self, question: str, history: Sequence[Turn]) -> Rewrite:
        from rag.generators import ChatMessage

        if not history:
            return Rewrite(question, question)
        shown = []
        for turn in list(history)[-self.max_turns :]:
            shown.append(f"Q: {turn.standalone}")
            if turn.answer:
                shown.append(f"A: {' '.join(turn.answer.split())[:300]}")
        messages = (
            ChatMessage("system", REWRITE_SYSTEM),
            ChatMessage("user", REWRITE_USER.format(history="\n".join(shown), question=question)),
        )
        try:
            out = self.generator.generate(messages, max_tokens=60, temperature=0.0, seed=self.seed).text
        except SanadError as exc:
            logger.warning("question rewriting by the model failed, using the rules: %s", exc)
            return self.rules.run(question, history)
        line = next((ln.strip() for ln in out.strip().splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question|question|q)\s*:\s*", "", line, flags=re.I).strip(" \"'«»")
        own = {m.key for m in find_entities(question)}
        if (
            not line
            or language_of(line) != language_of(question)
            or len(line) > 4 * max(len(question), 40)
            or not own <= {m.key for m in find_entities(line)}
        ):
            logger.info("model rewrite %r unusable for %r; using the rules", line, question)
            return self.rules.run(question, history)
        return Rewrite(question, line, "model", "model")


def make_rewriter(mode: str, generator: Any = None) -> Rewriter | None:
    """The rewriter for ``mode`` (``rules``, ``model``, ``off`` → ``None``)."""
    if mode == "off":
        return None
    if mode == "model":
        if generator is None:
            raise SanadError("rewrite mode 'model' needs a generator; use rewrite='rules' or pass one")
        return ModelRewriter(generator)
    if mode == "rules":
        return RuleRewriter()
    raise InputError(f"rewrite mode {mode!r} is not valid; choose one of {', '.join(REWRITE_MODES)}")


def as_history(turns: Any) -> History:
    """Accept turns as :class:`Turn` records, ``{"question", "answer"}`` dicts or ``(question, answer)`` pairs
    (the Gradio chat format), oldest first."""
    out: list[Turn] = []
    for t in turns or ():
        if isinstance(t, Turn):
            out.append(t)
        elif isinstance(t, dict):
            out.append(Turn.from_dict(t))
        elif isinstance(t, (list, tuple)) and len(t) == 2:
            out.append(Turn(question=str(t[0] or ""), answer=str(t[1] or "")))
        else:
            raise InputError(
                f"a history turn must be a Turn, a dict with 'question' and 'answer', or a "
                f"(question, answer) pair; got {type(t).__name__}"
            )
    return tuple(t for t in out if t.question.strip())


__all__ = ["REWRITE_MODES", "ModelRewriter", "Rewrite", "RuleRewriter", "as_history", "language_of", "make_rewriter"]
