"""Numbers and names in an answer that its cited sentences do not contain: the "must be 0" metric of #11.

An answer sentence is *grounded* when every number it states and every name it writes in the
source's script occurs in a sentence it cites: the :class:`~rag.answer_types.Citation` quote and the
:class:`~rag.answer_types.Evidence` sentence behind each ``[n]`` of that sentence. What is checked:

* **numbers**, in any answer: digit sequences after normalisation (Arabic-Indic digits folded,
  thousands separators dropped, decimals kept), compared with digit boundaries, so ``2,500``
  matches ``2500`` and ``500`` does not match inside ``2500``. Number words ("three", «ثلاثة») are
  not numbers here;
* **Arabic names in English answers**: each run of Arabic-script words (the original spelling the
  answer gives beside a name, e.g. "Celeste Wallander (سيليست والاندر)") must occur in the cited
  sentences word by word (normalised, a leading و/ال/ب/ل/ف allowed to differ);
* **Latin-script names in Arabic answers** (e.g. ``CJTF-OIR``): each must occur in the cited sentences.

What is not checked: an Arabic name invented inside an Arabic answer (telling a name from any
other Arabic word needs a name tagger the project does not have) and English names with no
Arabic original beside them; the citation checker and the accepted-answer scores cover those.
A sentence that cites nothing has nothing to rest on: all its numbers and names count. Sentences the
citation checker removed from the answer are not counted (the user never reads them); each sentence
is read by the rules of its own script, whatever the question's language.

Pure functions over plain values and :class:`~rag.answer_types.Answer` records; no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.answer_types import Answer
from rag.textnorm import normalize_arabic

_MARKER = re.compile(r"\[\s*[0-9\u0660-\u0669]+(?:\s*[,،]\s*[0-9\u0660-\u0669]+)*\s*\]")
_THOUSANDS = re.compile(r"(?<=\d)[,،٬](?=\d{3}(?!\d))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ARABIC_RUN = re.compile(r"[\u0600-\u06ff\u0750-\u077f]+(?:[\s\u200c\u200f]+[\u0600-\u06ff\u0750-\u077f]+)*")
_ARABIC_WORD = re.compile(r"[\u0600-\u06ff\u0750-\u077f]+")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_CLITICS = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف")


@dataclass(frozen=True)
class Ungrounded:
    """A number or name of an answer sentence that none of its cited sentences contains."""

    sentence: int  # index in Answer.sentences (or 0 when the answer has no sentence checks)
    kind: str  # "number" or "name"
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"sentence": self.sentence, "kind": self.kind, "text": self.text}


def numbers(text: str) -> list[str]:
    """The numbers written in ``text`` as canonical digit strings (citation markers ignored).

    Example:
        >>> numbers("نحو ٢٬٥٠٠ جندي و1.5 مليار [2]")
        ['2500', '1.5']
    """
    text = _THOUSANDS.sub("", normalize_arabic(_MARKER.sub(" ", text)))
    return [n if "." in n else (n.lstrip("0") or "0") for n in _NUMBER.findall(text)]


def _strip_clitic(word: str) -> str:
    for c in _CLITICS:
        if word.startswith(c) and len(word) - len(c) >= 2:
            return word[len(c) :]
    return word


def _arabic_words(text: str) -> set[str]:
    words = _ARABIC_WORD.findall(normalize_arabic(text))
    return set(words) | {_strip_clitic(w) for w in words}


def names(text: str, lang: str) -> list[str]:
    """The names ``text`` writes in the other script: Arabic-script runs in English text, Latin-script
    words in Arabic text (citation markers ignored).

    Example:
        >>> names("It was Celeste Wallander (سيليست والاندر) [2].", "en")
        ['سيليست والاندر']
        >>> names("قوة المهام المشتركة CJTF-OIR [1]", "ar")
        ['CJTF-OIR']
    """
    text = _MARKER.sub(" ", text)
    if lang == "en":
        return [m.group(0).strip() for m in _ARABIC_RUN.finditer(text)]
    return [m.group(0) for m in _LATIN_NAME.finditer(text) if sum(ch.isalpha() for ch in m.group(0)) >= 2]


def _name_in(name: str, sources: Sequence[str], lang: str) -> bool:
    if lang == "en":  # an Arabic run: every word (or its form without a leading clitic) in one cited sentence
        words = [normalize_arabic(w) for w in _ARABIC_WORD.findall(name)]
        for source in sources:
            pool = _arabic_words(source)
            if all(w in pool or _strip_clitic(w) in pool for w in words):
                return True
        return False
    folded = name.lower()
    return any(folded in source.lower() for source in sources)


def ungrounded_in(sentence: str, sources: Sequence[str], lang: str, index: int = 0) -> list[Ungrounded]:
    """The numbers and names of one answer sentence that none of ``sources`` (its cited sentences) contains."""
    pool = {n for s in sources for n in numbers(s)}
    found = [Ungrounded(index, "number", n) for n in dict.fromkeys(numbers(sentence)) if n not in pool]
    found += [
        Ungrounded(index, "name", n) for n in dict.fromkeys(names(sentence, lang)) if not _name_in(n, sources, lang)
    ]
    return found


def cited_sources(answer: Answer, cited: Iterable[int]) -> list[str]:
    """The sentences behind citation numbers ``cited``: each Citation's quote and each Evidence's text."""
    wanted = set(cited)
    out = [c.quote for c in answer.citations if c.n in wanted and c.quote]
    out += [e.text for e in answer.evidence if e.n in wanted and e.text]
    return out


def script_of(text: str) -> str:
    """``"ar"`` when Arabic letters outnumber Latin ones, else ``"en"``: which rules a sentence is read by
    (an English question answered in Arabic is read as Arabic)."""
    arabic = len(_ARABIC_WORD.findall(text))
    latin = len(_LATIN_NAME.findall(text))
    return "ar" if arabic >= latin and arabic else "en"


def _flat(text: str) -> str:
    return " ".join(_MARKER.sub(" ", text).split()).strip(" .،؛,;:!?؟")


def shown(sentence: str, answer_text: str) -> bool:
    """Whether a checked sentence is still in the answer the user sees (markers and spacing aside)."""
    core = _flat(sentence)
    return bool(core) and core in _flat(answer_text)


def ungrounded(answer: Answer) -> list[Ungrounded]:
    """Every number or name of a (not refused) answer absent from the sentences its sentence cites.

    Uses ``answer.sentences`` (the checker's split, with each sentence's citation numbers), keeping
    those the user sees: verified ones, and any other still in ``answer.answer`` (a sentence the
    checker removed is not an answer the user reads). An answer without sentence checks is read as
    one sentence citing all its citations. A refusal has none.
    """
    if answer.refused or not answer.answer.strip():
        return []
    if answer.sentences:
        found: list[Ungrounded] = []
        for i, s in enumerate(answer.sentences):
            if s.supported or shown(s.text, answer.answer):
                found += ungrounded_in(s.text, cited_sources(answer, s.cited), script_of(s.text), i)
        return found
    text = answer.answer
    return ungrounded_in(text, cited_sources(answer, [c.n for c in answer.citations]), script_of(text), 0)


__all__ = ["Ungrounded", "cited_sources", "names", "numbers", "script_of", "shown", "ungrounded", "ungrounded_in"]
