"""StudioRenderer: a glTF model in the studio room, rendered by open3d's Filament (headless).

See the package docstring for the open3d 0.20 problems this module works around.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import trimesh
from PIL import Image

from shazam_assets.studio.environment import studio_ibl_path
from shazam_assets.studio.model import Camera, ModelInfo, _info_from_scene, _load_scene

RENDERER_VERSION = "studio-1"  # bump whenever output pixels change (re-render trigger)

ByteArray = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]
Background = Literal["white", "transparent"]

USE_NORMAL_MAPS = False  # open3d derives tangents from normals only (see package docstring)
# open3d fixes the camera at f/16, 1/125 s, ISO 100: exposure = 1 / (1.2 * 2^EV100).
_EXPOSURE = 1.0 / (1.2 * (16.0**2 * 125.0))
# The room's brightness relative to its baked radiance, calibrated against the Khronos
# reference renders (bench/bench_render_quality.py: 2.5 gave the best mean SSIM and PSNR).
ENVIRONMENT_GAIN = 2.5
_IBL_INTENSITY = ENVIRONMENT_GAIN / _EXPOSURE  # environment radiance 1 -> pixel value 1
_MSAA_SAMPLES = 4

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


def _claim(owner: object, width: int, height: int) -> tuple[Any, bool]:
    """The shared renderer at this size for `owner`; True when its scene must be reloaded."""
    import open3d.visualization.rendering as rendering  # heavy import, only when rendering

    with _slot_lock:
        if _Slot.renderer is None or _Slot.size != (width, height):
            _Slot.renderer = None  # delete the old one before creating the next
            _Slot.renderer = rendering.OffscreenRenderer(width, height)
            _Slot.size, _Slot.owner = (width, height), None
            _setup_view(_Slot.renderer)
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
    """One glTF primitive ready for open3d: mesh and material record."""

    name: str
    mesh: Any  # open3d.geometry.TriangleMesh
    material: Any  # open3d.visualization.rendering.MaterialRecord


def _srgb_encode(linear: FloatArray) -> FloatArray:
    c = np.clip(linear, 0.0, 1.0)
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


def _material_record(material: Any) -> Any:
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
    if USE_NORMAL_MAPS and material.normalTexture is not None:
        normal = np.asarray(material.normalTexture.convert("RGB"), dtype=np.uint8)
        record.normal_img = _o3d_image(normal)
    record.has_alpha = shader != "defaultLit"
    return record


def _open3d_mesh(mesh: trimesh.Trimesh, transform: FloatArray) -> Any:
    """World-space open3d mesh with per-corner UVs and the file's vertex normals."""
    import open3d as o3d

    vertices = trimesh.transform_points(mesh.vertices, transform)  # (n, 3)
    normal_matrix = np.linalg.inv(transform[:3, :3]).T
    normals = np.asarray(mesh.vertex_normals) @ normal_matrix.T  # (n, 3)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    faces = np.asarray(mesh.faces, dtype=np.int32)  # (m, 3)
    if np.linalg.det(transform[:3, :3]) < 0:
        faces = faces[:, ::-1]  # a mirroring node flips the winding
    out = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(vertices), o3d.utility.Vector3iVector(faces)
    )
    out.vertex_normals = o3d.utility.Vector3dVector(normals)
    # open3d multiplies base colour by the vertex colour and defaults it to 0.5 grey.
    out.vertex_colors = o3d.utility.Vector3dVector(np.ones_like(vertices))
    uv = getattr(mesh.visual, "uv", None)
    if uv is not None and len(uv) == len(vertices):
        corners = np.asarray(uv, dtype=float)[faces.reshape(-1)]  # (3m, 2)
        pass  # trimesh already flips V to the bottom-left origin open3d expects
        out.triangle_uvs = o3d.utility.Vector2dVector(corners)
    return out


def _parts(scene: trimesh.Scene) -> list[_Part]:
    parts = []
    for index, node in enumerate(scene.graph.nodes_geometry):
        transform, geometry_name = scene.graph[node]
        mesh = scene.geometry[geometry_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        material = getattr(mesh.visual, "material", None)
        if material is None or not isinstance(material, trimesh.visual.material.PBRMaterial):
            material = trimesh.visual.material.PBRMaterial()
        parts.append(
            _Part(f"part{index}", _open3d_mesh(mesh, transform),
                  _material_record(material))
        )  # fmt: skip
    return parts


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
        scene = _load_scene(Path(model))
        self._info = _info_from_scene(scene, Path(model))
        self._parts = _parts(scene)
        _disown(self)  # the next render uploads the new parts
        return self._info

    def render(self, camera: Camera) -> ByteArray:
        """One view as (h, w, 4) uint8 RGBA, sRGB. On white, alpha is 255 everywhere; on
        transparent, alpha is the coverage (0 outside the product, 255 inside)."""
        if self._info is None:
            raise RuntimeError("load() a model before render()")
        self._place_camera(camera)
        if self.background == "white":
            rgb = np.round(_srgb_encode(self._shot(1.0)) * 255.0).astype(np.uint8)
            return np.dstack([rgb, np.full(rgb.shape[:2], 255, dtype=np.uint8)])
        return _unmix(self._shot(0.0), self._shot(1.0))

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
