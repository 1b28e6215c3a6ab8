"""``sanad bench --sections startup``: how long a fresh ``sanad search`` process takes to print its hits.

Two parts:

* *whole process*: ``python -m rag.cli search QUESTION`` run ``runs`` times as a new process from an
  empty temporary folder (so it also proves the defaults work from any folder), after one discarded
  warm-up run; wall time, CPU time (user + sys) and peak memory of each run from ``os.wait4``, as
  min / median / max. Variants: the default (hybrid, the engine ``auto`` picks), ``--mode bm25`` (no
  model), ``--embedding-backend torch``, and optionally another checkout (``--startup-compare PATH``,
  e.g. a ``git worktree`` of an older commit) timed the same way, interleaved with ours.
* *breakdown*: one more process that runs the same steps one after the other with a stopwatch around
  each (imports, fingerprint, reference, tokenizer, OpenVINO compile, probe check, index load, first
  search), and the heaviest imports of a real run from ``python -X importtime``, with a check that
  PyTorch, ``transformers`` and sentence-transformers stayed out.

The CLI itself overlaps the model load with the index load (a thread), so the stages add up to more
than the whole-process time. On a shared machine every figure is pessimistic; the load average is
recorded with each section.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.config import SanadConfig

QUESTION = "كم عدد الجنود الأمريكيين في العراق؟"
HEAVY_MODULES = ("torch", "transformers", "sentence_transformers", "sklearn", "scipy", "gradio", "xllamacpp")
_CHECKOUT = Path(__file__).resolve().parents[1]


VARIANTS = ("default", "bm25", "torch")


def bench_startup(
    config: SanadConfig,
    *,
    runs: int = 7,
    question: str = QUESTION,
    compare: Path | None = None,
    variants: Sequence[str] = VARIANTS,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time whole ``sanad search`` processes and break one down by stage (see the module docstring).

    ``variants``: any of ``default`` (hybrid, the configured engine), ``bm25`` (no model) and ``torch``
    (``--embedding-backend torch``); the second and third get half the runs (at least 3).
    """
    from rag.index import live_version

    config = config.with_overrides(index_dir=config.index_dir.resolve(), model_dir=config.model_dir.resolve())
    live_version(config.index_dir)  # IndexMissingError says to run `sanad setup`
    flags = [
        "--index-dir",
        str(config.index_dir),
        "--model-dir",
        str(config.model_dir),
        "--embedding-model",
        config.embedding_model,
    ]
    fewer = runs if runs < 5 else max(3, runs // 2)
    chosen = {
        "default": (
            "search (hybrid, default engine)",
            _CHECKOUT,
            [*flags, "--embedding-backend", config.embedding_backend],
            runs,
        ),
        "bm25": ("search --mode bm25 (no model)", _CHECKOUT, [*flags, "--mode", "bm25"], fewer),
        "torch": ("search --embedding-backend torch", _CHECKOUT, [*flags, "--embedding-backend", "torch"], fewer),
    }
    plan = [chosen[v] for v in variants]
    if compare is not None:
        plan.insert(1, (f"search (hybrid) with {compare}", Path(compare).resolve(), flags, runs))
    rows = []
    with tempfile.TemporaryDirectory(prefix="sanad-startup-") as cwd:
        for name, root, args, n in plan:
            command = [sys.executable, "-m", "rag.cli", "search", question, "-k", "5", *args]
            log(f"  {name}: warm-up, then {n} runs")
            first = _run(command, root, Path(cwd))
            samples = [_run(command, root, Path(cwd)) for _ in range(n)]
            rows.append(
                {
                    "variant": name,
                    "checkout": str(root),
                    "runs": n,
                    "first_run_s": first["wall_s"],
                    **_summary(samples),
                    "samples": samples,
                }
            )
    for r in rows:
        log(
            f"  {r['variant']}: median {r['wall_s']['median']:.2f} s (min {r['wall_s']['min']:.2f}, "
            f"max {r['wall_s']['max']:.2f}), CPU {r['cpu_s']['median']:.2f} s, {r['max_rss_mb']['median']:.0f} MB"
        )
    breakdown = stage_breakdown(config, question)
    imports = import_profile(config, question)
    return {
        "question": question,
        "command": "python -m rag.cli search QUESTION -k 5 (from an empty folder)",
        "rows": rows,
        "stages": breakdown,
        "imports": imports,
    }


def _run(command: Sequence[str], root: Path, cwd: Path) -> dict[str, Any]:
    """One process: wall seconds, CPU seconds and peak RSS (from ``wait4``); fails loudly on a bad exit."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "HF_HUB_OFFLINE": "1",
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files, not pipes: wait4 reaps it
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0 or b"passages (" not in stdout:
        raise RuntimeError(f"`{' '.join(command[2:5])} …` exited {code}: {stderr.decode(errors='replace')[-400:]}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def _summary(samples: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        key: {
            "min": min(s[key] for s in samples),
            "median": round(statistics.median(s[key] for s in samples), 3),
            "max": max(s[key] for s in samples),
        }
        for key in ("wall_s", "cpu_s", "max_rss_mb")
    }


_STAGES = r"""
import json, sys, time
from pathlib import Path
rows = []
t = time.perf_counter(); c = time.process_time()
def lap(name):
    global t, c
    t2, c2 = time.perf_counter(), time.process_time()
    rows.append([name, round(t2 - t, 4), round(c2 - c, 4)]); t, c = t2, c2
import rag.cli; lap("import rag.cli")
import numpy; lap("import numpy")
import faiss; lap("import faiss")
from rag.retrieval import Retriever; lap("import rag.retrieval")
from rag.config import SanadConfig
from rag.embeddings import Embedder
config = SanadConfig(**json.loads(sys.argv[1]))
embedder = Embedder.from_config(config)
target = embedder.resolve()
try:
    import openvino; lap("import openvino")
    import tokenizers; lap("import tokenizers")
    from rag.models import openvino_encoder as ove, openvino_reference as ovr
    from rag.models.folders import folder_fingerprint, read_marker
    fingerprint = folder_fingerprint(Path(target)); lap("model folder fingerprint")
    folder = embedder.export_dir()
    ref = read_marker(folder, ovr.REFERENCE_FILE); lap("read stored PyTorch reference")
    stale = ovr._stale_reason(folder, ref, fingerprint); lap("check reference (package versions)")
    if stale:
        raise RuntimeError(stale)
    tok = ovr.FastTokenizer.load(folder, ref["tokenizer"]); lap("load tokenizer (compact engine)")
    compiled = ove._compile(folder, config.embed_threads); lap("OpenVINO compile (model cache)")
    enc = ove.ExportedEncoder(tok, int(ref["max_length"]), ove.PerThreadInfer(compiled), ref["pooling"],
                              name="openvino", dim=int(ref["dim"]))
    enc.encode(ref["probes"], "", len(ref["probes"])); lap("probe check (first inference)")
    embedder._exported, embedder.backend = enc, "openvino"
except Exception as exc:
    rows.append(["quick load unavailable: " + str(exc)[:120], None, None])
    t, c = time.perf_counter(), time.process_time()
    embedder.load(); lap("Embedder.load (full path)")
retriever = Retriever.load(config, None); lap("load index (FAISS, BM25, passages)")
retriever.embedder = embedder
retriever.search(sys.argv[2], k=5); lap("first search (embed question + hybrid)")
retriever.search(sys.argv[2], k=5); lap("second search")
print(json.dumps({"stages": rows, "heavy": sorted(m for m in sys.argv[3].split(",") if m in sys.modules)}))
"""


def stage_breakdown(config: SanadConfig, question: str = QUESTION) -> dict[str, Any]:
    """Per-stage wall and CPU seconds of one fresh process doing the search steps in sequence."""
    settings = {k: str(getattr(config, k)) for k in ("index_dir", "model_dir", "embedding_model", "embedding_backend")}
    settings["embed_threads"] = config.embed_threads  # type: ignore[assignment]
    env = {**os.environ, "PYTHONPATH": str(_CHECKOUT), "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="sanad-startup-") as cwd:
        done = subprocess.run(
            [sys.executable, "-c", _STAGES, json.dumps(settings), question, ",".join(HEAVY_MODULES)],
            cwd=cwd,
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=600,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"stage breakdown failed: {done.stderr[-600:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "stages": [{"stage": n, "wall_s": w, "cpu_s": c} for n, w, c in data["stages"]],
        "heavy_modules_imported": data["heavy"],
    }


def import_profile(config: SanadConfig, question: str = QUESTION, top: int = 12) -> dict[str, Any]:
    """The top-level imports of a real ``sanad search`` by cumulative time (``python -X importtime``)."""
    env = {**os.environ, "PYTHONPATH": str(_CHECKOUT), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "rag.cli",
        "search",
        question,
        "--index-dir",
        str(config.index_dir),
        "--model-dir",
        str(config.model_dir),
    ]
    with tempfile.TemporaryDirectory(prefix="sanad-startup-") as cwd:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, encoding="utf-8", errors="replace", timeout=600, check=False
        )
    imported, top_level = set(), []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue
        imported.add(name.strip())
        if not name.startswith("  "):  # nested imports are indented below the module that pulled them in
            top_level.append((name.strip(), int(cumulative) / 1e6))
    top_level.sort(key=lambda x: -x[1])
    return {
        "top": [{"module": m, "cumulative_s": round(s, 3)} for m, s in top_level[:top]],
        "heavy_modules_imported": sorted(m for m in HEAVY_MODULES if m in imported),
    }


def startup_md(st: dict | None) -> list[str]:
    """The startup section as Markdown (used by :func:`bench.report.render_markdown`)."""
    from bench.report import table

    if not st:
        return []
    lines = [
        "## Startup: `sanad search` as a fresh process",
        "",
        f"`{st['command']}`; question {st['question']!r}. Wall time is to the printed hits (the process "
        f"prints them last). CPU is user + sys of the process.",
        "",
    ]
    lines += table(
        ["variant", "runs", "wall min s", "median s", "max s", "first run s", "CPU median s", "peak RSS MB"],
        [
            [
                r["variant"],
                r["runs"],
                r["wall_s"]["min"],
                r["wall_s"]["median"],
                r["wall_s"]["max"],
                r["first_run_s"],
                r["cpu_s"]["median"],
                r["max_rss_mb"]["median"],
            ]
            for r in st["rows"]
        ],
    )
    stages = st.get("stages") or {}
    if stages.get("stages"):
        lines += [
            "",
            "One process, the same steps in sequence (the CLI overlaps the model load with the index "
            "load, so these add up to more than the whole-process time):",
            "",
        ]
        lines += table(["stage", "wall s", "CPU s"], [[s["stage"], s["wall_s"], s["cpu_s"]] for s in stages["stages"]])
        heavy = stages.get("heavy_modules_imported")
        lines += ["", f"Heavy modules imported by these steps: {', '.join(heavy) if heavy else 'none'}."]
    imports = st.get("imports") or {}
    if imports.get("top"):
        lines += ["", "Top-level imports of a real run (`python -X importtime`, cumulative):", ""]
        lines += table(["module", "s"], [[i["module"], i["cumulative_s"]] for i in imports["top"]])
        heavy = imports.get("heavy_modules_imported")
        lines += [
            "",
            f"Imported by `sanad search` of these: {', '.join(heavy) if heavy else 'none'} "
            f"(checked: {', '.join(HEAVY_MODULES)}).",
        ]
    return [*lines, ""]
