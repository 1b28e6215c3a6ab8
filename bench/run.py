"""``sanad bench``: runs the sections, prints their tables, writes the JSON record and the Markdown."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.core import host_info, load_average, ratio
from bench.report import render_markdown, write_results
from rag.config import SanadConfig
from rag.errors import InputError

logger = logging.getLogger(__name__)

SECTIONS = ("indexing", "search", "answer", "langchain", "extraction", "startup")
#: Sections that run only when named in --sections: scale starts Ray clusters and a Milvus server (bench/scale.py).
OPTIONAL_SECTIONS = ("scale", "load")  # load: loopback clients against the web app (bench/load.py)
FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
LANGCHAIN_FILE = Path(__file__).resolve().parent / "langchain_baseline.py"


@dataclass
class BenchOptions:
    """What to measure and how much; :meth:`quick_preset` is the CI-sized run."""

    sizes: tuple[int, ...] = FULL_SIZES
    sections: tuple[str, ...] = SECTIONS
    repeats: int = 3
    queries: int = 50
    embed_passages: int = 200
    batch_sizes: tuple[int, ...] = (1, 8, 16, 32)
    threads: tuple[int, ...] = (1, 2)
    unsorted_batch_sizes: tuple[int, ...] = (16, 32)
    onnx: bool = True
    ef_searches: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
    approx_factories: tuple[str, ...] | None = None
    answer_questions: int = 5
    use_xquad: bool = True
    structures: tuple[str, ...] = ("spread", "clustered")
    quick: bool = False
    startup_runs: int = 7
    startup_compare: Path | None = None
    out: Path = RESULTS_DIR
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def quick_preset(cls, **overrides: Any) -> BenchOptions:
        base = {
            "sizes": QUICK_SIZES,
            "sections": ("indexing", "search"),
            "repeats": 1,
            "queries": 20,
            "embed_passages": 32,
            "batch_sizes": (8, 16),
            "threads": (1,),
            "unsorted_batch_sizes": (16,),
            "onnx": False,
            "ef_searches": (16, 64, 128),
            "approx_factories": ("HNSW32,Flat", "IVF64,Flat"),
            "answer_questions": 0,
            "quick": True,
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"1000,10k,1M"`` -> ``(1000, 10000, 1000000)``.

    Example:
        >>> parse_sizes("1000, 10k,1M")
        (1000, 10000, 1000000)
    """
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        mult = 1
        if part[-1] in "km":
            mult = 1_000 if part[-1] == "k" else 1_000_000
            part = part[:-1]
        try:
            value = int(float(part) * mult)
        except ValueError:
            raise InputError(f"--sizes: {part!r} is not a number (use e.g. 1000,10000 or 1k,1M)") from None
        if value < 300:
            raise InputError(f"--sizes: {value} is too small; the synthetic corpus needs at least 300 passages")
        sizes.append(value)
    if not sizes:
        raise InputError("--sizes is empty")
    return tuple(sorted(set(sizes)))


def _load_langchain_module():
    """``bench/langchain_baseline.py`` as a module (``None`` when the file is absent).

    Imported by name (not by file), so pydantic resolves the module's annotations through ``sys.modules``.
    """
    if not LANGCHAIN_FILE.is_file():
        return None
    return importlib.import_module("bench.langchain_baseline")


def run_bench(config: SanadConfig, options: BenchOptions, *, log: Callable[[str], None] = print) -> dict:
    """Run the chosen sections and return the result record (also written by :func:`cmd_bench`)."""
    from rag.embeddings import Embedder

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    host = host_info()
    result: dict[str, Any] = {
        "meta": {
            "started": started,
            "quick": options.quick,
            "host": host,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
            "config": config.to_dict(),
        },
        "skipped": {},
    }
    cpus = host.get("cpus") or 1
    if host.get("load_avg") and host["load_avg"][0] > 0.5 * cpus:
        result["meta"]["load_warning"] = (
            f"the machine was busy (load {host['load_avg'][0]} on {cpus} CPUs): "
            f"absolute timings are pessimistic; compare ratios, or rerun on a quiet machine"
        )
    cache_dir = options.out / "cache"
    embedder = Embedder.from_config(config)
    sections = set(options.sections)

    def guarded(name: str, fn: Callable[[], Any]) -> Any:
        """Run one section; a failure is recorded (and the other sections still run)."""
        try:
            return fn()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            logger.exception("bench section %s failed", name)
            log(f"  section {name} failed: {type(exc).__name__}: {exc}")
            result.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
            return None

    if "indexing" in sections:
        from bench.embedding import bench_indexing

        log("== indexing throughput")
        result["indexing"] = guarded(
            "indexing",
            lambda: bench_indexing(
                config,
                n_passages=options.embed_passages,
                batch_sizes=options.batch_sizes,
                threads=options.threads,
                repeats=1 if options.quick else 2,
                unsorted_batch_sizes=options.unsorted_batch_sizes,
                onnx=options.onnx,
                cache_dir=cache_dir / "onnx",
                embedder=embedder,
                log=log,
            ),
        )
    if "startup" in sections:  # first: fresh processes, before this one has warmed anything for them
        from bench.startup import bench_startup

        log("== startup (sanad search as a fresh process)")
        result["startup"] = guarded(
            "startup",
            lambda: bench_startup(config, runs=options.startup_runs, compare=options.startup_compare, log=log),
        )
    if "search" in sections:
        from bench.search import bench_search

        log("== query latency")
        result["search"] = guarded(
            "search",
            lambda: bench_search(
                config,
                sizes=options.sizes,
                repeats=options.repeats,
                n_queries=options.queries,
                ef_searches=options.ef_searches,
                approx_factories=options.approx_factories,
                use_xquad=options.use_xquad,
                structures=options.structures,
                cache_dir=cache_dir,
                embedder=embedder,
                log=log,
            ),
        )
    sanad = None
    # a busy machine can push a long prompt past the interactive timeout; the bench measures, it does not give up
    llm_config = config.with_overrides(llm_timeout_s=max(config.llm_timeout_s, 900.0))
    if "answer" in sections and options.answer_questions > 0:
        from bench.answering import bench_answers, bench_generator
        from rag.pipeline import Sanad

        log("== answer latency")
        sanad = Sanad(llm_config, embedder=embedder, generator=bench_generator(llm_config))
        result["answer"] = guarded(
            "answer", lambda: bench_answers(llm_config, n_questions=options.answer_questions, sanad=sanad, log=log)
        )
    elif "answer" in sections:
        result["skipped"]["answer"] = "no questions to answer (--quick runs without the LLM)"
    if "langchain" in sections and options.answer_questions > 0:
        result["langchain"] = guarded(
            "langchain", lambda: _langchain_section(llm_config, options, sanad, embedder, result, log)
        )
    elif "langchain" in sections:
        result["skipped"]["langchain"] = "no questions to answer (--quick runs without the LLM)"

    if "load" in sections:
        from bench.load import bench_load

        log("== load: 1/5/10/20 loopback clients against the web app, then search during an upload")
        quick = options.quick
        result["load"] = guarded(
            "load",
            lambda: bench_load(
                config,
                seconds=8.0 if quick else 20.0,
                asks=0 if quick else 1,
                llm=not quick and not options.extra.get("no_llm", False),
                upload_mb=1.0 if quick else 5.0,
                work_dir=options.out / "load-work",
                log=log,
            ),
        )
    if "scale" in sections:
        from bench.scale import bench_scale

        log("== scale: Ray and Milvus vs the local engines (SaudiNewsNet)")
        limit = options.extra.get("limit")
        result["scale"] = guarded(
            "scale",
            lambda: bench_scale(
                config,
                limit=limit,
                n_queries=options.queries,
                synthetic_sizes=options.extra.get("scale_sizes", ()),
                throughput_passages=options.extra.get("throughput_passages", 2000),
                work_dir=options.out / "scale-work",
                log=log,
            ),
        )
    if "extraction" in sections:
        from bench.extraction import bench_extraction

        log("== extraction quality (PDF, DOCX, saved pages made from the seed articles)")
        result["extraction"] = guarded("extraction", lambda: bench_extraction(config, log=log))

    result["recommendations"] = recommendations(result, config)
    result["meta"]["duration_s"] = round(time.perf_counter() - t0, 1)
    result["meta"]["load_avg_end"] = load_average()
    for key in [k for k, v in result.items() if v is None or v == {}]:
        del result[key]
    return result


def _langchain_section(config, options, sanad, embedder, result, log) -> dict | None:
    module = _load_langchain_module()
    if module is None:
        result["skipped"]["langchain"] = f"{LANGCHAIN_FILE} not found (run from a source checkout)"
        return None
    try:
        import langchain_core  # noqa: F401
    except ImportError:
        msg = f"LangChain is not installed: {module.INSTALL_HINT}"
        log(f"  skipping the LangChain comparison. {msg}")
        result["skipped"]["langchain"] = msg
        return None
    try:
        import langchain_community  # noqa: F401
    except ImportError:
        log(f"  langchain-community is missing ({module.INSTALL_HINT}); using InMemoryVectorStore instead of FAISS")
    from bench.answering import bench_generator
    from bench.data import answer_questions
    from rag.pipeline import Sanad

    log("== LangChain baseline")
    sanad = sanad or Sanad(config, embedder=embedder, generator=bench_generator(config))
    questions = answer_questions(options.answer_questions)
    lc = module.run_baseline(config, questions, sanad=sanad, log=log)
    ours = (result.get("answer") or {}).get("variants", {}).get("default", {}).get("summary")
    if ours:
        theirs = lc["summary"]
        lc["comparison"] = {
            stage: {
                "sanad": ours.get(key),
                "langchain": theirs.get(key),
                "ratio": ratio(theirs.get(key), ours.get(key)),
            }
            for stage, key in (
                ("retrieval s", "mean_retrieval_s"),
                ("prompt tokens", "mean_prompt_tokens"),
                ("LLM time to first token s", "mean_ttft_s"),
                ("question to first token s", "mean_first_token_s"),
                ("generation tok/s", "mean_gen_tokens_per_s"),
                ("answer tokens", "mean_completion_tokens"),
                ("total s", "mean_total_s"),
                ("accuracy (accepted answer string)", "accuracy"),
            )
        }
    return lc


def recommendations(result: dict, config: SanadConfig) -> dict[str, str]:
    """Plain-language advice drawn from the figures (the lead decides the defaults)."""
    rec: dict[str, str] = {}
    ix = result.get("indexing")
    if ix and ix.get("fastest_default_engine"):
        best, default = ix["fastest_default_engine"], ix["default"]
        gain = best["chunks_per_s"] / default["chunks_per_s"] if default["chunks_per_s"] else 1
        if (best["threads"], best["batch_size"]) != (default["threads"], default["batch_size"]) and gain > 1.10:
            rec["embedding"] = (
                f"embed_threads={best['threads']}, embed_batch_size={best['batch_size']}: "
                f"{best['chunks_per_s']} vs {default['chunks_per_s']} chunks/s with the defaults "
                f"({gain:.2f}x, same vectors)"
            )
        else:
            rec["embedding"] = (
                f"keep embed_threads={default['threads']}, embed_batch_size={default['batch_size']} "
                f"(nothing measured more than 10% faster: within noise)"
            )
        same = ix.get("fastest_same_embeddings")
        if (
            same
            and same["backend"] != default.get("backend", "torch")
            and default["chunks_per_s"]
            and same["chunks_per_s"] / default["chunks_per_s"] > 1.10
        ):
            rec["embedding_backend"] = (
                f"{same['backend']} ({same['threads']} thread(s), batch {same['batch_size']}) "
                f"embeds {same['chunks_per_s']} chunks/s with min cosine "
                f"{same['min_cosine_vs_default']} vs PyTorch's vectors, against "
                f"{default['chunks_per_s']} with the default engine"
            )
    se = result.get("search")
    if se and se.get("summary"):
        s = se["summary"]
        if s.get("suggested_approx_threshold"):
            rec["approx_threshold"] = (
                f"{s['suggested_approx_threshold']:,}: exact Flat search alone reaches p95 "
                f"50 ms at about {s['flat_crosses_target_at']:,.0f} passages "
                f"(now {config.approx_threshold:,})"
            )
            if s.get("flat_crosses_budget_after_embedding_at"):
                rec["approx_threshold"] += (
                    f"; counting the question embedding (p95 {s['query_embedding_p95_ms']} ms) "
                    f"exact search fits the remaining {s['search_budget_after_embedding_ms']} "
                    f"ms up to about {s['flat_crosses_budget_after_embedding_at']:,.0f} passages"
                )
        elif s.get("note"):
            rec["approx_threshold"] = s["note"]
        best = s.get("best_approx")
        if best:
            rec["approx_index"] = (
                f"{best['factory']} with {best['param']}={best['value']}: recall@10 "
                f"{best['recall_at_10']} (worst of {', '.join(best.get('structures', []))}) vs exact "
                f"at {s['largest_size']:,} passages, index p95 "
                f"{best['p95_ms']} ms, build {best['build_s']} s, "
                f"{best['structure_bytes_per_chunk']} bytes/passage over the vectors"
            )
            configured = {"efSearch": config.hnsw_ef_search, "nprobe": getattr(config, "ivf_nprobe", None)}
            rec["approx_index"] += (
                f" (configured: approx_factory={config.approx_factory}, "
                f"{best['param']}={configured.get(best['param'])})"
            )
            others = {f: e for f, e in s.get("approx_at_largest", {}).items() if f != best["factory"]}
            for factory, e in others.items():
                rec[f"approx_index vs {factory}"] = (
                    f"{factory}: {'meets' if e.get('meets_recall_target') else 'misses'} recall 0.95 "
                    f"(best {e['recall_at_10']} at {e['param']}={e['value']}, p95 {e['p95_ms']} ms), build {e['build_s']} s"
                )
        elif s.get("approx_at_largest"):
            rec["approx_index"] = (
                f"no approximate index reached recall@10 0.95 at {s['largest_size']:,} passages: "
                + "; ".join(
                    f"{f} best {e['recall_at_10']} at {e['param']}={e['value']}"
                    for f, e in s["approx_at_largest"].items()
                )
                + " — sweep wider (--ef-search) or build a better graph"
            )
        threads = [r.get("faiss_threads") for r in se.get("sizes", []) if r.get("faiss_threads")]
        if threads and threads[-1] == 1 and 2 * threads.count(1) > len(threads) and se.get("faiss_threads", 1) > 1:
            flat = {r["n"]: r["flat"].get("index_search_by_threads", {}) for r in se.get("sizes", [])}
            largest = max(flat)
            by_t = flat[largest]
            rec["faiss_threads"] = (
                f"one FAISS thread answered single queries faster than {se['faiss_threads']} "
                f"at {threads.count(1)} of {len(threads)} sizes (exact search at {largest:,}: "
                + ", ".join(f"{t} thread(s) p95 {v['p95_ms']} ms" for t, v in by_t.items())
                + "): call faiss.omp_set_num_threads(1) when serving one query at a time "
                "(check on a quiet machine: idle cores may reverse this)"
            )
    an = result.get("answer")
    if an and an.get("summary"):
        s = an["summary"]
        base = (
            f"default TTFT mean {s.get('default_mean_ttft_s')} s, max {s.get('default_max_ttft_s')} s "
            f"(target {s.get('ttft_target_s')} s)"
        )
        best = s.get("fastest_without_accuracy_loss") or s.get("fastest_variant")
        if best:
            base += (
                f"; fastest without accuracy loss on these questions: {best['name']} {best['overrides']} "
                f"TTFT mean {best['mean_ttft_s']} s, max {best['max_ttft_s']} s, accuracy {best['accuracy']} — "
                f"check with `sanad eval` before changing defaults"
            )
        rec["llm"] = base
    return rec


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    sizes = parse_sizes(args.sizes) if getattr(args, "sizes", None) else None
    sections = tuple(s.strip() for s in args.sections.split(",")) if getattr(args, "sections", None) else None
    if sections:
        unknown = sorted(set(sections) - set(SECTIONS) - set(OPTIONAL_SECTIONS))
        if unknown:
            raise InputError(f"--sections: unknown {unknown}; choose from {', '.join(SECTIONS + OPTIONAL_SECTIONS)}")
    common = {
        "out": args.out,
        "repeats": getattr(args, "repeats", None),
        "queries": getattr(args, "queries", None),
        "approx_factories": (
            tuple(f.strip() for f in args.approx_factory.split(";") if f.strip())
            if getattr(args, "approx_factory", None)
            else None
        ),
        "answer_questions": getattr(args, "answer_questions", None),
        "startup_runs": getattr(args, "runs", None),
        "startup_compare": getattr(args, "startup_compare", None),
    }
    if common["startup_runs"] is not None and common["startup_runs"] < 1:
        raise InputError(f"--runs {common['startup_runs']}: give at least 1 (the table needs 5 or more)")
    if getattr(args, "ef_search", None):
        common["ef_searches"] = tuple(int(x) for x in args.ef_search.split(","))
    if getattr(args, "no_onnx", False):
        common["onnx"] = False
    synthetic = getattr(args, "synthetic", None)
    if synthetic:
        common["structures"] = ("spread", "clustered") if synthetic == "both" else (synthetic,)
    if args.quick:
        opts = BenchOptions.quick_preset(**common)
        if sizes:
            opts.sizes = sizes
        if sections:
            opts.sections = sections
            if ("answer" in sections or "langchain" in sections) and not getattr(args, "answer_questions", None):
                opts.answer_questions = 5
        return opts
    opts = BenchOptions(**{k: v for k, v in common.items() if v is not None})
    if sections and "scale" in sections:  # --sizes are the synthetic sizes beyond the real corpus there
        opts.extra.update(
            limit=getattr(args, "limit", None),
            scale_sizes=sizes or (),
            throughput_passages=getattr(args, "throughput_passages", None) or 2000,
        )
    if sizes:
        opts.sizes = sizes
    if sections:
        opts.sections = sections
    if getattr(args, "no_llm", False):
        opts.sections = tuple(s for s in opts.sections if s not in ("answer", "langchain"))
        opts.extra["no_llm"] = True
    return opts


def cmd_bench(args: argparse.Namespace) -> int:
    """The ``sanad bench`` command."""
    from rag.cli import _config

    config = _config(args)
    options = options_from_args(args)
    sizes = f"; sizes {', '.join(f'{n:,}' for n in options.sizes)}" if "search" in options.sections else ""
    print(f"sanad bench: sections {', '.join(options.sections)}{sizes}; results in {options.out}", flush=True)
    result = run_bench(config, options, log=lambda line: print(line, flush=True))
    paths = write_results(result, options.out)
    print()
    print(render_markdown(result))
    print(f"wrote {paths['json']}, {paths['latest_json']} and {paths['latest_markdown']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from rag.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
