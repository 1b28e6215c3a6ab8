"""The indexes an evaluation searches: a suite's own (XQuAD, ARCD, the injection cases bring their articles),
or the configured one, built from ``corpus_dir`` when there is none yet.

Used by :mod:`rag.evaluation.runner`, :mod:`rag.evaluation.news_suites`,
:mod:`rag.evaluation.injection` and :mod:`rag.evaluation.fusion`. Progress goes to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from rag.errors import IndexMismatchError, IndexMissingError, SanadError
from rag.evaluation.datasets import Suite
from rag.pipeline import Sanad

logger = logging.getLogger(__name__)


def ensure_suite_index(sanad: Sanad, suite: Suite, index_dir: Path, *, show_progress: bool = True) -> Sanad:
    """A :class:`Sanad` over ``index_dir`` holding exactly ``suite.articles``, sharing ``sanad``'s models.

    The index is left alone when its manifest matches the settings and the articles
    (same corpus fingerprint); otherwise it is updated (only new or changed paragraphs
    are embedded) or, after a settings change, rebuilt.
    """
    from rag.index import corpus_fingerprint, read_manifest
    from rag.indexer import Indexer, expected_manifest

    config = sanad.config.with_overrides(index_dir=Path(index_dir))
    embedder = sanad.embedder
    embedder.load()
    expected = expected_manifest(config, embedder.fingerprint)
    articles = list(suite.articles)
    rebuild = False
    try:
        manifest = read_manifest(config.index_dir)
        manifest.check_matches(expected)
        fresh = manifest.corpus_fingerprint == corpus_fingerprint(articles)
    except IndexMissingError:
        fresh = False
    except (IndexMismatchError, SanadError) as exc:
        logger.warning("rebuilding the %s index in %s: %s", suite.name, config.index_dir, exc)
        fresh, rebuild = False, True
    if not fresh:
        t = time.perf_counter()
        print(f"indexing {len(articles)} {suite.name} paragraphs into {config.index_dir} …", file=sys.stderr)
        report = Indexer(config, embedder).apply(articles, prune=True, rebuild=rebuild, show_progress=show_progress)
        print(f"{report.summary()} [{time.perf_counter() - t:.1f} s]", file=sys.stderr)
    return Sanad(config, embedder=embedder, generator=sanad._generator)  # noqa: SLF001 - share the loaded LLM, if any


def ensure_corpus_index(sanad: Sanad, *, show_progress: bool = True) -> None:
    """Build the configured index from ``config.corpus_dir`` when there is none yet."""
    from rag.index import read_manifest
    from rag.indexer import Indexer

    try:
        read_manifest(sanad.config.index_dir)
    except IndexMissingError:
        print(f"no index in {sanad.config.index_dir}; indexing {sanad.config.corpus_dir} …", file=sys.stderr)
        sanad.embedder.load()
        report = Indexer(sanad.config, sanad.embedder).index_paths(
            [sanad.config.corpus_dir], show_progress=show_progress
        )
        print(report.summary(), file=sys.stderr)
        sanad._retriever = None  # noqa: SLF001 - reload the index the eval just built
