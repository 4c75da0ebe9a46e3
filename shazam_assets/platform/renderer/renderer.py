"""StudioRenderer: a glTF model in the studio room, rendered by open3d's Filament (headless).

See the package docstring for the open3d 0.20 problems this module works around.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import trimesh
from PIL import Image

from shazam_assets.platform import renderer_version
from shazam_assets.platform.renderer.environment import studio_ibl_path
from shazam_assets.platform.renderer.gltf_extras import PrimitiveExtras, primitive_extras
from shazam_assets.platform.renderer.model import Camera, ModelInfo, _info_from_scene
from shazam_assets.platform.renderer.normal_maps import (
    bake_normal_map,
    frame_rotation,
    uv_tangents,
)
from shazam_assets.platform.renderer.source import load_scene, read_source

RENDERER_VERSION = (
    renderer_version.RENDERER_VERSION
)  # recorded in turntable manifests; defined once there

ByteArray = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]
Background = Literal["white", "transparent"]

USE_NORMAL_MAPS = True  # baked into open3d's tangent frame (see normal_maps.py)
# open3d fixes the camera at f/16, 1/125 s, ISO 100: exposure = 1 / (1.2 * 2^EV100).
_EXPOSURE = 1.0 / (1.2 * (16.0**2 * 125.0))
# The room's brightness relative to its baked radiance, calibrated against the Khronos
# reference renders (bench/bench_render_quality.py: 2.5 gave the best mean SSIM and PSNR).
ENVIRONMENT_GAIN = 2.5
_IBL_INTENSITY = ENVIRONMENT_GAIN / _EXPOSURE  # environment radiance 1 -> pixel value 1
_MSAA_SAMPLES = 4
_GLOW = "-glow"  # name suffix of an emissive part's unlit twin

_slot_lock = threading.Lock()


class _Slot:
    """The process's single open3d OffscreenRenderer and which StudioRenderer's model it
    holds. Two live OffscreenRenderers make Filament abort the process at exit ("destroying
    MaterialInstance defaultUnlit which is still in use"), so there is only ever one: it is
    replaced only when a different picture size is asked for, and StudioRenderers that are
    open at the same time take turns, re-uploading their model when they get it back."""

    renderer: Any = None
    size: tuple[int, int] = (0, 0)
    owner: object | None = None


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Discard what is written to file descriptor 1 meanwhile. open3d and Filament print
    their engine banners ("FEngine (64 bits) created", "[Open3D WARNING] GLFWWindowSystem
    ...") from C++ to stdout when a renderer is created, which `shazam render` would show
    the user; their errors go to stderr and stay visible."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        with contextlib.redirect_stdout(io.StringIO()):  # open3d's log goes through Python
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _claim(owner: object, width: int, height: int) -> tuple[Any, bool]:
    """The shared renderer at this size for `owner`; True when its scene must be reloaded."""
    import open3d.visualization.rendering as rendering  # heavy import, only when rendering

    with _slot_lock:
        if _Slot.renderer is None or _Slot.size != (width, height):
            _Slot.renderer = None  # delete the old one before creating the next
            with _quiet_stdout():
                _Slot.renderer = rendering.OffscreenRenderer(width, height)
                _setup_view(_Slot.renderer)
            _Slot.size, _Slot.owner = (width, height), None
        stale = _Slot.owner is not owner
        _Slot.owner = owner
        return _Slot.renderer, stale


def _disown(owner: object) -> None:
    with _slot_lock:
        if _Slot.owner is owner and _Slot.renderer is not None:
            _Slot.renderer.scene.clear_geometry()
            _Slot.owner = None


def _setup_view(renderer: Any) -> None:
    """Studio lighting only (no sun), linear tone mapping, MSAA, no SSAO or shadows."""
    import open3d.visualization.rendering as rendering

    scene = renderer.scene
    scene.scene.enable_sun_light(False)
    scene.scene.set_indirect_light(studio_ibl_path())
    scene.scene.enable_indirect_light(True)
    scene.scene.set_indirect_light_intensity(_IBL_INTENSITY)
    scene.show_skybox(False)
    view = scene.view
    # open3d 0.20 ignores View.set_color_grading (its fixed tone curve turns white into
    # (230, 226, 220)); without post-processing Filament writes linear radiance, clamped,
    # and we apply the sRGB transfer ourselves: exposure 1, linear tone mapping.
    view.set_post_processing(False)
    view.set_ambient_occlusion(False)
    view.set_shadowing(False, rendering.View.ShadowType.PCF)
    view.set_antialiasing(False)
    view.set_sample_count(_MSAA_SAMPLES)


@dataclass(frozen=True, eq=False)
class _Part:
    """One glTF primitive ready for open3d: mesh, material record and, for emissive
    materials, the unlit record that shows its emission (see `StudioRenderer._glow`)."""

    name: str
    mesh: Any  # open3d.geometry.TriangleMesh
    material: Any  # open3d.visualization.rendering.MaterialRecord
    emission: Any = None  # MaterialRecord (defaultUnlit) or None


@dataclass(frozen=True, eq=False)
class _Surface:
    """A glTF primitive in world space, as open3d will get it."""

    vertices: FloatArray  # (n, 3)
    normals: FloatArray  # (n, 3) unit
    faces: npt.NDArray[np.int32]  # (m, 3), winding flipped under a mirroring transform
    uv: FloatArray | None  # (n, 2), V up (trimesh flips glTF's V)
    tangents: FloatArray | None  # (n, 4) world TANGENT from the file, w = handedness


def _srgb_encode(linear: FloatArray, *, clip: bool = True) -> FloatArray:
    """sRGB transfer; clip=False extends it above 1 (open3d decodes such colours back)."""
    c = np.clip(linear, 0.0, 1.0 if clip else None)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def _srgb_decode(encoded: FloatArray) -> FloatArray:
    c = np.clip(encoded, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, np.power((c + 0.055) / 1.055, 2.4))


def _rgba(image: Image.Image | None) -> ByteArray | None:
    return None if image is None else np.asarray(image.convert("RGBA"), dtype=np.uint8)


def _packed_orm(material: Any) -> ByteArray | None:
    """open3d's ao_rough_metal texture (R occlusion, G roughness, B metal) from glTF's
    separate occlusion (R) and metallicRoughness (G roughness, B metal) textures."""
    mr, occ = material.metallicRoughnessTexture, material.occlusionTexture
    if mr is None and occ is None:
        return None
    size = (mr or occ).size
    packed = np.full((size[1], size[0], 3), 255, dtype=np.uint8)  # (h, w, 3)
    if mr is not None:
        packed[..., 1:] = np.asarray(mr.convert("RGB"))[..., 1:]
    if occ is not None:
        occ_img = occ.convert("RGB").resize(size, Image.Resampling.BILINEAR)
        packed[..., 0] = np.asarray(occ_img)[..., 0]
    return packed


def _albedo(material: Any) -> tuple[ByteArray | None, str]:
    """Base colour texture with alpha made to follow the glTF alpha mode, and the shader.
    OPAQUE ignores alpha; MASK thresholds it at alphaCutoff (texture alpha times factor);
    BLEND keeps it. Both use open3d's transparency shader (see package docstring)."""
    mode = material.alphaMode or "OPAQUE"
    texture = _rgba(material.baseColorTexture)
    factor_alpha = float((material.baseColorFactor if material.baseColorFactor is not None
                          else [255, 255, 255, 255])[3]) / 255.0  # fmt: skip
    if mode == "OPAQUE":
        if texture is not None:
            texture = texture.copy()
            texture[..., 3] = 255
        return texture, "defaultLit"
    if mode == "MASK":
        cutoff = 0.5 if material.alphaCutoff is None else float(material.alphaCutoff)
        if texture is None:
            texture = np.full((4, 4, 4), 255, dtype=np.uint8)
        texture = texture.copy()
        alpha = texture[..., 3].astype(float) / 255.0 * factor_alpha
        texture[..., 3] = np.where(alpha >= cutoff, 255, 0).astype(np.uint8)
        return texture, "defaultLitTransparency"
    return texture, "defaultLitTransparency"


def _o3d_image(pixels: ByteArray) -> Any:
    """An open3d image sharing nothing with `pixels`.  (h, w, c) uint8"""
    import open3d as o3d

    image_type: Any = o3d.geometry.Image
    return image_type(np.ascontiguousarray(pixels))


def _material_record(material: Any, normal: ByteArray | None) -> Any:
    """open3d's record of a glTF material; `normal` is the normal map already baked into
    open3d's tangent frame (`_baked_normal_map`), or None."""
    import open3d.visualization.rendering as rendering

    record = rendering.MaterialRecord()
    albedo, shader = _albedo(material)
    record.shader = shader
    factor = (
        np.asarray(
            material.baseColorFactor if material.baseColorFactor is not None else [255] * 4,
            dtype=float,
        )
        / 255.0
    )  # trimesh keeps the factor as uint8 RGBA
    alpha = 1.0 if (material.alphaMode or "OPAQUE") != "BLEND" else factor[3]
    record.base_color = [*_srgb_encode(factor[:3]).tolist(), alpha]  # open3d decodes sRGB
    record.base_metallic = 1.0 if material.metallicFactor is None else material.metallicFactor
    record.base_roughness = 1.0 if material.roughnessFactor is None else material.roughnessFactor
    record.base_reflectance = 0.5  # F0 = 0.04, glTF's dielectric reflectance
    if albedo is not None:
        record.albedo_img = _o3d_image(albedo)
    orm = _packed_orm(material)
    if orm is not None:
        record.ao_rough_metal_img = _o3d_image(orm)
    if normal is not None:
        record.normal_img = _o3d_image(normal)  # sampled linearly (measured)
    record.has_alpha = shader != "defaultLit"
    return record


def _surface(mesh: trimesh.Trimesh, transform: FloatArray, tangents: FloatArray | None) -> _Surface:
    """The primitive moved to world space by its node's transform (normals by the inverse
    transpose; tangents by the matrix, their handedness flipped by a mirroring one)."""
    linear = transform[:3, :3]
    vertices = trimesh.transform_points(mesh.vertices, transform)  # (n, 3)
    normals = np.asarray(mesh.vertex_normals) @ np.linalg.inv(linear)  # (n, 3): (M^-T n)^T
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    faces = np.asarray(mesh.faces, dtype=np.int32)  # (m, 3)
    mirrored = np.linalg.det(linear) < 0
    if mirrored:
        faces = faces[:, ::-1]  # a mirroring node flips the winding
    if tangents is not None:
        sign = -tangents[:, 3:4] if mirrored else tangents[:, 3:4]
        tangents = np.hstack([tangents[:, :3] @ linear.T, np.where(sign < 0, -1.0, 1.0)])
    uv = getattr(mesh.visual, "uv", None)  # trimesh flips V to open3d's bottom-left origin
    usable = uv is not None and len(uv) == len(vertices)
    return _Surface(vertices, normals, faces, np.asarray(uv, float) if usable else None, tangents)


def _open3d_mesh(surface: _Surface) -> Any:
    """World-space open3d mesh with per-corner UVs and the file's vertex normals."""
    import open3d as o3d

    out = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(surface.vertices), o3d.utility.Vector3iVector(surface.faces)
    )
    out.vertex_normals = o3d.utility.Vector3dVector(surface.normals)
    # open3d multiplies base colour by the vertex colour and defaults it to 0.5 grey.
    out.vertex_colors = o3d.utility.Vector3dVector(np.ones_like(surface.vertices))
    if surface.uv is not None:
        corners = surface.uv[surface.faces.reshape(-1)]  # (3m, 2)
        out.triangle_uvs = o3d.utility.Vector2dVector(corners)
    return out


def _baked_normal_map(material: Any, surface: _Surface, scale: float) -> ByteArray | None:
    """The material's normal map re-encoded for open3d's tangent frames on this surface
    (normal_maps.py), or None without a normal map or UVs."""
    if not USE_NORMAL_MAPS or material.normalTexture is None or surface.uv is None:
        return None
    tangents = surface.tangents
    if tangents is None:
        tangents = uv_tangents(surface.vertices, surface.normals, surface.uv, surface.faces)
    texture = np.asarray(material.normalTexture.convert("RGB"), dtype=np.uint8)  # (h, w, 3)
    return bake_normal_map(
        texture, uv=surface.uv, faces=surface.faces,
        rotation=frame_rotation(surface.normals, tangents), scale=scale,
    )  # fmt: skip


def _emission_record(material: Any, strength: float) -> Any:
    """An unlit record showing the material's emission in linear light (emissiveFactor x
    strength x the sRGB emissiveTexture), or None when it emits nothing. Measured in open3d
    0.20: defaultUnlit writes baseColor x texture linearly, unscaled by the camera exposure,
    decodes the sRGB texture and takes base colours above 1 (sRGB-encoded without clip)."""
    import open3d.visualization.rendering as rendering

    factor = material.emissiveFactor
    if factor is None or float(np.max(factor)) * strength <= 0.0:
        return None  # glTF: emissiveFactor defaults to black, which switches the texture off
    record = rendering.MaterialRecord()
    record.shader = "defaultUnlit"
    colour = _srgb_encode(np.asarray(factor, dtype=float) * strength, clip=False)
    record.base_color = [*colour.tolist(), 1.0]
    if material.emissiveTexture is not None:
        record.albedo_img = _o3d_image(np.asarray(material.emissiveTexture.convert("RGB")))
    return record


def _parts(scene: trimesh.Scene, extras: dict[str, PrimitiveExtras]) -> list[_Part]:
    """One open3d part per batch of primitives that can share a geometry (`_batch_key`):
    a model whose one mesh is placed by 3,000 nodes becomes one part, not 3,000. (Filament
    slows to a crawl past about a thousand renderables: its handle arena overflows, and
    every frame walks them all; a 3,000-node model took minutes to render.)"""
    batches: dict[tuple[Any, ...], list[_Surface]] = {}
    looks: dict[tuple[Any, ...], tuple[Any, PrimitiveExtras]] = {}
    for node in scene.graph.nodes_geometry:
        transform, geometry_name = scene.graph[node]
        mesh = scene.geometry[geometry_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        material = getattr(mesh.visual, "material", None)
        if material is None or not isinstance(material, trimesh.visual.material.PBRMaterial):
            material = trimesh.visual.material.PBRMaterial()  # type: ignore[no-untyped-call]  # trimesh leaves __init__ unannotated
        extra = extras.get(str(geometry_name), PrimitiveExtras())
        if extra.vertex_count != len(mesh.vertices):
            extra = PrimitiveExtras()  # not the primitive we took it for: use the defaults
        surface = _surface(mesh, transform, extra.tangents)
        key = _batch_key(material, str(geometry_name), transform, surface, extra)
        batches.setdefault(key, []).append(surface)
        looks.setdefault(key, (material, extra))
    parts = []
    for index, (key, surfaces) in enumerate(batches.items()):
        material, extra = looks[key]
        # batched surfaces share their tangent frames (same mesh, same rotation): bake once
        normal = _baked_normal_map(material, surfaces[0], extra.normal_scale)
        parts.append(
            _Part(f"part{index}", _open3d_mesh(_merged(surfaces)), _material_record(material, normal),
                  _emission_record(material, extra.emissive_strength))
        )  # fmt: skip
    return parts


def _batch_key(
    material: Any, geometry: str, transform: FloatArray, surface: _Surface, extra: PrimitiveExtras
) -> tuple[Any, ...]:
    """Primitives with equal keys are drawn as one geometry. They must share the material
    (and its per-primitive extras); with a normal map also the mesh and the rotation, since
    the map is baked in the mesh's UV space for its tangent frames. Blended primitives keep
    their own geometry so Filament can sort them back to front."""
    look = (id(material), extra.normal_scale, extra.emissive_strength, surface.uv is None)
    if (material.alphaMode or "OPAQUE") == "BLEND":
        return (*look, "own", id(surface))
    if USE_NORMAL_MAPS and material.normalTexture is not None and surface.uv is not None:
        return (*look, geometry, np.round(transform[:3, :3], 9).tobytes())
    return look


def _merged(surfaces: list[_Surface]) -> _Surface:
    """One surface holding all of `surfaces` (faces re-indexed)."""
    if len(surfaces) == 1:
        return surfaces[0]
    offsets = np.cumsum([0] + [len(s.vertices) for s in surfaces[:-1]], dtype=np.int32)
    tangents = [s.tangents for s in surfaces]
    uvs = [s.uv for s in surfaces]
    return _Surface(
        vertices=np.concatenate([s.vertices for s in surfaces]),
        normals=np.concatenate([s.normals for s in surfaces]),
        faces=np.concatenate([s.faces + o for s, o in zip(surfaces, offsets, strict=True)]),
        uv=None if any(u is None for u in uvs) else np.concatenate(uvs),  # type: ignore[arg-type]
        tangents=None if any(t is None for t in tangents) else np.concatenate(tangents),  # type: ignore[arg-type]
    )


class StudioRenderer:
    """Renders product pictures of one model at a time from any `Camera`.

    Construct it with the picture size and background, `load` a model, then `render` as
    many views as needed; use it as a context manager (or call `close`). Constructing many
    in one process is fine: they share the process's one open3d renderer (see `_Slot`).
    """

    def __init__(self, *, width: int, height: int, background: Background = "white") -> None:
        if background not in ("white", "transparent"):
            raise ValueError(f"background must be 'white' or 'transparent', not {background!r}")
        self.width, self.height, self.background = width, height, background
        self._parts: list[_Part] = []
        self._info: ModelInfo | None = None
        self._closed = False

    def load(self, model: Path) -> ModelInfo:
        """Replace the current model with `model` (.glb or .gltf); returns its info."""
        if self._closed:
            raise RuntimeError("StudioRenderer is closed")
        source = read_source(Path(model))
        scene = load_scene(source)  # RenderError when the renderer cannot draw the model
        self._info = _info_from_scene(scene, source)
        self._parts = _parts(scene, primitive_extras(source))
        _disown(self)  # the next render uploads the new parts
        return self._info

    def render(self, camera: Camera) -> ByteArray:
        """One view as (h, w, 4) uint8 RGBA, sRGB. On white, alpha is 255 everywhere; on
        transparent, alpha is the coverage (0 outside the product, 255 inside)."""
        if self._info is None:
            raise RuntimeError("load() a model before render()")
        self._place_camera(camera)
        glow = self._glow()  # (h, w, 3) linear emission, or 0.0 without emissive parts
        if self.background == "white":
            rgb = np.round(_srgb_encode(self._shot(1.0) + glow) * 255.0).astype(np.uint8)
            return np.dstack([rgb, np.full(rgb.shape[:2], 255, dtype=np.uint8)])
        return _unmix(self._shot(0.0) + glow, self._shot(1.0) + glow)

    def _glow(self) -> FloatArray | float:
        """The emission alone, in linear light over black: the same scene and camera with
        every emissive part shown by its unlit emission twin (`_GLOW` geometry, hidden
        otherwise) and the room light off, so the other parts, keeping their materials,
        render black yet still hide what is behind them, cut-outs and blending included.
        Added to the lit shot before the sRGB transfer. Models without emission skip this
        pass. (Swapping materials with modify_geometry_material instead leaves open3d 0.20's
        lit material darker after it is put back: measured.)  -> (h, w, 3)"""
        glowing = [part for part in self._parts if part.emission is not None]
        if not glowing:
            return 0.0
        scene = self._live().scene
        self._show_glow(scene, glowing, True)
        scene.scene.set_indirect_light_intensity(0.0)
        try:
            return self._shot(0.0)
        finally:
            scene.scene.set_indirect_light_intensity(_IBL_INTENSITY)
            self._show_glow(scene, glowing, False)

    @staticmethod
    def _show_glow(scene: Any, parts: list[_Part], glow: bool) -> None:
        for part in parts:
            scene.show_geometry(part.name, not glow)
            scene.show_geometry(part.name + _GLOW, glow)

    def _shot(self, background: float) -> FloatArray:
        """Linear radiance over a uniform background.  -> (h, w, 3) in [0, 1]"""
        renderer = self._live()
        renderer.scene.set_background([background, background, background, 1.0])
        image = np.asarray(renderer.render_to_image())  # (h, w, 3) uint8, linear
        return image[..., :3].astype(np.float64) / 255.0

    def _place_camera(self, camera: Camera) -> None:
        import open3d.visualization.rendering as rendering

        assert self._info is not None
        lo, hi = np.array(self._info.bounds_min), np.array(self._info.bounds_max)
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
        distance = float(np.linalg.norm(np.array(camera.eye) - (lo + hi) / 2))
        near = max(distance - radius * 1.5, radius * 1e-3)
        far = distance + radius * 1.5
        cam = self._live().scene.camera
        cam.set_projection(
            camera.yfov_deg, self.width / self.height, near, far,
            rendering.Camera.FovType.Vertical,
        )  # fmt: skip
        cam.look_at(list(camera.target), list(camera.eye), list(camera.up))

    def _live(self) -> Any:
        """The shared open3d renderer, holding this model (uploaded again if another
        StudioRenderer used it in between)."""
        if self._closed:
            raise RuntimeError("StudioRenderer is closed")
        renderer, stale = _claim(self, self.width, self.height)
        if stale:
            renderer.scene.clear_geometry()
            for part in self._parts:
                renderer.scene.add_geometry(part.name, part.mesh, part.material)
                if part.emission is not None:
                    renderer.scene.add_geometry(part.name + _GLOW, part.mesh, part.emission)
                    renderer.scene.show_geometry(part.name + _GLOW, False)
        return renderer

    def close(self) -> None:
        """Drop the model from the shared renderer (idempotent)."""
        if not self._closed:
            _disown(self)
            self._closed, self._parts, self._info = True, [], None

    def __enter__(self) -> StudioRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _unmix(black: FloatArray, white: FloatArray) -> ByteArray:
    """RGBA from the same view in linear light over black and over white: the black shot is
    alpha * colour and the white one adds (1 - alpha).  (h, w, 3) x2 -> (h, w, 4)"""
    alpha = np.clip(1.0 - (white - black).max(axis=-1), 0.0, 1.0)  # (h, w)
    colour = black / np.maximum(alpha, 1e-6)[..., None]
    rgb = np.round(_srgb_encode(colour) * 255.0)
    rgba = np.dstack([rgb, np.round(alpha * 255.0)]).astype(np.uint8)
    rgba[rgba[..., 3] == 0, :3] = 0
    return rgba
