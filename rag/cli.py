"""The ``sanad`` command line: setup, index, search, ask, list, remove, serve, eval, bench, doctor.

Every flag maps onto a :class:`~rag.config.SanadConfig` field; ``SANAD_<FIELD>``
environment variables set the defaults. Errors print one line saying what to do, and
exit with status 2 (bad input) or 1 (anything else). The flags themselves are built in
:mod:`rag.cli_parser` (re-exported here as :func:`build_parser`); this module keeps the commands and ``main``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.cli_parser import build_parser  # re-exported: `from rag.cli import build_parser` is the public name
from rag.config import SanadConfig
from rag.errors import InputError, SanadError

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
