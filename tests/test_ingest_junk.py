"""Ingest refuses junk with one clear line per file (#10 defect 9): text-free files, repeated texts,
symlinks out of the folder, unsafe ids, legacy encodings, two files claiming one id."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import FakeEmbedder
from rag.cli import main
from rag.config import SanadConfig
from rag.errors import InputError
from rag.index import load_index
from rag.indexer import Indexer
from rag.ingest import Ingestor, make_doc_id
from rag.retrieval import check_question

BODY = "أعلنت وزارة الدفاع العراقية عن بدء عملية أمنية جديدة في محافظة الأنبار لملاحقة خلايا داعش."


@pytest.mark.parametrize("content", ["ً ٌ ٍ َ ُ ِ ّ ْ", "ـــــــ", "ـًـٌـٍ ... ،؛ !!", "— • ★ ✓"])
def test_text_free_file_skipped(tmp_path: Path, content: str) -> None:
    """Guards against a diacritics-only or tatweel-only file becoming a searchable article."""
    (tmp_path / "junk.txt").write_text(content, encoding="utf-8")
    (tmp_path / "real.txt").write_text(BODY, encoding="utf-8")
    articles, [skipped] = Ingestor().run([tmp_path])
    assert [a.doc_id for a in articles] == ["real"]
    assert Path(skipped.path).name == "junk.txt" and "has no words" in skipped.reason


@pytest.mark.parametrize("question", ["ـــــ", "ً ٌ ٍ", "ـَـِ؟"])
def test_text_free_question_refused(question: str) -> None:
    """Guards against a tatweel-only question being embedded and answered."""
    with pytest.raises(InputError, match="no words"):
        check_question(question, 1000)


def test_identical_text_under_two_names_indexed_once_with_copy_listed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "b.txt").write_text(BODY + "\n", encoding="utf-8")  # same text once cleaned
    (tmp_path / "articles.jsonl").write_text(
        '{"file": "a.txt", "source": "عكاظ", "date": "2015-07-22"}\n{"file": "b.txt", "source": "سبق", '
        '"date": "2015-07-21", "url": "http://sabq.org/b"}\n',
        encoding="utf-8",
    )
    [article], [skipped] = Ingestor().run([tmp_path])
    assert article.doc_id == "b"  # the earliest published copy is kept
    assert article.copies == (("a", "عكاظ", "2015-07-22", ""),) and article.sources == ("سبق", "عكاظ")
    assert skipped.kind == "duplicate" and skipped.doc_id == "a" and "the same text as article 'b'" in skipped.reason


def test_identical_text_already_indexed_not_indexed_again(tmp_path: Path) -> None:
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "m")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "two" / "copy.txt").write_text(BODY, encoding="utf-8")
    Indexer(config, FakeEmbedder()).index_paths([tmp_path / "one"])
    report = Indexer(config, FakeEmbedder()).index_paths([tmp_path / "two"])
    assert report.added == () and report.n_articles == 1
    assert "the same text as indexed article 'a'" in report.skipped[0].reason


def test_symlink_leaving_folder_refused_inside_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("سر لا يجوز فهرسته في هذا الملف.", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "real.txt").write_text(BODY, encoding="utf-8")
    os.symlink(outside, corpus / "leak.txt")
    os.symlink(tmp_path, corpus / "up")  # a symlinked folder is not walked into
    os.symlink(corpus / "real.txt", corpus / "alias.txt")  # inside the folder: the same file, read once
    articles, skipped = Ingestor().run([corpus])
    assert [a.doc_id for a in articles] == ["alias"] or [a.doc_id for a in articles] == ["real"]
    assert [Path(s.path).name for s in skipped] == ["leak.txt"]
    assert "outside" in skipped[0].reason and "refused" in skipped[0].reason


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("a\nb", "a_b"),
        ("تقرير\tمهم", "تقرير_مهم"),
        ("../../etc", "etc"),
        ("x\x1b[31mred", "x_31mred"),
        ("report (final) v2", "report_final_v2"),
        ("\u202eevil", "evil"),
        ("مُهِمّ", "مُهِمّ"),
        ("___", None),
    ],
)
def test_make_doc_id_safe(stem: str, expected: str | None) -> None:
    doc_id = make_doc_id(stem)
    if expected is None:
        assert doc_id.startswith("doc_") and len(doc_id) == 16
    else:
        assert doc_id == expected
    assert doc_id.isprintable() and "/" not in doc_id and " " not in doc_id


def test_newline_in_file_name_does_not_break_sanad_list(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Guards against a newline in a file name splitting `sanad list` rows (#10 defect 9)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bad\nname.txt").write_text(BODY, encoding="utf-8")
    (corpus / "good.txt").write_text(BODY + " وأضاف المتحدث.", encoding="utf-8")
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "m")
    Indexer(config, FakeEmbedder()).index_paths([corpus])
    clean_env.setenv("SANAD_INDEX_DIR", str(config.index_dir))
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("bad_name  ")
    assert main(["list", "--json"]) == 0
    assert {r["doc_id"] for r in json.loads(capsys.readouterr().out)} == {"bad_name", "good"}


def test_utf16_with_bom_read(tmp_path: Path) -> None:
    """Windows Notepad's "Unicode" (UTF-16 with a byte-order mark) is unambiguous: read it."""
    (tmp_path / "u16.txt").write_bytes(BODY.encode("utf-16"))
    [article], skipped = Ingestor().run([tmp_path])
    assert article.text == BODY and skipped == []


@pytest.mark.parametrize(("codec", "name"), [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")])
def test_utf16_without_bom_named(tmp_path: Path, codec: str, name: str) -> None:
    """Guards against a UTF-16 file getting the misleading "convert from cp1256" hint (#10 defect 9)."""
    (tmp_path / "u16.txt").write_bytes(BODY.encode(codec))
    _, [skipped] = Ingestor().run([tmp_path])
    assert f"looks like {name} without a byte-order mark" in skipped.reason
    assert f"iconv -f {name} -t UTF-8 u16.txt" in skipped.reason and "cp1256" not in skipped.reason


def test_cp1256_named(tmp_path: Path) -> None:
    (tmp_path / "legacy.txt").write_bytes(BODY.encode("cp1256"))
    _, [skipped] = Ingestor().run([tmp_path])
    assert "looks like Windows-1256 (cp1256) Arabic" in skipped.reason and "iconv -f cp1256" in skipped.reason


def test_unrecognised_bytes_named(tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(bytes(range(128, 256)) * 3)
    _, [skipped] = Ingestor().run([tmp_path])
    assert "encoding was not recognised" in skipped.reason


def test_second_file_same_id_across_runs_is_conflict_not_merge(tmp_path: Path) -> None:
    """Guards against x.htm silently replacing the indexed x.txt (two files, one id; #10 defect 9)."""
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "m")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "x.txt").write_text(BODY, encoding="utf-8")
    (corpus / "other.txt").write_text("خبر آخر عن الاقتصاد العالمي وأسعار النفط.", encoding="utf-8")
    Indexer(config, FakeEmbedder()).index_paths([corpus])
    (corpus / "x.htm").write_text(
        "<html><body><p>" + BODY.replace("الأنبار", "نينوى") + "</p></body></html>", encoding="utf-8"
    )
    report = Indexer(config, FakeEmbedder()).index_paths([corpus / "x.htm"])
    assert report.updated == () and report.added == ()
    assert report.skipped[0].kind == "conflict" and "already indexed from" in report.skipped[0].reason
    assert "الأنبار" in load_index(config.index_dir).articles["x"].text
    # Both files in one run: both reported, and --prune keeps the indexed article rather than deleting it.
    report = Indexer(config, FakeEmbedder()).index_paths([corpus], prune=True)
    assert sorted(Path(s.path).name for s in report.skipped) == ["x.htm", "x.txt"]
    assert report.removed == () and "x" in load_index(config.index_dir).articles


def test_metadata_added_later_updates_article_without_reembedding(tmp_path: Path) -> None:
    config = SanadConfig(index_dir=tmp_path / "index", model_dir=tmp_path / "m")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text(BODY, encoding="utf-8")
    embedder = FakeEmbedder()
    Indexer(config, embedder).index_paths([tmp_path / "c"])
    (tmp_path / "c" / "a.meta.json").write_text('{"source": "سبق", "date": "2015-07-21"}', encoding="utf-8")
    embedder.reset_counts()
    report = Indexer(config, embedder).index_paths([tmp_path / "c"])
    assert report.unchanged == ("a",) and embedder.embedded_passages == []
    article = load_index(config.index_dir).articles["a"]
    assert (article.source, article.published) == ("سبق", "2015-07-21")
