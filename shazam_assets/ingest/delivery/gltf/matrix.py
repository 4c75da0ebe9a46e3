"""Node matrices: is a 4x4 matrix a plain translation-rotation-scale transform?

A node matrix must decompose into TRS (no shear, no projection). The test decomposes the
matrix, recomposes it and compares, with single-precision storage between steps, because
that is how the reference validator (vector_math's Float32 matrices) decides; emulating it
keeps borderline matrices on the same side of the line.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

_F32 = struct.Struct("<f")


def _f(value: float) -> float:
    """Store in a float32 slot and read back."""
    try:
        stored: float = _F32.unpack(_F32.pack(value))[0]
        return stored
    except OverflowError:
        return math.copysign(math.inf, value)


def is_identity(m: Sequence[float]) -> bool:
    return list(m) == [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0]


def determinant(s: Sequence[float]) -> float:
    """4x4 determinant of a column-major matrix, same expansion as vector_math."""
    d01 = s[0] * s[5] - s[1] * s[4]
    d02 = s[0] * s[6] - s[2] * s[4]
    d03 = s[0] * s[7] - s[3] * s[4]
    d12 = s[1] * s[6] - s[2] * s[5]
    d13 = s[1] * s[7] - s[3] * s[5]
    d23 = s[2] * s[7] - s[3] * s[6]
    return (
        -(s[9] * d23 - s[10] * d13 + s[11] * d12) * s[12]
        + (s[8] * d23 - s[10] * d03 + s[11] * d02) * s[13]
        - (s[8] * d13 - s[9] * d03 + s[11] * d01) * s[14]
        + (s[8] * d12 - s[9] * d02 + s[10] * d01) * s[15]
    )


def _norm_1(s: Sequence[float]) -> float:
    """Largest sum of absolute values over the four storage columns."""
    return max(sum(abs(v) for v in s[i : i + 4]) for i in (0, 4, 8, 12))


def _rotation_quaternion(r: list[float]) -> list[float]:
    """Quaternion (x, y, z, w) of a column-major 3x3 rotation, float32 storage."""
    q = [0.0, 0.0, 0.0, 0.0]
    trace = r[0] + r[4] + r[8]
    if trace > 0:
        s = math.sqrt(trace + 1)
        q[3] = _f(s * 0.5)
        s = 0.5 / s
        q[0] = _f((r[5] - r[7]) * s)
        q[1] = _f((r[6] - r[2]) * s)
        q[2] = _f((r[1] - r[3]) * s)
        return q
    i = (2 if r[4] < r[8] else 1) if r[0] < r[4] else (2 if r[0] < r[8] else 0)
    j, k = (i + 1) % 3, (i + 2) % 3
    s = math.sqrt(r[i * 3 + i] - r[j * 3 + j] - r[k * 3 + k] + 1)
    q[i] = _f(s * 0.5)
    s = 0.5 / s
    q[3] = _f((r[j * 3 + k] - r[k * 3 + j]) * s)
    q[j] = _f((r[i * 3 + j] + r[j * 3 + i]) * s)
    q[k] = _f((r[i * 3 + k] + r[k * 3 + i]) * s)
    return q


def _compose(translation: list[float], q: list[float], scale: list[float]) -> list[float]:
    x, y, z, w = q
    x2, y2, z2 = x + x, y + y, z + z
    xx, xy, xz, yy, yz, zz = x * x2, x * y2, x * z2, y * y2, y * z2, z * z2
    wx, wy, wz = w * x2, w * y2, w * z2
    m = [
        1 - (yy + zz), xy + wz, xz - wy, 0.0,
        xy - wz, 1 - (xx + zz), yz + wx, 0.0,
        xz + wy, yz - wx, 1 - (xx + yy), 0.0,
        translation[0], translation[1], translation[2], 1.0,
    ]  # fmt: skip
    m = [_f(v) for v in m]
    for col, factor in enumerate(scale):
        for row in range(4):
            m[col * 4 + row] = _f(m[col * 4 + row] * factor)
    return m


def is_trs_decomposable(m: Sequence[float]) -> bool:
    """True when the column-major matrix `m` (float32 values) is a TRS transform."""
    if m[3] != 0 or m[7] != 0 or m[11] != 0 or m[15] != 1:
        return False
    det = determinant(m)
    if det == 0:
        return False
    sx = math.sqrt(sum(_f(v) ** 2 for v in m[0:3]))
    sy = math.sqrt(sum(_f(v) ** 2 for v in m[4:7]))
    sz = math.sqrt(sum(_f(v) ** 2 for v in m[8:11]))
    if det < 0:
        sx = -sx
    translation = [_f(v) for v in m[12:15]]
    cols = [
        [_f(v * (1 / sx)) for v in m[0:3]],
        [_f(v * (1 / sy)) for v in m[4:7]],
        [_f(v * (1 / sz)) for v in m[8:11]],
    ]
    rotation = [v for col in cols for v in col]
    q = _rotation_quaternion(rotation)
    recomposed = _compose(translation, q, [_f(sx), _f(sy), _f(sz)])
    return abs(_norm_1(recomposed) - _norm_1(m)) < 0.00005
