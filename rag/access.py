"""Who may change the index: a write token (or Gradio login), read-only mode, safe binding, an audit log.

A server that anyone can reach must not let anyone add or delete articles. The rules, in order:

* ``read_only`` (setting, ``SANAD_READ_ONLY=1``, ``--read-only``): every write is refused;
* a caller logged in through Gradio's own login (``app.py --auth USER:PASSWORD``) is that user;
* else, when ``write_token`` is set (``SANAD_WRITE_TOKEN``), the caller must send it: the
  ``X-Sanad-Token`` header (``gradio_client.Client(url, headers={"X-Sanad-Token": token})``),
  ``Authorization: Bearer <token>``, or the page's *Write token* box;
* with neither, writes are open: the single-user default on ``127.0.0.1``. :func:`check_bind`
  refuses to listen on any other address in that state unless told ``--insecure-open-writes``.

Every write, refused ones included, is one JSON line in ``<index_dir>/audit.jsonl`` (opened for
appending only, flushed and synced per line): when (UTC), who, from where, what, on which
articles, and the outcome.

Example:
    >>> guard = WriteGuard(token="s3cret")                     # doctest: +SKIP
    >>> guard.authorize(token="wrong", action="add")           # doctest: +SKIP
    Traceback (most recent call last):
    rag.errors.AccessError: ...
"""

from __future__ import annotations

import getpass
import hmac
import ipaddress
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import AccessError

logger = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
TOKEN_HEADER = "x-sanad-token"


@dataclass(frozen=True)
class Caller:
    """Who asked for a write: ``user:<name>`` (Gradio login), ``token``, ``anonymous`` or ``cli:<user>``."""

    who: str
    address: str = ""


class AuditLog:
    """Append-only JSON lines under the index folder; one line per write attempt, synced to disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def for_index(cls, index_dir: Path) -> AuditLog:
        return cls(Path(index_dir) / AUDIT_FILE)

    def record(self, caller: Caller, action: str, targets: Sequence[str], outcome: str, detail: str = "") -> None:
        """Append one record; a failure to write it is logged, never raised (the write itself already happened)."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "who": caller.who,
            "address": caller.address,
            "action": action,
            "targets": list(targets),
            "outcome": outcome,
        }
        if detail:
            entry["detail"] = detail[:500]
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            logger.error("could not write the audit log %s: %s", self.path, exc)

    def read(self) -> list[dict[str, Any]]:
        """Every record so far (oldest first); ``[]`` when there is no log yet."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


class WriteGuard:
    """Decides whether a write may go ahead and records it.

    Args:
        token: the write token (``""``: none set).
        read_only: refuse every write.
        login: the server runs behind Gradio's login (every caller has a user name).
        audit: where writes are recorded (``None``: nowhere, for tests of the decision alone).
    """

    def __init__(
        self, token: str = "", *, read_only: bool = False, login: bool = False, audit: AuditLog | None = None
    ) -> None:
        self.token = token
        self.read_only = read_only
        self.login = login
        self.audit = audit

    @classmethod
    def from_config(cls, config: Any, *, login: bool = False) -> WriteGuard:
        return cls(
            config.write_token, read_only=config.read_only, login=login, audit=AuditLog.for_index(config.index_dir)
        )

    @property
    def protected(self) -> bool:
        """Whether writes need a credential (a token or a login)."""
        return bool(self.token) or self.login

    def caller(
        self,
        *,
        token: str = "",
        username: str | None = None,
        headers: Mapping[str, str] | None = None,
        address: str = "",
    ) -> tuple[Caller, bool]:
        """Who the caller is and whether they showed a valid credential."""
        if username:
            return Caller(f"user:{username}", address), True
        sent = token or (headers or {}).get(TOKEN_HEADER, "")
        auth = (headers or {}).get("authorization", "")
        if not sent and auth.lower().startswith("bearer "):
            sent = auth[7:].strip()
        if self.token and sent and hmac.compare_digest(sent.encode(), self.token.encode()):
            return Caller("token", address), True
        return Caller("anonymous", address), False

    def authorize(
        self,
        action: str,
        targets: Sequence[str] = (),
        *,
        token: str = "",
        username: str | None = None,
        headers: Mapping[str, str] | None = None,
        address: str = "",
    ) -> Caller:
        """The caller, when the write may go ahead; else :class:`AccessError` (the refusal is recorded)."""
        caller, valid = self.caller(token=token, username=username, headers=headers, address=address)
        reason = ""
        if self.read_only:
            reason = "the server is read-only (read_only is set); no article can be added or removed"
        elif self.protected and not valid:
            reason = (
                "this server requires a write token to add or remove articles: send it in the X-Sanad-Token "
                "header (gradio_client.Client(url, headers={'X-Sanad-Token': ...})) or type it in the Write "
                "token box"
                if self.token
                else "log in to add or remove articles"
            )
            if token or (headers or {}).get(TOKEN_HEADER) or (headers or {}).get("authorization"):
                reason = "the write token given is not valid; " + reason.split(": ", 1)[-1]
        if reason:
            self.record(caller, action, targets, "refused", reason)
            logger.warning("refused %s by %s from %s: %s", action, caller.who, address or "?", reason)
            raise AccessError(reason)
        return caller

    def record(self, caller: Caller, action: str, targets: Sequence[str], outcome: str, detail: str = "") -> None:
        if self.audit is not None:
            self.audit.record(caller, action, targets, outcome, detail)


def cli_caller() -> Caller:
    """The operator running ``sanad index``/``sanad remove`` on this machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "?"
    return Caller(f"cli:{user}", socket.gethostname())


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, protected: bool, read_only: bool, insecure_open_writes: bool = False) -> None:
    """Refuse to serve open writes beyond this machine.

    Raises:
        AccessError: ``host`` is not a loopback address, no write token or login is set, the server is
            not read-only, and ``insecure_open_writes`` was not given.
    """
    if is_loopback(host) or protected or read_only:
        return
    if insecure_open_writes:
        logger.warning("listening on %s with writes open to anyone who reaches the port (--insecure-open-writes)", host)
        return
    raise AccessError(
        f"refusing to listen on {host} with open writes: anyone reaching the port could add or delete "
        f"articles. Set SANAD_WRITE_TOKEN (or --auth USER:PASSWORD), or --read-only; or pass "
        f"--insecure-open-writes if that is really wanted"
    )


__all__ = ["AUDIT_FILE", "AuditLog", "Caller", "WriteGuard", "check_bind", "cli_caller", "is_loopback"]
