"""Sanad's web UI: the entry point (arguments, building ``Sanad``, launching the page).

Run it with ``python app.py [--host H --port P]`` or ``sanad serve``. The page itself lives in
:mod:`rag.ui` (``render``: the HTML; ``uploads``: the corpus folder; ``handlers``: what events and the
API do; ``layout``: the Blocks and their wiring); gradio is imported there and here only, so the
library and the CLI stay light.

The page has three tabs:

* **Ask**: a conversation. A question box, the retrieval mode and number of passages, then each
  answer under its own question (with its own sources), so follow-ups («وفي سوريا؟») are answered
  with the conversation so far; a rewritten follow-up shows the question it was answered as, and
  sources that disagree get a distinct notice (both values, dates and citations). "New conversation"
  starts again. The latest answer streams in (right-to-left for Arabic, left-to-right for English) with its ``[n]``
  markers as badges. Clicking a badge opens the cited source below the answer: title,
  article id, retrieval score and the passage with the supporting sentence in ``<mark>``.
  Refusals and sentences removed as unsupported are shown as distinct notices; the
  retrieved passages and the time each stage took are listed underneath.
* **Timeline**: a topic, then the dated events the retrieved articles mention, oldest first, each
  with its date as written and its source (no LLM).
* **Articles**: upload ``.txt``/``.md``/``.html``/``.pdf``/``.docx`` files (saved into ``config.corpus_dir``
  and indexed incrementally), the table of indexed articles (with date and outlet), and removal by id.

Filters (outlets, a date range, articles) sit in an accordion under the question; they act inside
retrieval. The ``/search`` and ``/ask`` endpoints take them as optional parameters after ``mode``:
``since``, ``until`` (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), ``sources``, ``doc_ids`` (comma-separated).

Programs call the same app through ``gradio_client`` with the endpoints ``/search``,
``/ask`` (the :meth:`rag.answer_types.Answer.to_dict` JSON; a last ``history`` parameter takes the
conversation so far as ``[{"question": ..., "answer": ...}, ...]``), ``/timeline`` (topic, since,
until: :meth:`rag.answer_types.Timeline.to_dict`), ``/list_articles``,
``/add_articles`` and ``/remove_article``::

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    answer = client.predict("كم دولة في التحالف الدولي؟", 5, "hybrid", api_name="/ask")
    client.predict([handle_file("new.txt")], api_name="/add_articles")

Every text shown comes from articles or the model and is HTML-escaped before it is put
into the page.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.access import check_bind
from rag.config import SanadConfig
from rag.errors import InputError, ModelError, SanadError
from rag.pipeline import Sanad
from rag.ui import build_app
from rag.ui.uploads import index_exists

__all__ = ["add_access_flags", "build_app", "build_parser", "ensure_index", "main", "parse_auth"]

logger = logging.getLogger("rag.app")


def ensure_index(sanad: Sanad) -> None:
    """Load the index, building it from ``config.corpus_dir`` first when there is none yet."""
    if index_exists(sanad):
        return
    corpus = sanad.config.corpus_dir
    logger.warning("no index in %s yet; building it from %s", sanad.config.index_dir, corpus)
    report = sanad.index([corpus])
    logger.warning("index built: %s", report.summary())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Sanad's web UI (Gradio).")
    parser.add_argument(
        "--host",
        default=os.environ.get("SANAD_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1, this machine only). Another address (0.0.0.0: "
        "every interface) lets anyone who reaches the port use the app, so it is refused unless "
        "writes are protected (SANAD_WRITE_TOKEN or --auth), --read-only, or "
        "--insecure-open-writes is given",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANAD_PORT", "7860")))
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index, or $SANAD_INDEX_DIR)")
    parser.add_argument("--corpus-dir", type=Path, help="articles folder (default: data/articles)")
    parser.add_argument("--no-preload", action="store_true", help="load the language model on the first question")
    add_access_flags(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def add_access_flags(parser: argparse.ArgumentParser) -> None:
    """``--auth``, ``--read-only``, ``--insecure-open-writes`` (also on ``sanad serve``); see rag/access.py."""
    parser.add_argument(
        "--auth",
        action="append",
        metavar="USER:PASSWORD",
        help="require Gradio's login for the whole app (repeatable; or $SANAD_UI_AUTH as "
        "user:pass,user2:pass2); writes are then recorded under the user's name",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="refuse every write (adding and removing articles); or $SANAD_READ_ONLY=1",
    )
    parser.add_argument(
        "--insecure-open-writes",
        action="store_true",
        help="allow listening beyond 127.0.0.1 with writes open to anyone (not recommended)",
    )


def parse_auth(values: Sequence[str] | None) -> list[tuple[str, str]]:
    """``USER:PASSWORD`` pairs from ``--auth`` or ``$SANAD_UI_AUTH``; a malformed one is an InputError."""
    raw = list(values or []) or [v for v in os.environ.get("SANAD_UI_AUTH", "").split(",") if v.strip()]
    pairs = []
    for item in raw:
        user, sep, password = item.partition(":")
        if not sep or not user.strip() or not password:
            raise InputError("--auth takes USER:PASSWORD (both non-empty)")
        pairs.append((user.strip(), password))
    return pairs


def main(argv: Sequence[str] | None = None, config: SanadConfig | None = None) -> int:
    """Start the web UI (blocks until stopped). ``config`` comes from ``sanad serve``; else from the env."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        config = (config or SanadConfig.from_env()).with_overrides(
            index_dir=args.index_dir, corpus_dir=args.corpus_dir, read_only=args.read_only
        )
        auth = parse_auth(args.auth)
        check_bind(
            args.host,
            protected=bool(config.write_token or auth),
            read_only=config.read_only,
            insecure_open_writes=args.insecure_open_writes,
        )
        from rag.config import OFFLINE_EMBEDDING

        if config.embedding_model == OFFLINE_EMBEDDING:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        sanad = Sanad(config)
        ensure_index(sanad)
        if not args.no_preload:
            try:
                sanad.load(llm=True)
            except ModelError as exc:  # search still works; questions will say why they cannot be answered
                logger.warning("the language model is not available, answers will fail: %s", exc)
    except SanadError as exc:
        print(f"sanad: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1
    demo = build_app(sanad, login=bool(auth))
    print(f"Sanad web UI on http://{args.host}:{args.port}/  (Ctrl+C to stop)", file=sys.stderr)
    demo.launch(server_name=args.host, server_port=args.port, auth=auth or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
