"""Real e5 + real FAISS + the real offline LLM (llama.cpp): cited answers and refusals.

Each answer costs 15-30 s on a 2-core CPU, so the set is small; the evaluation suite
(`sanad eval`) measures accuracy on the full hand-written set.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag import Sanad, SanadConfig
from rag.cli import main
from tests.models import MODEL_DIR, needs_llm

pytestmark = [pytest.mark.slow, needs_llm]

SEEDS = Path(__file__).resolve().parent.parent / "data" / "articles"


@pytest.fixture(scope="module")
def sanad(tmp_path_factory: pytest.TempPathFactory) -> Sanad:
    root = tmp_path_factory.mktemp("answers")
    shutil.copytree(SEEDS, root / "articles")
    config = SanadConfig(index_dir=root / "index", corpus_dir=root / "articles", model_dir=MODEL_DIR)
    sanad = Sanad(config)
    sanad.index([root / "articles"])
    return sanad.load()


# Seed questions the 1.5B model answered correctly under every prompt setting of the #6 evaluation runs
# (eval ids s046, s002, s013; the rates over all 94 questions are `sanad eval`'s job). Looser phrasings
# of the same facts ("كم دولة أصبحت في التحالف...") flip with near-tied passage order, e.g. between
# PyTorch- and OpenVINO-built indexes, so they test the model's luck rather than the pipeline.
@pytest.mark.parametrize(
    ("question", "gold_doc", "accepted"),
    [
        ("كم دولة انضمت إلى التحالف الدولي ضد داعش؟", "003_62634fc958774adb", "87"),
        (
            "How much humanitarian aid did the United States announce for the Syrian people?",
            "003_62634fc958774adb",
            "535",
        ),
        (
            "How much will the Counter-ISIS Train and Equip Fund give Iraqi forces in fiscal year 2025?",
            "000_fa12990bf89f9d00",
            "380",
        ),
        ("كم تبعد قاعدة عين الأسد عن مدينة الرمادي؟", "002_b12590bbfa883fb9", "130"),
    ],
)
def test_ask_seed_question_correct_answer_with_valid_citation(
    sanad: Sanad, question: str, gold_doc: str, accepted: str
) -> None:
    answer = sanad.ask(question)
    assert not answer.refused, (answer.raw_answer, answer.refusal_reason)
    assert accepted in answer.answer
    assert answer.language == ("en" if question.isascii() else "ar")
    assert answer.citations and gold_doc in {c.doc_id for c in answer.citations}
    articles = {a.doc_id: a.text for a in sanad.articles()}
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert articles[c.doc_id][c.quote_start : c.quote_end] == c.quote
        # [n] is evidence sentence n (#11): the citation quotes it, and its passage is among those retrieved
        assert c.quote == answer.evidence[c.n - 1].text and c.chunk_id == answer.evidence[c.n - 1].chunk_id
        assert c.chunk_id in {h.chunk_id for h in answer.passages}


@pytest.mark.parametrize(
    ("question", "refusal_word"),
    [
        ("ما هو عدد سكان مدينة بغداد؟", "لا تتوفر"),
        ("What is the population of Baghdad?", "sources"),
    ],
)
def test_ask_out_of_scope_question_refused_in_its_language(sanad: Sanad, question: str, refusal_word: str) -> None:
    answer = sanad.ask(question)
    assert answer.refused, answer.raw_answer
    assert refusal_word in answer.answer and not answer.citations


def test_cli_ask_json_has_documented_fields(
    sanad: Sanad, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANAD_INDEX_DIR", str(sanad.config.index_dir))
    monkeypatch.setenv("SANAD_MODEL_DIR", str(MODEL_DIR))
    assert main(["ask", "ما قيمة التجهيزات العسكرية التي تسلمها جهاز مكافحة الإرهاب العراقي؟", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"answer", "refused", "citations", "passages", "timings"} <= set(data)
    assert {"retrieval_s", "prompt_tokens", "ttft_s", "total_s"} <= set(data["timings"])
    for c in data["citations"]:
        assert {"n", "doc_id", "chunk_id", "quote"} <= set(c)
    if not data["refused"]:  # accuracy is measured by `sanad eval`; here: every answer is cited
        assert data["citations"] and all(f"[{c['n']}]" in data["answer"] for c in data["citations"])
