"""A small numpy software renderer for product models: z-buffer, perspective camera, PBR-lite.

It draws the demo products' reference "photos" (so they come from another renderer than the
one QA compares them with, as real photos would). Visual QA and the turntables use the
physically based studio renderer (`shazam_assets.platform.renderer`). This one needs no GPU, no display
and no native library beyond numpy,
so it runs the same on a laptop, in CI and in a worker pod.

What it draws: every triangle of a .glb/.gltf (loaded through trimesh, node transforms
applied) with its baseColor texture times factor, its metallic/roughness (factors times the
metallicRoughness texture when there is one) and interpolated normals, lit by a key light,
a camera fill and a sky ambient, on a flat studio background. Alpha-masked and blended
materials cut holes where their texels are clear (blending itself is not drawn). Single-sided
materials are back-face culled; double-sided ones are drawn from both sides. Normal,
occlusion and emissive maps are ignored: the pictures are for comparing shape and colour,
not for a storefront.

The camera always frames the model's bounding sphere, so a model exported in the wrong unit
renders the same picture: scale is the delivery validator's business, not the renderer's.
Load a model once with `load_scene` and pass the `Scene` to `render` for every view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import trimesh
from PIL import Image

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]
RGB8 = tuple[int, int, int]

DEFAULT_BACKGROUND: RGB8 = (235, 235, 235)  # light-grey studio sweep, sRGB
_LIGHT = np.array([-0.45, 0.8, 0.55]) / np.linalg.norm([-0.45, 0.8, 0.55])  # key light, world
_BLEND_CUTOFF = 0.3  # a BLEND texel at least this opaque counts as surface
_TO_LINEAR = (np.arange(256) / 255.0) ** 2.2  # sRGB byte -> linear light, (256,)
_FRAME_MARGIN = 1.08  # the bounding sphere fills the frame with this much air around it


@dataclass(frozen=True)
class View:
    """Where the camera stands: azimuth from +Z (front) toward +X (right), elevation up,
    vertical and horizontal field of view (square pictures)."""

    name: str
    azimuth_deg: float
    elevation_deg: float
    fov_deg: float = 35.0


@dataclass(frozen=True, eq=False)
class Rendering:
    """One rendered view: the picture and which of its pixels show the product."""

    rgb: ByteArray  # (h, w, 3) uint8, sRGB
    mask: BoolArray  # (h, w) bool, product pixels (at least half covered)
    view: View


@dataclass(frozen=True, eq=False)
class Material:
    """A metal/rough material as the rasterizer samples it (textures already times factors)."""

    name: str
    base_color: ByteArray  # (h, w, 4) uint8: sRGB colour and linear alpha
    metallic: float
    roughness: float
    metal_rough: ByteArray | None = None  # (h, w, 3) uint8: G roughness, B metallic; or None
    alpha_cutoff: float | None = None  # None: opaque; else texels below it are holes
    double_sided: bool = False


@dataclass(frozen=True, eq=False)
class Mesh:
    """The triangles of one material."""

    material: Material
    vertices: FloatArray  # (n, 3)
    normals: FloatArray  # (n, 3) unit length
    uv: FloatArray  # (n, 2), origin bottom-left
    faces: IntArray  # (m, 3), counter-clockwise seen from the front


@dataclass(frozen=True, eq=False)
class Scene:
    """A model ready to render many times: all meshes merged into flat arrays."""

    name: str
    materials: tuple[Material, ...]
    vertices: FloatArray  # (n, 3)
    normals: FloatArray  # (n, 3)
    uv: FloatArray  # (n, 2)
    faces: IntArray  # (m, 3)
    face_material: IntArray  # (m,) index into materials

    @classmethod
    def from_meshes(cls, meshes: Iterable[Mesh], *, name: str) -> Scene:
        """Merge meshes (one per material) into one scene; raises ValueError without triangles."""
        meshes = [m for m in meshes if len(m.faces)]
        if not meshes:
            raise ValueError(f"{name}: no triangles to render")
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes])
        return cls(
            name=name,
            materials=tuple(m.material for m in meshes),
            vertices=np.concatenate([m.vertices for m in meshes]).astype(np.float64),
            normals=np.concatenate([m.normals for m in meshes]).astype(np.float64),
            uv=np.concatenate([m.uv for m in meshes]).astype(np.float64),
            faces=np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=False)]),
            face_material=np.repeat(np.arange(len(meshes)), [len(m.faces) for m in meshes]),
        )

    @property
    def bounds(self) -> FloatArray:
        """(2, 3) lowest and highest corner of the axis-aligned bounding box."""
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_scene(model: Path) -> Scene:
    """Read a .glb or .gltf (external buffers and textures resolved next to it) into a Scene.

    Raises ValueError for a file without triangles; trimesh's own errors for unreadable files.
    """
    loaded = trimesh.load_scene(Path(model), process=False)
    meshes = [
        _mesh_from_trimesh(g)
        for g in loaded.dump(concatenate=False)
        if isinstance(g, trimesh.Trimesh) and len(g.faces)
    ]
    return Scene.from_meshes(meshes, name=Path(model).stem)


def _mesh_from_trimesh(geometry: trimesh.Trimesh) -> Mesh:
    """A loaded mesh as the rasterizer's input; missing UVs sample the texture's corner."""
    uv = getattr(geometry.visual, "uv", None)
    count = len(geometry.vertices)
    return Mesh(
        material=_material_from_visual(geometry.visual),
        vertices=np.asarray(geometry.vertices, dtype=np.float64),
        normals=np.asarray(geometry.vertex_normals, dtype=np.float64),
        uv=np.zeros((count, 2)) if uv is None or len(uv) != count else np.asarray(uv)[:, :2],
        faces=np.asarray(geometry.faces, dtype=np.int64),
    )


def _material_from_visual(visual: object) -> Material:
    """glTF material semantics: factors default to 1, textures multiply the factors."""
    pbr = getattr(visual, "material", None)
    if pbr is not None and not isinstance(pbr, trimesh.visual.material.PBRMaterial):
        pbr = pbr.to_pbr()  # an OBJ-style SimpleMaterial
    if pbr is None:  # vertex or face colours: their main colour, flat
        colour = np.asarray(getattr(visual, "main_color", (200, 200, 200, 255)), dtype=np.uint8)
        return Material("colour", np.broadcast_to(colour[:4], (1, 1, 4)).copy(), 0.0, 1.0)
    factor = np.asarray(
        pbr.baseColorFactor if pbr.baseColorFactor is not None else (255,) * 4, dtype=np.float64
    )
    texture = pbr.baseColorTexture
    base = (
        np.full((1, 1, 4), 255, dtype=np.uint8)
        if texture is None
        else np.asarray(texture.convert("RGBA"), dtype=np.uint8)
    )
    if np.any(factor != 255):  # a white factor (the usual case) leaves a 2k texture alone
        base = np.round(base * (factor / 255.0)).astype(np.uint8)
    mode = str(pbr.alphaMode or "OPAQUE").upper()
    cutoff = {"MASK": pbr.alphaCutoff or 0.5, "BLEND": _BLEND_CUTOFF}.get(mode)
    mr = pbr.metallicRoughnessTexture
    return Material(
        name=str(pbr.name or ""),
        base_color=base,
        metallic=1.0 if pbr.metallicFactor is None else float(pbr.metallicFactor),
        roughness=1.0 if pbr.roughnessFactor is None else float(pbr.roughnessFactor),
        metal_rough=None if mr is None else np.asarray(mr.convert("RGB"), dtype=np.uint8),
        alpha_cutoff=cutoff,
        double_sided=bool(pbr.doubleSided),
    )


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def orbit_views(
    count: int, *, elevation_deg: float = 20.0, start_deg: float = 0.0, fov_deg: float = 35.0
) -> tuple[View, ...]:
    """`count` views evenly around the vertical axis at one elevation, starting at `start_deg`
    (0 = the front, +Z). Names read like `az030_el20`."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return tuple(
        View(
            f"az{round(az) % 360:03d}_el{round(elevation_deg):02d}",
            azimuth_deg=az,
            elevation_deg=elevation_deg,
            fov_deg=fov_deg,
        )
        for az in (start_deg + 360.0 * i / count for i in range(count))
    )


@dataclass(frozen=True, eq=False)
class _Camera:
    """A pinhole camera; `focal` is 1 / tan(half field of view)."""

    eye: FloatArray  # (3,)
    basis: FloatArray  # (3, 3) rows: right, up, forward
    focal: float


def _camera_for(bounds: FloatArray, view: View) -> _Camera:
    """Frame the bounding sphere of `bounds` (2, 3) from the view's azimuth and elevation."""
    lo, hi = bounds
    target, radius = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) / 2
    az, el = np.radians(view.azimuth_deg), np.radians(view.elevation_deg)
    half_fov = np.radians(view.fov_deg) / 2
    direction = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    eye = target + direction * max(radius, 1e-12) * _FRAME_MARGIN / np.sin(half_fov)
    forward = -direction
    right = np.cross(forward, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-9:  # looking straight down or up: any right vector will do
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    return _Camera(eye, np.stack([right, np.cross(right, forward), forward]), 1 / np.tan(half_fov))


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def render(
    model: Path | Scene,
    view: View,
    *,
    size: int = 256,
    background: RGB8 = DEFAULT_BACKGROUND,
    supersample: int = 2,
) -> Rendering:
    """Render a square `size` x `size` picture of a model file or an already loaded Scene.

    The z-buffer runs at `supersample` times the resolution and is box-filtered down, which
    anti-aliases edges; a pixel belongs to the mask when at least half of it is covered.
    """
    scene = model if isinstance(model, Scene) else load_scene(model)
    res = size * supersample
    camera = _camera_for(scene.bounds, view)
    cam = (scene.vertices - camera.eye) @ camera.basis.T  # (n, 3) right, up, depth
    screen = np.stack(
        [
            (cam[:, 0] / cam[:, 2] * camera.focal + 1) * res / 2,
            (1 - cam[:, 1] / cam[:, 2] * camera.focal) * res / 2,
        ],
        -1,
    )  # (n, 2)
    frags = _rasterize(scene, screen, cam[:, 2], res)
    colour = _shade(scene, frags, view_dir=-camera.basis[2])
    canvas = np.empty((res * res, 3))
    canvas[:] = np.asarray(background, dtype=np.float64) / 255
    canvas[frags.pix] = colour
    covered = np.zeros(res * res)
    covered[frags.pix] = 1.0
    rgb = _box_down(canvas.reshape(res, res, 3), supersample)
    coverage = _box_down(covered.reshape(res, res, 1), supersample)[..., 0]
    return Rendering(
        rgb=np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8),
        mask=coverage >= 0.5,
        view=view,
    )


def to_image(rendering: Rendering) -> Image.Image:
    """The rendering's picture as a PIL RGB image (for saving as PNG or JPEG)."""
    return Image.fromarray(rendering.rgb, mode="RGB")


def _box_down(canvas: FloatArray, factor: int) -> FloatArray:
    """Average each factor x factor block of an (h, w, c) array."""
    h, w, c = canvas.shape
    small: FloatArray = canvas.reshape(h // factor, factor, w // factor, factor, c).mean(
        axis=(1, 3)
    )
    return small


@dataclass(frozen=True, eq=False)
class _Fragments:
    """The visible surface point of each covered (supersampled) pixel."""

    tri: IntArray  # (k,) triangle index
    pix: IntArray  # (k,) flat pixel index
    bary: FloatArray  # (k, 3) perspective-correct barycentrics
    back: BoolArray  # (k,) the triangle is seen from behind (double-sided materials)


def _rasterize(scene: Scene, screen: FloatArray, depth: FloatArray, res: int) -> _Fragments:
    """Visible triangle, pixel and barycentrics per covered pixel, without a triangle loop.

    Every kept triangle expands to the pixel centres of its bounding box at once; candidates
    outside the triangle, or on a clear texel of an alpha material, drop out; the nearest
    candidate per pixel wins in one `np.minimum.at` pass.
    """
    tris, tri_depth = screen[scene.faces], depth[scene.faces]  # (m, 3, 2), (m, 3)
    e1, e2 = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]  # < 0: counter-clockwise in y-up
    two_sided = np.array([m.double_sided for m in scene.materials])[scene.face_material]
    visible = (area < -1e-9) | (two_sided & (area > 1e-9))
    keep = np.flatnonzero(visible & np.all(tri_depth > 0, axis=1))
    tri, px, py = _candidates(tris[keep], res)
    tri = keep[tri]
    rel = np.stack([px + 0.5, py + 0.5], -1) - tris[tri, 0]  # (c, 2)
    b1 = (rel[:, 0] * e2[tri, 1] - rel[:, 1] * e2[tri, 0]) / area[tri]
    b2 = (e1[tri, 0] * rel[:, 1] - e1[tri, 1] * rel[:, 0]) / area[tri]
    inside = (b1 >= -1e-7) & (b2 >= -1e-7) & (b1 + b2 <= 1 + 1e-7)
    tri, px, py = tri[inside], px[inside], py[inside]
    screen_bary = np.stack([1 - b1[inside] - b2[inside], b1[inside], b2[inside]], -1)  # (c, 3)
    weights = screen_bary / tri_depth[tri]  # perspective correction
    bary = weights / weights.sum(axis=1, keepdims=True)
    solid = _alpha_test(scene, tri, bary)
    tri, bary, inv_depth = tri[solid], bary[solid], weights[solid].sum(axis=1)
    pix = (py[solid] * res + px[solid]).astype(np.int64)
    first = _nearest_per_pixel(pix, inv_depth, res)
    return _Fragments(tri[first], pix[first], bary[first], area[tri[first]] > 0)


def _candidates(tris: FloatArray, res: int) -> tuple[IntArray, IntArray, IntArray]:
    """(triangle, x, y) for every pixel centre inside each triangle's screen bounding box."""
    lo = np.clip(np.ceil(tris.min(axis=1) - 0.5), 0, res).astype(np.int64)  # (k, 2)
    hi = np.clip(np.floor(tris.max(axis=1) - 0.5), -1, res - 1).astype(np.int64)
    span = np.maximum(hi - lo + 1, 0)  # (k, 2)
    counts = span[:, 0] * span[:, 1]
    owner = np.repeat(np.arange(len(tris)), counts)  # (c,)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    width = span[owner, 0]
    return owner, lo[owner, 0] + local % width, lo[owner, 1] + local // width


def _alpha_test(scene: Scene, tri: IntArray, bary: FloatArray) -> BoolArray:
    """False for candidates on a clear texel of a masked or blended material."""
    solid = np.ones(len(tri), dtype=bool)
    material = scene.face_material[tri]
    for index, mat in enumerate(scene.materials):
        if mat.alpha_cutoff is None:
            continue
        mine = np.flatnonzero(material == index)
        uv = np.einsum("kc,kcd->kd", bary[mine], scene.uv[scene.faces[tri[mine]]])
        alpha = _sample(mat.base_color, uv)[:, 3] / 255.0
        solid[mine] = alpha >= mat.alpha_cutoff
    return solid


def _nearest_per_pixel(pix: IntArray, inv_depth: FloatArray, res: int) -> IntArray:
    """Index of the nearest candidate of every covered pixel (a z-buffer in one pass).

    Each candidate gets one int64 key, depth rank in the high bits and its own index in the
    low bits, so the per-pixel minimum names both the winner and nothing else.
    """
    if not len(pix):
        return np.zeros(0, dtype=np.int64)
    near, far = inv_depth.max(), inv_depth.min()
    index_bits = max(len(pix).bit_length(), 1)
    depth_levels = (1 << (62 - index_bits)) - 1
    rank = ((near - inv_depth) / max(near - far, 1e-30) * depth_levels).astype(np.int64)
    keys = (rank << index_bits) | np.arange(len(pix), dtype=np.int64)
    zbuffer = np.full(res * res, np.iinfo(np.int64).max)
    np.minimum.at(zbuffer, pix, keys)
    return np.flatnonzero(zbuffer[pix] == keys)


def _sample(texture: ByteArray, uv: FloatArray) -> ByteArray:
    """Nearest texel (k, c) of an (h, w, c) texture at (k, 2) UVs, repeat wrap."""
    uv = np.where((uv < 0) | (uv > 1), uv % 1.0, uv)  # repeat wrap, the glTF default sampler
    h, w = texture.shape[:2]
    col = np.clip((uv[:, 0] * w).astype(np.int64), 0, w - 1)
    row = np.clip(((1 - uv[:, 1]) * h).astype(np.int64), 0, h - 1)
    texels: ByteArray = texture[row, col]
    return texels


def _surface(scene: Scene, frags: _Fragments) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per fragment: linear albedo (k, 3), metallic (k, 1) and roughness (k, 1)."""
    corners = scene.faces[frags.tri]  # (k, 3)
    uv = np.einsum("kc,kcd->kd", frags.bary, scene.uv[corners])
    material = scene.face_material[frags.tri]
    albedo, metallic, rough = np.empty((len(uv), 3)), np.empty((len(uv), 1)), np.empty((len(uv), 1))
    for index, mat in enumerate(scene.materials):
        mine = material == index
        albedo[mine] = _TO_LINEAR[_sample(mat.base_color, uv[mine])[:, :3]]
        metallic[mine], rough[mine] = mat.metallic, mat.roughness
        if mat.metal_rough is not None:
            texel = _sample(mat.metal_rough, uv[mine]) / 255.0
            metallic[mine] *= texel[:, 2:3]
            rough[mine] *= texel[:, 1:2]
    return albedo, metallic, rough


def _shade(scene: Scene, frags: _Fragments, *, view_dir: FloatArray) -> FloatArray:
    """Lambert key light, a soft fill from the camera and a sky ambient, in linear light;
    returns sRGB-encoded colours (k, 3) in 0-1."""
    normal = np.einsum("kc,kcd->kd", frags.bary, scene.normals[scene.faces[frags.tri]])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    normal[frags.back] *= -1.0
    albedo, metallic, rough = _surface(scene, frags)
    key = np.clip(normal @ _LIGHT, 0.0, None)[:, None]
    fill = np.clip(normal @ view_dir, 0.0, None)[:, None]
    sky = 0.5 + 0.5 * normal[:, 1:2]
    light = 0.95 * key + 0.35 * fill + 0.22 * sky
    half_vector = (_LIGHT + view_dir) / np.linalg.norm(_LIGHT + view_dir)
    gloss = (1 - rough) ** 2 * np.clip(normal @ half_vector, 0.0, None)[:, None] ** (
        4 + 60 * (1 - rough)
    )
    highlight = gloss * (0.04 + 0.96 * metallic) * (1 - metallic + metallic * albedo * 2.5)
    reflected = 2 * (normal @ view_dir)[:, None] * normal - view_dir  # (k, 3) mirror direction
    studio = 0.3 + 0.6 * np.clip(0.5 + 0.5 * reflected[:, 1:2], 0.0, 1.0)  # dim floor, bright top
    diffuse = albedo * (1 - metallic) * light
    mirror = albedo * metallic * (0.4 * light + 0.8 * studio)
    srgb: FloatArray = np.clip(diffuse + mirror + highlight, 0.0, 1.0) ** (1 / 2.2)
    return srgb
