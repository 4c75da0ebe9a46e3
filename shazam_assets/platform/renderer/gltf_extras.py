"""What trimesh drops when it loads a glTF, per primitive: the normal texture's `scale`,
KHR_materials_emissive_strength, the TANGENT and TEXCOORD_1 attributes (and, for the USDZ, the
primitive's material index).

trimesh turns every textureInfo into its image (losing `scale`), ignores unknown material
extensions and vertex attributes. We read them from the file's JSON (`source.py`) and key them by
the geometry name trimesh gives the primitive (`trimesh.util.unique_name` over the meshes'
names in file order, as trimesh's glTF loader does); a vertex-count check guards the match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

from shazam_assets.platform.renderer.source import GltfSource, read_source

FloatArray = npt.NDArray[np.float64]
_FLOAT = 5126  # glTF componentType of float32


@dataclass(frozen=True, eq=False)
class PrimitiveExtras:
    """A primitive's glTF data that trimesh does not keep."""

    normal_scale: float = 1.0
    emissive_strength: float = 1.0
    vertex_count: int = 0
    tangents: FloatArray | None = None  # (n, 4) object-space TANGENT, w = handedness
    material: int | None = None  # the primitive's index into the file's materials
    uv1: FloatArray | None = None  # (n, 2) TEXCOORD_1 as stored (V down), float ones only


def _float_accessor(source: GltfSource, index: int, width: int) -> FloatArray:
    """A float32 accessor as (count, width) float64 (byteStride honoured, no sparse)."""
    doc = source.document
    accessor = doc["accessors"][index]
    if accessor["componentType"] != _FLOAT or "bufferView" not in accessor or "sparse" in accessor:
        raise ValueError("unsupported accessor")
    view = doc["bufferViews"][accessor["bufferView"]]
    data = source.buffer(view["buffer"])
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    stride = view.get("byteStride") or 4 * width
    rows = np.ndarray(
        (accessor["count"], width), dtype="<f4", buffer=data, offset=start, strides=(stride, 4)
    )
    return np.array(rows, dtype=np.float64)


def _optional(source: GltfSource, index: int, width: int) -> FloatArray | None:
    """A float32 accessor, or None where it cannot be read as one."""
    try:
        return _float_accessor(source, index, width)
    except (ValueError, OSError, TypeError, KeyError, IndexError):
        return None


def _material_extras(material: dict[str, Any] | None) -> tuple[float, float]:
    """(normalTexture.scale, emissiveStrength) of a glTF material (None: defaults)."""
    if material is None:
        return 1.0, 1.0
    scale = float((material.get("normalTexture") or {}).get("scale", 1.0))
    strength = (material.get("extensions") or {}).get("KHR_materials_emissive_strength", {})
    return scale, float(strength.get("emissiveStrength", 1.0))


def primitive_extras(model: Path | GltfSource) -> dict[str, PrimitiveExtras]:
    """trimesh geometry name -> the primitive's extras, for every triangle primitive."""
    source = model if isinstance(model, GltfSource) else read_source(Path(model))
    doc = source.document
    materials, accessors = doc.get("materials", []), doc.get("accessors", [])
    names: dict[str, PrimitiveExtras] = {}
    counts: dict[str | None, int] = {}
    for mesh in doc.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            name = trimesh.util.unique_name(mesh.get("name") or "GLTF", names, counts=counts)
            index = primitive.get("material")
            material = materials[index] if index is not None else None
            scale, strength = _material_extras(material)
            tangents, count = None, 0
            attributes = primitive.get("attributes", {})
            if "POSITION" in attributes:
                count = accessors[attributes["POSITION"]]["count"]
            if "TANGENT" in attributes:
                tangents = _optional(source, attributes["TANGENT"], 4)  # else derived from UVs
            uv1 = (
                _optional(source, attributes["TEXCOORD_1"], 2)
                if "TEXCOORD_1" in attributes
                else None
            )
            names[name] = PrimitiveExtras(scale, strength, count, tangents, index, uv1)
    return names
