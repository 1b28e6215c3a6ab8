"""Building and updating the index incrementally: ingest → chunk → embed → store + BM25.

Unchanged articles (same content hash) keep their passages and vectors; changed ones
are re-chunked and re-embedded; ``prune`` or :meth:`Indexer.remove` deletes articles.
Every update writes a complete new index version and swaps it in atomically, so a
failure at any step leaves the previous index as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.bm25 import BM25Index
from rag.chunking import Chunker
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import IndexMissingError, InputError, SanadError
from rag.index import IndexData, Manifest, load_index, save_index, write_lock
from rag.ingest import Ingestor, SkippedFile
from rag.store import VectorStore, choose_factory
from rag.types import Article, Chunk

if TYPE_CHECKING:
    from rag.stores import VersionWriter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexReport:
    """What an update did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    n_articles: int = 0
    n_chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.n_articles} articles, {self.n_chunks} passages in the index "
            f"(added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)}; embedded {self.embedded_chunks} "
            f"passages in {self.seconds:.1f} s)"
        )


def expected_manifest(config: SanadConfig, embedder_name: str) -> dict[str, object]:
    """The manifest values that ``config`` implies (checked when an index is loaded)."""
    from rag.index import FORMAT_VERSION
    from rag.textnorm import NORMALIZER_VERSION, TOKENIZER_VERSION

    return {
        "format_version": FORMAT_VERSION,
        "embedding_model": embedder_name,
        "normalizer_version": NORMALIZER_VERSION,
        "tokenizer_version": TOKENIZER_VERSION,
        "chunk_tokens": config.chunk_tokens,
        "chunk_overlap_tokens": config.chunk_overlap_tokens,
    }


class Indexer:
    """Keeps the index in ``config.index_dir`` in step with a set of articles.

    Example:
        >>> indexer = Indexer(SanadConfig(), embedder)          # doctest: +SKIP
        >>> indexer.index_paths([Path("data/articles")]).summary()  # doctest: +SKIP
    """

    def __init__(self, config: SanadConfig, embedder: Embedder, ingestor: Ingestor | None = None) -> None:
        self.config = config
        self.embedder = embedder
        self.ingestor = ingestor or Ingestor.from_config(config)

    def _chunker(self) -> Chunker:
        self.embedder.load()
        return Chunker(self.config.chunk_tokens, self.config.chunk_overlap_tokens, self.embedder.count_tokens)

    def _existing(self, rebuild: bool) -> IndexData | None:
        if rebuild:
            return None
        try:
            return load_index(
                self.config.index_dir, expected_manifest(self.config, self.embedder.fingerprint), upgrade=True
            )  # an older format is read once more, to be rewritten
        except IndexMissingError:
            return None

    # -- public verbs -----------------------------------------------------------------------
    def index_paths(
        self, paths: Sequence[Path], *, prune: bool = False, rebuild: bool = False, show_progress: bool = False
    ) -> IndexReport:
        """Add or update the articles found under ``paths``.

        Args:
            prune: also delete indexed articles that are no longer found under ``paths``.
            rebuild: ignore the existing index (e.g. after changing the model or chunk size).
        """
        files = self.ingestor.discover(list(paths))
        if not files:
            raise InputError(
                f"no .txt, .md, .html, .pdf or .docx files found in {', '.join(map(str, paths))}; nothing was changed"
            )
        articles, skipped = self.ingestor.run(list(paths))
        if not articles:
            raise InputError(
                "none of the files could be read (" + "; ".join(s.reason for s in skipped) + "); nothing was changed"
            )
        return self.apply(articles, prune=prune, rebuild=rebuild, skipped=skipped, show_progress=show_progress)

    def add_articles(self, articles: Sequence[Article], *, show_progress: bool = False) -> IndexReport:
        """Add or replace the given articles, keeping everything else."""
        return self.apply(list(articles), prune=False, rebuild=False, show_progress=show_progress)

    def remove(self, doc_ids: Sequence[str]) -> IndexReport:
        """Delete articles by id; unknown ids raise :class:`InputError` and change nothing."""
        with write_lock(self.config.index_dir):
            existing = self._existing(rebuild=False)
            if existing is None:
                raise IndexMissingError(f"no index in {self.config.index_dir}; nothing to remove")
            unknown = sorted(set(doc_ids) - set(existing.articles))
            if unknown:
                raise InputError(f"not in the index: {', '.join(unknown)}; `sanad list` shows the article ids")
            keep = [a for a in existing.articles.values() if a.doc_id not in set(doc_ids)]
            return self._commit(keep, existing, {}, removed=tuple(sorted(doc_ids)), start=time.perf_counter())

    def apply(
        self,
        articles: list[Article],
        *,
        prune: bool,
        rebuild: bool,
        skipped: Sequence[SkippedFile] = (),
        show_progress: bool = False,
    ) -> IndexReport:
        """Merge ``articles`` into the index (the one place that decides what to re-embed)."""
        start = time.perf_counter()
        with write_lock(self.config.index_dir):
            existing = self._existing(rebuild)
            old = existing.articles if existing else {}
            articles, refused = self.ingestor.screen(articles, old)  # id conflicts, texts already indexed
            skipped = (*skipped, *refused)
            incoming = {a.doc_id: a for a in articles}
            # A file that failed or conflicted this time still exists: --prune keeps its article.
            present = {s.doc_id for s in skipped if s.kind in ("error", "conflict")}
            added = tuple(sorted(d for d in incoming if d not in old))
            updated = tuple(sorted(d for d in incoming if d in old and old[d].sha != incoming[d].sha))
            unchanged = tuple(sorted(d for d in incoming if d in old and old[d].sha == incoming[d].sha))
            removed = tuple(sorted(d for d in old if d not in incoming and d not in present)) if prune else ()
            final = {**{d: a for d, a in old.items() if d not in removed}, **incoming}
            # Unchanged articles keep their old record so their passages and vectors are reused;
            # metadata given since (a new manifest or sidecar) is taken over.
            for d in unchanged:
                new = incoming[d]
                final[d] = replace(
                    old[d],
                    title=new.title,
                    origin=new.origin,
                    published=new.published,
                    source=new.source,
                    url=new.url,
                    author=new.author,
                    copies=new.copies,
                )
            to_embed = {d: final[d] for d in (*added, *updated)}
            return self._commit(
                list(final.values()),
                existing,
                to_embed,
                added=added,
                updated=updated,
                unchanged=unchanged,
                removed=removed,
                skipped=tuple(skipped),
                start=start,
                show_progress=show_progress,
            )

    def _publish(self, writer: VersionWriter, version: Path) -> None:
        """Point the store's alias at the new version, then drop the versions whose folders are gone.

        ``CURRENT`` already names the new version, so Sanad's readers use it whatever happens here; a
        failed alias switch only leaves stateless readers of the alias on the previous version until
        the next build, and is logged rather than raised.
        """
        try:
            writer.publish()
            writer.store.prune([p.name for p in self.config.index_dir.glob("v-*") if p.is_dir()])
        except SanadError as exc:
            logger.warning(
                "version %s is live, but the %s store could not publish it to its alias: %s",
                version.name,
                writer.store.kind,
                exc,
            )

    # -- the single write path -----------------------------------------------------------------
    def _commit(
        self,
        articles: list[Article],
        existing: IndexData | None,
        to_embed: dict[str, Article],
        *,
        start: float,
        show_progress: bool = False,
        **report: tuple,
    ) -> IndexReport:
        articles = sorted(articles, key=lambda a: a.doc_id)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        chunker = self._chunker()
        fresh_chunks = {d: chunker.run(a) for d, a in to_embed.items()}
        timings["chunk_s"] = time.perf_counter() - t

        t = time.perf_counter()
        new_list = [c for d in sorted(fresh_chunks) for c in fresh_chunks[d]]
        new_vectors = self.embedder.embed_passages([c.text for c in new_list], show_progress=show_progress)
        timings["embed_s"] = time.perf_counter() - t
        fresh_rows = {c.chunk_id: i for i, c in enumerate(new_list)}

        old_rows: dict[str, int] = {}
        old_vectors: np.ndarray | None = None
        if existing is not None:
            old_rows = {c.chunk_id: i for i, c in enumerate(existing.chunks)}
            old_vectors = existing.embeddings()
        old_by_doc: dict[str, list[Chunk]] = {}
        if existing is not None:
            for c in existing.chunks:
                old_by_doc.setdefault(c.doc_id, []).append(c)

        chunks: list[Chunk] = []
        rows: list[np.ndarray] = []
        for article in articles:
            if article.doc_id in fresh_chunks:
                for c in fresh_chunks[article.doc_id]:
                    chunks.append(c)
                    rows.append(new_vectors[fresh_rows[c.chunk_id]])
            else:
                for c in old_by_doc.get(article.doc_id, []):
                    chunks.append(c)
                    assert old_vectors is not None  # kept chunks come from the existing index
                    rows.append(np.asarray(old_vectors[old_rows[c.chunk_id]]))
        dim = self.embedder.dim
        embeddings = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)

        t = time.perf_counter()
        factory = choose_factory(
            self.config.index_factory,
            len(chunks),
            approx_factory=self.config.approx_factory,
            approx_threshold=self.config.approx_threshold,
        )
        writer = None
        store: VectorStore | VersionWriter
        bm25: BM25Index | None
        if self.config.store == "faiss":
            store = VectorStore.build(
                embeddings, factory, ef_search=self.config.hnsw_ef_search, nprobe=self.config.ivf_nprobe
            )
            bm25 = BM25Index.build([c.text for c in chunks])
        else:  # another store (rag.stores: Milvus) writes the version while save_index writes its folder
            from rag.stores import VersionWriter, store_for, store_rows

            by_id = {a.doc_id: a for a in articles}
            store = writer = VersionWriter(
                store_for(self.config), store_rows(chunks, by_id), embeddings, factory=factory
            )
            bm25 = None
        timings["build_s"] = time.perf_counter() - t

        t = time.perf_counter()
        manifest = Manifest(
            embedding_model=self.embedder.fingerprint,
            dim=dim,
            chunk_tokens=self.config.chunk_tokens,
            chunk_overlap_tokens=self.config.chunk_overlap_tokens,
            index_factory=factory,
        )
        try:
            version = save_index(self.config.index_dir, manifest, articles, chunks, embeddings, store, bm25)
        except BaseException:
            if writer is not None:
                writer.discard()  # the previous version (and its collection) serves on
            raise
        if writer is not None:
            self._publish(writer, version)
        timings["save_s"] = time.perf_counter() - t
        result = IndexReport(
            n_articles=len(articles),
            n_chunks=len(chunks),
            embedded_chunks=len(new_list),
            seconds=time.perf_counter() - start,
            timings=timings,
            **report,
        )
        logger.info(result.summary())
        return result
