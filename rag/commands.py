"""CLI commands that need the language model (kept apart so ``sanad search`` stays light)."""

from __future__ import annotations

import argparse
import json
import sys

from rag.cli import _config, _one_line, filters_from_args
from rag.pipeline import Sanad


def cmd_ask(args: argparse.Namespace) -> int:
    sanad = Sanad(_config(args))
    filters = filters_from_args(args)
    if args.json or args.no_stream:
        answer = sanad.ask(args.question, filters=filters)
    else:
        answer = None
        for event in sanad.stream(args.question, filters=filters):
            if event.kind == "token":
                print(event.text, end="", flush=True, file=sys.stderr)
            elif event.kind == "answer":
                answer = event.answer
        print(file=sys.stderr)
    assert answer is not None
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(answer.answer)
    if answer.refused:
        print(f"\n(refused: {answer.refusal_reason})")
        for e in answer.evidence:  # what the refusal's [n] points at
            print(f"\n[{e.n}] {_one_line(e.title)[:70]} ({_one_line(e.doc_id)})\n    «{e.text}»")
    for c in answer.citations:  # "[2] العربي الجديد · 2024-04-16 — title (doc id)"
        print(
            f"\n{_one_line(c.label)} — {_one_line(c.title)[:70]} ({_one_line(c.doc_id)})\n"
            f"    «{c.quote}» (chars {c.quote_start}-{c.quote_end})" + (f"\n    {c.url}" if c.url else "")
        )
    for s in answer.unsupported:
        print(f"\n(unsupported, removed: {s.text} — {s.reason})")
    t = answer.timings
    print("\n" + "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import app

    argv = ["--host", args.host, "--port", str(args.port)]
    argv += [f"--auth={a}" for a in args.auth or []]
    argv += ["--read-only"] * bool(args.read_only) + ["--insecure-open-writes"] * bool(args.insecure_open_writes)
    return app.main(argv, config=_config(args))
