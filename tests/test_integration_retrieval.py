"""Real offline e5 + real FAISS + BM25 on the seed articles: the right article comes back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import IndexMismatchError, Sanad, SanadConfig
from tests.models import MODEL_DIR, needs_e5

pytestmark = [pytest.mark.slow, needs_e5]

SEEDS = Path(__file__).resolve().parent.parent / "data" / "articles"

# (question, gold article) written by reading the articles.
QUESTIONS = [
    ("كم سيقدم صندوق تمويل التدريب والتجهيز للقوات العراقية في العام المالي 2025؟", "000_fa12990bf89f9d00"),
    ("متى ناقش بايدن والسوداني مستقبل التحالف الدولي في البيت الأبيض؟", "000_fa12990bf89f9d00"),
    ("كم عدد الجنود الأمريكيين الموجودين حاليا في العراق؟", "001_dc5b0399aa33f440"),
    ("ماذا قال السوداني في منتدى دافوس عن الانسحاب؟", "001_dc5b0399aa33f440"),
    ("من ترأس الوفد العسكري العراقي الذي زار الولايات المتحدة؟", "002_b12590bbfa883fb9"),
    ("أين تقع قاعدة عين الأسد؟", "002_b12590bbfa883fb9"),
    ("كم دولة أصبحت في الائتلاف العالمي لمواجهة داعش؟", "003_62634fc958774adb"),
    ("ما قيمة المساعدات الإنسانية التي أعلنتها الولايات المتحدة للشعب السوري في نيويورك؟", "003_62634fc958774adb"),
    ("من هو المتحدث باسم مجلس الوزراء العراقي؟", "004_933cd54218a7fc21"),
    ("ما قيمة التجهيزات العسكرية التي تسلمها جهاز مكافحة الإرهاب؟", "004_933cd54218a7fc21"),
    ("How much will the training and equipment fund give Iraqi forces in fiscal year 2025?", "000_fa12990bf89f9d00"),
    ("How many US troops does the United States keep in Iraq?", "001_dc5b0399aa33f440"),
    ("Who led the Iraqi military delegation to Washington?", "002_b12590bbfa883fb9"),
    pytest.param(
        "How many countries joined the coalition against ISIS?",
        "003_62634fc958774adb",
        marks=pytest.mark.xfail(
            strict=True,
            reason="known: e5-small misses this English paraphrase of "
            "'ائتلاف'; `sanad ask` translates the question first (see answer tests)",
        ),
    ),
    ("What did Biden write on Twitter before meeting al-Kadhimi?", "004_933cd54218a7fc21"),
]


@pytest.fixture(scope="module")
def sanad(tmp_path_factory: pytest.TempPathFactory) -> Sanad:
    root = tmp_path_factory.mktemp("retrieval")
    shutil.copytree(SEEDS, root / "articles")
    config = SanadConfig(index_dir=root / "index", corpus_dir=root / "articles", model_dir=MODEL_DIR)
    sanad = Sanad(config)
    report = sanad.index([root / "articles"])
    assert report.n_articles == 5 and report.n_chunks > 5
    return sanad


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize(("question", "gold"), QUESTIONS)
def test_search_seed_question_gold_article_in_top3(sanad: Sanad, question: str, gold: str, mode: str) -> None:
    assert gold in top_articles(sanad, question, mode), question


def top_articles(sanad: Sanad, question: str, mode: str, n: int = 3) -> list[str]:
    """The first ``n`` distinct articles among the ranked passages."""
    return list(dict.fromkeys(h.doc_id for h in sanad.search(question, k=10, mode=mode)))[:n]


@pytest.mark.parametrize(("question", "gold"), [q for q in QUESTIONS if not hasattr(q, "marks") and not q[0].isascii()])
def test_search_bm25_arabic_question_gold_article_in_top3(sanad: Sanad, question: str, gold: str) -> None:
    """An ASCII-only tokenizer would drop every Arabic word and find nothing."""
    assert gold in top_articles(sanad, question, "bm25")


def test_search_hits_resolve_to_article_offsets(sanad: Sanad) -> None:
    articles = {a.doc_id: a for a in sanad.articles()}
    for hit in sanad.search("القوات الأمريكية في العراق", k=5):
        assert articles[hit.doc_id].text[hit.chunk.start : hit.chunk.end] == hit.chunk.text


def test_reindex_unchanged_corpus_embeds_nothing(sanad: Sanad, tmp_path: Path) -> None:
    report = sanad.index([sanad.config.corpus_dir])
    assert report.embedded_chunks == 0 and len(report.unchanged) == 5


def test_index_other_chunk_size_refuses_to_mix(sanad: Sanad) -> None:
    other = Sanad(sanad.config.with_overrides(chunk_tokens=64), embedder=sanad.embedder)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        other.search("داعش")
