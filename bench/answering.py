"""Answer latency per stage on seed questions, and the levers that shorten time to first token.

Stages come from :attr:`rag.answer_types.Answer.timings` (retrieval, prompt tokens, time to first
token, generation, total). Levers: the prompt budget and the number of passages (shorter
prompts), llama.cpp's prefix cache (a cold prompt vs one sharing the system prompt vs an
identical one), and the LLM thread count. Each variant also reports how many answers
contain an accepted answer string, so speed is never bought blindly with accuracy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.core import Stopwatch, load_average, ratio
from bench.data import SeedQuestion, answer_questions
from rag.config import SanadConfig

logger = logging.getLogger(__name__)

TTFT_TARGET_S = 5.0
WARMUP_QUESTION = "ما هو داعش؟"

#: (name, SanadConfig overrides), measured in this order on the same questions (see ``bench_answers``).
DEFAULT_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default", {}),
    ("budget300", {"prompt_budget_tokens": 300}),
    ("budget200", {"prompt_budget_tokens": 200}),
    ("passages2", {"answer_passages": 2}),
    ("fast:budget400+passages3+rank", {"prompt_budget_tokens": 400, "answer_passages": 3, "prompt_split": "rank"}),
    ("llm_threads1", {"llm_threads": 1}),
    ("default_again", {}),  # the default once more, last: how much the machine's load drifted during the run
)


def answer_contains(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when an accepted answer string occurs in the answer (the eval suite's rule when available)."""
    try:
        from rag.evaluation.metrics import contains_answer
    except ImportError:  # pragma: no cover - the eval package ships with the project
        from rag.textnorm import normalize_arabic

        pred = normalize_arabic(prediction)
        return 1.0 if any(normalize_arabic(g) in pred for g in golds if g) else 0.0
    return float(contains_answer(prediction, golds))


def ask_timed(answerer, question: str):
    """Answer through the streaming path; returns the Answer and seconds from the call to the first token."""
    start = time.perf_counter()
    first = None
    answer = None
    for event in answerer.stream(question):
        if event.kind == "token" and first is None and event.text:
            first = time.perf_counter() - start
        elif event.kind == "answer":
            answer = event.answer
    return answer, (first if first is not None else time.perf_counter() - start)


def stage_row(question: SeedQuestion, answer, first_token_s: float | None = None) -> dict:
    """One answered question's stage timings and correctness (``first_token_s``: from the question)."""
    t = dict(answer.timings)
    gen = t.get("generation_s", 0.0) - t.get("ttft_s", 0.0)
    tokens = t.get("completion_tokens", 0.0)
    return {
        "id": question.id,
        "retrieval_s": round(t.get("retrieval_s", 0.0), 4),
        "prompt_tokens": int(t.get("prompt_tokens", 0)),
        "ttft_s": round(t.get("ttft_s", 0.0), 3),
        "generation_s": round(t.get("generation_s", 0.0), 3),
        "completion_tokens": int(tokens),
        # decode speed: tokens after the first (whose time is in TTFT) over the time after it
        "gen_tokens_per_s": round((tokens - 1) / gen, 2) if gen > 0 and tokens > 1 else None,
        "first_token_s": round(first_token_s, 3) if first_token_s is not None else None,
        "total_s": round(t.get("total_s", 0.0), 3),
        "refused": bool(answer.refused),
        "correct": answer_contains(answer.answer, question.answers),
        "answer": answer.answer[:200],
    }


def summarize_rows(rows: Sequence[dict]) -> dict:
    """Means (and max TTFT) over a variant's questions."""
    out: dict = {"n": len(rows)}
    if not rows:
        return out
    for key in (
        "retrieval_s",
        "prompt_tokens",
        "ttft_s",
        "first_token_s",
        "generation_s",
        "completion_tokens",
        "total_s",
        "gen_tokens_per_s",
    ):
        values = [r[key] for r in rows if r.get(key) is not None]
        if values:
            out[f"mean_{key}"] = round(sum(values) / len(values), 4)
    out["max_ttft_s"] = max(r["ttft_s"] for r in rows)
    out["accuracy"] = round(sum(r["correct"] for r in rows) / len(rows), 3)
    out["refusals"] = sum(1 for r in rows if r["refused"])
    return out


def time_to_first_token(generator, messages, *, cache_prompt: bool, max_tokens: int = 1) -> tuple[float, dict]:
    """Seconds until llama.cpp streams the first text for ``messages`` (``cache_prompt=False`` forces a cold
    prompt), and llama.cpp's own account of the request (``prompt_n`` tokens processed, ``cache_n`` reused).

    Uses the LlamaCppGenerator's request path directly (its public API always caches).
    """
    from rag.generators.base import _RunStats  # the bench needs the uncached request

    request = {
        "messages": [m.to_dict() for m in messages],
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "seed": 0,
        "stream": True,
        "cache_prompt": cache_prompt,
    }
    stats = _RunStats()
    start = time.perf_counter()
    first = None
    for piece in generator._stream_request(generator._server, request, stats):
        if piece and first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    timings = stats.extra.get("timings") or {}
    keep = {k: round(float(timings[k]), 1) for k in ("prompt_n", "cache_n", "prompt_ms") if k in timings}
    return (first if first is not None else total), keep


def bench_generator(config: SanadConfig):
    """The configured LLM, but for llama.cpp with its RAM prompt cache off (``cache_ram_mib=0``).

    That cache keeps earlier prompts and would hand each lever variant the prompts the
    previous variant already processed (the same questions), hiding the lever's effect. The
    live prefix cache (the system prompt, a repeated prompt) works as in service.
    """
    from rag.config import OFFLINE_LLM
    from rag.generators import make_generator

    if config.llm_backend != "llama-cpp":
        return make_generator(config)
    from rag.generators import LlamaCppGenerator

    if config.llm_model == OFFLINE_LLM:
        from rag.models.llm_assets import GGUF_NAME

        path = config.model_dir / GGUF_NAME
    else:
        from pathlib import Path

        path = Path(config.llm_model).expanduser()
    return LlamaCppGenerator(
        path, n_threads=config.llm_threads, n_ctx=config.llm_ctx, timeout_s=config.llm_timeout_s, cache_ram_mib=0
    )


def bench_answers(
    config: SanadConfig,
    *,
    n_questions: int = 5,
    variants=DEFAULT_VARIANTS,
    prefix_cache: bool = True,
    sanad=None,
    log: Callable[[str], None] = print,
) -> dict:
    """Per-stage answer latency for each variant; see the module doc. Returns the per-question rows too."""
    from rag.answer import Answerer
    from rag.pipeline import Sanad

    questions = answer_questions(n_questions)
    sanad = sanad or Sanad(config, generator=bench_generator(config))
    result: dict = {
        "questions": [q.id for q in questions],
        "ttft_target_s": TTFT_TARGET_S,
        "load_avg_start": load_average(),
        "variants": {},
    }
    with Stopwatch() as sw:
        sanad.load(llm=True)
    result["load_s"] = round(sw.s, 2)
    generator = sanad.generator
    result["llm"] = {
        "name": getattr(generator, "name", type(generator).__name__),
        "threads": getattr(generator, "n_threads", None),
        "load_s": getattr(generator, "load_s", None),
    }

    generators = {getattr(generator, "n_threads", config.llm_threads): generator}

    def model_for(cfg: SanadConfig):
        """The loaded model for ``cfg``'s thread count (never closed here: xllamacpp's server destructor has
        been seen to hang when a model is freed and another loaded in the same process)."""
        if cfg.llm_threads not in generators:
            gen = bench_generator(cfg)
            gen.load()
            generators[cfg.llm_threads] = gen
        return generators[cfg.llm_threads]

    for name, overrides in variants:
        cfg = config.with_overrides(**overrides)
        gen = model_for(cfg)
        # an unrelated question first: it replaces the previous variant's prompt in llama.cpp's live cache
        # and leaves the system prompt cached, as every new question finds it in service
        Answerer(cfg, sanad.retriever, gen).ask(WARMUP_QUESTION)
        answerer = Answerer(cfg, sanad.retriever, gen)
        rows = []
        for q in questions:
            rows.append(stage_row(q, *ask_timed(answerer, q.question)))
        summary = summarize_rows(rows)
        result["variants"][name] = {"overrides": overrides, "summary": summary, "rows": rows}
        log(
            f"  answer {name}: TTFT mean {summary['mean_ttft_s']:.2f}s (max {summary['max_ttft_s']:.2f}s), "
            f"prompt {summary['mean_prompt_tokens']:.0f} tokens, total {summary['mean_total_s']:.2f}s, "
            f"accuracy {summary['accuracy']:.2f}"
        )
    generator = model_for(config)
    if prefix_cache and hasattr(generator, "_stream_request"):
        result["prefix_cache"] = _prefix_cache(config, sanad, generator, questions, log)
    result["summary"] = _answer_summary(result)
    result["load_avg_end"] = load_average()
    return result


def _prefix_cache(config: SanadConfig, sanad, generator, questions: Sequence[SeedQuestion], log) -> dict:
    """TTFT of one question's prompt three ways: cold, with only the system prompt cached, and repeated.

    The passages are put in an order no earlier request used (reversed, then rotated), so
    neither the live KV cache nor llama.cpp's RAM prompt cache holds more than intended.
    """
    from rag.answer import Answerer
    from rag.retrieval import detect_language

    answerer = Answerer(config, sanad.retriever, generator)
    rows = []
    for q in questions:
        lang = detect_language(q.question)
        hits, translation, _ = answerer.retrieve(q.question, lang, None, None)
        hits = hits[: config.answer_passages]
        if len(hits) < 3:
            continue
        builder = answerer._prompt_builder()
        reversed_prompt = builder.build(q.question, hits[::-1], lang, translation)
        rotated_prompt = builder.build(q.question, hits[1:] + hits[:1], lang, translation)
        cold, cold_t = time_to_first_token(generator, reversed_prompt.messages, cache_prompt=False)
        system_only, system_t = time_to_first_token(generator, rotated_prompt.messages, cache_prompt=True)
        identical, identical_t = time_to_first_token(generator, rotated_prompt.messages, cache_prompt=True)
        rows.append(
            {
                "id": q.id,
                "cold_s": round(cold, 3),
                "system_prompt_cached_s": round(system_only, 3),
                "identical_prompt_s": round(identical, 3),
                "llama_cpp": {"cold": cold_t, "system_prompt_cached": system_t, "identical": identical_t},
                "prompt_tokens": sum(generator.count_tokens(m.content) for m in rotated_prompt.messages),
                "system_tokens": generator.count_tokens(rotated_prompt.messages[0].content),
            }
        )
    if not rows:
        return {"rows": [], "note": "too few passages per question to vary the prompt"}
    keys = ("cold_s", "system_prompt_cached_s", "identical_prompt_s", "prompt_tokens", "system_tokens")
    means = {k: round(sum(r[k] for r in rows) / len(rows), 3) for k in keys}
    log(
        f"  prefix cache: cold {means['cold_s']:.2f}s, system prompt cached {means['system_prompt_cached_s']:.2f}s, "
        f"identical prompt again {means['identical_prompt_s']:.2f}s"
    )
    return {
        "rows": rows,
        "mean": means,
        "note": "cold = cache_prompt off (the whole prompt is processed); system_prompt_cached = a new prompt "
        "after another one (what every new question gets by default: the fixed system prompt is "
        "reused); identical_prompt = the same prompt again (a repeated question)",
    }


def _answer_summary(result: dict) -> dict:
    variants = result.get("variants", {})
    base = variants.get("default", {}).get("summary", {})
    out: dict = {"ttft_target_s": TTFT_TARGET_S}
    if not base:
        return out
    out["default_mean_ttft_s"] = base.get("mean_ttft_s")
    out["default_max_ttft_s"] = base.get("max_ttft_s")
    out["default_accuracy"] = base.get("accuracy")
    out["default_meets_target"] = base.get("max_ttft_s", 99) <= TTFT_TARGET_S
    again = variants.get("default_again", {}).get("summary", {})
    if again.get("n"):
        out["default_again_mean_ttft_s"] = again.get("mean_ttft_s")
        out["drift"] = ratio(again.get("mean_ttft_s"), base.get("mean_ttft_s"))
    ranked = sorted(
        ((name, v["summary"]) for name, v in variants.items() if v["summary"].get("n") and v["overrides"] != {}),
        key=lambda nv: nv[1].get("mean_ttft_s", 99),
    )
    if ranked:
        name, s = ranked[0]
        out["fastest_variant"] = {
            "name": name,
            "mean_ttft_s": s.get("mean_ttft_s"),
            "max_ttft_s": s.get("max_ttft_s"),
            "accuracy": s.get("accuracy"),
            "overrides": variants[name]["overrides"],
        }
        keep = [(n, v) for n, v in ranked if v.get("accuracy", 0) >= base.get("accuracy", 0)]
        if keep:
            name, s = keep[0]
            out["fastest_without_accuracy_loss"] = {
                "name": name,
                "mean_ttft_s": s.get("mean_ttft_s"),
                "max_ttft_s": s.get("max_ttft_s"),
                "accuracy": s.get("accuracy"),
                "overrides": variants[name]["overrides"],
            }
    return out
