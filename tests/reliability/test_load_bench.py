"""``sanad bench --sections load`` (bench/load.py): the parts that run without a server.

The section itself starts the web app and takes minutes; it is run by hand (see the README figures).
Here: the section is accepted by name, and the upload it sends is the size asked for, made of
distinct texts (identical texts would be indexed once and make the upload look cheaper than it is).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.load import QUESTIONS, make_upload
from bench.run import OPTIONAL_SECTIONS, options_from_args

ROOT = Path(__file__).resolve().parents[2]


def test_options_load_section_accepted_only_when_named() -> None:
    args = argparse.Namespace(sections="load", quick=True, out=Path("x"), no_llm=True)
    assert "load" in OPTIONAL_SECTIONS
    assert options_from_args(args).sections == ("load",)


def test_make_upload_size_and_distinct_texts(tmp_path: Path) -> None:
    files = make_upload(tmp_path / "up", 1.0, ROOT / "data" / "articles")
    sizes = [p.stat().st_size for p in files]
    assert 0.95e6 <= sum(sizes) <= 1.1e6
    assert len({p.read_bytes() for p in files}) == len(files)
    assert all(size < 5_000_000 for size in sizes)  # each under the per-article upload limit


def test_questions_cover_every_mode_and_both_languages() -> None:
    assert {m for _, m in QUESTIONS} == {"dense", "bm25", "hybrid"}
    assert any(q.isascii() for q, _ in QUESTIONS) and any(not q.isascii() for q, _ in QUESTIONS)
