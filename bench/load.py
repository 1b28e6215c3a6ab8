"""``sanad bench --sections load``: loopback clients against a real server (issue #10).

Starts the web app (``app.py``) in a subprocess on 127.0.0.1 over a copy of the configured index,
then for 1, 5, 10 and 20 clients, each with its own ``gradio_client`` connection, sends searches
for a bounded time and counts requests, errors and **wrong results** (a ranking that differs from
the one the same question got when asked alone), with p50/p95 latency per kind and the server's
resident memory. With the LLM, one more client asks at the first and last level (``ask``, sampled:
one answer each, with a deadline). Last, an upload of ``upload_mb`` of articles through
``/add_articles`` while one client keeps searching: the search p95 during the upload is the figure
for defect 4 (searches must not wait for a write).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.core import summarize_ms
from rag.config import SanadConfig

ROOT = Path(__file__).resolve().parents[1]
#: (question, mode): Arabic and English, every retrieval mode, one long input.
QUESTIONS = [
    ("كم عدد الجنود الأمريكيين في العراق؟", "hybrid"),
    ("How many countries joined the coalition against ISIS?", "dense"),
    ("ما قيمة المساعدات الإنسانية للشعب السوري؟", "hybrid"),
    ("متى التقى بايدن والسوداني في البيت الأبيض؟", "bm25"),
    ("What did the Counter-ISIS Train and Equip Fund give Iraq?", "hybrid"),
    ("انتخابات", "dense"),
    ("من هو وزير الدفاع الأمريكي؟ " * 8, "hybrid"),
    ("التحالف الدولي ضد داعش", "bm25"),
]
ASK_QUESTION = "كم عدد الجنود الأمريكيين في العراق؟"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> dict[str, float]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of ``pid`` in MB, from /proc."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(int(value.split()[0]) / 1024, 1)
    return out


@contextlib.contextmanager
def serve(config: SanadConfig, work_dir: Path, *, llm: bool, startup_s: float = 300.0) -> Iterator[tuple[str, int]]:
    """The web app on a free loopback port over a copy of the index; yields (url, server pid)."""
    index_dir, corpus_dir = work_dir / "index", work_dir / "corpus"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    shutil.copytree(config.index_dir, index_dir, ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
    corpus_dir.mkdir()
    port = _free_port()
    argv = [
        sys.executable,
        str(ROOT / "app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--index-dir",
        str(index_dir),
        "--corpus-dir",
        str(corpus_dir),
    ]
    if not llm:
        argv.append("--no-preload")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "SANAD_INDEX_DIR": str(index_dir)}
    log = open(work_dir / "server.log", "wb")  # noqa: SIM115 - closed below, after the server stops
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}); see {work_dir / 'server.log'}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not listen within {startup_s:.0f} s; see {work_dir / 'server.log'}")
            time.sleep(0.5)
        yield url, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)


def _ranking(result: Any) -> tuple[str, ...]:
    return tuple(h["chunk_id"] for h in result)


def _search(client: Any, question: str, mode: str, timeout: float) -> tuple[str, ...]:
    return _ranking(client.submit(question, 5, mode, api_name="/search").result(timeout=timeout))


def run_level(
    url: str,
    n_clients: int,
    seconds: float,
    serial: dict[tuple[str, str], tuple[str, ...]],
    *,
    asks: int = 0,
    ask_timeout: float = 300.0,
    request_timeout: float = 60.0,
) -> dict:
    """``n_clients`` threads, each its own connection, searching for ``seconds``; one more client asks ``asks`` times."""
    clients = [_client(url) for _ in range(n_clients + (1 if asks else 0))]
    lock = threading.Lock()
    stats: dict[str, Any] = {
        "search": [],
        "ask": [],
        "errors": {"search": 0, "ask": 0},
        "wrong": 0,
        "error_samples": [],
    }
    stop = time.monotonic() + seconds

    def record(kind: str, exc: BaseException) -> None:
        with lock:
            stats["errors"][kind] += 1
            if len(stats["error_samples"]) < 3:
                stats["error_samples"].append(f"{kind}: {type(exc).__name__}: {str(exc)[:160]}")

    def work(i: int) -> None:
        rng = random.Random(i)
        if i == n_clients:  # the asking client
            for _ in range(asks):
                t = time.perf_counter()
                try:
                    clients[i].submit(ASK_QUESTION, 5, "hybrid", api_name="/ask").result(timeout=ask_timeout)
                    with lock:
                        stats["ask"].append(time.perf_counter() - t)
                except Exception as exc:  # noqa: BLE001 - counted as an error of the run, not of the bench
                    record("ask", exc)
            return
        while time.monotonic() < stop:
            question, mode = rng.choice(QUESTIONS)
            t = time.perf_counter()
            try:
                got = _search(clients[i], question, mode, request_timeout)
            except Exception as exc:  # noqa: BLE001 - counted
                record("search", exc)
                continue
            with lock:
                stats["search"].append(time.perf_counter() - t)
                stats["wrong"] += got != serial[(question, mode)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for c in clients:
        with contextlib.suppress(Exception):
            c.close()
    searches = len(stats["search"]) + stats["errors"]["search"]
    return {
        "clients": n_clients,
        "seconds": round(wall, 1),
        "searches": searches,
        "search_errors": stats["errors"]["search"],
        "wrong": stats["wrong"],
        "search_per_s": round(len(stats["search"]) / wall, 2),
        "search_ms": summarize_ms(stats["search"]),
        "asks": len(stats["ask"]) + stats["errors"]["ask"],
        "ask_errors": stats["errors"]["ask"],
        "ask_ms": summarize_ms(stats["ask"]),
        "error_samples": stats["error_samples"],
    }


def make_upload(folder: Path, megabytes: float, corpus_dir: Path, *, seed: int = 0) -> list[Path]:
    """About ``megabytes`` of distinct Arabic news text (sentences of the sample articles, reshuffled)."""
    sentences = [
        s.strip() + "."
        for p in sorted(corpus_dir.glob("*.txt"))
        for s in p.read_text(encoding="utf-8").split(".")
        if len(s.strip()) > 20
    ]
    if not sentences:
        raise RuntimeError(f"no sample articles in {corpus_dir} to build the upload from")
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_files = max(1, min(20, round(megabytes / 0.5)))
    per_file = int(megabytes * 1_000_000 / n_files)
    paths = []
    for i in range(n_files):
        parts: list[str] = [f"خبر تجريبي رقم {i}"]
        size = 0
        while size < per_file:
            s = f"{rng.choice(sentences)} ({rng.randrange(10**6)})"
            parts.append(s)
            size += len(s.encode("utf-8")) + 1
        path = folder / f"load_upload_{seed}_{i:02d}.txt"
        path.write_text("\n".join(parts), encoding="utf-8")
        paths.append(path)
    return paths


def search_during_upload(url: str, files: list[Path], *, timeout: float = 1200.0, search_clients: int = 1) -> dict:
    """Upload ``files`` through ``/add_articles`` while ``search_clients`` keep searching; search latency then."""
    from gradio_client import handle_file

    uploader = _client(url)
    outcome: dict[str, Any] = {}

    def upload() -> None:
        t = time.perf_counter()
        try:
            outcome["result"] = uploader.submit([handle_file(str(p)) for p in files], api_name="/add_articles").result(
                timeout=timeout
            )
        except Exception as exc:  # noqa: BLE001 - reported
            outcome["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        outcome["upload_s"] = round(time.perf_counter() - t, 1)

    searchers = [_client(url) for _ in range(search_clients)]
    latencies: list[float] = []
    errors = 0
    writer = threading.Thread(target=upload)
    writer.start()
    lock = threading.Lock()

    def keep_searching(client: Any, seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        while writer.is_alive():
            question, mode = rng.choice(QUESTIONS)
            t = time.perf_counter()
            try:
                _search(client, question, mode, 120.0)
                with lock:
                    latencies.append(time.perf_counter() - t)
            except Exception:  # noqa: BLE001 - counted
                with lock:
                    errors += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=keep_searching, args=(c, i)) for i, c in enumerate(searchers)]
    for t in threads:
        t.start()
    writer.join()
    for t in threads:
        t.join()
    mb = sum(p.stat().st_size for p in files) / 1e6
    return {
        "upload_mb": round(mb, 2),
        "files": len(files),
        **outcome,
        "searches": len(latencies) + errors,
        "search_errors": errors,
        "search_ms": summarize_ms(latencies),
    }


def bench_load(
    config: SanadConfig,
    *,
    levels: tuple[int, ...] = (1, 5, 10, 20),
    seconds: float = 20.0,
    asks: int = 1,
    llm: bool = True,
    upload_mb: float = 5.0,
    work_dir: Path,
    log: Callable[[str], None] = print,
) -> dict:
    """The whole section: serial references, each client level, then search during an upload."""
    result: dict[str, Any] = {"levels": []}
    with serve(config, work_dir, llm=llm) as (url, pid):
        result["server_rss_at_start"] = _rss_mb(pid)
        client = _client(url)
        serial = {(q, m): _search(client, q, m, 300.0) for q, m in QUESTIONS}
        log(f"  server pid {pid} on {url}; {len(serial)} serial rankings taken; RSS {_rss_mb(pid)}")
        log(
            f"  {'clients':>7} {'searches':>8} {'errors':>6} {'wrong':>5} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>6} "
            f"{'asks':>4} {'ask err':>7} {'ask p50 s':>9} {'RSS MB':>7}"
        )
        for n in levels:
            sampled = llm and n in (levels[0], levels[-1])  # asks wait on one LLM: sample the ends only
            row = run_level(url, n, seconds, serial, asks=asks if sampled else 0)
            row.update(_rss_mb(pid))
            result["levels"].append(row)
            s, a = row["search_ms"], row["ask_ms"]
            ask_p50 = f"{a['p50_ms'] / 1000:.1f}" if a.get("n") else "-"
            log(
                f"  {n:>7} {row['searches']:>8} {row['search_errors']:>6} {row['wrong']:>5} {s.get('p50_ms', 0):>8.1f} "
                f"{s.get('p95_ms', 0):>8.1f} {row['search_per_s']:>6} {row['asks']:>4} {row['ask_errors']:>7} "
                f"{ask_p50:>9} {row.get('rss_mb', 0):>7}"
            )
            for sample in row["error_samples"]:
                log(f"    error: {sample}")
        if upload_mb > 0:
            files = make_upload(work_dir / "upload", upload_mb, ROOT / "data" / "articles")
            up = search_during_upload(url, files)
            up.update(_rss_mb(pid))
            result["upload"] = up
            s = up["search_ms"]
            log(
                f"  upload of {up['upload_mb']} MB ({up['files']} files) took {up['upload_s']} s"
                + (f", FAILED: {up['error']}" if "error" in up else "")
                + f"; {up['searches']} searches meanwhile, {up['search_errors']} errors, p50 {s.get('p50_ms', 0):.0f} ms, "
                f"p95 {s.get('p95_ms', 0):.0f} ms, max {s.get('max_ms', 0):.0f} ms; server RSS {up.get('rss_mb')} MB"
            )
    return result
