"""Writing bench results: the JSON file (the record) and a Markdown rendering of the same figures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_results(result: dict, out_dir: Path, *, stamp: str | None = None) -> dict[str, Path]:
    """Write ``bench-<stamp>.json``, ``bench-latest.json`` and ``bench-latest.md`` (and ``bench-<stamp>.md``).

    Each file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, ensure_ascii=False, indent=1, default=_json_default)
    markdown = render_markdown(result)
    paths = {
        "json": out_dir / f"bench-{stamp}.json",
        "latest_json": out_dir / "bench-latest.json",
        "markdown": out_dir / f"bench-{stamp}.md",
        "latest_markdown": out_dir / "bench-latest.md",
    }
    for key, path in paths.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text if key.endswith("json") else markdown, encoding="utf-8")
        tmp.replace(path)
    return paths


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table (values formatted with :func:`fmt`).

    Example:
        >>> print("\\n".join(table(["a", "b"], [[1, 2.5]])))
        | a | b |
        |---|---|
        | 1 | 2.5 |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return lines


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == int(value) and abs(value) >= 100:
            return f"{int(value):,}"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_markdown(result: dict) -> str:
    meta = result.get("meta", {})
    host = meta.get("host", {})
    lines = [
        f"# Sanad bench ({meta.get('started', '')})",
        "",
        f"Machine: {host.get('cpus')} CPUs ({host.get('cpu_model', '?')}), load average at start "
        f"{host.get('load_avg')}, at end {meta.get('load_avg_end')}. Mode: {'quick' if meta.get('quick') else 'full'}; "
        f"{meta.get('duration_s', 0):.0f} s in all.",
        "",
    ]
    if meta.get("load_warning"):
        lines += [f"> {meta['load_warning']}", ""]
    from bench.startup import startup_md

    for key, render in (
        ("startup", startup_md),
        ("indexing", _indexing_md),
        ("search", _search_md),
        ("answer", _answer_md),
        ("langchain", _langchain_md),
        ("extraction", _extraction_md),
        ("scale", _scale_md),
    ):
        try:
            lines += render(result.get(key))
        except (KeyError, TypeError, ValueError) as exc:  # a partial section still leaves a readable report
            lines += [f"## {key}", "", f"(incomplete section, see the JSON: {type(exc).__name__} {exc})", ""]
    rec = result.get("recommendations")
    if rec:
        lines += ["## Recommendations", ""]
        lines += [f"- **{k}**: {v}" for k, v in rec.items()]
        lines.append("")
    errors = result.get("errors")
    if errors:
        lines += ["## Failed sections", ""] + [f"- {k}: {v}" for k, v in errors.items()] + [""]
    skipped = result.get("skipped")
    if skipped:
        lines += ["## Skipped", ""] + [f"- {k}: {v}" for k, v in skipped.items()] + [""]
    return "\n".join(lines)


def _scale_md(sc: dict | None) -> list[str]:
    if not sc:
        return []
    from bench.scale import render_markdown as scale_markdown

    return ["## Scale (Ray, Milvus)", "", *scale_markdown(sc).splitlines(), ""]


def _extraction_md(ex: dict | None) -> list[str]:
    if not ex:
        return []
    return [
        "## Extraction quality",
        "",
        "Files made from the seed articles (bench/extraction.py): character error "
        "rate against the article text, boilerplate left in saved pages.",
        "",
        ex["markdown"],
        "",
    ]


def _indexing_md(ix: dict | None) -> list[str]:
    if not ix:
        return []
    lines = [
        "## Indexing throughput (embedding)",
        "",
        f"{ix['passages']} passages ({ix['distinct_passages']} distinct seed passages cycled), "
        f"{ix['tokens']:,} tokens ({ix['mean_tokens_per_passage']} per passage, prompt and special tokens included).",
        "",
    ]
    lines += table(
        ["backend", "threads", "batch", "chunks/s", "tokens/s", "seconds", "min cosine vs default"],
        [
            [
                r["backend"],
                r["threads"],
                r["batch_size"],
                r["chunks_per_s"],
                r["tokens_per_s"],
                r["seconds"],
                r["min_cosine_vs_default"],
            ]
            for r in ix.get("rows", [])
        ],
    )
    ls = ix.get("length_sorting", {})
    lines += [
        "",
        f"Length sorting: sentence-transformers {ls.get('sentence_transformers')} "
        f"{'sorts' if ls.get('sorted') else 'does NOT sort'} inputs by length inside `encode` "
        f"({ls.get('where')}: {ls.get('how')}).",
    ]
    if ix.get("sorting"):
        lines += [
            "",
            *table(
                [
                    "threads",
                    "batch",
                    "sorted s",
                    "unsorted s",
                    "speed-up",
                    "padded tokens sorted",
                    "padded tokens unsorted",
                    "real tokens",
                ],
                [
                    [
                        s["threads"],
                        s["batch_size"],
                        s["sorted_s"],
                        s["unsorted_s"],
                        s["speedup"],
                        s["padded_tokens_sorted"],
                        s["padded_tokens_unsorted"],
                        s["real_tokens"],
                    ]
                    for s in ix["sorting"]
                ],
            ),
        ]
    best = ix.get("fastest_same_embeddings")
    if best:
        lines += [
            "",
            f"Fastest configuration with the same embeddings (cosine ≥ 0.999): **{best['backend']}, "
            f"{best['threads']} thread(s), batch {best['batch_size']}**: {best['chunks_per_s']} chunks/s "
            f"(min cosine {best['min_cosine_vs_default']}); Sanad's default ({ix['default'].get('backend', 'torch')}, "
            f"{ix['default']['threads']} thread(s), "
            f"batch {ix['default']['batch_size']}): {ix['default']['chunks_per_s']} chunks/s.",
        ]
    if ix.get("onnx_error"):
        lines += ["", f"ONNX: {ix['onnx_error']}"]
    st = ix.get("onnx_status", {})
    if st:
        lines += ["", "Backends: " + "; ".join(f"{k}: {v}" for k, v in st.items())]
    return [*lines, ""]


def _search_md(se: dict | None) -> list[str]:
    if not se:
        return []
    q = se.get("query_embedding", {})
    lines = [
        "## Query latency and memory",
        "",
        f"{se['queries']} real Arabic questions × {se['repeats']} repeat(s); synthetic passage vectors around "
        f"{se['anchors']['passages']} real passage embeddings ({se['anchors']['seed']} seed + "
        f"{se['anchors']['xquad']} XQuAD); BM25 over runs of real Arabic tokens. Search figures exclude the "
        f"question embedding, which costs p50 {q.get('p50_ms')} ms / p95 {q.get('p95_ms')} ms "
        f"({q.get('threads')} thread(s)); 'end to end' rows include it.",
        "",
    ]
    header = [
        "passages",
        "store (auto)",
        "dense p50/p95 ms",
        "bm25 p50/p95 ms",
        "hybrid p50/p95 ms",
        "dense e2e p95 ms",
        "Flat p95 ms (FAISS threads)",
        "bytes/passage (RAM)",
    ]
    rows = []
    for r in se.get("sizes", []):
        auto = r["auto_store"]
        ret = r["retriever"]
        d = ret.get(f"dense:{auto}", {})
        h = ret.get(f"hybrid:{auto}", {})
        b = ret.get("bm25", {})
        flat = ", ".join(f"{v['p95_ms']} ({t})" for t, v in r["flat"].get("index_search_by_threads", {}).items())
        rows.append(
            [
                r["n"],
                auto,
                f"{fmt(d.get('p50_ms'))} / {fmt(d.get('p95_ms'))}",
                f"{fmt(b.get('p50_ms'))} / {fmt(b.get('p95_ms'))}",
                f"{fmt(h.get('p50_ms'))} / {fmt(h.get('p95_ms'))}",
                ret.get("dense_end_to_end", {}).get("p95_ms"),
                flat,
                r["bytes_per_chunk"]["total_ram_auto"],
            ]
        )
    lines += table(header, rows)
    approx_rows = []
    for r in se.get("sizes", []):
        for a in r.get("approx") or []:
            for s in a.get("sweep", []):
                approx_rows.append(
                    [
                        r["n"],
                        a.get("structure"),
                        a["factory"],
                        a["build_s"],
                        f"{s['param']}={s['value']}",
                        s["recall_at_10"],
                        s["p50_ms"],
                        s["p95_ms"],
                    ]
                )
    if approx_rows:
        lines += [
            "",
            "Approximate indexes against exact Flat (index search only, one query at a time), on both "
            "synthetic structures (spread: many small topics; clustered: few tight clusters):",
            "",
        ]
        lines += table(
            ["passages", "data", "factory", "build s", "search breadth", "recall@10", "p50 ms", "p95 ms"], approx_rows
        )
    factories = sorted(
        {k.split(":", 1)[1] for r in se.get("sizes", []) for k in r["bytes_per_chunk"] if k.startswith("structure:")}
    )
    mem_rows = [
        [
            r["n"],
            r["bytes_per_chunk"]["vectors"],
            *[r["bytes_per_chunk"].get(f"structure:{f}") for f in factories],
            r["bytes_per_chunk"]["bm25_matrix"],
            r["bytes_per_chunk"]["bm25_vocab"],
            r["bytes_per_chunk"]["chunk_objects_ram"],
            r["bytes_per_chunk"]["total_ram_auto"],
            round(r["flat"]["rss_delta_bytes"] / r["n"], 1),
            r["bm25"]["vocab"],
            r["bm25"]["build_s"],
        ]
        for r in se.get("sizes", [])
    ]
    lines += ["", "Memory per passage (bytes):", ""]
    lines += table(
        [
            "passages",
            "vectors",
            *[f"{f} extra" for f in factories],
            "BM25 matrix",
            "BM25 vocab",
            "Chunk objects",
            "total (auto store)",
            "Flat RSS delta",
            "BM25 vocab size",
            "BM25 build s",
        ],
        mem_rows,
    )
    md = se.get("metadata_bytes_per_chunk", {})
    if md:
        lines += ["", "On disk per passage: " + ", ".join(f"{k} {v}" for k, v in md.items())]
    real = se.get("realism", {})
    if real:
        lines += [
            "",
            "Realism of the synthetic vectors (cosines): "
            + "; ".join(f"{k} mean {v['mean']}" for k, v in real.items()),
        ]
    s = se.get("summary", {})
    if s:
        lines += ["", "Summary: " + "; ".join(f"{k}: {fmt(v)}" for k, v in s.items() if not isinstance(v, dict))]
        for factory, e in (s.get("approx_at_largest") or {}).items():
            lines.append(
                f"- {factory} at {s.get('largest_size'):,}: {'meets' if e.get('meets_recall_target') else 'misses'} "
                f"recall@10 ≥ 0.95 on {', '.join(e.get('structures', []))} (at {e.get('param')}={e.get('value')}: "
                f"worst recall {e.get('recall_at_10')}, worst p95 {e.get('p95_ms')} ms; by data "
                f"{e.get('by_structure')}), build {e['build_s']} s, {e['structure_bytes_per_chunk']} "
                f"bytes/passage over the vectors"
            )
    return [*lines, ""]


def _answer_md(an: dict | None) -> list[str]:
    if not an:
        return []
    lines = [
        "## Answer latency per stage",
        "",
        f"{len(an['questions'])} Arabic seed questions ({', '.join(an['questions'])}); LLM {an['llm']['name']}, "
        f"loaded in {an['llm'].get('load_s') or 0:.1f} s. Means over the questions.",
        "",
    ]
    rows = []
    for name, v in an.get("variants", {}).items():
        s = v["summary"]
        rows.append(
            [
                name,
                s.get("mean_retrieval_s"),
                s.get("mean_prompt_tokens"),
                s.get("mean_ttft_s"),
                s.get("max_ttft_s"),
                s.get("mean_first_token_s"),
                s.get("mean_gen_tokens_per_s"),
                s.get("mean_completion_tokens"),
                s.get("mean_total_s"),
                s.get("accuracy"),
                s.get("refusals"),
            ]
        )
    lines += table(
        [
            "variant",
            "retrieval s",
            "prompt tokens",
            "TTFT s",
            "max TTFT s",
            "question→first token s",
            "gen tok/s",
            "answer tokens",
            "total s",
            "accuracy",
            "refusals",
        ],
        rows,
    )
    pc = an.get("prefix_cache")
    if pc and pc.get("mean"):
        m = pc["mean"]
        lines += [
            "",
            f"Prefix cache (TTFT, mean): cold {m['cold_s']} s; system prompt cached {m['system_prompt_cached_s']} s; "
            f"identical prompt {m['identical_prompt_s']} s ({m['prompt_tokens']:.0f} prompt tokens, "
            f"{m['system_tokens']:.0f} of them system prompt). {pc['note']}.",
        ]
    s = an.get("summary", {})
    if s:
        lines += ["", "Summary: " + "; ".join(f"{k}: {fmt(v)}" for k, v in s.items())]
    return [*lines, ""]


def _langchain_md(lc: dict | None) -> list[str]:
    if not lc:
        return []
    lines = [
        "## Sanad vs a textbook LangChain pipeline",
        "",
        f"LangChain: {lc.get('store')}, {lc.get('splitter')}, {lc.get('chunks')} chunks, top {lc.get('k')}, "
        f"{lc.get('prompt')}; same embedding model and GGUF.",
        "",
    ]
    comp = lc.get("comparison", {})
    if comp:
        lines += table(
            ["stage", "Sanad", "LangChain", "LangChain / Sanad"],
            [[k, v.get("sanad"), v.get("langchain"), v.get("ratio")] for k, v in comp.items()],
        )
    return [*lines, ""]
