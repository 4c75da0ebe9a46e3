"""Every crash `make fuzz` found, rebuilt here as a small input: the validator gives a verdict.

A crash is anything but a report: an exception out of the validator, or a report that cannot
be written out. Each row was minimised from the fuzzer's reproducer (tests/fuzz/minimize.py)
and is built by code.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.delivery.validate import validate_path
from tests.builders import pack, product, rewrite_zip
from tests.fuzz.harness import check_verdict
from tests.ingest.delivery.gltf_cases import Model


@dataclass(frozen=True)
class Crash:
    id: str
    found: str  # the crash the fuzzer found, as the exception it raised
    build: Callable[[Path], Path]  # writes the input into a folder, returns what to validate
    refused: bool = True  # the input is broken: the verdict must hold an error
    seconds: float = 30.0  # the delivery budget's deadline for one verdict


def _gltf(doc: dict, name: str = "model.gltf") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        (folder / name).write_text(json.dumps(doc))
        return folder / name

    return build


def _delivery(**edit: Callable[[bytes], bytes | None]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        good = pack(folder, product(folder.parent / "product"), name="good.zip")
        return rewrite_zip(good, folder / "delivery.zip", edit=edit)

    return build


def _glb(edit: Callable[[Model], None]) -> Callable[[Path], Path]:
    """The complete small model of the glTF tests, edited."""

    def build(folder: Path) -> Path:
        model = Model()
        edit(model)
        (folder / "model.glb").write_bytes(model.glb())
        return folder / "model.glb"

    return build


def _channels_on_one_target(model: Model, copies: int = 600) -> None:
    channels = model.doc["animations"][0]["channels"]
    channels.extend([channels[0]] * copies)


def _archive(edit: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """A good delivery whose archive bytes are then edited."""

    def build(folder: Path) -> Path:
        good = pack(folder, product(folder.parent / "product"), name="good.zip")
        (folder / "delivery.zip").write_bytes(edit(good.read_bytes()))
        return folder / "delivery.zip"

    return build


def _directory_moved_back(raw: bytes, by: int = 1_000_000) -> bytes:
    """The end record says the central directory starts `by` bytes later than it does, so
    zipfile shifts every entry's local header offset below zero."""
    end = raw.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<I", raw, end + 16)[0]
    return raw[: end + 16] + struct.pack("<I", offset + by) + raw[end + 20 :]


def _needs_zip_version(raw: bytes, version: int = 254) -> bytes:
    """The first directory record says its entry needs ZIP version 25.4 to extract."""
    end = raw.rfind(b"PK\x05\x06")
    directory = struct.unpack_from("<I", raw, end + 16)[0]
    return raw[: directory + 6] + struct.pack("<H", version) + raw[directory + 8 :]


def _lone_surrogate_photo(raw: bytes) -> bytes:
    """A photo name written as the JSON escape of a lone UTF-16 surrogate (no such file)."""
    manifest = json.loads(raw)
    manifest["files"]["photos"][0] = "photos/\ud800.jpg"
    return json.dumps(manifest).encode()  # ASCII: the escape stays "\\ud800"


def _many_scenes_of_one_tree(model: Model, scenes: int = 64, roots: int = 256) -> None:
    model.doc["scenes"] = [{"nodes": [0] * roots} for _ in range(scenes)]


def _zip64_locator_past_the_end(raw: bytes, record_at: int = 2**64 - 1) -> bytes:
    """A ZIP64 end-record locator, before the end record, pointing past any file."""
    end = raw.rfind(b"PK\x05\x06")
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    return raw[:end] + locator + raw[end:]


def _deep_manifest(raw: bytes, depth: int = 100_000) -> bytes:
    """The packed manifest with an array nested `depth` deep beside the artist's name."""
    deep = b"[" * depth + b"]" * depth
    return raw.replace(b'"name": "Test Artist"', b'"name": "Test Artist", "extras": ' + deep, 1)


def _point(**mesh: object) -> dict:
    """One triangle-less primitive over a 12-byte buffer, valid for the Khronos validator."""
    return {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 12}],
        "bufferViews": [{"buffer": 0, "byteLength": 12}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 1, "type": "VEC3",
                       "min": [0, 0, 0], "max": [0, 0, 0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, **mesh}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0,
    }  # fmt: skip


CRASHES = [
    Crash(
        "deep-manifest",
        "RecursionError: manifest.json nested 100,000 deep",
        _delivery(**{"manifest.json": _deep_manifest}),
    ),
    Crash(
        "buffer-without-uri",
        "ValueError: buffer 0 of bufferView 0 is not loaded (a .gltf buffer without uri)",
        _gltf(_point()),
        refused=False,
    ),
    Crash(
        "channels-on-one-target",
        "Slow: 513 animation channels on one node: 130,347 issues, 50 MB of report, 5 s",
        _glb(_channels_on_one_target),
        seconds=5.0,
    ),
    Crash(
        "scenes-listing-one-tree",
        "Slow: 257 scenes each listing node 0 514 times: 54 s, 132,257 issues",
        _glb(_many_scenes_of_one_tree),
        seconds=5.0,
    ),
    Crash(
        "local-header-before-file",
        "OSError: [Errno 22] Invalid argument (seek to a negative local header offset)",
        _archive(_directory_moved_back),
    ),
    Crash(
        "zip-version-too-new",
        "NotImplementedError: zip file version 25.4 (version needed to extract, from zipfile)",
        _archive(_needs_zip_version),
    ),
    Crash(
        "zip64-locator-past-end",
        "OSError: [Errno 22] Invalid argument (seek to a ZIP64 end record at 2**64 - 1)",
        _archive(_zip64_locator_past_the_end),
    ),
    Crash(
        "surrogate-in-manifest",
        "UnicodeEncodeError: surrogates not allowed (a photo named \\ud800 in the report)",
        _delivery(**{"manifest.json": _lone_surrogate_photo}),
    ),
    Crash(
        "surrogate-in-gltf",
        "UnicodeEncodeError: surrogates not allowed (a property named \\ud800 in a pointer)",
        _gltf({"asset": {"version": "2.0", "\ud800": 1}}),
    ),
]


@pytest.mark.parametrize("crash", [pytest.param(c, id=c.id) for c in CRASHES])
def test_fuzzer_crash_gets_a_verdict(crash: Crash, tmp_path: Path) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    path = crash.build(folder)
    started = time.perf_counter()
    report = validate_path(path)
    assert isinstance(report, Report)
    check_verdict(report)
    assert time.perf_counter() - started < crash.seconds
    assert len(report.to_json()) < 1_000_000  # a verdict a person and the store can take
    if crash.refused:
        assert report.errors, report.to_json()[:2000]


def test_shazam_validate_prints_a_surrogate_name(tmp_path: Path) -> None:
    """The CLI prints every issue; a lone surrogate from the manifest cannot break it."""
    folder = tmp_path / "input"
    folder.mkdir()
    path = _delivery(**{"manifest.json": _lone_surrogate_photo})(folder)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "shazam"), "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr  # rejected, with its verdict
    assert "CONTRACT_PHOTO_MISSING [photos/\\ud800.jpg]" in result.stdout, result.stdout
