"""Image headers: format, size and colour features, read without decoding pixels.

Textures can be large, so only the header is scanned: PNG chunks up to the first IDAT, JPEG
segments up to the first start-of-frame, the first 30 bytes of WebP. The scan follows the
reference validator's decoders so the same files are judged broken (IMAGE_DATA_INVALID),
truncated (IMAGE_UNEXPECTED_EOS) or unknown (IMAGE_UNRECOGNIZED_FORMAT).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

JPEG, PNG, WEBP, KTX2 = "image/jpeg", "image/png", "image/webp", "image/ktx2"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KTX2_SIGNATURE = b"\xabKTX 20\xbb\r\n\x1a\n"
# Fixed chunk lengths the reference decoder insists on.
_PNG_CHUNK_LENGTHS = {b"IHDR": 13, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9, b"gAMA": 4}
_SRGB_CHROMATICITIES = (31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)


class ImageUnrecognized(Exception):
    """Not a PNG, JPEG or WebP stream."""


class ImageTruncated(Exception):
    """The stream ends before the header is complete."""


class ImageInvalid(Exception):
    """The header is malformed; the message says how."""


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    bits: int
    unsupported_features: bool = False  # custom colour space, non-square pixels or animation


def detect_mime_type(data: bytes | memoryview) -> str | None:
    """The format a stream's signature announces (None for fewer than 14 bytes or unknown)."""
    head = bytes(data[:14])
    if len(head) < 14:
        return None
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == _PNG_SIGNATURE:
        return PNG
    if head[:4] == b"RIFF" and head[8:14] == b"WEBPVP":
        return WEBP
    if head[:12] == _KTX2_SIGNATURE:
        return KTX2
    return None


def read_image_info(data: bytes | memoryview) -> ImageInfo:
    """Parse the header; raises ImageUnrecognized, ImageTruncated or ImageInvalid."""
    codec = detect_mime_type(data)
    view = memoryview(data).cast("B")
    if codec == JPEG:
        return _jpeg_info(view)
    if codec == PNG:
        return _png_info(view)
    if codec == WEBP:
        return _webp_info(view)
    raise ImageUnrecognized()


def _jpeg_has_segment(marker: int) -> bool:
    return not (marker == 0x01 or (marker & 0xF8) == 0xD0 or marker in (0xD8, 0xD9, 0xFF))


def _jpeg_is_sof(marker: int) -> bool:
    return ((marker & 0xF0) == 0xC0 and marker not in (0xC4, 0xC8, 0xCC)) or marker == 0xDE


# Markers or chunks walked before the size is found: real files need tens, a hostile one
# could make every byte a marker (millions of steps per image).
MAX_HEADER_STEPS = 65_536


def _too_long() -> ImageInvalid:
    return ImageInvalid(f"No image size within the first {MAX_HEADER_STEPS:,} markers or chunks.")


def _jpeg_info(data: memoryview) -> ImageInfo:
    """Walk JPEG marker segments until the first start-of-frame."""
    n = len(data)
    if data[0] != 0xFF:
        raise ImageInvalid("Invalid start of file.")
    i = 1
    for _ in range(MAX_HEADER_STEPS):
        if i >= n:
            raise ImageTruncated()
        marker = data[i]
        i += 1
        if not _jpeg_has_segment(marker):
            continue
        if i + 2 > n:
            raise ImageTruncated()
        length = (data[i] << 8) | data[i + 1]
        i += 2
        if length < 2:
            raise ImageInvalid("Invalid JPEG marker segment length.")
        if _jpeg_is_sof(marker):
            if i + length - 2 > n:
                raise ImageTruncated()
            return _jpeg_frame(bytes(data[i : i + length - 2]))
        i += length - 2
        if i > n:
            raise ImageTruncated()
    raise _too_long()


def _jpeg_frame(frame: bytes) -> ImageInfo:
    if len(frame) < 6 or frame[5] not in (1, 3):
        raise ImageInvalid("Invalid number of JPEG color channels.")
    height = (frame[1] << 8) | frame[2]
    width = (frame[3] << 8) | frame[4]
    return ImageInfo(JPEG, width, height, frame[0])


@dataclass
class _PngState:
    header: bytes | None = None
    transfer: str = "unknown"  # unknown, srgb, linear, custom
    primaries: str = "unknown"  # unknown, srgb, custom
    non_square: bool = False


def _png_info(data: memoryview) -> ImageInfo:
    """Walk PNG chunks until the first IDAT (which the IHDR must precede)."""
    state = _PngState()
    pos, n = 8, len(data)
    for _ in range(MAX_HEADER_STEPS):
        if pos + 8 > n:
            raise ImageTruncated()
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        pos += 8
        if kind in _PNG_CHUNK_LENGTHS and length != _PNG_CHUNK_LENGTHS[kind]:
            raise ImageInvalid("Wrong chunk length.")
        if kind == b"IDAT":
            return _png_result(state)
        if kind == b"iCCP":
            state.transfer = state.primaries = "custom"
        if pos + length > n:
            raise ImageTruncated()
        _png_chunk(state, kind, bytes(data[pos : pos + length]))
        pos += length + 4  # data and CRC
    raise _too_long()


def _png_chunk(state: _PngState, kind: bytes, body: bytes) -> None:
    if kind == b"IHDR":
        state.header = body
    elif kind == b"sRGB":
        state.transfer = state.primaries = "srgb"
    elif kind == b"gAMA" and state.transfer == "unknown":
        gamma = int.from_bytes(body, "big")
        state.transfer = {45455: "srgb", 100000: "linear"}.get(gamma, "custom")
    elif kind == b"cHRM" and state.primaries == "unknown":
        values = struct.unpack(">8I", body)
        state.primaries = "srgb" if values == _SRGB_CHROMATICITIES else "custom"
    elif kind == b"pHYs":
        x, y = struct.unpack(">II", body[:8])
        state.non_square = x != y


def _png_result(state: _PngState) -> ImageInfo:
    if state.header is None:
        raise ImageInvalid("PNG header not found.")
    width, height, bits = struct.unpack(">IIB", state.header[:9])
    unsupported = state.primaries == "custom" or state.transfer == "custom" or state.non_square
    return ImageInfo(PNG, width, height, bits, unsupported)


def _webp_info(data: memoryview) -> ImageInfo:
    """Read the WebP RIFF header (VP8, VP8L or VP8X) for size and features."""
    head = bytes(data[:30])
    if len(head) < 25 or (len(head) < 30 and head[15] != 0x4C):
        raise ImageTruncated()
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ImageInvalid("Wrong WebP header.")
    kind = head[12:16]
    if kind == b"VP8 ":
        width = struct.unpack("<H", head[26:28])[0] & 0x3FFF
        height = struct.unpack("<H", head[28:30])[0] & 0x3FFF
        return ImageInfo(WEBP, width, height, 8)
    if kind == b"VP8L":
        width = 1 + (head[21] | ((head[22] & 0x3F) << 8))
        height = 1 + ((head[22] >> 6) | (head[23] << 2) | ((head[24] & 0x0F) << 10))
        return ImageInfo(WEBP, width, height, 8)
    if kind == b"VP8X":
        features = head[20]
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        unsupported = bool(features & 0x02) or bool(features & 0x20)
        return ImageInfo(WEBP, width, height, 8, unsupported)
    raise ImageInvalid("Wrong WebP header.")
