"""Small glTF files built in code: a valid model with every feature the rules look at, and one
broken variant of it per error code (`ERROR_CASES`).

`tests/ingest/delivery/test_gltf.py` checks that each broken file gets its code;
`tests/ingest/delivery/test_khronos_parity.py` runs the Khronos glTF-Validator over the same
files and compares every code.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

JSON_CHUNK, BIN_CHUNK = 0x4E4F534A, 0x004E4942
DTYPES = {5120: "<i1", 5121: "<u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


# --- a small valid model ----------------------------------------------------------------


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (4, 4), (200, 30, 30, 255)).save(out, "PNG")
    return out.getvalue()


def tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(out, "JPEG")
    return out.getvalue()


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@cache
def _base() -> tuple[str, bytes]:
    """One quad with every feature the rules look at; accessor numbers are fixed below."""
    doc: dict = {"asset": {"version": "2.0"}, "accessors": [], "bufferViews": []}
    binary = bytearray()

    def view(data: bytes, **extra: int) -> int:
        binary.extend(b"\0" * (-len(binary) % 4))
        doc["bufferViews"].append(
            {"buffer": 0, "byteOffset": len(binary), "byteLength": len(data), **extra}
        )
        binary.extend(data)
        return len(doc["bufferViews"]) - 1

    def accessor(values, type_: str, component: int, *, bounds: bool = False, **extra: int) -> int:
        array = np.asarray(values, dtype=DTYPES[component])
        spec = {"bufferView": view(array.tobytes(), **extra), "componentType": component,
                "count": len(array), "type": type_}  # fmt: skip
        if bounds:
            flat = array.reshape(len(array), -1)
            spec["min"], spec["max"] = flat.min(axis=0).tolist(), flat.max(axis=0).tolist()
        doc["accessors"].append(spec)
        return len(doc["accessors"]) - 1

    vertex, index = {"target": 34962}, {"target": 34963}
    accessor(
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], "VEC3", 5126, bounds=True, **vertex
    )  # 0 POSITION
    accessor([[0, 0, 1]] * 4, "VEC3", 5126, **vertex)  # 1 NORMAL
    accessor([[1, 0, 0, 1]] * 4, "VEC4", 5126, **vertex)  # 2 TANGENT
    accessor([[0, 0], [1, 0], [1, 1], [0, 1]], "VEC2", 5126, **vertex)  # 3 TEXCOORD_0
    accessor([[1, 1, 1, 1]] * 4, "VEC4", 5126, **vertex)  # 4 COLOR_0
    accessor([[0, 1, 0, 0]] * 4, "VEC4", 5121, **vertex)  # 5 JOINTS_0
    accessor([[0.5, 0.5, 0, 0]] * 4, "VEC4", 5126, **vertex)  # 6 WEIGHTS_0
    accessor([0, 1, 2, 0, 2, 3], "SCALAR", 5123, **index)  # 7 indices
    accessor([[0, 0, 0.1]] * 4, "VEC3", 5126, bounds=True, **vertex)  # 8 morph target POSITION
    accessor([np.eye(4).reshape(16)] * 2, "MAT4", 5126)  # 9 inverse bind matrices
    accessor([0, 1], "SCALAR", 5126, bounds=True)  # 10 keyframe times
    accessor([[0, 0, 0, 1], [0, 0.7071068, 0, 0.7071068]], "VEC4", 5126)  # 11 rotations
    accessor([0, 1], "SCALAR", 5126)  # 12 morph weights
    sparse_indices = view(np.array([1, 2], "<u2").tobytes())  # view 13
    sparse_values = view(np.array([[5, 5, 5], [6, 6, 6]], "<f4").tobytes())  # view 14
    doc["accessors"].append(  # 13: POSITION with two elements replaced
        {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [6, 6, 6],
         "sparse": {"count": 2, "indices": {"bufferView": sparse_indices, "componentType": 5123},
                    "values": {"bufferView": sparse_values}}}
    )  # fmt: skip
    png_view = view(tiny_png())  # view 15
    binary.extend(b"\0" * (-len(binary) % 4))
    doc.update(
        buffers=[{"byteLength": len(binary)}],
        meshes=[{"primitives": [{
            "attributes": {"POSITION": 0, "NORMAL": 1, "TANGENT": 2, "TEXCOORD_0": 3, "COLOR_0": 4,
                           "JOINTS_0": 5, "WEIGHTS_0": 6},
            "indices": 7, "material": 0, "targets": [{"POSITION": 8}]}], "weights": [0.0]}],
        materials=[{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}, "metallicRoughnessTexture": {"index": 1}},
                    "normalTexture": {"index": 1}, "occlusionTexture": {"index": 0}}],
        textures=[{"source": 0, "sampler": 0}, {"source": 1}],
        samplers=[{"magFilter": 9729, "minFilter": 9987}],
        images=[{"bufferView": png_view, "mimeType": "image/png"},
                {"uri": data_uri("image/jpeg", tiny_jpeg()), "mimeType": "image/jpeg"}],
        cameras=[{"type": "perspective", "perspective": {"yfov": 0.8, "znear": 0.1, "zfar": 100}},
                 {"type": "orthographic", "orthographic": {"xmag": 1, "ymag": 1, "znear": 0, "zfar": 10}}],
        nodes=[{"children": [1, 2, 4], "translation": [0, 1, 0]}, {"mesh": 0, "skin": 0},
               {"children": [3], "rotation": [0, 0, 0, 1]}, {"translation": [0, 1, 0]},
               {"camera": 0, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 2, 3, 1]}, {"camera": 1}],
        skins=[{"joints": [2, 3], "inverseBindMatrices": 9, "skeleton": 2}],
        animations=[{"channels": [{"sampler": 0, "target": {"node": 3, "path": "rotation"}},
                                  {"sampler": 1, "target": {"node": 1, "path": "weights"}}],
                     "samplers": [{"input": 10, "output": 11}, {"input": 10, "output": 12}]}],
        scenes=[{"nodes": [0, 5]}],
        scene=0,
    )  # fmt: skip
    return json.dumps(doc), bytes(binary)


class Model:
    """A fresh, editable copy of the base model."""

    def __init__(self) -> None:
        text, binary = _base()
        self.doc: dict = json.loads(text)
        self.bin = bytearray(binary)

    def data(self, index: int) -> np.ndarray:
        """A writable (count, components) view of accessor `index` in the binary."""
        spec = self.doc["accessors"][index]
        view = self.doc["bufferViews"][spec["bufferView"]]
        start = view["byteOffset"] + spec.get("byteOffset", 0)
        count, components = spec["count"], SIZES[spec["type"]]
        array = np.frombuffer(
            self.bin, dtype=DTYPES[spec["componentType"]], count=count * components, offset=start
        )
        return array.reshape(count, components)

    def glb(
        self, *, chunks: list[tuple[int, bytes]] | None = None, length: int | None = None
    ) -> bytes:
        text = json.dumps(self.doc).encode()
        if chunks is None:
            chunks = [(JSON_CHUNK, text + b" " * (-len(text) % 4)), (BIN_CHUNK, bytes(self.bin))]
        body = b"".join(struct.pack("<II", len(data), kind) + data for kind, data in chunks)
        return b"glTF" + struct.pack("<II", 2, 12 + len(body) if length is None else length) + body

    def gltf(self, *, buffer_uri: str | None = None) -> bytes:
        doc = copy.deepcopy(self.doc)
        if buffer_uri is not None or "uri" not in doc["buffers"][0]:
            doc["buffers"][0]["uri"] = buffer_uri or data_uri(
                "application/octet-stream", bytes(self.bin)
            )
        return json.dumps(doc).encode()


# --- one broken file per error code -----------------------------------------------------


@dataclass(frozen=True)
class Case:
    code: str
    build: Callable[[Path], Path]  # writes the file(s) into a folder, returns the model path


def glb_case(code: str, edit: Callable[[Model], object]) -> Case:
    def build(folder: Path) -> Path:
        m = Model()
        edit(m)
        (folder / "model.glb").write_bytes(m.glb())
        return folder / "model.glb"

    return Case(code, build)


def gltf_case(code: str, edit: Callable[[Model], object]) -> Case:
    def build(folder: Path) -> Path:
        m = Model()
        edit(m)
        (folder / "model.gltf").write_bytes(m.gltf())
        return folder / "model.gltf"

    return Case(code, build)


def raw_case(code: str, make: Callable[[Model], bytes], name: str = "model.glb") -> Case:
    def build(folder: Path) -> Path:
        (folder / name).write_bytes(make(Model()))
        return folder / name

    return Case(code, build)


def _outside(folder: Path) -> Path:
    m = Model()
    (folder.parent / "outside.bin").write_bytes(bytes(m.bin))
    (folder / "model.gltf").write_bytes(m.gltf(buffer_uri="../outside.bin"))
    return folder / "model.gltf"


def _missing(folder: Path) -> Path:
    (folder / "model.gltf").write_bytes(Model().gltf(buffer_uri="missing.bin"))
    return folder / "model.gltf"


def _set(path: str, value: object) -> Callable[[Model], None]:
    """Edit the document at a '/'-separated path (missing last key is created)."""

    def edit(m: Model) -> None:
        *parents, last = path.split("/")
        target = m.doc
        for key in parents:
            target = target[int(key) if isinstance(target, list) else key]
        target[int(last) if isinstance(target, list) else last] = value

    return edit


def _delete(path: str) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        *parents, last = path.split("/")
        target = m.doc
        for key in parents:
            target = target[int(key) if isinstance(target, list) else key]
        del target[int(last) if isinstance(target, list) else last]

    return edit


def _all(*edits: Callable[[Model], object]) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        for one in edits:
            one(m)

    return edit


def _put(accessor: int, row: int, values: list[float]) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        m.data(accessor)[row] = values

    return edit


def _json_chunk(m: Model, *, pad: bool = True) -> bytes:
    text = json.dumps(m.doc).encode()
    return text + (b" " * (-len(text) % 4) if pad else b"")


def _unaligned_json(m: Model) -> bytes:
    text = _json_chunk(m, pad=False)
    if len(text) % 4 == 0:
        text += b"\n"
    return m.glb(chunks=[(JSON_CHUNK, text)])


def _webp() -> bytes:
    return (
        b"RIFF"
        + struct.pack("<I", 26)
        + b"WEBPVP8L"
        + struct.pack("<I", 14)
        + bytes([0x2F, 3, 0xC0, 0, 0])
        + bytes(9)
    )


def _clearcoat_normal_only(m: Model) -> None:
    m.doc["extensionsUsed"] = ["KHR_materials_clearcoat"]
    material = m.doc["materials"][0]
    del material["normalTexture"]
    material["extensions"] = {"KHR_materials_clearcoat": {"clearcoatNormalTexture": {"index": 1}}}
    del m.doc["meshes"][0]["primitives"][0]["attributes"]["TANGENT"]


def _separate_skinned_scene(m: Model) -> None:
    m.doc["nodes"][0]["children"] = [2, 4]
    m.doc["scenes"].append({"nodes": [1]})


def _extra_accessor(spec: dict, semantic: str) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        m.doc["accessors"].append(spec)
        m.doc["meshes"][0]["primitives"][0]["attributes"][semantic] = len(m.doc["accessors"]) - 1

    return edit


def _spot_light(m: Model) -> None:
    m.doc["extensionsUsed"] = ["KHR_lights_punctual"]
    spot = {"innerConeAngle": 0.5, "outerConeAngle": 0.4}
    m.doc["extensions"] = {"KHR_lights_punctual": {"lights": [{"type": "spot", "spot": spot}]}}
    m.doc["nodes"][5]["extensions"] = {"KHR_lights_punctual": {"light": 0}}


def _repeated_variant(m: Model) -> None:
    m.doc["extensionsUsed"] = ["KHR_materials_variants"]
    m.doc["extensions"] = {
        "KHR_materials_variants": {"variants": [{"name": "red"}, {"name": "blue"}]}
    }
    mapping = {"mappings": [{"variants": [0], "material": 0}, {"variants": [1, 0], "material": 0}]}
    m.doc["meshes"][0]["primitives"][0]["extensions"] = {"KHR_materials_variants": mapping}


def _pointer_channel(**target: object) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        m.doc["extensionsUsed"] = ["KHR_animation_pointer"]
        pointer = {"KHR_animation_pointer": {"pointer": "/nodes/1/weights"}}
        m.doc["animations"][0]["channels"].append(
            {"sampler": 1, "target": {**target, "extensions": pointer}}
        )

    return edit


P0 = "meshes/0/primitives/0"
WEBP_IMAGE = _all(
    _set("images/1/uri", data_uri("image/webp", _webp())), _delete("images/1/mimeType")
)

ERROR_CASES = [
    Case("GLTF_URI_OUTSIDE_DELIVERY", _outside),  # our own code (see test_khronos_parity.OURS_ONLY)
    Case("GLTF_IO_ERROR", _missing),
    raw_case("GLTF_GLB_INVALID_MAGIC", lambda m: b"glTX" + m.glb()[4:]),
    raw_case(
        "GLTF_GLB_INVALID_VERSION", lambda m: m.glb()[:4] + struct.pack("<I", 3) + m.glb()[8:]
    ),
    raw_case("GLTF_GLB_LENGTH_TOO_SMALL", lambda m: m.glb(length=12)),
    raw_case("GLTF_GLB_CHUNK_LENGTH_UNALIGNED", _unaligned_json),
    raw_case("GLTF_GLB_CHUNK_TOO_BIG", lambda m: m.glb(length=len(m.glb()) - 8)),
    raw_case(
        "GLTF_GLB_UNEXPECTED_FIRST_CHUNK",
        lambda m: m.glb(chunks=[(BIN_CHUNK, bytes(m.bin)), (JSON_CHUNK, _json_chunk(m))]),
    ),
    raw_case(
        "GLTF_GLB_UNEXPECTED_BIN_CHUNK",
        lambda m: m.glb(
            chunks=[(JSON_CHUNK, _json_chunk(m)), (0x12345678, bytes(4)), (BIN_CHUNK, bytes(m.bin))]
        ),
    ),
    raw_case("GLTF_GLB_EMPTY_CHUNK", lambda m: m.glb(chunks=[(JSON_CHUNK, b"")])),
    raw_case(
        "GLTF_GLB_DUPLICATE_CHUNK", lambda m: m.glb(chunks=[(JSON_CHUNK, _json_chunk(m))] * 2)
    ),
    raw_case("GLTF_GLB_UNEXPECTED_END_OF_HEADER", lambda m: m.glb()[:6]),
    raw_case(
        "GLTF_GLB_UNEXPECTED_END_OF_CHUNK_HEADER",
        lambda m: m.glb(length=len(m.glb()) + 4) + bytes(4),
    ),
    raw_case("GLTF_GLB_UNEXPECTED_END_OF_CHUNK_DATA", lambda m: m.glb()[:-8]),
    raw_case("GLTF_GLB_LENGTH_MISMATCH", lambda m: m.glb(length=len(m.glb()) + 8)),
    raw_case("GLTF_INVALID_JSON", lambda m: m.gltf()[:-1], name="model.gltf"),
    glb_case("GLTF_TYPE_MISMATCH", _set("accessors/0/count", "4")),
    glb_case("GLTF_ARRAY_TYPE_MISMATCH", _set("accessors/0/min", ["a", 0, 0])),
    glb_case("GLTF_ARRAY_LENGTH_NOT_IN_LIST", _set("nodes/0/translation", [0, 1])),
    glb_case("GLTF_DUPLICATE_ELEMENTS", _set("nodes/2/children", [3, 3])),
    glb_case("GLTF_EMPTY_ENTITY", _set("cameras", [])),
    glb_case("GLTF_INVALID_INDEX", _set("scenes/0/nodes", [0, -1])),
    glb_case("GLTF_INVALID_URI", _set("images/1/uri", "1abc:texture.png")),
    glb_case("GLTF_ONE_OF_MISMATCH", _set("images/0/uri", "texture.png")),
    glb_case("GLTF_PATTERN_MISMATCH", _set("asset/version", "2.0.0")),
    glb_case("GLTF_UNDEFINED_PROPERTY", _delete("accessors/0/count")),
    glb_case("GLTF_UNSATISFIED_DEPENDENCY", _set("nodes/4/weights", [1.0])),
    glb_case("GLTF_VALUE_MULTIPLE_OF", _set("bufferViews/0/byteStride", 14)),
    glb_case("GLTF_VALUE_NOT_IN_RANGE", _set(f"{P0}/mode", 9)),
    glb_case("GLTF_UNKNOWN_ASSET_MAJOR_VERSION", _set("asset/version", "3.0")),
    glb_case("GLTF_ASSET_MIN_VERSION_GREATER_THAN_VERSION", _set("asset/minVersion", "2.1")),
    glb_case("GLTF_NON_REQUIRED_EXTENSION", _set("extensionsUsed", ["KHR_mesh_quantization"])),
    glb_case(
        "GLTF_UNUSED_EXTENSION_REQUIRED",
        _all(
            _set("extensionsUsed", ["KHR_materials_unlit"]),
            _set("extensionsRequired", ["KHR_texture_transform"]),
        ),
    ),
    glb_case(
        "GLTF_UNDECLARED_EXTENSION", _set("materials/0/extensions", {"KHR_materials_unlit": {}})
    ),
    glb_case(
        "GLTF_UNEXPECTED_EXTENSION_OBJECT",
        _all(
            _set("extensionsUsed", ["KHR_materials_unlit"]),
            _set("nodes/0/extensions", {"KHR_materials_unlit": {}}),
        ),
    ),
    glb_case("GLTF_UNRESOLVED_REFERENCE", _set(f"{P0}/material", 5)),
    glb_case("GLTF_ACCESSOR_USAGE_OVERRIDE", _set(f"{P0}/attributes/_CUSTOM", 7)),
    glb_case("GLTF_BUFFER_VIEW_TARGET_OVERRIDE", _set("bufferViews/0/target", 34963)),
    gltf_case(
        "GLTF_BUFFER_DATA_URI_MIME_TYPE_INVALID",
        lambda m: m.doc["buffers"][0].update(uri=data_uri("text/plain", bytes(m.bin))),
    ),
    raw_case(
        "GLTF_BUFFER_MISSING_GLB_DATA", lambda m: m.glb(chunks=[(JSON_CHUNK, _json_chunk(m))])
    ),
    glb_case(
        "GLTF_BUFFER_BYTE_LENGTH_MISMATCH",
        lambda m: m.doc["buffers"][0].update(byteLength=len(m.bin) + 100),
    ),
    glb_case("GLTF_BUFFER_VIEW_TOO_LONG", _set("bufferViews/15/byteLength", 100_000)),
    glb_case("GLTF_BUFFER_VIEW_TOO_BIG_BYTE_STRIDE", _set("bufferViews/0/byteStride", 52)),
    glb_case("GLTF_BUFFER_VIEW_INVALID_BYTE_STRIDE", _set("bufferViews/7/byteStride", 4)),
    glb_case("GLTF_ACCESSOR_NORMALIZED_INVALID", _set("accessors/0/normalized", True)),
    glb_case("GLTF_ACCESSOR_MATRIX_ALIGNMENT", _set("accessors/9/byteOffset", 2)),
    glb_case("GLTF_ACCESSOR_OFFSET_ALIGNMENT", _set("accessors/0/byteOffset", 2)),
    glb_case(
        "GLTF_ACCESSOR_TOTAL_OFFSET_ALIGNMENT",
        lambda m: m.doc["bufferViews"][0].update(byteOffset=2, byteLength=46),
    ),
    glb_case("GLTF_ACCESSOR_TOO_LONG", _set("accessors/0/count", 100)),
    glb_case("GLTF_ACCESSOR_SMALL_BYTESTRIDE", _set("bufferViews/0/byteStride", 8)),
    glb_case("GLTF_ACCESSOR_SPARSE_COUNT_OUT_OF_RANGE", _set("accessors/13/sparse/count", 5)),
    glb_case(
        "GLTF_INVALID_GL_VALUE", _all(_set("accessors/7/min", [-1]), _set("accessors/7/max", [3]))
    ),
    glb_case("GLTF_ACCESSOR_MIN_MISMATCH", _set("accessors/0/min", [-1, 0, 0])),
    glb_case("GLTF_ACCESSOR_MAX_MISMATCH", _set("accessors/0/max", [2, 1, 0])),
    glb_case("GLTF_ACCESSOR_ELEMENT_OUT_OF_MIN_BOUND", _set("accessors/0/min", [0.5, 0, 0])),
    glb_case("GLTF_ACCESSOR_ELEMENT_OUT_OF_MAX_BOUND", _set("accessors/0/max", [0.5, 1, 0])),
    glb_case("GLTF_ACCESSOR_INVALID_FLOAT", _put(3, 1, [float("nan"), 0])),
    glb_case("GLTF_ACCESSOR_INDEX_OOB", _put(7, 0, [9])),
    glb_case("GLTF_ACCESSOR_INDEX_PRIMITIVE_RESTART", _put(7, 0, [65535])),
    glb_case("GLTF_ACCESSOR_VECTOR3_NON_UNIT", _put(1, 0, [0, 0, 2])),
    glb_case("GLTF_ACCESSOR_INVALID_SIGN", _put(2, 0, [1, 0, 0, 0.5])),
    glb_case("GLTF_ACCESSOR_NON_CLAMPED", _put(4, 0, [2, 1, 1, 1])),
    glb_case(
        "GLTF_ACCESSOR_SPARSE_INDICES_NON_INCREASING",
        lambda m: m.bin.__setitem__(
            slice(
                m.doc["bufferViews"][13]["byteOffset"], m.doc["bufferViews"][13]["byteOffset"] + 4
            ),
            np.array([2, 1], "<u2").tobytes(),
        ),
    ),
    glb_case(
        "GLTF_ACCESSOR_SPARSE_INDEX_OOB",
        lambda m: m.bin.__setitem__(
            slice(
                m.doc["bufferViews"][13]["byteOffset"], m.doc["bufferViews"][13]["byteOffset"] + 4
            ),
            np.array([1, 9], "<u2").tobytes(),
        ),
    ),
    glb_case(
        "GLTF_ACCESSOR_ANIMATION_INPUT_NEGATIVE",
        _all(_put(10, 0, [-1]), _set("accessors/10/min", [-1])),
    ),
    glb_case(
        "GLTF_ACCESSOR_ANIMATION_INPUT_NON_INCREASING",
        _all(_put(10, 1, [0]), _set("accessors/10/max", [0])),
    ),
    glb_case(
        "GLTF_ACCESSOR_ANIMATION_SAMPLER_OUTPUT_NON_NORMALIZED_QUATERNION",
        _put(11, 0, [0, 0, 0, 2]),
    ),
    glb_case(
        "GLTF_ACCESSOR_INVALID_IBM", _put(9, 0, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2])
    ),
    glb_case("GLTF_ACCESSOR_JOINTS_INDEX_OOB", _put(5, 0, [5, 1, 0, 0])),
    glb_case("GLTF_ACCESSOR_JOINTS_INDEX_DUPLICATE", _put(5, 0, [1, 1, 0, 0])),
    glb_case("GLTF_ACCESSOR_WEIGHTS_NEGATIVE", _put(6, 0, [1.5, -0.5, 0, 0])),
    glb_case("GLTF_ACCESSOR_WEIGHTS_NON_NORMALIZED", _put(6, 0, [0.5, 0.4, 0, 0])),
    glb_case("GLTF_MESH_PRIMITIVE_INVALID_ATTRIBUTE", _set(f"{P0}/attributes/FOO_0", 3)),
    glb_case(
        "GLTF_MESH_PRIMITIVE_INDEXED_SEMANTIC_CONTINUITY",
        _all(_delete(f"{P0}/attributes/COLOR_0"), _set(f"{P0}/attributes/COLOR_1", 4)),
    ),
    glb_case("GLTF_MESH_PRIMITIVE_JOINTS_WEIGHTS_MISMATCH", _delete(f"{P0}/attributes/WEIGHTS_0")),
    glb_case(
        "GLTF_MESH_PRIMITIVES_UNEQUAL_TARGETS_COUNT",
        lambda m: m.doc["meshes"][0]["primitives"].append(
            {k: v for k, v in m.doc["meshes"][0]["primitives"][0].items() if k != "targets"}
        ),
    ),
    glb_case("GLTF_MESH_INVALID_WEIGHTS_COUNT", _set("meshes/0/weights", [0.0, 0.0])),
    glb_case("GLTF_MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS", _delete("accessors/0/min")),
    glb_case(
        "GLTF_MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT", _set(f"{P0}/attributes/NORMAL", 3)
    ),
    glb_case(
        "GLTF_MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_UNSIGNED_INT",
        _extra_accessor(
            {"bufferView": 13, "componentType": 5125, "count": 1, "type": "SCALAR"}, "_IDS"
        ),
    ),
    glb_case(
        "GLTF_MESH_PRIMITIVE_ACCESSOR_UNALIGNED",
        _extra_accessor(
            {"bufferView": 5, "componentType": 5121, "count": 4, "type": "VEC3"}, "_FLAGS"
        ),
    ),
    glb_case("GLTF_MESH_PRIMITIVE_ACCESSOR_WITHOUT_BYTESTRIDE", _set("accessors/1/bufferView", 8)),
    glb_case("GLTF_MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT", _set("accessors/3/count", 3)),
    glb_case(
        "GLTF_MESH_PRIMITIVE_INDICES_ACCESSOR_WITH_BYTESTRIDE",
        _all(_delete("bufferViews/7/target"), _set("bufferViews/7/byteStride", 4)),
    ),
    glb_case(
        "GLTF_MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT",
        _set("accessors/7/componentType", 5122),
    ),
    glb_case(
        "GLTF_MESH_PRIMITIVE_TOO_FEW_TEXCOORDS",
        _set("materials/0/pbrMetallicRoughness/baseColorTexture/texCoord", 1),
    ),
    glb_case("GLTF_MESH_PRIMITIVE_NO_TANGENT_SPACE", _clearcoat_normal_only),
    glb_case(
        "GLTF_MESH_PRIMITIVE_MORPH_TARGET_NO_BASE_ACCESSOR", _set(f"{P0}/targets/0/TEXCOORD_1", 3)
    ),
    glb_case(
        "GLTF_MESH_PRIMITIVE_MORPH_TARGET_INVALID_ATTRIBUTE_COUNT", _set("accessors/8/count", 3)
    ),
    glb_case("GLTF_NODE_LOOP", _set("nodes/3/children", [0])),
    glb_case("GLTF_NODE_PARENT_OVERRIDE", _set("nodes/2/children", [3, 1])),
    glb_case("GLTF_NODE_MATRIX_TRS", _set("nodes/4/translation", [0, 0, 1])),
    glb_case(
        "GLTF_NODE_MATRIX_NON_TRS",
        _set("nodes/4/matrix", [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    ),
    glb_case("GLTF_ROTATION_NON_UNIT", _set("nodes/2/rotation", [0, 0, 0, 0.5])),
    glb_case("GLTF_NODE_WEIGHTS_INVALID", _set("nodes/1/weights", [0.0, 0.0])),
    glb_case(
        "GLTF_NODE_SKIN_WITH_NON_SKINNED_MESH",
        _all(_delete(f"{P0}/attributes/JOINTS_0"), _delete(f"{P0}/attributes/WEIGHTS_0")),
    ),
    glb_case("GLTF_NODE_SKIN_NO_SCENE", _separate_skinned_scene),
    glb_case("GLTF_SCENE_NON_ROOT_NODE", _set("scenes/0/nodes", [0, 1])),
    glb_case("GLTF_SKIN_NO_COMMON_ROOT", _set("skins/0/joints", [2, 5])),
    glb_case("GLTF_SKIN_SKELETON_INVALID", _set("skins/0/skeleton", 3)),
    glb_case("GLTF_SKIN_IBM_INVALID_FORMAT", _set("accessors/9/type", "MAT3")),
    glb_case("GLTF_SKIN_IBM_ACCESSOR_WITH_BYTESTRIDE", _set("bufferViews/9/byteStride", 64)),
    glb_case("GLTF_INVALID_IBM_ACCESSOR_COUNT", _set("accessors/9/count", 1)),
    glb_case("GLTF_CAMERA_ZFAR_LEQUAL_ZNEAR", _set("cameras/0/perspective/zfar", 0.05)),
    glb_case("GLTF_CAMERA_XMAG_YMAG_ZERO", _set("cameras/1/orthographic/xmag", 0)),
    glb_case(
        "GLTF_ANIMATION_CHANNEL_TARGET_NODE_MATRIX", _set("animations/0/channels/0/target/node", 4)
    ),
    glb_case(
        "GLTF_ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS",
        _set("animations/0/channels/1/target/node", 3),
    ),
    glb_case(
        "GLTF_ANIMATION_DUPLICATE_TARGETS",
        lambda m: m.doc["animations"][0]["channels"].append(
            {"sampler": 0, "target": {"node": 3, "path": "rotation"}}
        ),
    ),
    glb_case(
        "GLTF_ANIMATION_SAMPLER_ACCESSOR_WITH_BYTESTRIDE", _set("bufferViews/10/byteStride", 4)
    ),
    glb_case(
        "GLTF_ANIMATION_SAMPLER_INPUT_ACCESSOR_INVALID_FORMAT", _set("accessors/10/type", "VEC2")
    ),
    glb_case("GLTF_ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS", _delete("accessors/10/min")),
    glb_case(
        "GLTF_ANIMATION_SAMPLER_INPUT_ACCESSOR_TOO_FEW_ELEMENTS",
        _all(
            _set("animations/0/samplers/0/interpolation", "CUBICSPLINE"),
            _set("accessors/10/count", 1),
        ),
    ),
    glb_case(
        "GLTF_ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_FORMAT",
        _set("animations/0/samplers/0/output", 12),
    ),
    glb_case("GLTF_ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT", _set("accessors/11/count", 1)),
    glb_case(
        "GLTF_IMAGE_DATA_INVALID",
        _set("images/1/uri", data_uri("image/jpeg", b"\xff\xd8\xff\xfe\x00\x01" + bytes(10))),
    ),
    glb_case("GLTF_IMAGE_MIME_TYPE_INVALID", _set("images/0/mimeType", "image/jpeg")),
    glb_case(
        "GLTF_IMAGE_UNEXPECTED_EOS", _set("images/1/uri", data_uri("image/jpeg", tiny_jpeg()[:20]))
    ),
    glb_case("GLTF_IMAGE_NON_ENABLED_MIME_TYPE", WEBP_IMAGE),
    glb_case("GLTF_IMAGE_BUFFER_VIEW_WITH_BYTESTRIDE", _set("bufferViews/15/byteStride", 4)),
    glb_case("GLTF_TEXTURE_INVALID_IMAGE_MIME_TYPE", WEBP_IMAGE),
    glb_case("GLTF_KHR_LIGHTS_PUNCTUAL_LIGHT_SPOT_ANGLES", _spot_light),
    glb_case("GLTF_KHR_MATERIALS_VARIANTS_NON_UNIQUE_VARIANT", _repeated_variant),
    glb_case(
        "GLTF_KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_NODE",
        _pointer_channel(node=1, path="pointer"),
    ),
    glb_case(
        "GLTF_KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_PATH", _pointer_channel(path="weights")
    ),
]


# --- one file per warning and information code ------------------------------------------
# The Khronos parity test compares every code, so each advisory code needs a file too.


def _png_with(size: tuple[int, int], **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 200)).save(out, "PNG", **save)
    return out.getvalue()


def _embed_png(png: bytes) -> Callable[[Model], None]:
    return _all(
        _set("images/1/uri", data_uri("image/png", png)), _set("images/1/mimeType", "image/png")
    )


def _material_extension(name: str, value: dict, **material: object) -> Callable[[Model], None]:
    def edit(m: Model) -> None:
        m.doc.setdefault("extensionsUsed", []).append(name)
        m.doc["materials"][0].setdefault("extensions", {})[name] = value
        m.doc["materials"][0].update(material)

    return edit


def _two_material_extensions(m: Model) -> None:
    _material_extension("KHR_materials_unlit", {})(m)
    _material_extension("KHR_materials_emissive_strength", {"emissiveStrength": 2})(m)


def _skinned_mesh_without_skin(m: Model) -> None:
    del m.doc["nodes"][1]["skin"]


def _skinned_node_moved(m: Model) -> None:
    m.doc["nodes"][1]["translation"] = [1, 0, 0]


def _animate_skinned_node(m: Model) -> None:
    m.doc["animations"][0]["channels"].append(
        {"sampler": 0, "target": {"node": 1, "path": "rotation"}}
    )


def _zero_weight_joint(m: Model) -> None:
    m.data(6)[:] = [1.0, 0.0, 0.0, 0.0]  # joint 1 of JOINTS_0 is named with weight 0


def _directional_light_range(m: Model) -> None:
    m.doc["extensionsUsed"] = ["KHR_lights_punctual"]
    light = {"type": "directional", "range": 5}
    m.doc["extensions"] = {"KHR_lights_punctual": {"lights": [light]}}
    m.doc["nodes"][5]["extensions"] = {"KHR_lights_punctual": {"light": 0}}


def _padded_bin_chunk(m: Model) -> bytes:
    text = _json_chunk(m)
    return m.glb(chunks=[(JSON_CHUNK, text), (BIN_CHUNK, bytes(m.bin) + bytes(8))])


def _empty_bin_chunk(m: Model) -> bytes:
    del m.doc["buffers"]
    return m.glb(chunks=[(JSON_CHUNK, _json_chunk(m)), (BIN_CHUNK, b"")])


NOTICE_CASES = [
    raw_case("GLTF_GLB_EMPTY_BIN_CHUNK", _empty_bin_chunk),
    raw_case("GLTF_BUFFER_GLB_CHUNK_TOO_BIG", _padded_bin_chunk),
    glb_case("GLTF_UNEXPECTED_PROPERTY", _set("nodes/0/colour", "red")),
    glb_case("GLTF_UNKNOWN_ASSET_MINOR_VERSION", _set("asset/version", "2.1")),
    glb_case("GLTF_INVALID_EXTENSION_NAME_FORMAT", _set("extensionsUsed", ["materials_fancy"])),
    glb_case("GLTF_MULTIPLE_EXTENSIONS", _two_material_extensions),
    gltf_case("GLTF_NON_RELATIVE_URI", _set("images/1/uri", "/textures/albedo.jpg")),
    glb_case("GLTF_ACCESSOR_JOINTS_USED_ZERO_WEIGHT", _zero_weight_joint),
    glb_case("GLTF_MESH_PRIMITIVE_NO_POSITION", _delete(f"{P0}/attributes/POSITION")),
    glb_case("GLTF_MESH_PRIMITIVE_TANGENT_WITHOUT_NORMAL", _delete(f"{P0}/attributes/NORMAL")),
    glb_case("GLTF_MESH_PRIMITIVE_INCOMPATIBLE_MODE", _delete(f"{P0}/indices")),  # 4 vertices
    glb_case("GLTF_NODE_MATRIX_DEFAULT", _set("nodes/5/matrix", [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])),
    glb_case("GLTF_NODE_SKINNED_MESH_WITHOUT_SKIN", _skinned_mesh_without_skin),
    glb_case("GLTF_NODE_SKINNED_MESH_LOCAL_TRANSFORMS", _skinned_node_moved),
    glb_case("GLTF_CAMERA_XMAG_YMAG_NEGATIVE", _set("cameras/1/orthographic/xmag", -1)),
    glb_case("GLTF_CAMERA_YFOV_GEQUAL_PI", _set("cameras/0/perspective/yfov", 3.5)),
    glb_case("GLTF_MATERIAL_ALPHA_CUTOFF_INVALID_MODE", _set("materials/0/alphaCutoff", 0.3)),
    glb_case("GLTF_ANIMATION_CHANNEL_TARGET_NODE_SKIN", _animate_skinned_node),
    glb_case("GLTF_IMAGE_NPOT_DIMENSIONS", _embed_png(_png_with((3, 5)))),
    glb_case("GLTF_IMAGE_FEATURES_UNSUPPORTED", _embed_png(_png_with((4, 4), dpi=(72, 144)))),
    glb_case("GLTF_EXTRA_PROPERTY", _directional_light_range),
    glb_case(
        "GLTF_KHR_MATERIALS_ANISOTROPY_ANISOTROPY_TEXTURE_TEXCOORD",
        _material_extension("KHR_materials_anisotropy", {"anisotropyTexture": {"index": 0, "texCoord": 1}}),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_CLEARCOAT_CLEARCOAT_NORMAL_TEXTURE_TEXCOORD",
        _material_extension("KHR_materials_clearcoat", {"clearcoatNormalTexture": {"index": 1, "texCoord": 1}}),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_DISPERSION_NO_VOLUME",
        _material_extension("KHR_materials_dispersion", {"dispersion": 0.5}),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_EMISSIVE_STRENGTH_ZERO_FACTOR",
        _material_extension("KHR_materials_emissive_strength", {"emissiveStrength": 3},
                            emissiveFactor=[0, 0, 0]),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_IRIDESCENCE_THICKNESS_RANGE_WITHOUT_TEXTURE",
        _material_extension("KHR_materials_iridescence", {"iridescenceFactor": 1, "iridescenceThicknessMinimum": 50}),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_IRIDESCENCE_THICKNESS_TEXTURE_UNUSED",
        _material_extension("KHR_materials_iridescence", {
            "iridescenceThicknessTexture": {"index": 0},
            "iridescenceThicknessMinimum": 300, "iridescenceThicknessMaximum": 300}),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_VOLUME_DOUBLE_SIDED",
        _all(_material_extension("KHR_materials_transmission", {"transmissionFactor": 1}),
             _material_extension("KHR_materials_volume", {"thicknessFactor": 1}, doubleSided=True)),
    ),
    glb_case(
        "GLTF_KHR_MATERIALS_VOLUME_NO_TRANSMISSION",
        _material_extension("KHR_materials_volume", {"thicknessFactor": 1}),
    ),
]  # fmt: skip
