"""Calibrating and checking hybrid fusion: ``python -m rag.evaluation.fusion``.

The dense and BM25 candidate lists of every answerable question of each suite are computed
once; each fusion setting is then replayed through the production fusion step
(:meth:`rag.retrieval.Retriever._fuse`), so the figures are those ``sanad search`` gives.

Calibration reads one half of the data and the check the other: the *calibration half* is the
even-numbered articles of XQuAD and ARCD and the even-numbered seeds questions. The z-score
dense weight chosen is the one with the best worst-case margin on that half, where a suite's
margin is ``hybrid − max(dense, bm25)`` at hit@1 and at MRR, per suite and question language
(ties within 0.001: the higher mean hit@1, then MRR). The tables then show every suite ×
language × mode on all questions, with RRF beside the z-score fusion.

A *stress* row per Arabic suite replays BM25 with a seeded random half of each question's words
(a question phrased unlike its article: what makes BM25 weak on natural questions, e.g. on a
held-out Arabic set where RRF fell below dense alone) while dense reads the whole question.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rag.evaluation import metrics as M
from rag.evaluation.datasets import QAItem, Suite, load_suite
from rag.pipeline import Sanad
from rag.retrieval import Retriever
from rag.types import Hit

if TYPE_CHECKING:
    from rag.embeddings import Embedder

GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(13))  # 0.30 … 0.90
TOLERANCE = 0.005  # #11: hybrid >= max(dense, bm25) - 0.005
STRESS_SEED = 13


@dataclass(frozen=True)
class Candidates:
    """One question's two candidate lists (at ``candidate_k`` depth) and where it belongs."""

    item: QAItem
    dense: tuple[Hit, ...]
    bm25: tuple[Hit, ...]
    part: int  # 0: calibration half, 1: check half
    bm25_question: str = ""  # the text BM25 read when it is not the question (stress rows)


def calibration_part(item: QAItem) -> int:
    """0 for the calibration half (even article of XQuAD / ARCD, even seeds question number), else 1."""
    gold = item.gold_doc_ids[0] if item.gold_doc_ids else item.id
    if gold.startswith(("xq-", "arcd-")):
        return int(gold.split("-")[1]) % 2
    digits = "".join(ch for ch in item.id if ch.isdigit())
    return int(digits or 0) % 2


def half_words(question: str, seed: int = STRESS_SEED) -> str:
    """A seeded random half of the question's words (at least one word with a letter or digit): the
    stress test's BM25 query."""
    words = [w for w in question.split() if any(ch.isalnum() for ch in w)] or [question]
    rng = random.Random(f"{seed}:{question}")
    kept = [w for w in words if rng.random() < 0.5]
    return " ".join(kept or words[:1])


def collect(
    sanad: Sanad, suite: Suite, *, stress: bool = True, out_dir: Path = Path("eval/reports")
) -> tuple[Retriever, list[Candidates], list[Candidates]]:
    """The candidate lists of every answerable question of ``suite`` (indexing its articles when it has
    any), and with ``stress`` the stress rows of its Arabic questions (same dense lists)."""
    from rag.evaluation.indexes import ensure_corpus_index, ensure_suite_index
    from rag.evaluation.retrieval_eval import _CachedQueries

    if suite.articles:
        target = ensure_suite_index(
            Sanad(sanad.config, embedder=sanad.embedder), suite, out_dir / f"{suite.name}-index", show_progress=False
        )
    else:
        ensure_corpus_index(sanad, show_progress=False)
        target = sanad
    retriever = target.retriever
    items = [it for it in suite.items if it.answerable]
    depth = target.config.candidate_k
    original = retriever.embedder
    retriever.embedder = cast("Embedder", _CachedQueries(original, [it.question for it in items]))
    rows, stressed = [], []
    try:
        for it in items:
            dense = tuple(retriever.search(it.question, k=depth, mode="dense"))
            rows.append(
                Candidates(it, dense, tuple(retriever.search(it.question, k=depth, mode="bm25")), calibration_part(it))
            )
            if stress and it.lang == "ar":
                half = half_words(it.question)
                stressed.append(
                    Candidates(
                        it, dense, tuple(retriever.search(half, k=depth, mode="bm25")), calibration_part(it), half
                    )
                )
    finally:
        retriever.embedder = original
    return retriever, rows, stressed


Ranker = Callable[[Candidates], list[str]]


def rankers(retriever: Retriever, dense_weight: float, rrf_k: int | None = None) -> dict[str, Ranker]:
    """Doc-id rankings (top 10) per mode: dense, bm25, hybrid by RRF and by z-score fusion at ``dense_weight``."""
    base = retriever.config
    zs = Retriever(
        retriever.index, retriever.embedder, base.with_overrides(fusion="zscore", fusion_dense_weight=dense_weight)
    )
    rr = Retriever(retriever.index, retriever.embedder, base.with_overrides(fusion="rrf", rrf_k=rrf_k))

    def fused(r: Retriever) -> Ranker:
        def rank(c: Candidates) -> list[str]:
            # Coverage is read from the question itself, as in production (a weak BM25 query in a stress
            # row does not announce itself).
            return [h.doc_id for h in r._fuse(c.item.question, list(c.dense), list(c.bm25), 10)]  # noqa: SLF001 - the production fusion, measured as is

        return rank

    return {
        "dense": lambda c: [h.doc_id for h in c.dense[:10]],
        "bm25": lambda c: [h.doc_id for h in c.bm25[:10]],
        "hybrid-rrf": fused(rr),
        "hybrid-zscore": fused(zs),
    }


def score(rows: Sequence[Candidates], rank: Ranker) -> tuple[float, float]:
    """Mean hit@1 and MRR (top 10) of a ranker over the rows."""
    if not rows:
        return 0.0, 0.0
    h1 = mrr = 0.0
    for c in rows:
        docs = rank(c)
        h1 += M.hit_at_k(docs, c.item.gold_doc_ids, 1)
        mrr += M.reciprocal_rank(docs, c.item.gold_doc_ids)
    return h1 / len(rows), mrr / len(rows)


def groups(suites: dict[str, list[Candidates]], part: int | None = None) -> dict[str, list[Candidates]]:
    """``{"<suite> <lang>": rows}`` (optionally one half only)."""
    out: dict[str, list[Candidates]] = {}
    for name, rows in suites.items():
        for lang in ("ar", "en"):
            chosen = [c for c in rows if c.item.lang == lang and (part is None or c.part == part)]
            if chosen:
                out[f"{name} {lang}"] = chosen
    return out


def margins(sets: dict[str, list[Candidates]], ranks: dict[str, Ranker], mode: str) -> dict[str, tuple[float, float]]:
    """Per group: ``mode``'s hit@1 and MRR minus the better of dense and bm25."""
    out = {}
    for name, rows in sets.items():
        d, b, h = (score(rows, ranks[m]) for m in ("dense", "bm25", mode))
        out[name] = (h[0] - max(d[0], b[0]), h[1] - max(d[1], b[1]))
    return out


def calibrate(
    retrievers: dict[str, Retriever], suites: dict[str, list[Candidates]], grid: Sequence[float] = GRID
) -> tuple[float, list[tuple[float, float, float, float]]]:
    """The dense weight with the best worst-case margin on the calibration half; and the grid's
    ``(weight, worst margin, mean hit@1, mean MRR)`` rows."""
    half = {name: [c for c in rows if c.part == 0] for name, rows in suites.items()}
    rows = []
    for w in grid:
        worst, h1s, mrrs = 1.0, [], []
        for name, cands in half.items():
            ranks = rankers(retrievers[name], w)
            sets = groups({name: cands})
            worst = min([worst, *(min(m) for m in margins(sets, ranks, "hybrid-zscore").values())])
            for grp in sets.values():
                h1, mrr = score(grp, ranks["hybrid-zscore"])
                h1s.append(h1)
                mrrs.append(mrr)
        rows.append((w, worst, sum(h1s) / len(h1s), sum(mrrs) / len(mrrs)))
    best = max(rows, key=lambda r: (round(r[1], 3), round(r[2], 3), round(r[3], 3), -abs(r[0] - 0.5)))
    return best[0], rows


def report(retrievers: dict[str, Retriever], suites: dict[str, list[Candidates]], dense_weight: float) -> str:
    """Markdown: every suite × language × mode, hit@1 / MRR, with the margin check."""
    lines = [
        "| suite | lang | n | dense | bm25 | hybrid RRF (before) | hybrid z-score (after) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in suites.items():
        ranks = rankers(retrievers[name], dense_weight)
        for group, cands in groups({name: rows}).items():
            cells = {m: score(cands, ranks[m]) for m in ranks}
            best = (max(cells["dense"][0], cells["bm25"][0]), max(cells["dense"][1], cells["bm25"][1]))
            shown = []
            for mode in ("dense", "bm25", "hybrid-rrf", "hybrid-zscore"):
                h1, mrr = cells[mode]
                low = mode.startswith("hybrid") and (h1 < best[0] - TOLERANCE or mrr < best[1] - TOLERANCE)
                shown.append(f"{h1:.3f} / {mrr:.3f}" + (" ✗" if low else ""))
            suite, lang = group.split()
            lines.append(f"| {suite} | {lang} | {len(cands)} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.evaluation.fusion", description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="seeds,xquad,arcd", help="comma list (default seeds,xquad,arcd)")
    ap.add_argument("--index-dir", type=Path, default=None, help="index for the seeds suite (default: config)")
    ap.add_argument("--out", type=Path, default=Path("eval/reports"), help="where suite indexes live")
    ap.add_argument(
        "--weight",
        type=float,
        default=None,
        help="report this dense weight instead of calibrating (e.g. the configured 0.65)",
    )
    ap.add_argument("--no-stress", action="store_true", help="skip the stress rows")
    args = ap.parse_args(argv)

    from rag.config import SanadConfig

    config = SanadConfig.from_env(index_dir=args.index_dir)
    sanad = Sanad(config)
    suites: dict[str, list[Candidates]] = {}
    retrievers: dict[str, Retriever] = {}
    for name in [s.strip() for s in args.suites.split(",") if s.strip()]:
        suite = load_suite(name)
        print(f"collecting candidates: {name} …", file=sys.stderr)
        retriever, rows, stressed = collect(sanad, suite, stress=not args.no_stress, out_dir=args.out)
        retrievers[name], suites[name] = retriever, rows
        if stressed:
            retrievers[f"{name}-stress"], suites[f"{name}-stress"] = retriever, stressed
    real = {k: v for k, v in suites.items() if not k.endswith("-stress")}
    if args.weight is None:
        weight, grid = calibrate({k: retrievers[k] for k in real}, real)
        print("## Calibration (even articles / questions; z-score dense weight)\n")
        print("| dense weight | worst margin | mean hit@1 | mean MRR |\n|---|---|---|---|")
        for w, worst, h1, mrr in grid:
            mark = " **chosen**" if w == weight else ""
            print(f"| {w:.2f}{mark} | {worst:+.3f} | {h1:.3f} | {mrr:.3f} |")
        print()
    else:
        weight = args.weight
    print(
        f"## Retrieval, all questions: hit@1 / MRR (top 10; z-score dense weight {weight:.2f}, RRF k "
        f"{config.rrf_k}; ✗: below max(dense, bm25) − {TOLERANCE})\n"
    )
    print(report(retrievers, suites, weight))
    held = {k: [c for c in v if c.part == 1] for k, v in real.items()}
    print("\n## Check half only (odd articles / questions)\n")
    print(report(retrievers, held, weight))
    return 0


if __name__ == "__main__":
    sys.exit(main())
