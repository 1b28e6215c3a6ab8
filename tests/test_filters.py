"""Filters (ids, outlets, dates) inside retrieval: never a hit outside a filter, and the hits equal a
brute-force search over the allowed rows (dense, BM25, hybrid; exact and approximate FAISS indexes).

The index is built with the fake embedder over a generated corpus whose articles carry random
outlets and dates (some unknown); hypothesis draws filters, questions, k and the mode.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeEmbedder
from rag.cli import main
from rag.config import SanadConfig
from rag.errors import InputError
from rag.indexer import Indexer
from rag.pipeline import Sanad
from rag.retrieval import Retriever, date_bound, make_filters
from rag.types import Article, Filters

OUTLETS = ("العربي الجديد", "الشرق الأوسط", "سبق", "عكاظ")
DATES = [f"2024-{m:02d}-{d:02d}" for m in (1, 3, 6, 9, 12) for d in (1, 15, 28)]
VOCAB = (
    "القوات",
    "العراقية",
    "التحالف",
    "الدولي",
    "داعش",
    "البنتاغون",
    "واشنطن",
    "بغداد",
    "الرياض",
    "الاقتصاد",
    "النفط",
    "الأسعار",
    "الانتخابات",
    "البرلمان",
    "الوزير",
    "الرئيس",
    "المساعدات",
    "الإنسانية",
    "سوريا",
    "اليمن",
    "الحدود",
    "الأمن",
    "الاستقرار",
    "الصحة",
    "التعليم",
    "الكهرباء",
    "الماء",
    "الطاقة",
    "الشركات",
    "الاستثمار",
    "المصارف",
)


def _corpus(n: int, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    articles = []
    for i in range(n):
        sentences = [" ".join(rng.choices(VOCAB, k=rng.randint(6, 12))) + "." for _ in range(rng.randint(3, 7))]
        articles.append(
            Article(
                doc_id=f"doc{i:03d}",
                title=f"خبر {i}",
                text=" ".join(sentences),
                source=rng.choice((*OUTLETS, "")),
                published=rng.choice((*DATES, "", "")),
            )
        )
    return articles


def _build(tmp: Path, articles: list[Article], **overrides) -> Retriever:
    config = SanadConfig(
        index_dir=tmp / "index",
        model_dir=tmp / "models",
        chunk_tokens=24,
        chunk_overlap_tokens=6,
        candidate_k=20,
        **overrides,
    )
    embedder = FakeEmbedder()
    Indexer(config, embedder).add_articles(articles)
    return Retriever.load(config, embedder)


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return _build(tmp_path_factory.mktemp("flat"), _corpus(40))


@pytest.fixture(scope="module")
def ivf(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """An approximate index that visits 1 of 8 lists: it misses allowed rows unless search completes them."""
    return _build(tmp_path_factory.mktemp("ivf"), _corpus(120, seed=11), index_factory="IVF8,Flat", ivf_nprobe=1)


filters_st = st.builds(
    Filters,
    doc_ids=st.lists(st.sampled_from([f"doc{i:03d}" for i in range(40)]), max_size=6).map(tuple),
    sources=st.lists(st.sampled_from(OUTLETS), max_size=2).map(tuple),
    since=st.sampled_from(["", *DATES]),
    until=st.sampled_from(["", *DATES]),
)
question_st = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4).map(" ".join)


def _brute_dense(r: Retriever, question: str, allowed: np.ndarray, k: int) -> list[tuple[str, float]]:
    q = r.embedder.embed_queries([question])[0]
    scores = np.asarray(r.index.embeddings(), dtype=np.float32) @ q
    rows = [i for i in np.argsort(-scores, kind="stable") if allowed[i]][:k]
    return [(r.index.chunks[i].chunk_id, float(scores[i])) for i in rows]


def _brute_bm25(r: Retriever, question: str, allowed: np.ndarray, k: int) -> list[tuple[str, float]]:
    everything = r.index.bm25.search(question, len(r.index.chunks))  # unfiltered, then filtered by hand
    return [(r.index.chunks[h.row].chunk_id, h.score) for h in everything if allowed[h.row]][:k]


def _allowed(r: Retriever, filters: Filters) -> np.ndarray:
    return np.array([filters.matches(r.index.articles[c.doc_id]) for c in r.index.chunks], dtype=bool)


def _same_ranking(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> None:
    """Equal lists up to the order of tied scores (FAISS and numpy may break ties differently)."""
    assert len(got) == len(want)
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5, atol=1e-6)
    if want:
        last = want[-1][1]
        strict = lambda pairs: {c for c, s in pairs if s > last + 1e-6}  # noqa: E731
        assert strict(got) == strict(want)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    filters=filters_st, question=question_st, k=st.integers(1, 12), mode=st.sampled_from(("dense", "bm25", "hybrid"))
)
def test_search_filtered_no_hit_outside_filter_and_equals_brute_force(
    flat: Retriever, filters: Filters, question: str, k: int, mode: str
) -> None:
    """Guards against filtering after the cut to k (too few hits) or a hit that does not match the filter."""
    hits = flat.search(question, k=k, mode=mode, filters=filters)
    assert all(filters.matches(flat.index.articles[h.doc_id]) for h in hits)
    allowed = _allowed(flat, filters)
    depth = max(flat.config.candidate_k, k)
    dense = _brute_dense(flat, question, allowed, depth)
    lexical = _brute_bm25(flat, question, allowed, depth)
    got = [(h.chunk_id, h.score) for h in hits]
    if mode == "dense":
        assert len(hits) == min(k, int(allowed.sum()))  # k come back whenever k exist
        _same_ranking(got, dense[:k])
    elif mode == "bm25":
        _same_ranking(got, lexical[:k])
    else:
        # Each side's candidates equal brute force over the allowed rows (up to ties), and the hybrid
        # result is exactly their fusion: nothing is filtered after fusing or cutting.
        mask = allowed if filters.is_empty is False else None
        side_hits = {"dense": flat._dense(question, depth, mask), "bm25": flat._bm25(question, depth, mask)}
        _same_ranking([(h.chunk_id, h.score) for h in side_hits["dense"]], dense)
        _same_ranking([(h.chunk_id, h.score) for h in side_hits["bm25"]], lexical)
        fused = flat._fuse(question, side_hits["dense"], side_hits["bm25"], k)
        assert got == [(h.chunk_id, h.score) for h in fused]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(OUTLETS), since=st.sampled_from(DATES), question=question_st, k=st.integers(1, 10))
def test_search_filtered_approximate_index_still_exact(
    ivf: Retriever, source: str, since: str, question: str, k: int
) -> None:
    """Guards against an IVF index (nprobe 1) returning fewer than k allowed hits when k exist."""
    filters = Filters(sources=(source,), since=since)
    hits = ivf.search(question, k=k, mode="dense", filters=filters)
    allowed = _allowed(ivf, filters)
    assert all(filters.matches(ivf.index.articles[h.doc_id]) for h in hits)
    _same_ranking([(h.chunk_id, h.score) for h in hits], _brute_dense(ivf, question, allowed, k))


@pytest.mark.parametrize("k", [1, 5, 30])
def test_search_filtered_approximate_selector_path_returns_k(
    ivf: Retriever, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    """Guards against the FAISS ID-selector path (large allowed sets) returning fewer than k when k exist."""
    import rag.retrieval

    monkeypatch.setattr(rag.retrieval, "EXACT_FILTERED_ROWS", 0)
    filters = Filters(sources=(OUTLETS[0],))
    allowed = _allowed(ivf, filters)
    hits = ivf.search("القوات العراقية", k=k, mode="dense", filters=filters)
    assert len(hits) == min(k, int(allowed.sum()))
    assert all(filters.matches(ivf.index.articles[h.doc_id]) for h in hits)


def test_search_filter_matching_nothing_returns_empty(flat: Retriever) -> None:
    assert flat.search("القوات العراقية", k=5, filters=Filters(sources=("لا يوجد",))) == []


def test_search_filters_wrong_type_raises(flat: Retriever) -> None:
    """Guards against a dict of filters being silently ignored."""
    with pytest.raises(InputError, match=r"filters must be a rag\.types\.Filters"):
        flat.search("القوات", filters={"sources": ["سبق"]})  # type: ignore[arg-type]


def test_hits_carry_article_metadata(flat: Retriever) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        for h in flat.search("القوات العراقية التحالف", k=8, mode=mode):
            a = flat.index.articles[h.doc_id]
            assert (h.published, h.source, h.url, h.author, h.title) == (
                a.published,
                a.source,
                a.url,
                a.author,
                a.title,
            )
            assert h.to_dict()["source"] == a.source and h.to_dict()["published"] == a.published


# -- building filters from user input ----------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2024", False, "2024-01-01"),
        ("2024", True, "2024-12-31"),
        ("2024-02", True, "2024-02-29"),
        ("2023-02", True, "2023-02-28"),
        ("16/04/2024", False, "2024-04-16"),
        ("١٦ نيسان ٢٠٢٤", True, "2024-04-16"),
    ],
)
def test_date_bound_partial_and_written_dates(value: str, end: bool, expected: str) -> None:
    assert date_bound(value, end=end) == expected


def test_make_filters_lists_commas_and_empty() -> None:
    f = make_filters(sources=["سبق,عكاظ", " سبق "], doc_ids="a, b", since="2024", until="2024-06")
    assert f == Filters(doc_ids=("a", "b"), sources=("سبق", "عكاظ"), since="2024-01-01", until="2024-06-30")
    assert make_filters(since="", until=None, sources=[], doc_ids="") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2024-13"}, "since='2024-13' is not a date"),
        ({"until": "yesterday"}, "until='yesterday' is not a date"),
        ({"since": "2024-05", "until": "2024-04"}, "is after until"),
    ],
)
def test_make_filters_bad_input_raises(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_filters(**kwargs)


def test_filters_match_any_copy_of_a_merged_story() -> None:
    """Guards against an agency story indexed once being lost to a filter on a second outlet's name or date."""
    a = Article(
        "x", "t", "نص", source="سبق", published="2015-07-21", copies=(("y", "عكاظ", "2015-07-22", "http://okaz/y"),)
    )
    assert Filters(sources=("عكاظ",)).matches(a) and Filters(doc_ids=("y",)).matches(a)
    assert Filters(since="2015-07-22").matches(a) and not Filters(since="2015-07-23").matches(a)
    assert not Filters(sources=("عكاظ",), until="2015-07-20").matches(a)


# -- every entry point -----------------------------------------------------------------------
@pytest.fixture
def sanad(tmp_path: Path) -> Sanad:
    config = SanadConfig(
        index_dir=tmp_path / "index", model_dir=tmp_path / "models", chunk_tokens=24, chunk_overlap_tokens=6
    )
    s = Sanad(config, embedder=FakeEmbedder())
    s.add_articles(_corpus(25, seed=3))
    return s


def test_sanad_search_filters_reach_retrieval(sanad: Sanad) -> None:
    filters = Filters(sources=("سبق",), since="2024-06-01")
    hits = sanad.search("القوات العراقية التحالف الدولي", k=6, filters=filters)
    assert hits and all(h.source == "سبق" and h.published >= "2024-06-01" for h in hits)


def test_langchain_retriever_filters_on_object_and_per_call(sanad: Sanad) -> None:
    from rag.lc import SanadRetriever

    docs = SanadRetriever(sanad=sanad, k=6, sources=["عكاظ"]).invoke("القوات العراقية التحالف")
    assert docs and {d.metadata["source"] for d in docs} == {"عكاظ"}
    docs = SanadRetriever(sanad=sanad, k=6, sources=["عكاظ"]).invoke(
        "القوات العراقية", sources=["سبق"], until="2024-03"
    )
    assert docs and all(
        d.metadata["source"] == "سبق" and "2024-01-01" <= d.metadata["published"] <= "2024-03-31" for d in docs
    )


def test_cli_search_and_list_filter_flags(
    sanad: Sanad, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    clean_env.setenv("SANAD_INDEX_DIR", str(sanad.config.index_dir))
    clean_env.setenv("SANAD_CHUNK_TOKENS", "24")
    clean_env.setenv("SANAD_CHUNK_OVERLAP_TOKENS", "6")
    assert (
        main(
            [
                "search",
                "القوات العراقية التحالف",
                "--mode",
                "bm25",
                "-k",
                "8",
                "--source",
                "سبق",
                "--since",
                "2024-03",
                "--json",
            ]
        )
        == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert hits and all(h["source"] == "سبق" and h["published"] >= "2024-03-01" for h in hits)
    assert {"published", "source", "url", "author", "also_in"} <= set(hits[0])
    assert main(["search", "القوات العراقية", "--mode", "bm25", "--source", "عكاظ"]) == 0
    out = capsys.readouterr().out
    assert "filtered: source عكاظ" in out and "عكاظ · 2024-" in out
    assert main(["list", "--source", "سبق", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["source"] for r in rows} == {"سبق"}
    assert main(["search", "القوات", "--mode", "bm25", "--since", "2024-13"]) == 2
    assert "since='2024-13' is not a date" in capsys.readouterr().err


# -- recency --------------------------------------------------------------------------------
def test_recency_off_by_default_and_prefers_newer_when_on(tmp_path: Path) -> None:
    """Guards against the recency preference changing rankings when it is off, and doing nothing when on."""
    text = "أعلنت القوات العراقية عن عملية جديدة في الأنبار ضد خلايا داعش."
    articles = [
        Article("old", "قديم", text + " قبل سنوات.", published="2021-07-26"),
        Article("new", "جديد", text + " هذا الأسبوع.", published="2024-04-16"),
        Article("undated", "بلا تاريخ", text + " في وقت ما."),
    ]
    off = _build(tmp_path / "off", articles)
    on = _build(tmp_path / "on", articles, recency_half_life_days=365)
    assert "recency" not in off.search(text, k=3, mode="bm25")[0].scores
    ranked = [h.doc_id for h in on.search(text, k=3, mode="bm25")]
    assert ranked[0] == "new" and ranked.index("old") < 3
    assert on.search(text, k=3, mode="bm25")[0].scores["recency"] == pytest.approx(1.0)
