"""Reading a model file for rendering: its glTF JSON, its buffers, and trimesh's scene.

One place decides what the renderer can read, so every failure is a `RenderError` with a
code instead of a KeyError or IndexError from deep inside a loader:
- The JSON is parsed once with the standard library (pygltflib's dataclass decoding took
  2 ms per node: 7 s per read of a 3,000-node model, read twice per render).
- An extension the file lists in extensionsRequired and the renderer cannot draw (Draco,
  meshopt, KTX2 textures) is refused up front (RENDER_UNSUPPORTED_EXTENSION), as the glTF
  spec asks of a loader; trimesh would otherwise crash on it or draw placeholder zeros.
- URIs are percent-decoded (glTF URIs are RFC 3986 references: `te%CC%81xture%20b.bin` names
  the file `téxture b.bin`), for trimesh as for our own buffer reads.
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trimesh

from shazam_assets.platform import imaging
from shazam_assets.platform.renderer.errors import RenderError

# extensionsRequired the studio renderer draws (trimesh decodes WebP with Pillow; quantized
# attributes are read as their integer values by trimesh, like an unquantized mesh).
RENDERABLE_REQUIRED = frozenset(
    {"EXT_texture_webp", "KHR_mesh_quantization", "KHR_texture_transform"}
)
_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = b"glTF", 0x4E4F534A, 0x004E4942


@dataclass(frozen=True, eq=False)
class GltfSource:
    """A model file's glTF JSON, the folder its URIs are relative to, and its GLB BIN chunk."""

    path: Path
    document: dict[str, Any]
    glb_bin: bytes | None
    # buffers already read, by index: many images or views may name one external .bin
    _buffers: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def buffer(self, index: int) -> bytes:
        """The bytes of buffers[index] (GLB chunk, data: URI or a file beside the model), read
        once however many views name it."""
        if index not in self._buffers:
            uri = self.document["buffers"][index].get("uri")
            if uri is None:
                if self.glb_bin is None or index != 0:
                    raise ValueError(f"buffer {index} holds no data")
                return self.glb_bin
            self._buffers[index] = read_uri(self.folder, uri)
        return self._buffers[index]


def read_uri(folder: Path, uri: str) -> bytes:
    """A glTF URI's bytes: a data: URI decoded, else the percent-decoded file in `folder`."""
    if uri[:5].lower() == "data:":
        header, _, payload = uri[5:].partition(",")
        if header.endswith(";base64"):
            return base64.b64decode(urllib.parse.unquote(payload))
        return urllib.parse.unquote_to_bytes(payload)
    return (folder / urllib.parse.unquote(uri)).read_bytes()


def read_source(path: Path) -> GltfSource:
    """Parse a .glb or .gltf (JSON only; buffers are read on demand)."""
    try:
        data = path.read_bytes()
        if data[:4] == _GLB_MAGIC:
            document, glb_bin = _split_glb(data)
        else:
            document, glb_bin = json.loads(data), None
    except (OSError, ValueError, struct.error) as exc:
        raise RenderError(
            "RENDER_MODEL_UNREADABLE", f"{path.name}: not a readable glTF ({exc})"
        ) from None
    if not isinstance(document, dict):
        raise RenderError("RENDER_MODEL_UNREADABLE", f"{path.name}: the glTF JSON is not an object")
    return GltfSource(path, document, glb_bin)


def _split_glb(data: bytes) -> tuple[Any, bytes | None]:
    """(JSON document, BIN chunk) of a GLB."""
    offset, document, binary = 12, None, None
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, offset)
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == _JSON_CHUNK and document is None:
            document = json.loads(chunk)
        elif kind == _BIN_CHUNK and binary is None:
            binary = chunk
        offset += 8 + length + (-length & 3)
    if document is None:
        raise ValueError("no JSON chunk")
    return document, binary


def check_renderable(source: GltfSource) -> None:
    """Refuse what the renderer cannot draw before any loader touches it."""
    required = source.document.get("extensionsRequired") or []
    missing = sorted(str(n) for n in required if n not in RENDERABLE_REQUIRED)
    if missing:
        raise RenderError(
            "RENDER_UNSUPPORTED_EXTENSION",
            f"{source.path.name} requires {', '.join(missing)}, which the studio renderer cannot "
            "draw; render the uncompressed master",
        )


def image_source(source: GltfSource, image: Any) -> bytes | Path | None:
    """Where an image's bytes are (a buffer view's slice, a data: URI, a file beside the model);
    None where it names nothing readable (the loader reports that on its own)."""
    try:
        if "bufferView" in image:
            view = source.document["bufferViews"][image["bufferView"]]
            start = int(view.get("byteOffset", 0))
            return source.buffer(int(view["buffer"]))[start : start + int(view["byteLength"])]
        uri = image["uri"]
        if uri[:5].lower() == "data:":
            return read_uri(source.folder, uri)
        path = source.folder / urllib.parse.unquote(uri)
        return path if path.is_file() else None
    except (KeyError, IndexError, TypeError, ValueError, OSError):
        return None


def check_textures(source: GltfSource) -> None:
    """Every texture's header is read before the loader decodes it whole: one declaring more
    pixels (or bytes) than SHAZAM decodes is refused (RENDER_TEXTURE_TOO_LARGE). Validation
    holds deliveries to their profile's texture size; this bounds `shazam render` on any file
    and QA on versions stored before."""
    for index, image in enumerate(source.document.get("images") or []):
        found = image_source(source, image) if isinstance(image, dict) else None
        if found is None:
            continue
        try:
            with imaging.open_image(found):
                pass
        except imaging.ImageRefused as exc:
            if exc.code != imaging.IMAGE_UNREADABLE:  # unreadable ones the loader skips
                raise RenderError(
                    "RENDER_TEXTURE_TOO_LARGE", f"{source.path.name}: image {index}: {exc.message}"
                ) from None


class _DecodingResolver(trimesh.resolvers.FilePathResolver):
    """trimesh's file resolver, given percent-decoded names (it uses URIs verbatim)."""

    def get(self, name: str) -> bytes:
        data: bytes = super().get(urllib.parse.unquote(name))
        return data


def load_scene(source: GltfSource) -> trimesh.Scene:
    """trimesh's scene of the model; whatever trimesh chokes on is RENDER_MODEL_UNREADABLE."""
    check_renderable(source)
    check_textures(source)
    try:
        scene = trimesh.load(
            str(source.path),
            force="scene",
            process=False,
            resolver=_DecodingResolver(str(source.folder)),
        )
    except Exception as exc:  # trimesh raises anything from KeyError to IndexError on odd files
        raise RenderError(
            "RENDER_MODEL_UNREADABLE",
            f"{source.path.name}: cannot be loaded ({type(exc).__name__}: {exc})",
        ) from None
    if not isinstance(scene, trimesh.Scene):
        raise RenderError("RENDER_MODEL_UNREADABLE", f"{source.path.name}: no scene")
    return scene
