"""``sanad eval``: score retrieval, answers, citations and refusals on a suite, and write a report.

Suites: ``seeds`` (the hand-written questions over the seed articles, asked against the
configured index), ``xquad`` (the XQuAD benchmark, indexed into its own folder), or a
path to a Q&A ``.jsonl`` file in the seeds format.

For each run, ``<out>/<suite>-<timestamp>.json`` holds every per-question record,
``.md`` the summary tables (also printed), ``.png`` a chart of recall@k; the same three
are copied to ``<suite>-latest.*``. ``--check`` compares the metrics with
``eval/thresholds.json`` and exits 1 listing each one below its threshold.

Example:
    >>> from rag import Sanad, SanadConfig
    >>> report = run_eval(Sanad(SanadConfig()), "seeds", answers_n=0, out_dir=Path("/tmp/r"))  # doctest: +SKIP
    >>> report["metrics"]["retrieval.hybrid.ar.recall@3"]                                    # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from rag.errors import IndexMismatchError, IndexMissingError, InputError, SanadError
from rag.evaluation import metrics as M
from rag.evaluation.datasets import QAItem, Suite, eval_dir, load_suite, paired_sample, stratified_sample
from rag.pipeline import Sanad
from rag.types import RETRIEVAL_MODES, Answer

logger = logging.getLogger(__name__)

SEED = 13
RETRIEVAL_K = 10
#: LLM answers for XQuAD when neither --answers nor --limit is given (seeds answer every question).
XQUAD_DEFAULT_ANSWERS = 40
LANG_GROUPS = ("ar", "en", "all")
RETRIEVAL_COLUMNS = ("n", *(f"hit@{k}" for k in M.KS), *(f"recall@{k}" for k in M.KS), "mrr", "ndcg@10")
ANSWER_COLUMNS = ("n", "answered", "refused", "errors", "em", "f1", "accepted", "citation_precision",
                  "citation_recall", "support", "refusal_precision", "refusal_recall")


# -- index preparation ---------------------------------------------------------------------------
def ensure_suite_index(sanad: Sanad, suite: Suite, index_dir: Path, *, show_progress: bool = True) -> Sanad:
    """A :class:`Sanad` over ``index_dir`` holding exactly ``suite.articles``, sharing ``sanad``'s models.

    The index is left alone when its manifest matches the settings and the articles
    (same corpus fingerprint); otherwise it is updated (only new or changed paragraphs
    are embedded) or, after a settings change, rebuilt.
    """
    from rag.index import corpus_fingerprint, read_manifest
    from rag.indexer import Indexer, expected_manifest

    config = sanad.config.with_overrides(index_dir=Path(index_dir))
    embedder = sanad.embedder
    embedder.load()
    expected = expected_manifest(config, embedder.fingerprint)
    articles = list(suite.articles)
    rebuild = False
    try:
        manifest = read_manifest(config.index_dir)
        manifest.check_matches(expected)
        fresh = manifest.corpus_fingerprint == corpus_fingerprint(articles)
    except IndexMissingError:
        fresh = False
    except (IndexMismatchError, SanadError) as exc:
        logger.warning("rebuilding the %s index in %s: %s", suite.name, config.index_dir, exc)
        fresh, rebuild = False, True
    if not fresh:
        t = time.perf_counter()
        print(f"indexing {len(articles)} {suite.name} paragraphs into {config.index_dir} …", file=sys.stderr)
        report = Indexer(config, embedder).apply(articles, prune=True, rebuild=rebuild, show_progress=show_progress)
        print(f"{report.summary()} [{time.perf_counter() - t:.1f} s]", file=sys.stderr)
    return Sanad(config, embedder=embedder, generator=sanad._generator)


def ensure_corpus_index(sanad: Sanad, *, show_progress: bool = True) -> None:
    """Build the configured index from ``config.corpus_dir`` when there is none yet."""
    from rag.index import read_manifest
    from rag.indexer import Indexer

    try:
        read_manifest(sanad.config.index_dir)
    except IndexMissingError:
        print(f"no index in {sanad.config.index_dir}; indexing {sanad.config.corpus_dir} …", file=sys.stderr)
        sanad.embedder.load()
        report = Indexer(sanad.config, sanad.embedder).index_paths([sanad.config.corpus_dir],
                                                                 show_progress=show_progress)
        print(report.summary(), file=sys.stderr)
        sanad._retriever = None


# -- retrieval -------------------------------------------------------------------------------------
class _CachedQueries:
    """Stands in for the embedder during evaluation: question vectors are computed in one batch.

    ``embed_queries`` returns the precomputed rows for known questions and falls back to
    the real embedder for anything else, so ``Sanad.search`` runs unchanged.
    """

    def __init__(self, embedder: Any, questions: Sequence[str]) -> None:
        self._embedder = embedder
        unique = list(dict.fromkeys(q.strip() for q in questions))
        vectors = embedder.embed_queries(unique) if unique else np.zeros((0, 1), np.float32)
        self._rows = {q: vectors[i] for i, q in enumerate(unique)}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        keys = [t.strip() for t in texts]
        if keys and all(k in self._rows for k in keys):
            return np.stack([self._rows[k] for k in keys]).astype(np.float32)
        return self._embedder.embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def _progress(iterable: Iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="q", file=sys.stderr, dynamic_ncols=True)


def retrieve_all(sanad: Sanad, items: Sequence[QAItem], modes: Sequence[str], *, k: int = RETRIEVAL_K,
                 batch_queries: bool = True, show_progress: bool = True) -> tuple[dict[str, list[dict]], dict]:
    """Run ``sanad.search(question, k, mode)`` for every question and mode.

    Returns per mode one record per item (``doc_ids``, ``chunk_ids``, ``seconds``) and
    timing info. With ``batch_queries`` the question vectors are computed up front in
    batches (identical search code path; the per-search time then excludes embedding).
    """
    retriever = sanad.retriever
    info: dict[str, Any] = {"batch_queries": batch_queries and any(m != "bm25" for m in modes)}
    original = retriever.embedder
    if info["batch_queries"]:
        t = time.perf_counter()
        retriever.embedder = _CachedQueries(original, [it.question for it in items])
        info["embed_queries_s"] = time.perf_counter() - t
        info["embed_queries_per_question_s"] = info["embed_queries_s"] / max(1, len(items))
    results: dict[str, list[dict]] = {}
    try:
        for mode in modes:
            rows = []
            for item in _progress(items, len(items), f"search {mode}", show_progress):
                t = time.perf_counter()
                hits = sanad.search(item.question, k=k, mode=mode)
                rows.append({"doc_ids": [h.doc_id for h in hits], "chunk_ids": [h.chunk_id for h in hits],
                             "seconds": time.perf_counter() - t})
            results[mode] = rows
    finally:
        retriever.embedder = original
    return results, info


def aggregate_retrieval(items: Sequence[QAItem], results: Mapping[str, Sequence[dict]]) -> dict[str, dict]:
    """``{mode: {lang group: {metric: mean}}}`` over answerable questions (those with gold docs)."""
    table: dict[str, dict] = {}
    for mode, rows in results.items():
        table[mode] = {}
        for group in LANG_GROUPS:
            scored = [M.retrieval_scores(r["doc_ids"], it.gold_doc_ids) for it, r in zip(items, rows)
                      if group in ("all", it.lang)]
            scored = [s for s in scored if s is not None]
            if not scored:
                continue
            row: dict[str, float] = {"n": len(scored)}
            for key in scored[0]:
                row[key] = M.mean(s[key] for s in scored)
            table[mode][group] = row
    return table


# -- answers ---------------------------------------------------------------------------------------
def evidence_spans(item: QAItem, articles: Mapping[str, Any]) -> tuple[list[tuple[str, int, int]], list[str]]:
    """The gold evidence as ``(doc_id, start, end)`` in the indexed article texts, and quotes not found."""
    if item.evidence_spans is not None:
        return list(item.evidence_spans), []
    spans, missing = [], []
    for doc_id, quote in zip(item.gold_doc_ids, item.evidence):
        article = articles.get(doc_id)
        where = M.locate_quote(article.text, quote) if article is not None else None
        if where is None:
            missing.append(f"{item.id}: {doc_id}: {quote[:60]}")
        else:
            spans.append((doc_id, *where))
    return spans, missing


def score_answer(item: QAItem, answer: Answer, spans: Sequence[tuple[str, int, int]]) -> dict[str, Any]:
    """Per-question answer scores (``None`` where a score does not apply)."""
    chunks = {h.chunk_id: h.chunk for h in answer.passages}
    cited = []
    for c in answer.citations:
        chunk = chunks.get(c.chunk_id)
        if chunk is None and 1 <= c.n <= len(answer.passages):
            chunk = answer.passages[c.n - 1].chunk
        if chunk is not None:
            cited.append((chunk.doc_id, chunk.start, chunk.end))
    scores: dict[str, Any] = {"refused": answer.refused}
    if item.answerable:
        text = "" if answer.refused else answer.answer
        scores["em"] = M.exact_match(text, item.answers)
        scores["f1"] = M.token_f1(text, item.answers)
        scores["accepted"] = M.contains_answer(text, item.answers)
        precision, recall = M.citation_scores(cited, spans)
        scores["citation_precision"] = precision
        scores["citation_recall"] = recall if spans else None
    else:
        scores.update(em=None, f1=None, accepted=None, citation_precision=None, citation_recall=None)
    supported = [s.supported for s in answer.sentences]
    scores["sentences_supported"], scores["sentences"] = M.support_counts(supported)
    return scores


def _answer_record(answer: Answer) -> dict[str, Any]:
    data = answer.to_dict()
    data["passages"] = [{k: p[k] for k in ("n", "doc_id", "chunk_id", "start", "end", "score")}
                        for p in data["passages"]]
    return data


def answer_sample(items: Sequence[QAItem], n: int | None, suite: Suite, seed: int = SEED) -> list[QAItem]:
    """The questions to answer: all, or a seeded sample (stratified by language and type; XQuAD: paired ar/en)."""
    if n is None:
        n = XQUAD_DEFAULT_ANSWERS if suite.name == "xquad" else len(items)
    if n >= len(items):
        return list(items)
    if suite.name == "xquad":
        return paired_sample(items, n, seed=seed)
    return stratified_sample(items, n, key=lambda it: (it.lang, it.type), seed=seed)


def answer_all(sanad: Sanad, sample: Sequence[QAItem], *, retries: int = 1, show_progress: bool = True
               ) -> tuple[dict[str, dict], list[str]]:
    """Ask each sampled question; ``{item id: record}`` and the evidence quotes that could not be located.

    A question whose generation fails (e.g. times out on a busy machine) is asked again up
    to ``retries`` times; if it still fails it is recorded as an error and left out of the scores.
    """
    articles = sanad.retriever.index.articles
    records: dict[str, dict] = {}
    missing: list[str] = []
    for item in _progress(sample, len(sample), "answers", show_progress):
        spans, lost = evidence_spans(item, articles)
        missing.extend(lost)
        t = time.perf_counter()
        answer, errors = None, []
        for _ in range(1 + retries):
            try:
                answer = sanad.ask(item.question)
                break
            except InputError:
                raise
            except SanadError as exc:  # a timeout or a model failure: retry, then count it and go on
                logger.warning("%s: %s", item.id, exc)
                errors.append(str(exc))
        if answer is None:
            records[item.id] = {"error": errors[-1], "attempts": len(errors), "seconds": time.perf_counter() - t,
                                "scores": {"refused": False}}
            continue
        records[item.id] = {"answer": _answer_record(answer), "evidence_spans": [list(s) for s in spans],
                            "scores": score_answer(item, answer, spans), "timings": dict(answer.timings),
                            "attempts": len(errors) + 1}
    return records, missing


def warm_up(sanad: Sanad) -> float:
    """Load the LLM and run one tiny generation, so the first question does not pay for paging the model in."""
    from rag.generators import ChatMessage

    t = time.perf_counter()
    sanad.load(llm=True)
    try:
        sanad.generator.generate([ChatMessage("user", "مرحبا")], max_tokens=1, temperature=0.0, seed=0)
    except SanadError as exc:
        logger.warning("LLM warm-up failed (answers will still be tried): %s", exc)
    return time.perf_counter() - t


def aggregate_answers(items: Sequence[QAItem], records: Mapping[str, dict]) -> dict[str, dict]:
    """``{lang group: {metric: value}}`` over the answered sample."""
    table: dict[str, dict] = {}
    for group in LANG_GROUPS:
        chosen = [(it, records[it.id]) for it in items if it.id in records and group in ("all", it.lang)]
        if not chosen:
            continue
        ok = [(it, r) for it, r in chosen if "error" not in r]
        answerable = [r["scores"] for it, r in ok if it.answerable]
        refusal_p, refusal_r = M.refusal_scores([r["scores"]["refused"] for _, r in ok],
                                                [it.answerable for it, _ in ok])
        supported = sum(r["scores"]["sentences_supported"] for _, r in ok)
        sentences = sum(r["scores"]["sentences"] for _, r in ok)
        table[group] = {
            "n": len(chosen),
            "answered": sum(1 for _, r in ok if not r["scores"]["refused"]),
            "refused": sum(1 for _, r in ok if r["scores"]["refused"]),
            "errors": len(chosen) - len(ok),
            "em": M.mean(s["em"] for s in answerable),
            "f1": M.mean(s["f1"] for s in answerable),
            "accepted": M.mean(s["accepted"] for s in answerable),
            "citation_precision": M.mean(s["citation_precision"] for s in answerable),
            "citation_recall": M.mean(s["citation_recall"] for s in answerable),
            "support": supported / sentences if sentences else None,
            "refusal_precision": refusal_p,
            "refusal_recall": refusal_r,
        }
    return table


# -- metrics, thresholds ---------------------------------------------------------------------------
def flatten_metrics(retrieval: Mapping[str, dict], answers: Mapping[str, dict], latency: Mapping[str, dict]
                    ) -> dict[str, float | None]:
    """One flat ``{name: value}`` map; names as used in ``eval/thresholds.json``.

    ``retrieval.<mode>.<ar|en|all>.<metric>``, ``answers.<ar|en|all>.<metric>``,
    ``latency.<stage>.<mean|p50|p95>``.
    """
    flat: dict[str, float | None] = {}
    for mode, groups in retrieval.items():
        for group, row in groups.items():
            for key, value in row.items():
                flat[f"retrieval.{mode}.{group}.{key}"] = value
    for group, row in answers.items():
        for key, value in row.items():
            flat[f"answers.{group}.{key}"] = value
    for stage, row in latency.items():
        for key in ("mean", "p50", "p95"):
            flat[f"latency.{stage}.{key}"] = row[key]
    return flat


def load_thresholds(path: Path | None = None) -> dict[str, dict]:
    """``eval/thresholds.json``: ``{suite: {metric: minimum, or {"min": x} / {"max": x}}}``."""
    path = Path(path) if path is not None else eval_dir() / "thresholds.json"
    if not path.is_file():
        raise InputError(f"{path} is missing; --check needs it (see the Thresholds section of eval/README.md)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object of suites")
    return data


def check_thresholds(metrics: Mapping[str, float | None], thresholds: Mapping[str, Any]) -> dict[str, list[str]]:
    """Compare metrics with their bounds.

    Returns ``failures`` (below a minimum or above a maximum), ``passed`` and ``skipped``
    (metrics this run did not measure, e.g. answer scores with ``--answers 0``, or
    undefined ones such as refusal recall on a sample without unanswerable questions).
    Keys starting with ``_`` are comments.
    """
    out: dict[str, list[str]] = {"failures": [], "passed": [], "skipped": []}
    for name, bound in thresholds.items():
        if name.startswith("_"):
            continue
        low, high = (bound.get("min"), bound.get("max")) if isinstance(bound, dict) else (bound, None)
        value = metrics.get(name)
        if value is None:
            out["skipped"].append(f"{name}: not measured in this run")
            continue
        if low is not None and value < low:
            out["failures"].append(f"{name} = {value:.4f} is below its threshold {low}")
        elif high is not None and value > high:
            out["failures"].append(f"{name} = {value:.4f} is above its limit {high}")
        else:
            out["passed"].append(f"{name} = {value:.4f} (bound {'≥ ' + str(low) if low is not None else '≤ ' + str(high)})")
    return out


# -- reports ---------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_markdown(report: Mapping[str, Any], chart_name: str | None) -> str:
    run = report["run"]
    lines = [f"# Sanad evaluation: {report['suite']}", ""]
    lines += [f"- date: {run['created_at']}",
              f"- command: `{run['command']}`" if run.get("command") else "- command: (library call)",
              f"- questions: {run['n_questions']} ({', '.join(f'{k} {v}' for k, v in run['by_lang'].items())}; "
              f"{run['n_answerable']} answerable) from `{run['source']}`",
              f"- index: `{run['index_dir']}` ({run['index']['n_articles']} articles, {run['index']['n_chunks']} "
              f"passages), embedding model `{run['embedding_model']}`",
              f"- answers: {run['answers']['n']} question(s) asked with mode `{run['answers']['mode']}`"
              + (f", LLM `{run['answers']['llm']}`" if run['answers']['n'] else " (LLM not loaded)")
              + (f"; {run['answers']['sampling']}" if run['answers'].get("sampling") else ""),
              f"- wall time: {run['seconds']:.1f} s (retrieval {run['retrieval_seconds']:.1f} s, answers "
              f"{run['answer_seconds']:.1f} s)", ""]
    lines += ["## Retrieval", "",
              f"Document level over the top {RETRIEVAL_K} passages of `sanad.search`: a passage is relevant when "
              "its article is gold. hit@k: a gold article among the first k passages; R@k: share of the gold "
              "articles among them; MRR: 1/rank of the first gold passage; nDCG@10 on the de-duplicated article "
              "ranking. Unanswerable questions are left out.", ""]
    header = ["mode", "lang", "n", *(f"hit@{k}" for k in M.KS), *(f"R@{k}" for k in M.KS), "MRR", "nDCG@10"]
    rows = []
    for mode, groups in report["retrieval"].items():
        for group, row in groups.items():
            rows.append([mode, group, _fmt(row["n"])] + [_fmt(row[c]) for c in RETRIEVAL_COLUMNS[1:]])
    lines += _table(header, rows) + [""]
    if chart_name:
        lines += [f"![recall@k per mode and language]({chart_name})", ""]
    lines += ["## Answers", ""]
    if report["answers"]:
        lines += ["EM / F1 / accepted: over answerable questions (a refusal scores 0); accepted = an accepted "
                  "answer string occurs in the answer. Citation P: share of cited passages that hold gold "
                  "evidence; citation R: share of gold evidence quotes inside a cited passage. Support: share of "
                  "answer sentences the citation checker verified. Refusal P/R: positive class = refused, "
                  "truth = unanswerable. Errors: generation failed twice (e.g. timed out); left out of the scores.", ""]
        header = ["lang", "n", "answered", "refused", "errors", "EM", "F1", "accepted", "cit. P", "cit. R",
                  "support", "refusal P", "refusal R"]
        rows = [[g, *(_fmt(r[c]) for c in ANSWER_COLUMNS)] for g, r in report["answers"].items()]
        lines += _table(header, rows) + [""]
    else:
        lines += ["Not run (`--answers 0`).", ""]
    lines += ["## Latency", "",
              "`search.<mode>`: one `sanad.search` call"
              + (" with the question vector computed beforehand in a batch (batched embedding: "
                 f"{run['retrieval']['embed_queries_per_question_s'] * 1000:.1f} ms per question)"
                 if run["retrieval"].get("batch_queries") else "")
              + "; `answer.*`: the stages of `sanad.ask` (Answer.timings).", ""]
    rows = []
    for stage, row in report["latency"].items():
        unit, scale, digits = (("tokens", 1, 0) if stage.endswith("_tokens") else
                               ("ms", 1000, 2) if stage.startswith("search.") else ("s", 1, 2))
        rows.append([stage, unit, _fmt(row["n"]), *(_fmt(row[c] * scale, digits) for c in ("mean", "p50", "p95"))])
    lines += _table(["stage", "unit", "n", "mean", "p50", "p95"], rows) + [""]
    check = report.get("check")
    if check is not None:
        lines += ["## Threshold check", ""]
        if check["failures"]:
            lines += [f"**FAILED** ({len(check['failures'])}):", ""] + [f"- {f}" for f in check["failures"]] + [""]
        else:
            lines += [f"Passed: all {len(check['passed'])} measured thresholds met.", ""]
        if check["skipped"]:
            lines += ["Skipped: " + "; ".join(check["skipped"]), ""]
    return "\n".join(lines)


def render_chart(report: Mapping[str, Any], path: Path) -> None:
    """Recall@k per mode, one panel per language group (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [g for g in LANG_GROUPS if any(g in v for v in report["retrieval"].values())]
    fig, axes = plt.subplots(1, max(1, len(groups)), figsize=(4.2 * max(1, len(groups)), 3.6), sharey=True,
                             squeeze=False)
    for ax, group in zip(axes[0], groups):
        for mode, rows in report["retrieval"].items():
            if group in rows:
                ax.plot(M.KS, [rows[group][f"recall@{k}"] for k in M.KS], marker="o", label=mode)
        ax.set_title(f"{report['suite']} – {group}")
        ax.set_xlabel("k (passages)")
        ax.set_xticks(M.KS)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("recall@k")
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the library entry point -----------------------------------------------------------------------
def run_eval(sanad: Sanad, suite: str | Suite = "seeds", modes: Sequence[str] | None = None,
             answers_n: int | None = None, out_dir: Path | str = Path("eval/reports"), *,
             thresholds: Mapping[str, Any] | None = None, xquad_index_dir: Path | None = None,
             batch_queries: bool = True, seed: int = SEED, command: str = "", show_progress: bool = True,
             write: bool = True) -> dict[str, Any]:
    """Evaluate ``sanad`` on a suite and write the report files.

    Args:
        sanad: the pipeline to evaluate (its config names the index for seeds/custom suites).
        suite: ``"seeds"``, ``"xquad"``, a path to a Q&A ``.jsonl`` file, or a loaded :class:`Suite`.
        modes: retrieval modes to score (default: all three).
        answers_n: questions to answer with the LLM (``0``: none, and the LLM is never loaded;
            ``None``: all for seeds/custom suites, :data:`XQUAD_DEFAULT_ANSWERS` for XQuAD).
        out_dir: report folder; the XQuAD index goes to ``out_dir/xquad-index`` unless
            ``xquad_index_dir`` is given.
        thresholds: ``{metric: bound}`` for this suite; when given, ``report["check"]`` holds the result.
        batch_queries: embed all questions in one batch before searching.

    Returns:
        The report: ``metrics`` (flat), ``retrieval``, ``answers``, ``latency`` tables,
        ``questions`` (per-question records), ``run`` info, ``markdown``, and ``files``.
    """
    t_start = time.perf_counter()
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    suite_obj = suite if isinstance(suite, Suite) else load_suite(suite)
    modes = list(dict.fromkeys(modes or RETRIEVAL_MODES))
    bad = [m for m in modes if m not in RETRIEVAL_MODES]
    if bad:
        raise InputError(f"unknown retrieval mode(s) {bad}; choose from {', '.join(RETRIEVAL_MODES)}")
    if answers_n is not None and answers_n < 0:
        raise InputError(f"answers_n={answers_n} must be 0 or more")
    out_dir = Path(out_dir)
    items = list(suite_obj.items)

    if suite_obj.articles:
        target = Sanad(sanad.config, embedder=sanad.embedder, generator=sanad._generator)
        target = ensure_suite_index(target, suite_obj, Path(xquad_index_dir or out_dir / f"{suite_obj.name}-index"),
                                    show_progress=show_progress)
    else:
        ensure_corpus_index(sanad, show_progress=show_progress)
        target = sanad
    index = target.retriever.index
    gold = {d for it in items for d in it.gold_doc_ids}
    absent = sorted(gold - set(index.articles))
    if absent:
        raise InputError(f"{len(absent)} gold article(s) of suite {suite_obj.name!r} are not in the index "
                         f"{target.config.index_dir} (e.g. {', '.join(absent[:3])}); index the articles they come "
                         f"from (`sanad index data/articles`) or point --index-dir at an index that holds them")

    # Retrieval: every question, every mode.
    t = time.perf_counter()
    results, retrieval_info = retrieve_all(target, items, modes, batch_queries=batch_queries,
                                           show_progress=show_progress)
    retrieval_seconds = time.perf_counter() - t
    retrieval = aggregate_retrieval(items, results)

    # Answers: a sample, with the LLM.
    sample = answer_sample(items, answers_n, suite_obj, seed)
    records: dict[str, dict] = {}
    missing: list[str] = []
    t = time.perf_counter()
    warmup_s = None
    if sample:
        warmup_s = warm_up(target)
        records, missing = answer_all(target, sample, show_progress=show_progress)
        for line in missing:
            logger.warning("evidence quote not found in the indexed article: %s", line)
    answer_seconds = time.perf_counter() - t
    answers = aggregate_answers(items, records)

    latency_samples: list[dict[str, float]] = []
    for i in range(len(items)):
        latency_samples.append({f"search.{m}": results[m][i]["seconds"] for m in modes})
    for rec in records.values():
        latency_samples.append({f"answer.{k}": v for k, v in rec.get("timings", {}).items()})
    latency = M.latency_summary(latency_samples)
    flat = flatten_metrics(retrieval, answers, latency)

    questions = []
    for i, it in enumerate(items):
        row = it.to_dict()
        row["retrieval"] = {m: {"doc_ids": results[m][i]["doc_ids"], "chunk_ids": results[m][i]["chunk_ids"],
                                "seconds": round(results[m][i]["seconds"], 5),
                                "scores": M.retrieval_scores(results[m][i]["doc_ids"], it.gold_doc_ids)}
                            for m in modes}
        row["answer"] = records.get(it.id)
        questions.append(row)

    by_lang: dict[str, int] = {}
    for it in items:
        by_lang[it.lang] = by_lang.get(it.lang, 0) + 1
    llm = ""
    if sample:
        cfg = target.config
        llm = f"{cfg.llm_backend}:{cfg.llm_model}"
    sampling = ""
    if sample and len(sample) < len(items):
        sampling = (f"seeded sample (random.Random({seed})) of {len(sample)}: "
                    + ("whole question ids, each asked in Arabic and English" if suite_obj.name == "xquad"
                       else "stratified by language and type"))
    report: dict[str, Any] = {
        "suite": suite_obj.name,
        "metrics": flat,
        "retrieval": retrieval,
        "answers": answers,
        "latency": latency,
        "run": {
            "created_at": created, "command": command, "source": suite_obj.source, "suite_info": suite_obj.info,
            "n_questions": len(items), "by_lang": by_lang, "n_answerable": sum(it.answerable for it in items),
            "modes": modes, "k": RETRIEVAL_K, "index_dir": str(target.config.index_dir),
            "index": {"n_articles": index.manifest.n_articles, "n_chunks": index.manifest.n_chunks,
                      "corpus_fingerprint": index.manifest.corpus_fingerprint},
            "embedding_model": target.embedder.fingerprint, "retrieval": retrieval_info,
            "answers": {"n": len(sample), "ids": [it.id for it in sample], "mode": target.config.mode,
                        "llm": llm, "sampling": sampling, "evidence_not_found": missing},
            "config": target.config.to_dict(), "seconds": 0.0, "retrieval_seconds": retrieval_seconds,
            "answer_seconds": answer_seconds, "llm_load_and_warmup_s": warmup_s,
        },
        "questions": questions,
    }
    if thresholds is not None:
        report["check"] = check_thresholds(flat, thresholds)
    report["run"]["seconds"] = time.perf_counter() - t_start
    report["markdown"] = render_markdown(report, None)
    report["files"] = write_report(report, out_dir) if write else []
    return report


def write_report(report: dict[str, Any], out_dir: Path) -> list[str]:
    """Write ``<suite>-<timestamp>.json/.md/.png`` and their ``<suite>-latest.*`` copies; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = out_dir / f"{report['suite']}-{stamp}"
    latest = out_dir / f"{report['suite']}-latest"
    png = base.with_suffix(".png")
    chart = True
    try:
        render_chart(report, png)
    except Exception as exc:  # a report without its chart is still a report
        logger.warning("could not draw the chart: %s", exc)
        chart = False
    report["markdown"] = render_markdown(report, png.name if chart else None)
    body = {k: v for k, v in report.items() if k not in ("markdown", "files")}
    base.with_suffix(".json").write_text(json.dumps(body, ensure_ascii=False, indent=1, default=_json_default),
                                         encoding="utf-8")
    base.with_suffix(".md").write_text(report["markdown"] + "\n", encoding="utf-8")
    shutil.copyfile(base.with_suffix(".json"), latest.with_suffix(".json"))
    latest.with_suffix(".md").write_text(render_markdown(report, latest.with_suffix(".png").name if chart else None)
                                         + "\n", encoding="utf-8")
    files = [str(base.with_suffix(".json")), str(base.with_suffix(".md"))]
    if chart:
        shutil.copyfile(png, latest.with_suffix(".png"))
        files.append(str(png))
    files += [str(latest.with_suffix(s)) for s in (".json", ".md", ".png") if latest.with_suffix(s).exists()]
    return files


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


# -- the CLI entry point ---------------------------------------------------------------------------
def _answers_n(args: argparse.Namespace) -> int | None:
    given = [n for n in (getattr(args, "answers", None), getattr(args, "limit", None)) if n is not None]
    for n in given:
        if n < 0:
            raise InputError(f"--answers/--limit must be 0 or more, got {n}")
    return min(given) if given else None


def cmd_eval(args: argparse.Namespace) -> int:
    """``sanad eval``: run a suite, print the Markdown summary, exit 1 on a failed ``--check``."""
    from rag.cli import _config
    from rag.evaluation.news_data import NEWS_SUITES

    if args.suite in NEWS_SUITES:  # follow-ups, conflicts, timeline: their own runner (issue #14)
        from rag.evaluation.news_suites import cmd_news_eval

        return cmd_news_eval(args)
    config = _config(args)
    suite = load_suite(args.suite)
    thresholds = None
    if args.check:
        all_thresholds = load_thresholds()
        thresholds = all_thresholds.get(suite.name)
        if thresholds is None:
            print(f"sanad: no thresholds for suite {suite.name!r} in eval/thresholds.json; nothing to check",
                  file=sys.stderr)
            thresholds = {}
    command = "sanad " + " ".join(sys.argv[1:]) if sys.argv and Path(sys.argv[0]).name == "sanad" else ""
    report = run_eval(Sanad(config), suite, modes=args.modes, answers_n=_answers_n(args), out_dir=args.out,
                      thresholds=thresholds, command=command or f"sanad eval --suite {args.suite}")
    print(report["markdown"])
    for path in report["files"]:
        print(f"wrote {path}", file=sys.stderr)
    if args.check:
        check = report["check"]
        if check["failures"]:
            print(f"sanad eval --check: {len(check['failures'])} metric(s) below threshold:", file=sys.stderr)
            for line in check["failures"]:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"sanad eval --check: passed ({len(check['passed'])} thresholds met, "
              f"{len(check['skipped'])} not measured)", file=sys.stderr)
    return 0


__all__ = ["run_eval", "cmd_eval", "check_thresholds", "load_thresholds", "flatten_metrics", "score_answer",
           "aggregate_retrieval", "aggregate_answers", "answer_sample", "ensure_suite_index"]
