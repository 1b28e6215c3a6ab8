"""Model-cache folders written whole or not at all, and the marker files that say they are complete.

Shared by the offline e5 conversion and the OpenVINO export: both build a folder that other
processes may be reading, so the new folder is built beside the old one and swapped in.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable


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
