"""The ``sanad`` command line: setup, index, search, ask, list, remove, serve, eval, bench, doctor.

Every flag maps onto a :class:`~rag.config.SanadConfig` field; ``SANAD_<FIELD>``
environment variables set the defaults. Errors print one line saying what to do, and
exit with status 2 (bad input) or 1 (anything else).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import EMBEDDING_BACKENDS, SanadConfig
from rag.errors import InputError, SanadError
from rag.types import RETRIEVAL_MODES

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.types import Filters

logger = logging.getLogger("rag")


def _config(args: argparse.Namespace) -> SanadConfig:
    overrides = {
        name: getattr(args, name, None)
        for name in (
            "index_dir",
            "model_dir",
            "mode",
            "top_k",
            "embedding_model",
            "embedding_backend",
            "llm_backend",
            "llm_model",
            "llm_base_url",
            "corpus_dir",
            "index_factory",
            "llm_threads",
            "near_duplicates",
            "store",
            "milvus_uri",
            "ray_address",
            "ray_workers",
            "answerable_threshold",
        )
    }
    if getattr(args, "engine", None):
        overrides["index_engine"] = args.engine
    return SanadConfig.from_env(**overrides)


def _embedder(config: SanadConfig) -> Embedder:
    from rag.embeddings import Embedder

    embedder = Embedder.from_config(config)
    embedder.load()
    return embedder


# -- commands -------------------------------------------------------------------------------------
def cmd_setup(args: argparse.Namespace) -> int:
    """Prepare the offline models and index the sample corpus (idempotent)."""
    from rag.config import OFFLINE_EMBEDDING, OFFLINE_LLM

    config = _config(args)
    t0 = time.perf_counter()
    if config.embedding_model == OFFLINE_EMBEDDING:
        from rag.models.e5_offline import ensure_offline_e5

        print(f"embedding model: {ensure_offline_e5(config.model_dir)}")
    if config.llm_backend == "llama-cpp" and config.llm_model == OFFLINE_LLM and not args.skip_llm:
        from rag.models.llm_assets import ensure_default_llm

        print(f"language model: {ensure_default_llm(config.model_dir)}")
    from rag.index import IndexMissingError, read_manifest

    try:
        manifest = read_manifest(config.index_dir)
        print(f"index: {config.index_dir} ({manifest.n_articles} articles, {manifest.n_chunks} passages)")
        embedder = _embedder(config) if config.embedding_backend != "torch" else None  # exports for OpenVINO
    except IndexMissingError:
        from rag.indexer import Indexer

        embedder = _embedder(config)
        if not config.corpus_dir.is_dir():
            print(
                f"index: none yet, and no sample articles at {config.corpus_dir} (a source checkout has them); "
                f"index your own with `sanad index PATH...`"
            )
            print(f"embedding engine: {embedder.backend}")
            return 0
        report = Indexer(config, embedder).index_paths([config.corpus_dir], show_progress=True)
        print(f"index: {config.index_dir}: {report.summary()}")
    if embedder is not None:
        print(f"embedding engine: {embedder.backend}")
    print(f"setup done in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from rag.indexer import Indexer

    config = _config(args)
    paths = [Path(p) for p in (args.paths or [str(config.corpus_dir)])]
    embedder: Embedder = _embedder(config)
    ray_embedder = None
    if config.index_engine == "ray":
        from rag.distributed.ray_index import RayEmbedder

        ray_embedder = RayEmbedder(
            embedder,
            address=config.ray_address or None,
            workers=config.ray_workers or None,
            batch_size=config.ray_batch_size,
        )
    try:
        report = Indexer(config, ray_embedder or embedder).index_paths(  # type: ignore[arg-type]
            paths, prune=args.prune, rebuild=args.rebuild, show_progress=not args.quiet
        )
    finally:
        if ray_embedder is not None:
            ray_embedder.close()
    for skipped in report.skipped:
        print(f"skipped {_one_line(skipped.path)}: {_one_line(skipped.reason)}", file=sys.stderr)
    _audit(config, "index", [str(p) for p in paths], report.summary())
    print(report.summary())
    return 0


def _audit(config: SanadConfig, action: str, targets: list[str], detail: str) -> None:
    """Record a CLI write in the index's audit log (rag/access.py), like the web UI's."""
    from rag.access import AuditLog, cli_caller

    AuditLog.for_index(config.index_dir).record(cli_caller(), action, targets, "ok", detail)


def cmd_remove(args: argparse.Namespace) -> int:
    from rag.indexer import Indexer

    config = _config(args)
    report = Indexer(config, _embedder(config)).remove(args.doc_ids)
    _audit(config, "remove", list(args.doc_ids), report.summary())
    print(report.summary())
    return 0


def filters_from_args(args: argparse.Namespace) -> Filters | None:
    """The :class:`~rag.types.Filters` of ``--since/--until/--source/--doc`` (``None`` when none is given)."""
    from rag.retrieval import make_filters

    return make_filters(
        since=getattr(args, "since", None),
        until=getattr(args, "until", None),
        sources=getattr(args, "sources", None),
        doc_ids=getattr(args, "doc_ids", None),
    )


def _one_line(text: str) -> str:
    """Text made safe for one terminal line: control characters (newlines, escapes) become spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def cmd_list(args: argparse.Namespace) -> int:
    from rag.index import load_index

    index = load_index(_config(args).index_dir)
    filters = filters_from_args(args)
    counts: dict[str, int] = {}
    for c in index.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    rows: list[dict[str, Any]] = [
        {
            "doc_id": a.doc_id,
            "title": a.title,
            "chars": len(a.text),
            "passages": counts.get(a.doc_id, 0),
            "origin": a.origin,
            "published": a.published,
            "source": a.source,
            "url": a.url,
            "author": a.author,
            "also_in": [s for s in a.sources if s != a.source],
            "copies": [dict(zip(("doc_id", "source", "published", "url"), c, strict=True)) for c in a.copies],
            "flagged": a.flagged,
            "suspect_spans": [list(s) for s in a.suspect_spans],
        }
        for a in index.articles.values()
        if filters is None or filters.matches(a)
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            when = r["published"] or "----------"
            outlet = _one_line(r["source"] + (f" +{len(r['also_in'])}" if r["also_in"] else ""))
            print(
                f"{_one_line(r['doc_id'])}  {when}  {outlet[:24]:<24}  {r['passages']:>3} passages  "
                f"{'⚠ instructions inside, kept out of answers: ' if r['flagged'] else ''}{_one_line(r['title'])[:60]}"
            )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``sanad verify``: every file of the live version against its sha256 (damage raises, exit 1)."""
    from rag.index import verify_index

    print(verify_index(_config(args).index_dir))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from rag.retrieval import Retriever, check_question

    config = _config(args)
    check_question(args.question, config.max_question_chars)  # before the slow model load
    filters = filters_from_args(args)  # before the slow model load, too
    embedder, loading = None, None
    if config.mode != "bm25":
        from concurrent.futures import ThreadPoolExecutor

        from rag.embeddings import Embedder
        from rag.index import live_version

        live_version(config.index_dir)  # no index: say so now, not after loading the model
        embedder = Embedder.from_config(config)
        embedder.resolve()  # no model: say so now (`sanad setup`), not after reading the index
        # The model loads while the index does: OpenVINO compiles and infers without holding the GIL.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sanad-load")
        loading = pool.submit(embedder.load)
        pool.shutdown(wait=False)
    retriever = Retriever.load(config, embedder)
    if loading is not None:
        loading.result()
    t0 = time.perf_counter()
    hits = retriever.search(args.question, k=config.top_k, mode=config.mode, filters=filters)
    elapsed = time.perf_counter() - t0
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return 0
    scope = f", filtered: {_describe(filters)}" if filters else ""
    print(f"{len(hits)} passages ({config.mode}, {elapsed * 1000:.0f} ms{scope})")
    for h in hits:
        snippet = " ".join(h.chunk.text.split())
        where = _one_line(h.byline + (f" (also: {', '.join(h.also_in)})" if h.also_in else ""))
        print(
            f"\n[{h.rank}] {_one_line(h.doc_id)}  {where or '(outlet and date unknown)'}  score={h.score:.4f}  "
            f"chars {h.chunk.start}-{h.chunk.end}\n    {_one_line(h.title)[:80]}\n"
            f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}" + (f"\n    {h.url}" if h.url else "")
        )
    return 0


def _describe(filters: Filters) -> str:
    parts = []
    if filters.sources:
        parts.append("source " + " | ".join(filters.sources))
    if filters.since or filters.until:
        parts.append(f"dates {filters.since or '…'} to {filters.until or '…'}")
    if filters.doc_ids:
        parts.append("articles " + ", ".join(filters.doc_ids))
    return "; ".join(parts)


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run


def cmd_bench(args: argparse.Namespace) -> int:
    """``sanad bench``: the drivers live in the checkout's top-level ``bench/`` package, not in the library."""
    return int(_import_bench().cmd_bench(args))


def _import_bench() -> Any:
    """``bench.run`` from the source checkout this ``rag`` was loaded from (or from ``sys.path``).

    The bench is not installed with the library (``pip install .`` ships ``rag`` only), so an editable
    install or a run from the checkout finds it; anything else gets a message saying where it lives.
    """
    import importlib

    root = Path(__file__).resolve().parents[1]
    if (root / "bench" / "run.py").is_file() and str(root) not in sys.path:
        sys.path.append(str(root))
    try:
        return importlib.import_module("bench.run")
    except ModuleNotFoundError as exc:
        if exc.name not in ("bench", "bench.run"):
            raise
        raise SanadError(
            f"sanad bench needs the source checkout's bench/ package, which is not importable here "
            f"(looked in {root / 'bench'} and on sys.path): run it from a clone of Sanad "
            f"(git clone …; pip install -e '.[dev,bench]'; sanad bench)"
        ) from None


# -- parser ---------------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index-dir",
        type=Path,
        help="index folder (default: $SANAD_INDEX_DIR, else the user data folder, e.g. "
        "~/.local/share/sanad/index; `sanad doctor` shows it)",
    )
    p.add_argument("--model-dir", type=Path, help="model cache (default: $SANAD_MODEL_DIR, else ~/.cache/sanad/models)")
    p.add_argument("--embedding-model", help="sentence-transformers id or folder (default: the offline e5)")
    p.add_argument(
        "--embedding-backend",
        choices=EMBEDDING_BACKENDS,
        help="engine for the embedding model (default auto: OpenVINO when it gives PyTorch's vectors)",
    )
    p.add_argument(
        "--store",
        choices=("faiss", "milvus"),
        help="where the index is searched: faiss (files, default) or milvus (SANAD_MILVUS_URI)",
    )
    p.add_argument("--milvus-uri", help="Milvus Lite folder (index/milvus.db) or server (http://host:19530)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def _filter_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (applied inside retrieval: only matching articles are searched)")
    g.add_argument("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY)")
    g.add_argument("--until", metavar="DATE", help="published on or before DATE (YYYY-MM-DD, YYYY-MM or YYYY)")
    g.add_argument(
        "--source",
        dest="sources",
        action="append",
        metavar="OUTLET",
        help="only this outlet (repeat, or separate with commas, for several)",
    )
    g.add_argument(
        "--doc",
        dest="doc_ids",
        action="append",
        metavar="DOC_ID",
        help="only this article (repeat, or separate with commas, for several)",
    )


def _retrieval_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", "--top-k", dest="top_k", type=int, help="passages to return (default 5)")
    p.add_argument("--mode", choices=RETRIEVAL_MODES, help="retrieval mode (default hybrid)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    _filter_flags(p)


def _llm_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm-backend", choices=("llama-cpp", "openai", "transformers"))
    p.add_argument("--llm-model", help="GGUF path, model id (openai/transformers), or the offline default")
    p.add_argument("--llm-base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--llm-threads", type=int)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sanad", description="Search and cited answers over Arabic news.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="build the offline models and the sample index")
    _common(p)
    p.add_argument(
        "--corpus-dir", type=Path, help="articles to index when no index exists (default: the checkout's data/articles)"
    )
    p.add_argument("--skip-llm", action="store_true", help="do not assemble the LLM (retrieval only)")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("index", help="build or update the index from files and folders")
    _common(p)
    p.add_argument(
        "paths",
        nargs="*",
        help=".txt/.md/.html/.pdf/.docx files or folders (default: the checkout's "
        "data/articles); metadata from articles.jsonl/.csv manifests and "
        "*.meta.json sidecars",
    )
    p.add_argument("--prune", action="store_true", help="delete indexed articles not found under PATHS")
    p.add_argument("--rebuild", action="store_true", help="start from scratch (after changing model or chunking)")
    p.add_argument("--index-factory", help="FAISS factory string, or 'auto' (default)")
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        help="where passages are embedded: this process (default) or a Ray cluster (needs the scale extra)",
    )
    p.add_argument(
        "--ray-address",
        help="Ray cluster for --engine ray: auto, host:6379 or ray://host:10001 (default: start a local one)",
    )
    p.add_argument("--ray-workers", type=int, help="model-holding actors for --engine ray (default: one per CPU)")
    p.add_argument(
        "--near-duplicates",
        choices=("keep", "merge"),
        help="near-verbatim copies of one story from several outlets: index each (keep, the default) or "
        "once with every outlet listed (merge); identical texts are always indexed once",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="print the best passages for a question")
    _common(p)
    p.add_argument("question")
    _retrieval_flags(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with citations")
    _common(p)
    p.add_argument("question")
    _retrieval_flags(p)
    _llm_flags(p)
    p.add_argument("--no-stream", action="store_true", help="print the answer only when complete")
    p.add_argument(
        "--answerable-threshold",
        type=float,
        help="refuse before generation below this answerability score (default 0.55; 0: never)",
    )
    p.set_defaults(func=_lazy("rag.commands", "cmd_ask"))

    p = sub.add_parser("chat", help="a conversation: follow-up questions use the earlier turns")
    _common(p)
    _retrieval_flags(p)
    _llm_flags(p)
    p.add_argument(
        "--rewrite", choices=("rules", "model", "off"), help="how follow-ups are made self-contained (default rules)"
    )
    p.set_defaults(func=_lazy("rag.news_cli", "cmd_chat"))

    p = sub.add_parser("timeline", help="the dated events of a topic, oldest first, each cited")
    _common(p)
    p.add_argument("topic", help="e.g. «ماذا جرى بين واشنطن وبغداد في 2024؟» (years in the topic bound the timeline)")
    _retrieval_flags(p)
    p.set_defaults(func=_lazy("rag.news_cli", "cmd_timeline"))

    p = sub.add_parser("list", help="list the indexed articles (id, date, outlet, passages, title)")
    _common(p)
    p.add_argument("--json", action="store_true")
    _filter_flags(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", help="delete articles from the index")
    _common(p)
    p.add_argument("doc_ids", nargs="+")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("verify", help="check every file of the index against its sha256 checksum")
    _common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("serve", help="start the web UI")
    _common(p)
    _llm_flags(p)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="default 127.0.0.1 (this machine only); another address is refused unless writes are "
        "protected (SANAD_WRITE_TOKEN, --auth), --read-only, or --insecure-open-writes",
    )
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", action="append", metavar="USER:PASSWORD", help="require a login (repeatable)")
    p.add_argument("--read-only", action="store_true", help="refuse every write")
    p.add_argument(
        "--insecure-open-writes",
        action="store_true",
        help="allow a non-loopback --host with writes open to anyone (not recommended)",
    )
    p.set_defaults(func=_lazy("rag.commands", "cmd_serve"))

    p = sub.add_parser("eval", help="score retrieval, answers and citations")
    _common(p)
    _llm_flags(p)
    p.add_argument(
        "--suite",
        default="seeds",
        help="seeds, xquad, arcd, followups, conflicts, timeline, injection, or a path to a Q&A .jsonl file",
    )
    p.add_argument(
        "--rewrite",
        choices=("rules", "model", "both"),
        help="followups suite: how follow-ups are made self-contained (default rules)",
    )
    p.add_argument(
        "--mode",
        action="append",
        choices=RETRIEVAL_MODES,
        dest="modes",
        help="retrieval mode(s) to score (default: all)",
    )
    p.add_argument("--limit", type=int, help="answer at most N questions (retrieval always uses all)")
    p.add_argument("--answers", type=int, default=None, help="number of questions to answer with the LLM")
    p.add_argument(
        "--evidence",
        type=int,
        default=None,
        help="questions whose evidence selection is scored without the LLM (default: all seeds, "
        "300 for xquad/arcd; 0: skip)",
    )
    p.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    p.add_argument("--check", action="store_true", help="exit 1 when a metric falls below its README threshold")
    p.set_defaults(func=_lazy("rag.evaluation.runner", "cmd_eval"))

    p = sub.add_parser("bench", help="measure speed and memory")
    _common(p)
    _llm_flags(p)
    p.add_argument("--out", type=Path, help="results folder (default: results/ in the checkout's bench/)")
    p.add_argument("--sizes", help="corpus sizes for query latency (default 1k,10k,100k,1M; --quick: 1k,10k)")
    p.add_argument("--quick", action="store_true", help="CI-sized: sizes 1k,10k, few repeats, no LLM")
    p.add_argument(
        "--sections",
        help="comma list of indexing,search,answer,langchain,extraction,startup "
        "(default: all), or scale, load (only when named)",
    )
    p.add_argument("--runs", type=int, help="startup: whole-process runs of `sanad search` (default 7)")
    p.add_argument(
        "--startup-compare",
        type=Path,
        metavar="CHECKOUT",
        help="startup: also time this other source checkout (e.g. a git worktree of an older commit)",
    )
    p.add_argument("--repeats", type=int, help="passes over the questions per latency figure (default 3)")
    p.add_argument("--queries", type=int, help="real questions to time (default 50)")
    p.add_argument("--ef-search", help="HNSW efSearch values to sweep, e.g. 32,64,128,256")
    p.add_argument(
        "--approx-factory",
        help="approximate FAISS index(es) to compare with Flat, ';'-separated "
        "(default: the config's approx_factory;IVF1024,Flat)",
    )
    p.add_argument(
        "--synthetic",
        choices=("both", "spread", "clustered"),
        help="structure of the synthetic vectors for the approximate indexes (default both)",
    )
    p.add_argument("--answer-questions", type=int, help="seed questions to answer with the LLM (default 5)")
    p.add_argument("--no-llm", action="store_true", help="skip the answer and LangChain sections")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime embedding comparison")
    p.add_argument("--limit", type=int, help="--sections scale: articles of SaudiNewsNet to index (default all)")
    p.add_argument(
        "--throughput-passages",
        type=int,
        help="--sections scale: passages each engine embeds in the throughput comparison (default 2000)",
    )
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("doctor", help="show what is where, versions, and what is missing")
    _common(p)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--no-load", action="store_true", help="do not load the embedding model to name its engine")
    p.set_defaults(func=_lazy("rag.doctor", "cmd_doctor"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if _offline_default(args):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"sanad: {exc}", file=sys.stderr)
        return 2
    except SanadError as exc:
        print(f"sanad: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sanad: interrupted; the index is unchanged unless the run reported success", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as exc:  # the disk, a permission, a vanished file: one line, not a traceback
        print(f"sanad: {_one_line(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line unless -v asked for the traceback
        if args.verbose:
            raise
        print(
            f"sanad: unexpected {type(exc).__name__}: {_one_line(str(exc))[:300]} (run with -v for the traceback, "
            f"and please report it)",
            file=sys.stderr,
        )
        return 1


def _offline_default(args: Any) -> bool:
    """Stay off the network unless the user named a hub model."""
    from rag.config import OFFLINE_EMBEDDING

    return (
        getattr(args, "embedding_model", None) or os.environ.get("SANAD_EMBEDDING_MODEL", OFFLINE_EMBEDDING)
    ) == OFFLINE_EMBEDDING


if __name__ == "__main__":
    sys.exit(main())
