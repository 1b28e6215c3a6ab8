"""HTML of the news features of the page: the conversation, the conflict notice and the timeline (issue #14).

Pure functions of Sanad's data, like :mod:`rag.ui.render` (whose answer panel each turn reuses), and
apart from it so that the answer panel can change without touching the conversation around it:

* :func:`render_chat` — every turn of the conversation, oldest first: the question as asked, the
  question it was answered as (when a follow-up was rewritten), the answer with its own citations and
  sources, and the conflict notice. Only the latest turn carries the element ids of the single-answer
  panel (``sanad-answer-text``, ``sanad-cite-<n>``, ``data-state``); earlier turns get their own
  (``sanad-cite-t<i>-<n>``, ``data-turn-state``), so a badge always opens the source of its own turn;
* :func:`render_conflicts` — the distinct notice block: the sentence the answer gained
  (:func:`rag.notices.conflict_notice`) and, for each side, its value, date, outlet and citation;
* :func:`render_timeline` — a topic's dated events, oldest first, each with its date as written, the
  sentence and its source.

Every text from an article, the model or the user is escaped (:func:`rag.ui.render.esc`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from rag.answer_types import Answer, Timeline
from rag.notices import conflict_notice, value_text
from rag.ui.render import _with_badges, byline_html, direction, esc, render_answer, render_error, render_progress


def _without_notice(answer: Answer) -> Answer:
    """``answer`` without the conflict sentence appended to its text (the notice block shows it instead)."""
    notice = conflict_notice(answer.conflicts, answer.language)
    if notice and answer.answer.endswith(notice):
        return dataclasses.replace(answer, answer=answer.answer[: -len(notice)].rstrip())
    return answer


def render_conflicts(answer: Answer, prefix: str = "sanad-cite-", *, latest: bool = True) -> str:
    """The notice block for ``answer.conflicts`` (``""`` when the sources agree).

    Its badges link to the turn's sources (``#<prefix><n>``); ``latest`` gives it the id ``sanad-conflict``.
    """
    if not answer.conflicts:
        return ""
    d = "rtl" if answer.language == "ar" else "ltr"
    linked = {c.n for c in answer.citations}
    sentence = _link(_with_badges(esc(conflict_notice(answer.conflicts, answer.language)), linked), prefix)
    rows = []
    for conflict in answer.conflicts:
        for v in conflict.values:
            value = value_text(v, conflict.kind, "ar") if v.value else v.normalized  # the source's own words
            when = f'<bdi dir="ltr">{esc(v.date)}</bdi>' if v.date else "undated"
            how = "date in the text" if v.date_source == "text" else "publication date"
            byline = byline_html(v.source, v.published)
            rows.append(
                f'<li class="sanad-conflict-side" data-n="{v.n}" data-doc-id="{esc(v.doc_id)}" '
                f'data-date="{esc(v.date)}"><a class="sanad-cite" href="#{prefix}{v.n}" data-n="{v.n}" '
                f'role="button">{v.n}</a> <b dir="{direction(value)}">{esc(value)}</b> · {when} '
                f'<span class="sanad-meta">({how})</span>{" · " + byline if byline else ""}</li>'
            )
    ident = ' id="sanad-conflict"' if latest else ""
    kinds = ", ".join(sorted({c.kind for c in answer.conflicts}))
    return (
        f'<div class="sanad-notice sanad-conflict"{ident} role="note" data-kinds="{esc(kinds)}">'
        '<div class="sanad-notice-title" dir="ltr">Sources disagree · تختلف المصادر</div>'
        f'<div class="sanad-conflict-text" dir="{d}">{sentence}</div><ul dir="ltr">{"".join(rows)}</ul></div>'
    )


def _link(html: str, prefix: str) -> str:
    return html if prefix == "sanad-cite-" else html.replace('href="#sanad-cite-', f'href="#{prefix}')


def _past(html: str, i: int) -> str:
    """An earlier turn's HTML: its own citation ids, no ``sanad-answer-text`` id, no ``data-state``."""
    html = html.replace(' id="sanad-answer-text"', "").replace(' id="sanad-unsupported"', "")
    html = html.replace(" data-state=", " data-turn-state=")
    return re.sub(r'(id="|href="#)sanad-cite-(\d+)"', rf'\1sanad-cite-t{i}-\2"', html)


def _question(question: str, rewritten: str) -> str:
    out = f'<div class="sanad-question" dir="{direction(question)}">{esc(question)}</div>'
    if rewritten and rewritten != question:
        out += (
            '<div class="sanad-rewritten"><span class="sanad-meta">answered as:</span> '
            f'<span dir="{direction(rewritten)}">{esc(rewritten)}</span></div>'
        )
    return out


def render_turn(answer: Answer, i: int, *, latest: bool) -> str:
    """One finished turn: the question (and its rewrite), the answer with its sources, the conflict notice."""
    body = render_answer(_without_notice(answer))
    prefix = "sanad-cite-" if latest else f"sanad-cite-t{i}-"
    notice = render_conflicts(answer, prefix, latest=latest)
    inner = _question(answer.question, answer.rewritten) + body + notice
    if not latest:
        inner = _past(inner, i)
    mark = " data-latest" if latest else ""
    return f'<div class="sanad-turn" data-turn="{i}"{mark}>{inner}</div>'


def render_chat(
    turns: Sequence[Answer],
    pending: str = "",
    *,
    state: str = "",
    text: str = "",
    status: str = "",
    error: str = "",
    rewritten: str = "",
) -> str:
    """The conversation: finished ``turns`` (oldest first) and, with ``pending``, the question being answered.

    ``state``/``text``/``status`` describe the pending answer as :func:`rag.ui.render.render_progress`
    does; ``error`` shows it as a failed question instead (it does not join the conversation).
    """
    parts = ['<div class="sanad-chat" id="sanad-chat">']
    last = len(turns) - (0 if (pending or error) else 1)
    for i, answer in enumerate(turns, 1):
        parts.append(render_turn(answer, i, latest=i - 1 == last))
    if pending or error:
        n = len(turns) + 1
        body = render_error(error) if error else render_progress(pending, state or "searching", text, status)
        parts.append(
            f'<div class="sanad-turn" data-turn="{n}" data-latest>'
            f"{_question(pending, rewritten) if pending else ''}{body}</div>"
        )
    if not turns and not (pending or error):
        parts.append(
            '<div class="sanad-panel sanad-hint" dir="auto">Ask a question about the indexed news, in Arabic or '
            "English, then ask follow-ups («وفي سوريا؟», “And when will it end?”): each answer stays under its "
            "question with its own sources.</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_timeline(timeline: Timeline | None, message: str = "") -> str:
    """A topic's dated events, oldest first: date (as written), sentence, source; or ``message``."""
    if timeline is None:
        text = message or "Enter a topic to see the dated events the articles report, oldest first."
        return f'<div class="sanad-panel sanad-hint" id="sanad-timeline-empty">{esc(text)}</div>'
    if not timeline.events:
        return (
            '<div class="sanad-panel sanad-hint" id="sanad-timeline-empty">No dated event found for '
            f"<bdi>{esc(timeline.topic)}</bdi>.</div>"
        )
    rows = []
    for e in timeline.events:
        written = "" if e.from_published else f' <span class="sanad-meta">«<bdi>{esc(e.date_text)}</bdi>»</span>'
        how = "publication date" if e.from_published else "date in the text"
        byline = byline_html(e.source, e.published)
        rows.append(
            f'<li class="sanad-event" id="sanad-event-{e.n}" data-date="{esc(e.date)}" data-doc-id="{esc(e.doc_id)}" '
            f'data-first="{esc(e.first)}"><div class="sanad-event-date"><span class="sanad-cite">{e.n}</span> '
            f'<b dir="ltr">{esc(e.date)}</b>{written} <span class="sanad-meta">({how})</span></div>'
            f'<div class="sanad-text" dir="{direction(e.text)}">{esc(e.text)}</div>'
            f'<div class="sanad-meta">{byline + " · " if byline else ""}<span class="sanad-title" '
            f'dir="{direction(e.title)}">{esc(e.title)}</span> · article <code>{esc(e.doc_id)}</code> · characters '
            f"{e.start}–{e.end}</div></li>"
        )
    return (
        f'<div class="sanad-panel" id="sanad-timeline-events"><div class="sanad-section-title">'
        f"{len(timeline.events)} dated events for <bdi>{esc(timeline.topic)}</bdi>, oldest first</div>"
        f'<ol class="sanad-timeline">{"".join(rows)}</ol></div>'
    )


def history_of(turns: Sequence[Answer]) -> list[dict[str, Any]]:
    """The conversation as ``Sanad.ask(history=...)`` takes it (question, answer, rewritten, cited articles)."""
    return [
        {
            "question": a.question,
            "answer": a.answer,
            "rewritten": a.rewritten,
            "doc_ids": list(dict.fromkeys(c.doc_id for c in a.citations)),
        }
        for a in turns
    ]


__all__ = ["history_of", "render_chat", "render_conflicts", "render_timeline", "render_turn"]
