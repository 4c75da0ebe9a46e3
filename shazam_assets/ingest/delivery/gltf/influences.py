"""Skin influences: per vertex, JOINTS_n must name real, distinct joints and WEIGHTS_n sum to 1.

A mesh may be used by several skinned nodes; the smallest skin limits which joint indices are
valid. Weights are summed in single precision with a tolerance that grows with the number of
weights, as the reference validator does, so borderline exports get the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shazam_assets.ingest.delivery.gltf import catalog, objects
from shazam_assets.ingest.delivery.gltf.accessors import normalized_values
from shazam_assets.ingest.delivery.gltf.context import FLOAT, Context
from shazam_assets.ingest.delivery.gltf.data_checks import accessor_elements
from shazam_assets.ingest.delivery.gltf.document import Model
from shazam_assets.ingest.delivery.report import Rule


def _weights(accessor: objects.Accessor, values: np.ndarray) -> np.ndarray:
    """Weights as floats; integer weights always count as normalized."""
    return normalized_values(accessor.component_type, values)


def _limiting_skins(model: Model) -> dict[int, tuple[int, int]]:
    """id(mesh) -> (max joint count, skin index) of the smallest skin used with it, in one
    pass over the nodes (a mesh with no skinned node is absent)."""
    skin_index = {id(s): i for i, s in reversed(list(enumerate(model.skins)))}
    best: dict[int, tuple[int, int]] = {}
    for node in model.nodes:
        if node is None or node.mesh is None or node.skin is None or node.skin.joints is None:
            continue
        count = len(node.skin.joints)
        key = id(node.mesh)
        if key not in best or count < best[key][0]:
            best[key] = (count, skin_index[id(node.skin)])
    return best


def _influence_arrays(
    primitive: objects.Primitive,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Joints, weights and a validity mask, (vertices, 4*sets) in the reference's order.

    The reference walks all JOINTS_n/WEIGHTS_n streams component by component, four per
    vertex, and stops when the shortest stream ends; the mask marks positions it reached.
    """
    joints, weights = [], []
    for i in range(primitive.joints_count):
        j_acc = primitive.linked_attributes.get(f"JOINTS_{i}")
        w_acc = primitive.linked_attributes.get(f"WEIGHTS_{i}")
        if (
            j_acc is None
            or w_acc is None
            or j_acc.count != primitive.vertex_count
            or w_acc.count != primitive.vertex_count
        ):
            return None
        if j_acc.component_type == FLOAT:
            return None
        j_values, w_values = accessor_elements(j_acc), accessor_elements(w_acc)
        if j_values is None or w_values is None:
            return None
        joints.append(j_values.reshape(-1).astype(np.int64))
        weights.append(_weights(w_acc, w_values).reshape(-1))
    length = min(len(a) for a in joints + weights)
    vertices = -(-length // 4)
    sets = primitive.joints_count
    j = np.zeros((vertices, 4 * sets), dtype=np.int64)
    w = np.zeros((vertices, 4 * sets), dtype=np.float64)
    valid = np.zeros((vertices, 4 * sets), dtype=bool)
    for s in range(sets):
        for c in range(4):
            positions = np.arange(c, length, 4)
            j[positions // 4, c * sets + s] = joints[s][positions]
            w[positions // 4, c * sets + s] = weights[s][positions]
            valid[positions // 4, c * sets + s] = True
    return j, w, valid


@dataclass(frozen=True)
class _Influences:
    """One primitive's joints and weights, (vertices, 4*sets), in the reference's order."""

    joints: np.ndarray  # (v, 4*sets) int64
    weights: np.ndarray  # (v, 4*sets) float64
    valid: np.ndarray  # (v, 4*sets) bool: positions the reference reaches
    sets: int
    pointer: str  # .../attributes

    def report(self, ctx: Context, rule: Rule, mask: np.ndarray, prefix: str, message: str) -> None:
        """Report the first position of `mask`, at the JOINTS_n or WEIGHTS_n it belongs to."""
        if mask.any():
            vertex, column = (int(x) for x in np.argwhere(mask)[0])
            name = f"{self.pointer}/{prefix}_{column % self.sets}"
            ctx.add(
                rule, message.format(vertex=vertex, value=self.joints[vertex, column]), name=name
            )


def _check_joints(inf: _Influences, max_joint: int, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-range, repeated and zero-weight joints; returns (out of range, weighted) masks."""
    j, w = inf.joints, inf.weights
    oob = inf.valid & (j > max_joint)
    message = (
        "Joints accessor element at vertex {vertex} has value {value} beyond the skin's joints"
    )
    inf.report(ctx, catalog.ACCESSOR_JOINTS_INDEX_OOB, oob, "JOINTS", message)
    active = inf.valid & ~oob & (w != 0)
    keyed = np.where(active, j, -1 - np.arange(j.shape[1]))  # inactive slots never collide
    ordered = np.sort(keyed, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        vertex = int(np.flatnonzero(repeated.any(axis=1))[0])
        ctx.add(
            catalog.ACCESSOR_JOINTS_INDEX_DUPLICATE,
            f"Vertex {vertex} uses a joint twice",
            name=f"{inf.pointer}/JOINTS_0",
        )
    zero_used = inf.valid & ~oob & (w == 0) & (j != 0)
    message = "Vertex {vertex} uses joint {value} with zero weight"
    inf.report(ctx, catalog.ACCESSOR_JOINTS_USED_ZERO_WEIGHT, zero_used, "JOINTS", message)
    return oob, active


def _check_weights(inf: _Influences, active: np.ndarray, ctx: Context) -> None:
    """Negative weights, and per-vertex sums (float32, growing tolerance) away from 1."""
    w = inf.weights
    negative = active & (w < 0)
    inf.report(
        ctx,
        catalog.ACCESSOR_WEIGHTS_NEGATIVE,
        negative,
        "WEIGHTS",
        "Vertex {vertex} has a negative weight",
    )
    counted = _first_occurrences(inf.joints, active) & ~negative
    total = np.zeros(w.shape[0], dtype=np.float32)
    for column in range(w.shape[1]):
        total = np.where(counted[:, column], (total + w[:, column]).astype(np.float32), total)
    threshold = counted.sum(axis=1) * 2e-7
    bad = (np.abs(total.astype(np.float64) - 1.0) > threshold) & inf.valid.all(axis=1)
    if bad.any():
        vertex = int(np.flatnonzero(bad)[0])
        for s in range(inf.sets):
            message = f"Weights of vertex {vertex} have non-normalized sum: {total[vertex]}"
            ctx.add(
                catalog.ACCESSOR_WEIGHTS_NON_NORMALIZED, message, name=f"{inf.pointer}/WEIGHTS_{s}"
            )


def _first_occurrences(j: np.ndarray, active: np.ndarray) -> np.ndarray:
    """True where an active joint appears for the first time in its vertex (column order)."""
    first = active.copy()
    for column in range(1, j.shape[1]):
        earlier = (j[:, :column] == j[:, column : column + 1]) & active[:, :column]
        first[:, column] &= ~earlier.any(axis=1)
    return first


def check_influences(model: Model, ctx: Context) -> None:
    ctx.path.clear()
    limiting = _limiting_skins(model)
    for mesh_index, mesh in enumerate(model.meshes):
        if mesh is None or mesh.primitives is None:
            continue
        if all(p is None or p.joints_count == 0 for p in mesh.primitives):
            continue
        max_joints, _ = limiting.get(id(mesh), (-1, -1))
        if max_joints < 1:
            continue
        for p_index, primitive in enumerate(mesh.primitives):
            if primitive is None or primitive.joints_count == 0:
                continue
            arrays = _influence_arrays(primitive)
            if arrays is None:
                continue
            pointer = f"/meshes/{mesh_index}/primitives/{p_index}/attributes"
            influences = _Influences(*arrays, primitive.joints_count, pointer)
            _, active = _check_joints(influences, max_joints - 1, ctx)
            _check_weights(influences, active, ctx)
