"""Model-cache folders written whole or not at all, and the marker files that say they are complete.

Shared by the offline e5 conversion and the OpenVINO export: both build a folder that other
processes may be reading, so the new folder is built beside the old one and swapped in.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def replace_folder(dest: Path, build: Callable[[Path], None]) -> Path:
    """Call ``build(new_folder)`` on a fresh folder next to ``dest``, then move it to ``dest``.

    The old ``dest`` (if any) is moved aside with ``os.replace`` before the new one takes its
    place, and deleted afterwards; a crash during ``build`` leaves ``dest`` as it was.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=dest.parent))
    try:
        build(tmp / "new")
        if dest.exists():  # an old or incomplete folder: move it aside, it is deleted below
            os.replace(dest, tmp / "old")
        os.replace(tmp / "new", dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def read_marker(folder: Path, name: str) -> dict[str, Any] | None:
    """The JSON marker ``name`` in ``folder``, or ``None`` when it is missing or unreadable."""
    try:
        marker = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def folder_fingerprint(folder: Path) -> str:
    """A cheap identity of a model folder's contents: every file's relative path, size and mtime, hashed.

    Used to notice that a cached export was made from other files (a rebuilt or replaced model) without
    reading hundreds of megabytes of weights on every load.
    """
    root = Path(folder).resolve()
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            stat = path.stat()
            digest.update(f"{path.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]
