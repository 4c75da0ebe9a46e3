"""Check accessor data against what the document declares and how it is used.

Runs after resources are loaded. Every accessor's data is read once into numpy and checked
with vectorised operations: min/max equal the data, floats are finite, indices stay inside
the vertex range, normals are unit length, keyframe times increase, skin weights sum to one.
Only accessors whose data is fully available and well-formed are checked; broken layouts
already have their own errors.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from shazam_assets.ingest.delivery.gltf import catalog, objects
from shazam_assets.ingest.delivery.gltf.accessors import (
    Layout,
    SparseLayout,
    normalized_values,
    read_elements,
    typed,
)
from shazam_assets.ingest.delivery.gltf.context import FLOAT, Context
from shazam_assets.ingest.delivery.gltf.document import Model
from shazam_assets.ingest.delivery.gltf.link import check_offset_and_length

UNIT_VEC3 = 0.00674
UNIT_VEC4 = 0.00769


def _view_data(view: objects.BufferView | None) -> memoryview | None:
    if view is None or view.buffer is None or view.buffer.data is None:
        return None
    return memoryview(view.buffer.data).cast("B")


def _layout(accessor: objects.Accessor) -> Layout | bool | None:
    """The accessor's base data layout; None without a buffer view, False when unreadable."""
    view = accessor.buffer_view
    if view is None:
        return None
    data = _view_data(view)
    size = accessor.component_size
    if data is None or accessor.byte_stride < accessor.element_length:
        return False
    if not check_offset_and_length(
        accessor.byte_offset, size, accessor.byte_length, view, -1, None
    ):
        return False
    start = view.byte_offset + accessor.byte_offset
    if len(data) < start + (accessor.byte_length // size) * size:
        return False
    return Layout(data, start, accessor.byte_stride)


def _sparse_layout(accessor: objects.Accessor) -> SparseLayout | None:
    sparse = accessor.sparse
    assert sparse is not None
    indices, values = sparse.indices, sparse.values
    index_view, value_view = indices.buffer_view, values.buffer_view
    index_data, value_data = _view_data(index_view), _view_data(value_view)
    if index_view is None or value_view is None or index_data is None or value_data is None:
        return None
    if -1 in (
        values.byte_offset,
        indices.byte_offset,
        indices.component_type,
        index_view.byte_length,
    ):
        return None
    if (
        -1 in (index_view.byte_offset, value_view.byte_length, value_view.byte_offset)
        or sparse.count > accessor.count
    ):
        return None
    index_size = objects.COMPONENT_SIZES[indices.component_type]
    value_size, components = accessor.component_size, accessor.components
    if not check_offset_and_length(
        indices.byte_offset, index_size, index_size * sparse.count, index_view, -1, None
    ):
        return None
    if not check_offset_and_length(
        values.byte_offset, value_size, value_size * components * sparse.count, value_view, -1, None
    ):
        return None
    index_array = typed(
        index_data,
        indices.component_type,
        index_view.byte_offset + indices.byte_offset,
        sparse.count,
    )
    value_array = typed(
        value_data,
        accessor.component_type,
        value_view.byte_offset + values.byte_offset,
        sparse.count * components,
    )
    if index_array is None or value_array is None:
        return None
    return SparseLayout(sparse.count, index_array, value_array.reshape(sparse.count, components))


def accessor_elements(accessor: objects.Accessor) -> np.ndarray | None:
    """(count, components) data of a linked accessor, or None when it cannot be read."""
    if (
        accessor.component_type == -1
        or accessor.count == -1
        or accessor.type is None
        or accessor.components == 0
    ):
        return None
    if accessor.buffer_view is None and accessor.sparse is None:
        return None
    layout = _layout(accessor)
    if layout is False:
        return None
    sparse = None
    if accessor.sparse is not None:
        sparse = _sparse_layout(accessor)
        if sparse is None:
            return None
    assert layout is not True
    return read_elements(
        component_type=accessor.component_type, type_=accessor.type, count=accessor.count,
        layout=layout, sparse=sparse,
    )  # fmt: skip


def _normalized(accessor: objects.Accessor, values: np.ndarray) -> np.ndarray:
    """Values as the shader sees them (normalized integers divided), float64."""
    if accessor.component_type == FLOAT or not accessor.normalized:
        return values.astype(np.float64)
    return normalized_values(accessor.component_type, values)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask.reshape(-1))[0])


def check_sparse_indices(accessor: objects.Accessor, ctx: Context) -> None:
    sparse = accessor.sparse
    if sparse is None:
        return
    view = sparse.indices.buffer_view
    data = _view_data(view)
    if view is None or data is None or sparse.indices.component_type == -1:
        return
    offset = view.byte_offset + sparse.indices.byte_offset
    indices = typed(data, sparse.indices.component_type, offset, sparse.count)
    if indices is None:
        return
    indices = indices.astype(np.int64)
    bad = np.flatnonzero(indices[1:] <= indices[:-1])
    if bad.size:
        i = int(bad[0]) + 1
        ctx.add(
            catalog.ACCESSOR_SPARSE_INDICES_NON_INCREASING,
            f"Accessor sparse indices element at index {i} is less than or equal to previous: "
            f"{indices[i]} <= {indices[i - 1]}",
            name="sparse",
        )
    oob = np.flatnonzero(indices >= accessor.count)
    if oob.size:
        i = int(oob[0])
        ctx.add(
            catalog.ACCESSOR_SPARSE_INDEX_OOB,
            f"Accessor sparse indices element at index {i} is greater than or equal to the number of "
            f"accessor elements: {indices[i]} >= {accessor.count}",
            name="sparse",
        )


def _check_bounds(
    accessor: objects.Accessor, values: np.ndarray, pointer: str, ctx: Context
) -> None:
    """accessor.min/max must equal the data's per-component extremes."""
    for label, declared, rule, out_rule in (
        (
            "min",
            accessor.min,
            catalog.ACCESSOR_MIN_MISMATCH,
            catalog.ACCESSOR_ELEMENT_OUT_OF_MIN_BOUND,
        ),
        (
            "max",
            accessor.max,
            catalog.ACCESSOR_MAX_MISMATCH,
            catalog.ACCESSOR_ELEMENT_OUT_OF_MAX_BOUND,
        ),
    ):
        if declared is None:
            continue
        for c, expected in enumerate(declared):
            column = values[:, c]
            actual = _extreme(column, label)
            if actual == expected:
                continue
            where = f"{pointer}/{label}/{c}"
            ctx.add(
                rule,
                f"Declared {label} value for component {c} ({expected}) does not match actual ({actual})",
                name=where,
            )
            outside = int(
                np.count_nonzero(column < expected if label == "min" else column > expected)
            )
            if outside:
                ctx.add(
                    out_rule,
                    f"Accessor contains {outside} element(s) beyond declared {label} {expected}",
                    name=where,
                )


def _extreme(column: np.ndarray, label: str) -> float | int:
    """min or max the reference's way: a leading NaN sticks, later NaNs are skipped.

    NaNs are masked out rather than left to np.nanmin/np.nanmax: their SIMD fmin/fmax return
    a wrong extreme when a NaN is signalling (quiet bit clear), which a file can hold."""
    if column.dtype.kind == "f":
        if math.isnan(column[0]):
            return math.nan
        numbers = column[~np.isnan(column)]
        return float(numbers.min() if label == "min" else numbers.max())
    return int(column.min() if label == "min" else column.max())


def _check_float(values: np.ndarray, pointer: str, ctx: Context) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        index = _first(bad)
        ctx.add(
            catalog.ACCESSOR_INVALID_FLOAT,
            f"Accessor element at index {index} is {values.reshape(-1)[index]} "
            f"({int(bad.sum())} invalid value(s) in total)",
            name=pointer,
        )


def _check_unit(accessor: objects.Accessor, values: np.ndarray, ctx: Context) -> None:
    checks = accessor.checks
    if not (checks.normals or checks.tangents):
        return
    normal = _normalized(accessor, values)
    length = np.sqrt(np.sum(normal[:, :3] ** 2, axis=1))
    bad = np.abs(length - 1.0) > UNIT_VEC3
    for pointer in checks.normals + checks.tangents:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            ctx.add(
                catalog.ACCESSOR_VECTOR3_NON_UNIT,
                f"Vector3 at element {i} is not of unit length: {length[i]}",
                name=pointer,
            )
    if checks.tangents and normal.shape[1] == 4:
        sign = normal[:, 3]
        wrong = (sign != 1.0) & (sign != -1.0)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            for pointer in checks.tangents:
                ctx.add(
                    catalog.ACCESSOR_INVALID_SIGN,
                    f"Tangent {i} has invalid w component: {sign[i]}",
                    name=pointer,
                )


def _check_clamped(accessor: objects.Accessor, values: np.ndarray, ctx: Context) -> None:
    bad = (values > 1) | (values < 0)
    if bad.any():
        index = _first(bad)
        for pointer in accessor.checks.clamped:
            ctx.add(
                catalog.ACCESSOR_NON_CLAMPED,
                f"Accessor element at index {index} is not clamped to 0..1 range",
                name=pointer,
            )


def _index_findings(
    flat: npt.NDArray[np.int64], max_vertex: int, restart: int, is_triangles: bool
) -> tuple[npt.NDArray[np.intp], int, int]:
    """(indices above max_vertex, first restart value index or -1, degenerate triangles)."""
    oob = np.flatnonzero(flat > max_vertex)
    restarts = np.flatnonzero(flat == restart)
    degenerate = 0
    if is_triangles and flat.size >= 3:
        tri = flat[: flat.size // 3 * 3].reshape(-1, 3)
        degenerate = int(
            np.count_nonzero(
                (tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 2] == tri[:, 0])
            )
        )
    return oob, int(restarts[0]) if restarts.size else -1, degenerate


def _check_indices(accessor: objects.Accessor, values: np.ndarray, ctx: Context) -> None:
    """Each primitive's use of the index data; primitives that share an accessor and a vertex
    range share one computation (thousands of primitives may name the same indices)."""
    flat = values.reshape(-1).astype(np.int64)
    found: dict[tuple[int, int, bool], tuple[npt.NDArray[np.intp], int, int]] = {}
    for check in accessor.checks.indices:
        key = (check.max_vertex, check.restart, check.is_triangles)
        if key not in found:
            found[key] = _index_findings(flat, *key)
        oob, restart, degenerate = found[key]
        if oob.size:
            i = int(oob[0])
            ctx.add(
                catalog.ACCESSOR_INDEX_OOB,
                f"Indices accessor element at index {i} has value {flat[i]} that is greater than the maximum "
                f"vertex index available ({check.max_vertex}); {oob.size} such value(s)",
                name=check.pointer,
            )
        if restart >= 0:
            ctx.add(
                catalog.ACCESSOR_INDEX_PRIMITIVE_RESTART,
                f"Indices accessor contains primitive restart value ({check.restart}) at index {restart}",
                name=check.pointer,
            )
        if degenerate:
            ctx.add(
                catalog.ACCESSOR_INDEX_TRIANGLE_DEGENERATE,
                f"Indices accessor contains {degenerate} degenerate triangles (out of {check.triangles})",
                name=check.pointer,
            )


def _animation_input_findings(values: np.ndarray) -> tuple[int | None, int | None]:
    """(first negative index, first index not above the last non-negative value before it)."""
    flat = values.reshape(-1).astype(np.float64)
    negative_mask = flat < 0
    negatives = np.flatnonzero(negative_mask)
    kept = np.flatnonzero(~negative_mask)  # the reference compares non-negative values only
    rising = flat[kept]
    # `last` starts at 0.0 and is updated by every non-negative value; NaN compares false.
    previous = np.concatenate(([0.0], rising[:-1]))
    bad = (kept != 0) & (rising <= previous)
    first_bad = np.flatnonzero(bad)
    return (
        int(negatives[0]) if negatives.size else None,
        int(kept[first_bad[0]]) if first_bad.size else None,
    )


def _check_animation_input(
    findings: tuple[int | None, int | None], pointer: str, ctx: Context
) -> None:
    negative, increasing = findings
    if negative is not None:
        ctx.add(
            catalog.ACCESSOR_ANIMATION_INPUT_NEGATIVE,
            f"Animation input accessor element at index {negative} is negative",
            name=pointer,
        )
    if increasing is not None:
        ctx.add(
            catalog.ACCESSOR_ANIMATION_INPUT_NON_INCREASING,
            f"Animation input accessor element at index {increasing} is less than or equal to previous",
            name=pointer,
        )


def _check_quaternions(accessor: objects.Accessor, values: np.ndarray, ctx: Context) -> None:
    quats = _normalized(accessor, values)
    first_bad: dict[bool, tuple[int, float] | None] = {}
    for pointer, cubic in accessor.checks.quaternions:
        if cubic not in first_bad:
            # With cubic splines each keyframe is (in-tangent, value, out-tangent): check the value.
            rows = quats[1::3] if cubic else quats
            lengths = np.sqrt(np.sum(rows**2, axis=1))
            bad = np.flatnonzero(np.abs(lengths - 1.0) > UNIT_VEC4)
            first_bad[cubic] = (int(bad[0]), float(lengths[bad[0]])) if bad.size else None
        found = first_bad[cubic]
        if found is not None:
            i, length = found
            ctx.add(
                catalog.ACCESSOR_ANIMATION_SAMPLER_OUTPUT_NON_NORMALIZED_QUATERNION,
                f"Animation sampler output quaternion {i} is not of unit length: {length}",
                name=pointer,
            )


def _check_ibm(values: np.ndarray, pointers: list[str], ctx: Context) -> None:
    bad = (values[:, [3, 7, 11]] != 0).any(axis=1) | (values[:, 15] != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        for pointer in pointers:
            ctx.add(
                catalog.ACCESSOR_INVALID_IBM,
                f"Matrix element at index {i} is not an affine transform",
                name=pointer,
            )


def check_accessor(accessor: objects.Accessor, index: int, ctx: Context) -> None:
    """Every data check of one accessor."""
    values = accessor_elements(accessor)
    if values is None:
        return
    pointer = f"/accessors/{index}"
    if accessor.component_type == FLOAT:
        _check_float(values, pointer, ctx)
    _check_bounds(accessor, values, pointer, ctx)
    checks = accessor.checks
    _check_unit(accessor, values, ctx)
    if checks.clamped:
        _check_clamped(accessor, values, ctx)
    if checks.indices:
        _check_indices(accessor, values, ctx)
    if checks.animation_inputs:  # one computation, reported for every sampler using it
        findings = _animation_input_findings(values)
        for item in checks.animation_inputs:
            _check_animation_input(findings, item, ctx)
    if checks.quaternions:
        _check_quaternions(accessor, values, ctx)
    if checks.ibms:
        _check_ibm(values, checks.ibms, ctx)


def check_data(model: Model, ctx: Context) -> None:
    """Sparse indices, then every check of each accessor's data."""
    ctx.path.clear()
    for i, accessor in enumerate(model.accessors):
        if (
            accessor is None
            or accessor.component_type == -1
            or accessor.count == -1
            or accessor.type is None
        ):
            continue
        if accessor.buffer_view is None and accessor.sparse is None:
            continue
        with ctx.at("accessors", i):
            check_sparse_indices(accessor, ctx)
    for i, accessor in enumerate(model.accessors):
        if accessor is not None:
            check_accessor(accessor, i, ctx)
