"""``sanad bench``: indexing throughput, query latency and memory at scale, answer latency per stage.

Sections (each can be run alone with ``--sections``):

* ``indexing`` (:mod:`rag.bench.embedding`): passages/s and tokens/s by batch size and threads,
  length-sorted batching, ONNX Runtime.
* ``search`` (:mod:`rag.bench.search`): dense/BM25/hybrid latency, approximate-index recall and
  memory per passage at 1k..1M synthetic passages built around real data (:mod:`rag.bench.synth`).
* ``answer`` (:mod:`rag.bench.answering`): per-stage answer latency and the levers on time to first token.
* ``langchain``: the same questions through a textbook LangChain pipeline (``bench/langchain_baseline.py``).

Results go to ``<out>/bench-<timestamp>.json``, ``bench-latest.json`` and ``bench-latest.md``.
"""

from rag.bench.run import BenchOptions, cmd_bench, parse_sizes, run_bench

__all__ = ["BenchOptions", "cmd_bench", "parse_sizes", "run_bench"]
