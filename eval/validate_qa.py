#!/usr/bin/env python3
"""Validate a Sanad hand-written QA evaluation file (JSONL).

Usage:
    python eval/validate_qa.py eval/seeds_qa.jsonl [--corpus data/articles]

Checks:
  * every line is a JSON object with exactly the expected fields and types;
  * ids are unique; questions are not duplicated;
  * UTF-8 text is stored literally (no \\u escapes);
  * lang matches the script of the question;
  * answer_type (optional field) is one of quantity, date, person, place,
    organization, other: what the question asks for, also for unanswerable ones;
  * type/answerable consistency:
      - unanswerable -> answerable false, empty gold_doc_ids/evidence/answers;
      - multi_doc    -> >= 2 distinct gold docs;
      - other types  -> >= 1 gold doc and >= 1 answer;
  * one evidence quote per gold doc (same order), each <= 200 chars and
    found verbatim in <corpus>/<doc_id>.txt;
  * soft check (warning): for single-doc answerable questions, at least one
    accepted answer occurs in the evidence (thousands separators ignored);
  * set-level counts: >= 200 pairs, >= 60 answerable questions in each language,
    >= 50 unanswerable with >= 20 in each language, >= 6 multi_doc.

Prints a summary and exits 1 on any problem (2 on usage / IO errors).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

FIELDS = ("id", "question", "lang", "answerable", "gold_doc_ids", "evidence", "answers", "type")
OPTIONAL_FIELDS = ("answer_type",)
LANGS = {"ar", "en"}
TYPES = {"factoid", "multi_doc", "unanswerable", "explanatory"}
ANSWER_TYPES = {"quantity", "date", "person", "place", "organization", "other"}
MAX_EVIDENCE_CHARS = 200

MIN_TOTAL = 200
MIN_ANSWERABLE_PER_LANG = 60
MIN_UNANSWERABLE = 50
MIN_UNANSWERABLE_PER_LANG = 20
MIN_MULTI_DOC = 6

ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
ARABIC_RE = re.compile(r"[\u0600-\u06FF]")
LATIN_RE = re.compile(r"[A-Za-z]")
ESCAPE_RE = re.compile(r"\\u[0-9a-fA-F]{4}")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def _find_doc(corpus: Path, doc_id: str) -> Path | None:
    direct = corpus / f"{doc_id}.txt"
    if direct.is_file():
        return direct
    matches = sorted(corpus.rglob(f"{doc_id}.txt"))
    return matches[0] if matches else None


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def validate(path: Path, corpus: Path) -> tuple[list[str], list[str], list[dict]]:
    errors: list[str] = []
    warnings: list[str] = []
    records: list[dict] = []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    doc_cache: dict[str, str | None] = {}

    def doc_text(doc_id: str) -> str | None:
        if doc_id not in doc_cache:
            p = _find_doc(corpus, doc_id)
            doc_cache[doc_id] = p.read_text(encoding="utf-8") if p else None
        return doc_cache[doc_id]

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"{path}: not valid UTF-8 ({exc})"], warnings, records

    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"line {lineno}"
        if not line.strip():
            errors.append(f"{where}: blank line")
            continue
        if ESCAPE_RE.search(line):
            errors.append(f"{where}: contains \\u escapes; store UTF-8 text literally")
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(rec, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        rid = rec.get("id")
        if isinstance(rid, str):
            where = f"line {lineno} ({rid})"
        keys = set(rec)
        missing = [f for f in FIELDS if f not in keys]
        extra = sorted(keys - set(FIELDS) - set(OPTIONAL_FIELDS))
        if missing:
            errors.append(f"{where}: missing fields {missing}")
        if extra:
            errors.append(f"{where}: unexpected fields {extra}")
        if missing:
            continue

        # --- field types
        ok = True
        if not isinstance(rid, str) or not ID_RE.match(rid):
            errors.append(f"{where}: bad id {rid!r}")
            ok = False
        elif rid in seen_ids:
            errors.append(f"{where}: duplicate id {rid}")
        else:
            seen_ids.add(rid)
        q = rec["question"]
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: question must be a non-empty string")
            ok = False
        if rec["lang"] not in LANGS:
            errors.append(f"{where}: lang must be one of {sorted(LANGS)}")
            ok = False
        if not isinstance(rec["answerable"], bool):
            errors.append(f"{where}: answerable must be a boolean")
            ok = False
        if rec["type"] not in TYPES:
            errors.append(f"{where}: type must be one of {sorted(TYPES)}")
            ok = False
        if "answer_type" in rec and rec["answer_type"] not in ANSWER_TYPES:
            errors.append(f"{where}: answer_type must be one of {sorted(ANSWER_TYPES)}")
            ok = False
        for f in ("gold_doc_ids", "evidence", "answers"):
            if not _is_str_list(rec[f]):
                errors.append(f"{where}: {f} must be a list of strings")
                ok = False
        if not ok:
            continue
        records.append(rec)

        # --- duplicates / language
        norm_q = " ".join(q.split())
        if norm_q in seen_questions:
            errors.append(f"{where}: duplicate question (same as {seen_questions[norm_q]})")
        else:
            seen_questions[norm_q] = rid
        n_ar = len(ARABIC_RE.findall(q))
        n_lat = len(LATIN_RE.findall(q))
        if rec["lang"] == "ar" and n_ar <= n_lat:
            errors.append(f"{where}: lang=ar but question is not mostly Arabic script")
        if rec["lang"] == "en" and n_lat <= n_ar:
            errors.append(f"{where}: lang=en but question is not mostly Latin script")

        gold, ev, ans = rec["gold_doc_ids"], rec["evidence"], rec["answers"]
        typ = rec["type"]

        # --- unanswerable
        if typ == "unanswerable" or rec["answerable"] is False:
            if typ != "unanswerable":
                errors.append(f"{where}: answerable=false requires type=unanswerable")
            if rec["answerable"] is not False:
                errors.append(f"{where}: type=unanswerable requires answerable=false")
            if gold or ev or ans:
                errors.append(f"{where}: unanswerable must have empty gold_doc_ids, evidence, answers")
            continue

        # --- answerable
        if not gold:
            errors.append(f"{where}: answerable question needs >= 1 gold doc")
        if len(set(gold)) != len(gold):
            errors.append(f"{where}: repeated gold doc id")
        if typ == "multi_doc" and len(set(gold)) < 2:
            errors.append(f"{where}: multi_doc needs >= 2 distinct gold docs")
        if len(ev) != len(gold):
            errors.append(
                f"{where}: need exactly one evidence quote per gold doc ({len(ev)} evidence vs {len(gold)} docs)"
            )
        if not ans or any(not a.strip() for a in ans):
            errors.append(f"{where}: answers must be a non-empty list of non-empty strings")
        if len(set(ans)) != len(ans):
            warnings.append(f"{where}: repeated answer strings")

        for doc_id, quote in zip(gold, ev, strict=False):  # lengths checked above
            if not quote.strip():
                errors.append(f"{where}: empty evidence for {doc_id}")
                continue
            if len(quote) > MAX_EVIDENCE_CHARS:
                errors.append(f"{where}: evidence for {doc_id} is {len(quote)} chars (> {MAX_EVIDENCE_CHARS})")
            body = doc_text(doc_id)
            if body is None:
                errors.append(f"{where}: gold doc {doc_id} not found under {corpus}")
            elif quote not in body:
                errors.append(f"{where}: evidence not found verbatim in {doc_id}: {quote[:60]!r}...")

        # Soft check: for single-doc questions at least one accepted answer (for
        # English questions: its digits or the Arabic form of a name) should be
        # visible in the evidence; computed or paraphrased answers are warned about.
        if typ != "multi_doc" and ev and ans:
            joined = "\n".join(ev)
            if not any(_THOUSANDS.sub("", a) in joined for a in ans):
                warnings.append(f"{where}: no accepted answer occurs in the evidence")

    # --- set-level counts
    n = len(records)
    types = Counter(r["type"] for r in records)
    answerable = Counter(r["lang"] for r in records if r["answerable"])
    unanswerable = Counter(r["lang"] for r in records if not r["answerable"])
    if n < MIN_TOTAL:
        errors.append(f"set: {n} pairs, need >= {MIN_TOTAL}")
    for lang in sorted(LANGS):
        if answerable[lang] < MIN_ANSWERABLE_PER_LANG:
            errors.append(f"set: {answerable[lang]} answerable {lang} questions, need >= {MIN_ANSWERABLE_PER_LANG}")
        if unanswerable[lang] < MIN_UNANSWERABLE_PER_LANG:
            errors.append(
                f"set: {unanswerable[lang]} unanswerable {lang} questions, need >= {MIN_UNANSWERABLE_PER_LANG}"
            )
    if types["unanswerable"] < MIN_UNANSWERABLE:
        errors.append(f"set: {types['unanswerable']} unanswerable, need >= {MIN_UNANSWERABLE}")
    if types["multi_doc"] < MIN_MULTI_DOC:
        errors.append(f"set: {types['multi_doc']} multi_doc, need >= {MIN_MULTI_DOC}")
    return errors, warnings, records


def summarize(records: list[dict]) -> str:
    langs = Counter(r["lang"] for r in records)
    types = Counter(r["type"] for r in records)
    cross = Counter((r["lang"], r["type"]) for r in records)
    docs = Counter(d for r in records for d in r["gold_doc_ids"])
    lines = [
        f"pairs: {len(records)}",
        "by lang: " + ", ".join(f"{k}={langs[k]}" for k in sorted(langs)),
        "by type: " + ", ".join(f"{k}={types[k]}" for k in sorted(types)),
        f"answerable: {sum(r['answerable'] for r in records)}, "
        f"unanswerable: {sum(not r['answerable'] for r in records)}",
        "lang x type:",
    ]
    for lang in sorted(langs):
        counts = ", ".join(f"{t}={cross[(lang, t)]}" for t in sorted(TYPES) if cross[(lang, t)])
        lines.append(f"  {lang}: {counts}")
    atypes = Counter((r["lang"], r.get("answerable"), r.get("answer_type", "-")) for r in records)
    lines.append("answer_type (answerable / unanswerable):")
    for lang in sorted(langs):
        kinds = sorted({k for (lg, _, k) in atypes if lg == lang})
        counts = ", ".join(f"{k}={atypes[(lang, True, k)]}/{atypes[(lang, False, k)]}" for k in kinds)
        lines.append(f"  {lang}: {counts}")
    lines.append("gold doc usage:")
    for d in sorted(docs):
        lines.append(f"  {d}: {docs[d]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qa_file", type=Path, help="JSONL evaluation file")
    ap.add_argument(
        "--corpus",
        type=Path,
        default=Path("data/articles"),
        help="directory holding <doc_id>.txt articles (default: data/articles)",
    )
    ap.add_argument("--quiet-warnings", action="store_true", help="do not print warnings")
    args = ap.parse_args(argv)

    if not args.qa_file.is_file():
        print(f"error: {args.qa_file} not found", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"error: corpus directory {args.corpus} not found", file=sys.stderr)
        return 2

    errors, warnings, records = validate(args.qa_file, args.corpus)
    print(summarize(records))
    if warnings and not args.quiet_warnings:
        print(f"\n{len(warnings)} warning(s):")
        for w in warnings:
            print(f"  WARN {w}")
    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print(f"  ERROR {e}")
        print("\nFAILED")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
