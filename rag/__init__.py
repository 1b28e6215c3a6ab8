"""Sanad: semantic search and cited question answering over Arabic news.

Example:
    >>> from rag import Sanad, SanadConfig
    >>> sanad = Sanad(SanadConfig(top_k=3))                         # doctest: +SKIP
    >>> for hit in sanad.search("كم يبلغ عدد الجنود الأميركيين في العراق؟"):  # doctest: +SKIP
    ...     print(hit.doc_id, round(hit.score, 3))
    >>> answer = sanad.ask("How much aid for the Syrian people was announced?")  # doctest: +SKIP
    >>> answer.answer, [c.doc_id for c in answer.citations]         # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time each name is imported on first use
    from rag.answer import Answerer, StreamEvent
    from rag.answer_types import Answer, Citation, SentenceCheck
    from rag.chunking import Chunker
    from rag.citations import CitationChecker
    from rag.config import SanadConfig
    from rag.embeddings import Embedder
    from rag.errors import (
        GenerationError,
        IndexCorruptError,
        IndexMismatchError,
        IndexMissingError,
        InputError,
        ModelError,
        SanadError,
    )
    from rag.indexer import Indexer, IndexReport
    from rag.ingest import Ingestor
    from rag.pipeline import Sanad
    from rag.retrieval import Retriever
    from rag.types import Article, Chunk, Filters, Hit

#: Public name -> the module that defines it. Imported lazily (PEP 562) so that ``import rag.cli`` or
#: ``import rag.config`` does not pull in FAISS, the LLM client and the answer pipeline: `sanad search`
#: starts in a fraction of the time (issue #12). A new public name is one entry here and one above.
_EXPORTS = {
    "Answerer": "rag.answer",
    "StreamEvent": "rag.answer",
    "Chunker": "rag.chunking",
    "CitationChecker": "rag.citations",
    "SanadConfig": "rag.config",
    "Embedder": "rag.embeddings",
    "GenerationError": "rag.errors",
    "IndexCorruptError": "rag.errors",
    "IndexMismatchError": "rag.errors",
    "IndexMissingError": "rag.errors",
    "InputError": "rag.errors",
    "ModelError": "rag.errors",
    "SanadError": "rag.errors",
    "Indexer": "rag.indexer",
    "IndexReport": "rag.indexer",
    "Ingestor": "rag.ingest",
    "Sanad": "rag.pipeline",
    "Retriever": "rag.retrieval",
    "Article": "rag.types",
    "Chunk": "rag.types",
    "Filters": "rag.types",
    "Hit": "rag.types",
    "Answer": "rag.answer_types",
    "Citation": "rag.answer_types",
    "SentenceCheck": "rag.answer_types",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Answerer",
    "Article",
    "Chunk",
    "Chunker",
    "Citation",
    "CitationChecker",
    "Embedder",
    "Filters",
    "GenerationError",
    "Hit",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexReport",
    "Indexer",
    "Ingestor",
    "InputError",
    "ModelError",
    "Retriever",
    "Sanad",
    "SanadConfig",
    "SanadError",
    "SentenceCheck",
    "StreamEvent",
]
