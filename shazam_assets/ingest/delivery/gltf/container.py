"""The file container: GLB header and chunks, then the JSON text.

A GLB is read as the reference validator streams it: header, then chunk headers and chunk
data in order, stopping at the declared length. A truncated file aborts after what could be
read (a complete JSON chunk is still validated, but resources are not loaded).
"""

from __future__ import annotations

import codecs
import json
import struct
from dataclasses import dataclass
from typing import Any

from shazam_assets.ingest.delivery import limits
from shazam_assets.ingest.delivery.gltf import catalog
from shazam_assets.ingest.delivery.gltf.context import Context

MAGIC = 0x46546C67  # "glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Glb:
    """What a GLB stream yielded."""

    json: bytes | None  # the complete JSON chunk, if one was read
    bin: bytes | None  # the first BIN chunk
    complete: bool  # False when reading stopped at a truncation (resources are skipped)


def _chunk_name(kind: int) -> str:
    return f"0x{kind:08x}"


@dataclass
class _Reader:
    data: bytes
    ctx: Context
    total: int = 0
    pos: int = 12
    chunks: int = 0
    json: bytes | None = None
    bin: bytes | None = None
    has_json: bool = False
    has_bin: bool = False

    def chunk(self) -> bool | None:
        """Read one chunk: True to go on, False at a clean end, None when truncated."""
        data, ctx, n = self.data, self.ctx, len(self.data)
        if self.pos == n:
            return False
        if self.pos == self.total:
            ctx.add(
                catalog.GLB_EXTRA_DATA, "Extra data after the end of GLB stream", offset=self.pos
            )
            return False
        if n - self.pos < 8:
            ctx.add(
                catalog.GLB_UNEXPECTED_END_OF_CHUNK_HEADER,
                "Unexpected end of chunk header",
                offset=n,
            )
            return None
        length, kind = struct.unpack_from("<II", data, self.pos)
        header = self.pos
        self.pos += 8
        self._check_header(length, kind, header)
        start, end = self.pos, self.pos + length
        if end > n:
            if kind == JSON_CHUNK and not self.has_json and _broken_text(data[start:], ctx):
                return None  # the JSON decoder gave up first; nothing more is reported
            if length > 0:
                ctx.add(
                    catalog.GLB_UNEXPECTED_END_OF_CHUNK_DATA,
                    "Unexpected end of chunk data",
                    offset=n,
                )
            return None
        self.pos = end
        if length == 0 and end == n:
            return None  # the stream ends inside an empty chunk: the reader stops there
        if kind == JSON_CHUNK and not self.has_json:
            self.has_json = True
            self.json = data[start:end]
        elif kind == BIN_CHUNK and not self.has_bin:
            self.has_bin = True
            self.bin = data[start:end]
        self.chunks += 1
        return True

    def _check_header(self, length: int, kind: int, offset: int) -> None:
        ctx, name = self.ctx, _chunk_name(kind)
        if length & 3:
            ctx.add(
                catalog.GLB_CHUNK_LENGTH_UNALIGNED,
                f"Length of {name} chunk is not aligned to 4-byte boundaries",
                offset=offset,
            )
        if self.pos + length > self.total:
            ctx.add(
                catalog.GLB_CHUNK_TOO_BIG,
                f"Chunk ({name}) length ({length}) does not fit total GLB length",
                offset=offset,
            )
        if self.chunks == 0 and kind != JSON_CHUNK:
            ctx.add(
                catalog.GLB_UNEXPECTED_FIRST_CHUNK,
                f"First chunk must be of JSON type. Found {name} instead",
                offset=offset,
            )
        if kind == BIN_CHUNK and self.chunks > 1 and not self.has_bin:
            ctx.add(
                catalog.GLB_UNEXPECTED_BIN_CHUNK,
                "BIN chunk must be the second chunk",
                offset=offset,
            )
        if kind == JSON_CHUNK:
            if length == 0:
                ctx.add(
                    catalog.GLB_EMPTY_CHUNK,
                    f"Chunk ({name}) cannot have zero length",
                    offset=offset,
                )
            if self.has_json:
                ctx.add(
                    catalog.GLB_DUPLICATE_CHUNK,
                    f"Chunk of type {name} has already been used",
                    offset=offset,
                )
        elif kind == BIN_CHUNK:
            if length == 0:
                ctx.add(
                    catalog.GLB_EMPTY_BIN_CHUNK, "Empty BIN chunk should be omitted", offset=offset
                )
            if self.has_bin:
                ctx.add(
                    catalog.GLB_DUPLICATE_CHUNK,
                    f"Chunk of type {name} has already been used",
                    offset=offset,
                )
        else:
            ctx.add(
                catalog.GLB_UNKNOWN_CHUNK_TYPE, f"Unknown GLB chunk type: {name}", offset=offset
            )


def read_glb(data: bytes, ctx: Context) -> Glb:
    """Walk the GLB container, reporting structural problems."""
    if len(data) < 12:
        ctx.add(catalog.GLB_UNEXPECTED_END_OF_HEADER, "Unexpected end of header", offset=len(data))
        return Glb(None, None, complete=False)
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != MAGIC:
        ctx.add(catalog.GLB_INVALID_MAGIC, f"Invalid GLB magic value ({magic})", offset=0)
        return Glb(None, None, complete=False)
    if version != 2:
        ctx.add(catalog.GLB_INVALID_VERSION, f"Invalid GLB version value {version}", offset=4)
        return Glb(None, None, complete=False)
    if total <= 12:
        ctx.add(
            catalog.GLB_LENGTH_TOO_SMALL, f"Declared GLB length ({total}) is too small", offset=8
        )
    reader = _Reader(data, ctx, total=total)
    while (status := reader.chunk()) is True:
        if reader.chunks >= limits.LIMITS.glb_chunks:
            ctx.issues.append(
                limits.GLB_CHUNKS(
                    f"more than {limits.LIMITS.glb_chunks} chunks; reading stopped at byte {reader.pos:,}"
                )
            )
            return Glb(reader.json, reader.bin, complete=False)
    if status is None:
        return Glb(reader.json, reader.bin, complete=False)
    if total != reader.pos:
        ctx.add(
            catalog.GLB_LENGTH_MISMATCH,
            f"Declared length ({total}) does not match GLB length ({reader.pos})",
            offset=reader.pos,
        )
    return Glb(reader.json, reader.bin, complete=True)


def _broken_text(partial: bytes, ctx: Context) -> bool:
    """Report a truncated JSON chunk whose bytes so far are already not UTF-8 (or start with a BOM)."""
    if partial.startswith(_BOM):
        ctx.add(
            catalog.INVALID_JSON,
            "Invalid JSON data. Parser output: BOM found at the beginning of UTF-8 stream",
        )
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(partial, final=False)
    except UnicodeDecodeError as exc:
        ctx.add(catalog.INVALID_JSON, f"Invalid JSON data. Parser output: {exc}")
        return True
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"Unexpected token {name!r}")


def parse_json(raw: bytes, ctx: Context) -> dict[str, Any] | None:
    """Decode the JSON text; only a JSON object is a glTF document."""
    if raw.startswith(_BOM):
        ctx.add(
            catalog.INVALID_JSON,
            "Invalid JSON data. Parser output: BOM found at the beginning of UTF-8 stream",
        )
        return None
    deep = limits.json_too_big(raw, "The glTF JSON")
    if deep is not None:
        ctx.issues.append(deep)
        return None
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        ctx.add(catalog.INVALID_JSON, f"Invalid JSON data. Parser output: {exc}")
        return None
    if not isinstance(document, dict):
        ctx.add(
            catalog.TYPE_MISMATCH,
            f"Type mismatch. Property value {str(document)[:40]} is not a 'object'",
        )
        return None
    return document
