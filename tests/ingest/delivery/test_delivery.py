"""Whole-delivery validation: one real broken delivery per contract, photo and budget code."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.delivery.validate import (
    validate_delivery,
    validate_model_file,
    validate_path,
)
from tests.builders import ASIN, edit_glb, edit_manifest, pack, product, rewrite_zip


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("good")
    return pack(root, product(root))


def _codes(report: Report) -> set[str]:
    return {i.code for i in report.issues}


def test_a_packed_demo_delivery_is_accepted_with_stats(good_zip: Path) -> None:
    result = validate_delivery(good_zip, expected_asin=ASIN)
    assert result.report.ok, result.report.to_json()
    assert not result.report.warnings, result.report.to_json()
    stats = result.report.stats
    assert stats["asin"] == ASIN and stats["photos"] >= 1
    assert 100 < stats["triangles"] < 100_000
    assert result.manifest is not None and result.manifest.asin == ASIN
    assert stats["scan"]["faces"] > 0


def _image(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (128, 90, 60)).save(out, fmt)
    return out.getvalue()


def _small_photo(tmp: Path, good: Path) -> Path:
    name = _photo_name(good)
    fmt = "PNG" if name.lower().endswith(".png") else "JPEG"
    return rewrite_zip(good, tmp / "b.zip", edit={name: lambda _: _image(100, 80, fmt)})


def _model_name(zip_path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(zip_path) as z:
        return json.loads(z.read("manifest.json"))["files"]["model"]


def _photo_name(zip_path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(zip_path) as z:
        return json.loads(z.read("manifest.json"))["files"]["photos"][0]


def _textured_box(image: Image.Image, path: Path) -> Path:
    """A 1 m box with UVs and a baseColor texture of the given image."""
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.apply_translation((0, 0.5, 0))
    box.unmerge_vertices()
    uv = np.random.default_rng(1).random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=image)
    path.write_bytes(box.export(file_type="glb"))
    return path


def _swap_model(tmp_path: Path, good_zip: Path, model: Path, dims=(1.0, 1.0, 1.0), **kw) -> Path:
    prod = product(tmp_path.parent)
    return pack(tmp_path, prod, model=model, dimensions=dims, name="swapped.zip", **kw)


def _drop(name_of: Callable[[Path], str]) -> Callable[[Path, Path], Path]:
    return lambda tmp, good: rewrite_zip(good, tmp / "b.zip", edit={name_of(good): lambda _: None})


def _manifest(change) -> Callable[[Path, Path], Path]:
    return lambda tmp, good: rewrite_zip(
        good, tmp / "b.zip", edit={"manifest.json": edit_manifest(change)}
    )


def _glb(change) -> Callable[[Path, Path], Path]:
    return lambda tmp, good: rewrite_zip(
        good, tmp / "b.zip", edit={_model_name(good): edit_glb(change)}
    )


def _degenerate(doc, binary):
    prim = doc["meshes"][0]["primitives"][0]
    acc = doc["accessors"][prim["indices"]]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[acc["componentType"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    idx = np.frombuffer(binary, dtype=dtype, count=acc["count"], offset=start).copy()
    idx[: len(idx) // 5 // 3 * 3] = idx[0]  # a fifth of the triangles collapse to a point
    binary[start : start + idx.nbytes] = idx.tobytes()
    acc.pop("min", None), acc.pop("max", None)
    return binary


def _spec_gloss(doc, _):
    doc["materials"][0].setdefault("extensions", {})["KHR_materials_pbrSpecularGlossiness"] = {
        "diffuseFactor": [1, 1, 1, 1]
    }
    doc.setdefault("extensionsUsed", []).append("KHR_materials_pbrSpecularGlossiness")


def _no_uvs(doc, _):
    """An untextured model that was never unwrapped (valid glTF, but no UV stage done)."""
    for material in doc["materials"]:
        material.get("pbrMetallicRoughness", {}).pop("baseColorTexture", None)
        material.pop("normalTexture", None), material.pop("occlusionTexture", None)
        material.pop("emissiveTexture", None)
        material.get("pbrMetallicRoughness", {}).pop("metallicRoughnessTexture", None)
    for key in ("textures", "images", "samplers"):
        doc.pop(key, None)
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            prim["attributes"].pop("TEXCOORD_0", None)


def _no_geometry(doc, _):
    for node in doc["nodes"]:
        node.pop("mesh", None)
        node["name"] = node.get("name", "empty")


def _padded(doc, binary):
    extra = os.urandom(16 * 1024 * 1024)
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(extra)})
    return bytes(binary) + extra


def _replace(name_of, data: bytes, new_name: str | None = None):
    def build(tmp: Path, good: Path) -> Path:
        name = name_of(good)
        if new_name is None:
            return rewrite_zip(good, tmp / "b.zip", edit={name: lambda _: data})

        def repoint(m):
            m["files"]["photos"] = [new_name]

        return rewrite_zip(
            good,
            tmp / "b.zip",
            edit={name: lambda _: None, "manifest.json": edit_manifest(repoint)},
            add={new_name: data},
        )

    return build


def _signed(stage: str):
    def change(m):
        m["stages"][stage]["signed_off"] = False

    return change


CASES: list[tuple[str, Callable[[Path, Path], Path], dict]] = [
    ("CONTRACT_MANIFEST_MISSING", _drop(lambda g: "manifest.json"), {}),
    (
        "CONTRACT_MANIFEST_INVALID_JSON",
        lambda tmp, good: rewrite_zip(
            good, tmp / "b.zip", edit={"manifest.json": lambda _: b"{not json"}
        ),
        {},
    ),
    ("CONTRACT_MANIFEST_SCHEMA", _manifest(lambda m: m["product"].pop("title")), {}),
    ("CONTRACT_MANIFEST_SCHEMA", _manifest(lambda m: m.update(colour="red")), {}),
    (
        "CONTRACT_ASIN_INVALID",
        _manifest(lambda m: m.update(asin="B0SHORT")),
        {"expected_asin": None},
    ),
    (
        "CONTRACT_ASIN_INVALID",
        _manifest(lambda m: m.update(asin="0306406153")),
        {"expected_asin": None},
    ),
    ("CONTRACT_ASIN_MISMATCH", lambda tmp, good: good, {"expected_asin": "B0OTHER001"}),
    ("CONTRACT_MODEL_MISSING", _drop(_model_name), {}),
    (
        "CONTRACT_MODEL_FORMAT",
        _manifest(lambda m: m["files"].update(model="model/product.fbx")),
        {},
    ),
    ("CONTRACT_PHOTO_MISSING", _drop(_photo_name), {}),
    ("CONTRACT_PHOTO_FORMAT", _replace(_photo_name, _image(600, 600), "photos/front.tiff"), {}),
    ("CONTRACT_SCAN_MISSING", _manifest(lambda m: m["files"].update(scan="scan/missing.obj")), {}),
    ("CONTRACT_STAGE_NOT_SIGNED_OFF", _manifest(_signed("uv")), {}),
    ("CONTRACT_STAGE_NOT_SIGNED_OFF", _manifest(lambda m: m["stages"].pop("cleanup")), {}),
    (
        "CONTRACT_UNLISTED_FILE",
        lambda tmp, good: rewrite_zip(good, tmp / "b.zip", add={"notes/todo.txt": b"fix later"}),
        {},
    ),
    ("PHOTO_UNREADABLE", _replace(_photo_name, b"\x89PNG\r\n\x1a\n garbage"), {}),
    ("PHOTO_UNREADABLE", _replace(_photo_name, b"\xff\xd8\xff\xe0 this is a jpeg header only"), {}),
    ("PHOTO_TOO_SMALL", _small_photo, {}),
    ("BUDGET_DEGENERATE_TRIANGLES", _glb(_degenerate), {}),
    ("BUDGET_MATERIAL_NOT_METAL_ROUGH", _glb(_spec_gloss), {}),
    ("BUDGET_UVS_MISSING", _glb(_no_uvs), {}),
    ("BUDGET_NO_GEOMETRY", _glb(_no_geometry), {}),
    ("BUDGET_FILE_SIZE", _glb(_padded), {}),
    (
        "BUDGET_SCALE_MISMATCH",
        lambda tmp, good: pack(tmp, product(tmp.parent, scale=100.0), name="cm.zip"),
        {},
    ),
    (
        "BUDGET_TEXTURE_SIZE",
        lambda tmp, good: _swap_model(
            tmp, good, _textured_box(Image.new("RGB", (8192, 16), "red"), tmp / "wide.glb")
        ),
        {},
    ),
    (
        "BUDGET_TEXTURE_NOT_POWER_OF_TWO",
        lambda tmp, good: _swap_model(
            tmp, good, _textured_box(Image.new("RGB", (1000, 1000), "red"), tmp / "npot.glb")
        ),
        {"profile": "khronos-3dc"},
    ),
]


@pytest.mark.parametrize(
    ("code", "build", "options"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_code_is_reported_for_a_real_broken_delivery(
    tmp_path, good_zip, code, build, options
) -> None:
    options = {"expected_asin": ASIN, **options}
    broken = build(tmp_path, good_zip)
    before = sorted(p.name for p in tmp_path.iterdir())
    report = validate_delivery(broken, **options).report
    assert code in _codes(report), report.to_json()
    issue = next(i for i in report.issues if i.code == code)
    assert issue.hint and issue.message
    if code == "CONTRACT_UNLISTED_FILE" or (code == "PHOTO_TOO_SMALL"):
        assert report.ok, report.to_json()  # warnings never reject
    else:
        assert not report.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # validation extracts nothing


def test_too_many_triangles_rejects_with_the_profile_limit(tmp_path) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=7, radius=0.5)  # 327,680 triangles
    sphere.apply_translation((0, 0.5, 0))
    model = tmp_path / "dense.glb"
    model.write_bytes(sphere.export(file_type="glb"))
    report = validate_model_file(model, profile="amazon")
    triangles = next(i for i in report.errors if i.code == "BUDGET_TRIANGLES")
    assert triangles.details["triangles"] == 327_680 and "200,000" in triangles.message
    assert (
        validate_model_file(model, profile="amazon", dimensions_m=(1.0, 1.0, 1.0)).stats[
            "triangles"
        ]
        == 327_680
    )


def test_scale_mismatch_names_the_unit_the_artist_used(tmp_path) -> None:
    report = validate_delivery(
        pack(tmp_path, product(tmp_path, scale=100.0)), expected_asin=ASIN
    ).report
    issue = next(i for i in report.errors if i.code == "BUDGET_SCALE_MISMATCH")
    assert "centimetres" in issue.message


def test_rotated_model_is_reported_as_rotated(tmp_path) -> None:
    prod = product(tmp_path)
    w, h, d = prod.dimensions_m
    report = validate_delivery(
        pack(tmp_path, prod, dimensions=(h, w, d)), expected_asin=ASIN
    ).report
    if abs(w - h) / max(w, h) > 0.15:
        issue = next(i for i in report.errors if i.code == "BUDGET_SCALE_MISMATCH")
        assert "rotated" in issue.message


def test_unsupported_input_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "model.fbx").write_bytes(b"Kaydara FBX Binary")
    report = validate_path(tmp_path / "model.fbx")
    assert [i.code for i in report.errors] == ["INPUT_UNSUPPORTED"]


def test_report_round_trips_through_json(good_zip: Path) -> None:
    report = validate_delivery(good_zip, expected_asin="B0OTHER001").report
    again = Report.from_dict(json.loads(report.to_json()))
    assert again.codes == report.codes == ("CONTRACT_ASIN_MISMATCH",)
    assert again.ok is False


def test_oversized_manifest_and_photo_are_reported_not_crashed(tmp_path, good_zip) -> None:
    def pad(m):
        m["artist"]["name"] = "x" * 300_000

    huge_manifest = rewrite_zip(
        good_zip, tmp_path / "m.zip", edit={"manifest.json": edit_manifest(pad)}
    )
    report = validate_delivery(huge_manifest, expected_asin=ASIN).report
    assert [i.code for i in report.errors] == [
        "CONTRACT_MANIFEST_SCHEMA"
    ] and "at most" in report.errors[0].message

    photo = _photo_name(good_zip)
    big = rewrite_zip(
        good_zip, tmp_path / "p.zip", edit={photo: lambda _: os.urandom(65 * 1024 * 1024)}
    )
    report = validate_delivery(big, expected_asin=ASIN).report
    issue = next(i for i in report.errors if i.code == "PHOTO_UNREADABLE")
    assert issue.path == photo and "65 MB" in issue.message
