"""Unit tests of the Articles tab's corpus code (rag/ui/uploads.py) on a real index with the fake embedder.

What a user meets: an upload either lands whole (file in the corpus folder, article in the index) or
changes nothing; names cannot leave the corpus folder; removal keeps the folder in step with the index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FakeEmbedder
from rag.config import SanadConfig
from rag.errors import InputError
from rag.ingest import MAX_FILE_BYTES, Ingestor
from rag.pipeline import Sanad
from rag.ui.uploads import (
    ARTICLE_HEADERS,
    MAX_FILES_PER_UPLOAD,
    add_uploads,
    article_rows,
    index_exists,
    remove_article,
    safe_stem,
)

FESTIVAL = "مهرجان التمور\nحضر 7345 زائرا مهرجان التمور في دورته السابعة.\n"


def _no_progress(*_args: object, **_kwargs: object) -> None:
    return None


@pytest.fixture
def sanad(sanad_config: SanadConfig) -> Sanad:
    sanad = Sanad(sanad_config, embedder=FakeEmbedder())
    sanad.index([sanad_config.corpus_dir])
    return sanad


def _snapshot(sanad: Sanad) -> tuple[list[tuple[str, bytes]], list[str]]:
    corpus = sanad.config.corpus_dir
    files = sorted((p.name, p.read_bytes()) for p in corpus.iterdir() if p.is_file())
    return files, [a.doc_id for a in sanad.articles()]


def test_safe_stem_hostile_names_stay_in_the_folder() -> None:
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("..\\..\\win.ini") == "win"
    assert safe_stem("..evil name;$(rm -rf x).txt") == "evil_name_rm_-rf_x"
    assert safe_stem("مهرجان التمور 2025.txt") == "مهرجان_التمور_2025"
    assert safe_stem("....txt") == "txt"  # a hidden-file name: the dots go, the rest stays
    assert safe_stem("$$$.txt").startswith("upload-") and safe_stem("").startswith("upload-")


def test_add_uploads_new_file_lands_in_folder_and_index(sanad: Sanad, tmp_path: Path) -> None:
    upload = tmp_path / "up" / "Festival 2025.txt"
    upload.parent.mkdir()
    upload.write_text(FESTIVAL, encoding="utf-8")
    result = add_uploads(sanad, Ingestor(), [str(upload)], _no_progress)
    assert result["added"] == ["Festival_2025"] and result["updated"] == []
    assert result["message"].startswith("Added Festival_2025")
    assert (sanad.config.corpus_dir / "Festival_2025.txt").read_text(encoding="utf-8") == FESTIVAL
    rows = {r[0]: dict(zip(ARTICLE_HEADERS, r, strict=True)) for r in article_rows(sanad)}
    assert rows["Festival_2025"]["file"] == "Festival_2025.txt" and rows["Festival_2025"]["passages"] >= 1


def test_add_uploads_one_bad_file_changes_nothing(sanad: Sanad, tmp_path: Path) -> None:
    """A replacement plus a non-UTF-8 file: the replaced file is put back, the index is unchanged."""
    before = _snapshot(sanad)
    replacement = tmp_path / "a02_syria_aid.txt"
    replacement.write_text(FESTIVAL, encoding="utf-8")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(InputError, match=r"nothing was added: .*UTF-8"):
        add_uploads(sanad, Ingestor(), [str(replacement), str(bad)], _no_progress, replace=True)
    assert _snapshot(sanad) == before
    assert not [p for p in sanad.config.corpus_dir.iterdir() if p.name.startswith(".upload-")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [str(d / "notes.xlsx")], "not a supported file type"),
        (lambda d: [str(d / "big.txt")], "over the 5,000,000-byte limit"),
        (lambda d: [str(d / "x.txt"), str(d / "sub" / "x.txt")], "same name"),
        (lambda d: [str(d / "x.txt")] * (MAX_FILES_PER_UPLOAD + 1), "too many"),
        (lambda d: [], "choose one or more"),
    ],
)
def test_add_uploads_refused_before_anything_is_written(sanad: Sanad, tmp_path: Path, make, message: str) -> None:
    (tmp_path / "notes.xlsx").write_bytes(b"PK")
    with (tmp_path / "big.txt").open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    (tmp_path / "x.txt").write_text(FESTIVAL, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text(FESTIVAL, encoding="utf-8")
    before = _snapshot(sanad)
    with pytest.raises(InputError, match=message):
        add_uploads(sanad, Ingestor(), make(tmp_path), _no_progress)
    assert _snapshot(sanad) == before


def test_add_uploads_gradio_file_dict_uses_the_users_name(sanad: Sanad, tmp_path: Path) -> None:
    stored = tmp_path / "gradio-tmp-4f2a.txt"
    stored.write_text(FESTIVAL, encoding="utf-8")
    result = add_uploads(sanad, Ingestor(), [{"path": str(stored), "orig_name": "dates.txt"}], _no_progress)
    assert result["added"] == ["dates"] and (sanad.config.corpus_dir / "dates.txt").is_file()


def test_remove_article_moves_the_file_aside(sanad: Sanad) -> None:
    corpus = sanad.config.corpus_dir
    result = remove_article(sanad, " a04_economy ")
    assert result["removed"] == ["a04_economy"] and "moved to .removed/" in result["message"]
    assert "a04_economy" not in [a.doc_id for a in sanad.articles()]
    assert not (corpus / "a04_economy.txt").exists()
    assert [p.name.split(".txt.")[0] for p in (corpus / ".removed").iterdir()] == ["a04_economy"]


def test_remove_article_unknown_or_empty_id_refused(sanad: Sanad) -> None:
    before = _snapshot(sanad)
    with pytest.raises(InputError, match="not in the index"):
        remove_article(sanad, "no_such_article")
    with pytest.raises(InputError, match="choose the article"):
        remove_article(sanad, "  ")
    assert _snapshot(sanad) == before


def test_index_exists_and_rows_without_an_index(tmp_path: Path) -> None:
    empty = Sanad(SanadConfig(index_dir=tmp_path / "none", model_dir=tmp_path / "m"), embedder=FakeEmbedder())
    assert not index_exists(empty) and article_rows(empty) == []


def test_add_uploads_existing_name_without_replace_refused(sanad: Sanad, tmp_path: Path) -> None:
    """Guards against an upload named like an indexed article silently replacing it (issue #10, defect 3)."""
    before = _snapshot(sanad)
    clash = tmp_path / "a02_syria_aid.txt"
    clash.write_text(FESTIVAL, encoding="utf-8")
    with pytest.raises(InputError, match=r"would replace article 'a02_syria_aid'.*replace=True"):
        add_uploads(sanad, Ingestor(), [str(clash)], _no_progress)
    assert _snapshot(sanad) == before
