"""Sanad past one machine: optional engines that need ``pip install -e '.[scale]'``.

Nothing here is imported unless asked for (``sanad index --engine ray``, ``SANAD_STORE=milvus``,
the scale bench), so the default install never loads Ray.

* :mod:`rag.distributed.ray_index`: passage embedding on a Ray cluster (Ray Data ``map_batches``,
  one model-holding actor per worker), plugged into the ordinary :class:`rag.indexer.Indexer`.
* :mod:`rag.distributed.local`: a local Ray cluster of separate node processes and a Milvus Lite
  server process, for tests and the bench; torn down by process group, never by name.
"""
