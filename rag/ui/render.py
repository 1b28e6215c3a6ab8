"""HTML for every panel of the page, as pure functions of Sanad's data (no gradio, no I/O).

Why apart: the page's look is the part most often changed and the easiest to get wrong with hostile
text, so it lives where a unit test can reach it without a browser or a model. Every text that comes
from an article, the model or the user is escaped here (:func:`esc`) before it is put into the page;
Arabic text is laid out right-to-left and anything else left-to-right (:func:`direction`); the
answer's ``[n]`` markers become badges that link to their source (``#sanad-cite-n``) when the
citation checker kept them. The classes used are styled in :mod:`rag.ui.assets`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.answer_types import Answer
from rag.retrieval import detect_language
from rag.types import Hit
from rag.types import byline as byline_text

_MARKER = re.compile(r"\[(\d{1,3})\]")
_LABELS = {  # Answer.timings keys, in pipeline order
    "translate_s": "Translate the question (for retrieval)",
    "retrieval_s": "Retrieve passages",
    "ttft_s": "Model: first token",
    "generation_s": "Model: whole answer",
    "total_s": "Total",
    "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Answer tokens",
    "ui_first_token_s": "Web UI: first token sent (from the click)",
    "conflicts_s": "Compare the sources for conflicting reports (no model)",
}


def esc(text: object) -> str:
    """``text`` as HTML text or attribute value: ``& < > " '`` escaped (article text is untrusted)."""
    return html.escape(str(text), quote=True)


def direction(text: str) -> str:
    """``rtl`` for Arabic text, ``ltr`` for anything else (the value of a ``dir`` attribute)."""
    return "rtl" if detect_language(text) == "ar" else "ltr"


def _with_badges(escaped: str, linked: set[int]) -> str:
    """Turn ``[n]`` markers of an escaped text into badges; cited ones link to their source."""

    def badge(m: re.Match) -> str:
        n = int(m.group(1))
        if n in linked:
            return (
                f'<a class="sanad-cite" href="#sanad-cite-{n}" data-n="{n}" role="button" '
                f'title="Show source {n}">{n}</a>'
            )
        return f'<span class="sanad-cite">{n}</span>'

    return _MARKER.sub(badge, escaped)


def highlighted(text: str, start: int, end: int) -> str:
    """``text`` escaped, with ``text[start:end]`` in ``<mark>`` (nothing marked if the span is empty)."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return esc(text)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _score(hit: Hit) -> str:
    extra = ", ".join(f"{esc(k)} {v:.4g}" for k, v in sorted(hit.scores.items()))
    return f'<span class="sanad-score">score {hit.score:.4f}</span>' + (f" ({extra})" if extra else "")


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) address, else ``""`` (an article's URL must not run script on click)."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else ""


def byline_html(source: str, published: str, url: str = "", also_in: Sequence[str] = ()) -> str:
    """Outlet and date as a citation shows them (``العربي الجديد · 2023-08-09``), linked to the article's
    URL when there is a safe one; ``""`` when nothing is known."""
    if not (source or published or url):
        return ""
    link = safe_url(url)
    # Each part isolated: an ISO date inside Arabic text would otherwise be laid out as 09-08-2023.
    parts = ([f"<bdi>{esc(source)}</bdi>"] if source else []) + (
        [f'<bdi dir="ltr">{esc(published)}</bdi>'] if published else []
    )
    label = " · ".join(parts) or "link"
    inner = f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{label}</a>' if link else label
    also = f' <span class="sanad-also">(also {esc(", ".join(also_in))})</span>' if also_in else ""
    return f'<span class="sanad-byline" dir="auto">{inner}{also}</span>'


def render_placeholder() -> str:
    """The answer panel before the first question: what to do, in English and Arabic."""
    return (
        '<div class="sanad-panel sanad-hint" dir="auto">Ask a question about the indexed news, in Arabic or '
        "English. The answer cites its sources as numbered badges — click one to read the passage.<br>"
        '<span dir="rtl">اطرح سؤالاً بالعربية أو بالإنجليزية، وستظهر المصادر المستشهد بها أسفل الإجابة.'
        "</span></div>"
    )


def render_progress(question: str, state: str, text: str = "", status: str = "") -> str:
    """The answer panel while the answer is being produced (``state``: searching, generating, streaming)."""
    d = direction(question)
    body = f'<span class="sanad-stream">{_with_badges(esc(text), set())}</span>' if text else ""
    note = f'<div class="sanad-status" dir="ltr">{esc(status)}</div>' if status else ""
    return (
        f'<div class="sanad-panel"><div class="sanad-answer" id="sanad-answer-text" dir="{d}" '
        f'lang="{"ar" if d == "rtl" else "en"}" data-state="{esc(state)}">{body}</div>{note}</div>'
    )


def render_error(message: str) -> str:
    """The answer panel when a question could not be answered (``message`` in plain words, escaped)."""
    return (
        '<div class="sanad-panel"><div class="sanad-notice sanad-error" role="alert" dir="ltr">'
        f'<div class="sanad-notice-title">Could not answer</div>{esc(message)}</div></div>'
    )


def render_answer(answer: Answer) -> str:
    """The checked answer: text with badges, refusal/unsupported notices and the cited sources."""
    d = "rtl" if answer.language == "ar" else "ltr"
    parts = ['<div class="sanad-panel">']
    if answer.refused:
        parts.append(
            f'<div class="sanad-answer sanad-notice sanad-refusal" id="sanad-answer-text" role="status" dir="{d}" '
            f'lang="{answer.language}" data-state="refused"><div class="sanad-notice-title" dir="ltr">'
            f"Sanad did not answer: the sources do not support an answer</div>{esc(answer.answer)}"
            + (f'<div class="sanad-meta">reason: {esc(answer.refusal_reason)}</div>' if answer.refusal_reason else "")
            + "</div>"
        )
    else:
        linked = {c.n for c in answer.citations}
        parts.append(
            f'<div class="sanad-answer" id="sanad-answer-text" dir="{d}" lang="{answer.language}" '
            f'data-state="done">{_with_badges(esc(answer.answer), linked)}</div>'
        )
    if answer.unsupported:
        items = "".join(
            f'<li dir="{direction(s.text)}">{esc(s.text)} <span class="why" dir="ltr">— '
            f"{esc(s.reason or 'not supported by the passages')}</span></li>"
            for s in answer.unsupported
        )
        parts.append(
            '<div class="sanad-notice sanad-unsupported" id="sanad-unsupported">'
            '<div class="sanad-notice-title">Removed from the answer: not supported by the sources</div>'
            f"<ul>{items}</ul></div>"
        )
    if answer.evidence:  # the source sentences quoted, cited ones marked; on a refusal, what was found instead
        cited = {c.n for c in answer.citations}
        items = "".join(
            f'<li class="sanad-evidence-item{" cited" if e.n in cited else ""}" id="sanad-evidence-{e.n}" '
            f'data-doc-id="{esc(e.doc_id)}"><span class="sanad-cite">{e.n}</span> '
            f'<q dir="{direction(e.text)}">{esc(e.text)}</q> <span class="sanad-meta">— '
            f'<span dir="{direction(e.title)}">{esc(e.title)}</span>'
            f"{' · ' + esc(byline_text(e.source, e.published)) if (e.source or e.published) else ''}</span></li>"
            for e in answer.evidence
        )
        parts.append(
            '<div class="sanad-evidence" id="sanad-evidence"><h4>Evidence: the source sentences the answer '
            f"may rest on</h4><ol>{items}</ol></div>"
        )
    if answer.citations:
        parts.append('<div class="sanad-sources"><h4>Sources</h4>')
        by_chunk = {h.chunk_id: h for h in answer.passages}
        for c in answer.citations:
            hit = by_chunk.get(c.chunk_id)
            byline = byline_html(c.source, c.published, c.url, hit.also_in if hit is not None else ())
            if hit is not None:
                text, base = hit.chunk.text, hit.chunk.start
                s, e = c.quote_start - base, c.quote_end - base
                if not (0 <= s < e <= len(text)) or text[s:e] != c.quote:
                    s = text.find(c.quote) if c.quote else -1
                    e = s + len(c.quote)
                body = highlighted(text, s, e) if s >= 0 else esc(text)
                score = _score(hit)
            else:  # pragma: no cover - a citation always points at a prompt passage
                body, score = f"<mark>{esc(c.quote)}</mark>", ""
            parts.append(
                f'<details class="sanad-source" id="sanad-cite-{c.n}" data-doc-id="{esc(c.doc_id)}" '
                f'data-chunk-id="{esc(c.chunk_id)}" data-source="{esc(c.source)}" data-published="{esc(c.published)}">'
                f'<summary><span class="sanad-cite">{c.n}</span> {byline + " · " if byline else ""}'
                f'<span class="sanad-title" dir="{direction(c.title)}">{esc(c.title)}</span></summary>'
                f'<div class="sanad-meta">article <code>{esc(c.doc_id)}</code> · {score} · quote at characters '
                f"{c.quote_start}–{c.quote_end}</div>"
                f'<div class="sanad-text" dir="{direction(text if hit else c.quote)}">{body}</div></details>'
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_passages(hits: Sequence[Hit], sent: Sequence[Hit] = (), mode: str = "", scope: str = "") -> str:
    """The retrieved passages: rank, outlet and date, article id, title, score; the text folds out.

    ``scope`` describes the filters the search ran with (shown in the panel's title).
    """
    if not hits:
        where = f" within the filters ({esc(scope)})" if scope else ""
        return (
            f'<div class="sanad-panel sanad-hint" id="sanad-no-passages">No passage matched the question{where}.</div>'
        )
    numbers = {h.chunk_id: i + 1 for i, h in enumerate(sent)}
    rows = [
        f'<div class="sanad-panel" id="sanad-passages"><div class="sanad-section-title">{len(hits)} passages'
        + (f" ({esc(mode)})" if mode else "")
        + (f'; <span class="sanad-scope">filtered: {esc(scope)}</span>' if scope else "")
        + (f"; the model read the first {len(sent)}" if sent else "")
        + "</div>"
    ]
    for h in hits:
        n = numbers.get(h.chunk_id)
        tag = f'<span class="sanad-cite" title="passage [{n}] in the prompt">{n}</span> ' if n else ""
        byline = byline_html(h.source, h.published, h.url, h.also_in)
        rows.append(
            f'<details class="sanad-passage" data-doc-id="{esc(h.doc_id)}" data-source="{esc(h.source)}" '
            f'data-published="{esc(h.published)}"><summary>{tag}<b>#{h.rank}</b> {byline + " · " if byline else ""}'
            f'<code>{esc(h.doc_id)}</code> · <span class="sanad-title" dir="{direction(h.title)}">{esc(h.title)}</span>'
            f' · {_score(h)}</summary><div class="sanad-meta">passage {h.chunk.ordinal}, characters '
            f'{h.chunk.start}–{h.chunk.end}</div><div class="sanad-text" dir="{direction(h.chunk.text)}">'
            f"{esc(h.chunk.text)}</div></details>"
        )
    rows.append("</div>")
    return "".join(rows)


def render_timings(timings: dict[str, float], extra: dict[str, float] | None = None) -> str:
    """The table of stage timings and token counts (``timings`` and ``extra`` merged, pipeline order first)."""
    merged = {**timings, **(extra or {})}
    if not merged:
        return '<div class="sanad-panel sanad-hint">Timings appear after a question.</div>'
    keys = [k for k in _LABELS if k in merged] + sorted(k for k in merged if k not in _LABELS)
    rows = []
    for k in keys:
        v = float(merged[k])
        value = f"{v:.0f}" if k.endswith("_tokens") else f"{v:.2f} s"
        rows.append(f'<tr data-key="{esc(k)}"><td>{esc(_LABELS.get(k, k))}</td><td class="num">{value}</td></tr>')
    return (
        '<div class="sanad-panel"><table class="sanad-timings" id="sanad-timings"><tr><th>Stage</th>'
        f"<th>Value</th></tr>{''.join(rows)}</table></div>"
    )


def render_header(stats: str) -> str:
    """The page header: the name and a one-line summary of the index (``stats``, escaped here)."""
    return (
        '<div class="sanad-header"><h1>سند · Sanad</h1><p>Cited answers from Arabic news, fully offline — '
        f'<span id="sanad-stats">{esc(stats)}</span></p></div>'
    )


def render_status(kind: str, text: str) -> str:
    """A one-line result for the Articles tab (``kind``: ok or problem); ``text`` is escaped here."""
    label = "Done." if kind == "ok" else "Nothing changed:"
    if text.lower().startswith("nothing was added: "):
        text = text[len("nothing was added: ") :]
    return f'<div class="sanad-panel sanad-status-line sanad-{kind}" role="status"><b>{label}</b> {esc(text)}</div>'
