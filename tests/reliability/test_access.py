"""Writes need a credential once one is set, read-only refuses them all, and each is audited (issue #10, defect 3).

A hostile test found ``/add_articles`` and ``/remove_article`` open to anyone reaching the port, an
upload silently replacing an article of the same name, and ``--host 0.0.0.0`` offered with no warning.
The server tests start the real Gradio app on 127.0.0.1 (fake embedder, no model) and call it
through ``gradio_client``, as a program would.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SEED_CORPUS, FakeEmbedder
from rag.access import AUDIT_FILE, AuditLog, WriteGuard, check_bind, is_loopback
from rag.config import SanadConfig
from rag.errors import AccessError
from rag.pipeline import Sanad
from tests.fakes import FakeGenerator

if str(REPO_ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(REPO_ROOT))

TOKEN = "correct-horse-battery-staple"
NEW_ARTICLE = "مهرجان التمور\nافتتح في بريدة مهرجان التمور السنوي بمشاركة 300 مزارع من مختلف مناطق المملكة."


# -- the decision, without a server -----------------------------------------------------------------
def test_guard_no_credential_set_writes_open() -> None:
    assert WriteGuard().authorize("add").who == "anonymous"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "requires a write token"),
        ({"token": "wrong"}, "not valid"),
        ({"headers": {"x-sanad-token": "wrong"}}, "not valid"),
        ({"headers": {"authorization": "Bearer nope"}}, "not valid"),
    ],
)
def test_guard_token_set_missing_or_wrong_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(AccessError, match=match):
        WriteGuard(TOKEN).authorize("add", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"token": TOKEN}, {"headers": {"x-sanad-token": TOKEN}}, {"headers": {"authorization": f"Bearer {TOKEN}"}}],
)
def test_guard_token_given_allowed(kwargs: dict) -> None:
    assert WriteGuard(TOKEN).authorize("add", **kwargs).who == "token"


def test_guard_login_names_the_user_and_read_only_refuses_everyone() -> None:
    assert WriteGuard(login=True).authorize("add", username="mona").who == "user:mona"
    with pytest.raises(AccessError, match="log in"):
        WriteGuard(login=True).authorize("add")
    with pytest.raises(AccessError, match="read-only"):
        WriteGuard(TOKEN, read_only=True).authorize("remove", token=TOKEN)


def test_audit_log_appends_one_json_line_per_attempt(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / AUDIT_FILE)
    guard = WriteGuard(TOKEN, audit=log)
    with pytest.raises(AccessError):
        guard.authorize("remove", ["a01"], address="10.0.0.9")
    guard.record(guard.authorize("add", ["x.txt"], token=TOKEN), "add", ["x"], "ok")
    records = log.read()
    assert [(r["who"], r["action"], r["targets"], r["outcome"]) for r in records] == [
        ("anonymous", "remove", ["a01"], "refused"),
        ("token", "add", ["x"], "ok"),
    ]
    assert records[0]["address"] == "10.0.0.9" and records[0]["time"].endswith("Z")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_check_bind_loopback_always_allowed(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, protected=False, read_only=False)


def test_check_bind_open_writes_on_every_interface_refused_unless_forced() -> None:
    with pytest.raises(AccessError, match=r"refusing to listen on 0\.0\.0\.0.*--insecure-open-writes"):
        check_bind("0.0.0.0", protected=False, read_only=False)
    check_bind("0.0.0.0", protected=True, read_only=False)
    check_bind("0.0.0.0", protected=False, read_only=True)
    check_bind("0.0.0.0", protected=False, read_only=False, insecure_open_writes=True)


def test_app_main_host_all_interfaces_without_auth_exits_before_serving(tmp_path: Path, capsys) -> None:
    import app

    config = SanadConfig(index_dir=tmp_path / "index", corpus_dir=tmp_path / "articles")
    assert app.main(["--host", "0.0.0.0", "--port", "1"], config=config) == 1
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err
    assert "--insecure-open-writes" in app.build_parser().format_help()


def test_config_token_never_shown(tmp_path: Path) -> None:
    config = SanadConfig(index_dir=tmp_path, write_token=TOKEN)
    assert TOKEN not in repr(config) and config.to_dict()["write_token"] == "<set>"
    assert SanadConfig.from_env({"SANAD_WRITE_TOKEN": TOKEN, "SANAD_READ_ONLY": "1"}).read_only


# -- the real server --------------------------------------------------------------------------------
def _serve(tmp_path: Path, **settings) -> Iterator[tuple[str, Sanad]]:
    from ui_helpers import free_port

    import app

    corpus = tmp_path / "articles"
    shutil.copytree(SEED_CORPUS, corpus)
    config = SanadConfig(
        index_dir=tmp_path / "index",
        corpus_dir=corpus,
        model_dir=tmp_path / "models",
        translate_queries=False,
        **settings,
    )
    sanad = Sanad(config, embedder=FakeEmbedder(), generator=FakeGenerator("لا تتوفر في المصادر معلومات كافية."))
    sanad.index([corpus])
    demo = app.build_app(sanad)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", sanad
    finally:
        demo.close()


@pytest.fixture
def protected(tmp_path: Path) -> Iterator[tuple[str, Sanad]]:
    yield from _serve(tmp_path, write_token=TOKEN)


def _upload(tmp_path: Path, name: str = "festival.txt") -> Path:
    path = tmp_path / "up" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    return path


def test_server_unauthenticated_writes_refused_with_token_accepted(protected, tmp_path: Path) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    url, sanad = protected
    before = [a.doc_id for a in sanad.articles()]
    anonymous = gradio_client.Client(url, verbose=False)
    wrong = gradio_client.Client(url, verbose=False, headers={"X-Sanad-Token": "guess"})
    for client, match in ((anonymous, "requires a write token"), (wrong, "not valid")):
        with pytest.raises(Exception, match=match):
            client.predict([gradio_client.handle_file(str(_upload(tmp_path)))], api_name="/add_articles")
        with pytest.raises(Exception, match=match):
            client.predict(before[0], api_name="/remove_article")
    sanad._retriever = None
    assert [a.doc_id for a in sanad.articles()] == before  # nothing changed
    assert not (sanad.config.corpus_dir / "festival.txt").exists()

    allowed = gradio_client.Client(url, verbose=False, headers={"X-Sanad-Token": TOKEN})
    assert allowed.predict([gradio_client.handle_file(str(_upload(tmp_path)))], api_name="/add_articles")["added"] == [
        "festival"
    ]
    with pytest.raises(Exception, match="would replace article 'festival'"):
        allowed.predict([gradio_client.handle_file(str(_upload(tmp_path)))], api_name="/add_articles")
    assert allowed.predict([gradio_client.handle_file(str(_upload(tmp_path)))], True, api_name="/add_articles")[
        "updated"
    ] == ["festival"]
    assert allowed.predict("festival", api_name="/remove_article")["removed"] == ["festival"]
    assert anonymous.predict("التمور", 3, "bm25", api_name="/search") is not None  # reading stays open

    records = [json.loads(line) for line in (sanad.config.index_dir / AUDIT_FILE).read_text().splitlines()]
    assert [(r["who"], r["action"], r["outcome"]) for r in records] == [
        ("anonymous", "add", "refused"),
        ("anonymous", "remove", "refused"),
        ("anonymous", "add", "refused"),
        ("anonymous", "remove", "refused"),
        ("token", "add", "ok"),
        ("token", "add", "failed"),
        ("token", "add", "ok"),
        ("token", "remove", "ok"),
    ]
    assert records[0]["address"] == "127.0.0.1" and records[4]["targets"] == ["festival"]


def test_server_read_only_refuses_writes_even_with_token(tmp_path: Path) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    for url, sanad in _serve(tmp_path, write_token=TOKEN, read_only=True):
        client = gradio_client.Client(url, verbose=False, headers={"X-Sanad-Token": TOKEN})
        with pytest.raises(Exception, match="read-only"):
            client.predict(sanad.articles()[0].doc_id, api_name="/remove_article")
        assert len(client.predict(api_name="/list_articles")) == len(sanad.articles())


def test_server_behind_login_writes_recorded_under_the_user(tmp_path: Path) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    from ui_helpers import free_port

    import app

    corpus = tmp_path / "articles"
    shutil.copytree(SEED_CORPUS, corpus)
    config = SanadConfig(index_dir=tmp_path / "index", corpus_dir=corpus, model_dir=tmp_path / "models")
    sanad = Sanad(config, embedder=FakeEmbedder(), generator=FakeGenerator(""))
    sanad.index([corpus])
    demo = app.build_app(sanad, login=True)
    port = free_port()
    demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, auth=[("mona", "pw-123")]
    )
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False, auth=("mona", "pw-123"))
        doc_id = sanad.articles()[0].doc_id
        assert client.predict(doc_id, api_name="/remove_article")["removed"] == [doc_id]
    finally:
        demo.close()
    (record,) = AuditLog.for_index(config.index_dir).read()
    assert (record["who"], record["action"], record["targets"], record["outcome"]) == (
        "user:mona",
        "remove",
        [doc_id],
        "ok",
    )
