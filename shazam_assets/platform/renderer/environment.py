"""The studio's image-based lighting: a procedural photo-studio room baked into a Filament IBL.

Product photographs are lit by a room, not by a sun: large soft boxes around the product and
white walls bounce light back, so chrome shows soft bright panels and paint keeps its colour.
This module builds such a room as numbers (no downloaded HDR file): a large grey box seen from
inside, a few white blocks standing in it (the shapes a chrome bowl reflects) and six emissive
panels (the soft boxes). The layout follows the "neutral" room that model-viewer (Apache-2.0)
and the Khronos sample viewer's neutral environment use, so renders look like the reference
renders of the Khronos 3D Commerce certification.

`studio_ibl_path()` bakes that room once per process environment into the KTX1 file Filament's
IndirectLight reads (open3d's `Scene.set_indirect_light(prefix)` appends `_ibl.ktx`): a
cubemap whose mip levels are the room pre-filtered with the GGX lobe of growing roughness,
plus nine spherical-harmonics coefficients for the diffuse irradiance. The file lands in a
temporary folder keyed by `ENVIRONMENT_VERSION` and is reused afterwards (about 3 s to bake).
"""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

ENVIRONMENT_VERSION = "room-3"  # bump whenever the baked radiance changes
FACE_SIZE = 256  # texels per cube-face edge at mip 0
LEVELS = 5  # mip levels 256..16; Filament maps roughness 1 to the last one
_EYE = np.array([0.0, 3.5, 0.0])  # where the product stands, in room units (y up)
_SAMPLES = 128  # GGX samples per pre-filtered texel


@dataclass(frozen=True)
class Block:
    """A box in the room: centre, size along its own axes, turn about +Y (radians),
    and emitted radiance (0 for a lit white block, > 0 for a soft box)."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    turn: float = 0.0
    emission: float = 0.0


# The room: walls, six white blocks on the floor and six soft boxes (room units ~ metres).
ROOM = Block((-0.757, 13.219, 0.717), (31.713, 28.305, 28.591))
BLOCKS = (
    Block((-10.906, 2.009, 1.846), (2.328, 7.905, 4.651), -0.195),
    Block((-5.607, -0.754, -0.758), (1.970, 1.534, 3.955), 0.994),
    Block((6.167, 0.857, 7.803), (3.927, 6.285, 3.687), 0.561),
    Block((-2.017, 0.018, 6.124), (2.002, 4.566, 2.064), 0.333),
    Block((2.291, -0.756, -2.621), (1.546, 1.552, 1.496), -0.286),
    Block((-2.193, -0.369, -5.547), (3.875, 3.487, 2.986), 0.516),
)
SOFT_BOXES = (
    Block((-16.116, 14.37, 8.208), (0.1, 2.428, 2.739), 0.0, 5.0),
    Block((-16.109, 18.021, -8.207), (0.1, 2.425, 2.751), 0.0, 5.0),
    Block((14.904, 12.198, -1.832), (0.15, 4.265, 6.331), 0.0, 1.7),
    Block((-0.462, 8.89, 14.520), (4.38, 5.441, 0.088), 0.0, 4.3),
    Block((3.235, 11.486, -12.541), (2.5, 2.0, 0.1), 0.0, 2.0),
    Block((0.0, 20.0, 0.0), (1.0, 0.1, 1.0), 0.0, 10.0),
)
_LAMP = np.array([0.418, 16.199, 0.300])  # a bare bulb lighting walls and blocks
_LAMP_POWER = 500.0  # radiant intensity of the bulb (radiance units * m^2)
_LAMP_RANGE = 28.0  # its light fades out smoothly at this distance
_ALBEDO = 1.0  # walls and blocks are white


def _rot_y(turn: float) -> FloatArray:
    c, s = np.cos(turn), np.sin(turn)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # (3, 3) local -> room


def _slab(
    block: Block, origin: FloatArray, dirs: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Ray/box intersection for rays from one origin: entry and exit distances (inf when
    missed) and the room-space normals at entry and exit.  dirs: (n, 3)."""
    rot = _rot_y(block.turn)
    half = np.array(block.size) / 2.0
    o = (origin - np.array(block.center)) @ rot  # (3,) in box axes
    d = dirs @ rot  # (n, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (-half - o) * inv
        t2 = (half - o) * inv
    t_lo, t_hi = np.minimum(t1, t2), np.maximum(t1, t2)  # (n, 3)
    near_axis, far_axis = np.argmax(t_lo, axis=1), np.argmin(t_hi, axis=1)
    t_near, t_far = t_lo.max(axis=1), t_hi.min(axis=1)
    missed = t_near > t_far
    t_near, t_far = np.where(missed, np.inf, t_near), np.where(missed, np.inf, t_far)
    rows = np.arange(len(d))
    n_near = np.zeros_like(d)
    n_near[rows, near_axis] = -np.sign(d[rows, near_axis])  # faces the ray
    n_far = np.zeros_like(d)
    n_far[rows, far_axis] = -np.sign(d[rows, far_axis])  # inward wall normal
    return t_near, t_far, n_near @ rot.T, n_far @ rot.T


def _lit(points: FloatArray, normals: FloatArray) -> FloatArray:
    """Radiance of white Lambertian surfaces lit by the bulb (no shadows).  (n,)"""
    to_lamp = _LAMP - points  # (n, 3)
    dist = np.linalg.norm(to_lamp, axis=1)
    cos = np.clip(np.einsum("ij,ij->i", normals, to_lamp) / dist, 0.0, None)
    fade = np.clip(1.0 - (dist / _LAMP_RANGE) ** 4, 0.0, 1.0) ** 2
    radiance: FloatArray = _ALBEDO / np.pi * _LAMP_POWER * cos * fade / dist**2
    return radiance


def radiance(dirs: FloatArray) -> FloatArray:
    """Radiance seen from the product's place in each direction.  dirs: (n, 3) unit; -> (n,)"""
    _, t_best, _, n_best = _slab(ROOM, _EYE, dirs)  # the walls, seen from inside
    emission = np.zeros(len(dirs))
    for block in BLOCKS + SOFT_BOXES:
        t_near, _, n_near, _ = _slab(block, _EYE, dirs)
        closer = (t_near > 0) & (t_near < t_best)
        t_best = np.where(closer, t_near, t_best)
        n_best = np.where(closer[:, None], n_near, n_best)
        emission = np.where(closer, block.emission, emission)
    points = _EYE + dirs * t_best[:, None]
    return np.where(emission > 0, emission, _lit(points, n_best))


def _equirect_dirs(width: int) -> tuple[FloatArray, FloatArray]:
    """Directions of an equirectangular grid (width x width/2) and each cell's solid angle."""
    height = width // 2
    theta = (np.arange(height) + 0.5) / height * np.pi  # polar angle from +Y
    phi = (np.arange(width) + 0.5) / width * 2 * np.pi
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    dirs = np.stack([np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)], axis=-1)
    area = np.sin(th) * (np.pi / height) * (2 * np.pi / width)
    return dirs.reshape(-1, 3), area.reshape(-1)


def _equirect_lookup(image: FloatArray, dirs: FloatArray) -> FloatArray:
    """Bilinear-free nearest lookup of an equirect image (h, w) in directions (..., 3)."""
    h, w = image.shape
    theta = np.arccos(np.clip(dirs[..., 1], -1.0, 1.0))
    phi = np.mod(np.arctan2(dirs[..., 0], dirs[..., 2]), 2 * np.pi)
    row = np.clip((theta / np.pi * h).astype(int), 0, h - 1)
    col = np.clip((phi / (2 * np.pi) * w).astype(int), 0, w - 1)
    values: FloatArray = image[row, col]
    return values


def face_dirs(size: int, face: int) -> FloatArray:
    """Unit directions of a cube face's texel centres, OpenGL face order +X,-X,+Y,-Y,+Z,-Z,
    row 0 first.  -> (size, size, 3)"""
    c = (np.arange(size) + 0.5) / size * 2 - 1
    t, s = np.meshgrid(c, c, indexing="ij")  # t: down the rows, s: along a row
    one = np.ones_like(s)
    x, y, z = {
        0: (one, -t, -s),
        1: (-one, -t, s),
        2: (s, one, t),
        3: (s, -one, -t),
        4: (s, -t, one),
        5: (-s, -t, -one),
    }[face]
    d = np.stack([x, y, z], axis=-1)
    unit: FloatArray = d / np.linalg.norm(d, axis=-1, keepdims=True)
    return unit


def _hammersley(n: int) -> FloatArray:
    """n low-discrepancy points in the unit square (i/n, van der Corput radical inverse)."""
    k = np.arange(n)
    radical = np.zeros(n)
    scale = 0.5
    while k.any():
        radical += scale * (k & 1)
        k = k >> 1
        scale /= 2
    return np.stack([(np.arange(n) + 0.5) / n, radical], axis=1)  # (n, 2)


def _prefilter(source: FloatArray, dirs: FloatArray, roughness: float) -> FloatArray:
    """GGX pre-filtered radiance around each direction (normal = view = reflection).
    source: equirect (h, w); dirs: (m, 3) -> (m,)"""
    alpha = roughness * roughness
    u = _hammersley(_SAMPLES)
    cos_h = np.sqrt((1 - u[:, 1]) / (1 + (alpha * alpha - 1) * u[:, 1]))  # (k,)
    sin_h = np.sqrt(1 - cos_h**2)
    phi = 2 * np.pi * u[:, 0]
    h_local = np.stack([sin_h * np.cos(phi), sin_h * np.sin(phi), cos_h], axis=1)  # (k, 3)
    up = np.where(np.abs(dirs[:, 1:2]) < 0.999, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])
    tx = np.cross(up, dirs)
    tx /= np.linalg.norm(tx, axis=1, keepdims=True)
    ty = np.cross(dirs, tx)
    h = (
        h_local[None, :, 0:1] * tx[:, None]
        + h_local[None, :, 1:2] * ty[:, None]
        + h_local[None, :, 2:3] * dirs[:, None]
    )  # (m, k, 3)
    n_dot_h = np.einsum("mkc,mc->mk", h, dirs)
    light = 2 * n_dot_h[..., None] * h - dirs[:, None]  # (m, k, 3)
    weight = np.clip(np.einsum("mkc,mc->mk", light, dirs), 0.0, None)
    values = _equirect_lookup(source, light)
    filtered: FloatArray = (values * weight).sum(axis=1) / np.maximum(weight.sum(axis=1), 1e-9)
    return filtered


def _downsample(image: FloatArray, factor: int) -> FloatArray:
    h, w = image.shape
    small: FloatArray = image.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return small


def irradiance_sh(source_dirs: FloatArray, source: FloatArray, area: FloatArray) -> FloatArray:
    """Nine coefficients of Filament's irradiance polynomial (1, y, z, x, yx, yz, 3z²-1, zx,
    x²-y²) fitted to E(n)/pi, the cosine-weighted radiance a diffuse surface sees.  -> (9,)"""
    normals = source_dirs
    cos = np.clip(normals @ source_dirs.T, 0.0, None)  # (n, n)
    target = cos @ (source * area) / np.pi  # (n,)
    x, y, z = normals[:, 0], normals[:, 1], normals[:, 2]
    basis = np.stack(
        [np.ones_like(x), y, z, x, y * x, y * z, 3 * z * z - 1, z * x, x * x - y * y], axis=1
    )
    w = np.sqrt(area)
    coeffs, *_ = np.linalg.lstsq(basis * w[:, None], target * w, rcond=None)
    return np.asarray(coeffs)


def _to_r11g11b10(rgb: FloatArray) -> npt.NDArray[np.uint32]:
    """Pack non-negative floats (..., 3) into GL_R11F_G11F_B10F words (...,)."""
    half = np.clip(rgb, 0.0, 65000.0).astype(np.float16).view(np.uint16).astype(np.uint32)
    r = (half[..., 0] >> 4) & 0x7FF
    g = (half[..., 1] >> 4) & 0x7FF
    b = (half[..., 2] >> 5) & 0x3FF
    return (r | (g << 11) | (b << 22)).astype(np.uint32)


def _ktx_bytes(levels: list[FloatArray], sh: FloatArray | None) -> bytes:
    """A KTX1 cubemap file Filament's KtxBundle reads.  levels: [(6, s, s, 3) float]"""
    # The header fields as Filament's cmgen writes them (glType and base format included).
    gl_r11f_g11f_b10f, gl_rgb = 0x8C3A, 0x1907
    key_values = b""
    if sh is not None:
        text = "\n".join(" ".join(f"{v:.7g}" for v in row) for row in sh) + "\n"
        pair = b"sh\x00" + text.encode() + b"\x00"
        key_values = struct.pack("<I", len(pair)) + pair + b"\x00" * (-len(pair) % 4)
    size = levels[0].shape[1]
    header = b"\xabKTX 11\xbb\r\n\x1a\n" + struct.pack(
        "<13I", 0x04030201, gl_r11f_g11f_b10f, 1, gl_rgb, gl_r11f_g11f_b10f,
        gl_r11f_g11f_b10f, size, size, 0, 0, 6, len(levels), len(key_values),
    )  # fmt: skip
    body = [header, key_values]
    for level in levels:
        faces = _to_r11g11b10(level)  # (6, s, s)
        body.append(struct.pack("<I", faces[0].nbytes))
        body.append(faces.astype("<u4").tobytes())
    return b"".join(body)


def bake(face_size: int = FACE_SIZE, levels: int = LEVELS) -> tuple[bytes, bytes]:
    """The IBL file (pre-filtered cubemap + SH) and a small skybox file, as bytes."""
    source_dirs, _ = _equirect_dirs(1024)
    source = radiance(source_dirs).reshape(512, 1024)  # (512, 1024) radiance
    cubes = []
    for level in range(levels):
        size = face_size >> level
        lod = level / (levels - 1)
        roughness = 1.0 - np.sqrt(1.0 - lod)  # inverse of Filament's r(2 - r) lod mapping
        src = _downsample(source, 2 ** max(level - 1, 0))
        faces = []
        for face in range(6):
            dirs = face_dirs(size, face).reshape(-1, 3)
            if level == 0:
                values = radiance(dirs)
            else:
                values = np.concatenate(
                    [_prefilter(src, chunk, roughness) for chunk in np.array_split(dirs, 16)]
                )
            faces.append(values.reshape(size, size))
        cubes.append(np.repeat(np.stack(faces)[..., None], 3, axis=-1))  # grey: (6,s,s,3)
    coarse_dirs, area = _equirect_dirs(64)
    sh = irradiance_sh(coarse_dirs, _equirect_lookup(source, coarse_dirs), area)
    sh_rgb = np.repeat(sh[:, None], 3, axis=1)  # (9, 3)
    return _ktx_bytes(cubes, sh_rgb), _ktx_bytes([cubes[-1]], None)


def studio_ibl_path(folder: Path | None = None) -> str:
    """Path prefix of the baked studio IBL (`<prefix>_ibl.ktx`, `<prefix>_skybox.ktx`),
    baking it first when absent.  Safe when several processes bake at once (atomic rename)."""
    folder = folder or Path(tempfile.gettempdir()) / f"shazam-studio-{ENVIRONMENT_VERSION}"
    prefix = folder / "studio"
    ibl, sky = Path(f"{prefix}_ibl.ktx"), Path(f"{prefix}_skybox.ktx")
    if not (ibl.exists() and sky.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        ibl_bytes, sky_bytes = bake()
        for path, data in ((sky, sky_bytes), (ibl, ibl_bytes)):
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    return str(prefix)
