"""Tests for rag.config.SanadConfig: defaults, environment parsing, overrides and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import OFFLINE_EMBEDDING, OFFLINE_LLM, SAMPLE_CORPUS, SanadConfig, default_index_dir, default_model_dir
from rag.errors import InputError


def test_config_defaults_offline_and_sane() -> None:
    cfg = SanadConfig()
    assert cfg.embedding_model == OFFLINE_EMBEDDING
    assert cfg.llm_model == OFFLINE_LLM
    assert cfg.mode == "hybrid"
    assert cfg.top_k == 5 and cfg.candidate_k == 50
    assert cfg.chunk_tokens == 160 and cfg.chunk_overlap_tokens == 40
    assert cfg.index_dir == default_index_dir() and cfg.corpus_dir == SAMPLE_CORPUS
    assert cfg.model_dir.parts[-2:] == ("sanad", "models")
    assert cfg.translate_queries is True


def test_config_default_paths_absolute_and_independent_of_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against "no index in index" when sanad runs from any folder but the checkout (#12)."""
    here = SanadConfig()
    monkeypatch.chdir(tmp_path)
    there = SanadConfig()
    for name in ("index_dir", "model_dir", "corpus_dir"):
        assert getattr(there, name).is_absolute() and getattr(there, name) == getattr(here, name)
    assert there.index_dir.parts[-2:] == ("sanad", "index")
    assert (SAMPLE_CORPUS / "..").resolve().name == "data" and SAMPLE_CORPUS.is_dir()


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="XDG folders are the Linux convention")
def test_config_default_index_dir_follows_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert SanadConfig().index_dir == tmp_path / "data" / "sanad" / "index"


def test_config_default_model_dir_keeps_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against a new default orphaning the models `sanad setup` already built under $XDG_CACHE_HOME."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_model_dir() == tmp_path / "cache" / "sanad" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".cache" / "sanad" / "models").mkdir(parents=True)
    assert default_model_dir() == tmp_path / "home" / ".cache" / "sanad" / "models"  # the existing cache


def test_config_env_index_and_model_dir_override_defaults(tmp_path: Path) -> None:
    cfg = SanadConfig.from_env({"SANAD_INDEX_DIR": str(tmp_path / "i"), "SANAD_MODEL_DIR": str(tmp_path / "m")})
    assert cfg.index_dir == tmp_path / "i" and cfg.model_dir == tmp_path / "m"


def test_config_frozen_assignment_raises() -> None:
    """Guards against a shared config being mutated by one caller under another's feet."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        SanadConfig().top_k = 3  # type: ignore[misc]


def test_config_paths_str_become_path_with_home_expanded() -> None:
    """Guards against '~' in a path setting being taken literally."""
    cfg = SanadConfig(index_dir="~/sanad-index", corpus_dir="articles")  # type: ignore[arg-type]
    assert isinstance(cfg.corpus_dir, Path)
    assert cfg.index_dir == Path.home() / "sanad-index"


def test_config_from_env_parses_int_bool_float_mode_path() -> None:
    """Guards against environment values staying strings (e.g. top_k='8')."""
    env = {
        "SANAD_TOP_K": "8",
        "SANAD_TRANSLATE_QUERIES": "no",
        "SANAD_TEMPERATURE": "0.5",
        "SANAD_MODE": "bm25",
        "SANAD_INDEX_DIR": "/tmp/x-index",
        "SANAD_LLM_BASE_URL": "http://h:1/v1",
        "UNRELATED": "ignored",
    }
    cfg = SanadConfig.from_env(env)
    assert cfg.top_k == 8
    assert cfg.translate_queries is False
    assert cfg.temperature == 0.5
    assert cfg.mode == "bm25"
    assert cfg.index_dir == Path("/tmp/x-index")
    assert cfg.llm_base_url == "http://h:1/v1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("on", True), ("yes", True), ("0", False), ("False", False), ("off", False)],
)
def test_config_from_env_bool_spellings_parse(raw: str, expected: bool) -> None:
    """Guards against 'no'/'off'/'0' being read as True (bool('no') is True)."""
    assert SanadConfig.from_env({"SANAD_TRANSLATE_QUERIES": raw}).translate_queries is expected


def test_config_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANAD_TOP_K", "7")
    assert SanadConfig.from_env().top_k == 7


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("SANAD_TOP_K", "eight"),
        ("SANAD_TOP_K", "8.0"),
        ("SANAD_TEMPERATURE", "warm"),
        ("SANAD_TRANSLATE_QUERIES", "maybe"),
        ("SANAD_MODE", "fuzzy"),
        ("SANAD_CHUNK_TOKENS", ""),
    ],
)
def test_config_from_env_bad_value_raises_naming_variable(name: str, raw: str) -> None:
    """Guards against a typo in an environment variable being silently ignored or crashing with a bare ValueError."""
    with pytest.raises(InputError, match=name):
        SanadConfig.from_env({name: raw})


def test_config_from_env_negative_value_raises() -> None:
    """Guards against environment values skipping the range checks."""
    with pytest.raises(InputError, match="top_k"):
        SanadConfig.from_env({"SANAD_TOP_K": "-3"})


def test_config_from_env_overrides_beat_env() -> None:
    """Guards against unset CLI flags (None) wiping environment settings."""
    cfg = SanadConfig.from_env({"SANAD_TOP_K": "8", "SANAD_MODE": "bm25"}, top_k=2, mode=None)
    assert cfg.top_k == 2
    assert cfg.mode == "bm25"  # None is "flag not given": the environment value stays


def test_config_with_overrides_none_ignored() -> None:
    """Guards against unset CLI flags (None) replacing defaults with None."""
    cfg = SanadConfig(top_k=3)
    assert cfg.with_overrides(top_k=None, mode=None) == cfg


def test_config_with_overrides_returns_copy() -> None:
    cfg = SanadConfig()
    new = cfg.with_overrides(mode="bm25", index_dir="elsewhere")
    assert new.mode == "bm25" and new.index_dir == Path("elsewhere")
    assert cfg.mode == "hybrid" and cfg.index_dir == default_index_dir()


def test_config_with_overrides_unknown_key_raises() -> None:
    """Guards against a misspelt setting (e.g. topk) being dropped without a word."""
    with pytest.raises(InputError, match=r"unknown setting.*topk"):
        SanadConfig().with_overrides(topk=3)


def test_config_with_overrides_invalid_value_revalidated() -> None:
    """Guards against overrides skipping the checks that construction runs."""
    with pytest.raises(InputError, match="mode='semantic'"):
        SanadConfig().with_overrides(mode="semantic")


def test_config_invalid_mode_raises() -> None:
    """Guards against an unknown retrieval mode being accepted at start-up and failing later."""
    with pytest.raises(InputError, match="choose one of dense, bm25, hybrid"):
        SanadConfig(mode="vector")  # type: ignore[arg-type]


def test_config_invalid_backend_raises() -> None:
    """Guards against an unknown LLM backend being accepted at start-up and failing later."""
    with pytest.raises(InputError, match="llm_backend='ollama'"):
        SanadConfig(llm_backend="ollama")


@pytest.mark.parametrize(
    "name",
    [
        "top_k",
        "candidate_k",
        "chunk_tokens",
        "embed_batch_size",
        "max_question_chars",
        "rrf_k",
        "hnsw_ef_search",
        "llm_ctx",
        "answer_passages",
    ],
)
@pytest.mark.parametrize("value", [0, -1])
def test_config_non_positive_number_raises(name: str, value: int) -> None:
    """Guards against zero or negative sizes that would return nothing or loop."""
    with pytest.raises(InputError, match=f"{name}={value}"):
        SanadConfig(**{name: value})


@pytest.mark.parametrize(("tokens", "overlap"), [(100, 100), (100, 150), (100, -1)])
def test_config_overlap_out_of_range_raises(tokens: int, overlap: int) -> None:
    """Guards against an overlap >= chunk size, which would make chunking loop or repeat whole passages."""
    with pytest.raises(InputError, match="chunk_overlap_tokens"):
        SanadConfig(chunk_tokens=tokens, chunk_overlap_tokens=overlap)


def test_config_candidate_k_raised_to_top_k() -> None:
    """Guards against hybrid fusion seeing fewer candidates than the passages asked for."""
    assert SanadConfig(top_k=20, candidate_k=5).candidate_k == 20


def test_config_to_dict_json_safe() -> None:
    import json

    data = SanadConfig(index_dir=Path("/tmp/i")).to_dict()
    assert data["index_dir"] == "/tmp/i"
    assert json.loads(json.dumps(data)) == data


def test_embedding_backend_validated_and_read_from_env() -> None:
    with pytest.raises(InputError, match="embedding_backend"):
        SanadConfig(embedding_backend="onnx")
    assert SanadConfig().embedding_backend == "auto"
    assert SanadConfig.from_env({"SANAD_EMBEDDING_BACKEND": "torch"}).embedding_backend == "torch"


def test_prompt_split_validated() -> None:
    with pytest.raises(InputError, match="prompt_split"):
        SanadConfig(prompt_split="greedy")
    assert SanadConfig.from_env({"SANAD_PROMPT_SPLIT": "rank"}).prompt_split == "rank"
