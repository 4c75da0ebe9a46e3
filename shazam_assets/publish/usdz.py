"""USDZ for iOS Quick Look: the approved glTF model as a USD package that ARKit opens.

    make_usdz(model, out)   a .glb/.gltf (resources beside it) -> a validated .usdz
    check_usdz(path)        the package's ARKit compliance problems ([] when it passes)

usd-core has no glTF importer, so the model is read as the studio renderer reads it
(`platform.renderer.source`: trimesh's scene, textures bounded before decoding, percent-decoded
URIs, Draco/meshopt/KTX2 refused) and written with the USD API:
- one `UsdGeom.Mesh` per placed primitive, in world space (the node transforms applied; normals
  by the inverse transpose; winding flipped under a mirroring node), with vertex normals and
  `primvars:st` (TEXCOORD_0; TEXCOORD_1 as `primvars:st1`). glTF's V runs down from the
  top-left corner, USD's st up from the bottom-left: trimesh's UVs are already flipped
  (v = 1 - v_gltf) and written as they are; TEXCOORD_1, read from the file, is flipped here.
- glTF's units and axes are USD's with metersPerUnit = 1 and upAxis = Y (stage metadata), so
  the product keeps its size in metres in AR.
- one `UsdPreviewSurface` per glTF material, from the file's own JSON (trimesh keeps decoded
  pictures only): base colour factor x texture (sRGB; its alpha is the opacity for BLEND, and
  for MASK with `opacityThreshold` = alphaCutoff), metallic and roughness from the
  metallicRoughness texture's B and G channels, the normal map raw with scale 2 / bias -1
  (times normalTexture.scale), occlusion from R (with its strength), emission (factor x
  KHR_materials_emissive_strength x texture), sampler wrap modes. Factors ride on the
  texture's `inputs:scale`, as in Apple's usdzconvert.
- textures keep the file's own PNG or JPEG bytes; WebP (Quick Look cannot read it) is
  re-encoded as PNG when it has alpha, JPEG otherwise.
Not carried (`not_carried` names them per model, `UsdzResult.not_carried` records them):
KHR_materials_variants (the default material is used; the page's viewer offers the variants),
texture coordinates beyond TEXCOORD_1, vertex colours, the other material extensions
(clearcoat, transmission, sheen, ...) and animations. KHR_texture_transform is carried as a
UsdTransform2d (`usd_texture_transform`), which the ARKit rules allow.

The package is made by `UsdUtils.CreateNewARKitUsdzPackage` in a private folder, checked with
`UsdUtils.ComplianceChecker(arkit=True)` (the rules `usdchecker --arkit` ran; usd-core ships no
usdchecker script), and only a package with no errors and no failed checks is moved to `out`.
usd-core 26.8 deleted that checker and its UsdValidation replacement has no ARKit rules yet
(26.11), hence the pin below 26.8 in pyproject.toml.

Work is bounded (`UsdzLimits`): triangles and placed meshes are counted before anything is
written, every texture's header is checked by the renderer's loader before it is decoded.
Measured on 2 shared CPU cores: the Khronos Mixer (47k triangles) in 0.14 s, a 1.3M-triangle
sphere in 6 s (23 MB), 3,000 placed meshes in 3 s.
Every refusal is a `PublishError` (PUBLISH_USDZ_*), never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

from shazam_assets.platform import imaging
from shazam_assets.platform.renderer.errors import RenderError
from shazam_assets.platform.renderer.gltf_extras import PrimitiveExtras, primitive_extras
from shazam_assets.platform.renderer.source import (
    GltfSource,
    image_source,
    load_scene,
    read_source,
)
from shazam_assets.publish.errors import PublishError

Log = Callable[[str], None]
FloatArray = npt.NDArray[np.float64]

USDZ_UNREADABLE = "PUBLISH_USDZ_UNREADABLE"
USDZ_TOO_LARGE = "PUBLISH_USDZ_TOO_LARGE"
USDZ_INVALID = "PUBLISH_USDZ_INVALID"
USDZ_FAILED = "PUBLISH_USDZ_FAILED"

_ROOT = "/Root"
_WRAP = {33071: "clamp", 33648: "mirror", 10497: "repeat"}  # glTF sampler wrap -> UsdUVTexture
_VARIANTS = frozenset({"KHR_materials_variants"})
_CARRIED_MATERIAL_EXTENSIONS = frozenset({"KHR_materials_emissive_strength"})
_PASSED_THROUGH = {"PNG": "png", "JPEG": "jpg"}  # formats Quick Look reads, kept byte for byte


@dataclass(frozen=True)
class UsdzLimits:
    """The most one conversion takes on. Delivery validation holds models to their channel
    profile (200,000 triangles at most today); these bound a file that never went through it.
    Texture pixels and bytes are `imaging.DEFAULT_LIMITS`, as for the renderer."""

    max_triangles: int = 2_000_000
    max_meshes: int = 20_000  # placed primitives: one USD prim each
    max_textures: int = 64


DEFAULT_LIMITS = UsdzLimits()


@dataclass(frozen=True)
class UsdzResult:
    """A written, validated package: what it holds and what the compliance checker said."""

    path: Path
    size: int  # bytes
    triangles: int
    meshes: int
    materials: int
    textures: int
    errors: tuple[str, ...]  # always empty: a package with errors is refused (USDZ_INVALID)
    warnings: tuple[str, ...]
    not_carried: tuple[str, ...]  # glTF features the USDZ leaves out (see `not_carried`)
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Plain dict for manifests (the path as a file name)."""
        return {
            "file": self.path.name,
            "size": self.size,
            "triangles": self.triangles,
            "meshes": self.meshes,
            "materials": self.materials,
            "textures": self.textures,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "not_carried": list(self.not_carried),
            "seconds": round(self.seconds, 3),
        }


def make_usdz(
    model: Path,
    out: Path,
    *,
    log: Log = lambda _: None,
    limits: UsdzLimits = DEFAULT_LIMITS,
) -> UsdzResult:
    """Convert `model` (.glb, or .gltf with its resources beside it) into a USDZ at `out` that
    passes the ARKit compliance checker; `out` is replaced only by a package that passed."""
    started = time.monotonic()
    source, scene = _read(Path(model))
    placed = _placed_meshes(scene, source, limits)
    with tempfile.TemporaryDirectory(prefix="shazam-usdz-") as folder:
        package, counts = _convert(source, placed, Path(folder), limits=limits, log=log)
        errors, advisories = _compliance(package)
        if errors:
            raise PublishError(
                USDZ_INVALID,
                f"{source.path.name}: the USDZ fails the ARKit checks: {'; '.join(errors[:5])}",
            )
        _install(package, Path(out))
    result = UsdzResult(
        path=Path(out),
        size=Path(out).stat().st_size,
        triangles=counts.triangles,
        meshes=len(placed),
        materials=counts.materials,
        textures=counts.textures,
        errors=(),
        warnings=tuple(advisories),
        not_carried=not_carried(source),
        seconds=time.monotonic() - started,
    )
    log(
        f"usdz: {result.path.name}: {result.size / 2**20:.1f} MB, {result.triangles:,} "
        f"triangles, {result.meshes} meshes, {result.textures} textures, {result.seconds:.1f} s"
        + "".join(f"; not carried: {what}" for what in result.not_carried)
    )
    return result


def check_usdz(path: Path) -> list[str]:
    """The ARKit compliance problems of a .usdz (errors and failed checks of
    `UsdUtils.ComplianceChecker(arkit=True)`, what `usdchecker --arkit` reports); [] when it
    passes. Warnings do not count (`make_usdz` records them)."""
    return _compliance(Path(path))[0]


def _compliance(path: Path) -> tuple[list[str], list[str]]:
    """(errors and failed checks, warnings) of the ARKit compliance checker on `path`."""
    from pxr import UsdUtils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see the module docstring
        checker = UsdUtils.ComplianceChecker(arkit=True)
    if not path.is_file():
        return [f"{path.name}: no such file"], []
    try:
        checker.CheckCompliance(str(path))
    except Exception as exc:  # a damaged package must read as a problem
        return [f"{path.name}: cannot be checked ({_reason(exc)})"], []
    problems = [str(p) for p in [*checker.GetErrors(), *checker.GetFailedChecks()]]
    return problems, [str(w) for w in checker.GetWarnings()]


def not_carried(source: GltfSource) -> tuple[str, ...]:
    """What of the model the USDZ leaves out, in words (empty when it carries everything
    Quick Look would show): variants (the default material is used), third UV sets, vertex
    colours, material extensions other than emissive strength, animations."""
    doc = source.document
    used = {str(name) for name in _list(doc.get("extensionsUsed"))}
    found = [f"{name} (the default material is used)" for name in sorted(used & _VARIANTS)]
    materials = [m for m in _list(doc.get("materials")) if isinstance(m, dict)]
    found += sorted({
        str(name) for m in materials for name in (m.get("extensions") or {})
        if name not in _CARRIED_MATERIAL_EXTENSIONS
    })  # fmt: skip
    if any(_third_uv_set(m) for m in materials):
        found.append("texture coordinates beyond TEXCOORD_1")
    primitives = [
        p for mesh in _list(doc.get("meshes")) if isinstance(mesh, dict)
        for p in _list(mesh.get("primitives")) if isinstance(p, dict)
    ]  # fmt: skip
    if any("COLOR_0" in (p.get("attributes") or {}) for p in primitives):
        found.append("vertex colours (COLOR_0)")
    if _list(doc.get("animations")):
        found.append("animations")
    return tuple(found)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _third_uv_set(material: dict[str, Any]) -> bool:
    """Whether a glTF material reads any texture through texCoord 2 or above."""
    pbr = material.get("pbrMetallicRoughness") or {}
    infos = [material.get(k) for k in ("normalTexture", "occlusionTexture", "emissiveTexture")]
    infos += [pbr.get(k) for k in ("baseColorTexture", "metallicRoughnessTexture")]
    return any(isinstance(i, dict) and i.get("texCoord", 0) not in (0, 1) for i in infos)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


# --- reading ---------------------------------------------------------------------------------


def _read(model: Path) -> tuple[GltfSource, trimesh.Scene]:
    """The model's glTF source and trimesh scene, as the renderer reads them."""
    try:
        source = read_source(model)
        return source, load_scene(source)
    except RenderError as exc:
        code = USDZ_TOO_LARGE if exc.code == "RENDER_TEXTURE_TOO_LARGE" else USDZ_UNREADABLE
        raise PublishError(code, exc.message) from None


@dataclass(frozen=True, eq=False)
class _Placed:
    """One primitive where a node puts it: the prim name, the mesh, its world transform and
    its glTF material index (None: glTF's default material)."""

    name: str
    mesh: trimesh.Trimesh
    transform: FloatArray  # (4, 4)
    material: int | None
    uv1: FloatArray | None  # (n, 2) TEXCOORD_1 as stored (V down)


def _placed_meshes(scene: trimesh.Scene, source: GltfSource, limits: UsdzLimits) -> list[_Placed]:
    """Every triangle primitive the default scene places, counted against `limits` first."""
    try:
        extras = primitive_extras(source)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise PublishError(USDZ_UNREADABLE, f"{source.path.name}: {_reason(exc)}") from None
    placed: list[_Placed] = []
    triangles = 0
    for node in scene.graph.nodes_geometry:
        transform, geometry_name = scene.graph[node]
        mesh = scene.geometry[geometry_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        triangles += len(mesh.faces)
        if triangles > limits.max_triangles or len(placed) >= limits.max_meshes:
            raise PublishError(
                USDZ_TOO_LARGE,
                f"{source.path.name}: more than {limits.max_triangles:,} triangles or "
                f"{limits.max_meshes:,} placed meshes; the USDZ is not made",
            )
        if not np.all(np.isfinite(mesh.vertices)) or not np.all(np.isfinite(transform)):
            raise PublishError(
                USDZ_UNREADABLE, f"{source.path.name}: mesh {geometry_name!r} is not finite"
            )
        extra = extras.get(str(geometry_name), PrimitiveExtras())
        if extra.vertex_count != len(mesh.vertices):
            extra = PrimitiveExtras()  # not the primitive we took it for: glTF's defaults
        matrix = np.asarray(transform, float)
        placed.append(_Placed(str(node), mesh, matrix, extra.material, extra.uv1))
    if not placed:
        raise PublishError(USDZ_UNREADABLE, f"{source.path.name}: no triangles to convert")
    return placed


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    triangles: int
    materials: int
    textures: int


def _write_stage(
    work: Path, source: GltfSource, placed: list[_Placed], limits: UsdzLimits
) -> _Counts:
    """model.usdc (and its textures/) in `work`: meshes under /Root/Geom, materials under
    /Root/Materials, metres and +Y up."""
    from pxr import Kind, Usd, UsdGeom

    stage = Usd.Stage.CreateNew(str(work / "model.usdc"))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, _ROOT)
    stage.SetDefaultPrim(root.GetPrim())
    Usd.ModelAPI(root.GetPrim()).SetKind(Kind.Tokens.component)
    UsdGeom.Scope.Define(stage, f"{_ROOT}/Geom")
    UsdGeom.Scope.Define(stage, f"{_ROOT}/Materials")
    materials = _Materials(stage, source, _Textures(work, source, limits))
    triangles, names = 0, set[str]()
    for part in placed:
        name = _unique(_identifier(part.name), names)
        mesh = _write_mesh(stage, f"{_ROOT}/Geom/{name}", part)
        material, double_sided = materials.get(part.material)
        mesh.CreateDoubleSidedAttr(double_sided)
        _bind(mesh.GetPrim(), material)
        triangles += len(part.mesh.faces)
    stage.GetRootLayer().Save()
    return _Counts(triangles, len(materials.made), len(materials.textures.files))


def _identifier(name: str) -> str:
    from pxr import Tf

    return str(Tf.MakeValidIdentifier(name or "mesh"))[:60]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _write_mesh(stage: Any, path: str, part: _Placed) -> Any:
    """A UsdGeom.Mesh of the primitive in world space (see the module docstring)."""
    from pxr import Sdf, UsdGeom, Vt

    linear = part.transform[:3, :3]
    points = trimesh.transform_points(part.mesh.vertices, part.transform)  # (n, 3)
    normals = np.asarray(part.mesh.vertex_normals, float) @ np.linalg.inv(linear)  # (M^-T n)^T
    normals = np.nan_to_num(normals, nan=0.0, posinf=0.0, neginf=0.0)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    faces = np.asarray(part.mesh.faces, dtype=np.int32)  # (m, 3)
    if np.linalg.det(linear) < 0:
        faces = faces[:, ::-1]  # a mirroring node flips the winding
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)  # else Quick Look smooths it
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points.astype(np.float32)))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.ascontiguousarray(faces).ravel()))
    mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(normals.astype(np.float32)))
    mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    lo, hi = points.min(axis=0), points.max(axis=0)
    mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.array([lo, hi], dtype=np.float32)))
    uv = getattr(part.mesh.visual, "uv", None)  # (n, 2), V already up
    uv1 = None if part.uv1 is None else part.uv1 * [1.0, -1.0] + [0.0, 1.0]  # (n, 2), V up
    for name, values in (("st", uv), ("st1", uv1)):
        if values is not None and len(values) == len(points):
            primvar = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
                name, Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
            )
            primvar.Set(Vt.Vec2fArray.FromNumpy(np.nan_to_num(np.asarray(values, np.float32))))
    return mesh


def _bind(prim: Any, material: Any) -> None:
    from pxr import UsdShade

    UsdShade.MaterialBindingAPI.Apply(prim).Bind(material)


# --- textures --------------------------------------------------------------------------------


@dataclass(eq=False)
class _Textures:
    """The model's images as package files (textures/imageN.png|jpg), each written once."""

    work: Path
    source: GltfSource
    limits: UsdzLimits
    written: dict[int, str | None] = field(default_factory=dict)  # image index -> file
    files: dict[str, str] = field(default_factory=dict)  # sha256 of the bytes -> file

    def file_for(self, info: Any) -> tuple[str, dict[str, Any]] | None:
        """(package path, sampler) of a glTF textureInfo; None when it names no usable image."""
        doc = self.source.document
        try:
            texture = doc["textures"][int(info["index"])]
            image = _texture_image(texture)
            sampler = doc["samplers"][texture["sampler"]] if "sampler" in texture else {}
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        if image is None:
            return None
        path = self._write(image)
        return None if path is None else (path, sampler if isinstance(sampler, dict) else {})

    def _write(self, index: int) -> str | None:
        if index not in self.written:
            if len(self.written) >= self.limits.max_textures:
                raise PublishError(
                    USDZ_TOO_LARGE,
                    f"{self.source.path.name}: more than {self.limits.max_textures} textures",
                )
            self.written[index] = self._export(index)
        return self.written[index]

    def _export(self, index: int) -> str | None:
        """Write image `index` under textures/; None when it cannot be read (the loader and
        the renderer skip such an image too: the material keeps its factors)."""
        try:
            found = image_source(self.source, self.source.document["images"][index])
        except (IndexError, KeyError, TypeError):
            return None
        if found is None:
            return None
        data = found if isinstance(found, bytes) else found.read_bytes()
        try:
            suffix, payload = _quick_look_image(data)
        except imaging.ImageRefused as exc:
            if exc.code == imaging.IMAGE_UNREADABLE:
                return None
            raise PublishError(
                USDZ_TOO_LARGE, f"{self.source.path.name}: image {index}: {exc.message}"
            ) from None
        digest = hashlib.sha256(payload).hexdigest()
        if digest not in self.files:  # one file for images with the same bytes
            self.files[digest] = f"textures/image{index}.{suffix}"
            (self.work / "textures").mkdir(exist_ok=True)
            (self.work / self.files[digest]).write_bytes(payload)
        return self.files[digest]


def _texture_image(texture: dict[str, Any]) -> int | None:
    """The image a glTF texture shows: its `source`, else EXT_texture_webp's."""
    if "source" in texture:
        return int(texture["source"])
    webp = (texture.get("extensions") or {}).get("EXT_texture_webp") or {}
    return int(webp["source"]) if "source" in webp else None


def _quick_look_image(data: bytes) -> tuple[str, bytes]:
    """(suffix, bytes) Quick Look reads: PNG and baseline RGB/grey JPEG as they are, anything
    else (WebP, CMYK JPEG) re-encoded, PNG when it has alpha and JPEG otherwise."""
    with imaging.open_image(data) as image:
        kept = _PASSED_THROUGH.get(image.format or "")
        if kept == "png" or (kept == "jpg" and image.mode in ("RGB", "L")):
            return kept, data
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise imaging.ImageRefused(imaging.IMAGE_UNREADABLE, _reason(exc)) from None
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        converted = image.convert("RGBA" if alpha else "RGB")
    buffer = io.BytesIO()
    if alpha:
        converted.save(buffer, format="PNG")
        return "png", buffer.getvalue()
    converted.save(buffer, format="JPEG", quality=92)
    return "jpg", buffer.getvalue()


# --- materials -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Materials:
    """UsdPreviewSurface materials by glTF material index (None: glTF's default material),
    each made once, with whether the glTF material is double-sided."""

    stage: Any
    source: GltfSource
    textures: _Textures
    made: dict[int | None, tuple[Any, bool]] = field(default_factory=dict)

    def get(self, index: int | None) -> tuple[Any, bool]:
        if index not in self.made:
            materials = self.source.document.get("materials") or []
            gltf = materials[index] if index is not None and 0 <= index < len(materials) else {}
            gltf = gltf if isinstance(gltf, dict) else {}
            name = "Default" if index is None else _identifier(f"M{index}_{gltf.get('name', '')}")
            path = f"{_ROOT}/Materials/{name}"
            self.made[index] = (_Surface(self, path, gltf).build(), bool(gltf.get("doubleSided")))
        return self.made[index]


class _Surface:
    """One glTF material written as a UsdShade.Material with a UsdPreviewSurface."""

    def __init__(self, owner: _Materials, path: str, gltf: dict[str, Any]) -> None:
        from pxr import Sdf, UsdShade

        self.stage, self.textures, self.gltf = owner.stage, owner.textures, gltf
        self.material = UsdShade.Material.Define(self.stage, path)
        self.shader = UsdShade.Shader.Define(self.stage, f"{path}/Surface")
        self.shader.CreateIdAttr("UsdPreviewSurface")
        self.material.CreateSurfaceOutput().ConnectToSource(
            self.shader.CreateOutput("surface", Sdf.ValueTypeNames.Token)
        )
        self._readers: dict[str, Any] = {}  # primvar name -> its reader's output

    def build(self) -> Any:
        from pxr import Sdf

        pbr = self.gltf.get("pbrMetallicRoughness") or {}
        self.shader.CreateInput("useSpecularWorkflow", Sdf.ValueTypeNames.Int).Set(0)
        self._base_colour(pbr)
        self._metal_rough(pbr)
        self._normal()
        self._occlusion()
        self._emission()
        return self.material

    def _input(self, name: str, kind: Any) -> Any:
        return self.shader.CreateInput(name, kind)

    def _base_colour(self, pbr: dict[str, Any]) -> None:
        from pxr import Gf, Sdf

        factor = _floats(pbr.get("baseColorFactor"), [1.0, 1.0, 1.0, 1.0])
        mode = self.gltf.get("alphaMode") or "OPAQUE"
        texture = self._texture("BaseColor", pbr.get("baseColorTexture"), srgb=True, scale=factor)
        colour = self._input("diffuseColor", Sdf.ValueTypeNames.Color3f)
        if texture is not None:
            colour.ConnectToSource(texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3))
        else:
            colour.Set(Gf.Vec3f(*factor[:3]))
        if mode == "OPAQUE":
            return
        opacity = self._input("opacity", Sdf.ValueTypeNames.Float)
        if texture is not None:
            opacity.ConnectToSource(texture.CreateOutput("a", Sdf.ValueTypeNames.Float))
        else:
            opacity.Set(factor[3])
        if mode == "MASK":
            cutoff = float(self.gltf.get("alphaCutoff", 0.5))
            self._input("opacityThreshold", Sdf.ValueTypeNames.Float).Set(cutoff)

    def _metal_rough(self, pbr: dict[str, Any]) -> None:
        from pxr import Sdf

        metal = float(pbr.get("metallicFactor", 1.0))
        rough = float(pbr.get("roughnessFactor", 1.0))
        texture = self._texture(
            "MetallicRoughness", pbr.get("metallicRoughnessTexture"), srgb=False,
            scale=[1.0, rough, metal, 1.0],
        )  # fmt: skip
        metallic = self._input("metallic", Sdf.ValueTypeNames.Float)
        roughness = self._input("roughness", Sdf.ValueTypeNames.Float)
        if texture is None:
            metallic.Set(metal)
            roughness.Set(rough)
            return
        metallic.ConnectToSource(texture.CreateOutput("b", Sdf.ValueTypeNames.Float))
        roughness.ConnectToSource(texture.CreateOutput("g", Sdf.ValueTypeNames.Float))

    def _normal(self) -> None:
        from pxr import Sdf

        info = self.gltf.get("normalTexture")
        scale = float(info.get("scale", 1.0)) if isinstance(info, dict) else 1.0
        texture = self._texture(
            "Normal", info, srgb=False,
            scale=[2.0 * scale, 2.0 * scale, 2.0, 1.0], bias=[-scale, -scale, -1.0, 0.0],
        )  # fmt: skip
        if texture is not None:
            self._input("normal", Sdf.ValueTypeNames.Normal3f).ConnectToSource(
                texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
            )

    def _occlusion(self) -> None:
        from pxr import Sdf

        info = self.gltf.get("occlusionTexture")
        strength = float(info.get("strength", 1.0)) if isinstance(info, dict) else 1.0
        texture = self._texture(
            "Occlusion", info, srgb=False,
            scale=[strength] * 3 + [1.0], bias=[1.0 - strength] * 3 + [0.0],
        )  # fmt: skip
        if texture is not None:
            self._input("occlusion", Sdf.ValueTypeNames.Float).ConnectToSource(
                texture.CreateOutput("r", Sdf.ValueTypeNames.Float)
            )

    def _emission(self) -> None:
        from pxr import Gf, Sdf

        extension = (self.gltf.get("extensions") or {}).get("KHR_materials_emissive_strength")
        strength = float((extension or {}).get("emissiveStrength", 1.0))
        factor = [c * strength for c in _floats(self.gltf.get("emissiveFactor"), [0.0] * 3)]
        if max(factor[:3]) <= 0.0:
            return  # glTF: a black emissiveFactor switches the emissive texture off
        texture = self._texture(
            "Emissive", self.gltf.get("emissiveTexture"), srgb=True, scale=[*factor[:3], 1.0]
        )
        emissive = self._input("emissiveColor", Sdf.ValueTypeNames.Color3f)
        if texture is None:
            emissive.Set(Gf.Vec3f(*factor[:3]))
        else:
            emissive.ConnectToSource(texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3))

    def _texture(
        self,
        slot: str,
        info: Any,
        *,
        srgb: bool,
        scale: list[float],
        bias: list[float] | None = None,
    ) -> Any:
        """A UsdUVTexture reading the textureInfo's image through st; None without one."""
        from pxr import Gf, Sdf, UsdShade

        found = self.textures.file_for(info) if isinstance(info, dict) else None
        if found is None:
            return None
        file, sampler = found
        shader = UsdShade.Shader.Define(self.stage, self.material.GetPath().AppendChild(slot))
        shader.CreateIdAttr("UsdUVTexture")
        shader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(file)
        shader.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set(
            "sRGB" if srgb else "raw"
        )
        shader.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(
            self._coordinates(slot, info)
        )
        for axis, key in (("wrapS", "wrapS"), ("wrapT", "wrapT")):
            wrap = _WRAP.get(sampler.get(key, 10497), "repeat")
            shader.CreateInput(axis, Sdf.ValueTypeNames.Token).Set(wrap)
        shader.CreateInput("scale", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(*scale))
        if bias is not None:
            shader.CreateInput("bias", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(*bias))
        return shader

    def _coordinates(self, slot: str, info: dict[str, Any]) -> Any:
        """The st a texture reads: the primvar, through a UsdTransform2d where the textureInfo
        carries KHR_texture_transform."""
        from pxr import Gf, Sdf, UsdShade

        extension = (info.get("extensions") or {}).get("KHR_texture_transform")
        reader = self._reader(_primvar(info, extension))
        transform = usd_texture_transform(extension)
        if transform is None:
            return reader
        rotation, scale, translation = transform
        path = self.material.GetPath().AppendChild(f"{slot}Transform")
        shader = UsdShade.Shader.Define(self.stage, path)
        shader.CreateIdAttr("UsdTransform2d")
        shader.CreateInput("in", Sdf.ValueTypeNames.Float2).ConnectToSource(reader)
        shader.CreateInput("rotation", Sdf.ValueTypeNames.Float).Set(rotation)
        shader.CreateInput("scale", Sdf.ValueTypeNames.Float2).Set(Gf.Vec2f(*scale))
        shader.CreateInput("translation", Sdf.ValueTypeNames.Float2).Set(Gf.Vec2f(*translation))
        return shader.CreateOutput("result", Sdf.ValueTypeNames.Float2)

    def _reader(self, primvar: str) -> Any:
        """The output of the material's one reader of `primvar` (st or st1)."""
        from pxr import Sdf, UsdShade

        if primvar not in self._readers:
            path = self.material.GetPath().AppendChild(primvar)
            reader = UsdShade.Shader.Define(self.stage, path)
            reader.CreateIdAttr("UsdPrimvarReader_float2")
            reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set(primvar)
            self._readers[primvar] = reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
        return self._readers[primvar]


def _primvar(info: dict[str, Any], extension: Any) -> str:
    """The primvar a textureInfo reads: st for TEXCOORD_0, st1 for TEXCOORD_1 (the texture
    transform's texCoord overrides the textureInfo's)."""
    texcoord = info.get("texCoord", 0)
    if isinstance(extension, dict) and "texCoord" in extension:
        texcoord = extension["texCoord"]
    return "st1" if texcoord == 1 else "st"


def usd_texture_transform(
    extension: Any,
) -> tuple[float, tuple[float, float], tuple[float, float]] | None:
    """KHR_texture_transform as UsdTransform2d's (rotation in degrees, scale, translation);
    None for none or the identity.

    glTF looks a texture up at uv' = T + R S uv, with R = [[cos r, sin r], [-sin r, cos r]]
    (GLSL `mat3(cos, -sin, 0, sin, cos, 0, 0, 0, 1)`, column-major: the matrix that makes the
    extension's own example, offset (0, 1), rotation pi/2, scale 0.5, read the lower-left
    quadrant; some copies of its README print the transpose) and V running down. USD's st is F(uv) = (u, 1 - v)
    and UsdTransform2d gives st' = Rot(deg) S st + t with Rot counter-clockwise. st' = F(uv')
    for st = F(uv) works out to: the same scale, rotation degrees(r), and
    t = (offset_x + sin r * scale_y, 1 - offset_y - cos r * scale_y)."""
    if not isinstance(extension, dict):
        return None
    offset = _floats(extension.get("offset"), [0.0, 0.0])
    scale = _floats(extension.get("scale"), [1.0, 1.0])
    try:
        r = float(extension.get("rotation", 0.0))
    except (TypeError, ValueError):
        r = 0.0
    if offset == [0.0, 0.0] and scale == [1.0, 1.0] and r == 0.0:
        return None
    translation = (
        offset[0] + math.sin(r) * scale[1],
        1.0 - offset[1] - math.cos(r) * scale[1],
    )
    return math.degrees(r), (scale[0], scale[1]), translation


def _floats(values: Any, default: list[float]) -> list[float]:
    """A glTF factor array as floats, or `default` when it is missing or malformed."""
    try:
        floats = [float(v) for v in values]
    except (TypeError, ValueError):
        return list(default)
    return floats if len(floats) == len(default) else list(default)


def _convert(
    source: GltfSource, placed: list[_Placed], work: Path, *, limits: UsdzLimits, log: Log
) -> tuple[Path, _Counts]:
    """model.usdc and its textures written in `work`, packaged as work/model.usdz."""
    try:
        counts = _write_stage(work, source, placed, limits)
        return _package(work / "model.usdc", work / "model.usdz", log), counts
    except PublishError:
        raise
    except Exception as exc:  # USD raises Tf.ErrorException and friends
        raise PublishError(
            USDZ_FAILED, f"{source.path.name}: writing the USDZ failed ({_reason(exc)})"
        ) from None


def _install(package: Path, out: Path) -> None:
    """Move the checked package to `out`, replacing it in one step (a reader of `out` sees the
    old file or the new one, never a part)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.part")
    shutil.copyfile(package, partial)
    os.replace(partial, out)


# --- packaging -------------------------------------------------------------------------------


def _package(layer: Path, out: Path, log: Log) -> Path:
    """The ARKit package of `layer` and the files it names, at `out`. USD's packager moves
    the textures to a folder of its own (`0/...`) and then warns on stderr that it cannot find
    them on disk under that name (they resolve inside the package, as the checker confirms):
    those warnings are dropped, any other diagnostic goes to `log`."""
    from pxr import Sdf, UsdUtils

    delegate = UsdUtils.CoalescingDiagnosticDelegate()  # takes USD's diagnostics off stderr
    made = UsdUtils.CreateNewARKitUsdzPackage(Sdf.AssetPath(str(layer)), str(out))
    for diagnostic in delegate.TakeUncoalescedDiagnostics():
        text = str(diagnostic.commentary)
        if not text.startswith("Failed to resolve reference @0/"):
            log(f"usdz: usd-core: {text}")
    if not made:
        raise PublishError(USDZ_FAILED, f"{layer.name}: usd-core did not write the package")
    return out
