"""Evaluation data: the hand-written Q&A file format and the XQuAD benchmark.

* :func:`load_qa` reads ``eval/seeds_qa.jsonl`` or any file in the same format (see
  ``eval/README.md``), checking every line and naming the line of each problem.
* :func:`load_xquad` reads the copy of XQuAD shipped in ``eval/xquad/`` (Arabic and
  English, parallel): the 240 Arabic paragraphs become articles ``xq-<article>-<paragraph>``
  and each of the 1,190 questions is asked in Arabic and, cross-lingually, in English
  with the Arabic paragraph as its gold document.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rag.errors import InputError
from rag.types import Article

LANGS = ("ar", "en")
TYPES = ("factoid", "explanatory", "multi_doc", "unanswerable")
#: What a question asks for (optional field ``answer_type``), also given for unanswerable questions.
ANSWER_TYPES = ("quantity", "date", "person", "place", "organization", "other")
FIELDS = ("id", "question", "lang", "answerable", "gold_doc_ids", "evidence", "answers", "type")
OPTIONAL_FIELDS = ("answer_type",)
XQUAD_FILES = {"ar": "xquad.ar.json", "en": "xquad.en.json"}

T = TypeVar("T")


class DatasetError(InputError):
    """An evaluation file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class QAItem:
    """One evaluation question.

    Attributes:
        id: unique within its suite (XQuAD items are ``<question id>-<lang>``).
        question, lang: the text asked and its language (``ar`` or ``en``).
        answerable: ``False`` when no document holds the answer (a refusal is right).
        gold_doc_ids: the documents that hold the answer.
        evidence: one quote per gold doc (same order), an exact substring of that document.
        answers: accepted answer strings; any one counts.
        type: ``factoid``, ``explanatory``, ``multi_doc`` or ``unanswerable``.
        answer_type: what the question asks for (``quantity``, ``date``, ``person``, ``place``,
            ``organization``, ``other``), or ``""`` when the file does not say.
        evidence_spans: ``(doc_id, start, end)`` of each quote when known in advance
            (XQuAD); otherwise located in the indexed article text at scoring time.
        group: what ties parallel items together (the XQuAD question id); ``id`` otherwise.
    """

    id: str
    question: str
    lang: str
    answerable: bool
    gold_doc_ids: tuple[str, ...]
    evidence: tuple[str, ...]
    answers: tuple[str, ...]
    type: str
    answer_type: str = ""
    evidence_spans: tuple[tuple[str, int, int], ...] | None = None
    group: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence_spans"] = [list(s) for s in self.evidence_spans] if self.evidence_spans else None
        return data


@dataclass(frozen=True)
class Suite:
    """A named set of questions, and the articles to index when the suite brings its own corpus."""

    name: str
    items: tuple[QAItem, ...]
    articles: tuple[Article, ...] = ()
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)


# -- locating the project's eval folder ------------------------------------------------------------
def eval_dir() -> Path:
    """The project's ``eval/`` folder: next to the ``rag`` package in a checkout, else ``./eval``."""
    here = Path(__file__).resolve().parents[2] / "eval"
    if (here / "seeds_qa.jsonl").exists() or (here / "xquad").is_dir():
        return here
    return Path.cwd() / "eval"


# -- the hand-written format ---------------------------------------------------------------------
def _check_record(obj: Any) -> list[str]:
    """Problems with one decoded line (empty list when it is valid)."""
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {type(obj).__name__}"]
    problems: list[str] = []
    missing = [f for f in FIELDS if f not in obj]
    if missing:
        problems.append(f"missing field(s) {', '.join(missing)}")
    extra = sorted(set(obj) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if extra:
        problems.append(
            f"unknown field(s) {', '.join(extra)} (expected {', '.join(FIELDS)}, "
            f"optionally {', '.join(OPTIONAL_FIELDS)})"
        )
    if missing:
        return problems
    for name in ("id", "question"):
        if not isinstance(obj[name], str) or not obj[name].strip():
            problems.append(f"{name!r} must be a non-empty string")
    if obj["lang"] not in LANGS:
        problems.append(f"'lang' is {obj['lang']!r}; use one of {', '.join(LANGS)}")
    if not isinstance(obj["answerable"], bool):
        problems.append(f"'answerable' must be true or false, got {obj['answerable']!r}")
    for name in ("gold_doc_ids", "evidence", "answers"):
        value = obj[name]
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            problems.append(f"{name!r} must be a list of non-empty strings")
    if obj["type"] not in TYPES:
        problems.append(f"'type' is {obj['type']!r}; use one of {', '.join(TYPES)}")
    if "answer_type" in obj and obj["answer_type"] not in ANSWER_TYPES:
        problems.append(f"'answer_type' is {obj['answer_type']!r}; use one of {', '.join(ANSWER_TYPES)}")
    if problems:
        return problems
    if obj["answerable"] != (obj["type"] != "unanswerable"):
        problems.append("'answerable' must be false exactly when 'type' is 'unanswerable'")
    if obj["answerable"]:
        if not obj["gold_doc_ids"]:
            problems.append("an answerable question needs at least one gold_doc_id")
        if not obj["answers"]:
            problems.append("an answerable question needs at least one accepted answer")
    elif obj["gold_doc_ids"] or obj["evidence"] or obj["answers"]:
        problems.append("an unanswerable question must have empty gold_doc_ids, evidence and answers")
    if len(obj["evidence"]) != len(obj["gold_doc_ids"]):
        problems.append(
            f"'evidence' has {len(obj['evidence'])} quote(s) but 'gold_doc_ids' has "
            f"{len(obj['gold_doc_ids'])}; give one quote per gold doc, in the same order"
        )
    if obj["type"] == "multi_doc" and len(set(obj["gold_doc_ids"])) < 2:
        problems.append("a multi_doc question needs at least two different gold_doc_ids")
    return problems


def parse_qa_lines(lines: Sequence[str], source: str = "<qa>") -> list[QAItem]:
    """Parse and validate JSONL lines; raise :class:`DatasetError` listing every bad line."""
    items: list[QAItem] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        problems = _check_record(obj)
        if not problems and obj["id"] in seen:
            problems.append(f"duplicate id {obj['id']!r} (first on line {seen[obj['id']]})")
        if problems:
            label = f" (id {obj['id']!r})" if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""
            errors.extend(f"{source}:{number}{label}: {p}" for p in problems)
            continue
        seen[obj["id"]] = number
        items.append(
            QAItem(
                id=obj["id"],
                question=obj["question"].strip(),
                lang=obj["lang"],
                answerable=obj["answerable"],
                gold_doc_ids=tuple(obj["gold_doc_ids"]),
                evidence=tuple(obj["evidence"]),
                answers=tuple(obj["answers"]),
                type=obj["type"],
                answer_type=obj.get("answer_type", ""),
                group=obj["id"],
            )
        )
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise DatasetError(
            f"{source} has {len(errors)} problem(s); see eval/README.md for the format:\n  " + "\n  ".join(shown)
        )
    if not items:
        raise DatasetError(f"{source} holds no questions; it needs one JSON object per line (see eval/README.md)")
    return items


def load_qa(path: Path | str) -> list[QAItem]:
    """Read a Q&A ``.jsonl`` file in the ``eval/seeds_qa.jsonl`` format.

    Raises:
        DatasetError: the file is missing, not UTF-8, or has bad lines (each named by number).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist; give a .jsonl file of questions (format: eval/README.md)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    return parse_qa_lines(text.splitlines(), source=str(path))


# -- XQuAD ---------------------------------------------------------------------------------------
def xquad_doc_id(article_index: int, paragraph_index: int) -> str:
    return f"xq-{article_index:02d}-{paragraph_index}"


def _read_squad(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; the XQuAD copy ships in eval/xquad/ (see eval/xquad/README.md)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not SQuAD-format JSON with a 'data' list: {exc}") from None
    return data


def load_xquad(folder: Path | str | None = None) -> Suite:
    """Load XQuAD from ``folder`` (default ``eval/xquad``): Arabic paragraphs as articles, questions in ar and en.

    The gold document of a question (in either language) is the Arabic paragraph holding
    the same question id; its evidence is the Arabic gold answer span. Accepted answers
    are the Arabic gold answers, plus the English gold answers for English questions.

    Raises:
        DatasetError: a file is missing or the two languages are not parallel.
    """
    folder = Path(folder) if folder is not None else eval_dir() / "xquad"
    ar = _read_squad(folder / XQUAD_FILES["ar"])
    en = _read_squad(folder / XQUAD_FILES["en"])
    if len(ar) != len(en):
        raise DatasetError(
            f"{folder}: {len(ar)} Arabic articles but {len(en)} English ones; the files must be parallel"
        )
    articles: list[Article] = []
    items_ar: list[QAItem] = []
    items_en: list[QAItem] = []
    for a, (art_ar, art_en) in enumerate(zip(ar, en, strict=True)):
        if len(art_ar["paragraphs"]) != len(art_en["paragraphs"]):
            raise DatasetError(
                f"{folder}: article {a} ({art_ar.get('title')}) has {len(art_ar['paragraphs'])} "
                f"Arabic paragraphs but {len(art_en['paragraphs'])} English ones"
            )
        title = str(art_ar.get("title", f"article {a}")).replace("_", " ")
        for p, (par_ar, par_en) in enumerate(zip(art_ar["paragraphs"], art_en["paragraphs"], strict=True)):
            doc_id = xquad_doc_id(a, p)
            context = par_ar["context"]
            articles.append(
                Article(doc_id=doc_id, title=f"{title} ({p + 1})", text=context, source=f"xquad.ar.json#{a}.{p}")
            )
            ids_ar = [q["id"] for q in par_ar["qas"]]
            ids_en = [q["id"] for q in par_en["qas"]]
            if ids_ar != ids_en:
                raise DatasetError(
                    f"{folder}: paragraph {doc_id} has question ids {ids_ar[:3]}… in Arabic but "
                    f"{ids_en[:3]}… in English; the files must be parallel"
                )
            for q_ar, q_en in zip(par_ar["qas"], par_en["qas"], strict=True):
                gold_ar = tuple(dict.fromkeys(x["text"] for x in q_ar["answers"]))
                gold_en = tuple(dict.fromkeys(x["text"] for x in q_en["answers"]))
                spans = []
                for x in q_ar["answers"]:
                    start = int(x["answer_start"])
                    if context[start : start + len(x["text"])] != x["text"]:
                        raise DatasetError(f"{folder}: answer of {q_ar['id']} is not at its answer_start")
                    spans.append((doc_id, start, start + len(x["text"])))
                spans_t = tuple(dict.fromkeys(spans))
                evidence = tuple(context[s:e] for _, s, e in spans_t)
                common = {
                    "answerable": True,
                    "gold_doc_ids": (doc_id,),
                    "evidence": evidence,
                    "type": "factoid",
                    "evidence_spans": spans_t,
                    "group": q_ar["id"],
                }
                items_ar.append(
                    QAItem(
                        id=f"{q_ar['id']}-ar", question=q_ar["question"].strip(), lang="ar", answers=gold_ar, **common
                    )
                )
                items_en.append(
                    QAItem(
                        id=f"{q_en['id']}-en",
                        question=q_en["question"].strip(),
                        lang="en",
                        answers=gold_ar + tuple(g for g in gold_en if g not in gold_ar),
                        **common,
                    )
                )
    return Suite(
        name="xquad",
        items=tuple(items_ar + items_en),
        articles=tuple(articles),
        source=str(folder),
        info={
            "paragraphs": len(articles),
            "questions_per_language": len(items_ar),
            "licence": "CC BY-SA 4.0 (google-deepmind/xquad)",
        },
    )


#: The suites ``sanad eval --suite`` knows by name (anything else is a path to a Q&A file).
SUITES = ("seeds", "xquad", "arcd")


def load_suite(name: str) -> Suite:
    """``seeds``, ``xquad``, ``arcd``, or a path to a Q&A ``.jsonl`` file (named after its stem)."""
    if name == "seeds":
        path = eval_dir() / "seeds_qa.jsonl"
        return Suite(name="seeds", items=tuple(load_qa(path)), source=str(path))
    if name == "xquad":
        return load_xquad()
    if name == "arcd":
        from rag.evaluation.external import load_arcd

        return load_arcd()
    path = Path(name)
    if path.suffix.lower() not in (".jsonl", ".json") and not path.exists():
        raise DatasetError(f"unknown suite {name!r}; use {', '.join(SUITES)}, or a path to a Q&A .jsonl file")
    return Suite(name=path.stem, items=tuple(load_qa(path)), source=str(path))


# -- sampling ------------------------------------------------------------------------------------
#: The seed every sample of questions is drawn with (``sanad eval``'s answer and evidence stages).
SEED = 13


def stratified_sample(items: Sequence[T], n: int, *, key: Callable[[T], Hashable], seed: int = SEED) -> list[T]:
    """``n`` items drawn round-robin from the groups ``key`` defines, each group shuffled with ``seed``.

    Deterministic; every group is represented before any group gives a second item.
    Returned in the input order.
    """
    if n >= len(items):
        return list(items)
    if n <= 0:
        return []
    rng = random.Random(seed)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[key(item)].append(i)
    order = sorted(groups, key=str)
    rng.shuffle(order)
    for g in order:
        rng.shuffle(groups[g])
    chosen: list[int] = []
    while len(chosen) < n:
        for g in order:
            if groups[g] and len(chosen) < n:
                chosen.append(groups[g].pop())
    return [items[i] for i in sorted(chosen)]


def paired_sample(items: Sequence[QAItem], n: int, *, seed: int = SEED) -> list[QAItem]:
    """``n`` items made of whole parallel groups: questions drawn at random, each asked in all its languages.

    Used for XQuAD so that Arabic and English answers are compared on the same questions
    (``n`` is the total number of items; an odd ``n`` keeps one language of the last question).
    """
    if n >= len(items):
        return list(items)
    if n <= 0:
        return []
    groups: dict[str, list[QAItem]] = defaultdict(list)
    for item in items:
        groups[item.group or item.id].append(item)
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    chosen: list[QAItem] = []
    for name in names:
        for item in sorted(groups[name], key=lambda it: it.lang):
            if len(chosen) < n:
                chosen.append(item)
        if len(chosen) >= n:
            break
    return chosen
