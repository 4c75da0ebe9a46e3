"""USDZ for iOS Quick Look: demo products and the Khronos 3D Commerce models become packages the
ARKit compliance checker passes, with the GLB's triangles, size in metres and textures; broken
input is refused with a stable code."""

from __future__ import annotations

import io
import json
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from shazam_assets.platform.renderer import load_model_info
from shazam_assets.publish.errors import PublishError
from shazam_assets.publish.usdz import UsdzLimits, check_usdz, make_usdz
from tests.builders import SHARED_DATA, product, read_glb, write_glb
from tests.image_bombs import png_bomb

KHRONOS = SHARED_DATA / "khronos-3dc"
needs_khronos = pytest.mark.skipif(
    not (KHRONOS / "Mixer" / "Mixer.glb").exists(), reason="../shared/data is absent"
)


def _usdz_contents(path: Path) -> dict[str, Any]:
    """What a viewer finds in the package: triangles, world bounds (metres), the texture files
    the shaders name (resolved inside the package) and the stage metadata."""
    from pxr import Usd, UsdGeom, UsdShade

    stage = Usd.Stage.Open(str(path))
    triangles, textures = 0, set()
    for prim in stage.Traverse():
        if prim.IsA(UsdGeom.Mesh):
            counts = np.asarray(UsdGeom.Mesh(prim).GetFaceVertexCountsAttr().Get())
            triangles += int(np.sum(counts - 2))
        elif prim.IsA(UsdShade.Shader) and UsdShade.Shader(prim).GetInput("file"):
            asset = UsdShade.Shader(prim).GetInput("file").Get()
            assert asset.resolvedPath, f"{asset.path} does not resolve inside the package"
            textures.add(asset.resolvedPath.split("[")[-1].rstrip("]"))
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    box = cache.ComputeWorldBound(stage.GetPseudoRoot()).ComputeAlignedRange()
    return {
        "triangles": triangles,
        "bounds": (np.array(box.GetMin()), np.array(box.GetMax())),
        "textures": textures,
        "meters_per_unit": UsdGeom.GetStageMetersPerUnit(stage),
        "up_axis": UsdGeom.GetStageUpAxis(stage),
        "default_prim": stage.GetDefaultPrim().GetPath().pathString,
    }


def _assert_same_model(model: Path, usdz: Path) -> dict[str, Any]:
    """The package passes ARKit's checks and holds the model's triangles at its size."""
    assert check_usdz(usdz) == []
    info, found = load_model_info(model), _usdz_contents(usdz)
    assert found["triangles"] == info.triangles
    np.testing.assert_allclose(found["bounds"][0], info.bounds_min, atol=1e-4)
    np.testing.assert_allclose(found["bounds"][1], info.bounds_max, atol=1e-4)
    assert (found["meters_per_unit"], found["up_axis"], found["default_prim"]) == (
        1.0,
        "Y",
        "/Root",
    )
    names = set(zipfile.ZipFile(usdz).namelist())
    assert found["textures"] <= names
    return found


@pytest.mark.parametrize("slug", ["speaker", "mug", "lamp"])
def test_demo_products_become_valid_usdz(tmp_path: Path, slug: str) -> None:
    model = product(tmp_path, slug).model
    result = make_usdz(model, tmp_path / f"{slug}.usdz")
    found = _assert_same_model(model, result.path)
    assert result.errors == ()
    assert (result.triangles, result.size) == (found["triangles"], result.path.stat().st_size)
    assert result.textures == len(found["textures"]) > 0
    assert result.meshes > 0 and result.materials > 0


@needs_khronos
@pytest.mark.parametrize(
    "relative", ["Mixer/Mixer.glb", "WickerChair/WickerChair.glb", "Mixer/glTF/Mixer.gltf"]
)
def test_khronos_models_become_valid_usdz(tmp_path: Path, relative: str) -> None:
    """Mixer.gltf names its textures "Mixer02Shader (Base Color) image.png" and so on."""
    model = KHRONOS / relative
    result = make_usdz(model, tmp_path / "model.usdz")
    found = _assert_same_model(model, result.path)
    assert len(found["textures"]) == result.textures >= 3


@needs_khronos
def test_materials_follow_gltf_channels(tmp_path: Path) -> None:
    """Metal from B, roughness from G, the normal map raw in -1..1, occlusion from R; the
    WickerChair's BLEND material takes its opacity from the base colour's alpha."""
    from pxr import Usd, UsdShade

    result = make_usdz(KHRONOS / "WickerChair" / "WickerChair.glb", tmp_path / "chair.usdz")
    stage = Usd.Stage.Open(str(result.path))
    surfaces = {
        prim.GetParent().GetName(): UsdShade.Shader(prim)
        for prim in stage.Traverse()
        if prim.GetName() == "Surface"
    }
    alpha = next(s for name, s in surfaces.items() if name.endswith("WickerChair_Alpha"))
    wired = {}
    for name in ("metallic", "roughness", "normal", "occlusion", "diffuseColor", "opacity"):
        source, output, _ = alpha.GetInput(name).GetConnectedSource()
        wired[name] = (source.GetPrim().GetName(), output)
    assert wired == {
        "metallic": ("MetallicRoughness", "b"),
        "roughness": ("MetallicRoughness", "g"),
        "normal": ("Normal", "rgb"),
        "occlusion": ("Occlusion", "r"),
        "diffuseColor": ("BaseColor", "rgb"),
        "opacity": ("BaseColor", "a"),
    }
    normal = UsdShade.Shader(
        stage.GetPrimAtPath(alpha.GetPath().GetParentPath().AppendChild("Normal"))
    )
    assert normal.GetInput("sourceColorSpace").Get() == "raw"
    assert tuple(normal.GetInput("scale").Get()) == (2, 2, 2, 1)
    assert tuple(normal.GetInput("bias").Get()) == (-1, -1, -1, 0)
    opaque = next(s for name, s in surfaces.items() if not name.endswith("_Alpha"))
    assert not opaque.GetInput("opacity")  # OPAQUE: alpha is ignored


def _winding_agrees_with_normals(usdz: Path) -> float:
    """The share of triangles whose winding (counter-clockwise = front) faces the way their
    vertex normals do: near 1 for a mesh Quick Look shades and culls right."""
    from pxr import Usd, UsdGeom

    agree, total = 0, 0
    stage = Usd.Stage.Open(str(usdz))
    for prim in stage.Traverse():
        if prim.IsA(UsdGeom.Mesh):
            mesh = UsdGeom.Mesh(prim)
            points = np.asarray(mesh.GetPointsAttr().Get())  # (n, 3)
            faces = np.asarray(mesh.GetFaceVertexIndicesAttr().Get()).reshape(-1, 3)
            normals = np.asarray(mesh.GetNormalsAttr().Get())[faces].sum(axis=1)  # (m, 3)
            a, b, c = (points[faces[:, i]] for i in range(3))
            winding = np.cross(b - a, c - a)
            agree += int(np.sum(np.einsum("ij,ij->i", winding, normals) > 0))
            total += len(faces)
    return agree / total


def test_a_mirroring_node_keeps_size_and_front_faces(tmp_path: Path) -> None:
    model = product(tmp_path, "speaker").model
    document, binary = read_glb(model.read_bytes())
    document["nodes"][0]["scale"] = [-1.0, 1.0, 1.0]
    mirrored = tmp_path / "mirrored.glb"
    mirrored.write_bytes(write_glb(document, binary))
    for glb in (model, mirrored):
        result = make_usdz(glb, tmp_path / f"{glb.stem}.usdz")
        _assert_same_model(glb, result.path)
        assert _winding_agrees_with_normals(result.path) > 0.95


def test_variants_use_the_default_material_and_mask_keeps_its_cutoff(tmp_path: Path) -> None:
    """A model with KHR_materials_variants: the USDZ shows the default material (a red
    variant is not taken) and says what it left out; MASK becomes opacityThreshold."""
    from pxr import Usd, UsdShade

    document, binary = read_glb(product(tmp_path, "speaker").model.read_bytes())
    default = document["materials"][0]
    default.update(alphaMode="MASK", alphaCutoff=0.3)
    red = {**default, "name": "red", "pbrMetallicRoughness": {"baseColorFactor": [1, 0, 0, 1]}}
    document["materials"].append(red)
    document["extensionsUsed"] = ["KHR_materials_variants"]
    document["extensions"] = {"KHR_materials_variants": {"variants": [{"name": "Red"}]}}
    primitive = document["meshes"][0]["primitives"][0]
    primitive["extensions"] = {
        "KHR_materials_variants": {"mappings": [{"material": 1, "variants": [0]}]}
    }
    model = tmp_path / "variants.glb"
    model.write_bytes(write_glb(document, binary))
    result = make_usdz(model, tmp_path / "variants.usdz")
    _assert_same_model(model, result.path)
    assert result.materials == 1
    assert result.not_carried == ("KHR_materials_variants (the default material is used)",)
    stage = Usd.Stage.Open(str(result.path))
    (surface,) = [UsdShade.Shader(p) for p in stage.Traverse() if p.GetName() == "Surface"]
    assert surface.GetInput("diffuseColor").GetConnectedSource()[0].GetPrim().GetName() == (
        "BaseColor"
    )
    assert surface.GetInput("opacityThreshold").Get() == pytest.approx(0.3)
    assert surface.GetInput("opacity").GetConnectedSource()[1] == "a"


def _gltf_lookup(uv: Any, offset: Any, rotation: float, scale: Any) -> Any:
    """Where glTF samples under KHR_texture_transform: its GLSL, column-major, with the
    rotation that makes the extension's own example read the lower-left quadrant."""
    c, s = np.cos(rotation), np.sin(rotation)
    translation = np.array([[1, 0, 0], [0, 1, 0], [offset[0], offset[1], 1]]).T
    rotate = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T  # mat3(c, -s, 0, s, c, 0, 0, 0, 1)
    scaling = np.diag([scale[0], scale[1], 1.0])
    return (translation @ rotate @ scaling @ np.array([uv[0], uv[1], 1.0]))[:2]


def test_texture_transforms_sample_where_gltf_does(tmp_path: Path) -> None:
    """A UsdTransform2d on st = (u, 1 - v) samples the texel glTF samples at uv."""
    from pxr import Usd, UsdShade

    document, binary = read_glb(product(tmp_path, "speaker").model.read_bytes())
    offset, rotation, scale = (0.25, -0.5), 0.4, (2.0, 3.0)
    info = document["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"]
    info["extensions"] = {
        "KHR_texture_transform": {"offset": offset, "rotation": rotation, "scale": scale}
    }
    document["extensionsUsed"] = ["KHR_texture_transform"]
    model = tmp_path / "transformed.glb"
    model.write_bytes(write_glb(document, binary))
    result = make_usdz(model, tmp_path / "transformed.usdz")
    _assert_same_model(model, result.path)
    assert result.not_carried == ()
    stage = Usd.Stage.Open(str(result.path))
    (transform,) = [
        UsdShade.Shader(p) for p in stage.Traverse() if p.GetName() == "BaseColorTransform"
    ]
    degrees = np.radians(transform.GetInput("rotation").Get())
    turn = np.array([[np.cos(degrees), -np.sin(degrees)], [np.sin(degrees), np.cos(degrees)]])
    usd_scale = np.diag(transform.GetInput("scale").Get())
    usd_translation = np.array(transform.GetInput("translation").Get())
    for uv in ((0.0, 0.0), (1.0, 0.0), (0.3, 0.8), (0.9, 0.1)):
        st = np.array([uv[0], 1.0 - uv[1]])
        looked_up = turn @ usd_scale @ st + usd_translation  # UsdTransform2d: S, R, T
        expected = _gltf_lookup(uv, offset, rotation, scale)
        np.testing.assert_allclose(looked_up, [expected[0], 1.0 - expected[1]], atol=1e-5)


def test_a_second_uv_set_is_read_as_st1(tmp_path: Path) -> None:
    """An occlusion map on TEXCOORD_1 reads primvars:st1, flipped to USD's V like st."""
    from pxr import Usd, UsdGeom, UsdShade

    document, binary = read_glb(product(tmp_path, "speaker").model.read_bytes())
    primitive = document["meshes"][0]["primitives"][0]
    accessor = document["accessors"][primitive["attributes"]["TEXCOORD_0"]]
    view = document["bufferViews"][accessor["bufferView"]]
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    uv0 = np.frombuffer(binary, "<f4", accessor["count"] * 2, start).reshape(-1, 2)
    uv1 = (uv0 * [0.5, 0.25]).astype("<f4")  # (n, 2), V down
    document["bufferViews"].append(
        {"buffer": 0, "byteOffset": len(binary), "byteLength": uv1.nbytes}
    )
    document["accessors"].append(
        {**accessor, "bufferView": len(document["bufferViews"]) - 1, "byteOffset": 0}
    )
    primitive["attributes"]["TEXCOORD_1"] = len(document["accessors"]) - 1
    document["materials"][0]["occlusionTexture"] = {"index": 0, "texCoord": 1}
    model = tmp_path / "uv1.glb"
    model.write_bytes(write_glb(document, binary + uv1.tobytes()))
    result = make_usdz(model, tmp_path / "uv1.usdz")
    _assert_same_model(model, result.path)
    assert result.not_carried == ()
    stage = Usd.Stage.Open(str(result.path))
    (mesh,) = [UsdGeom.Mesh(p) for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
    st1 = np.asarray(UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st1").Get())
    np.testing.assert_allclose(st1, np.column_stack([uv1[:, 0], 1.0 - uv1[:, 1]]), atol=1e-6)
    (occlusion,) = [UsdShade.Shader(p) for p in stage.Traverse() if p.GetName() == "Occlusion"]
    reader = occlusion.GetInput("st").GetConnectedSource()[0]
    assert UsdShade.Shader(reader.GetPrim()).GetInput("varname").Get() == "st1"


def _gltf_with_external_files(glb: Path, folder: Path, *, webp: bool = False) -> Path:
    """The GLB as a .gltf whose buffer and images are files with spaces, parentheses and an
    accent in their names, named by percent-encoded URIs; images as WebP when `webp`."""
    document, binary = read_glb(glb.read_bytes())
    folder.mkdir()
    bin_name = "données (bin).bin"
    (folder / bin_name).write_bytes(binary)
    document["buffers"][0]["uri"] = urllib.parse.quote(bin_name)
    for index, image in enumerate(document["images"]):
        view = document["bufferViews"][image.pop("bufferView")]
        data = binary[view.get("byteOffset", 0) :][: view["byteLength"]]
        if webp:
            out = io.BytesIO()
            Image.open(io.BytesIO(data)).save(out, format="WEBP", quality=90)
            data, image["mimeType"] = out.getvalue(), "image/webp"
        name = f"tex ture ({index}).{'webp' if webp else 'png'}"
        (folder / name).write_bytes(data)
        image["uri"] = urllib.parse.quote(name)
        if not webp:
            image.pop("mimeType", None)
    if webp:
        for texture in document["textures"]:
            texture["extensions"] = {"EXT_texture_webp": {"source": texture.pop("source")}}
        document["extensionsUsed"] = [*document.get("extensionsUsed", []), "EXT_texture_webp"]
        document["extensionsRequired"] = ["EXT_texture_webp"]
    model = folder / "model.gltf"
    model.write_text(json.dumps(document), encoding="utf-8")
    return model


def test_gltf_with_percent_encoded_uris(tmp_path: Path) -> None:
    model = _gltf_with_external_files(product(tmp_path, "speaker").model, tmp_path / "gltf")
    result = make_usdz(model, tmp_path / "speaker.usdz")
    assert len(_assert_same_model(model, result.path)["textures"]) == result.textures > 0


def test_webp_textures_become_png_or_jpeg(tmp_path: Path) -> None:
    """Quick Look does not read WebP: the package carries the pictures as PNG or JPEG."""
    model = _gltf_with_external_files(product(tmp_path, "mug").model, tmp_path / "w", webp=True)
    result = make_usdz(model, tmp_path / "mug.usdz")
    textures = _assert_same_model(model, result.path)["textures"]
    assert textures and all(name.endswith((".png", ".jpg")) for name in textures)
    with zipfile.ZipFile(result.path) as package:
        for name in textures:
            assert Image.open(io.BytesIO(package.read(name))).format in ("PNG", "JPEG")


def _draco_required(model: Path, out: Path) -> Path:
    document, binary = read_glb(model.read_bytes())
    document["extensionsUsed"] = document["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    out.write_bytes(write_glb(document, binary))
    return out


def _no_triangles(model: Path, out: Path) -> Path:
    document = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{}]}
    out.write_bytes(write_glb(document, b""))
    return out


@pytest.mark.parametrize(
    ("breakage", "code"),
    [
        (
            lambda model, out: out.write_bytes(b"glTF\x02\0\0\0garbage") and out,
            "PUBLISH_USDZ_UNREADABLE",
        ),
        (
            lambda model, out: out.write_bytes(model.read_bytes()[:2000]) and out,
            "PUBLISH_USDZ_UNREADABLE",
        ),
        (_draco_required, "PUBLISH_USDZ_UNREADABLE"),
        (_no_triangles, "PUBLISH_USDZ_UNREADABLE"),
    ],
    ids=["garbage", "truncated", "draco-required", "no-triangles"],
)
def test_broken_models_are_refused_with_a_code(tmp_path: Path, breakage: Any, code: str) -> None:
    broken = breakage(product(tmp_path, "speaker").model, tmp_path / "broken.glb")
    with pytest.raises(PublishError) as refused:
        make_usdz(broken, tmp_path / "out.usdz")
    assert refused.value.code == code and refused.value.hint
    assert not (tmp_path / "out.usdz").exists()


def test_work_is_bounded(tmp_path: Path) -> None:
    """Too many triangles or textures, or a texture declaring 13000 x 13000 pixels in 500 KB,
    are refused before the work is done."""
    model = product(tmp_path, "speaker").model
    for limits in (UsdzLimits(max_triangles=100), UsdzLimits(max_textures=0)):
        with pytest.raises(PublishError) as refused:
            make_usdz(model, tmp_path / "out.usdz", limits=limits)
        assert refused.value.code == "PUBLISH_USDZ_TOO_LARGE"
    bomb = _gltf_with_external_files(model, tmp_path / "bomb")
    (bomb.parent / "tex ture (0).png").write_bytes(png_bomb(13000, 13000))
    with pytest.raises(PublishError) as refused:
        make_usdz(bomb, tmp_path / "out.usdz")
    assert refused.value.code == "PUBLISH_USDZ_TOO_LARGE"
    assert not (tmp_path / "out.usdz").exists()


def test_an_unreadable_texture_leaves_the_material_untextured(tmp_path: Path) -> None:
    """As in the turntable: the loader skips a picture it cannot decode."""
    model = _gltf_with_external_files(product(tmp_path, "speaker").model, tmp_path / "g")
    (model.parent / "tex ture (0).png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    result = make_usdz(model, tmp_path / "out.usdz")
    assert result.textures == 0
    assert check_usdz(result.path) == []


def test_check_usdz_reports_a_package_quick_look_cannot_read(tmp_path: Path) -> None:
    """A package holding a WebP texture, and a file that is no package, fail the checks."""
    from pxr import Sdf, Usd, UsdShade, UsdUtils

    folder = tmp_path / "bad"
    folder.mkdir()
    Image.new("RGB", (4, 4)).save(folder / "t.webp", format="WEBP")
    stage = Usd.Stage.CreateNew(str(folder / "bad.usdc"))
    stage.SetDefaultPrim(stage.DefinePrim("/Root", "Xform"))
    texture = UsdShade.Shader.Define(stage, "/Root/M/T")
    texture.CreateIdAttr("UsdUVTexture")
    texture.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("t.webp")
    stage.GetRootLayer().Save()
    UsdUtils.CreateNewUsdzPackage(
        Sdf.AssetPath(str(folder / "bad.usdc")), str(tmp_path / "bad.usdz")
    )
    assert check_usdz(tmp_path / "bad.usdz")
    (tmp_path / "fake.usdz").write_bytes(b"PK not really")
    assert check_usdz(tmp_path / "fake.usdz")
