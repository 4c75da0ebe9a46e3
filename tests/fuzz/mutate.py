"""Structure-aware mutations for the fuzz harnesses.

Byte flips alone rarely get past a GLB's chunk lengths, a ZIP's CRCs or a JSON parser, so
most mutations here keep the container well formed and change what is inside: a value of the
glTF JSON, a chunk, an archive member or its name. A share of the inputs is still mutated as
raw bytes (libFuzzer's own mutator), so the container readers are fuzzed too.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

JSON_CHUNK, BIN_CHUNK = 0x4E4F534A, 0x004E4942
_MAX_NODES = 4000  # JSON values walked to pick a mutation point

ByteMutator = Callable[[bytes, int], bytes]  # libFuzzer's Mutate(data, max_size)

# Values that sit on the boundaries the validators compare against.
INTERESTING: tuple[Any, ...] = (
    0,
    1,
    -1,
    2,
    3,
    4,
    5,
    7,
    16,
    255,
    256,
    5120,
    5121,
    5123,
    5125,
    5126,
    34962,
    34963,
    65535,
    65536,
    2**24,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**53,
    2**53 + 1,
    2**63,
    2**64,
    -(2**31),
    10**30,
    0.5,
    -0.0,
    1e-45,
    3.4e38,
    1e308,
    -1e308,
    "",
    "a",
    "SCALAR",
    "VEC3",
    "VEC4",
    "MAT4",
    "POSITION",
    "NORMAL",
    "TEXCOORD_0",
    "JOINTS_0",
    "WEIGHTS_0",
    "rotation",
    "weights",
    "translation",
    "scale",
    "pointer",
    "STEP",
    "CUBICSPLINE",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/ktx2",
    "model.bin",
    "../outside.bin",
    "%2e%2e/x.bin",
    "%C3%A9.bin",
    "/etc/passwd",
    "data:application/octet-stream;base64,AAAA",
    "data:image/png;base64,",
    "data:,",
    "\u0000",
    "\ud800",
    "é" * 40,
    None,
    True,
    False,
    [],
    {},
    [0],
    [0, 0, 0],
    [0, 0, 0, 1],
    [1e308, 1e308, 1e308],
)

# glTF vocabulary, so new keys are ones the validator looks at.
KEYS: tuple[str, ...] = (
    "accessors",
    "animations",
    "asset",
    "buffers",
    "bufferViews",
    "cameras",
    "images",
    "materials",
    "meshes",
    "nodes",
    "samplers",
    "scene",
    "scenes",
    "skins",
    "textures",
    "extensions",
    "extensionsUsed",
    "extensionsRequired",
    "extras",
    "buffer",
    "bufferView",
    "byteOffset",
    "byteLength",
    "byteStride",
    "target",
    "count",
    "componentType",
    "type",
    "normalized",
    "min",
    "max",
    "sparse",
    "indices",
    "values",
    "uri",
    "mimeType",
    "name",
    "children",
    "mesh",
    "skin",
    "camera",
    "matrix",
    "rotation",
    "scale",
    "translation",
    "weights",
    "primitives",
    "attributes",
    "targets",
    "mode",
    "material",
    "joints",
    "inverseBindMatrices",
    "skeleton",
    "channels",
    "sampler",
    "node",
    "path",
    "input",
    "output",
    "interpolation",
    "source",
    "index",
    "texCoord",
    "pbrMetallicRoughness",
    "baseColorTexture",
    "normalTexture",
    "occlusionTexture",
    "emissiveTexture",
    "alphaMode",
    "alphaCutoff",
    "doubleSided",
    "perspective",
    "orthographic",
    "yfov",
    "znear",
    "zfar",
    "version",
    "minVersion",
    "POSITION",
    "NORMAL",
    "TANGENT",
    "TEXCOORD_0",
    "TEXCOORD_1",
    "COLOR_0",
    "JOINTS_0",
    "WEIGHTS_0",
    "KHR_texture_transform",
    "KHR_materials_variants",
    "KHR_mesh_quantization",
    "KHR_draco_mesh_compression",
    "EXT_meshopt_compression",
    "KHR_meshopt_compression",
    "KHR_texture_basisu",
    "EXT_texture_webp",
    "KHR_animation_pointer",
    "KHR_lights_punctual",
    "KHR_materials_clearcoat",
    "EXT_mesh_gpu_instancing",
    "pointer",
    "lights",
    "light",
    "variants",
    "mappings",
)


# --- JSON values ----------------------------------------------------------------------


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """(container, key) for every value below `doc`, breadth first, at most _MAX_NODES."""
    found: list[tuple[Any, Any]] = []
    queue = [doc]
    while queue and len(found) < _MAX_NODES:
        item = queue.pop(0)
        keys = item.keys() if isinstance(item, dict) else range(len(item))
        for key in keys:
            found.append((item, key))
            if isinstance(item[key], dict | list):
                queue.append(item[key])
    return found


def _containers(doc: Any) -> list[Any]:
    return [doc] + [c[k] for c, k in _slots(doc) if isinstance(c[k], dict | list)]


def _random_value(rng: random.Random, doc: Any) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(INTERESTING)
    if roll < 0.8:
        slots = _slots(doc)
        if slots:  # a copy of another value of the document (splicing)
            container, key = rng.choice(slots)
            return json.loads(json.dumps(container[key]))
    return rng.randint(-3, 40)


def _set_value(doc: Any, rng: random.Random) -> None:
    slots = _slots(doc)
    if slots:
        container, key = rng.choice(slots)
        container[key] = _random_value(rng, doc)


def _tweak_number(doc: Any, rng: random.Random) -> None:
    numbers = [(c, k) for c, k in _slots(doc) if type(c[k]) in (int, float)]
    if numbers:
        container, key = rng.choice(numbers)
        value = container[key]
        container[key] = rng.choice((value + 1, value - 1, value * 2, -value, value * 4096))


def _delete(doc: Any, rng: random.Random) -> None:
    slots = _slots(doc)
    if slots:
        container, key = rng.choice(slots)
        del container[key]


def _add_key(doc: Any, rng: random.Random) -> None:
    dicts = [c for c in _containers(doc) if isinstance(c, dict)]
    lists = [c for c in _containers(doc) if isinstance(c, list)]
    if dicts and (not lists or rng.random() < 0.7):
        rng.choice(dicts)[rng.choice(KEYS)] = _random_value(rng, doc)
    elif lists:
        target = rng.choice(lists)
        target.insert(rng.randint(0, len(target)), _random_value(rng, doc))


def _grow(doc: Any, rng: random.Random) -> None:
    """Repeat a list element many times: many nodes, channels, primitives, joints."""
    lists = [c for c in _containers(doc) if isinstance(c, list) and c]
    if lists:
        target = rng.choice(lists)
        item = rng.choice(target)
        target.extend(json.loads(json.dumps(item)) for _ in range(rng.choice((2, 8, 64, 256))))


def _nest(doc: Any, rng: random.Random) -> None:
    """Wrap a value in many arrays or objects (deep JSON)."""
    slots = _slots(doc)
    if slots:
        container, key = rng.choice(slots)
        value = container[key]
        for _ in range(rng.choice((4, 64, 400))):
            value = [value] if rng.random() < 0.5 else {"extras": value}
        container[key] = value


_JSON_OPS = (
    (_set_value, 30),
    (_tweak_number, 20),
    (_delete, 15),
    (_add_key, 20),
    (_grow, 8),
    (_nest, 2),
)


def mutate_json(doc: Any, rng: random.Random) -> Any:
    """One to three structural mutations of a decoded JSON document (in place; returned)."""
    if not isinstance(doc, dict | list):
        return {"asset": {"version": "2.0"}}
    operations, weights = zip(*_JSON_OPS, strict=True)
    for op in rng.choices(operations, weights, k=rng.choice((1, 1, 2, 3))):
        op(doc, rng)
    return doc


def dump_json(doc: Any) -> bytes:
    """Compact JSON; non-ASCII as escapes, so lone surrogates reach the validator as strings."""
    return json.dumps(doc, separators=(",", ":")).encode()


def mutate_json_text(
    raw: bytes, rng: random.Random, mutate_bytes: ByteMutator, max_size: int
) -> bytes:
    """Mutate JSON text structurally when it parses, as bytes otherwise (or sometimes anyway)."""
    roll = rng.random()
    if roll < 0.15:
        return mutate_bytes(raw, max(max_size, len(raw)))
    if roll < 0.16:  # deeper than any recursive reader can go
        depth = rng.choice((1000, 50_000))
        return raw.rstrip()[:-1] + b',"extras":' + b"[" * depth + b"]" * depth + b"}"
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return mutate_bytes(raw, max(max_size, len(raw)))
    try:
        return dump_json(mutate_json(doc, rng))
    except (ValueError, RecursionError):  # nested past what json.dumps handles
        return raw


# --- GLB containers ---------------------------------------------------------------------


def split_glb(data: bytes) -> list[tuple[int, bytes]] | None:
    """The chunks of a well-formed GLB, or None."""
    if len(data) < 12 or data[:4] != b"glTF":
        return None
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, pos)
        if pos + 8 + length > len(data):
            return None
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length
    return chunks if pos == len(data) else None


def join_glb(chunks: list[tuple[int, bytes]]) -> bytes:
    """A GLB with consistent lengths (JSON padded with spaces, other chunks with zeros)."""
    body = b""
    for kind, payload in chunks:
        pad = (b" " if kind == JSON_CHUNK else b"\0") * (-len(payload) % 4)
        body += struct.pack("<II", len(payload) + len(pad), kind) + payload + pad
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def mutate_model(
    data: bytes, max_size: int, rng: random.Random, mutate_bytes: ByteMutator
) -> bytes:
    """A .glb or .gltf: mutate its JSON mostly, sometimes its binary chunk or its chunks."""
    if rng.random() < 0.1:
        return mutate_bytes(data, max_size)
    chunks = split_glb(data)
    if chunks is None:
        return mutate_json_text(data, rng, mutate_bytes, max_size)
    roll = rng.random()
    json_at = next((i for i, (kind, _) in enumerate(chunks) if kind == JSON_CHUNK), None)
    if json_at is not None and roll < 0.75:
        kind, raw = chunks[json_at]
        chunks[json_at] = (kind, mutate_json_text(raw.rstrip(b" "), rng, mutate_bytes, max_size))
    elif chunks and roll < 0.9:
        at = rng.randrange(len(chunks))
        kind, raw = chunks[at]
        chunks[at] = (kind, mutate_bytes(raw, len(raw) + 64))
    elif chunks:
        at = rng.randrange(len(chunks))
        choice = rng.randrange(3)
        if choice == 0:
            del chunks[at]
        elif choice == 1:
            chunks.insert(at, chunks[at])
        else:
            chunks[at] = (rng.choice((JSON_CHUNK, BIN_CHUNK, 0x12345678)), chunks[at][1])
    out = join_glb(chunks)
    return out if len(out) <= max_size else data


# --- images ---------------------------------------------------------------------------

_PNG = b"\x89PNG\r\n\x1a\n"
_SIZES = (0, 1, 512, 4096, 13000, 30000, 65535, 2**31 - 1)


def resize_png(data: bytes, rng: random.Random) -> bytes:
    """A PNG whose header declares other dimensions, its CRC still right (decoders check it)."""
    if not data.startswith(_PNG) or data[12:16] != b"IHDR" or len(data) < 33:
        return data
    fields = struct.pack(">II", rng.choice(_SIZES), rng.choice(_SIZES)) + data[24:29]
    chunk = b"IHDR" + fields
    return data[:8] + data[8:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


# --- ZIP deliveries --------------------------------------------------------------------

_NAMES = (
    "manifest.json",
    "version.json",
    "model/model.glb",
    "model/model.gltf",
    "model/model.bin",
    "photos",
    "photos/x.jpg",
    ".shazam-tmp-1",
    "a" * 300,
    "../evil.glb",
    "/abs.glb",
    "model\\win.glb",
    "MANIFEST.JSON",
    "é/ü.png",
    "model/",
    "x" * 40 + "/" + "y" * 255,
)


def read_zip(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]
    except Exception:  # any damage: the caller falls back to byte mutations
        return None


def write_zip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, data in members:
            archive.writestr(info, data, compress_type=info.compress_type, compresslevel=1)
    return out.getvalue()


def _rename(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    renamed = zipfile.ZipInfo(name, date_time=info.date_time)
    renamed.compress_type = info.compress_type
    return renamed


def mutate_delivery(
    data: bytes, max_size: int, rng: random.Random, mutate_bytes: ByteMutator
) -> bytes:
    """A delivery ZIP: mutate its manifest, its model, another member, or its member list."""
    members = None if rng.random() < 0.08 else read_zip(data)
    if not members:
        return mutate_bytes(data, max_size)
    roll = rng.random()
    names = [info.filename for info, _ in members]
    manifest = names.index("manifest.json") if "manifest.json" in names else None
    models = [i for i, n in enumerate(names) if n.lower().endswith((".glb", ".gltf"))]
    if manifest is not None and roll < 0.3:
        info, raw = members[manifest]
        members[manifest] = (info, mutate_json_text(raw, rng, mutate_bytes, max_size))
    elif models and roll < 0.7:
        at = rng.choice(models)
        info, raw = members[at]
        members[at] = (info, mutate_model(raw, max_size, rng, mutate_bytes))
    elif roll < 0.8:
        at = rng.randrange(len(members))
        info, raw = members[at]
        resized = resize_png(raw, rng) if rng.random() < 0.3 else raw
        members[at] = (info, resized if resized != raw else mutate_bytes(raw, len(raw) + 64))
    elif roll < 0.88:
        at = rng.randrange(len(members))
        info, raw = members[at]
        name = rng.choice((*_NAMES, *names)) + rng.choice(("", "", "x", "/", ".png"))
        members[at] = (_rename(info, name), raw)
    elif roll < 0.94:
        at = rng.randrange(len(members))
        if rng.random() < 0.5:
            del members[at]
        else:
            members.append(members[at])
    else:
        info = members[rng.randrange(len(members))][0]
        members.append((_rename(info, rng.choice(_NAMES)), rng.choice((b"", b"{}", data[:256]))))
    out = write_zip(members)
    return out if len(out) <= max_size else data
