"""``sanad chat`` and ``sanad timeline``: a conversation on the command line, and a dated timeline of a topic.

``sanad chat`` reads one question a line from the terminal (or a pipe) and answers each with the
conversation so far, so follow-ups («وفي سوريا؟», "And when will it end?") are made self-contained
first; the rewritten question is shown. ``/new`` starts a fresh conversation, ``/quit`` (or end of
input) leaves. ``sanad timeline "TOPIC"`` lists the dated events the retrieved passages mention, oldest
first, each with its citation; ``--json`` prints :meth:`rag.answer_types.Timeline.to_dict`.
"""

from __future__ import annotations

import argparse
import json
import sys

from rag.answer_types import Answer, Timeline, Turn
from rag.cli import _config, filters_from_args
from rag.errors import SanadError
from rag.pipeline import Sanad


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def print_answer(answer: Answer) -> None:
    """The answer, the rewritten question, conflicts and citations, as ``sanad chat`` shows them."""
    if answer.rewritten:
        print(f"(answered as: {answer.rewritten})")
    print(answer.answer)
    if answer.refused and answer.refusal_reason:
        print(f"(refused: {answer.refusal_reason})")
    for conflict in answer.conflicts:
        sides = "; ".join(f"{v.value} [{v.n}] ({v.date or 'undated'})" for v in conflict.values)
        print(f"(sources disagree: {sides})")
    for c in answer.citations:
        print(f"  {_one_line(c.label)} — {_one_line(c.title)[:70]}: «{_one_line(c.quote)[:160]}»")


def cmd_chat(args: argparse.Namespace) -> int:
    """``sanad chat``: answer questions one line at a time, keeping the conversation."""
    sanad = Sanad(_config(args).with_overrides(rewrite=getattr(args, "rewrite", None)))
    filters = filters_from_args(args)
    history: list[Turn] = []
    interactive = sys.stdin.isatty()
    if interactive:
        print("sanad chat: ask a question; /new starts a new conversation, /quit leaves.", file=sys.stderr)
    while True:
        if interactive:
            print("؟ ", end="", flush=True, file=sys.stderr)
        line = sys.stdin.readline()
        if not line:
            return 0
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return 0
        if question == "/new":
            history.clear()
            print("(new conversation)")
            continue
        try:
            answer = sanad.ask(question, filters=filters, history=history)
        except SanadError as exc:  # one failed question does not end the conversation
            print(f"sanad: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            print_answer(answer)
            print()
        history.append(
            Turn(
                question=question,
                answer=answer.answer,
                rewritten=answer.rewritten,
                doc_ids=tuple(dict.fromkeys(c.doc_id for c in answer.citations)),
            )
        )


def print_timeline(timeline: Timeline) -> None:
    if not timeline.events:
        print(f"no dated events found for «{timeline.topic}»")
        return
    for e in timeline.events:
        when = f"{e.date} (published)" if e.from_published else f"{e.date} «{_one_line(e.date_text)}»"
        source = " · ".join(x for x in (e.source, e.published) if x)
        print(
            f"[{e.n}] {when}\n    {_one_line(e.text)[:220]}\n    — {_one_line(e.title)[:70]} ({e.doc_id}"
            + (f", {source})" if source else ")")
        )


def cmd_timeline(args: argparse.Namespace) -> int:
    """``sanad timeline "TOPIC"``: the dated events of a topic, oldest first, each cited."""
    sanad = Sanad(_config(args))
    timeline = sanad.timeline(args.topic, filters=filters_from_args(args))
    if args.json:
        print(json.dumps(timeline.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_timeline(timeline)
    return 0


__all__ = ["cmd_chat", "cmd_timeline", "print_answer", "print_timeline"]
