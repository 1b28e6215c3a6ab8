"""Small, dependency-free helpers the benchmark sections share: timing, percentiles, recall, memory, load."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Iterable, Sequence

import numpy as np

from rag.evaluation.metrics import percentile as _percentile


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, as ``numpy.percentile`` computes it.

    Example:
        >>> percentile([1, 2, 3, 4], 50)
        2.5
        >>> percentile([10.0], 95)
        10.0
    """
    result = _percentile(list(values), q)  # one implementation, shared with the evaluation metrics
    if result is None:
        raise ValueError("percentile of no values")
    return result


def summarize_ms(seconds: Sequence[float]) -> dict[str, float]:
    """``n``, ``mean``, ``p50``, ``p95``, ``max`` of durations given in seconds, reported in milliseconds."""
    ms = [float(s) * 1000.0 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "mean_ms": round(sum(ms) / len(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "max_ms": round(max(ms), 3),
    }


def recall_at_k(approx: Sequence[Sequence[int]], exact: Sequence[Sequence[int]], k: int = 10) -> float:
    """Mean share of the exact top-``k`` rows that the approximate search also returned in its top ``k``.

    Rows of ``-1`` (FAISS's "no result") never count. Queries whose exact list is empty are skipped.

    Example:
        >>> recall_at_k([[1, 2, 3]], [[1, 2, 4]], k=3)
        0.6666666666666666
    """
    if k <= 0:
        raise ValueError(f"k={k} must be positive")
    if len(approx) != len(exact):
        raise ValueError(f"{len(approx)} approximate result lists for {len(exact)} exact ones")
    shares = []
    for got, want in zip(approx, exact, strict=True):
        truth = {int(r) for r in list(want)[:k] if int(r) >= 0}
        if not truth:
            continue
        found = {int(r) for r in list(got)[:k] if int(r) >= 0}
        shares.append(len(truth & found) / len(truth))
    return float(sum(shares) / len(shares)) if shares else 0.0


def rss_bytes() -> int:
    """Resident memory of this process now (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def host_info() -> dict:
    """What the figures were measured on: CPUs, memory, load, library versions."""
    info: dict = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": load_average(),
    }
    try:
        with open("/proc/meminfo") as handle:
            mem = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in handle if ":" in line}
        info["mem_total_bytes"] = mem.get("MemTotal")
        info["mem_available_bytes"] = mem.get("MemAvailable")
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        if names:
            info["cpu_model"] = names[0]
    except OSError:
        pass
    for module in ("numpy", "faiss", "torch", "sentence_transformers", "bm25s", "xllamacpp"):
        with contextlib.suppress(Exception):  # a missing or odd module only loses a line of context
            info[f"{module}_version"] = __import__(module).__version__
    return info


class Stopwatch:
    """``with Stopwatch() as sw: ...; sw.s`` gives the elapsed seconds (``perf_counter``)."""

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        self.s = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self._t0


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` rounded, or ``None`` when either is missing or ``b`` is 0."""
    if a is None or b is None or not b:
        return None
    return round(float(a) / float(b), 3)


def crossing_size(sizes: Iterable[int], values: Iterable[float], limit: float) -> float | None:
    """Corpus size at which ``values`` (e.g. p95 ms, rising with size) first reach ``limit``.

    Interpolates linearly between the two measured sizes around the crossing (exact search
    costs time proportional to the corpus size); ``None`` when no measured value reaches the
    limit, the smallest size when the first one already does.

    Example:
        >>> crossing_size([1000, 10000, 100000], [1.0, 10.0, 100.0], 50.0)
        50000.0
    """
    pairs = sorted(zip(sizes, values, strict=True))
    prev = None
    for size, value in pairs:
        if value >= limit:
            if prev is None:
                return float(size)
            (s0, v0), (s1, v1) = prev, (size, value)
            if v1 == v0:
                return float(s1)
            return round(s0 + (limit - v0) / (v1 - v0) * (s1 - s0), 1)
        prev = (size, value)
    return None


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32; all-zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)
