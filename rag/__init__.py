"""Sanad: semantic search and cited question answering over Arabic news.

Example:
    >>> from rag import Sanad, SanadConfig
    >>> sanad = Sanad(SanadConfig(top_k=3))                         # doctest: +SKIP
    >>> for hit in sanad.search("كم يبلغ عدد الجنود الأميركيين في العراق؟"):  # doctest: +SKIP
    ...     print(hit.doc_id, round(hit.score, 3))
    >>> answer = sanad.ask("How much aid for the Syrian people was announced?")  # doctest: +SKIP
    >>> answer.answer, [c.doc_id for c in answer.citations]         # doctest: +SKIP
"""

from rag.answer import Answerer, StreamEvent
from rag.chunking import Chunker
from rag.citations import CitationChecker
from rag.config import SanadConfig
from rag.embeddings import Embedder
from rag.errors import (GenerationError, IndexCorruptError, IndexMismatchError, IndexMissingError, InputError,
                        ModelError, SanadError)
from rag.indexer import Indexer, IndexReport
from rag.ingest import Ingestor
from rag.pipeline import Sanad
from rag.retrieval import Retriever
from rag.types import Answer, Article, Chunk, Citation, Filters, Hit, SentenceCheck

__version__ = "0.1.0"

__all__ = [
    "Answer", "Answerer", "Article", "Chunk", "Chunker", "Citation", "CitationChecker", "Embedder", "Filters",
    "GenerationError", "Hit", "IndexCorruptError", "IndexMismatchError", "IndexMissingError", "IndexReport",
    "Indexer", "Ingestor", "InputError", "ModelError", "Retriever", "Sanad", "SanadConfig", "SanadError",
    "SentenceCheck", "StreamEvent",
]
