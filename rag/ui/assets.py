"""The page's stylesheet and its one script, kept apart from the Python that renders the HTML.

``CSS`` styles every ``sanad-*`` class that :mod:`rag.ui.render` emits (the answer panel, the ``[n]``
badges, notices, sources, passages, timings, status lines); :mod:`rag.ui.layout` hands it to each
``gr.HTML`` panel and to ``launch``. ``CITE_JS`` runs once per page load on the answer panel and opens
the cited source when a badge is clicked. Plain strings, no imports: a new panel adds its rules here.
"""

from __future__ import annotations

CSS = """
#sanad-question textarea { unicode-bidi: plaintext; text-align: start; }
.sanad-panel { font-size: 1rem; line-height: 1.7; }
.sanad-hint { color: var(--body-text-color-subdued); }
.sanad-answer { padding: 0.9rem 1.1rem; border-radius: 10px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); font-size: 1.12rem; line-height: 1.9; }
.sanad-answer[dir="rtl"] { text-align: right; font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", serif; }
.sanad-answer[dir="ltr"] { text-align: left; }
.sanad-answer[data-state="streaming"] .sanad-stream::after { content: "▍"; animation: sanad-blink 1s steps(2) infinite; }
@keyframes sanad-blink { 50% { opacity: 0; } }
.sanad-status { color: var(--body-text-color-subdued); font-style: italic; }
a.sanad-cite, span.sanad-cite { display: inline-block; min-width: 1.5em; padding: 0 0.35em; margin: 0 0.15em;
  border-radius: 0.6em; background: #2563eb; color: #fff !important; font-size: 0.8em; font-weight: 600;
  line-height: 1.5; text-align: center; text-decoration: none !important; vertical-align: super; cursor: pointer;
  font-family: system-ui, sans-serif; direction: ltr; unicode-bidi: isolate; }
span.sanad-cite { background: #64748b; cursor: default; }
.sanad-notice { margin: 0.75rem 0; padding: 0.75rem 1rem; border-radius: 8px; border-inline-start: 5px solid; }
.sanad-refusal { background: rgba(245, 158, 11, 0.14); border-color: #d97706; }
.sanad-unsupported { background: rgba(220, 38, 38, 0.09); border-color: #dc2626; }
.sanad-unsupported li { text-decoration: line-through; text-decoration-color: rgba(220, 38, 38, 0.6); }
.sanad-unsupported .why { text-decoration: none; display: inline-block; font-size: 0.85em; color: var(--body-text-color-subdued); }
.sanad-error { background: rgba(220, 38, 38, 0.12); border-color: #b91c1c; }
.sanad-notice-title { font-weight: 700; margin-bottom: 0.25rem; font-family: system-ui, sans-serif; }
.sanad-sources { margin-top: 0.9rem; }
.sanad-sources h4, .sanad-section-title { margin: 0.4rem 0; font-size: 0.95rem; font-family: system-ui, sans-serif; }
details.sanad-source, details.sanad-passage { margin: 0.4rem 0; padding: 0.45rem 0.8rem; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
details.sanad-source[open] { border-color: #2563eb; box-shadow: 0 0 0 2px rgba(37, 99, 235, 0.15); }
details summary { cursor: pointer; }
.sanad-meta { font-size: 0.85em; color: var(--body-text-color-subdued); font-family: system-ui, sans-serif; direction: ltr;
  unicode-bidi: isolate; }
.sanad-meta code { font-size: 0.95em; }
.sanad-title { font-weight: 600; }
.sanad-byline { font-weight: 600; color: #0f766e; unicode-bidi: isolate; }
.sanad-byline a { color: inherit; }
.sanad-also, .sanad-scope { font-weight: normal; color: var(--body-text-color-subdued); }
.sanad-text { margin-top: 0.4rem; white-space: pre-wrap; line-height: 1.9; }
.sanad-text mark { background: #fde047; color: #111; padding: 0 0.1em; border-radius: 3px; }
.sanad-score { font-variant-numeric: tabular-nums; }
table.sanad-timings { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.sanad-timings td, table.sanad-timings th { padding: 0.2rem 0.9rem 0.2rem 0; text-align: left; }
table.sanad-timings td.num { text-align: right; }
.sanad-status-line { padding: 0.4rem 0.8rem; border-radius: 6px; border-inline-start: 4px solid; }
.sanad-ok { background: rgba(22, 163, 74, 0.10); border-color: #16a34a; }
.sanad-problem { background: rgba(220, 38, 38, 0.10); border-color: #dc2626; }
.sanad-chat { display: flex; flex-direction: column; gap: 1.1rem; }
.sanad-turn { padding-bottom: 0.9rem; border-bottom: 1px dashed var(--border-color-primary); }
.sanad-question { align-self: flex-start; margin-bottom: 0.45rem; padding: 0.5rem 0.9rem; border-radius: 14px;
  background: rgba(37, 99, 235, 0.10); font-weight: 600; unicode-bidi: plaintext; }
.sanad-question[dir="rtl"] { text-align: right; }
.sanad-rewritten { margin: -0.2rem 0 0.45rem; font-size: 0.9em; color: var(--body-text-color-subdued); }
.sanad-conflict { background: rgba(124, 58, 237, 0.10); border-color: #7c3aed; }
.sanad-conflict ul { margin: 0.4rem 0 0; padding-inline-start: 1.2rem; }
.sanad-conflict-text[dir="rtl"] { text-align: right; }
ol.sanad-timeline { list-style: none; padding: 0; margin: 0; border-inline-start: 3px solid #0f766e; }
li.sanad-event { position: relative; margin: 0 0 0.9rem 0; padding: 0.2rem 0 0.2rem 1rem; }
li.sanad-event::before { content: ""; position: absolute; left: -0.5rem; top: 0.65rem; width: 0.7rem; height: 0.7rem;
  border-radius: 50%; background: #0f766e; }
.sanad-event-date b { font-variant-numeric: tabular-nums; }
.sanad-header h1 { margin: 0; font-size: 1.6rem; }
.sanad-header p { margin: 0.2rem 0 0; color: var(--body-text-color-subdued); }
"""

#: Opens the cited source when a [n] badge in the answer is clicked (runs once per page load).
CITE_JS = """
element.addEventListener('click', (event) => {
  const badge = event.target.closest('a.sanad-cite');
  if (!badge) return;
  event.preventDefault();
  // each turn of the conversation has its own sources: the badge's href names the one it cites
  const source = element.querySelector(badge.getAttribute('href') || ('#sanad-cite-' + badge.dataset.n));
  if (!source) return;
  source.open = true;
  source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""
