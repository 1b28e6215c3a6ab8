"""Tests for the `sanad bench` helpers: statistics, synthetic data, recall, writers, the store seam.

The fast tests need no model; the ``slow`` smoke test runs the real embedder through a tiny
quick bench (no LLM) in well under a minute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.core import crossing_size, percentile, recall_at_k, summarize_ms, unit_rows
from bench.data import repeat_to, sentences
from bench.embedding import padded_tokens
from bench.report import render_markdown, table, write_results
from bench.run import BenchOptions, options_from_args, parse_sizes, recommendations
from bench.synth import SyntheticChunks, bm25_from_tokens, synthetic_token_corpus, synthetic_vectors, top1_cosines
from rag.bm25 import BM25Index
from rag.config import SanadConfig
from rag.errors import InputError
from rag.store import VectorStore
from tests.models import needs_e5, seed_index

ARABIC = [
    "أعلنت قيادة العمليات المشتركة أن القوات العراقية نفذت عملية أمنية واسعة غرب الأنبار.",
    "وقال المتحدث إن العملية أسفرت عن تدمير 12 مخبأ للأسلحة وفق البيان الرسمي.",
    "أعلنت الولايات المتحدة عن 535 مليون دولار كمساعدات إنسانية إضافية للشعب السوري.",
    "وتشمل المساعدات الغذاء والدواء والمأوى للنازحين داخل البلاد.",
    "اجتمع وزراء خارجية التحالف الدولي في واشنطن يوم الاثنين لبحث هزيمة داعش.",
    "توقع صندوق النقد الدولي أن يتباطأ نمو الاقتصاد العالمي هذا العام.",
]


# -- statistics ------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [0, 5, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy_linear(q: float) -> None:
    """Guards against an off-by-one in the interpolation (p95 of few samples is what the targets read)."""
    rng = np.random.default_rng(q)
    values = rng.exponential(10, 37).tolist()
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_small_cases_and_errors() -> None:
    assert percentile([3.0], 95) == 3.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 100) == 4  # unsorted input
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_ms_converts_seconds() -> None:
    s = summarize_ms([0.001, 0.002, 0.003])
    assert s["n"] == 3 and s["p50_ms"] == pytest.approx(2.0) and s["max_ms"] == pytest.approx(3.0)
    assert summarize_ms([]) == {"n": 0}


def test_recall_at_k_hand_made() -> None:
    """Guards against counting order instead of set overlap, and against -1 (missing) rows counting."""
    exact = [[1, 2, 3, 4], [5, 6, 7, 8]]
    approx = [[4, 3, 2, 1], [5, 9, -1, -1]]
    assert recall_at_k(approx, exact, k=4) == pytest.approx((1.0 + 0.25) / 2)
    assert recall_at_k(approx, exact, k=1) == pytest.approx(0.5)  # [4] vs [1]: 0; [5] vs [5]: 1
    assert recall_at_k([[1, 2]], [[-1, -1]], k=2) == 0.0  # nothing to find: skipped, no division by zero
    with pytest.raises(ValueError):
        recall_at_k([[1]], [[1], [2]], k=1)


def test_recall_at_k_against_faiss_flat_is_one() -> None:
    rng = np.random.default_rng(0)
    base = unit_rows(rng.standard_normal((300, 16)))
    store = VectorStore.build(base, "Flat")
    _, rows = store.index.search(base[:10], 10)
    assert recall_at_k(rows, rows, 10) == 1.0


def test_crossing_size_interpolates_linearly() -> None:
    assert crossing_size([1000, 10000, 100000], [1.0, 10.0, 100.0], 50.0) == pytest.approx(50000.0)
    assert crossing_size([1000, 10000], [60.0, 70.0], 50.0) == 1000.0
    assert crossing_size([1000, 10000], [1.0, 2.0], 50.0) is None


def test_padded_tokens_sorting_never_costs_more() -> None:
    rng = np.random.default_rng(3)
    lengths = rng.integers(5, 200, 97).tolist()
    for bs in (1, 4, 16, 32):
        sorted_cost = padded_tokens(lengths, bs, sort=True)
        assert sum(lengths) <= sorted_cost <= padded_tokens(lengths, bs, sort=False)
    assert padded_tokens(lengths, 1, sort=False) == sum(lengths)


# -- synthetic data --------------------------------------------------------------------------------
def test_synthetic_vectors_shape_norm_and_anchors() -> None:
    rng = np.random.default_rng(1)
    anchors = unit_rows(rng.standard_normal((40, 24)))
    v = synthetic_vectors(anchors, 1234, seed=7, block=500)
    assert v.shape == (1234, 24) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(v[:40], anchors, atol=1e-6)  # the real passages are in the corpus
    assert np.array_equal(v, synthetic_vectors(anchors, 1234, seed=7, block=500))  # deterministic
    # near the anchors, not random: each synthetic row is closer to its best anchor than random vectors are
    best = (v[40:] @ anchors.T).max(axis=1)
    noise = (unit_rows(rng.standard_normal((500, 24))) @ anchors.T).max(axis=1)
    assert best.mean() > noise.mean() + 0.2


def test_synthetic_vectors_smaller_than_anchor_set_and_errors() -> None:
    anchors = unit_rows(np.random.default_rng(0).standard_normal((50, 8)))
    assert synthetic_vectors(anchors, 10).shape == (10, 8)
    with pytest.raises(ValueError):
        synthetic_vectors(anchors[:1], 10)
    with pytest.raises(ValueError):
        synthetic_vectors(anchors, 0)


def test_top1_cosines_blockwise_equals_direct() -> None:
    rng = np.random.default_rng(2)
    corpus = unit_rows(rng.standard_normal((1000, 12)))
    queries = corpus[:7]
    direct = np.sort(queries @ corpus.T, axis=1)[:, -2]
    got = top1_cosines(queries, corpus, k=2, block=123)
    assert got["mean"] == pytest.approx(float(direct.mean()), abs=1e-4)
    assert got["min"] == pytest.approx(float(direct.min()), abs=1e-4)


def test_synthetic_token_corpus_shapes_and_real_tokens() -> None:
    corpus = synthetic_token_corpus(ARABIC, 500, lengths=[5, 8, 12], seed=1, rare_share=0.1)
    lengths = np.diff(corpus.offsets)
    assert corpus.n_docs == 500 and len(corpus.ids) == int(corpus.offsets[-1])
    assert set(lengths.tolist()) <= {5, 8, 12}
    assert corpus.ids.max() < len(corpus.vocab)
    real = {t for text in ARABIC for t in __import__("rag.textnorm", fromlist=["tokenize"]).tokenize(text)}
    words = [w for d in range(50) for w in corpus.tokens(d)]
    assert sum(w in real for w in words) / len(words) > 0.75  # mostly real words
    assert any(w.startswith("zz") for w in words)  # and some rare made-up ones
    assert corpus.text(0)


def test_bm25_from_tokens_matches_bm25s_exactly() -> None:
    """Guards the vectorised builder used at 1M passages: same scores as bm25s' own indexing."""
    corpus = synthetic_token_corpus(ARABIC, 300, seed=4, rare_share=0.2)
    fast = bm25_from_tokens(corpus, block=70)  # several blocks
    texts = [" ".join(corpus.tokens(d)) for d in range(corpus.n_docs)]
    import bm25s

    reference = bm25s.BM25()
    reference.index([corpus.tokens(d) or [""] for d in range(corpus.n_docs)], show_progress=False)
    for query in ("القوات العراقية", "مساعدات إنسانية للشعب السوري", "صندوق النقد الدولي", "داعش واشنطن"):
        from rag.textnorm import tokenize

        terms = [t for t in tokenize(query) if t in reference.vocab_dict]
        want = np.asarray(reference.get_scores(terms), dtype=np.float32)
        got = np.asarray(fast._retriever.get_scores(terms), dtype=np.float32)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert [h.row for h in fast.search(query, 5)] == [
            h.row for h in BM25Index(reference, len(texts)).search(query, 5)
        ]


def test_synthetic_chunks_sequence() -> None:
    chunks = SyntheticChunks(20, ["نص أول", "نص ثان"], per_article=4)
    assert len(chunks) == 20 and chunks[5].doc_id == "syn-0000001" and chunks[5].ordinal == 1
    assert chunks[-1].chunk_id == chunks[19].chunk_id and chunks[3].text == "نص ثان"
    assert len(chunks[2:6]) == 4
    with pytest.raises(IndexError):
        chunks[20]


def test_data_helpers() -> None:
    assert repeat_to(["a", "b", "c"], 7) == ["a", "b", "c", "a", "b", "c", "a"]
    with pytest.raises(InputError):
        repeat_to([], 3)
    got = sentences(["جملة أولى هنا طويلة. قصيرة جدا؟ وجملة ثانية هنا أيضا طويلة!"], min_words=3)
    assert got == ["جملة أولى هنا طويلة.", "وجملة ثانية هنا أيضا طويلة!"]


# -- options, writers, recommendations -------------------------------------------------------------
def test_parse_sizes() -> None:
    assert parse_sizes("1000, 10k,1M,1000") == (1000, 10000, 1000000)
    with pytest.raises(InputError):
        parse_sizes("ten")
    with pytest.raises(InputError):
        parse_sizes("10")


def test_options_quick_and_flags(tmp_path: Path) -> None:
    from rag.cli import build_parser

    args = build_parser().parse_args(["bench", "--quick", "--out", str(tmp_path)])
    opts = options_from_args(args)
    assert opts.quick and opts.sizes == (1000, 10000) and "answer" not in opts.sections and opts.out == tmp_path
    args = build_parser().parse_args(
        [
            "bench",
            "--sizes",
            "2k",
            "--sections",
            "search",
            "--ef-search",
            "32,64",
            "--approx-factory",
            "HNSW32,Flat;IVF256,Flat",
        ]
    )
    opts = options_from_args(args)
    assert opts.sizes == (2000,) and opts.sections == ("search",) and opts.ef_searches == (32, 64)
    assert opts.approx_factories == ("HNSW32,Flat", "IVF256,Flat")
    args = build_parser().parse_args(["bench", "--no-llm"])
    assert set(options_from_args(args).sections) == {"indexing", "search", "extraction", "startup"}
    with pytest.raises(InputError):
        options_from_args(build_parser().parse_args(["bench", "--sections", "nope"]))


def _fake_result() -> dict:
    return {
        "meta": {
            "started": "now",
            "quick": True,
            "host": {"cpus": 2, "load_avg": [0.1, 0.1, 0.1]},
            "duration_s": 1.0,
            "load_avg_end": [0.2],
        },
        "indexing": {
            "passages": 10,
            "distinct_passages": 5,
            "tokens": 1000,
            "mean_tokens_per_passage": 100.0,
            "rows": [
                {
                    "backend": "torch",
                    "threads": 1,
                    "batch_size": 16,
                    "chunks_per_s": 10.0,
                    "tokens_per_s": 1000.0,
                    "seconds": 1.0,
                    "min_cosine_vs_default": 1.0,
                }
            ],
            "default": {"backend": "torch", "threads": 1, "batch_size": 16, "chunks_per_s": 10.0, "seconds": 1.0},
            "fastest_default_engine": {
                "backend": "torch",
                "threads": 2,
                "batch_size": 32,
                "chunks_per_s": 20.0,
                "min_cosine_vs_default": 1.0,
            },
            "length_sorting": {"sorted": True},
        },
        "search": {
            "summary": {
                "suggested_approx_threshold": 400000,
                "flat_crosses_target_at": 437000.0,
                "largest_size": 1000000,
                "approx_at_largest": {
                    "IVF1024,Flat": {
                        "build_s": 19.0,
                        "structure_bytes_per_chunk": 9.6,
                        "meets_recall_target": True,
                        "param": "nprobe",
                        "value": 32,
                        "recall_at_10": 0.97,
                        "p95_ms": 2.2,
                    },
                    "HNSW32,Flat": {
                        "build_s": 250.0,
                        "structure_bytes_per_chunk": 272.0,
                        "meets_recall_target": False,
                        "param": "efSearch",
                        "value": 512,
                        "recall_at_10": 0.92,
                        "p95_ms": 2.1,
                    },
                },
                "best_approx": {
                    "factory": "IVF1024,Flat",
                    "build_s": 19.0,
                    "structure_bytes_per_chunk": 9.6,
                    "meets_recall_target": True,
                    "param": "nprobe",
                    "value": 32,
                    "recall_at_10": 0.97,
                    "p95_ms": 2.2,
                },
            }
        },
        "value": np.float32(1.5),
        "array": np.arange(3),
        "path": Path("x"),
    }


def test_write_results_json_and_markdown(tmp_path: Path) -> None:
    result = _fake_result()
    paths = write_results(result, tmp_path / "out", stamp="20260101-000000")
    assert paths["json"].name == "bench-20260101-000000.json"
    for key in ("json", "latest_json"):
        data = json.loads(paths[key].read_text(encoding="utf-8"))
        assert data["value"] == 1.5 and data["array"] == [0, 1, 2] and data["path"] == "x"
        assert data["indexing"]["rows"][0]["chunks_per_s"] == 10.0
    md = paths["latest_markdown"].read_text(encoding="utf-8")
    assert "Indexing throughput" in md and "| torch | 1 | 16 |" in md
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary files left behind


def test_recommendations_read_the_figures() -> None:
    rec = recommendations(_fake_result(), SanadConfig())
    assert "embed_threads=2, embed_batch_size=32" in rec["embedding"]
    assert "embedding_backend" not in rec  # nothing faster with the same vectors in the figures
    result = _fake_result()
    result["indexing"]["fastest_same_embeddings"] = {
        "backend": "openvino",
        "threads": 1,
        "batch_size": 8,
        "chunks_per_s": 60.0,
        "min_cosine_vs_default": 0.99999,
    }
    assert recommendations(result, SanadConfig())["embedding_backend"].startswith("openvino (1 thread(s), batch 8)")
    result["indexing"]["default"]["backend"] = "openvino"
    assert "embedding_backend" not in recommendations(result, SanadConfig())  # already the engine in use
    assert rec["approx_threshold"].startswith("400,000")
    assert rec["approx_index"].startswith("IVF1024,Flat with nprobe=32")
    assert "misses recall 0.95" in rec["approx_index vs HNSW32,Flat"]


def test_table_and_markdown_render_empty_sections() -> None:
    assert table(["a"], [[None], [True], [1234.0]])[2:] == ["| – |", "| yes |", "| 1,234 |"]
    assert "Sanad bench" in render_markdown({"meta": {}})


def test_bench_options_quick_preset_overrides() -> None:
    opts = BenchOptions.quick_preset(repeats=2, out=Path("x"), queries=None)
    assert opts.repeats == 2 and opts.queries == 20 and opts.out == Path("x")


# -- the real thing, small ---------------------------------------------------------------------------
@pytest.mark.slow
@needs_e5
def test_bench_quick_smoke(tmp_path: Path) -> None:
    """The quick bench runs end to end on the real embedder and writes its three files (no LLM)."""
    from bench.run import run_bench

    config = seed_index(tmp_path)
    options = BenchOptions.quick_preset(
        sizes=(1000, 2000),
        queries=6,
        embed_passages=16,
        batch_sizes=(16,),
        unsorted_batch_sizes=(16,),
        ef_searches=(32,),
        use_xquad=False,
        out=tmp_path,
    )
    import os
    import time

    t0 = time.perf_counter()
    result = run_bench(config, options, log=lambda line: None)
    # under a minute on a quiet machine; a shared one stretches every figure by its load per core
    busy = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    assert time.perf_counter() - t0 < 60 * busy
    paths = write_results(result, tmp_path)
    data = json.loads(paths["latest_json"].read_text(encoding="utf-8"))
    assert [r["n"] for r in data["search"]["sizes"]] == [1000, 2000]
    assert data["indexing"]["length_sorting"]["sorted"] is True
    assert data["indexing"]["rows"][0]["min_cosine_vs_default"] >= 0.999
    for row in data["search"]["sizes"]:
        assert row["retriever"]["dense:Flat"]["p95_ms"] > 0 and row["retriever"]["bm25"]["n"] == 6
        assert row["bytes_per_chunk"]["vectors"] == 384 * 4
    assert "answer" not in data and (tmp_path / "bench-latest.md").exists()


# -- answer section helpers and the LangChain baseline (fakes, no model) ----------------------------
def _answer(text: str, refused: bool = False, **timings: float):
    from rag.answer_types import Answer

    return Answer(
        question="q", language="ar", answer=text, refused=refused, citations=(), passages=(), timings=dict(timings)
    )


def test_stage_row_and_summary() -> None:
    from bench.answering import _answer_summary, stage_row, summarize_rows
    from bench.data import SeedQuestion

    q = SeedQuestion(
        id="s1",
        question="كم؟",
        lang="ar",
        answerable=True,
        gold_doc_ids=("d",),
        evidence=(),
        answers=("380 مليون دولار", "380"),
        type="factoid",
    )
    good = stage_row(
        q,
        _answer(
            "سيقدم 380 مليون دولار [1]",
            retrieval_s=0.02,
            prompt_tokens=600,
            ttft_s=4.0,
            generation_s=6.0,
            completion_tokens=21,
            total_s=6.1,
        ),
        first_token_s=4.1,
    )
    assert good["correct"] == 1.0 and good["gen_tokens_per_s"] == pytest.approx(10.0) and good["first_token_s"] == 4.1
    bad = stage_row(q, _answer("3800 جندي", ttft_s=2.0, generation_s=2.5, completion_tokens=1, total_s=3.0))
    assert bad["correct"] == 0.0 and bad["gen_tokens_per_s"] is None  # "380" must not match inside "3800"
    s = summarize_rows([good, bad])
    assert s["accuracy"] == 0.5 and s["max_ttft_s"] == 4.0 and s["mean_ttft_s"] == pytest.approx(3.0)
    summary = _answer_summary(
        {
            "variants": {
                "default": {"summary": s, "overrides": {}},
                "budget300": {
                    "summary": {**s, "mean_ttft_s": 2.0, "max_ttft_s": 2.5},
                    "overrides": {"prompt_budget_tokens": 300},
                },
                "passages2": {
                    "summary": {**s, "mean_ttft_s": 1.0, "accuracy": 0.0},
                    "overrides": {"answer_passages": 2},
                },
            }
        }
    )
    assert summary["fastest_variant"]["name"] == "passages2"
    assert summary["fastest_without_accuracy_loss"]["name"] == "budget300"
    assert summary["default_meets_target"] is True


class _FakeSentenceModel:
    """Deterministic bag-of-words vectors: enough for a vector store to find the matching passage."""

    def encode(self, texts, prompt="", batch_size=16, normalize_embeddings=True, convert_to_numpy=True):
        from rag.textnorm import tokenize

        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokenize(text):
                out[i, hash(tok) % 64] += 1.0
        return unit_rows(out + 1e-6)


@pytest.mark.parametrize("community", [True, False])
def test_langchain_baseline_wiring_with_fakes(community: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The textbook chain runs end to end on fakes: retrieval, stuffed prompt, streamed chat model —
    also without langchain-community (InMemoryVectorStore and a plain splitter, as in a bare install)."""
    pytest.importorskip("langchain_core")
    if community:
        pytest.importorskip("langchain_community")
    else:
        import sys

        for name in ("langchain_community", "langchain_community.vectorstores", "langchain_text_splitters"):
            monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    from bench.run import _load_langchain_module
    from rag.types import Article
    from tests.fakes import ARTICLES, FakeGenerator

    module = _load_langchain_module()
    assert module is not None
    articles = [Article(doc_id=d, title=t.split("\n")[0], text=t) for d, t in ARTICLES.items()]
    generator = FakeGenerator("أعلنت الولايات المتحدة عن 138 مليون دولار.")
    rag_chain = module.LangChainRAG(articles, _FakeSentenceModel(), generator, k=2, max_tokens=32)
    out = rag_chain.ask("كم مليون دولار من المساعدات الإنسانية للشعب السوري؟")
    assert out["answer"] == generator.answer and out["doc_ids"][0] == "aid"
    assert out["prompt_tokens"] > 0 and out["first_token_s"] >= out["ttft_s"] >= 0
    sent = generator.stream_calls[-1]
    assert len(sent) == 1 and sent[0].role == "user" and "138 مليون دولار" in sent[0].content  # chunks stuffed whole
    assert "Use three sentences maximum" in sent[0].content
    assert ("FAISS" in rag_chain.store_name) == community
