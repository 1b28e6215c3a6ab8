"""The hand-written evaluation data of the news features: follow-ups, conflicts, timeline.

Formats (checked line by line here, and in full by ``eval/validate_news.py``; see ``eval/README.md``):

* ``eval/followups.jsonl``: a conversation a line: earlier ``turns`` (question + the answer given),
  the follow-up ``question``, its hand-written ``standalone`` form, and the last turn's scoring
  fields in the seeds format (``answerable``, ``gold_doc_ids``, ``evidence``, ``answers``, ``type``).
* ``eval/conflicts.jsonl``: a question a line with ``conflict`` (do the sources disagree?), ``kind``
  and ``sides``: per source the article, the evidence quote, the accepted spellings of its value and
  the date the value refers to.
* ``eval/timeline.jsonl``: ``event`` lines (a dated event: article, date, the words that date it,
  an evidence quote) and ``topic`` lines (a timeline query with date bounds and the events it should
  return), plus optional ``article`` lines giving a publication date for indexes built without one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer_types import Turn
from rag.evaluation.datasets import DatasetError, QAItem, eval_dir

NEWS_SUITES = ("followups", "conflicts", "timeline")


@dataclass(frozen=True)
class FollowupItem:
    """A conversation: earlier turns, the follow-up, its gold standalone form, and the last turn's scoring."""

    id: str
    lang: str
    turns: tuple[Turn, ...]
    question: str
    standalone: str
    qa: QAItem


@dataclass(frozen=True)
class ConflictSide:
    doc_id: str
    evidence: str
    values: tuple[str, ...]
    date: str


@dataclass(frozen=True)
class ConflictItem:
    id: str
    question: str
    lang: str
    conflict: bool
    kind: str
    sides: tuple[ConflictSide, ...]
    note: str = ""


@dataclass(frozen=True)
class GoldEvent:
    id: str
    doc_id: str
    date: str
    granularity: str
    date_text: str
    evidence: str
    event: str


@dataclass(frozen=True)
class TimelineTopic:
    id: str
    topic: str
    lang: str
    since: str
    until: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class TimelineData:
    events: tuple[GoldEvent, ...]
    topics: tuple[TimelineTopic, ...]
    published: dict[str, str]


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DatasetError(f"{path}: not found; the news suites read eval/{path.name} from the checkout")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: invalid JSON ({exc}); run eval/validate_news.py {path}") from None
        if not isinstance(rec, dict):
            raise DatasetError(f"{path}:{n}: expected a JSON object")
        out.append((n, rec))
    return out


def _need(rec: dict[str, Any], fields: Sequence[str], where: str) -> None:
    missing = [f for f in fields if f not in rec]
    if missing:
        raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}; run eval/validate_news.py")


def load_followups(path: Path | str | None = None) -> list[FollowupItem]:
    path = Path(path or eval_dir() / "followups.jsonl")
    items = []
    for n, rec in _records(path):
        where = f"{path}:{n}"
        _need(
            rec,
            (
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
            ),
            where,
        )
        turns = tuple(Turn(question=t["question"], answer=t.get("answer", "")) for t in rec["turns"])
        qa = QAItem(
            id=rec["id"],
            question=rec["question"],
            lang=rec["lang"],
            answerable=bool(rec["answerable"]),
            gold_doc_ids=tuple(rec["gold_doc_ids"]),
            evidence=tuple(rec["evidence"]),
            answers=tuple(rec["answers"]),
            type=rec["type"],
            answer_type=rec.get("answer_type", ""),
        )
        items.append(FollowupItem(rec["id"], rec["lang"], turns, rec["question"], rec["standalone"], qa))
    return items


def load_conflicts(path: Path | str | None = None) -> list[ConflictItem]:
    path = Path(path or eval_dir() / "conflicts.jsonl")
    items = []
    for n, rec in _records(path):
        _need(rec, ("id", "question", "lang", "conflict", "kind", "sides"), f"{path}:{n}")
        sides = tuple(ConflictSide(s["doc_id"], s["evidence"], tuple(s["values"]), s["date"]) for s in rec["sides"])
        items.append(
            ConflictItem(
                rec["id"], rec["question"], rec["lang"], bool(rec["conflict"]), rec["kind"], sides, rec.get("note", "")
            )
        )
    return items


def load_timeline(path: Path | str | None = None) -> TimelineData:
    path = Path(path or eval_dir() / "timeline.jsonl")
    events, topics, published = [], [], {}
    for n, rec in _records(path):
        where = f"{path}:{n}"
        kind = rec.get("kind")
        if kind == "event":
            _need(rec, ("id", "doc_id", "date", "granularity", "date_text", "evidence"), where)
            events.append(
                GoldEvent(
                    rec["id"],
                    rec["doc_id"],
                    rec["date"],
                    rec["granularity"],
                    rec["date_text"],
                    rec["evidence"],
                    rec.get("event", ""),
                )
            )
        elif kind == "topic":
            _need(rec, ("id", "topic", "lang", "events"), where)
            topics.append(
                TimelineTopic(
                    rec["id"],
                    rec["topic"],
                    rec["lang"],
                    rec.get("since", ""),
                    rec.get("until", ""),
                    tuple(rec["events"]),
                )
            )
        elif kind == "article":
            _need(rec, ("doc_id", "published"), where)
            published[rec["doc_id"]] = rec["published"]
        else:
            raise DatasetError(f"{where}: kind must be event, topic or article, got {kind!r}")
    return TimelineData(tuple(events), tuple(topics), published)


__all__ = [
    "NEWS_SUITES",
    "ConflictItem",
    "ConflictSide",
    "FollowupItem",
    "GoldEvent",
    "TimelineData",
    "TimelineTopic",
    "load_conflicts",
    "load_followups",
    "load_timeline",
]
