"""Housekeeping of the index folder: file checksums, the ``CURRENT`` pointer, leftovers of builds.

:mod:`rag.index` writes and reads versions; this module holds what both sides need around them:
the sha256 of a file, a cheap fingerprint of ``CURRENT`` (a server reloads when it changes), and
the removal of what killed or failed builds leave (``.tmp-v-*`` folders, ``.CURRENT.*`` files,
versions that were never made live).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
#: What a version folder is called (``v-<time>-<id>``); anything else in ``CURRENT`` is damage.
VERSION_NAME = re.compile(r"v-[A-Za-z0-9_-]+")


def current_token(index_dir: Path) -> tuple[int, int, int] | None:
    """A cheap fingerprint of ``CURRENT`` (inode, mtime, size; one ``stat``): it changes when a write swaps it."""
    try:
        st = (index_dir / CURRENT).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def sha256_file(path: Path) -> str:
    """The sha256 (hex) of a file's bytes, as the manifest lists it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:  # hashlib.file_digest is 3.11+; this reads in 1 MB blocks alike
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_name(index_dir: Path) -> str | None:
    """The version ``CURRENT`` names, or None when it is missing or unreadable."""
    try:
        name = (index_dir / CURRENT).read_bytes().decode("utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return name if VERSION_NAME.fullmatch(name) else None


def prune_versions(index_dir: Path, keep: str, previous: str | None) -> None:
    """Delete every version but the live one and the one it replaced (the fallback)."""
    for old in index_dir.glob("v-*"):
        if old.is_dir() and old.name not in (keep, previous):
            shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(index_dir: Path) -> list[str]:
    """Delete what killed or failed builds left: ``.tmp-v-*`` folders, ``.CURRENT.*`` files, orphan versions.

    Call only while holding :func:`write_lock` (no build is then in flight). Keeps the live
    version and the newest version older than it (the fallback); a version newer than the live
    one was never made live (its ``CURRENT`` write failed) and is deleted. Returns what was removed.
    """
    removed = []
    for stale in [*index_dir.glob(".tmp-v-*"), *index_dir.glob(f".{CURRENT}.*")]:
        removed.append(stale.name)
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    live = current_name(index_dir)
    if live is None or not (index_dir / live).is_dir():
        return removed  # no trustworthy live version: leave the versions for a person to inspect

    def written(p: Path) -> int:
        manifest = p / "manifest.json"
        return manifest.stat().st_mtime_ns if manifest.exists() else p.stat().st_mtime_ns

    live_time = written(index_dir / live)
    others = sorted((p for p in index_dir.glob("v-*") if p.is_dir() and p.name != live), key=written)
    older = [p for p in others if written(p) <= live_time]
    fallback = older[-1].name if older else None
    for p in others:
        if p.name != fallback:
            removed.append(p.name)
            shutil.rmtree(p, ignore_errors=True)
    if removed:
        logger.info("removed leftovers of interrupted index builds in %s: %s", index_dir, ", ".join(removed))
    return removed


def clean_leftovers_if_idle(index_dir: Path) -> list[str]:
    """:func:`clean_leftovers` when no build holds the write lock now; never waits, never raises."""
    try:
        with open(index_dir / ".lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return []  # a build is running: its folders are not leftovers
            try:
                return clean_leftovers(index_dir)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError as exc:  # a read-only index folder: nothing to clean from here
        logger.debug("leftovers in %s not cleaned: %s", index_dir, exc)
        return []
