"""The ``sanad`` argument parser: every subcommand, its flags and the command each one runs.

Split from :mod:`rag.cli` (which keeps the commands and ``main``, and re-exports :func:`build_parser`) so that
the flags are read in one place. Every flag maps onto a :class:`~rag.config.SanadConfig` field (see
``rag.cli._config``). Imports stay light: the parser is built on every ``sanad`` start, and the commands
that need heavy modules (``ask``, ``serve``, ``eval``, ``doctor``...) are imported only when run (:func:`_lazy`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from rag.config import EMBEDDING_BACKENDS
from rag.types import RETRIEVAL_MODES


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run


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
    from rag import cli  # the commands; imported here, not at the top, since rag.cli imports this module

    parser = argparse.ArgumentParser(prog="sanad", description="Search and cited answers over Arabic news.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="build the offline models and the sample index")
    _common(p)
    p.add_argument(
        "--corpus-dir", type=Path, help="articles to index when no index exists (default: the checkout's data/articles)"
    )
    p.add_argument("--skip-llm", action="store_true", help="do not assemble the LLM (retrieval only)")
    p.set_defaults(func=cli.cmd_setup)

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
    p.set_defaults(func=cli.cmd_index)

    p = sub.add_parser("search", help="print the best passages for a question")
    _common(p)
    p.add_argument("question")
    _retrieval_flags(p)
    p.set_defaults(func=cli.cmd_search)

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
    p.set_defaults(func=cli.cmd_list)

    p = sub.add_parser("remove", help="delete articles from the index")
    _common(p)
    p.add_argument("doc_ids", nargs="+")
    p.set_defaults(func=cli.cmd_remove)

    p = sub.add_parser("verify", help="check every file of the index against its sha256 checksum")
    _common(p)
    p.set_defaults(func=cli.cmd_verify)

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
    p.set_defaults(func=cli.cmd_bench)

    p = sub.add_parser("doctor", help="show what is where, versions, and what is missing")
    _common(p)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--no-load", action="store_true", help="do not load the embedding model to name its engine")
    p.set_defaults(func=_lazy("rag.doctor", "cmd_doctor"))
    return parser
