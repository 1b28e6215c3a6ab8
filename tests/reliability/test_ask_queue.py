"""Questions under load: a bounded queue, an immediate "busy", a deadline, and honest timeouts (issue #10, defect 10).

Measured before: one LLM behind a 64-deep queue, ``/ask`` p50 130–202 s at 5–20 clients, no early
"busy", and a 120 s timeout blaming prompt length. These tests use a slow fake generator: they test
the queueing, not the model.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SEED_CORPUS, FakeEmbedder
from rag.askqueue import AskQueue
from rag.config import SanadConfig
from rag.errors import BusyError
from rag.generators.llamacpp import _timeout_message
from rag.pipeline import Sanad
from tests.fakes import FakeGenerator

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

ANSWER = "نما الائتلاف إلى 87 دولة [1]."
QUESTION = "كم دولة في التحالف الدولي؟"


class SlowGenerator(FakeGenerator):
    """Takes ``seconds`` per answer, like a busy CPU model."""

    def __init__(self, seconds: float) -> None:
        super().__init__(ANSWER)
        self.seconds = seconds

    def stream(self, messages, **kwargs):
        time.sleep(self.seconds)
        yield from super().stream(messages, **kwargs)


def _wait_for(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


# -- the queue alone ----------------------------------------------------------------------------------
def test_queue_full_refused_at_once_with_position() -> None:
    gate = AskQueue(max_waiting=2, deadline_s=10)
    release = threading.Event()

    def hold() -> None:
        with gate.admit():
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    _wait_for(lambda: gate.active == 1 and gate.waiting == 2)
    t0 = time.monotonic()
    with pytest.raises(BusyError, match="position 3") as info, gate.admit():
        pass
    assert time.monotonic() - t0 < 0.1 and info.value.position == 3
    release.set()
    for t in threads:
        t.join(5)
    assert gate.active == 0 and gate.waiting == 0


def test_queue_deadline_names_the_queue_not_the_prompt() -> None:
    gate = AskQueue(max_waiting=4, deadline_s=0.3)
    with gate.admit():
        t0 = time.monotonic()
        with pytest.raises(BusyError, match=r"waited 0\.3s in the queue .* position 1"), gate.admit():
            pass
        assert 0.25 < time.monotonic() - t0 < 2
    assert gate.waiting == 0
    with gate.admit() as ticket:  # the slot is free again
        assert ticket.position == 0


def test_queue_serves_in_arrival_order() -> None:
    gate = AskQueue(max_waiting=10, deadline_s=10)
    order: list[int] = []
    first = threading.Event()

    def ask(i: int) -> None:
        with gate.admit():
            if i == 0:
                first.wait(5)
            order.append(i)

    threads = []
    for i in range(6):
        threads.append(threading.Thread(target=ask, args=(i,)))
        threads[-1].start()
        _wait_for(lambda i=i: gate.active + gate.waiting == i + 1)
    first.set()
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def test_timeout_message_names_contention_when_others_were_running() -> None:
    assert "contention" in _timeout_message("llm", 120, 0, others=3)
    assert "processing the prompt" in _timeout_message("llm", 120, 0, others=0)
    assert "still writing" in _timeout_message("llm", 120, 12, others=0)


# -- through Sanad and the web API -------------------------------------------------------------------
def _sanad(tmp_path: Path, seconds: float, **settings) -> Sanad:
    corpus = tmp_path / "articles"
    shutil.copytree(SEED_CORPUS, corpus)
    config = SanadConfig(
        index_dir=tmp_path / "index",
        corpus_dir=corpus,
        model_dir=tmp_path / "models",
        translate_queries=False,
        **settings,
    )
    sanad = Sanad(config, embedder=FakeEmbedder(), generator=SlowGenerator(seconds))
    sanad.index([corpus])
    return sanad


def test_sanad_ask_past_the_queue_busy_at_once_others_answered(tmp_path: Path) -> None:
    sanad = _sanad(tmp_path, 0.6, ask_queue=2)
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(sanad.ask(QUESTION, mode="bm25"))
        except BusyError as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    _wait_for(lambda: sanad.asks.active == 1 and sanad.asks.waiting == 2)
    t0 = time.monotonic()
    with pytest.raises(BusyError, match=r"busy: .*position 3"):
        sanad.ask(QUESTION, mode="bm25")
    assert time.monotonic() - t0 < 0.2  # not after the others' 1.8 s
    for t in threads:
        t.join(10)
    assert len(results) == 3 and not any(isinstance(r, BusyError) for r in results)
    assert max(r.timings["queue_s"] for r in results) > 0.9  # the last one waited for two answers


def test_sanad_stream_deadline_in_queue_busy(tmp_path: Path) -> None:
    sanad = _sanad(tmp_path, 1.5, ask_queue=4, ask_deadline_s=0.3)
    worker = threading.Thread(target=lambda: sanad.ask(QUESTION, mode="bm25"))
    worker.start()
    _wait_for(lambda: sanad.asks.active == 1)
    with pytest.raises(BusyError, match=r"waited 0\.3s in the queue"):
        list(sanad.stream(QUESTION, mode="bm25"))
    worker.join(10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    from ui_helpers import free_port

    import app

    demo = app.build_app(_sanad(tmp_path, 1.0, ask_queue=1))
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_web_ask_past_the_queue_answers_busy(served: str) -> None:
    """Three clients at once, one answering and one waiting: the third is told "busy" instead of queueing."""
    gradio_client = pytest.importorskip("gradio_client")
    clients = [gradio_client.Client(served, verbose=False) for _ in range(3)]
    jobs = []
    for c in clients:
        jobs.append(c.submit(QUESTION, 5, "bm25", api_name="/ask"))
        time.sleep(0.15)
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(job.result(timeout=30)["answer"])
        except Exception as exc:  # noqa: BLE001 - the busy answer arrives as the client's exception
            outcomes.append(f"error: {exc}")
    busy = [o for o in outcomes if "busy" in o]
    assert len(busy) == 1 and "position 2" in busy[0], outcomes
    assert sum("87" in o for o in outcomes) == 2
