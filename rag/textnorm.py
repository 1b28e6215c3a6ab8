"""Arabic normalisation and tokenisation for *matching* (BM25, citation checks), never for display.

One normaliser serves every matcher, so a query, a passage and an answer sentence are
compared in the same form: diacritics and tatweel removed, alef forms unified, ى→ي and
ة→ه folded, Arabic-Indic digits turned into ASCII, Latin lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = "ar-norm-1"
TOKENIZER_VERSION = "ar-light-stem-1"

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic (Persian) digits
        "٫": ".",
        "٬": ",",
        "،": ",",
        "؛": ";",
        "؟": "?",
    }
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Light stemming in the spirit of Larkey's "light10": strip the common proclitics and
# suffixes so that والقوات / القوات / قوات meet. Longest affix first; a minimum stem
# length keeps short words intact.
_PREFIXES = ("وبال", "وال", "بال", "كال", "فال", "لل", "ال", "و")
_SUFFIXES = ("هما", "ات", "ان", "ون", "ين", "ها", "يه", "يا", "ه", "ي")
_MIN_STEM = 3

# Function words that carry no topic (already in normalised form).
STOPWORDS = frozenset(
    [
        "في",
        "من",
        "علي",
        "الي",
        "عن",
        "مع",
        "ان",
        "او",
        "و",
        "ثم",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "التي",
        "الذي",
        "الذين",
        "كان",
        "كانت",
        "قد",
        "لا",
        "ما",
        "لم",
        "لن",
        "هو",
        "هي",
        "هم",
        "بين",
        "حيث",
        "كما",
        "بعد",
        "قبل",
        "عند",
        "اي",
        "كل",
        "غير",
        "ايضا",
        "حول",
        "خلال",
        "منذ",
        "حتي",
        "اذا",
        "لقد",
        "وقد",
        "وفي",
        "ومن",
        "به",
        "بها",
        "له",
        "لها",
        "فيه",
        "فيها",
        "منها",
        "عليه",
        "عليها",
        "الا",
        "انه",
        "انها",
        "بان",
        "وان",
        "كل",
        "هل",
        "كم",
        "ماذا",
        "متي",
        "اين",
        "كيف",
        "لماذا",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "why",
        "did",
        "does",
        "do",
        "has",
        "have",
        "had",
        "it",
        "its",
        "their",
        "his",
        "her",
        "they",
        "he",
        "she",
        "not",
    ]
)


def normalize_arabic(text: str) -> str:
    """Return ``text`` in matching form (same length is NOT guaranteed; never use for offsets)."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_FOLD).lower()


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or digit once diacritics and tatweel are set aside.

    Text made only of diacritics, tatweel (ـ, a letter to Unicode), punctuation or symbols
    has nothing to search or read.

    Example:
        >>> has_words("ـــ ً ٌ ٍ ..."), has_words("ب")
        (False, True)
    """
    return bool(_TOKEN.search(_DIACRITICS.sub("", text).replace(_TATWEEL, "")))


def light_stem(token: str) -> str:
    """Strip one common Arabic prefix and one suffix from a normalised token."""
    if not ("\u0600" <= token[:1] <= "\u06ff"):
        return token
    for p in _PREFIXES:
        if token.startswith(p) and len(token) - len(p) >= _MIN_STEM:
            token = token[len(p) :]
            break
    for s in _SUFFIXES:
        if token.endswith(s) and len(token) - len(s) >= _MIN_STEM:
            token = token[: -len(s)]
            break
    return token


def tokenize(text: str, *, stem: bool = True, drop_stopwords: bool = True) -> list[str]:
    """Normalise and split into word tokens, keeping Arabic, Latin and digits.

    Example:
        >>> tokenize("وأكد الرئيسُ أن القوات العراقية")
        ['اكد', 'رييس', 'قوات', 'عراق']
    """
    tokens = _TOKEN.findall(normalize_arabic(text))
    if drop_stopwords:
        tokens = [t for t in tokens if t not in STOPWORDS]
    if stem:
        tokens = [light_stem(t) for t in tokens]
    return tokens


def content_words(text: str) -> list[str]:
    """Unstemmed normalised tokens without stopwords (used by citation checks)."""
    return tokenize(text, stem=False, drop_stopwords=True)
