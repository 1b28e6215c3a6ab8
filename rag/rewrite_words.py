"""The words the follow-up rules read (:mod:`rag.rewrite_rules`): pronouns, fillers, lead-ins, question shapes.

* pronouns and demonstratives, English and Arabic, split by what they point at (a person: he, هو; a
  thing or a subject: it, that, ذلك, هم);
* :data:`FILLER`: the words that only make a question ("and", "how many", «وكم», «ماذا عن»): what is
  left of a follow-up without them says whether it names a subject of its own;
* lead-ins ("And", "What about …?", «وماذا عن …؟») and years;
* the shapes of a question's subject («كم عدد …», "How many … are", «من التقى …») and the heads of a
  definite reference («the fund», «اللجنة») that the previous question may have named in full.

Data, like the prompts in :mod:`rag.prompts`: a module of its own so that the rules stay under ~400
lines and read as rules; a word is added here when a rule in :mod:`rag.rewrite_rules` misses it.
"""

from __future__ import annotations

import re

from rag.dates import fold

# Pronouns and demonstratives: a person's (he, هو), or a thing's or a subject's (it, that, ذلك, هم).
EN_PRONOUNS_PERSON = ("he", "him", "his", "she", "her", "hers")
EN_PRONOUNS_THING = ("it", "its", "that", "this", "they", "them", "their", "those", "these", "there")
AR_DEMONSTRATIVES = ("ذلك", "هذا", "هذه", "تلك", "هؤلاء", "ذاك", "هذان", "هاتان")
AR_PRONOUNS_PERSON = ("هو", "هي")
AR_PRONOUNS_THING = ("هم", "هن")
# Words that only make a question: what remains when these are removed says whether it has a subject.
FILLER = {
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
# Lead-ins a follow-up starts with ("And", "What about", «وماذا عن»), and years.
EN_LEAD = re.compile(r"^\s*(?:and|but|so|also|then|ok(?:ay)?|well)\s*,?\s+", re.I)
WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+", re.I)
AR_WHAT_ABOUT = re.compile(r"^\s*و?(?:ماذا|ما)\s+(?:عن|بشأن|بخصوص)\s+")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# A question's shape: the question words before its subject; a question word and verb with no subject
# («ومن التقى»); the counted thing of a how-many question ("US troops", «الجنود الأمريكيين»).
EN_SUBJECT = re.compile(
    r"^(?:what|which|who|whom|when|where|why|how(?:\s+many|\s+much|\s+long|\s+far|\s+often)?)\s+"
    r"(?:(?:is|are|was|were|did|does|do|will|would|can|has|have|had)\s+)?(?:the\s+name\s+of\s+)?",
    re.I,
)
AR_SUBJECT = re.compile(r"^(?:ما|ماذا|من|متى|أين|اين|كم|كيف|لماذا|هل|بكم)\s+(?:هو|هي|هم|عدد|اسم|قيمة)?\s*")
AR_WH_VERB = re.compile(r"^[وف]?(?:من|متى|أين|اين|ماذا|لماذا|كيف|مع من|بمن)\s+\S+")
EN_COUNTED = re.compile(
    r"^how\s+(?:many|much)\s+(.+?)\s+(?:are|is|was|were|did|does|do|will|would|has|have|had|can)\b", re.I
)
AR_COUNTED = re.compile(r"^و?كم\s+(?:عدد\s+)?(\S+(?:\s+ال\S+)?)")

# Heads of a definite reference («the fund», «اللجنة»); in Arabic, with the stem a full name holds.
HEADS_EN = (
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
HEADS_AR = {
    "الصندوق": "صندوق",
    "القاعدة": "قاعدة",
    "اللجنة": "لجنة",
    "الاتفاقية": "اتفاقية",
    "الحوار": "حوار",
    "العملية": "عملية",
    "الحملة": "حملة",
}
