#!/usr/bin/env python3
"""Validate the hand-written news-feature evaluation files: follow-ups, conflicts, timeline (JSONL).

Usage:
    python eval/validate_news.py eval/followups.jsonl eval/conflicts.jsonl eval/timeline.jsonl [--corpus data/articles]

The kind of file is read from its name (followups / conflicts / timeline). Checks:

followups.jsonl (one conversation a line):
  * fields id, lang, turns, question, standalone, answerable, gold_doc_ids, evidence, answers, type
    (+ optional answer_type); ids unique; lang matches the script of the follow-up and its standalone form;
  * turns: 1 or 2 earlier turns, each {"question", "answer"} non-empty (so conversations have 2 or 3 turns);
  * the last turn is scored like a seeds question: the same type/answerable rules and one evidence quote per
    gold doc, found verbatim in the article (<= 200 chars), as in eval/validate_qa.py;
  * set: >= 30 conversations, >= 12 in each language, both 2- and 3-turn ones, >= 5 unanswerable last turns.
conflicts.jsonl (one question a line):
  * fields id, question, lang, conflict (bool), kind (quantity|date|name), sides, note;
  * each side {"doc_id", "evidence", "values", "date"}: evidence verbatim in the article (<= 200 chars), values
    non-empty strings, date an ISO period (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Www, FYYYYY);
  * conflict questions: >= 2 sides from >= 2 articles; set: >= 10 conflict and >= 10 agreeing questions.
timeline.jsonl ("kind": "event", "topic" or "article" lines):
  * event: id, doc_id, date (ISO period), granularity, date_text, evidence (verbatim, <= 200 chars), event;
    date_text occurs in the article;
  * topic: id, topic, lang, since, until (YYYY-MM-DD), events (ids of events, each dated within the bounds);
  * article: doc_id, published (YYYY-MM-DD), why: the publication date the events were resolved against
    (used by the suite for indexes whose articles carry no date);
  * set: >= 30 events covering every article, >= 4 topics.

Prints a summary and exits 1 on any problem (2 on usage / IO errors). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_qa import ARABIC_RE, ESCAPE_RE, LATIN_RE, MAX_EVIDENCE_CHARS, TYPES, _find_doc

PERIOD_RE = re.compile(r"^(?:\d{4}|\d{4}-\d{2}|\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}|FY\d{4})$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KINDS = {"quantity", "date", "name"}


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root, self.cache = root, {}

    def text(self, doc_id: str) -> str | None:
        if doc_id not in self.cache:
            path = _find_doc(self.root, doc_id)
            self.cache[doc_id] = path.read_text(encoding="utf-8") if path else None
        return self.cache[doc_id]


def _lang_ok(text: str, lang: str) -> bool:
    ar, lat = len(ARABIC_RE.findall(text)), len(LATIN_RE.findall(text))
    return ar > lat if lang == "ar" else lat > ar


def _lines(path: Path, errors: list[str]) -> list[tuple[int, dict]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: blank line")
            continue
        if ESCAPE_RE.search(line):
            errors.append(f"line {n}: contains \\u escapes; store UTF-8 text literally")
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc})")
            continue
        if not isinstance(rec, dict):
            errors.append(f"line {n}: not a JSON object")
            continue
        out.append((n, rec))
    return out


def _quote(corpus: Corpus, doc_id: str, quote: object, where: str, errors: list[str]) -> None:
    if not isinstance(quote, str) or not quote.strip():
        errors.append(f"{where}: empty evidence for {doc_id}")
        return
    if len(quote) > MAX_EVIDENCE_CHARS:
        errors.append(f"{where}: evidence for {doc_id} is {len(quote)} chars (> {MAX_EVIDENCE_CHARS})")
    body = corpus.text(doc_id)
    if body is None:
        errors.append(f"{where}: article {doc_id} not found")
    elif quote not in body:
        errors.append(f"{where}: evidence not found verbatim in {doc_id}: {quote[:60]!r}")


def validate_followups(path: Path, corpus: Corpus) -> tuple[list[str], list[str], str]:
    errors: list[str] = []
    warnings: list[str] = []
    fields = {
        "id",
        "lang",
        "turns",
        "question",
        "standalone",
        "answerable",
        "gold_doc_ids",
        "evidence",
        "answers",
        "type",
    }
    seen: set[str] = set()
    recs = []
    for n, rec in _lines(path, errors):
        where = f"line {n} ({rec.get('id')})"
        missing, extra = fields - set(rec), set(rec) - fields - {"answer_type"}
        if missing or extra:
            errors.append(f"{where}: missing {sorted(missing)} / unexpected {sorted(extra)}")
            continue
        if rec["id"] in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(rec["id"])
        if rec["lang"] not in ("ar", "en"):
            errors.append(f"{where}: lang must be ar or en")
            continue
        for key in ("question", "standalone"):
            if not isinstance(rec[key], str) or not _lang_ok(rec[key], rec["lang"]):
                errors.append(f"{where}: {key} must be a non-empty string in {rec['lang']}")
        turns = rec["turns"]
        if not isinstance(turns, list) or not 1 <= len(turns) <= 2:
            errors.append(f"{where}: turns must hold 1 or 2 earlier turns")
            continue
        for t in turns:
            if not (
                isinstance(t, dict)
                and set(t) == {"question", "answer"}
                and all(isinstance(t[k], str) and t[k].strip() for k in t)
            ):
                errors.append(f"{where}: each turn is {{'question', 'answer'}} with non-empty text")
        if rec["type"] not in TYPES:
            errors.append(f"{where}: type must be one of {sorted(TYPES)}")
        gold, ev, ans = rec["gold_doc_ids"], rec["evidence"], rec["answers"]
        if rec["type"] == "unanswerable" or rec["answerable"] is False:
            if rec["type"] != "unanswerable" or rec["answerable"] is not False or gold or ev or ans:
                errors.append(f"{where}: unanswerable needs answerable=false, type=unanswerable and empty lists")
        else:
            if not gold or len(ev) != len(gold) or not ans:
                errors.append(f"{where}: answerable needs gold docs, one evidence quote per doc, and answers")
            for doc_id, quote in zip(gold, ev, strict=False):  # lengths checked above
                _quote(corpus, doc_id, quote, where, errors)
            if rec["type"] != "multi_doc" and not any(a in "\n".join(ev) for a in ans):
                warnings.append(f"{where}: no accepted answer occurs in the evidence")
        recs.append(rec)
    langs = Counter(r["lang"] for r in recs)
    sizes = Counter(len(r["turns"]) + 1 for r in recs)
    unans = sum(not r["answerable"] for r in recs)
    if len(recs) < 30:
        errors.append(f"set: {len(recs)} conversations, need >= 30")
    for lang in ("ar", "en"):
        if langs[lang] < 12:
            errors.append(f"set: {langs[lang]} {lang} conversations, need >= 12")
    if not (sizes[2] and sizes[3]):
        errors.append("set: need both 2-turn and 3-turn conversations")
    if unans < 5:
        errors.append(f"set: {unans} unanswerable last turns, need >= 5")
    summary = (
        f"conversations: {len(recs)} (ar={langs['ar']}, en={langs['en']}); turns: "
        + ", ".join(f"{k}-turn={v}" for k, v in sorted(sizes.items()))
        + f"; unanswerable last turns: {unans}"
    )
    return errors, warnings, summary


def validate_conflicts(path: Path, corpus: Corpus) -> tuple[list[str], list[str], str]:
    errors: list[str] = []
    warnings: list[str] = []
    fields = {"id", "question", "lang", "conflict", "kind", "sides", "note"}
    seen: set[str] = set()
    counts = Counter()
    for n, rec in _lines(path, errors):
        where = f"line {n} ({rec.get('id')})"
        if set(rec) != fields:
            errors.append(f"{where}: fields must be {sorted(fields)}")
            continue
        if rec["id"] in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(rec["id"])
        if rec["lang"] not in ("ar", "en") or not _lang_ok(rec["question"], rec["lang"]):
            errors.append(f"{where}: lang must be ar/en and match the question")
        if not isinstance(rec["conflict"], bool) or rec["kind"] not in KINDS:
            errors.append(f"{where}: conflict must be a boolean and kind one of {sorted(KINDS)}")
            continue
        sides = rec["sides"]
        if not isinstance(sides, list) or not sides:
            errors.append(f"{where}: sides must be a non-empty list")
            continue
        for side in sides:
            if not isinstance(side, dict) or set(side) != {"doc_id", "evidence", "values", "date"}:
                errors.append(f"{where}: each side is {{doc_id, evidence, values, date}}")
                continue
            _quote(corpus, side["doc_id"], side["evidence"], where, errors)
            if not (
                isinstance(side["values"], list)
                and side["values"]
                and all(isinstance(v, str) and v.strip() for v in side["values"])
            ):
                errors.append(f"{where}: values must be non-empty strings")
            if not isinstance(side["date"], str) or not PERIOD_RE.match(side["date"]):
                errors.append(f"{where}: date {side['date']!r} is not an ISO period")
            elif not any(v in side["evidence"] for v in side["values"]):
                warnings.append(f"{where}: no value of the {side['doc_id']} side occurs in its evidence")
        if rec["conflict"] and len({s.get("doc_id") for s in sides if isinstance(s, dict)}) < 2:
            errors.append(f"{where}: a conflict needs sides from >= 2 articles")
        counts[(rec["conflict"], rec["lang"])] += 1
    n_conflict = counts[(True, "ar")] + counts[(True, "en")]
    n_agree = counts[(False, "ar")] + counts[(False, "en")]
    if n_conflict < 10:
        errors.append(f"set: {n_conflict} conflict questions, need >= 10")
    if n_agree < 10:
        errors.append(f"set: {n_agree} agreeing questions, need >= 10")
    summary = (
        f"conflict questions: {n_conflict} (ar={counts[(True, 'ar')]}, en={counts[(True, 'en')]}); "
        f"agreeing: {n_agree} (ar={counts[(False, 'ar')]}, en={counts[(False, 'en')]})"
    )
    return errors, warnings, summary


def _bounds(value: str) -> tuple[str, str]:
    v = value.removeprefix("FY")
    if re.match(r"^\d{4}-W\d{2}$", v):
        return v[:4] + "-01-01", v[:4] + "-12-31"  # coarse: the week's year (stdlib only)
    if len(v) == 4:
        return f"{v}-01-01", f"{v}-12-31"
    if len(v) == 7:
        return f"{v}-01", f"{v}-31"
    return v, v


def validate_timeline(path: Path, corpus: Corpus) -> tuple[list[str], list[str], str]:
    errors: list[str] = []
    warnings: list[str] = []
    events: dict[str, dict] = {}
    topics = []
    for n, rec in _lines(path, errors):
        where = f"line {n} ({rec.get('id')})"
        kind = rec.get("kind")
        if kind == "event":
            fields = {"kind", "id", "doc_id", "date", "granularity", "date_text", "evidence", "event"}
            if set(rec) != fields:
                errors.append(f"{where}: event fields must be {sorted(fields)}")
                continue
            if rec["id"] in events:
                errors.append(f"{where}: duplicate event id")
            events[rec["id"]] = rec
            if not PERIOD_RE.match(str(rec["date"])):
                errors.append(f"{where}: date {rec['date']!r} is not an ISO period")
            if rec["granularity"] not in ("day", "week", "month", "year"):
                errors.append(f"{where}: granularity must be day, week, month or year")
            _quote(corpus, rec["doc_id"], rec["evidence"], where, errors)
            body = corpus.text(rec["doc_id"]) or ""
            if rec["date_text"] not in body:
                errors.append(f"{where}: date_text {rec['date_text']!r} not in {rec['doc_id']}")
        elif kind == "topic":
            fields = {"kind", "id", "topic", "lang", "since", "until", "events"}
            if set(rec) != fields:
                errors.append(f"{where}: topic fields must be {sorted(fields)}")
                continue
            if not (DAY_RE.match(rec["since"]) and DAY_RE.match(rec["until"]) and rec["since"] <= rec["until"]):
                errors.append(f"{where}: since/until must be YYYY-MM-DD, since <= until")
            if rec["lang"] not in ("ar", "en") or not _lang_ok(rec["topic"], rec["lang"]):
                errors.append(f"{where}: lang must be ar/en and match the topic")
            topics.append((where, rec))
        elif kind == "article":
            if set(rec) - {"kind", "doc_id", "published", "why"} or not DAY_RE.match(str(rec.get("published", ""))):
                errors.append(f"{where}: article lines are {{kind, doc_id, published (YYYY-MM-DD), why}}")
            elif corpus.text(rec.get("doc_id", "")) is None:
                errors.append(f"{where}: article {rec.get('doc_id')} not found")
        else:
            errors.append(f"{where}: kind must be 'event', 'topic' or 'article'")
    for where, rec in topics:
        for eid in rec["events"]:
            ev = events.get(eid)
            if ev is None:
                errors.append(f"{where}: unknown event {eid}")
                continue
            first, last = _bounds(ev["date"])
            if last < rec["since"] or first > rec["until"]:
                errors.append(f"{where}: event {eid} ({ev['date']}) is outside {rec['since']}..{rec['until']}")
    docs = Counter(e["doc_id"] for e in events.values())
    if len(events) < 30:
        errors.append(f"set: {len(events)} events, need >= 30")
    if len(topics) < 4:
        errors.append(f"set: {len(topics)} topics, need >= 4")
    missing = sorted(p.stem for p in corpus.root.glob("*.txt") if p.stem not in docs)
    if missing:
        errors.append(f"set: no events from {missing}")
    summary = f"events: {len(events)} from {len(docs)} articles; topics: {len(topics)}"
    return errors, warnings, summary


VALIDATORS = {"followups": validate_followups, "conflicts": validate_conflicts, "timeline": validate_timeline}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path("data/articles"))
    ap.add_argument("--quiet-warnings", action="store_true")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"error: corpus directory {args.corpus} not found", file=sys.stderr)
        return 2
    corpus = Corpus(args.corpus)
    failed = False
    for path in args.files:
        kind = next((k for k in VALIDATORS if k in path.name), None)
        if kind is None or not path.is_file():
            print(f"error: {path}: not found, or not a followups/conflicts/timeline file", file=sys.stderr)
            return 2
        errors, warnings, summary = VALIDATORS[kind](path, corpus)
        print(f"{path}: {summary}")
        if warnings and not args.quiet_warnings:
            for w in warnings:
                print(f"  WARN {w}")
        for e in errors:
            print(f"  ERROR {e}")
        failed |= bool(errors)
    print("\nFAILED" if failed else "\nOK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
