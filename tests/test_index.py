"""Tests for rag.index and rag.indexer with the fake embedder: round trips, incremental updates,
settings checks, damage detection and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_CORPUS, FakeEmbedder, write_corpus
from rag.bm25 import BM25Index
from rag.chunking import Chunker
from rag.config import SanadConfig
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexWriteError, InputError
from rag.index import Manifest, live_version, load_index, read_manifest, save_index
from rag.indexer import Indexer, expected_manifest
from rag.ingest import Ingestor
from rag.store import VectorStore


def _load(config: SanadConfig, embedder: FakeEmbedder):
    return load_index(config.index_dir, expected_manifest(config, embedder.fingerprint))


def _assert_rows_aligned(config: SanadConfig, embedder: FakeEmbedder) -> None:
    """Every row of chunks, stored embeddings, FAISS vectors and BM25 refers to the same passage."""
    data = _load(config, embedder)
    vectors = np.asarray(data.embeddings())
    assert vectors.shape == (len(data.chunks), embedder.dim)
    np.testing.assert_allclose(vectors, embedder._encode([c.text for c in data.chunks]), atol=1e-6)
    if data.chunks:
        np.testing.assert_allclose(data.store.index.reconstruct_n(0, len(data.chunks)), vectors, atol=1e-6)
    assert len(data.bm25) == len(data.chunks)
    for c in data.chunks:
        assert data.articles[c.doc_id].text[c.start : c.end] == c.text


def _state(index_dir: Path) -> tuple[str, dict[str, bytes]]:
    """CURRENT and the bytes of every file of the live version."""
    version = live_version(index_dir)
    return version.name, {
        str(p.relative_to(version)): p.read_bytes() for p in sorted(version.rglob("*")) if p.is_file()
    }


# -- build and load ---------------------------------------------------------------------------
def test_index_build_then_load_round_trip(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against articles, passages or vectors changing between save and load."""
    report = Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    articles, _ = Ingestor().run([corpus_dir])
    chunker = Chunker(small_config.chunk_tokens, small_config.chunk_overlap_tokens, fake_embedder.count_tokens)
    expected_chunks = [c for a in sorted(articles, key=lambda a: a.doc_id) for c in chunker.run(a)]

    assert report.added == tuple(sorted(TINY_CORPUS)) and report.n_articles == len(TINY_CORPUS)
    assert report.n_chunks == len(expected_chunks) == report.embedded_chunks
    assert len(expected_chunks) > len(articles)  # small chunks: articles really are split

    data = _load(small_config, fake_embedder)
    assert data.articles == {a.doc_id: a for a in articles}
    assert data.chunks == expected_chunks
    np.testing.assert_array_equal(
        np.asarray(data.embeddings()), fake_embedder._encode([c.text for c in expected_chunks])
    )
    assert data.manifest.embedding_model == "fake-hash-embedder" and data.manifest.dim == 64
    assert data.manifest.n_chunks == len(expected_chunks) and data.manifest.index_factory == "Flat"
    assert fake_embedder.load_calls >= 1
    _assert_rows_aligned(small_config, fake_embedder)


def test_save_index_load_index_direct_round_trip(tmp_path: Path, tiny_articles) -> None:
    """Guards against the on-disk format losing data or using pickle / escaped Arabic."""
    embedder = FakeEmbedder(dim=16)
    chunks = [c for a in tiny_articles for c in Chunker(30, 5).run(a)]
    vectors = embedder.embed_passages([c.text for c in chunks])
    manifest = Manifest(embedding_model="fake", dim=16, chunk_tokens=30, chunk_overlap_tokens=5, index_factory="Flat")
    version = save_index(
        tmp_path / "idx",
        manifest,
        tiny_articles,
        chunks,
        vectors,
        VectorStore.build(vectors),
        BM25Index.build([c.text for c in chunks]),
    )
    data = load_index(tmp_path / "idx")
    assert live_version(tmp_path / "idx") == version
    assert list(data.articles.values()) == tiny_articles
    assert data.chunks == chunks
    np.testing.assert_array_equal(np.asarray(data.embeddings()), vectors)
    assert data.manifest.files["chunks.jsonl"] == (version / "chunks.jsonl").stat().st_size
    assert data.manifest.corpus_fingerprint and data.manifest.created_at
    assert not list(version.rglob("*.pkl")) and not list(version.rglob("*.pickle"))
    assert "القوات العراقية" in (version / "articles.json").read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_load_index_missing_raises_naming_command(tmp_path: Path) -> None:
    """Guards against a bare FileNotFoundError when the user has not built an index yet."""
    with pytest.raises(IndexMissingError, match=r"no index in .*build one with `sanad index"):
        load_index(tmp_path / "never-built")


# -- incremental updates ----------------------------------------------------------------------
def test_indexer_reindex_unchanged_not_reembedded(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against re-embedding the whole corpus on every `sanad index` run."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    before = _load(small_config, fake_embedder)
    fake_embedder.reset_counts()

    report = indexer.index_paths([corpus_dir])
    assert report.unchanged == tuple(sorted(TINY_CORPUS)) and report.added == report.updated == ()
    assert report.embedded_chunks == 0 and fake_embedder.embedded_passages == []
    after = _load(small_config, fake_embedder)
    assert after.chunks == before.chunks and after.articles == before.articles
    np.testing.assert_array_equal(np.asarray(after.embeddings()), np.asarray(before.embeddings()))


def test_indexer_changed_article_replaced(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against stale passages of an edited article surviving next to the new ones."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    old_a02 = [c for c in _load(small_config, fake_embedder).chunks if c.doc_id == "a02_syria_aid"]
    fake_embedder.reset_counts()

    new_text = "عنوان جديد للمساعدات\nخصصت الحكومة الكندية مبلغ ٤٠ مليون دولار للاجئين في الأردن ولبنان."
    (corpus_dir / "a02_syria_aid.txt").write_text(new_text, encoding="utf-8")
    report = indexer.index_paths([corpus_dir])

    assert report.updated == ("a02_syria_aid",) and len(report.unchanged) == len(TINY_CORPUS) - 1
    new_article = Ingestor().parse(new_text, doc_id="a02_syria_aid")
    new_chunks = Chunker(small_config.chunk_tokens, small_config.chunk_overlap_tokens).run(new_article)
    assert fake_embedder.embedded_passages == [c.text for c in new_chunks]
    data = _load(small_config, fake_embedder)
    assert [c for c in data.chunks if c.doc_id == "a02_syria_aid"] == new_chunks
    assert data.articles["a02_syria_aid"].text == new_article.text
    assert not any("٥٣٥" in c.text for c in data.chunks) and any("٥٣٥" in c.text for c in old_a02)
    assert "الكندية" in data.chunks[data.bm25.search("الكندية", k=3)[0].row].text
    assert data.bm25.search("٥٣٥", k=3) == []  # the old figure is gone from the lexical side too
    _assert_rows_aligned(small_config, fake_embedder)


def test_indexer_added_article_only_new_embedded(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against adding one article re-embedding all the others or misaligning rows."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    fake_embedder.reset_counts()
    write_corpus(corpus_dir, {"a00_new": "خبر جديد\nافتتحت وزارة التربية ٣٠ مدرسة جديدة في الموصل."})
    report = indexer.index_paths([corpus_dir])
    assert report.added == ("a00_new",) and report.n_articles == len(TINY_CORPUS) + 1
    assert fake_embedder.embedded_passages and all(
        "الموصل" in t or "خبر جديد" in t for t in fake_embedder.embedded_passages
    )
    data = _load(small_config, fake_embedder)
    assert data.chunks[0].doc_id == "a00_new"  # rows ordered by doc_id; old rows moved, still aligned
    _assert_rows_aligned(small_config, fake_embedder)


def test_indexer_add_articles_keeps_others(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path, tiny_articles
) -> None:
    indexer = Indexer(small_config, fake_embedder)
    indexer.add_articles(tiny_articles[:2])
    report = indexer.add_articles(tiny_articles[2:3])
    assert report.added == (tiny_articles[2].doc_id,) and report.n_articles == 3


def test_indexer_missing_file_kept_without_prune(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against indexing one folder silently deleting articles indexed from another."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    (corpus_dir / "a04_economy.txt").unlink()
    report = indexer.index_paths([corpus_dir])
    assert report.removed == () and "a04_economy" in _load(small_config, fake_embedder).articles


def test_indexer_prune_removes_missing(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against --prune leaving deleted articles searchable on either side."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    (corpus_dir / "a04_economy.txt").unlink()
    fake_embedder.reset_counts()
    report = indexer.index_paths([corpus_dir], prune=True)
    assert report.removed == ("a04_economy",) and fake_embedder.embedded_passages == []
    data = _load(small_config, fake_embedder)
    assert "a04_economy" not in data.articles
    assert all(c.doc_id != "a04_economy" for c in data.chunks)
    assert data.bm25.search("الاقتصاد العالمي", k=5) == []
    _assert_rows_aligned(small_config, fake_embedder)


def test_indexer_remove_known_ids(small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path) -> None:
    """Guards against removal leaving vectors or BM25 rows misaligned with passages."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    report = indexer.remove(["a05_english", "a01_iraq_forces"])
    assert report.removed == ("a01_iraq_forces", "a05_english")
    data = _load(small_config, fake_embedder)
    assert sorted(data.articles) == ["a02_syria_aid", "a03_coalition_meeting", "a04_economy"]
    _assert_rows_aligned(small_config, fake_embedder)


def test_indexer_remove_unknown_id_raises_nothing_changed(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against a typo in `sanad remove` deleting the known ids of the same call."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    before = _state(small_config.index_dir)
    with pytest.raises(InputError, match="not in the index: nope; `sanad list`"):
        indexer.remove(["a01_iraq_forces", "nope"])
    assert _state(small_config.index_dir) == before


def test_indexer_remove_without_index_raises(small_config: SanadConfig, fake_embedder: FakeEmbedder) -> None:
    """Guards against `sanad remove` creating an empty index when none exists."""
    with pytest.raises(IndexMissingError, match="nothing to remove"):
        Indexer(small_config, fake_embedder).remove(["a01_iraq_forces"])


def test_indexer_remove_all_then_add_again(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against an empty index (0 passages) that cannot be loaded or extended."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    indexer.remove(sorted(TINY_CORPUS))
    empty = _load(small_config, fake_embedder)
    assert empty.chunks == [] and len(empty.store) == 0 and empty.bm25.search("بغداد", k=3) == []
    report = indexer.index_paths([corpus_dir])
    assert report.added == tuple(sorted(TINY_CORPUS))
    _assert_rows_aligned(small_config, fake_embedder)


def test_indexer_old_versions_pruned(small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path) -> None:
    """Guards against every update leaving a full copy of the index on disk."""
    indexer = Indexer(small_config, fake_embedder)
    for i in range(4):
        write_corpus(corpus_dir, {f"z{i}": f"خبر رقم {i} عن بغداد."})
        indexer.index_paths([corpus_dir])
    versions = [p for p in small_config.index_dir.iterdir() if p.name.startswith("v-")]
    assert len(versions) <= 2 and live_version(small_config.index_dir) in versions


# -- settings checks --------------------------------------------------------------------------
def test_index_chunk_setting_mismatch_raises_rebuild_hint(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against mixing passages chunked with different settings in one index."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    other = small_config.with_overrides(chunk_tokens=50)
    with pytest.raises(IndexMismatchError, match=r"chunk_tokens: index has 24, settings say 50.*sanad index --rebuild"):
        Indexer(other, fake_embedder).index_paths([corpus_dir])
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        _load(other, fake_embedder)


def test_index_embedding_model_mismatch_raises_rebuild_hint(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against querying vectors of one model with another model's query vectors."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    other = FakeEmbedder(model_name="another-model")
    with pytest.raises(IndexMismatchError, match=r"embedding_model: index has 'fake-hash-embedder'.*--rebuild"):
        Indexer(small_config, other).index_paths([corpus_dir])
    assert other.embedded_passages == []


def test_indexer_rebuild_replaces_mismatched_index(
    small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against --rebuild still refusing an index built with other settings."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    other = small_config.with_overrides(chunk_tokens=60, chunk_overlap_tokens=0)
    report = Indexer(other, fake_embedder).index_paths([corpus_dir], rebuild=True)
    assert report.added == tuple(sorted(TINY_CORPUS))
    assert _load(other, fake_embedder).manifest.chunk_tokens == 60


# -- damage -----------------------------------------------------------------------------------
@pytest.fixture
def built(small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path) -> Path:
    """The live version folder of a freshly built tiny index."""
    Indexer(small_config, fake_embedder).index_paths([corpus_dir])
    return live_version(small_config.index_dir)


def test_load_index_truncated_vectors_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a half-written FAISS file crashing inside C++ or returning wrong rows."""
    path = built / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match=r"vectors.faiss is missing or has the wrong size.*--rebuild"):
        load_index(small_config.index_dir)


def test_load_index_garbled_chunks_same_size_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against unreadable passages (size intact) surfacing as a JSONDecodeError traceback."""
    path = built / "chunks.jsonl"
    data = path.read_bytes()
    path.write_bytes(b"{garbled" + data[8:])
    with pytest.raises(IndexCorruptError, match=r"chunks.jsonl is damaged .*sha256.*--rebuild"):
        load_index(small_config.index_dir)
    # with a manifest rewritten to match (a consistent-looking forgery), the parser still refuses it
    _rehash(built)
    with pytest.raises(IndexCorruptError, match=r"cannot read the passages of .*--rebuild"):
        load_index(small_config.index_dir)


def _rehash(version: Path) -> None:
    """Rewrite the manifest's sizes, sha256 and checksum to match the files as they are now."""
    import hashlib

    manifest = Manifest.from_dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))
    paths = [p for p in sorted(version.rglob("*")) if p.is_file() and p.name != "manifest.json"]
    files = {p.relative_to(version).as_posix(): p.stat().st_size for p in paths}
    sha = {p.relative_to(version).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    manifest = Manifest(**{**manifest.to_dict(), "files": files, "sha256": sha})
    manifest = Manifest(**{**manifest.to_dict(), "checksum": manifest.compute_checksum()})
    (version / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")


def test_load_index_garbled_chunks_other_size_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a rewritten passage file loading without complaint."""
    (built / "chunks.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"chunks.jsonl is missing or has the wrong size"):
        load_index(small_config.index_dir)


def test_load_index_chunks_and_vectors_disagree_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against row misalignment (a passage row answered with another passage's vector)."""
    path = built / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    _rehash(built)  # a consistent-looking but short passage list
    with pytest.raises(IndexCorruptError, match="rebuild"):
        load_index(small_config.index_dir)


def test_load_index_current_target_deleted_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a dangling CURRENT pointer being reported as 'no index'."""
    import shutil

    shutil.rmtree(built)
    with pytest.raises(IndexCorruptError, match=f"points at '{built.name}', which is missing.*--rebuild"):
        load_index(small_config.index_dir)


def test_load_index_current_pointing_outside_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against CURRENT pointing outside the index folder being followed."""
    (small_config.index_dir / "CURRENT").write_text("..\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="which is missing"):
        load_index(small_config.index_dir)


def test_load_index_bad_manifest_json_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a damaged manifest surfacing as a JSONDecodeError traceback."""
    (built / "manifest.json").write_text('{"dim": 64,', encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"cannot read .*manifest.json.*--rebuild"):
        load_index(small_config.index_dir)
    with pytest.raises(IndexCorruptError, match=r"manifest.json"):
        read_manifest(small_config.index_dir)


def test_load_index_manifest_missing_field_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a manifest without required fields surfacing as a TypeError traceback."""
    (built / "manifest.json").write_text(json.dumps({"dim": 64}), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"manifest.json"):
        load_index(small_config.index_dir)


def test_load_index_bm25_file_deleted_raises(built: Path, small_config: SanadConfig) -> None:
    """Guards against a missing BM25 file being found only at query time."""
    (built / "bm25" / "vocab.index.json").unlink()
    with pytest.raises(IndexCorruptError, match=r"bm25/vocab.index.json is missing"):
        load_index(small_config.index_dir)


def test_load_index_current_removed_missing(built: Path, small_config: SanadConfig) -> None:
    """Guards against an index folder without CURRENT being treated as damaged rather than absent."""
    (small_config.index_dir / "CURRENT").unlink()
    with pytest.raises(IndexMissingError, match="sanad index"):
        load_index(small_config.index_dir)


def test_indexer_corrupt_index_update_refused_rebuild_recovers(
    built: Path, small_config: SanadConfig, fake_embedder: FakeEmbedder, corpus_dir: Path
) -> None:
    """Guards against an update quietly building on top of (or wiping) a damaged index."""
    (built / "vectors.faiss").write_bytes(b"\0" * 10)
    indexer = Indexer(small_config, fake_embedder)
    with pytest.raises(IndexCorruptError):
        indexer.index_paths([corpus_dir])
    indexer.index_paths([corpus_dir], rebuild=True)
    _assert_rows_aligned(small_config, fake_embedder)


# -- atomic writes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    ["rag.index.BM25Index.save", "rag.index.VectorStore.save", "rag.index._fsync_tree", "rag.index._atomic_write_text"],
)
def test_index_failed_save_previous_version_intact(
    target: str,
    small_config: SanadConfig,
    fake_embedder: FakeEmbedder,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards against a crash mid-write leaving a half-written or mixed index live."""
    indexer = Indexer(small_config, fake_embedder)
    indexer.index_paths([corpus_dir])
    before = _state(small_config.index_dir)
    before_data = _load(small_config, fake_embedder)

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(target, boom)
    (corpus_dir / "a02_syria_aid.txt").write_text("نص مختلف تماماً عن المساعدات.", encoding="utf-8")
    write_corpus(corpus_dir, {"a09_extra": "خبر إضافي عن الموصل."})
    with pytest.raises(IndexWriteError, match=r"disk full.*previous version is still live"):
        indexer.index_paths([corpus_dir])
    monkeypatch.undo()

    assert _state(small_config.index_dir) == before
    after_data = _load(small_config, fake_embedder)
    assert after_data.articles == before_data.articles and after_data.chunks == before_data.chunks
    assert not list(small_config.index_dir.glob(".tmp-*"))
    assert not list(small_config.index_dir.glob(".CURRENT.*"))
    # and the next successful run picks the changes up
    report = indexer.index_paths([corpus_dir])
    assert report.added == ("a09_extra",) and report.updated == ("a02_syria_aid",)
