"""glTF tangent-space normal maps re-encoded for open3d's tangent frame (baked in UV space).

glTF reads a normal-map texel (x, y, z) = 2 * texel - 1 (linear, x and y times the texture's
`scale`) in the frame of the mesh's tangent T (the TANGENT attribute, or MikkTSpace-like
tangents from positions and UVs), bitangent B = w * cross(N, T) (towards +V, image up) and
normal N: n = x T + y B + z N. open3d 0.20 cannot be given tangents: both its mesh paths build
Filament's tangent frames from the vertex normals alone (`SurfaceOrientation` with normals
only, Frisvad's basis), and its defaultLit shader then reads n = x T' + y B' + z N with
(T', B') = `open3d_frame(N)` (measured: its `normal.y *= -1` cancels Filament's bitangent
sign, so the texel is used as is). Both frames share N, so the texel only has to be turned
within the tangent plane: (x', y') = M (x, y) with M = [[T.T', B.T'], [T.B', B.B']]. M is
computed per vertex, interpolated across each triangle like the shader interpolates its
frames, and applied to every texel the triangle covers in UV space; the rotated map then
shades with the glTF frame in open3d.

Limits: a texel used by two places with different frames (mirrored or overlapping UV
islands, tiling UVs) can only hold one of them (the last triangle drawn wins); texels outside
every island get the nearest island's rotation for `GUTTER` texels, then stay unrotated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.integer[Any]]
ByteArray = npt.NDArray[np.uint8]

GUTTER = 4  # texels the rotation is carried outside the UV islands (bilinear, mipmaps)
_CHUNK = 1 << 21  # candidate texels rasterised at once (memory bound)


def _unit(v: FloatArray) -> FloatArray:
    unit: FloatArray = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-20)
    return unit


def _dot_rows(u: FloatArray, v: FloatArray) -> FloatArray:
    """Row-wise dot products of (n, k) arrays.  -> (n,)"""
    dots: FloatArray = np.einsum("ij,ij->i", u, v)
    return dots


def open3d_frame(normals: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The tangent and bitangent open3d's shader uses for unit `normals` (n, 3): Frisvad's
    orthonormal basis in Filament's +Y-up form, singular at N = -Y."""
    x, y, z = normals[:, 0], normals[:, 1], normals[:, 2]
    down = y < -1.0 + 1e-7
    a = 1.0 / np.where(down, 1.0, 1.0 + y)
    b = -z * x * a
    tangent = np.stack([b, -z, 1.0 - z * z * a], axis=1)  # (n, 3)
    bitangent = np.stack([1.0 - x * x * a, -x, b], axis=1)  # (n, 3)
    tangent[down], bitangent[down] = (-1.0, 0.0, 0.0), (0.0, 0.0, -1.0)
    return tangent, bitangent


def uv_tangents(
    positions: FloatArray, normals: FloatArray, uv: FloatArray, faces: IntArray
) -> FloatArray:
    """glTF tangents (n, 4) from positions (n, 3), unit normals (n, 3), UVs (n, 2) with V up
    (trimesh's convention) and faces (m, 3): per-face dP/du and dP/dv summed at the vertices
    (Lengyel's method, what MikkTSpace refines), T orthogonalised against N, w = +1 when
    (T, cross(N, T)) follows (dP/du, dP/dv) and -1 on mirrored UVs."""
    p, t = positions[faces], uv[faces]  # (m, 3, 3), (m, 3, 2)
    e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    d1, d2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]  # (m,)
    r = np.where(np.abs(det) > 1e-20, 1.0 / np.where(det == 0, 1.0, det), 0.0)[:, None]
    sdir = (e1 * d2[:, 1:2] - e2 * d1[:, 1:2]) * r  # dP/du  (m, 3)
    tdir = (e2 * d1[:, 0:1] - e1 * d2[:, 0:1]) * r  # dP/dv  (m, 3)
    tan_u, tan_v = np.zeros_like(positions), np.zeros_like(positions)
    for corner in range(3):
        np.add.at(tan_u, faces[:, corner], sdir)
        np.add.at(tan_v, faces[:, corner], tdir)
    tangent = tan_u - normals * np.einsum("ij,ij->i", normals, tan_u)[:, None]
    fallback, _ = open3d_frame(normals)  # vertices without UV extent: any perpendicular
    tangent = np.where(np.linalg.norm(tangent, axis=1, keepdims=True) > 1e-20, tangent, fallback)
    sign = np.where(np.einsum("ij,ij->i", np.cross(normals, tangent), tan_v) < 0, -1.0, 1.0)
    return np.column_stack([_unit(tangent), sign])


def frame_rotation(normals: FloatArray, tangents: FloatArray) -> FloatArray:
    """Per vertex, M (n, 2, 2) taking glTF tangent-plane texel coordinates to open3d's.
    normals (n, 3) unit; tangents (n, 4) with the handedness in w."""
    t = _unit(tangents[:, :3] - normals * np.einsum("ij,ij->i", normals, tangents[:, :3])[:, None])
    b = tangents[:, 3:4] * np.cross(normals, t)
    t_o, b_o = open3d_frame(normals)
    dot = _dot_rows
    return np.stack(
        [np.stack([dot(t, t_o), dot(b, t_o)], 1), np.stack([dot(t, b_o), dot(b, b_o)], 1)], 1
    )


def _rasterise(corners: FloatArray) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Texel centres inside triangles given in texel coordinates (m, 3, 2) (x right, y down;
    texel (c, r) has its centre at (c, r)): triangle index, column, row (unwrapped) and
    barycentric weights (k, 3) of each covered texel."""
    lo = np.ceil(corners.min(axis=1) - 1e-9).astype(np.int64)  # (m, 2)
    hi = np.floor(corners.max(axis=1) + 1e-9).astype(np.int64)
    span = np.maximum(hi - lo + 1, 0)
    counts = span[:, 0] * span[:, 1]  # (m,)
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    usable = np.flatnonzero((np.abs(area) > 1e-12) & (counts > 0))
    out: list[tuple[IntArray, IntArray, IntArray, FloatArray]] = []
    ends = np.cumsum(counts[usable])
    start = 0
    while start < len(usable):
        stop = max(int(np.searchsorted(ends, ends[start] - counts[usable[start]] + _CHUNK)),
                   start + 1)  # fmt: skip
        out.append(_rasterise_chunk(usable[start:stop], lo, span, corners, area))
        start = stop
    if not out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros((0, 3))
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def _rasterise_chunk(
    tris: IntArray, lo: IntArray, span: IntArray, corners: FloatArray, area: FloatArray
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    counts = span[tris, 0] * span[tris, 1]
    tri = np.repeat(tris, counts)  # (k,)
    offset = np.arange(len(tri)) - np.repeat(np.cumsum(counts) - counts, counts)
    col = lo[tri, 0] + offset % span[tri, 0]
    row = lo[tri, 1] + offset // span[tri, 0]
    p = np.stack([col, row], axis=1).astype(np.float64)  # (k, 2)
    v = corners[tri]  # (k, 3, 2)
    weights = np.empty((len(tri), 3))
    for i in range(3):
        q, r = v[:, (i + 1) % 3], v[:, (i + 2) % 3]
        weights[:, i] = (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (r[:, 0] - p[:, 0]) * (
            q[:, 1] - p[:, 1]
        )
    weights /= area[tri, None]
    inside = (weights >= -1e-9).all(axis=1)
    return tri[inside], col[inside], row[inside], weights[inside]


def _dilate(field: FloatArray, covered: npt.NDArray[np.bool_], steps: int) -> None:
    """Carry `field` (h, w, c) from covered texels into uncovered neighbours, in place."""
    for _ in range(steps):
        total, count = np.zeros_like(field), np.zeros(covered.shape)
        for axis, shift in ((0, 1), (0, -1), (1, 1), (1, -1)):
            total += np.roll(field * covered[..., None], shift, axis=axis)
            count += np.roll(covered, shift, axis=axis)
        grow = ~covered & (count > 0)
        field[grow] = total[grow] / count[grow, None]
        covered |= grow


def bake_normal_map(
    texture: ByteArray,
    *,
    uv: FloatArray,
    faces: IntArray,
    rotation: FloatArray,
    scale: float = 1.0,
) -> ByteArray:
    """The glTF normal map `texture` (h, w, 3) uint8 re-encoded for open3d's frames.
    uv (n, 2) with V up; faces (m, 3); rotation (n, 2, 2) from `frame_rotation`; `scale`
    is glTF's normalTexture.scale (applied to x and y before normalising)."""
    h, w = texture.shape[:2]
    corners = np.stack([uv[faces][..., 0] * w - 0.5, (1.0 - uv[faces][..., 1]) * h - 0.5], -1)
    tri, col, row, weights = _rasterise(corners)  # (k,) x3, (k, 3)
    per_texel = np.einsum("kc,kcij->kij", weights, rotation[faces[tri]])  # (k, 2, 2)
    field = np.zeros((h, w, 4))
    covered = np.zeros((h, w), dtype=bool)
    field[row % h, col % w] = per_texel.reshape(-1, 4)
    covered[row % h, col % w] = True
    _dilate(field, covered, GUTTER)
    normal = texture[..., :3].astype(np.float64) / 255.0 * 2.0 - 1.0  # (h, w, 3)
    normal[..., :2] *= scale
    m = field.reshape(h, w, 2, 2)
    turned = np.einsum("hwij,hwj->hwi", m, normal[..., :2])
    normal[..., :2] = np.where(covered[..., None], turned, normal[..., :2])
    normal = _unit(normal)
    return np.round((normal * 0.5 + 0.5) * 255.0).clip(0, 255).astype(np.uint8)
