"""Tests for rag.bm25.BM25Index: Arabic matching through the shared normaliser, persistence without pickle."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.bm25 import BM25Index
from rag.errors import IndexCorruptError

PASSAGES = [
    "وأكد أن قوات العراق ستبقى في بغداد لحماية المستشارين.",  # 0
    "توقع صندوق النقد الدولي أن يتباطأ نمو الاقتصاد العالمي.",  # 1
    "Oil prices rose on Monday after OPEC agreed to extend cuts.",  # 2
    "أعلنت الولايات المتحدة عن مساعدات إنسانيـــة للشعب السوري.",  # 3
    "اجتمع وزراء خارجية التحالف الدولي لهزيمة داعش في واشنطن.",  # 4
    "قال المتحدث إن العملية أسفرت عن تدمير ١٢ مخبأً للأسلحة.",  # 5
]


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index.build(PASSAGES)


def test_bm25_search_normalised_stemmed_arabic_match(bm25: BM25Index) -> None:
    """Guards against an ASCII-only or unnormalised tokenizer that finds no Arabic passage."""
    hits = bm25.search("القوات العراقية", k=3)
    assert [h.row for h in hits] == [0]
    assert hits[0].score > 0


@pytest.mark.parametrize(
    ("query", "row"),
    [
        ("الانسانية", 3),
        ("إنسانية", 3),
        ("والتحالف", 4),
        ("١٢ مخبأ", 5),
        ("12 مخبأ", 5),
        ("OIL Prices", 2),
        ("الاقتصادُ", 1),
        ("السورى", 3),
    ],
)
def test_bm25_search_spelling_variants_found(bm25: BM25Index, query: str, row: int) -> None:
    """Guards against prefixes, diacritics, hamza forms or digit scripts blocking a lexical match."""
    assert bm25.search(query, k=1)[0].row == row


def test_bm25_search_best_first_scores_positive(bm25: BM25Index) -> None:
    hits = bm25.search("الدولي العالمي التحالف", k=10)
    assert {h.row for h in hits} == {1, 4}
    assert all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_bm25_search_k_respected(bm25: BM25Index) -> None:
    """Guards against returning more passages than asked for."""
    hits = bm25.search("في العراق الدولي الاقتصاد اوبك oil", k=2)
    assert len(hits) == 2


def test_bm25_search_stopwords_only_empty(bm25: BM25Index) -> None:
    """Guards against a query of function words scoring every passage (or crashing bm25s)."""
    assert bm25.search("في من على إلى", k=5) == []


def test_bm25_search_punctuation_only_empty(bm25: BM25Index) -> None:
    """Guards against a punctuation-only query scoring every passage."""
    assert bm25.search("؟!،", k=5) == []


def test_bm25_search_unknown_words_empty(bm25: BM25Index) -> None:
    """Guards against out-of-vocabulary terms returning arbitrary zero-score passages."""
    assert bm25.search("كمبيوتر xylophone", k=5) == []


def test_bm25_search_ties_broken_by_row() -> None:
    """Guards against nondeterministic order for equally scored passages."""
    bm = BM25Index.build(["بغداد مدينة", "بغداد مدينة", "البصرة"])
    assert [h.row for h in bm.search("بغداد", k=5)] == [0, 1]


def test_bm25_empty_index_search_empty(tmp_path: Path) -> None:
    """Guards against an empty BM25 index crashing on search, save or load."""
    bm = BM25Index.build([])
    assert len(bm) == 0 and bm.search("بغداد", k=5) == []
    bm.save(tmp_path / "bm25")
    assert BM25Index.load(tmp_path / "bm25", 0).search("بغداد", k=5) == []


def test_bm25_passage_without_tokens_kept_aligned() -> None:
    """Guards against an all-punctuation passage shifting the row numbers of later passages."""
    bm = BM25Index.build(["...", "بغداد"])
    assert len(bm) == 2
    assert [h.row for h in bm.search("بغداد", k=5)] == [1]


def test_bm25_save_load_round_trip_no_pickle(tmp_path: Path, bm25: BM25Index) -> None:
    """Guards against pickle files in the index (loading them could run code)."""
    folder = tmp_path / "bm25"
    bm25.save(folder)
    names = sorted(p.name for p in folder.rglob("*"))
    assert names and all(n.endswith((".npy", ".json")) for n in names)
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    loaded = BM25Index.load(folder, len(PASSAGES))
    for query in ("القوات العراقية", "oil opec", "التحالف الدولي", "مساعدات"):
        assert loaded.search(query, k=5) == bm25.search(query, k=5)


def test_bm25_load_wrong_count_raises(tmp_path: Path, bm25: BM25Index) -> None:
    """Guards against BM25 rows and passage rows disagreeing after a partial write."""
    bm25.save(tmp_path / "bm25")
    with pytest.raises(IndexCorruptError, match=r"holds 6 passages but the index lists 5.*sanad index"):
        BM25Index.load(tmp_path / "bm25", 5)


def test_bm25_load_missing_folder_raises(tmp_path: Path) -> None:
    """Guards against a deleted BM25 folder surfacing as a raw FileNotFoundError."""
    with pytest.raises(IndexCorruptError, match="cannot read the BM25 index"):
        BM25Index.load(tmp_path / "nope", 3)


def test_bm25_load_garbled_file_raises(tmp_path: Path, bm25: BM25Index) -> None:
    """Guards against a damaged vocabulary file surfacing as a JSONDecodeError traceback."""
    bm25.save(tmp_path / "bm25")
    (tmp_path / "bm25" / "vocab.index.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="cannot read the BM25 index"):
        BM25Index.load(tmp_path / "bm25", len(PASSAGES))


def test_bm25_loaded_scores_equal_bm25s_bitwise(tmp_path: Path, bm25: BM25Index) -> None:
    """Guards against the numpy reader of a saved index (no bm25s import, #12) scoring differently."""
    import numpy as np

    from rag.textnorm import tokenize

    bm25.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", len(PASSAGES))
    assert type(loaded._retriever).__name__ == "_SavedScores"
    vocab = bm25._retriever.vocab_dict
    for query in ("القوات العراقية", "oil opec oil", "التحالف الدولي داعش واشنطن", "مساعدات مساعدات للشعب"):
        terms = [t for t in tokenize(query) if t in vocab]
        assert np.array_equal(loaded._retriever.get_scores(terms), bm25._retriever.get_scores(terms))


def test_bm25_load_and_search_without_importing_bm25s(tmp_path: Path, bm25: BM25Index) -> None:
    """Guards against bm25s (and scipy.sparse) coming back onto the query path: ~0.3 s per cold search."""
    import subprocess
    import sys

    bm25.save(tmp_path / "bm25")
    code = (
        "import sys; from pathlib import Path; from rag.bm25 import BM25Index; "
        f"hits = BM25Index.load(Path({str(tmp_path / 'bm25')!r}), {len(PASSAGES)}).search('القوات العراقية', 3); "
        "assert hits and hits[0].row == 0, hits; print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_bm25_coverage_is_the_share_of_known_query_terms() -> None:
    """Guards against hybrid weighting BM25 for questions it cannot match (English over Arabic text)."""
    bm = BM25Index.build(["القوات العراقية في الأنبار", "المساعدات الإنسانية للشعب السوري"])
    assert bm.coverage("القوات العراقية") == 1.0
    assert bm.coverage("القوات العراقية في البصرة") == pytest.approx(2 / 3)  # "في" is a stopword
    assert bm.coverage("How many Iraqi troops?") == 0.0
    assert bm.coverage("؟") == 0.0
    assert BM25Index.build([]).coverage("القوات") == 0.0
