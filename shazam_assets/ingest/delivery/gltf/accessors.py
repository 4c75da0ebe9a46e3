"""Accessor data as numpy arrays: strides, matrix column padding and sparse substitution.

`read_elements` is the one place that turns bytes into an accessor's `(count, components)`
array. It is used both to check the data during validation and by `GltfAsset.read_accessor`,
so the numbers the checks judged are the numbers downstream code gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
DTYPES: dict[int, np.dtype] = {
    5120: np.dtype("<i1"), 5121: np.dtype("<u1"), 5122: np.dtype("<i2"),
    5123: np.dtype("<u2"), 5125: np.dtype("<u4"), 5126: np.dtype("<f4"),
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Where an accessor's elements live: `start` bytes into `data`, one every `stride` bytes."""

    data: memoryview
    start: int
    stride: int


@dataclass(frozen=True)
class SparseLayout:
    count: int
    indices: np.ndarray  # (count,) unsigned
    values: np.ndarray  # (count, components)


def column_padding(component_type: int, type_: str) -> int:
    """Bytes per matrix column when columns are padded to 4 bytes, else 0."""
    if component_type in (5120, 5121) and type_ in ("MAT2", "MAT3"):
        return 4
    if component_type in (5122, 5123) and type_ == "MAT3":
        return 8
    return 0


def strided(layout: Layout, component_type: int, type_: str, count: int) -> np.ndarray:
    """Copy `count` elements out of an interleaved buffer: (count, components)."""
    dtype = DTYPES[component_type]
    components = TYPE_SIZES[type_]
    padded = column_padding(component_type, type_)
    if padded:
        rows = 2 if type_ == "MAT2" else 3
        shape: tuple[int, ...] = (count, rows, rows)
        strides: tuple[int, ...] = (layout.stride, padded, dtype.itemsize)
    else:
        shape, strides = (count, components), (layout.stride, dtype.itemsize)
    view = np.ndarray(shape, dtype=dtype, buffer=layout.data, offset=layout.start, strides=strides)
    return np.ascontiguousarray(view).reshape(count, components)


def substitute(base: np.ndarray, sparse: SparseLayout) -> np.ndarray:
    """Apply sparse values over `base`, walking indices the way the reference does.

    With strictly increasing, in-range indices this is `base[indices] = values`; otherwise the
    reference's merge walk is reproduced so broken files give the same numbers.
    """
    out = base.copy()
    indices = sparse.indices.astype(np.int64)
    count = out.shape[0]
    if sparse.count == 0:
        return out
    if np.all(indices[1:] > indices[:-1]) and indices[-1] < count:
        out[indices] = sparse.values
        return out
    position, target = 0, int(indices[0])
    for element in range(count):
        if element > 0 and element - 1 == target and position != sparse.count - 1:
            position += 1
            target = int(indices[position])
        if element == target:
            out[element] = sparse.values[position]
    return out


def read_elements(
    *,
    component_type: int,
    type_: str,
    count: int,
    layout: Layout | None,
    sparse: SparseLayout | None,
) -> np.ndarray:
    """The accessor's elements: strided data (or zeros without a buffer view), then sparse."""
    if layout is not None:
        base = strided(layout, component_type, type_, count)
    else:
        base = np.zeros((count, TYPE_SIZES[type_]), dtype=DTYPES[component_type])
    return substitute(base, sparse) if sparse is not None else base


def typed(data: memoryview, component_type: int, offset: int, length: int) -> np.ndarray | None:
    """`length` values of `component_type` at `offset`, or None when they do not fit."""
    dtype = DTYPES.get(component_type)
    if dtype is None or offset < 0 or length < 0 or len(data) < offset + dtype.itemsize * length:
        return None
    return np.frombuffer(data, dtype=dtype, count=length, offset=offset)


def int_divisor(component_type: int) -> int:
    """What the reference divides normalized integers by (it computes 1 << 32 as 0)."""
    bits = DTYPES[component_type].itemsize * 8
    if component_type in (5120, 5122):
        return (1 << (bits - 1)) - 1
    return ((1 << bits) if bits < 32 else 0) - 1


def normalized_values(component_type: int, values: np.ndarray) -> np.ndarray:
    """Integer data as the normalized floats a shader sees (float data unchanged), float64."""
    out = values.astype(np.float64)
    if component_type == 5126:
        return out
    out = out / int_divisor(component_type)
    return np.maximum(out, -1.0) if component_type in (5120, 5122) else out
