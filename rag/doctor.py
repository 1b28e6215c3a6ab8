"""``sanad doctor``: what is where, which versions run, and what is missing with the command that fixes it.

It reads folders and package metadata and, when the embedding model is there, loads it once to
name the engine that serves (OpenVINO or PyTorch) and how long that took. Exit status 0 when
nothing is missing, 1 otherwise, so scripts can use it as a readiness check.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.config import OFFLINE_EMBEDDING, OFFLINE_LLM, SanadConfig

#: Distributions whose versions matter when something misbehaves (read from metadata, never imported).
KEY_PACKAGES = (
    "sanad",
    "numpy",
    "faiss-cpu",
    "bm25s",
    "openvino",
    "tokenizers",
    "torch",
    "transformers",
    "sentence-transformers",
    "xllamacpp",
    "gradio",
    "platformdirs",
)


@dataclass
class Report:
    """What ``sanad doctor`` found; printed as text or JSON."""

    where: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    engine: str = ""
    missing: list[str] = field(default_factory=list)


def cmd_doctor(args: argparse.Namespace) -> int:
    from rag.cli import _config

    config = _config(args)
    report = diagnose(
        config,
        index_source=_source(args, "index_dir", "SANAD_INDEX_DIR"),
        model_source=_source(args, "model_dir", "SANAD_MODEL_DIR"),
        load=not args.no_load,
    )
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=1))
    else:
        print(render(report))
    return 1 if report.missing else 0


def _source(args: argparse.Namespace, name: str, env: str) -> str:
    flag = "--" + name.replace("_", "-")
    return flag if getattr(args, name, None) else env if os.environ.get(env) else "default"


def diagnose(
    config: SanadConfig, *, index_source: str = "default", model_source: str = "default", load: bool = True
) -> Report:
    """Inspect ``config``'s folders and the installed packages (and load the embedder when ``load``)."""
    r = Report()
    r.where["index"] = f"{config.index_dir}  ({index_source})"
    r.where["models"] = f"{config.model_dir}  ({model_source})"
    r.where["sample corpus"] = str(config.corpus_dir)
    _index(config, r)
    embedding_ready = _embedding_model(config, r)
    _llm(config, r)
    if not config.corpus_dir.is_dir():
        r.details["sample corpus"] = "not here (only a source checkout ships data/articles)"
    r.packages = {"python": platform.python_version(), **_versions()}
    for name in ("openvino", "tokenizers", "faiss-cpu", "bm25s"):
        if r.packages.get(name) == "not installed":
            r.missing.append(f"package {name} is not installed: pip install -e .  (in the checkout)")
    if load and embedding_ready:
        r.engine = _engine(config)
    return r


def _index(config: SanadConfig, r: Report) -> None:
    from rag.errors import SanadError
    from rag.index import live_version, read_manifest

    try:
        version = live_version(config.index_dir)
        m = read_manifest(config.index_dir)
    except SanadError as exc:
        fix = "`sanad setup` (indexes the sample articles) or `sanad index PATH...`"
        old = Path("index") / "CURRENT"
        hint = (
            f"; an index from the old default location is in {old.parent.resolve()}: use it with "
            f"`--index-dir {old.parent}` or move it with `mv {old.parent}/* {config.index_dir}/`"
            if old.exists() and old.parent.resolve() != config.index_dir.resolve()
            else ""
        )
        r.details["index"] = str(exc).split(";")[0]
        r.missing.append(f"no usable index in {config.index_dir}: run {fix}{hint}")
        return
    r.details["index"] = (
        f"live version {version.name}: {m.n_articles} articles, {m.n_chunks} passages, "
        f"model {m.embedding_model}, FAISS {m.index_factory}, built {m.created_at}"
    )


def _embedding_model(config: SanadConfig, r: Report) -> bool:
    if config.embedding_model != OFFLINE_EMBEDDING:
        r.details["embedding model"] = f"{config.embedding_model} (loaded by sentence-transformers)"
        return True
    from rag.embeddings import Embedder
    from rag.models.e5_offline import MODEL_NAME
    from rag.models.openvino_reference import REFERENCE_FILE

    folder = config.model_dir / MODEL_NAME
    if not (folder / "modules.json").exists():
        r.details["embedding model"] = f"{folder}: missing"
        r.missing.append(f"the offline embedding model is not built in {folder}: run `sanad setup`")
        return False
    r.details["embedding model"] = f"{folder} ({_size(folder)})"
    export = Embedder.from_config(config).export_dir()
    if (export / REFERENCE_FILE).exists():
        state = "exported, with stored PyTorch reference (quick load)"
    elif (export / "model.xml").exists():
        state = "exported; the next load checks it against PyTorch and stores the reference"
    else:
        state = "not exported yet (the first load exports it: `sanad setup` does)"
    r.details["OpenVINO export"] = f"{export}: {state}"
    return True


def _llm(config: SanadConfig, r: Report) -> None:
    if config.llm_backend != "llama-cpp" or config.llm_model != OFFLINE_LLM:
        r.details["language model"] = f"{config.llm_backend}: {config.llm_model} {config.llm_base_url}".strip()
        return
    from rag.models.llm_assets import GGUF_NAME

    gguf = config.model_dir / GGUF_NAME
    if gguf.is_file():
        r.details["language model"] = f"{gguf} ({_size(gguf)})"
    else:
        r.details["language model"] = f"{gguf}: missing (needed by `sanad ask` and `sanad serve`)"
        r.missing.append(f"the offline language model is not in {gguf}: run `sanad setup`")


def _engine(config: SanadConfig) -> str:
    from rag.embeddings import Embedder
    from rag.errors import SanadError

    embedder = Embedder.from_config(config)
    t0 = time.perf_counter()
    try:
        embedder.load()
    except SanadError as exc:
        return f"cannot load: {exc}"
    quick = "torch" not in sys.modules
    return (
        f"{embedder.backend} (embedding_backend={config.embedding_backend}; loaded in "
        f"{time.perf_counter() - t0:.1f} s{', without PyTorch' if quick else ''})"
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _size(path: Path) -> str:
    total = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{total / 1e6:,.0f} MB"


def render(r: Report) -> str:
    """The report as aligned text: where, what is there, packages, engine, and what to do."""
    lines = ["where"]
    width = max(len(k) for k in (*r.where, *r.details, "embedding engine"))
    lines += [f"  {k:<{width}}  {v}" for k, v in r.where.items()]
    lines.append("what is there")
    lines += [f"  {k:<{width}}  {v}" for k, v in r.details.items()]
    if r.engine:
        lines.append(f"  {'embedding engine':<{width}}  {r.engine}")
    lines.append("packages")
    lines.append("  " + ", ".join(f"{k} {v}" for k, v in r.packages.items()))
    if r.missing:
        lines.append("missing")
        lines += [f"  - {m}" for m in r.missing]
    else:
        lines.append("nothing missing")
    return "\n".join(lines)
