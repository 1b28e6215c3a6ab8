"""``sanad eval --suite followups``: follow-up questions made self-contained, scored on hand-written data.

Each follow-up in ``eval/followups.jsonl`` is rewritten (rules, the model, or both: ``--rewrite``), and
scored without the LLM on how much of the hand-written standalone question the rewrite recovers
(``rewrite.<method>.entity_recall``: the places, people, organisations and years of the gold form found
in the rewrite) and on retrieval with the rewritten question against the raw follow-up and the gold form
(``retrieval.<raw|rules|model|gold>.<lang>.hit@1`` …). With ``--answers N`` the last turn is answered
like any seeds question (with the history when the pipeline takes one) and scored the same way.

Its own module because this suite shares nothing with the conflicts and timeline suites but the helpers
in :mod:`rag.evaluation.news_shared`; :func:`rag.evaluation.news_suites.run_news_eval` loads the data and
calls :func:`run_followups`.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections.abc import Sequence
from typing import Any

from rag.answer_types import Answer, Turn
from rag.conversation import ModelRewriter
from rag.entities import find_entities
from rag.errors import SanadError
from rag.evaluation import metrics as M
from rag.evaluation.news_data import FollowupItem
from rag.evaluation.news_shared import group_means
from rag.pipeline import Sanad
from rag.rewrite_rules import RuleRewriter
from rag.textnorm import tokenize


def run_followups(
    sanad: Sanad,
    items: Sequence[FollowupItem],
    *,
    methods: Sequence[str] = ("rules",),
    answers_n: int = 0,
    show_progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rewriters: dict[str, Any] = {"rules": RuleRewriter()}
    if "model" in methods:
        sanad.load(llm=True)
        rewriters["model"] = ModelRewriter(sanad.generator, seed=sanad.config.seed)
    rows = []
    for item in items:
        row: dict[str, Any] = {
            "id": item.id,
            "lang": item.lang,
            "question": item.question,
            "standalone": item.standalone,
            "answerable": item.qa.answerable,
            "rewrites": {},
        }
        gold_keys = _keys(item.standalone)
        queries = {"raw": item.question, "gold": item.standalone}
        for method in methods:
            turns = _rewritten_turns(rewriters[method], item.turns)
            t = time.perf_counter()
            rw = rewriters[method].run(item.question, turns)
            seconds = time.perf_counter() - t
            got = _keys(rw.question)
            row["rewrites"][method] = {
                "question": rw.question,
                "reason": rw.reason,
                "method": rw.method,
                "seconds": round(seconds, 4),
            }
            row[f"{method}.entity_recall"] = len(gold_keys & got) / len(gold_keys) if gold_keys else 1.0
            row[f"{method}.exact"] = float(_norm(rw.question) == _norm(item.standalone))
            queries[method] = rw.question
        if item.qa.answerable:
            for name, query in queries.items():
                hits = sanad.search(query, k=10)
                scores = M.retrieval_scores([h.doc_id for h in hits], item.qa.gold_doc_ids) or {}
                for key in ("hit@1", "recall@3", "mrr"):
                    row[f"retrieval.{name}.{key}"] = scores.get(key)
        rows.append(row)
    metrics: dict[str, Any] = {}
    for method in methods:
        metrics.update(
            group_means(
                rows, {f"{method}.entity_recall": "entity_recall", f"{method}.exact": "exact"}, f"rewrite.{method}"
            )
        )
    answerable = [r for r in rows if r["answerable"]]
    for name in ("raw", *methods, "gold"):
        metrics.update(
            group_means(
                answerable, {f"retrieval.{name}.{k}": k for k in ("hit@1", "recall@3", "mrr")}, f"retrieval.{name}"
            )
        )
    if answers_n:
        metrics.update(_followup_answers(sanad, _balanced(items, answers_n), rows, methods))
    return metrics, rows


def _balanced(items: Sequence[FollowupItem], n: int) -> list[FollowupItem]:
    """The first ``n`` items taking the languages in turn (the file lists English first, then Arabic)."""
    by_lang: dict[str, list[FollowupItem]] = {}
    for item in items:
        by_lang.setdefault(item.lang, []).append(item)
    out: list[FollowupItem] = []
    queues = [list(q) for q in by_lang.values()]
    while len(out) < min(n, len(items)):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def _followup_answers(
    sanad: Sanad, chosen: Sequence[FollowupItem], rows: list[dict[str, Any]], methods: Sequence[str]
) -> dict[str, Any]:
    """Answer the last turn of each conversation with its history, once per rewrite method.

    ``answers.<method>.<group>.<metric>`` for each method; ``answers.<group>.<metric>`` repeats the
    configured method's (``SanadConfig.rewrite``; the first method when it is not among them).
    """
    from rag.evaluation.answer_eval import evidence_spans, warm_up
    from rag.evaluation.scoring import aggregate_answers, score_answer

    warm_up(sanad)
    articles = sanad.retriever.index.articles
    metrics: dict[str, Any] = {}
    default = sanad.config.rewrite if sanad.config.rewrite in methods else methods[0]
    # A conversation whose follow-up two methods rewrite alike gets the same answer (temperature 0, fixed
    # seed): it is answered once and the record reused, so comparing methods costs only where they differ.
    done: dict[tuple[str, str], tuple[dict, Answer]] = {}
    for method in methods:
        asker = (
            sanad
            if method == sanad.config.rewrite
            else Sanad(sanad.config.with_overrides(rewrite=method), embedder=sanad.embedder, generator=sanad.generator)
        )
        records: dict[str, dict] = {}
        t0 = time.perf_counter()
        reused = 0
        for item in chosen:
            row = next(r for r in rows if r["id"] == item.id)
            rewritten = row["rewrites"].get(method, {}).get("question", item.question)
            spans, _ = evidence_spans(item.qa, articles)
            try:
                key = (item.id, asker.rewrite(item.question, item.turns).question)
                if key in done:
                    records[item.id], answer = done[key]
                    reused += 1
                else:
                    answer = _ask(asker, item.question, item.turns, rewritten)
                    records[item.id] = {"answer": answer.to_dict(), "scores": score_answer(item.qa, answer, spans)}
                    done[key] = (records[item.id], answer)
            except SanadError as exc:
                records[item.id] = {"error": str(exc), "scores": {"refused": False}}
                continue
            row.setdefault("answers", {})[method] = {
                "text": answer.answer,
                "refused": answer.refused,
                "rewritten": getattr(answer, "rewritten", ""),
                **records[item.id]["scores"],
            }
            if method == default:
                row["answer"] = row["answers"][method]
        metrics[f"answers.{method}.reused"] = reused
        metrics[f"answers.{method}.seconds"] = time.perf_counter() - t0
        for group, values in aggregate_answers([i.qa for i in chosen], records).items():
            for key, value in values.items():
                metrics[f"answers.{method}.{group}.{key}"] = value
                if method == default:
                    metrics[f"answers.{group}.{key}"] = value
    return metrics


def _rewritten_turns(rewriter: Any, turns: Sequence[Turn]) -> tuple[Turn, ...]:
    """The earlier turns as the chat would have kept them: each made self-contained in its turn."""
    out: list[Turn] = []
    for turn in turns:
        rw = rewriter.run(turn.question, tuple(out)) if out else None
        out.append(dataclasses.replace(turn, rewritten=rw.question if rw and rw.changed else ""))
    return tuple(out)


def _keys(text: str) -> set[str]:
    import re

    return {m.key for m in find_entities(text) if m.type in ("place", "person", "org")} | set(
        re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", text)
    )


def _norm(text: str) -> str:
    return " ".join(tokenize(text, stem=False, drop_stopwords=False))


def _ask(sanad: Sanad, question: str, history: Sequence[Any], rewritten: str) -> Answer:
    """``sanad.ask`` with the history when the pipeline takes one; else the rewritten question alone."""
    ask: Any = sanad.ask
    if "history" in inspect.signature(ask).parameters:
        return ask(question, history=tuple(history))
    return ask(rewritten)


__all__ = ["run_followups"]
