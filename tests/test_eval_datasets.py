"""Loading and validating evaluation data (fast, no models)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation.datasets import (
    ANSWER_TYPES,
    DatasetError,
    QAItem,
    eval_dir,
    load_qa,
    load_suite,
    load_xquad,
    paired_sample,
    stratified_sample,
)
from rag.evaluation.metrics import locate_quote
from rag.ingest import Ingestor

ROOT = Path(__file__).resolve().parents[1]

GOOD = {
    "id": "q1",
    "question": "كم؟",
    "lang": "ar",
    "answerable": True,
    "gold_doc_ids": ["d1"],
    "evidence": ["نحو 380"],
    "answers": ["380"],
    "type": "factoid",
}


def _write(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


# -- the seeds file ------------------------------------------------------------------------------
def test_seeds_load_and_match_the_readme_counts():
    items = load_qa(ROOT / "eval" / "seeds_qa.jsonl")
    assert len(items) == 203
    assert Counter(it.lang for it in items) == {"ar": 93, "en": 110}
    assert Counter((it.lang, it.answerable) for it in items) == {
        ("ar", True): 61,
        ("en", True): 80,
        ("ar", False): 32,
        ("en", False): 30,
    }
    assert all(isinstance(it, QAItem) and it.evidence_spans is None for it in items)
    assert all(it.answer_type in ANSWER_TYPES for it in items)
    # The first 94 questions (session 1's set) keep their ids.
    assert [it.id for it in items[:94]] == [f"s{i:03d}" for i in range(1, 95)]
    assert load_suite("seeds").name == "seeds"
    assert eval_dir() == ROOT / "eval"


def test_seed_evidence_is_found_in_the_cleaned_articles():
    articles = {a.doc_id: a for a in Ingestor().run([ROOT / "data" / "articles"])[0]}
    for it in load_qa(ROOT / "eval" / "seeds_qa.jsonl"):
        for doc_id, quote in zip(it.gold_doc_ids, it.evidence, strict=True):
            assert locate_quote(articles[doc_id].text, quote) is not None, (it.id, quote)


# -- validation ----------------------------------------------------------------------------------
def test_valid_user_file(tmp_path):
    unans = {
        **GOOD,
        "id": "q2",
        "answerable": False,
        "gold_doc_ids": [],
        "evidence": [],
        "answers": [],
        "type": "unanswerable",
        "lang": "en",
        "question": "Who?",
    }
    items = load_qa(_write(tmp_path, [GOOD, "", unans]))
    assert [it.id for it in items] == ["q1", "q2"]
    assert items[0].gold_doc_ids == ("d1",) and items[1].answerable is False
    assert items[0].answer_type == ""  # optional field
    typed = load_qa(_write(tmp_path, [{**GOOD, "answer_type": "quantity"}]))
    assert typed[0].answer_type == "quantity"
    assert load_suite(str(tmp_path / "qa.jsonl")).name == "qa"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "answers"}, "missing field(s) answers"),
        ({**GOOD, "extra": 1}, "unknown field(s) extra"),
        ({**GOOD, "lang": "fr"}, "'lang' is 'fr'"),
        ({**GOOD, "answerable": "yes"}, "'answerable' must be true or false"),
        ({**GOOD, "type": "trivia"}, "'type' is 'trivia'"),
        ({**GOOD, "answer_type": "colour"}, "'answer_type' is 'colour'"),
        ({**GOOD, "answers": "380"}, "'answers' must be a list"),
        ({**GOOD, "evidence": []}, "one quote per gold doc"),
        ({**GOOD, "answerable": False}, "answerable' must be false exactly when"),
        ({**GOOD, "type": "unanswerable", "answerable": False}, "must have empty gold_doc_ids"),
        ({**GOOD, "type": "multi_doc"}, "at least two different gold_doc_ids"),
        ({**GOOD, "question": " "}, "'question' must be a non-empty string"),
    ],
)
def test_errors_name_the_line(tmp_path, bad, message):
    path = _write(tmp_path, [GOOD, bad])
    with pytest.raises(DatasetError) as info:
        load_qa(path)
    text = str(info.value)
    assert f"{path}:2" in text
    assert message in text


def test_duplicate_ids_and_several_errors_are_all_reported(tmp_path):
    path = _write(tmp_path, [GOOD, {**GOOD, "question": "مرة أخرى؟"}, {**GOOD, "id": "q3", "lang": "xx"}])
    with pytest.raises(DatasetError) as info:
        load_qa(path)
    text = str(info.value)
    assert "2 problem(s)" in text
    assert f"{path}:2 (id 'q1'): duplicate id 'q1' (first on line 1)" in text
    assert f"{path}:3 (id 'q3')" in text


def test_missing_empty_and_non_utf8_files(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_qa(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="holds no questions"):
        load_qa(tmp_path / "empty.jsonl")
    (tmp_path / "latin.jsonl").write_bytes(b'{"id": "\xe9"}\n')
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_qa(tmp_path / "latin.jsonl")
    with pytest.raises(DatasetError, match="unknown suite"):
        load_suite("no-such-suite")


# -- XQuAD ---------------------------------------------------------------------------------------
def test_xquad_is_shipped_in_the_project_and_parallel():
    suite = load_xquad()
    assert Path(suite.source) == ROOT / "eval" / "xquad"
    assert len(suite.articles) == 240
    ar = [it for it in suite.items if it.lang == "ar"]
    en = [it for it in suite.items if it.lang == "en"]
    assert len(ar) == len(en) == 1190
    # Same question ids in the same order, same gold paragraph and evidence.
    assert [it.group for it in ar] == [it.group for it in en]
    assert [it.id for it in ar] == [f"{it.group}-ar" for it in ar]
    assert all(
        a.gold_doc_ids == e.gold_doc_ids and a.evidence_spans == e.evidence_spans for a, e in zip(ar, en, strict=True)
    )
    texts = {a.doc_id: a.text for a in suite.articles}
    for it in ar:
        ((doc_id, start, end),) = it.evidence_spans
        assert texts[doc_id][start:end] == it.evidence[0] == it.answers[0]
    # English questions accept the Arabic gold answer first, then the English one.
    assert all(e.answers[0] == a.answers[0] for a, e in zip(ar, en, strict=True))
    assert en[0].answers == ("308",)  # same text in both files: kept once
    differs = next(i for i, e in enumerate(en) if len(e.answers) == 2)
    assert en[differs].answers[0] == ar[differs].answers[0] and en[differs].answers[1].isascii()
    assert suite.articles[0].doc_id == "xq-00-0"
    assert len({a.doc_id for a in suite.articles}) == 240


def test_xquad_non_parallel_files_are_refused(tmp_path):
    src = eval_dir() / "xquad"
    ar = json.loads((src / "xquad.ar.json").read_text(encoding="utf-8"))
    en = json.loads((src / "xquad.en.json").read_text(encoding="utf-8"))
    en["data"][0]["paragraphs"][0]["qas"][0]["id"] = "changed"
    (tmp_path / "xquad.ar.json").write_text(json.dumps(ar, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "xquad.en.json").write_text(json.dumps(en, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DatasetError, match="must be parallel"):
        load_xquad(tmp_path)
    with pytest.raises(DatasetError, match="missing"):
        load_xquad(tmp_path / "nowhere")


# -- sampling ------------------------------------------------------------------------------------
def test_samples_are_seeded_and_cover_groups():
    items = load_qa(ROOT / "eval" / "seeds_qa.jsonl")
    key = lambda it: (it.lang, it.type)  # noqa: E731
    first = stratified_sample(items, 8, key=key)
    assert first == stratified_sample(items, 8, key=key)
    assert len({key(it) for it in first}) == 8  # all 8 language × type groups
    assert stratified_sample(items, len(items), key=key) == items
    assert stratified_sample(items, 0, key=key) == []

    xq = load_xquad().items
    pairs = paired_sample(xq, 6)
    assert pairs == paired_sample(xq, 6)
    assert [it.lang for it in pairs] == ["ar", "en"] * 3
    assert all(pairs[i].group == pairs[i + 1].group for i in (0, 2, 4))


# -- the standalone validator -----------------------------------------------------------------------
def _validator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("validate_qa", ROOT / "eval" / "validate_qa.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validator_passes_the_seeds_file(capsys):
    assert _validator().main([str(ROOT / "eval" / "seeds_qa.jsonl"), "--corpus", str(ROOT / "data" / "articles")]) == 0
    out = capsys.readouterr().out
    assert "pairs: 203" in out and "OK" in out
    # New questions carry an accepted answer that is visible in their evidence (digits or the Arabic form).
    warned = {line.split("(")[1].split(")")[0] for line in out.splitlines() if "WARN" in line}
    assert warned <= {"s011", "s022", "s043", "s054", "s056"}


def test_validator_rejects_bad_answer_type_and_missing_quote(tmp_path):
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("وسيقدم الصندوق نحو 380 مليون دولار.", encoding="utf-8")
    rows = [
        {**GOOD, "evidence": ["نحو 380"], "answer_type": "colour"},
        {**GOOD, "id": "q2", "question": "كم مرة؟", "evidence": ["نحو 999"]},
    ]
    v = _validator()
    errors, _, _ = v.validate(_write(tmp_path, rows), corpus)
    assert any("answer_type must be one of" in e for e in errors)
    assert any("evidence not found verbatim" in e for e in errors)
    assert any("need >= 200" in e for e in errors)
