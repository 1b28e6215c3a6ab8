"""`sanad bench --sections startup`: the figures' arithmetic, its Markdown, and real fresh processes (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import SanadConfig
from tests.models import needs_e5, seed_index


def test_startup_summary_min_median_max() -> None:
    from bench.startup import _summary

    runs = [{"wall_s": w, "cpu_s": w / 2, "max_rss_mb": 100.0} for w in (1.0, 3.0, 2.0, 5.0, 4.0)]
    s = _summary(runs)
    assert s["wall_s"] == {"min": 1.0, "median": 3.0, "max": 5.0} and s["cpu_s"]["median"] == 1.5


def test_startup_markdown_has_table_stages_and_heavy_check() -> None:
    from bench.startup import startup_md

    row = {
        "variant": "search (hybrid, default engine)",
        "runs": 5,
        "first_run_s": 1.4,
        "wall_s": {"min": 0.9, "median": 1.0, "max": 1.3},
        "cpu_s": {"median": 1.1},
        "max_rss_mb": {"median": 300.0},
    }
    text = "\n".join(
        startup_md(
            {
                "question": "q",
                "command": "python -m rag.cli search QUESTION",
                "rows": [row],
                "stages": {
                    "stages": [{"stage": "import numpy", "wall_s": 0.1, "cpu_s": 0.1}],
                    "heavy_modules_imported": [],
                },
                "imports": {"top": [{"module": "faiss", "cumulative_s": 0.2}], "heavy_modules_imported": ["scipy"]},
            }
        )
    )
    assert "| search (hybrid, default engine) | 5 | 0.9 | 1 | 1.3 | 1.4 | 1.1 | 300 |" in text
    assert "import numpy" in text and "steps: none." in text and "these: scipy" in text
    assert startup_md(None) == []


def test_startup_missing_index_says_setup(tmp_path: Path) -> None:
    from bench.startup import bench_startup
    from rag.errors import IndexMissingError

    with pytest.raises(IndexMissingError, match="sanad index"):
        bench_startup(SanadConfig(index_dir=tmp_path / "none"), runs=1, log=lambda line: None)


@pytest.mark.slow
@needs_e5
def test_startup_bench_real_processes_no_torch_on_query_path(tmp_path: Path) -> None:
    """Fresh `sanad search` processes print hits; the OpenVINO query path imports no torch/transformers."""
    from bench.startup import bench_startup, startup_md

    config = seed_index(tmp_path)
    result = bench_startup(config, runs=1, variants=("default", "bm25"), log=lambda line: None)
    assert [r["variant"] for r in result["rows"]] == [
        "search (hybrid, default engine)",
        "search --mode bm25 (no model)",
    ]
    for row in result["rows"]:
        assert row["runs"] == 1 and 0 < row["wall_s"]["min"] <= row["wall_s"]["max"] and row["cpu_s"]["median"] > 0
    stages = {s["stage"] for s in result["stages"]["stages"]}
    assert "OpenVINO compile (model cache)" in stages and "first search (embed question + hybrid)" in stages
    for heavy in (result["stages"]["heavy_modules_imported"], result["imports"]["heavy_modules_imported"]):
        assert not {"torch", "transformers", "sentence_transformers"} & set(heavy)
    assert "## Startup" in "\n".join(startup_md(result))
