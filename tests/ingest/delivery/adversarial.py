"""Generators of hostile inputs: kilobytes that once cost validation gigabytes or minutes.

One function per attack family, each parametrised by its size, each returning a `Sample`:
the files of a .glb, of a .gltf with its resources, or of a delivery ZIP. The tests and
`bench/bench_adversarial.py` build the same inputs from here; nothing is committed as a blob.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MB = 1024 * 1024
FLOAT, USHORT, UINT = 5126, 5123, 5125


@dataclass(frozen=True)
class Sample:
    """The files of one input; `main` is the one to validate (the others sit beside it)."""

    main: str
    files: dict[str, bytes]
    # The main file is padded with a hole up to this many bytes when written (a sparse file:
    # a 2 GB input costs no disk), for attacks on how a file is read rather than what it says.
    pad_to: int = 0
    note: str = field(default="", compare=False)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        target = folder / self.main
        if self.pad_to > target.stat().st_size:
            with target.open("r+b") as handle:
                handle.truncate(self.pad_to)
        return target

    @property
    def size(self) -> int:
        return max(self.pad_to, sum(len(d) for d in self.files.values()))


def glb(document: dict[str, Any], binary: bytes = b"", *, declared: int | None = None) -> bytes:
    """A well-formed GLB (chunks padded to 4 bytes); `declared` overrides the total length."""
    payload = json.dumps(document, separators=(",", ":")).encode()
    payload += b" " * (-len(payload) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(payload), 0x4E4F534A) + payload
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    total = 12 + len(chunks) if declared is None else declared
    return struct.pack("<III", 0x46546C67, 2, total) + chunks


def _triangle_mesh(triangles: int) -> tuple[list[dict], list[dict], bytes]:
    """(bufferViews, accessors, binary) of one valid indexed grid of separate triangles."""
    t = np.arange(triangles)
    x, y = (t % 1000).astype(np.float32), (t // 1000).astype(np.float32)
    zero = np.zeros_like(x)
    corners = [(x, y), (x + 1, y), (x, y + 1)]
    positions = np.stack(
        [np.stack([cx, cy, zero], axis=1) for cx, cy in corners], axis=1
    )  # (t, 3, 3)
    positions = positions.reshape(-1, 3).astype("<f4")
    vertices = len(positions)
    uvs = np.full((vertices, 2), 0.5, dtype="<f4").tobytes()
    indices = np.arange(vertices, dtype="<u4").tobytes()
    pos = positions.tobytes()
    binary = pos + uvs + indices
    views = [
        {"buffer": 0, "byteOffset": 0, "byteLength": len(pos), "target": 34962},
        {"buffer": 0, "byteOffset": len(pos), "byteLength": len(uvs), "target": 34962},
        {
            "buffer": 0,
            "byteOffset": len(pos) + len(uvs),
            "byteLength": len(indices),
            "target": 34963,
        },
    ]
    accessors = [
        {
            "bufferView": 0,
            "componentType": FLOAT,
            "count": vertices,
            "type": "VEC3",
            "min": positions.min(axis=0).tolist(),
            "max": positions.max(axis=0).tolist(),
        },
        {"bufferView": 1, "componentType": FLOAT, "count": vertices, "type": "VEC2"},
        {"bufferView": 2, "componentType": UINT, "count": vertices, "type": "SCALAR"},
    ]
    return views, accessors, binary


def _document(**parts: Any) -> dict[str, Any]:
    return {"asset": {"version": "2.0", "generator": "shazam adversarial"}, **parts}


def sparse_accessor(count: int = 2**24, type_: str = "MAT4") -> Sample:
    """A sparse accessor of `count` elements with no bufferView: the zeros were materialized
    (2^24 MAT4 -> 1.3 GB; 2^32-1 -> numpy's _ArrayMemoryError, uncaught)."""
    components = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[type_]
    binary = struct.pack("<I", 0) + struct.pack(f"<{components}f", *([0.0] * components))
    document = _document(
        buffers=[{"byteLength": len(binary)}],
        bufferViews=[
            {"buffer": 0, "byteOffset": 0, "byteLength": 4},
            {"buffer": 0, "byteOffset": 4, "byteLength": 4 * components},
        ],
        accessors=[
            {
                "componentType": FLOAT,
                "count": count,
                "type": type_,
                "sparse": {
                    "count": 1,
                    "indices": {"bufferView": 0, "componentType": UINT},
                    "values": {"bufferView": 1},
                },
            }
        ],
    )
    return Sample("sparse.glb", {"sparse.glb": glb(document, binary)})


def animation_channels(channels: int = 5000) -> Sample:
    """Thousands of channels animating one node's translation: the duplicate-target check was
    quadratic and reported every pair (half a million issues, a 200 MB report)."""
    binary = struct.pack("<2f", 0.0, 1.0) + struct.pack("<6f", 0, 0, 0, 1, 1, 1)
    document = _document(
        scenes=[{"nodes": [0]}],
        scene=0,
        nodes=[{"name": "target"}],
        buffers=[{"byteLength": len(binary)}],
        bufferViews=[
            {"buffer": 0, "byteOffset": 0, "byteLength": 8},
            {"buffer": 0, "byteOffset": 8, "byteLength": 24},
        ],
        accessors=[
            {
                "bufferView": 0,
                "componentType": FLOAT,
                "count": 2,
                "type": "SCALAR",
                "min": [0.0],
                "max": [1.0],
            },
            {"bufferView": 1, "componentType": FLOAT, "count": 2, "type": "VEC3"},
        ],
        animations=[
            {
                "samplers": [{"input": 0, "output": 1}],
                "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]
                * channels,
            }
        ],
    )
    return Sample("channels.glb", {"channels.glb": glb(document, binary)})


def node_chain(nodes: int = 32_768) -> Sample:
    """Each node the only child of the one before: the loop check walked to the root from
    every node (quadratic, 60 s at 32k nodes)."""
    chain = [{"children": [i + 1]} for i in range(nodes - 1)] + [{"name": "leaf"}]
    document = _document(scenes=[{"nodes": [0]}], scene=0, nodes=chain)
    return Sample("chain.glb", {"chain.glb": glb(document)})


def many_scenes(scenes: int = 65_536, nodes: int = 65_535) -> Sample:
    """Every scene names the root of one long chain: each scene walked the whole chain and
    checked each node's scene list (scenes x nodes x scenes)."""
    chain = [{"children": [i + 1]} for i in range(nodes - 1)] + [{"name": "leaf"}]
    document = _document(scenes=[{"nodes": [0]}] * scenes, scene=0, nodes=chain)
    return Sample("scenes.glb", {"scenes.glb": glb(document)})


def skin_chain(joints: int = 4096) -> Sample:
    """A skin whose joints form a parent chain: the common-root search compared every joint's
    ancestor list with every candidate root (cubic)."""
    chain = [{"children": [i + 1]} for i in range(joints - 1)] + [{"name": "tip"}]
    ibm = struct.pack("<16f", 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1) * joints
    document = _document(
        scenes=[{"nodes": [0]}],
        scene=0,
        nodes=chain,
        buffers=[{"byteLength": len(ibm)}],
        bufferViews=[{"buffer": 0, "byteOffset": 0, "byteLength": len(ibm)}],
        accessors=[{"bufferView": 0, "componentType": FLOAT, "count": joints, "type": "MAT4"}],
        skins=[{"joints": list(range(joints)), "inverseBindMatrices": 0}],
    )
    return Sample("skin.glb", {"skin.glb": glb(document, ibm)})


def skin_two_chains(joints: int = 32_768) -> Sample:
    """A skin whose joints alternate between the leaves' ends of two separate chains: the
    reference starts its common-root search over at every second joint (each restart once
    walked a whole chain)."""
    half = joints // 2
    chain = [{"children": [i + 1]} for i in range(half - 1)] + [{"name": "a"}]
    chain += [{"children": [half + i + 1]} for i in range(half - 1)] + [{"name": "b"}]
    order = [
        j
        for pair in zip(range(half - 1, -1, -1), range(2 * half - 1, half - 1, -1), strict=True)
        for j in pair
    ]
    document = _document(
        scenes=[{"nodes": [0, half]}], scene=0, nodes=chain, skins=[{"joints": order}]
    )
    return Sample("skin2.glb", {"skin2.glb": glb(document)})


def instanced_mesh(instances: int = 2000, triangles: int = 100_000) -> Sample:
    """One mesh drawn by many nodes: the budget stage copied the mesh into world space per
    node before counting triangles (4.9 GB for 2,000 instances of 100k triangles)."""
    views, accessors, binary = _triangle_mesh(triangles)
    document = _document(
        scenes=[{"nodes": list(range(instances))}],
        scene=0,
        nodes=[{"mesh": 0, "translation": [float(i), 0.0, 0.0]} for i in range(instances)],
        meshes=[{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2}]}],
        buffers=[{"byteLength": len(binary)}],
        bufferViews=views,
        accessors=accessors,
    )
    return Sample("instanced.glb", {"instanced.glb": glb(document, binary)})


def wide_mesh_instances(primitives: int = 16_384, instances: int = 16_384) -> Sample:
    """One mesh of many primitives drawn by many nodes: each node's link looked at every
    primitive of its mesh (nodes x primitives)."""
    binary = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    document = _document(
        scenes=[{"nodes": list(range(instances))}],
        scene=0,
        nodes=[{"mesh": 0}] * instances,
        meshes=[{"primitives": [{"attributes": {"POSITION": 0}}] * primitives}],
        buffers=[{"byteLength": len(binary)}],
        bufferViews=[{"buffer": 0, "byteLength": len(binary), "target": 34962}],
        accessors=[
            {
                "bufferView": 0,
                "componentType": FLOAT,
                "count": 3,
                "type": "VEC3",
                "min": [0, 0, 0],
                "max": [1, 1, 0],
            }
        ],
    )
    return Sample("wide_mesh.glb", {"wide_mesh.glb": glb(document, binary)})


def shared_buffers(buffers: int = 64, bin_bytes: int = 4 * MB) -> Sample:
    """Many buffers naming one external .bin: it was read once per reference (64 MB each)."""
    document = _document(buffers=[{"uri": "data.bin", "byteLength": bin_bytes}] * buffers)
    gltf = json.dumps(document).encode()
    return Sample("shared.gltf", {"shared.gltf": gltf, "data.bin": bytes(bin_bytes)})


def shared_image_view(images: int = 2000, view_bytes: int = 14 * MB) -> Sample:
    """Many images naming one buffer view whose PNG header is followed by empty chunks: the
    view was copied and its chunks walked once per image (a PNG of 1.2 million chunks)."""
    header = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
    data = header + bytes(view_bytes - len(header))
    document = _document(
        buffers=[{"byteLength": len(data)}],
        bufferViews=[{"buffer": 0, "byteLength": len(data)}],
        images=[{"bufferView": 0, "mimeType": "image/png"}] * images,
    )
    return Sample("images.glb", {"images.glb": glb(document, data)})


def nested_manifest(depth: int = 100_000) -> Sample:
    """A delivery ZIP whose manifest.json nests arrays `depth` deep (RecursionError)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", "[" * depth + "]" * depth)
    return Sample("nested.zip", {"nested.zip": out.getvalue()})


def nested_gltf(depth: int = 100_000) -> Sample:
    """glTF JSON whose extras nest `depth` deep."""
    text = '{"asset":{"version":"2.0"},"extras":' + "[" * depth + "]" * depth + "}"
    return Sample("nested.gltf", {"nested.gltf": text.encode()})


def wide_gltf(objects: int = 16_000_000) -> Sample:
    """glTF JSON holding millions of empty objects (45 MB for 16 million): parsing it built
    every one of them (1.2 GB) before any count was checked."""
    text = '{"asset":{"version":"2.0"},"extras":[' + ",".join(["{}"] * objects) + "]}"
    return Sample("wide.gltf", {"wide.gltf": text.encode()})


def many_extensions(names: int = 60_000) -> Sample:
    """Tens of thousands of declared extensions, all required: each required name was looked
    up in the list of used ones (quadratic)."""
    used = [f"EXT_x{i}" for i in range(names)]
    document = _document(extensionsUsed=used, extensionsRequired=used[::-1])
    return Sample("extensions.gltf", {"extensions.gltf": json.dumps(document).encode()})


def oversized_glb(size: int = 2 * 1024 * MB) -> Sample:
    """A bare .glb of `size` bytes (mostly a hole) that declares that length: it was read
    whole before its magic or length was checked (2 GB file -> 2 GB RSS)."""
    body = glb(_document(), declared=size)
    return Sample("big.glb", {"big.glb": body}, pad_to=size)


def not_a_glb(size: int = 2 * 1024 * MB) -> Sample:
    """A large file named .glb that is not one (no magic)."""
    return Sample("junk.glb", {"junk.glb": b"not a glb"}, pad_to=size)


# Every family with the sizes the benchmark walks (the largest input stays under 50 MB).
FAMILIES: dict[str, tuple[Callable[..., Sample], list[dict[str, Any]]]] = {
    "sparse_accessor": (
        sparse_accessor,
        [{"count": 2**20}, {"count": 2**24}, {"count": 2**32 - 1}],
    ),
    "animation_channels": (
        animation_channels,
        [{"channels": 1000}, {"channels": 5000}, {"channels": 200_000}],
    ),
    "node_chain": (
        node_chain,
        [{"nodes": 4096}, {"nodes": 32_768}, {"nodes": 65_536}, {"nodes": 1_000_000}],
    ),
    "many_scenes": (
        many_scenes,
        [{"scenes": 64, "nodes": 65_535}, {"scenes": 65_536, "nodes": 65_535}],
    ),
    "skin_chain": (skin_chain, [{"joints": 4096}, {"joints": 65_536}, {"joints": 100_000}]),
    "skin_two_chains": (skin_two_chains, [{"joints": 4096}, {"joints": 65_536}]),
    "instanced_mesh": (
        instanced_mesh,
        [
            {"instances": 200, "triangles": 10_000},
            {"instances": 2000, "triangles": 100_000},
            {"instances": 500_000, "triangles": 1000},
        ],
    ),
    "wide_mesh_instances": (
        wide_mesh_instances,
        [{"primitives": 1024, "instances": 1024}, {"primitives": 65_536, "instances": 65_536}],
    ),
    "shared_buffers": (
        shared_buffers,
        [
            {"buffers": 16, "bin_bytes": 4 * MB},
            {"buffers": 1000, "bin_bytes": 14 * MB},
            {"buffers": 10_000, "bin_bytes": 40 * MB},
        ],
    ),
    "shared_image_view": (
        shared_image_view,
        [
            {"images": 10, "view_bytes": MB},
            {"images": 2000, "view_bytes": 14 * MB},
            {"images": 60_000, "view_bytes": 40 * MB},
        ],
    ),
    "nested_manifest": (
        nested_manifest,
        [{"depth": 1000}, {"depth": 100_000}, {"depth": 10_000_000}],
    ),
    "nested_gltf": (nested_gltf, [{"depth": 1000}, {"depth": 100_000}, {"depth": 10_000_000}]),
    "wide_gltf": (
        wide_gltf,
        [{"objects": 100_000}, {"objects": 3_000_000}, {"objects": 16_000_000}],
    ),
    "many_extensions": (many_extensions, [{"names": 256}, {"names": 60_000}]),
    "oversized_glb": (oversized_glb, [{"size": 49 * MB}, {"size": 2 * 1024 * MB}]),
    "not_a_glb": (not_a_glb, [{"size": 49 * MB}, {"size": 2 * 1024 * MB}]),
}
