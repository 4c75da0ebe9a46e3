"""The glTF validator: same verdict as the Khronos glTF-Validator, on real and broken files.

Broken inputs are built (tests/ingest/delivery/gltf_cases.py) from a small but complete model
(skinned, morphed, animated, textured) so every error code has a file that triggers it.
test_khronos_parity.py runs the official validator over the same files and compares codes.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.ingest.delivery.budgets import scene_primitives
from shazam_assets.ingest.delivery.gltf import GltfAsset, rules, validate_gltf, validate_gltf_path
from shazam_assets.ingest.delivery.report import Severity
from tests.ingest.delivery.gltf_cases import (
    BIN_CHUNK,
    ERROR_CASES,
    JSON_CHUNK,
    Case,
    Model,
    tiny_jpeg,
    tiny_png,
)

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / ".." / "shared" / "data"
SAMPLES = DATA / "gltf-validator-samples"
MODELS = DATA / "khronos-3dc"

needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason="../shared/data (real test data) is not present"
)


def drawn_triangles(asset) -> int:
    """Triangles the scene draws, as the commerce budget counts them (per node instance)."""
    return sum(len(p.triangles) for p in scene_primitives(asset))


def error_codes(issues) -> set[str]:
    return {i.code for i in issues if i.severity is Severity.ERROR}


def test_base_model_is_valid(tmp_path: Path) -> None:
    m = Model()
    asset, issues = validate_gltf(name="base.glb", data=m.glb(), resolve=lambda uri: None)
    assert error_codes(issues) == set()
    assert asset is not None and drawn_triangles(asset) == 2
    _, issues = validate_gltf(name="base.gltf", data=m.gltf(), resolve=lambda uri: None)
    assert error_codes(issues) == set()


# --- one broken file per error code -----------------------------------------------------


def test_every_error_code_has_a_case() -> None:
    declared = {rule.code for rule in rules if rule.severity is Severity.ERROR}
    assert declared == {case.code for case in ERROR_CASES}


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.code)
def test_broken_file_reports_code(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    path = case.build(folder)
    _asset, issues = validate_gltf_path(path)
    assert case.code in error_codes(issues), [(i.code, i.pointer, i.message) for i in issues]
    for issue in issues:
        if issue.code != "GLTF_URI_OUTSIDE_DELIVERY":
            assert issue.details["khronos_code"] == issue.code.removeprefix("GLTF_")


# --- the official validator's own samples and real product models -----------------------


def _sample_reports() -> list[Path]:
    return sorted(SAMPLES.rglob("*.report.json")) if SAMPLES.is_dir() else []


@needs_data
@pytest.mark.parametrize("report", _sample_reports(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_khronos_samples_same_verdict(report: Path) -> None:
    khronos = json.loads(report.read_text())["issues"]
    model = report.with_name(report.name.removesuffix(".report.json"))
    _, issues = validate_gltf_path(model)
    ours = error_codes(issues)
    theirs = {"GLTF_" + m["code"] for m in khronos["messages"] if m["severity"] == 0}
    assert bool(ours) == (khronos["numErrors"] > 0)
    assert ours >= theirs


REAL_MODELS = [
    ("Mixer/Mixer.glb", 46963),
    ("Mixer/glTF/Mixer.gltf", 46963),
    ("WickerChair/WickerChair.glb", 18320),
]


@needs_data
@pytest.mark.parametrize(("relative", "triangles"), REAL_MODELS)
def test_real_models_are_valid(relative: str, triangles: int) -> None:
    asset, issues = validate_gltf_path(MODELS / relative)
    assert error_codes(issues) == set()
    assert asset is not None
    assert drawn_triangles(asset) == triangles
    for index in range(len(asset.document.get("images", []))):
        width, height = asset.image_size(index)
        assert width > 0 and height > 0


@needs_data
def test_mixer_glb_validates_fast() -> None:
    data = (MODELS / "Mixer" / "Mixer.glb").read_bytes()
    validate_gltf(name="Mixer.glb", data=data, resolve=lambda uri: None)  # warm up
    started = time.perf_counter()
    for _ in range(5):
        validate_gltf(name="Mixer.glb", data=data, resolve=lambda uri: None)
    assert (time.perf_counter() - started) / 5 < 0.040


# --- resources and the loaded asset ------------------------------------------------------


def test_external_resources_resolve_inside_folder_only(tmp_path: Path) -> None:
    m = Model()
    (tmp_path / "my buffer (1).bin").write_bytes(bytes(m.bin))
    (tmp_path / "model.gltf").write_bytes(m.gltf(buffer_uri="my%20buffer%20(1).bin"))
    asset, issues = validate_gltf_path(tmp_path / "model.gltf")
    assert error_codes(issues) == set()
    assert asset is not None and bytes(asset.buffers[0]) == bytes(m.bin)

    requested: list[str] = []
    for uri in (
        "http://example.com/a.bin",
        "/etc/passwd",
        "C:/models/a.bin",
        "a/../../a.bin",
        "file:///a.bin",
    ):
        _, issues = validate_gltf(
            name="model.gltf",
            data=m.gltf(buffer_uri=uri),
            resolve=lambda path: requested.append(path),
        )
        outside = [i for i in issues if i.code == "GLTF_URI_OUTSIDE_DELIVERY"]
        assert [i.pointer for i in outside] == ["/buffers/0/uri"], uri
    assert requested == []


def test_missing_file_is_io_error_at_its_uri(tmp_path: Path) -> None:
    m = Model()
    m.doc["images"][1] = {"uri": "textures/missing.png"}
    _, issues = validate_gltf(name="model.gltf", data=m.gltf(), resolve=lambda path: None)
    assert [(i.code, i.pointer) for i in issues if i.severity is Severity.ERROR] == [
        ("GLTF_IO_ERROR", "/images/1/uri")
    ]


def test_unparsable_file_gives_no_asset() -> None:
    asset, issues = validate_gltf(name="x.glb", data=b"glTF\x02\x00", resolve=lambda path: None)
    assert asset is None and error_codes(issues) == {"GLTF_GLB_UNEXPECTED_END_OF_HEADER"}
    asset, issues = validate_gltf(name="x.gltf", data=b"{not json", resolve=lambda path: None)
    assert asset is None and error_codes(issues) == {"GLTF_INVALID_JSON"}


def _asset_from(doc: dict, binary: bytes) -> GltfAsset:
    doc = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(binary)}], **doc}
    data = json.dumps(doc).encode()
    data += b" " * (-len(data) % 4)
    body = (
        struct.pack("<II", len(data), JSON_CHUNK)
        + data
        + struct.pack("<II", len(binary), BIN_CHUNK)
        + binary
    )
    asset, issues = validate_gltf(
        name="t.glb",
        data=b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body,
        resolve=lambda p: None,
    )
    assert asset is not None, issues
    return asset


def test_read_accessor_interleaved() -> None:
    vertices = np.zeros(3, dtype=[("position", "<f4", 3), ("uv", "<u2", 2), ("pad", "<u4")])
    vertices["position"] = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    vertices["uv"] = [[1, 2], [3, 4], [65535, 0]]
    stride = vertices.dtype.itemsize  # 20 bytes
    asset = _asset_from(
        {
            "bufferViews": [
                {"buffer": 0, "byteLength": stride * 3, "byteStride": stride, "target": 34962}
            ],
            "accessors": [
                {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                {
                    "bufferView": 0,
                    "byteOffset": 12,
                    "componentType": 5123,
                    "normalized": True,
                    "count": 3,
                    "type": "VEC2",
                },
            ],
        },
        vertices.tobytes(),
    )
    positions, uvs = asset.read_accessor(0), asset.read_accessor(1)
    assert positions.dtype == np.float32 and positions.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert uvs.dtype == np.uint16 and uvs.tolist() == [[1, 2], [3, 4], [65535, 0]]


def test_read_accessor_sparse() -> None:
    base = np.arange(12, dtype="<f4").reshape(4, 3)
    indices = np.array([1, 3], "<u1")
    values = np.array([[-1, -1, -1], [-2, -2, -2]], "<f4")
    binary = base.tobytes() + indices.tobytes() + b"\0\0" + values.tobytes()
    asset = _asset_from(
        {
            "bufferViews": [
                {"buffer": 0, "byteLength": 48},
                {"buffer": 0, "byteOffset": 48, "byteLength": 2},
                {"buffer": 0, "byteOffset": 52, "byteLength": 24},
            ],
            "accessors": [
                {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
                 "sparse": {"count": 2, "indices": {"bufferView": 1, "componentType": 5121}, "values": {"bufferView": 2}}},
                {"componentType": 5126, "count": 4, "type": "VEC3",
                 "sparse": {"count": 2, "indices": {"bufferView": 1, "componentType": 5121}, "values": {"bufferView": 2}}},
            ],
        },
        binary,
    )  # fmt: skip
    assert asset.read_accessor(0).tolist() == [[0, 1, 2], [-1, -1, -1], [6, 7, 8], [-2, -2, -2]]
    assert asset.read_accessor(1).tolist() == [[0, 0, 0], [-1, -1, -1], [0, 0, 0], [-2, -2, -2]]


def test_drawn_triangles_follow_scene_instances_and_modes() -> None:
    m = Model()
    primitive = m.doc["meshes"][0]["primitives"][0]
    m.doc["meshes"][0]["primitives"].append(
        {**primitive, "mode": 5}
    )  # strip of 6 indices: 4 triangles
    m.doc["meshes"][0]["primitives"].append({**primitive, "mode": 1})  # lines: none
    m.doc["nodes"][3]["mesh"] = 0  # a second instance of the mesh
    asset, _ = validate_gltf(name="m.glb", data=m.glb(), resolve=lambda path: None)
    assert asset is not None and drawn_triangles(asset) == 2 * (2 + 4)


def test_image_bytes_and_size() -> None:
    asset, _ = validate_gltf(name="m.glb", data=Model().glb(), resolve=lambda path: None)
    assert asset is not None
    assert asset.image_bytes(0) == tiny_png() and asset.image_size(0) == (4, 4)
    assert asset.image_bytes(1) == tiny_jpeg() and asset.image_size(1) == (8, 8)
