"""Small valid glTF models built in code, one per family real exporters produce.

Each builder returns a `Model` (a glTF JSON document and its one binary buffer) that the
Khronos glTF-Validator accepts; `write_glb` / `write_gltf` put it on disk. The families are
the ones that broke SHAZAM on real deliveries: compressed geometry (KHR_draco_mesh_compression,
EXT_meshopt_compression), compressed textures (KHR_texture_basisu), WebP textures, morph
targets, thousands of nodes, skins, animations and percent-encoded Unicode URIs. Compressed
payloads are placeholders: SHAZAM refuses such masters before decoding them.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.builders import write_glb as _glb_bytes

FLOAT, USHORT = 5126, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


@dataclass
class Model:
    """A glTF document under construction with its binary buffer (buffer 0)."""

    doc: dict[str, Any] = field(default_factory=lambda: {"asset": {"version": "2.0"}})
    binary: bytearray = field(default_factory=bytearray)

    def add_view(self, data: bytes, *, target: int | None = None) -> int:
        """Append `data` (4-byte aligned) as a new bufferView of buffer 0; its index."""
        self.binary += b"\0" * (-len(self.binary) % 4)
        view: dict[str, Any] = {
            "buffer": 0,
            "byteOffset": len(self.binary),
            "byteLength": len(data),
        }
        if target is not None:
            view["target"] = target
        self.binary += data
        return _append(self.doc, "bufferViews", view)

    def add_accessor(
        self, array: np.ndarray, type_: str, *, target: int | None = None, bounds: bool = False
    ) -> int:
        """A float32 (or uint16 SCALAR) accessor holding `array`; its index."""
        component = USHORT if array.dtype == np.uint16 else FLOAT
        accessor: dict[str, Any] = {
            "bufferView": self.add_view(array.tobytes(), target=target),
            "componentType": component, "count": len(array), "type": type_,
        }  # fmt: skip
        if bounds:
            accessor["min"] = array.min(axis=0).tolist()
            accessor["max"] = array.max(axis=0).tolist()
        return _append(self.doc, "accessors", accessor)

    def use(self, extension: str, *, required: bool = False) -> None:
        if extension not in self.doc.setdefault("extensionsUsed", []):
            self.doc["extensionsUsed"].append(extension)
        if required and extension not in self.doc.setdefault("extensionsRequired", []):
            self.doc["extensionsRequired"].append(extension)

    def finish(self) -> None:
        """Pad the buffer and declare its length."""
        self.binary += b"\0" * (-len(self.binary) % 4)
        buffers = self.doc.setdefault("buffers", [{}])
        buffers[0]["byteLength"] = len(self.binary)


def _append(doc: dict[str, Any], key: str, item: dict[str, Any]) -> int:
    doc.setdefault(key, []).append(item)
    return len(doc[key]) - 1


def _box() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 0.2 m box, four vertices per face: positions, normals, uvs (24, k), indices (36,)."""
    positions, normals, uvs, indices = [], [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u, v = np.roll(np.eye(3), 1, axis=0)[axis], np.roll(np.eye(3), 2, axis=0)[axis]
            if sign < 0:
                u = -u
            base = len(positions)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                positions.append(0.1 * (n + du * u + dv * v))
                normals.append(n)
                uvs.append(((du + 1) / 2, (dv + 1) / 2))
            indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return (np.array(positions, np.float32), np.array(normals, np.float32),
            np.array(uvs, np.float32), np.array(indices, np.uint16))  # fmt: skip


def _png(size: int = 8, colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def _webp(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (40, 160, 60)).save(out, "WEBP", lossless=True)
    return out.getvalue()


# A KTX2 file header (identifier, vkFormat 0 = Basis Universal, 8x8, one level): enough for
# a reader that checks the container; SHAZAM refuses KTX2 masters from the declaration.
_KTX2 = b"\xabKTX 20\xbb\r\n\x1a\n" + struct.pack("<9I", 0, 1, 8, 8, 0, 0, 1, 1, 1) + bytes(48)


def box(*, texture: str | None = None, nodes: int = 1) -> Model:
    """A textured box drawn by `nodes` nodes (one mesh instanced on a grid)."""
    model = Model()
    positions, normals, uvs, indices = _box()
    attributes = {
        "POSITION": model.add_accessor(positions, "VEC3", target=ARRAY_BUFFER, bounds=True),
        "NORMAL": model.add_accessor(normals, "VEC3", target=ARRAY_BUFFER),
        "TEXCOORD_0": model.add_accessor(uvs, "VEC2", target=ARRAY_BUFFER),
    }
    primitive = {
        "attributes": attributes,
        "indices": model.add_accessor(indices, "SCALAR", target=ELEMENT_ARRAY_BUFFER),
    }
    pbr: dict[str, Any] = {"metallicFactor": 0.0, "roughnessFactor": 0.6}
    if texture is not None:
        pbr["baseColorTexture"] = {"index": _texture(model, texture)}
    model.doc["materials"] = [{"pbrMetallicRoughness": pbr}]
    primitive["material"] = 0
    model.doc["meshes"] = [{"primitives": [primitive]}]
    side = max(1, int(np.ceil(np.sqrt(nodes))))
    model.doc["nodes"] = [
        {"mesh": 0, "translation": [0.25 * (i % side), 0.0, 0.25 * (i // side)]}
        for i in range(nodes)
    ]
    model.doc["scenes"] = [{"nodes": list(range(nodes))}]
    model.doc["scene"] = 0
    return model


def _texture(model: Model, kind: str) -> int:
    """An image and a texture sampling it: 'png', 'webp' (EXT_texture_webp, PNG fallback) or
    'ktx2' (KHR_texture_basisu, PNG fallback)."""
    png = {"bufferView": model.add_view(_png()), "mimeType": "image/png"}
    model.doc["images"] = [png]
    texture: dict[str, Any] = {"source": 0}
    if kind == "webp":
        model.use("EXT_texture_webp")
        model.doc["images"].append(
            {"bufferView": model.add_view(_webp()), "mimeType": "image/webp"}
        )
        texture["extensions"] = {"EXT_texture_webp": {"source": 1}}
    elif kind == "ktx2":
        model.use("KHR_texture_basisu")
        model.doc["images"].append({"bufferView": model.add_view(_KTX2), "mimeType": "image/ktx2"})
        texture["extensions"] = {"KHR_texture_basisu": {"source": 1}}
    model.doc["textures"] = [texture]
    return 0


def draco_box() -> Model:
    """A box whose primitive is KHR_draco_mesh_compression: accessors without bufferViews
    (a reader without Draco sees zeros) and an opaque blob in its own bufferView."""
    model = box()
    primitive = model.doc["meshes"][0]["primitives"][0]
    for index in (*primitive["attributes"].values(), primitive["indices"]):
        model.doc["accessors"][index].pop("bufferView")
    blob = model.add_view(b"DRACO" + bytes(59))
    primitive["extensions"] = {
        "KHR_draco_mesh_compression": {
            "bufferView": blob,
            "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
        }
    }
    model.use("KHR_draco_mesh_compression", required=True)
    _drop_unused_views(model)
    return model


def meshopt_box(extension: str = "EXT_meshopt_compression") -> Model:
    """A box laid out the way gltfpack writes it (see `meshopt_layout`)."""
    model = box()
    model.finish()
    meshopt_layout(model.doc, extension)
    return model


def meshopt_layout(doc: dict[str, Any], extension: str = "EXT_meshopt_compression") -> None:
    """Rewrite `doc` the way gltfpack lays out meshopt data: the accessors' bufferViews move
    to a fallback buffer that has no data (no uri) and point at their bytes in buffer 0
    through the extension (kept uncompressed here: SHAZAM refuses before decoding)."""
    doc["buffers"].append(
        {
            "byteLength": doc["buffers"][0]["byteLength"],
            "extensions": {extension: {"fallback": True}},
        }
    )
    fallback = len(doc["buffers"]) - 1
    for index in sorted({a["bufferView"] for a in doc["accessors"] if "bufferView" in a}):
        view = doc["bufferViews"][index]
        view["extensions"] = {
            extension: {
                "buffer": 0,
                "byteOffset": view.get("byteOffset", 0),
                "byteLength": view["byteLength"],
                "byteStride": 4,
                "count": view["byteLength"] // 4,
                "mode": "ATTRIBUTES",
            }
        }
        view["buffer"] = fallback
    doc.setdefault("extensionsUsed", []).append(extension)
    doc.setdefault("extensionsRequired", []).append(extension)


def _drop_unused_views(model: Model) -> None:
    """Keep the views still referenced (the Draco placeholders left some unused)."""
    used = {a["bufferView"] for a in model.doc["accessors"] if "bufferView" in a}
    used |= {i["bufferView"] for i in model.doc.get("images", [])}
    for mesh in model.doc["meshes"]:
        for p in mesh["primitives"]:
            used |= {e["bufferView"] for e in p.get("extensions", {}).values()}
    keep = sorted(used)
    remap = {old: new for new, old in enumerate(keep)}
    model.doc["bufferViews"] = [model.doc["bufferViews"][i] for i in keep]
    for item in [*model.doc["accessors"], *model.doc.get("images", [])]:
        if "bufferView" in item:
            item["bufferView"] = remap[item["bufferView"]]
    for mesh in model.doc["meshes"]:
        for p in mesh["primitives"]:
            for ext in p.get("extensions", {}).values():
                ext["bufferView"] = remap[ext["bufferView"]]


def morph_box(targets: int = 2) -> Model:
    """A box with `targets` morph targets (POSITION displacements) and default weights."""
    model = box()
    positions = _box()[0]
    primitive = model.doc["meshes"][0]["primitives"][0]
    primitive["targets"] = [
        {
            "POSITION": model.add_accessor(
                positions * (0.1 * (t + 1)), "VEC3", target=ARRAY_BUFFER, bounds=True
            )
        }
        for t in range(targets)
    ]
    model.doc["meshes"][0]["weights"] = [0.5] * targets
    return model


def animated_skinned_box() -> Model:
    """A box skinned to two joints, with a rotation animation on the second joint."""
    model = box()
    primitive = model.doc["meshes"][0]["primitives"][0]
    count = len(_box()[0])
    joints = np.zeros((count, 4), np.uint16)
    joints[count // 2 :, 0] = 1
    weights = np.zeros((count, 4), np.float32)
    weights[:, 0] = 1.0
    primitive["attributes"]["JOINTS_0"] = model.add_accessor(joints, "VEC4", target=ARRAY_BUFFER)
    primitive["attributes"]["WEIGHTS_0"] = model.add_accessor(weights, "VEC4", target=ARRAY_BUFFER)
    model.doc["accessors"][primitive["attributes"]["JOINTS_0"]]["componentType"] = USHORT
    inverse = np.tile(np.eye(4, dtype=np.float32).reshape(1, 16), (2, 1))
    model.doc["nodes"] = [
        {"mesh": 0, "skin": 0},
        {"children": [2]},
        {"translation": [0.0, 0.1, 0.0]},
    ]
    model.doc["skins"] = [
        {
            "joints": [1, 2],
            "skeleton": 1,
            "inverseBindMatrices": model.add_accessor(inverse, "MAT4"),
        }
    ]
    model.doc["scenes"] = [{"nodes": [0, 1]}]
    times = np.array([[0.0], [1.0]], np.float32)
    rotations = np.array([[0, 0, 0, 1], [0, 0.3826834, 0, 0.9238795]], np.float32)
    model.doc["animations"] = [{
        "samplers": [{"input": model.add_accessor(times, "SCALAR", bounds=True),
                      "output": model.add_accessor(rotations, "VEC4")}],
        "channels": [{"sampler": 0, "target": {"node": 2, "path": "rotation"}}],
    }]  # fmt: skip
    return model


def no_data_box() -> Model:
    """A .gltf box whose buffer has no uri: valid glTF (the data is simply undefined, as in
    the Khronos corpus' named_objects.gltf), yet there is no geometry to check or draw."""
    return box()


def write_glb(model: Model, path: Path) -> Path:
    model.finish()
    path.write_bytes(_glb_bytes(model.doc, bytes(model.binary)))
    return path


def write_gltf(
    model: Model, path: Path, *, bin_name: str | None = "model.bin", data_uri: bool = False
) -> Path:
    """A .gltf with its buffer in `bin_name` (written beside it; the URI percent-encoded as
    the glTF spec requires), as a data: URI, or with no uri at all (bin_name None)."""
    model.finish()
    buffer = model.doc["buffers"][0]
    if data_uri:
        buffer["uri"] = (
            "data:application/octet-stream;base64," + base64.b64encode(model.binary).decode()
        )
    elif bin_name is not None:
        buffer["uri"] = urllib.parse.quote(bin_name)
        (path.parent / bin_name).write_bytes(bytes(model.binary))
    path.write_text(json.dumps(model.doc))
    return path
