"""What trimesh drops when it loads a glTF, per primitive: the normal texture's `scale`,
KHR_materials_emissive_strength and the TANGENT attribute.

trimesh turns every textureInfo into its image (losing `scale`), ignores unknown material
extensions and vertex attributes. We read them from the file with pygltflib and key them by
the geometry name trimesh gives the primitive (`trimesh.util.unique_name` over the meshes'
names in file order, as trimesh's glTF loader does); a vertex-count check guards the match.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pygltflib
import trimesh

FloatArray = npt.NDArray[np.float64]
_FLOAT = 5126  # glTF componentType of float32


@dataclass(frozen=True, eq=False)
class PrimitiveExtras:
    """A primitive's glTF data that trimesh does not keep."""

    normal_scale: float = 1.0
    emissive_strength: float = 1.0
    vertex_count: int = 0
    tangents: FloatArray | None = None  # (n, 4) object-space TANGENT, w = handedness


def _buffer(gltf: pygltflib.GLTF2, index: int, folder: Path) -> bytes:
    uri = gltf.buffers[index].uri
    if uri is None:
        return bytes(gltf.binary_blob() or b"")
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    return (folder / uri).read_bytes()


def _float_accessor(gltf: pygltflib.GLTF2, index: int, folder: Path, width: int) -> FloatArray:
    """A float32 accessor as (count, width) float64 (byteStride honoured, no sparse)."""
    accessor = gltf.accessors[index]
    if accessor.componentType != _FLOAT or accessor.bufferView is None or accessor.sparse:
        raise ValueError("unsupported accessor")
    view = gltf.bufferViews[accessor.bufferView]
    data = _buffer(gltf, view.buffer, folder)
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    stride = view.byteStride or 4 * width
    rows = np.ndarray(
        (accessor.count, width), dtype="<f4", buffer=data, offset=start, strides=(stride, 4)
    )
    return np.array(rows, dtype=np.float64)


def _material_extras(material: Any) -> tuple[float, float]:
    """(normalTexture.scale, emissiveStrength) of a pygltflib material (None: defaults)."""
    if material is None:
        return 1.0, 1.0
    scale = 1.0
    if material.normalTexture is not None and material.normalTexture.scale is not None:
        scale = float(material.normalTexture.scale)
    strength = (material.extensions or {}).get("KHR_materials_emissive_strength", {})
    return scale, float(strength.get("emissiveStrength", 1.0))


def primitive_extras(model: Path) -> dict[str, PrimitiveExtras]:
    """trimesh geometry name -> the primitive's extras, for every triangle primitive."""
    gltf = pygltflib.GLTF2().load(str(model))
    names: dict[str, PrimitiveExtras] = {}
    counts: dict[str | None, int] = {}
    for mesh in gltf.meshes:
        for primitive in mesh.primitives:
            name = trimesh.util.unique_name(mesh.name or "GLTF", names, counts=counts)
            material = None if primitive.material is None else gltf.materials[primitive.material]
            scale, strength = _material_extras(material)
            tangents, count = None, 0
            position = primitive.attributes.POSITION
            if position is not None:
                count = gltf.accessors[position].count
            tangent = primitive.attributes.TANGENT
            if tangent is not None:
                try:
                    tangents = _float_accessor(gltf, tangent, model.parent, 4)
                except (ValueError, OSError, TypeError):
                    tangents = None  # unreadable: tangents are derived from the UVs
            names[name] = PrimitiveExtras(scale, strength, count, tangents)
    return names
