"""``sanad bench``: indexing throughput, query latency and memory at scale, answer latency per stage.

Sections (each can be run alone with ``--sections``):

* ``indexing`` (:mod:`bench.embedding`, ONNX Runtime parts in :mod:`bench.embedding_onnx`): passages/s and tokens/s by batch size and threads,
  length-sorted batching, ONNX Runtime.
* ``search`` (:mod:`bench.search`; approximate-index sweeps in :mod:`bench.approx`, conclusions in :mod:`bench.search_summary`): dense/BM25/hybrid latency, approximate-index recall and
  memory per passage at 1k..1M synthetic passages built around real data (:mod:`bench.synth`).
* ``answer`` (:mod:`bench.answering`): per-stage answer latency and the levers on time to first token.
* ``langchain``: the same questions through a textbook LangChain pipeline (``bench/langchain_baseline.py``).
* ``startup`` (:mod:`bench.startup`): ``sanad search`` as a fresh process, min/median/max over runs, and
  where its time goes (stages, imports).
* ``extraction`` (:mod:`bench.extraction`): PDF/DOCX (LibreOffice), legacy and scanned PDFs and saved pages
  made from the seed articles, read back by ``rag.ingest``: character error rate, boilerplate left in.

Not a section (needs a corpus path): ``python -m bench.duplicates --corpus ...`` (:mod:`bench.duplicates`),
near-verbatim republication across outlets.

Results go to ``<out>/bench-<timestamp>.json``, ``bench-latest.json`` and ``bench-latest.md``.

Where it lives: this package sits in the source checkout, outside ``rag/`` on purpose. The library never
imports it (``pip install .`` ships ``rag`` only); ``sanad bench`` imports it lazily
(:func:`rag.cli.cmd_bench`) and says what to do when it is not importable. A new section is a new module
here (``bench/<section>.py`` with a ``bench_<section>(config, ..., log=print) -> dict`` function), named
in :data:`bench.run.SECTIONS` and dispatched in :func:`bench.run.run_bench`; its Markdown table goes in
:mod:`bench.report`, its fast tests in ``tests/test_bench.py`` (or ``tests/test_bench_<section>.py``).
"""

from bench.run import BenchOptions, cmd_bench, parse_sizes, run_bench

__all__ = ["BenchOptions", "cmd_bench", "parse_sizes", "run_bench"]
