"""One typed configuration object for every entry point (library, CLI, web UI, eval).

Defaults run fully offline on a fresh install. Any field can be overridden by an
environment variable ``SANAD_<FIELD>`` (e.g. ``SANAD_TOP_K=8``) or, from the CLI, by
the matching flag; :meth:`SanadConfig.from_env` applies both in that order.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from rag.errors import InputError
from rag.hybrid import FUSIONS
from rag.types import RETRIEVAL_MODES, RetrievalMode

#: Marker values that select the models shipped through PyPI packages (see ``sanad setup``).
OFFLINE_EMBEDDING = "offline:multilingual-e5-small"
OFFLINE_LLM = "offline:qwen2.5-coder-1.5b-instruct-q4_k_m"
LLM_BACKENDS = ("llama-cpp", "openai", "transformers")
EMBEDDING_BACKENDS = ("auto", "torch", "openvino")
PROMPT_SPLITS = ("even", "rank")
STORE_KINDS = ("faiss", "milvus")  # rag.stores.STORE_KINDS, without importing the stores here
INDEX_ENGINES = ("local", "ray")
REWRITE_MODES = ("rules", "model", "off")  # rag.conversation.REWRITE_MODES
NEAR_DUPLICATE_MODES = ("keep", "merge")


def default_model_dir() -> Path:
    """Where ``sanad setup`` builds the offline models: ``$XDG_CACHE_HOME/sanad/models`` (``~/.cache/...``).

    That is where every earlier version put them, so existing caches are reused. On a system without
    ``XDG_CACHE_HOME`` and without that folder, the platform's own cache folder (``platformdirs``,
    e.g. ``~/Library/Caches/sanad/models`` on macOS). ``SANAD_MODEL_DIR`` / ``--model-dir`` override it.
    """
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "sanad" / "models"
    legacy = Path.home() / ".cache" / "sanad" / "models"
    if legacy.exists():
        return legacy
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sanad", appauthor=False)) / "models"


def default_index_dir() -> Path:
    """The index ``sanad setup`` builds and every command reads, the same from any working folder.

    The user's data folder (``platformdirs``): ``$XDG_DATA_HOME/sanad/index``, i.e.
    ``~/.local/share/sanad/index`` on Linux, ``~/Library/Application Support/sanad/index`` on macOS.
    ``SANAD_INDEX_DIR`` / ``--index-dir`` override it.
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir("sanad", appauthor=False)) / "index"


#: The sample articles shipped in the source checkout (``sanad setup`` indexes them when there is no index).
SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "data" / "articles"


@dataclass(frozen=True)
class SanadConfig:
    """Settings with sensible defaults; checked on creation.

    Example:
        >>> cfg = SanadConfig(top_k=3)
        >>> cfg.with_overrides(mode="bm25").mode
        'bm25'
    """

    # Where things live: absolute defaults, so that every command works from any folder.
    corpus_dir: Path = SAMPLE_CORPUS
    index_dir: Path = field(default_factory=default_index_dir)
    model_dir: Path = field(default_factory=default_model_dir)

    # Embeddings. ``embedding_model`` is OFFLINE_EMBEDDING, a sentence-transformers model id or a folder.
    embedding_model: str = OFFLINE_EMBEDDING
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    embed_batch_size: int = 16
    embed_threads: int = 1
    # "auto": OpenVINO when installed and it gives PyTorch's vectors (5.7x faster indexing, `sanad bench`).
    embedding_backend: str = "auto"

    # Chunking, sized in the embedding model's tokens.
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 40

    # Vector index: "auto" picks exact "Flat" below ``approx_threshold`` chunks, else ``approx_factory``.
    index_factory: str = "auto"
    # IVF1024 at nprobe 64: recall@10 >= 0.97 of exact at 1M passages, p95 5.4 ms (`sanad bench`);
    # 200k: where exact search plus the ~40 ms question embedding passes 50 ms p95.
    approx_factory: str = "IVF1024,Flat"
    approx_threshold: int = 200_000
    hnsw_ef_search: int = 128
    ivf_nprobe: int = 64
    # FAISS threads per search. 1: single-question search was faster than with 2 at every size on the
    # 2-core machine (Flat 10k p95 0.35 vs 16 ms, 1M 57 vs 163 ms under load; `sanad bench`).
    search_threads: int = 1
    # Check every index file's sha256 when the index is loaded (issue #10). About 1 s per GB (90 ms for an
    # 88 MB, 20k-passage index); False: sizes and the manifest checksum only, and `sanad verify` reads the rest.
    verify_on_load: bool = True

    # Past one machine (docs/scaling.md; `pip install -e '.[scale]'`). store: "faiss" (files in the index folder,
    # searched in-process) or "milvus" (a collection per index version at milvus_uri: a Milvus Lite folder,
    # default <index_dir>/milvus.db, or http://host:19530). index_engine "ray" embeds passages on a Ray cluster
    # (ray_address: "" starts a local one, "auto", host:6379 or ray://host:10001; ray_workers 0: one per CPU).
    # milvus_alias names the index in a Milvus deployment ("": derived from index_dir, so that two index folders
    # sharing one server never touch each other's collections); set it for stateless readers of the alias.
    store: str = "faiss"
    milvus_uri: str = ""
    milvus_alias: str = ""
    index_engine: str = "local"
    ray_address: str = ""
    ray_workers: int = 0
    ray_batch_size: int = 256

    # Retrieval.
    mode: RetrievalMode = "hybrid"
    top_k: int = 5
    candidate_k: int = 50
    # How hybrid mode fuses the dense and BM25 lists: "zscore" (weighted z-scores, BM25 weighted by how many
    # of the question's terms its vocabulary knows) or "rrf" (equal-weight reciprocal rank fusion, rrf_k).
    # zscore at dense weight 0.65 (calibrated on half of the articles: `python -m rag.evaluation.fusion`) is
    # never below max(dense, bm25) - 0.005 at hit@1 and MRR on seeds ar/en, XQuAD ar/en and ARCD; RRF is on
    # XQuAD-en (hit@1 .734 vs dense .750) and where BM25 is weak (README "Retrieval fusion").
    fusion: str = "zscore"
    fusion_dense_weight: float = 0.65
    rrf_k: int = 60

    # Questions.
    max_question_chars: int = 1000
    # Conversations (issue #14): how a follow-up is made self-contained before retrieval ("rules", "model"
    # or "off"), and how many earlier turns count. "model" measured better where it matters, the answer to
    # the follow-up (accepted 0.471 vs 0.235, citation precision 0.833 vs 0.538 on 20 conversations), for
    # ~7 s more per follow-up on 2 cores; rules retrieve as well (hit@1 0.800 vs 0.767). eval/README.md.
    rewrite: str = "model"
    history_turns: int = 4
    # Conflicting reports (issue #14): compare the evidence's figures, dates and names and append a notice
    # with both values, dates and citations to the answer (rag/notices.py; no model involved).
    conflict_notice: bool = True
    # Timelines: passages retrieved for a topic, and the most events one timeline lists.
    timeline_passages: int = 20
    timeline_events: int = 40

    # Ingest. Near-verbatim copies of one story (agency copy run by several outlets): "keep" indexes
    # each; "merge" indexes it once, listing every outlet (identical texts are always indexed once).
    # 0.8: Jaccard similarity of word 5-grams; see README "Duplicates".
    near_duplicates: str = "keep"
    near_duplicate_threshold: float = 0.8

    # Recency preference: a hit's score is multiplied by 0.5 ** (age / half-life), age in days before the
    # newest article in the index (undated articles count as the oldest). 0 = off (the default): turn it on
    # only when an evaluation of time-sensitive questions shows it helps (README "Filters and dates").
    recency_half_life_days: float = 0.0

    # Answering.
    llm_backend: str = "llama-cpp"
    llm_model: str = OFFLINE_LLM
    llm_base_url: str = ""
    llm_threads: int = 2
    llm_ctx: int = 4096
    llm_max_tokens: int = 160
    llm_timeout_s: float = 120.0
    temperature: float = 0.0
    seed: int = 0
    # Passage text the LLM reads. 600 tokens from 4 passages split evenly: the most accurate setting measured
    # (all 94 seed questions, `sanad eval --suite seeds`: Arabic accepted .784, English .194), time to first
    # token p50 6.1 s / p95 7.8 s. The fast profile 400 / 3 / "rank" (the best passage cut least) starts
    # answers 1.6 s sooner (p50 4.5 s) with the same Arabic accuracy, but English questions are mostly
    # refused (.097; 9 of 10 refused in the CI sample). README "Performance".
    prompt_budget_tokens: int = 600
    answer_passages: int = 4
    prompt_split: str = "even"
    translate_queries: bool = True
    # Evidence first (#11): the model reads only the ``evidence_sentences`` best sentences of the top
    # ``evidence_passages`` passages (rag/evidence.py), and a question is refused before generation when the
    # answerability score of that evidence (rag/answerability.py) is below ``answerable_threshold`` (0.55). The
    # whole system's curve (`python -m rag.evaluation.threshold_curve REPORT`; README "Answers") favours 0.65 on
    # the 203 seeds questions (13 more unanswerable questions refused for 10 fewer right answers), but XQuAD's
    # curve (40 answerable questions) drops Arabic accepted from 0.45 at 0.55 to 0.40 at 0.60 and 0.25 at 0.65.
    # ``extractive_fallback`` (off): when the model's answer fails the citation checker, quote the evidence
    # sentence holding the value asked for. Off since the full run: of its 6 quotes, 2 were right and 4 answered
    # unanswerable questions with a neighbouring figure (a distance for another base).
    evidence_first: bool = True
    evidence_sentences: int = 3
    evidence_passages: int = 6
    answerable_threshold: float = 0.55
    extractive_fallback: bool = False
    english_via_arabic: bool = False  # +2 right, -3 refusals at 0.55 on 110 English seeds: README "English via Arabic"

    # Who may change the index from the web UI/API (rag/access.py): a token writes need (SANAD_WRITE_TOKEN; never
    # printed or saved), read-only mode; ask_queue: questions that may wait for the LLM before "busy" answers,
    # ask_deadline_s: how long one may wait in that queue.
    write_token: str = field(default="", repr=False)
    read_only: bool = False
    ask_queue: int = 8
    ask_deadline_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("corpus_dir", "index_dir", "model_dir"):
            object.__setattr__(self, name, Path(getattr(self, name)).expanduser())
        if self.mode not in RETRIEVAL_MODES:
            raise InputError(f"mode={self.mode!r} is not valid; choose one of {', '.join(RETRIEVAL_MODES)}")
        if self.embedding_backend not in EMBEDDING_BACKENDS:
            raise InputError(
                f"embedding_backend={self.embedding_backend!r} is not valid; choose one of "
                f"{', '.join(EMBEDDING_BACKENDS)}"
            )
        if self.prompt_split not in PROMPT_SPLITS:
            raise InputError(
                f"prompt_split={self.prompt_split!r} is not valid; choose one of {', '.join(PROMPT_SPLITS)}"
            )
        if self.store not in STORE_KINDS:
            raise InputError(f"store={self.store!r} is not valid; choose one of {', '.join(STORE_KINDS)}")
        if self.index_engine not in INDEX_ENGINES:
            raise InputError(
                f"index_engine={self.index_engine!r} is not valid; choose one of {', '.join(INDEX_ENGINES)}"
            )
        if self.ray_workers < 0 or self.ray_batch_size <= 0:
            raise InputError(
                f"ray_workers={self.ray_workers} must be >= 0 (0: one per CPU) and "
                f"ray_batch_size={self.ray_batch_size} positive"
            )
        if self.near_duplicates not in NEAR_DUPLICATE_MODES:
            raise InputError(
                f"near_duplicates={self.near_duplicates!r} is not valid; choose one of "
                f"{', '.join(NEAR_DUPLICATE_MODES)}"
            )
        if not 0 < self.near_duplicate_threshold <= 1:
            raise InputError(f"near_duplicate_threshold={self.near_duplicate_threshold!r} must be in (0, 1]")
        if self.recency_half_life_days < 0:
            raise InputError(f"recency_half_life_days={self.recency_half_life_days!r} must be 0 (off) or positive")
        if self.fusion not in FUSIONS:
            raise InputError(f"fusion={self.fusion!r} is not valid; choose one of {', '.join(FUSIONS)}")
        if not 0.0 <= self.fusion_dense_weight <= 1.0:
            raise InputError(
                f"fusion_dense_weight={self.fusion_dense_weight!r} must be between 0 and 1 "
                f"(the dense side's share; BM25 gets the rest)"
            )
        if not 0.0 <= self.answerable_threshold <= 1.0:
            raise InputError(
                f"answerable_threshold={self.answerable_threshold!r} must be between 0 and 1 "
                f"(0: never refuse before generation)"
            )
        if self.rewrite not in REWRITE_MODES:
            raise InputError(f"rewrite={self.rewrite!r} is not valid; choose one of {', '.join(REWRITE_MODES)}")
        if self.llm_backend not in LLM_BACKENDS:
            raise InputError(f"llm_backend={self.llm_backend!r} is not valid; choose one of {', '.join(LLM_BACKENDS)}")
        positive = (
            "embed_batch_size",
            "embed_threads",
            "chunk_tokens",
            "top_k",
            "candidate_k",
            "rrf_k",
            "max_question_chars",
            "llm_threads",
            "llm_ctx",
            "llm_max_tokens",
            "prompt_budget_tokens",
            "answer_passages",
            "approx_threshold",
            "hnsw_ef_search",
            "ivf_nprobe",
            "search_threads",
            "history_turns",
            "timeline_passages",
            "timeline_events",
            "ask_queue",
            "ask_deadline_s",
            "evidence_sentences",
            "evidence_passages",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise InputError(f"{name}={getattr(self, name)!r} must be a positive number")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise InputError(
                f"chunk_overlap_tokens={self.chunk_overlap_tokens} must be >= 0 and below chunk_tokens={self.chunk_tokens}"
            )
        if self.candidate_k < self.top_k:
            object.__setattr__(self, "candidate_k", self.top_k)

    def with_overrides(self, **overrides: Any) -> SanadConfig:
        """A copy with the given fields replaced; ``None`` values are ignored (unset CLI flags)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise InputError(f"unknown setting(s) {unknown}; valid settings: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SanadConfig:
        """Defaults, then ``SANAD_<FIELD>`` environment variables, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"SANAD_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, f.type, raw)
        return cls(**values).with_overrides(**overrides)

    def to_dict(self) -> dict[str, Any]:
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}
        if data.get("write_token"):
            data["write_token"] = "<set>"  # reports and logs never carry the secret
        return data


def _coerce(name: str, annotation: Any, raw: str) -> Any:
    kind = str(annotation)
    try:
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise InputError(f"SANAD_{name.upper()}={raw!r} is not a valid {kind}") from None
    if kind == "RetrievalMode" and raw not in get_args(RetrievalMode):
        raise InputError(f"SANAD_{name.upper()}={raw!r}: choose one of {', '.join(RETRIEVAL_MODES)}")
    return raw
