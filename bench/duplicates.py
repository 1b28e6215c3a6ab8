"""How much of a news corpus is the same story run by several outlets? (SaudiNewsNet, or any folder of articles)

Run ``python -m bench.duplicates --corpus ../shared/corpora/saudinewsnet`` (the upstream daily
ZIP files, read in place, never copied). Every article's word 5-gram shingles (normalised
Arabic) go through MinHash-LSH (:mod:`rag.ingest.dedup`, 100 hash functions in 20 bands); each
candidate pair's exact Jaccard similarity is computed; pairs at or above a threshold are
closed into groups. A group counts as *republished by several outlets* when its members come
from at least two outlets; a group within one outlet is a re-post or a re-crawl.

It also writes (``--manifest``) a subset of the corpus as ``.txt`` files plus an ``articles.jsonl``
manifest into a folder outside the project, to index through Sanad's manifest path.
Candidate generation finds a pair at similarity 0.7 with probability 0.975, at 0.8 > 0.999.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import statistics
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

THRESHOLDS = (0.7, 0.8, 0.9)


def read_saudinewsnet(folder: Path) -> Iterator[dict[str, str]]:
    """Every article of the SaudiNewsNet daily ZIPs in ``folder`` (one JSON array per ZIP), in file order."""
    for archive in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.endswith(".json"):
                    yield from json.loads(z.read(name).decode("utf-8"))


def write_manifest_subset(articles: list[dict[str, str]], out: Path, *, per_outlet: int) -> int:
    """Up to ``per_outlet`` articles per outlet as ``<id>.txt`` + one ``articles.jsonl``; returns the count.

    ``date_extracted`` is the crawl time; the corpus README says that for articles extracted after
    2015-08-01 it is most probably the publication date, and it is used as such here.
    """
    out.mkdir(parents=True, exist_ok=True)
    taken: collections.Counter[str] = collections.Counter()
    rows = []
    for i, a in enumerate(articles):
        if taken[a["source"]] >= per_outlet or not a.get("content", "").strip():
            continue
        taken[a["source"]] += 1
        name = f"snn_{i:05d}.txt"
        (out / name).write_text(a["content"], encoding="utf-8")
        rows.append(
            {
                "file": name,
                "title": a.get("title", ""),
                "source": a["source"],
                "url": a.get("url", ""),
                "published": a.get("date_extracted", ""),
                "author": a.get("author", ""),
            }
        )
    (out / "articles.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return len(rows)


def report(articles: list[dict[str, str]], thresholds: tuple[float, ...] = THRESHOLDS) -> dict[str, object]:
    """Exact and near-duplicate figures for ``articles`` (dicts with ``source`` and ``content``)."""
    from rag.ingest.dedup import groups_from_pairs, shingles, similar_pairs
    from rag.textnorm import normalize_arabic

    t0 = time.perf_counter()
    cache: dict[str, int] = {}
    sets = [shingles(a.get("content", ""), cache=cache) for a in articles]
    t_shingles = time.perf_counter() - t0
    pairs = similar_pairs(sets, min(thresholds))
    t_pairs = time.perf_counter() - t0 - t_shingles
    outlets = [a["source"] for a in articles]
    exact: dict[str, list[int]] = collections.defaultdict(list)
    for i, a in enumerate(articles):
        exact[" ".join(normalize_arabic(a.get("content", "")).split())].append(i)
    exact_groups = [g for g in exact.values() if len(g) > 1]
    result: dict[str, object] = {
        "articles": len(articles),
        "outlets": dict(collections.Counter(outlets).most_common()),
        "empty": sum(1 for s in sets if not len(s)),
        "exact_groups": len(exact_groups),
        "exact_extra_copies": sum(len(g) - 1 for g in exact_groups),
        "exact_cross_outlet_groups": sum(1 for g in exact_groups if len({outlets[i] for i in g}) > 1),
        "seconds": {"shingles": round(t_shingles, 1), "minhash_lsh_and_check": round(t_pairs, 1)},
        "by_threshold": {},
    }
    for threshold in thresholds:
        groups = groups_from_pairs(sets, pairs, threshold)
        cross = [g for g in groups if len({outlets[i] for i in g.members}) > 1]
        within = [g for g in groups if len({outlets[i] for i in g.members}) == 1]
        pair_counts: collections.Counter[tuple[str, str]] = collections.Counter()
        for g in cross:
            names = sorted({outlets[i] for i in g.members})
            pair_counts.update((a, b) for x, a in enumerate(names) for b in names[x + 1 :])
        result["by_threshold"][str(threshold)] = {  # type: ignore[index]
            "groups": len(groups),
            "cross_outlet_groups": len(cross),
            "articles_in_cross_outlet_groups": sum(len(g.members) for g in cross),
            "share_of_corpus_in_cross_outlet_groups": round(sum(len(g.members) for g in cross) / len(articles), 4),
            "indexed_once_would_remove": sum(len(g.members) - 1 for g in groups),
            "outlets_per_cross_group": dict(
                sorted(collections.Counter(len({outlets[i] for i in g.members}) for g in cross).items())
            ),
            "median_cross_group_size": statistics.median([len(g.members) for g in cross]) if cross else 0,
            "within_outlet_groups": len(within),
            "top_outlet_pairs": [[a, b, n] for (a, b), n in pair_counts.most_common(8)],
            "examples": [
                [
                    {
                        "source": outlets[i],
                        "title": articles[i].get("title", "")[:90],
                        "date": articles[i].get("date_extracted", "")[:10],
                    }
                    for i in g.members[:5]
                ]
                for g in sorted(cross, key=lambda g: -len({outlets[i] for i in g.members}))[:3]
            ],
        }
    return result


def markdown(result: dict[str, object]) -> str:
    lines = [
        f"{result['articles']:,} articles from {len(result['outlets'])} outlets; "  # type: ignore[arg-type]
        f"{result['exact_extra_copies']:,} exact repeats in {result['exact_groups']:,} groups "
        f"({result['exact_cross_outlet_groups']:,} groups across outlets)",
        "",
        "| Jaccard ≥ | groups | across ≥ 2 outlets | articles in them | share of corpus | copies removed if "
        "indexed once | outlets per group (groups) | within one outlet |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for threshold, r in result["by_threshold"].items():  # type: ignore[union-attr]
        per = ", ".join(f"{k}: {v}" for k, v in r["outlets_per_cross_group"].items())
        share = 100 * r["share_of_corpus_in_cross_outlet_groups"]
        lines.append(
            f"| {threshold} | {r['groups']:,} | {r['cross_outlet_groups']:,} | "
            f"{r['articles_in_cross_outlet_groups']:,} | {share:.1f} % | "
            f"{r['indexed_once_would_remove']:,} | {per} | {r['within_outlet_groups']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of SaudiNewsNet daily ZIP files")
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--out", type=Path, help="write the full report (with examples) as JSON here")
    parser.add_argument("--manifest", type=Path, help="also write a subset as .txt + articles.jsonl into this folder")
    parser.add_argument("--per-outlet", type=int, default=200, help="articles per outlet in the --manifest subset")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    articles = list(read_saudinewsnet(args.corpus))[: args.limit]
    if not articles:
        print(f"no articles found in {args.corpus} (expected the daily .zip files)", file=sys.stderr)
        return 2
    if args.manifest:
        n = write_manifest_subset(articles, args.manifest, per_outlet=args.per_outlet)
        print(f"wrote {n} articles and articles.jsonl to {args.manifest}")
    result = report(articles)
    print(markdown(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
