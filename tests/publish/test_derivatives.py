"""Channel derivatives of an approved master: Draco geometry and WebP textures made by the
pinned glTF tools, shipped only when the Khronos validator, the render comparison (SSIM against
the master) and the channel's byte budget all agree; otherwise refused with a stable code.

Real parts throughout: the demo products and Khronos' 3D Commerce models, Node running
glTF-Transform and the Khronos glTF-Validator, and the studio renderer in its render process."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from shazam_assets.platform.gltf_tools import GltfTools, GltfToolsError, find_tools
from shazam_assets.platform.renderer.source import read_source
from shazam_assets.publish import derivatives
from shazam_assets.publish.derivatives import (
    MB,
    PROFILES,
    Derivative,
    Reference,
    derive,
    derive_channels,
    render_reference,
)
from tests.builders import product

KHRONOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "khronos-3dc"


@pytest.fixture(scope="module")
def tools() -> GltfTools:
    try:
        return find_tools()
    except GltfToolsError as exc:
        pytest.fail(f"{exc} (run `make setup`)", pytrace=False)


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return product(tmp_path_factory.mktemp("demo"), "speaker").model


@pytest.fixture(scope="module")
def reference(master: Path) -> Reference:
    return render_reference(master)


@pytest.fixture(scope="module")
def channels(
    master: Path, reference: Reference, tools: GltfTools, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Derivative]:
    out = tmp_path_factory.mktemp("derivatives")
    return {
        name: derive(master, out, profile, reference=reference, tools=tools)
        for name, profile in PROFILES.items()
    }


def _glb_json(path: Path) -> dict:
    return read_source(path).document


def test_web_and_mobile_derivatives_ship_smaller_valid_and_alike(channels, master) -> None:
    assert set(channels) >= {"web", "mobile"}
    for name, d in channels.items():
        profile = PROFILES[name]
        assert d.ships and d.code is None, d.message
        assert d.path is not None and d.path.is_file() and d.path.stat().st_size == d.bytes
        assert d.bytes < d.master_bytes == master.stat().st_size
        assert d.bytes <= profile.max_bytes
        assert d.validator_errors == 0
        assert len(d.ssim) == derivatives.VIEWS and d.ssim_min >= profile.min_ssim
        assert d.triangles == d.master_triangles > 0
        assert all(max(size) <= profile.texture_max_px for size in d.textures)
        used = _glb_json(d.path)["extensionsUsed"]
        assert {"KHR_draco_mesh_compression", "EXT_texture_webp"} <= set(used)
        record = d.to_json()
        assert record["path"] == d.path.name and record["ssim_min"] == d.ssim_min
        assert Derivative.from_json(json.loads(json.dumps(record)), folder=d.path.parent) == (
            replace(d, ssim=tuple(round(s, 4) for s in d.ssim))
        )  # the release records it as JSON and reads it back
    assert channels["mobile"].bytes < channels["web"].bytes


def test_visibly_broken_compression_is_refused_by_the_render_comparison(
    master, reference, tools, tmp_path
) -> None:
    broken = replace(PROFILES["web"], name="broken", texture_max_px=8, quantize_position=6)
    d = derive(master, tmp_path, broken, reference=reference, tools=tools)
    assert not d.ships and d.code == "PUBLISH_DERIVATIVE_SSIM"
    assert d.ssim_min is not None and d.ssim_min < broken.min_ssim
    assert d.validator_errors == 0  # valid glTF, visibly wrong: only the render sees it
    assert list(tmp_path.iterdir()) == []  # a refused derivative is not left behind


def test_a_derivative_over_the_channel_budget_is_refused(
    master, reference, tools, tmp_path
) -> None:
    tight = replace(PROFILES["mobile"], name="tight", max_bytes=4096)
    d = derive(master, tmp_path, tight, reference=reference, tools=tools)
    assert not d.ships and d.code == "PUBLISH_DERIVATIVE_OVER_BUDGET"
    assert d.bytes > 4096 and "budget" in d.message
    assert d.ssim_min is not None and d.ssim_min >= tight.min_ssim  # it looked right


def _with_variants(source: Path, out: Path) -> Path:
    """`source` (a one-material demo GLB) with a second material and KHR_materials_variants:
    two variants, each primitive mapped to material 0 in "oak" and 1 in "walnut"."""
    data = source.read_bytes()
    json_len = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20 : 20 + json_len])
    rest = data[20 + json_len :]  # the BIN chunk, header included
    dark = json.loads(json.dumps(doc["materials"][0]))
    dark["name"] = "walnut"
    dark.setdefault("pbrMetallicRoughness", {})["baseColorFactor"] = [0.3, 0.2, 0.1, 1.0]
    doc["materials"].append(dark)
    doc.setdefault("extensions", {})["KHR_materials_variants"] = {
        "variants": [{"name": "oak"}, {"name": "walnut"}]
    }
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            prim.setdefault("extensions", {})["KHR_materials_variants"] = {
                "mappings": [{"material": 0, "variants": [0]}, {"material": 1, "variants": [1]}]
            }
    doc["extensionsUsed"] = [*doc.get("extensionsUsed", []), "KHR_materials_variants"]
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + rest
    out.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body)
    return out


def test_material_variants_survive_into_the_derivative(master, tools, tmp_path) -> None:
    model = _with_variants(master, tmp_path / "variants.glb")
    assert tools.validate(model).errors == 0
    d = derive(model, tmp_path / "out", PROFILES["web"], tools=tools)
    assert d.ships, d.message
    doc = _glb_json(d.path)
    assert [m["name"] for m in doc["materials"]] == [
        m["name"] for m in _glb_json(model)["materials"]
    ]
    assert doc["extensions"]["KHR_materials_variants"]["variants"] == [
        {"name": "oak"},
        {"name": "walnut"},
    ]
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            assert prim["extensions"]["KHR_materials_variants"]["mappings"] == [
                {"material": 0, "variants": [0]},
                {"material": 1, "variants": [1]},
            ]


def _record(**overrides) -> Derivative:
    fields = dict(
        channel="web", path=Path("x.web.glb"), master_bytes=1000, bytes=400, master_triangles=10,
        triangles=10, textures=(), validator_errors=0, validator_warnings=0,
        ssim=(0.999, 0.998), seconds=1.0,
    )  # fmt: skip
    return Derivative(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("overrides", "errors", "lost", "code"),
    [
        (dict(validator_errors=2, ssim=()), 2, [], "PUBLISH_DERIVATIVE_INVALID"),
        (dict(), 0, ["variants: 0 of 2"], "PUBLISH_DERIVATIVE_INCOMPLETE"),
        (dict(ssim=(0.999, 0.5)), 0, [], "PUBLISH_DERIVATIVE_SSIM"),
        (dict(bytes=900, master_bytes=10 * MB), 0, [], None),
        (dict(bytes=6 * MB, master_bytes=10 * MB), 0, [], "PUBLISH_DERIVATIVE_OVER_BUDGET"),
        (dict(bytes=1000), 0, [], "PUBLISH_DERIVATIVE_NOT_SMALLER"),
    ],
)
def test_the_first_failed_check_names_the_refusal(overrides, errors, lost, code) -> None:
    """Most serious first: a broken file, then lost content, then looks, then size."""
    report = derivatives.ValidatorReport(errors, 0, ("ACCESSOR_INVALID_FLOAT",) * bool(errors), ())
    verdict, message = derivatives._verdict(_record(**overrides), PROFILES["web"], report, lost)
    assert verdict == code and bool(message) == (code is not None)


def test_missing_node_or_packages_give_the_coded_error(master, tmp_path, monkeypatch) -> None:
    with pytest.raises(GltfToolsError) as missing_node:
        find_tools(node="shazam-no-such-node")
    assert missing_node.value.code == "GLTF_TOOLS_MISSING" and missing_node.value.hint
    with pytest.raises(GltfToolsError) as missing_packages:
        find_tools(folder=tmp_path)
    assert missing_packages.value.code == "GLTF_TOOLS_MISSING"
    assert "npm ci --prefix shazam_assets/platform/gltf_tools" in missing_packages.value.message
    monkeypatch.setenv("PATH", str(tmp_path))  # no node anywhere: refused before any work
    with pytest.raises(GltfToolsError, match="GLTF_TOOLS_MISSING"):
        derive(master, tmp_path / "out", PROFILES["web"])
    assert not (tmp_path / "out").exists()


def test_a_tool_that_fails_or_hangs_gives_a_coded_error_and_refuses_the_derivative(
    master, reference, tools, tmp_path, monkeypatch
) -> None:
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"not a model")
    with pytest.raises(GltfToolsError) as failed:
        tools.derive(junk, tmp_path / "out.glb", PROFILES["web"].tool_options())
    assert failed.value.code == "GLTF_TOOLS_FAILED" and "junk.glb" in failed.value.message
    hang = tmp_path / "hang.mjs"
    hang.write_text("setTimeout(() => {}, 60000);\n")
    monkeypatch.setattr("shazam_assets.platform.gltf_tools.DERIVE_TIMEOUT_S", 1.0)
    out = tmp_path / "out"
    d = derive(master, out, PROFILES["web"], reference=reference, tools=replace(tools, script=hang))
    assert not d.ships and d.code == "GLTF_TOOLS_TIMEOUT" and "past 1 s" in d.message
    assert list(out.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Mixer", "WickerChair"])
def test_khronos_commerce_models_get_valid_smaller_derivatives(name, tmp_path) -> None:
    model = KHRONOS / name / f"{name}.glb"
    if not model.is_file():
        pytest.skip(f"{model} is not here (../shared/data/khronos-3dc)")
    for d in derive_channels(model, tmp_path):
        assert d.ships, d.message
        assert d.validator_errors == 0 and d.bytes < d.master_bytes / 2
        assert d.ssim_min >= PROFILES[d.channel].min_ssim
