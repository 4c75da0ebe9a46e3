"""Procedurally generated demo products: textured GLB models, reference photos and scan sources.

The pipeline's demo must run on a fresh laptop without `../shared/data`, so it makes its own
products here. Each product is a few parametric surfaces built with numpy (lathes, rounded
boxes, a torus segment), textured with a procedural pattern drawn from the seed, and written as:

- a GLB that follows the Khronos 3D Commerce guidelines: metres, +Y up, front facing +Z,
  resting on the ground plane and centred on X/Z, one or two metal/rough PBR materials with a
  512x512 baseColor PNG, normals and UVs, no degenerate triangles, a few thousand triangles;
- reference "photos" of that exact model, drawn by the shared renderer (`shazam_assets.qa.raster`),
  so the QA stage has product images to compare its own renders against;
- optionally a scan source (OBJ + MTL + PNG atlas) of the same shape with photogrammetry-like
  vertex noise, the raw material an artist would start from.

`scale` multiplies the GLB's geometry only: `scale=100` plays an artist who exported in
centimetres, the mistake the delivery validator must catch. Photos and scans stay real-world.
The same (slug, seed, scale) gives the same bytes on the same library versions.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh
from PIL import Image, ImageDraw

from shazam_assets.qa.raster import Material, Mesh, Scene, View, render, to_image

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
RGB = tuple[float, float, float]
UVRect = tuple[float, float, float, float]  # (u0, v0, width, height) inside the 0-1 UV square

TEXTURE_SIZE = 512  # power of two, as the commerce guidelines ask
PHOTO_SIZE = 512
_WELD_STEP = 1e-8  # metres: positions closer than this share a normal (seams, poles)
_FULL: UVRect = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class DemoProduct:
    """Everything the demo needs about one generated product, as files on disk."""

    slug: str
    title: str
    dimensions_m: tuple[float, float, float]  # real-world (width X, height Y, depth Z)
    model: Path  # textured .glb, geometry multiplied by `scale`
    photos: tuple[Path, ...]  # reference product photos, real-world model
    scan_obj: Path | None  # scan source .obj, or None when built without a scan
    scan_files: tuple[Path, ...]  # the obj, mtl and texture of the scan (empty without one)


# --------------------------------------------------------------------------------------------
# Geometry: parametric surfaces as parts, grouped into one mesh per material
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Part:
    """One smooth-shaded surface; its border is a hard crease against the next part."""

    material: str
    vertices: FloatArray  # (n, 3)
    uv: FloatArray  # (n, 2), origin bottom-left
    faces: IntArray  # (m, 3), counter-clockwise seen from outside


@dataclass(frozen=True, eq=False)
class _Material:
    """A metal/rough PBR material with its baseColor texture (sRGB, RGB mode)."""

    name: str
    texture: Image.Image
    metallic: float
    roughness: float


@dataclass(frozen=True, eq=False)
class _Mesh:
    """The triangles of one material, ready to export or to rasterize."""

    material: _Material
    vertices: FloatArray  # (n, 3) metres
    normals: FloatArray  # (n, 3) unit length
    uv: FloatArray  # (n, 2)
    faces: IntArray  # (m, 3)


@dataclass(frozen=True, eq=False)
class _Design:
    """A product before it is written: a title and its meshes, already on the ground plane."""

    title: str
    meshes: tuple[_Mesh, ...]


def _grid_faces(rows: int, cols: int) -> IntArray:
    """Two triangles per cell of a (rows + 1, cols + 1) vertex grid, front side along du x dv."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    a = (r * (cols + 1) + c).ravel()
    b, e = a + 1, a + cols + 1  # next along u, next along v
    d = e + 1
    return np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, e], 1)]).astype(np.int64)


def _grid_part(material: str, points: FloatArray, st: FloatArray, uv_rect: UVRect) -> _Part:
    """A part from a grid of points (rows, cols, 3) and their 0-1 coordinates (rows, cols, 2)."""
    u0, v0, w, h = uv_rect
    uv = np.stack([u0 + st[..., 0] * w, v0 + st[..., 1] * h], -1)
    rows, cols = points.shape[0] - 1, points.shape[1] - 1
    return _Part(material, points.reshape(-1, 3), uv.reshape(-1, 2), _grid_faces(rows, cols))


def _revolve(
    material: str,
    profile: Sequence[tuple[float, float]],
    *,
    uv_rect: UVRect,
    segments: int = 64,
    center: tuple[float, float] = (0.0, 0.0),
) -> _Part:
    """Surface of revolution around a vertical axis at `center` (x, z).

    `profile` rows are (radius, height); walking them counter-clockwise (outward, then up,
    then inward) makes the surface face outward. U runs around the axis with its seam at the
    back (-Z), so u = 0.5 faces the front; v follows the profile's arc length.
    """
    prof = np.asarray(profile, dtype=np.float64)  # (k, 2)
    phi = np.linspace(-np.pi, np.pi, segments + 1)  # (segments + 1,)
    rho, y = prof[:, :1], prof[:, 1:]  # (k, 1) each
    points = np.stack(
        [
            center[0] + rho * np.sin(phi),
            np.broadcast_to(y, (len(prof), len(phi))),
            center[1] + rho * np.cos(phi),
        ],
        -1,
    )  # (k, segments + 1, 3)
    points[:, -1] = points[:, 0]  # close the seam exactly
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(prof, axis=0), axis=1))])
    s, t = np.meshgrid(np.linspace(0.0, 1.0, len(phi)), arc / arc[-1])
    return _grid_part(material, points, np.stack([s, t], -1), uv_rect)


def _sphere_profile(
    radius: float, center_y: float, *, rings: int = 32
) -> list[tuple[float, float]]:
    """Half circle from the bottom pole to the top pole, for `_revolve`."""
    theta = np.linspace(0.0, np.pi, rings + 1)
    rho = radius * np.sin(theta)
    rho[[0, -1]] = 0.0  # exact poles, so they weld into one point
    return list(zip(rho, center_y - radius * np.cos(theta), strict=True))


def _torus_arc(
    material: str,
    *,
    center: tuple[float, float, float],
    major: float,
    minor: float,
    degrees: tuple[float, float],
    uv_rect: UVRect,
    segments: tuple[int, int] = (28, 20),
) -> _Part:
    """A torus segment standing in the XY plane, like a mug handle; u runs along the arc."""
    alpha = np.radians(np.linspace(*degrees, segments[0] + 1))[None, :]  # (1, cols)
    beta = np.linspace(-np.pi, np.pi, segments[1] + 1)[:, None]  # (rows, 1)
    radial = major + minor * np.cos(beta)  # (rows, 1)
    points = np.stack(
        [
            center[0] + radial * np.cos(alpha),
            center[1] + radial * np.sin(alpha),
            center[2] + minor * np.sin(beta) * np.ones_like(alpha),
        ],
        -1,
    )  # (rows, cols, 3)
    points[-1] = points[0]  # close the tube's seam exactly
    s, t = np.meshgrid(np.linspace(0, 1, points.shape[1]), np.linspace(0, 1, points.shape[0]))
    return _grid_part(material, points, np.stack([s, t], -1), uv_rect)


# (u axis, v axis, outward normal) of each box side, with u x v == normal, in atlas order:
# bottom row front +Z, right +X, back -Z; top row left -X, top +Y, bottom -Y.
_BOX_SIDES = (
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
    ((-1, 0, 0), (0, 1, 0), (0, 0, -1)),
    ((0, 0, 1), (0, 1, 0), (-1, 0, 0)),
    ((1, 0, 0), (0, 0, -1), (0, 1, 0)),
    ((1, 0, 0), (0, 0, 1), (0, -1, 0)),
)


def _box_cell(uv_rect: UVRect, side: int, pad: float = 0.01) -> UVRect:
    """The sub-rectangle of `uv_rect` that holds one box side in the 3 x 2 atlas."""
    u0, v0, w, h = uv_rect
    col, row = side % 3, side // 3
    return (
        u0 + (col / 3 + pad) * w,
        v0 + (row / 2 + pad) * h,
        w * (1 / 3 - 2 * pad),
        h * (1 / 2 - 2 * pad),
    )


def _rounded_ticks(half: float, radius: float, flat: int, rim: int = 4) -> FloatArray:
    """Coordinates across [-half, half]: even cells on the flat, equal-angle cells on the rims."""
    inner = half - radius
    edge = inner + radius * np.tan(np.linspace(0.0, np.pi / 4, rim + 1)[1:])  # (rim,)
    edge[-1] = half  # tan(pi / 4) is not exactly 1 in floating point
    return np.concatenate([-edge[::-1], np.linspace(-inner, inner, flat + 1), edge])


def _rounded_box(
    material: str,
    *,
    center: tuple[float, float, float],
    half: tuple[float, float, float],
    radius: float,
    flat: tuple[int, int, int],
    uv_rect: UVRect = _FULL,
) -> list[_Part]:
    """A box with rounded edges and corners (a box grown by a sphere), six sides in a 3x2 atlas.

    Each side is a grid pushed onto the rounded surface; the sides meet on identical points,
    so smooth normals weld across them.
    """
    half_a = np.asarray(half, dtype=np.float64)
    inner = half_a - radius
    if radius <= 0 or np.any(inner <= 0):
        raise ValueError("rounding radius must be positive and smaller than every half extent")
    ticks = [_rounded_ticks(half_a[i], radius, flat[i]) for i in range(3)]
    parts = []
    for side, (au, av, normal) in enumerate(_BOX_SIDES):
        iu, iv, i_n = (int(np.argmax(np.abs(axis))) for axis in (au, av, normal))
        cu, cv = np.meshgrid(ticks[iu], ticks[iv])  # (rows, cols), rows follow v
        p = (
            cu[..., None] * np.asarray(au)
            + cv[..., None] * np.asarray(av)
            + half_a[i_n] * np.asarray(normal, dtype=np.float64)
        )  # (rows, cols, 3)
        q = np.clip(p, -inner, inner)
        offset = p - q
        points = q + radius * offset / np.linalg.norm(offset, axis=-1, keepdims=True)
        st = np.stack(
            [(cu + half_a[iu]) / (2 * half_a[iu]), (cv + half_a[iv]) / (2 * half_a[iv])], -1
        )
        parts.append(
            _grid_part(material, points + np.asarray(center), st, _box_cell(uv_rect, side))
        )
    return parts


def _weld_ids(vertices: FloatArray) -> IntArray:
    """Index of each vertex's position class: seam and pole duplicates share one id."""
    keys = np.round(vertices / _WELD_STEP).astype(np.int64)
    return np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)


def _clean(part: _Part) -> _Part:
    """Drop triangles with repeated corners or no area (grid poles), then unused vertices."""
    ids = _weld_ids(part.vertices)
    welded = ids[part.faces]  # (m, 3)
    tri = part.vertices[part.faces]  # (m, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    distinct = (
        (welded[:, 0] != welded[:, 1])
        & (welded[:, 1] != welded[:, 2])
        & (welded[:, 0] != welded[:, 2])
    )
    faces = part.faces[distinct & (area > 1e-12)]
    used, remap = np.unique(faces, return_inverse=True)
    return _Part(part.material, part.vertices[used], part.uv[used], remap.reshape(-1, 3))


def _smooth_normals(vertices: FloatArray, faces: IntArray) -> FloatArray:
    """Area-weighted vertex normals, shared by vertices at the same position (seams, poles)."""
    ids = _weld_ids(vertices)
    tri = vertices[faces]  # (m, 3, 3)
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # (m, 3) area-weighted
    summed = np.zeros((ids.max() + 1, 3))
    for corner in range(3):
        np.add.at(summed, ids[faces[:, corner]], face_normals)
    normals = summed[ids]
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.where(length > 0, normals / np.maximum(length, 1e-300), [0.0, 1.0, 0.0])


def _assemble(title: str, parts: Iterable[_Part], materials: Sequence[_Material]) -> _Design:
    """Clean the parts, stand them on the ground centred on X/Z, and merge them per material."""
    cleaned = [_clean(p) for p in parts]
    stacked = np.concatenate([p.vertices for p in cleaned])
    lo, hi = stacked.min(axis=0), stacked.max(axis=0)
    shift = np.array([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
    meshes = []
    for material in materials:
        mine = [p for p in cleaned if p.material == material.name]
        offsets = np.cumsum([0] + [len(p.vertices) for p in mine])
        meshes.append(
            _Mesh(
                material=material,
                vertices=np.concatenate([p.vertices for p in mine]) + shift,
                normals=np.concatenate([_smooth_normals(p.vertices, p.faces) for p in mine]),
                uv=np.concatenate([p.uv for p in mine]),
                faces=np.concatenate([p.faces + o for p, o in zip(mine, offsets, strict=False)]),
            )
        )
    return _Design(title=title, meshes=tuple(meshes))


# --------------------------------------------------------------------------------------------
# Textures: procedural patterns drawn from the seed
# --------------------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, cells: int, size: int = TEXTURE_SIZE) -> FloatArray:
    """Soft value noise in about [0, 1]: a coarse random grid resized with bicubic filtering."""
    coarse = Image.fromarray(rng.random((cells, cells)).astype(np.float32), mode="F")
    return np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float64)


def _to_image(rgb: FloatArray) -> Image.Image:
    """An (h, w, 3) array in 0-1 as an RGB image."""
    return Image.fromarray(np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8), mode="RGB")


def _tint(colour: RGB, shade: FloatArray) -> FloatArray:
    """Multiply a colour by a (h, w) brightness field."""
    return np.asarray(colour)[None, None, :] * shade[..., None]


def _fabric(rng: np.random.Generator, colour: RGB) -> FloatArray:
    """Woven fabric: a two-pixel weave, thread noise and a soft mottle."""
    y, x = np.mgrid[0:TEXTURE_SIZE, 0:TEXTURE_SIZE]
    weave = np.sign(np.sin((x + 0.5) * np.pi / 2) * np.sin((y + 0.5) * np.pi / 2))
    threads = rng.normal(0.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE))
    shade = 1 + 0.07 * weave + 0.04 * threads + 0.12 * (_smooth_noise(rng, 8) - 0.5)
    return _tint(colour, shade)


def _wood(rng: np.random.Generator, colour: RGB) -> FloatArray:
    """Wood grain running along u: warped rings and fine pore streaks."""
    y = np.mgrid[0:TEXTURE_SIZE, 0:TEXTURE_SIZE][0] / TEXTURE_SIZE
    rings = np.sin(2 * np.pi * (y * 22 + 2.0 * _smooth_noise(rng, 5)))
    pores = rng.normal(0.0, 1.0, (TEXTURE_SIZE, 1)) * np.ones((1, TEXTURE_SIZE))
    shade = 1 + 0.13 * rings + 0.04 * pores + 0.05 * rng.normal(0.0, 1.0, rings.shape)
    return _tint(colour, shade)


def _brushed(rng: np.random.Generator, colour: RGB) -> FloatArray:
    """Brushed metal: streaks along u."""
    streaks = rng.normal(0.0, 1.0, (TEXTURE_SIZE, 1)) * np.ones((1, TEXTURE_SIZE))
    shade = 1 + 0.05 * streaks + 0.02 * rng.normal(0.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE))
    return _tint(colour, shade)


def _glaze(rng: np.random.Generator, colour: RGB) -> FloatArray:
    """Glazed ceramic or frosted glass: an almost flat colour with a soft cloudiness."""
    shade = (
        1
        + 0.06 * (_smooth_noise(rng, 12) - 0.5)
        + 0.01 * rng.normal(0.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE))
    )
    return _tint(colour, shade)


def _logo(
    image: Image.Image,
    center: tuple[float, float],
    height: float,
    *,
    colour: RGB,
    bars: int,
    squeeze: float,
) -> None:
    """Draw a brand mark, a ring and sound-wave bars, centred at a UV point.

    `height` is in UV units; `squeeze` (texels per metre along u over those along v) narrows
    the drawing so it comes out with the right proportions on the stretched model surface.
    """
    draw = ImageDraw.Draw(image)
    unit = height * TEXTURE_SIZE  # logo height in texels
    width = 1.2 + 0.32 * bars  # in logo heights: ring, gap, bars
    left = center[0] * TEXTURE_SIZE - width * unit * squeeze / 2
    cy = (1 - center[1]) * TEXTURE_SIZE
    fill = tuple(round(c * 255) for c in colour)
    draw.ellipse(
        [left, cy - unit / 2, left + unit * squeeze, cy + unit / 2],
        outline=fill,
        width=max(2, round(unit * squeeze / 7)),
    )
    for i in range(bars):
        bar = unit * (0.35 + 0.65 * abs(math.sin(1.3 * (i + 1))))
        x = left + (1.2 + 0.32 * i) * unit * squeeze
        draw.rectangle([x, cy - bar / 2, x + 0.16 * unit * squeeze, cy + bar / 2], fill=fill)


def _rng(slug: str, seed: int, stream: int = 0) -> np.random.Generator:
    """A random stream of the product (0: textures, 1: scan noise), stable across runs and
    Python versions (no `hash()`)."""
    return np.random.default_rng([zlib.crc32(slug.encode()), seed, stream])


def _pick(options: Sequence[tuple[str, RGB]], seed: int, offset: int = 0) -> tuple[str, RGB]:
    return options[(seed + offset) % len(options)]


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------

_FABRICS = (
    ("Charcoal", (0.17, 0.17, 0.19)),
    ("Navy", (0.12, 0.17, 0.32)),
    ("Sand", (0.74, 0.67, 0.55)),
    ("Forest", (0.16, 0.32, 0.23)),
    ("Coral", (0.86, 0.43, 0.37)),
)
_GLAZES = (
    ("Cream", (0.93, 0.89, 0.80)),
    ("Sage", (0.62, 0.71, 0.60)),
    ("Cobalt", (0.16, 0.29, 0.62)),
    ("Terracotta", (0.74, 0.40, 0.28)),
)
_WOODS = (("Oak", (0.72, 0.55, 0.36)), ("Walnut", (0.42, 0.28, 0.18)), ("Ash", (0.82, 0.72, 0.58)))
_METALS = (
    ("Brass", (0.83, 0.68, 0.38)),
    ("Chrome", (0.78, 0.79, 0.80)),
    ("Black", (0.10, 0.10, 0.11)),
)


def _speaker(rng: np.random.Generator, seed: int) -> _Design:
    """A fabric-covered Bluetooth speaker: one rounded box, 20 x 9 x 8 cm, logo on the front."""
    name, colour = _pick(_FABRICS, seed)
    parts = _rounded_box(
        "fabric", center=(0.0, 0.045, 0.0), half=(0.10, 0.045, 0.04), radius=0.022, flat=(8, 4, 3)
    )
    image = _to_image(_fabric(rng, colour))
    accent = (0.92, 0.92, 0.9) if sum(colour) < 1.5 else (0.12, 0.12, 0.14)
    _logo(image, (1 / 6, 0.25), 0.08, colour=accent, bars=3 + seed % 3, squeeze=0.3)
    material = _Material("fabric", image, metallic=0.0, roughness=0.9)
    return _assemble(f"Bluetooth Speaker, {name}", parts, [material])


def _mug(rng: np.random.Generator, seed: int) -> _Design:
    """A 400 ml ceramic mug: open lathe body with a rolled rim, handle on the right (+X)."""
    name, colour = _pick(_GLAZES, seed)
    outer, inner, height, floor = 0.042, 0.038, 0.095, 0.006
    rim = [
        (0.040 + 0.002 * math.cos(t), height + 0.002 * math.sin(t))
        for t in np.linspace(0, math.pi, 9)
    ]
    parts = [  # the outer wall gets the upper half of the texture, the rest share the lower
        _revolve("ceramic", [(0.0, 0.0), (outer, 0.0)], uv_rect=(0.0, 0.0, 1.0, 0.1)),
        _revolve("ceramic", [(outer, 0.0), (outer, height)], uv_rect=(0.0, 0.5, 1.0, 0.5)),
        _revolve("ceramic", rim, uv_rect=(0.0, 0.2, 1.0, 0.05)),
        _revolve("ceramic", [(inner, height), (inner, floor)], uv_rect=(0.0, 0.25, 1.0, 0.2)),
        _revolve("ceramic", [(inner, floor), (0.0, floor)], uv_rect=(0.0, 0.1, 1.0, 0.1)),
        _torus_arc(
            "ceramic",
            center=(0.035, 0.05, 0.0),
            major=0.028,
            minor=0.006,
            degrees=(-80.0, 80.0),
            uv_rect=(0.0, 0.45, 1.0, 0.05),
        ),
    ]
    base = _glaze(rng, colour)
    accent = _pick(_GLAZES, seed, offset=2)[1]
    rows = np.arange(TEXTURE_SIZE)[:, None] / TEXTURE_SIZE  # 0 at the image top, v = 1
    for centre in (0.06, 0.44):  # two stripes near the top and the bottom of the outer wall
        base[(np.abs(rows - centre) < 0.018)[:, 0]] = accent
    image = _to_image(base)
    _logo(image, (0.5, 0.75), 0.08, colour=accent, bars=2 + seed % 4, squeeze=0.72)
    material = _Material("ceramic", image, metallic=0.0, roughness=0.35)
    return _assemble(f"Ceramic Mug, {name}", parts, [material])


def _lamp(rng: np.random.Generator, seed: int) -> _Design:
    """A globe table lamp: opal glass sphere on a turned metal base, 20 x 40 x 20 cm."""
    shade_name, shade_colour = _pick(
        (
            ("Opal", (0.95, 0.94, 0.90)),
            ("Amber", (0.93, 0.68, 0.35)),
            ("Smoke", (0.55, 0.55, 0.57)),
        ),
        seed,
    )
    metal_name, metal_colour = _pick(_METALS, seed, offset=1)
    parts = [
        _revolve("metal", [(0.0, 0.0), (0.08, 0.0)], uv_rect=(0.0, 0.0, 1.0, 0.2)),
        _revolve("metal", [(0.08, 0.0), (0.08, 0.02), (0.072, 0.03)], uv_rect=(0.0, 0.2, 1.0, 0.2)),
        _revolve("metal", [(0.072, 0.03), (0.012, 0.03)], uv_rect=(0.0, 0.4, 1.0, 0.2)),
        _revolve(
            "metal", [(0.012, 0.03), (0.012, 0.22)], uv_rect=(0.0, 0.6, 1.0, 0.4), segments=32
        ),
        _revolve("glass", _sphere_profile(0.10, 0.30), uv_rect=_FULL),
    ]
    ribs = np.sin(np.arange(TEXTURE_SIZE) / TEXTURE_SIZE * 2 * np.pi * 24)[None, :]
    glass = _glaze(rng, shade_colour) * (1 + 0.03 * ribs)[..., None]
    materials = [
        _Material("glass", _to_image(glass), metallic=0.0, roughness=0.55),
        _Material("metal", _to_image(_brushed(rng, metal_colour)), metallic=1.0, roughness=0.35),
    ]
    return _assemble(f"Globe Table Lamp, {shade_name} / {metal_name}", parts, materials)


def _leg(
    material: str, x: float, z: float, *, top: float, radii: tuple[float, float], uv_rect: UVRect
) -> list[_Part]:
    """A tapered round leg standing on the floor: a flat foot and the side wall.

    The foot takes the lowest tenth of `uv_rect`, the wall the rest.
    """
    u0, v0, w, h = uv_rect
    return [
        _revolve(
            material,
            [(0.0, 0.0), (radii[1], 0.0)],
            uv_rect=(u0, v0, w, 0.1 * h),
            segments=24,
            center=(x, z),
        ),
        _revolve(
            material,
            [(radii[1], 0.0), (radii[0], top)],
            uv_rect=(u0, v0 + 0.1 * h, w, 0.9 * h),
            segments=24,
            center=(x, z),
        ),
    ]


def _quadrants(rect: UVRect) -> list[UVRect]:
    """Four equal cells of a UV rectangle, one per leg, so no two legs overlap in UV space."""
    u0, v0, w, h = rect
    return [(u0 + i * w / 4, v0, w / 4, h) for i in range(4)]


def _table(rng: np.random.Generator, seed: int) -> _Design:
    """A dining table: rounded solid-wood top on four tapered metal legs, 120 x 75 x 70 cm."""
    wood_name, wood_colour = _pick(_WOODS, seed)
    parts = _rounded_box(
        "wood", center=(0.0, 0.73, 0.0), half=(0.60, 0.02, 0.35), radius=0.008, flat=(16, 1, 10)
    )
    corners = [(-0.52, -0.28), (0.52, -0.28), (-0.52, 0.28), (0.52, 0.28)]
    for (x, z), cell in zip(corners, _quadrants(_FULL), strict=True):
        parts += _leg("metal", x, z, top=0.71, radii=(0.022, 0.015), uv_rect=cell)
    materials = [
        _Material("wood", _to_image(_wood(rng, wood_colour)), metallic=0.0, roughness=0.6),
        _Material("metal", _to_image(_brushed(rng, _METALS[2][1])), metallic=0.9, roughness=0.4),
    ]
    return _assemble(f"Dining Table, {wood_name}", parts, materials)


def _chair(rng: np.random.Generator, seed: int) -> _Design:
    """A dining chair: wooden legs and back, upholstered seat, 45 x 85 x 46 cm, facing +Z."""
    wood_name, wood_colour = _pick(_WOODS, seed, offset=1)
    fabric_name, fabric_colour = _pick(_FABRICS, seed, offset=3)
    parts = _rounded_box(
        "fabric", center=(0.0, 0.45, 0.0), half=(0.225, 0.03, 0.225), radius=0.012, flat=(8, 1, 8)
    )
    parts += _rounded_box(
        "wood",
        center=(0.0, 0.655, -0.21),
        half=(0.225, 0.195, 0.018),
        radius=0.008,
        flat=(8, 6, 1),
        uv_rect=(0.0, 0.5, 1.0, 0.5),
    )
    corners = [(-0.19, -0.19), (0.19, -0.19), (-0.19, 0.19), (0.19, 0.19)]
    for (x, z), cell in zip(corners, _quadrants((0.0, 0.0, 1.0, 0.5)), strict=True):
        parts += _leg("wood", x, z, top=0.43, radii=(0.02, 0.016), uv_rect=cell)
    wood = _wood(rng, wood_colour)
    half = TEXTURE_SIZE // 2  # the legs' lower half of the texture: grain along the leg (v)
    wood[half:] = np.rot90(wood[:, :half])
    materials = [
        _Material("fabric", _to_image(_fabric(rng, fabric_colour)), metallic=0.0, roughness=0.95),
        _Material("wood", _to_image(wood), metallic=0.0, roughness=0.6),
    ]
    return _assemble(f"Dining Chair, {wood_name} / {fabric_name}", parts, materials)


_BUILDERS: dict[str, Callable[[np.random.Generator, int], _Design]] = {
    "speaker": _speaker,
    "mug": _mug,
    "lamp": _lamp,
    "table": _table,
    "chair": _chair,
}
CATALOG: tuple[str, ...] = tuple(_BUILDERS)


# --------------------------------------------------------------------------------------------
# Writing the files
# --------------------------------------------------------------------------------------------


def make_product(
    slug: str, *, out_dir: Path, seed: int = 0, scale: float = 1.0, with_scan: bool = True
) -> DemoProduct:
    """Build one catalog product into `out_dir/<slug>/`: GLB, two photos and a scan source.

    `seed` varies colours and patterns (never the shape); `scale` multiplies the GLB geometry
    to simulate a wrong unit export. Files of an earlier build in the same folder are overwritten.
    """
    if slug not in _BUILDERS:
        raise ValueError(f"unknown demo product {slug!r}; choose one of {', '.join(CATALOG)}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    design = _BUILDERS[slug](_rng(slug, seed), seed)
    folder = Path(out_dir) / slug
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{slug}.glb"
    model.write_bytes(_glb_bytes(design, scale=scale))
    scene = _scene(design)
    photos = tuple(
        _write_photo(scene, folder / f"{slug}_{view.name}.jpg", view) for view in PHOTO_VIEWS
    )
    scan_files = _write_scan(design, folder / "scan", slug=slug, seed=seed) if with_scan else ()
    return DemoProduct(
        slug=slug,
        title=design.title,
        dimensions_m=_dimensions(design),
        model=model,
        photos=photos,
        scan_obj=scan_files[0] if scan_files else None,
        scan_files=scan_files,
    )


def _dimensions(design: _Design) -> tuple[float, float, float]:
    """Real-world bounding-box size (X, Y, Z) in metres, rounded to a tenth of a millimetre."""
    stacked = np.concatenate([m.vertices for m in design.meshes])
    size = stacked.max(axis=0) - stacked.min(axis=0)
    return (round(float(size[0]), 4), round(float(size[1]), 4), round(float(size[2]), 4))


def _glb_bytes(design: _Design, *, scale: float) -> bytes:
    """The design as a GLB through trimesh: one node and mesh per material, normals included."""
    scene = trimesh.Scene()
    for mesh in design.meshes:
        pbr = trimesh.visual.material.PBRMaterial(  # type: ignore[no-untyped-call]  # trimesh leaves it unannotated
            name=mesh.material.name,
            baseColorTexture=mesh.material.texture,
            metallicFactor=mesh.material.metallic,
            roughnessFactor=mesh.material.roughness,
        )
        geometry = trimesh.Trimesh(
            vertices=mesh.vertices * scale,
            faces=mesh.faces,
            vertex_normals=mesh.normals,
            visual=trimesh.visual.TextureVisuals(uv=mesh.uv, material=pbr),  # type: ignore[no-untyped-call]  # trimesh leaves it unannotated
            process=False,
        )
        scene.add_geometry(geometry, geom_name=mesh.material.name, node_name=mesh.material.name)
    glb: bytes = trimesh.exchange.gltf.export_glb(  # type: ignore[no-untyped-call]  # trimesh leaves it unannotated
        scene, include_normals=True, tree_postprocessor=_tag_buffer_views
    )
    return glb


_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def _tag_buffer_views(tree: dict[str, Any]) -> None:
    """Mark vertex and index buffer views with their GPU target, as the Khronos validator hints."""
    views, accessors = tree.get("bufferViews", []), tree.get("accessors", [])
    for mesh in tree.get("meshes", []):
        for primitive in mesh["primitives"]:
            for accessor in primitive["attributes"].values():
                views[accessors[accessor]["bufferView"]]["target"] = _ARRAY_BUFFER
            if "indices" in primitive:
                views[accessors[primitive["indices"]]["bufferView"]]["target"] = (
                    _ELEMENT_ARRAY_BUFFER
                )


def _write_scan(design: _Design, folder: Path, *, slug: str, seed: int) -> tuple[Path, ...]:
    """Write the product as a noisy scan: one OBJ, its MTL and a texture atlas of all materials.

    Noise is drawn per welded position (about 0.25 % of the largest dimension), so the scan
    stays crack-free at UV seams like a real photogrammetry mesh.
    """
    folder.mkdir(parents=True, exist_ok=True)
    count = len(design.meshes)
    vertices = np.concatenate([m.vertices for m in design.meshes])
    uv = np.concatenate(
        [(m.uv + np.array([i, 0.0])) / np.array([count, 1.0]) for i, m in enumerate(design.meshes)]
    )
    offsets = np.cumsum([0] + [len(m.vertices) for m in design.meshes])
    faces = np.concatenate([m.faces + o for m, o in zip(design.meshes, offsets, strict=False)])
    ids = _weld_ids(vertices)
    sigma = 0.0025 * float(np.ptp(vertices, axis=0).max())
    noise = _rng(slug, seed, stream=1).normal(0.0, sigma, (ids.max() + 1, 3))
    vertices = vertices + noise[ids]
    normals = _smooth_normals(vertices, faces)
    atlas = Image.new("RGB", (TEXTURE_SIZE * count, TEXTURE_SIZE))
    for i, mesh in enumerate(design.meshes):
        atlas.paste(mesh.material.texture, (i * TEXTURE_SIZE, 0))
    obj, mtl, png = (folder / f"{slug}_scan.{ext}" for ext in ("obj", "mtl", "png"))
    atlas.save(png, format="PNG", compress_level=1)  # a scan source favours speed over size
    mtl.write_text(f"newmtl scan\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nd 1\nillum 1\nmap_Kd {png.name}\n")
    obj.write_text(_obj_text(vertices, uv, normals, faces, mtl_name=mtl.name))
    return (obj, mtl, png)


def _obj_text(
    vertices: FloatArray, uv: FloatArray, normals: FloatArray, faces: IntArray, *, mtl_name: str
) -> str:
    """Wavefront OBJ text with positions, UVs and normals sharing one index per corner."""
    lines = [f"# demo product scan source\nmtllib {mtl_name}\no scan"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uv]
    lines += [f"vn {x:.5f} {y:.5f} {z:.5f}" for x, y, z in normals]
    lines.append("usemtl scan")
    lines += [f"f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c}" for a, b, c in faces + 1]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Photos: drawn by the shared renderer, so QA renders compare like with like
# --------------------------------------------------------------------------------------------

# The angles of the reference photos (a 30 degree lens), so a QA stage can render a model the
# same way.
PHOTO_VIEWS: tuple[View, ...] = (
    View("front_right", 30.0, 20.0, fov_deg=30.0),
    View("front_left", -40.0, 10.0, fov_deg=30.0),
)


def _scene(design: _Design) -> Scene:
    """The design as the renderer's input, straight from memory (no GLB round trip)."""
    return Scene.from_meshes(
        (
            Mesh(
                material=Material(
                    name=mesh.material.name,
                    base_color=np.asarray(mesh.material.texture.convert("RGBA")),
                    metallic=mesh.material.metallic,
                    roughness=mesh.material.roughness,
                ),
                vertices=mesh.vertices,
                normals=mesh.normals,
                uv=mesh.uv,
                faces=mesh.faces,
            )
            for mesh in design.meshes
        ),
        name=design.title,
    )


def _write_photo(scene: Scene, path: Path, view: View) -> Path:
    """Render a studio photo of the design and save it as a JPEG, like a product photo."""
    to_image(render(scene, view, size=PHOTO_SIZE)).save(
        path, format="JPEG", quality=92, subsampling=0
    )
    return path
