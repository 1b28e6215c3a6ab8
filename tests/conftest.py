"""Shared fixtures for the fast unit tests: a tiny Arabic corpus, a deterministic fake embedder, configs.

The fake embedder lets store/index/indexer/retrieval logic be tested in milliseconds; the
real-model behaviour is covered by the ``slow`` integration tests elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.chunking import approx_token_count
from rag.config import SanadConfig
from rag.textnorm import tokenize
from rag.types import Article

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO_ROOT / "data" / "articles"

#: doc_id -> raw file text. Covers scraping debris ([ad_n], trailing المصدر), diacritics,
#: tatweel, Arabic-Indic digits, Arabic punctuation and an English article.
TINY_CORPUS: dict[str, str] = {
    "a01_iraq_forces": (
        "[ad_1]\n"
        "القوات العراقية تواصل عملياتها في الأنبار\n"
        "أعلنت قيادة العمليات المشتركة أن القوات العراقية نفّذت عملية أمنية واسعة غرب الأنبار. "
        "وقال المتحدث إن العملية أسفرت عن تدمير ١٢ مخبأً للأسلحة؟ نعم، وفق البيان الرسمي.\n"
        "\n\n\n"
        "وأضاف أن التنسيق مستمر مع التحالف الدولي؛ وأن الجنود الأميركيين يقدمون المشورة فقط.\n"
        "[ad_2]\n"
        "المصدر\n"
    ),
    "a02_syria_aid": (
        "واشنطن تعلن مساعدات إنسانية جديدة للشعب السوري\n"
        "أعلنت الولايات المتحدة عن ٥٣٥ مليون دولار كمساعدات إنسانيـــة إضافية للشعب السوري. "
        "وتشمل المساعدات الغذاء والدواء والمأوى للنازحين داخل البلاد.\n"
        "وقال المسؤولون إن المصدر الرئيسي للتمويل هو وزارة الخارجية.\n"
    ),
    "a03_coalition_meeting": (
        "اجتماع وزراء خارجية التحالف الدولي لهزيمة داعش\n"
        "اجتمع وزراء خارجية التحالف الدولي في واشنطن يوم الاثنين. "
        "وأكّد الوزراء ضرورة تعزيز الأمن والاستقرار في الشرق الأوسط! "
        "وبلغت نسبة التمويل 2.5 في المئة من الميزانية..وذلك وفق التقديرات.\n"
        "المصدر: وكالة الأنباء\n"
    ),
    "a04_economy": (
        "الاقتصاد العالمي يتباطأ\n"
        "توقع صندوق النقد الدولي أن يتباطأ نمو الاقتصاد العالمي إلى ٣٫١ في المئة هذا العام. "
        "وأشار التقرير إلى ارتفاع أسعار الفائدة وتراجع التجارة.\n"
    ),
    "a05_english": (
        "Oil prices rise after OPEC meeting\n"
        "Oil prices rose on Monday after OPEC agreed to extend output cuts. "
        "Brent crude gained 2.5 percent to settle above 80 dollars a barrel.\n"
    ),
}


class FakeEmbedder:
    """Deterministic stand-in for :class:`rag.embeddings.Embedder` (same public surface).

    A passage or query becomes a hashed bag of its normalised, stemmed tokens
    (:func:`rag.textnorm.tokenize`) in ``dim`` buckets, scaled to unit length; texts that share
    words therefore score higher. Every ``embed_*`` call is recorded so tests can count
    what was (re-)embedded.
    """

    def __init__(self, model_name: str = "fake-hash-embedder", dim: int = 64) -> None:
        self.model_name = model_name
        self._dim = dim
        self.loaded = False
        self.load_calls = 0
        self.passage_calls: list[list[str]] = []
        self.query_calls: list[list[str]] = []

    # -- the Embedder surface -------------------------------------------------------------------
    def load(self) -> None:
        self.load_calls += 1
        self.loaded = True

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return 512

    @property
    def fingerprint(self) -> str:
        return self.model_name

    def count_tokens(self, text: str) -> int:
        return approx_token_count(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls.append(list(texts))
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.passage_calls.append(list(texts))
        return self._encode(texts)

    # -- helpers for tests ----------------------------------------------------------------------
    @property
    def embedded_passages(self) -> list[str]:
        """Every passage text embedded so far, in call order."""
        return [t for call in self.passage_calls for t in call]

    def reset_counts(self) -> None:
        self.passage_calls.clear()
        self.query_calls.clear()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in tokenize(text):
                bucket = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest(), "big")
                out[i, bucket % self._dim] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm == 0.0:
                out[i, 0] = 1.0  # no words: a fixed unit vector keeps every row unit-norm
            else:
                out[i] /= norm
        return np.ascontiguousarray(out)


def write_corpus(folder: Path, corpus: dict[str, str] | None = None, suffix: str = ".txt") -> Path:
    """Write ``corpus`` (doc_id -> raw text) as UTF-8 files into ``folder``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in (TINY_CORPUS if corpus is None else corpus).items():
        (folder / f"{doc_id}{suffix}").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus() -> dict[str, str]:
    """doc_id -> raw article text (a fresh copy per test)."""
    return dict(TINY_CORPUS)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The tiny corpus written as .txt files."""
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def tiny_articles() -> list[Article]:
    """The tiny corpus, ingested and cleaned."""
    from rag.ingest import Ingestor

    ingestor = Ingestor()
    return [ingestor.parse(text, doc_id=doc_id) for doc_id, text in TINY_CORPUS.items()]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def sanad_config(tmp_path: Path, corpus_dir: Path) -> SanadConfig:
    """A config whose index, models and corpus all live under ``tmp_path`` (default chunking)."""
    return SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "models", corpus_dir=corpus_dir)


@pytest.fixture
def small_config(sanad_config: SanadConfig) -> SanadConfig:
    """``sanad_config`` with small passages, so the tiny articles split into several chunks."""
    return sanad_config.with_overrides(chunk_tokens=24, chunk_overlap_tokens=8)


@pytest.fixture(autouse=True, scope="session")
def _no_user_index(tmp_path_factory: pytest.TempPathFactory):
    """Tests never read or write the user's real index: the default data folder is a temporary one.

    The default index lives in the user's data folder (``$XDG_DATA_HOME/sanad/index``, #12); models
    stay where they are (``SANAD_MODEL_DIR`` or ``~/.cache/sanad/models``), since real-model tests need them.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    yield
    patch.undo()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``SANAD_*`` variables from the developer's shell leak into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("SANAD_"):
            monkeypatch.delenv(name)
    return monkeypatch
