"""Bounded image decoding: every picture SHAZAM decodes from outside goes through here.

Reference photos (validation, QA), search queries (`POST /search/image`, `shazam search
--image`) and stored photos the search index reads all come from people outside the company.
A PNG of a few hundred kilobytes can declare 13000 x 13000 pixels (zlib squeezes flat rows
about 1000:1), and decoding it costs gigabytes. So an image is opened lazily (Pillow reads only
the header), its byte size and declared pixel count are checked against `ImageLimits`, and only
then are pixels decoded, at reduced size where the caller needs less: JPEG through DCT scaling
(`draft`, the decoder itself works at 1/2 to 1/8 scale), other formats by an integer `reduce`
right after decoding.

Refusals are `ImageRefused` with a stable code (IMAGE_*); each stage turns it into its own
error (a validation issue, a search 413, ...).

Pillow is imported where a picture is opened, not with this module: `sound_png_size` vouches for
a well-formed PNG without it, so `shazam validate` on a delivery whose photos are such PNGs never
imports Pillow at all.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from shazam_assets.platform.errors import ShazamError

IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"

Source = bytes | Path

# Pillow's own errors for a file it cannot parse (SyntaxError and struct.error come from
# damaged headers in several plugins; Pillow's UnidentifiedImageError is an OSError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError)


@dataclass(frozen=True)
class ImageLimits:
    """The most one decode may cost. 8192 x 8192 pixels is a 64-megapixel camera's output and
    about 256 MB decoded (RGBA); 64 MB is more than any photo format needs for that."""

    max_pixels: int = 8192 * 8192
    max_bytes: int = 64 * 2**20
    # Only the formats SHAZAM takes from outside: Pillow would otherwise also parse TIFF, PSD,
    # EPS (through Ghostscript), ICO, ... each a parser an upload could aim at.
    formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP")

    def describe(self) -> str:
        side = int(self.max_pixels**0.5)
        return f"{self.max_pixels:,} pixels (e.g. {side} x {side})"


DEFAULT_LIMITS = ImageLimits()


class ImageRefused(ShazamError, ValueError):
    """The image is not decoded: `code` is one of IMAGE_UNREADABLE, IMAGE_TOO_MANY_PIXELS,
    IMAGE_TOO_LARGE; `message` says why without naming any path or store."""


def _size_of(source: Source) -> int:
    return len(source) if isinstance(source, bytes | bytearray) else source.stat().st_size


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise ImageRefused(
            IMAGE_TOO_MANY_PIXELS,
            f"the image declares {width} x {height} = {width * height:,} pixels; "
            f"at most {limits.describe()} are decoded",
        )


def _open(source: Source, limits: ImageLimits) -> Image.Image:
    """Open lazily (header only) after the byte limit, then check the declared pixel count."""
    size = _size_of(source)
    if size > limits.max_bytes:
        raise ImageRefused(
            IMAGE_TOO_LARGE,
            f"the file is {size / 2**20:.1f} MB; at most {limits.max_bytes // 2**20} MB",
        )
    from PIL import Image

    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=limits.formats)
    except Image.DecompressionBombError as exc:
        # Pillow's own last line of defence (twice its warning size); our cap is lower.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        count = (
            f"{int(declared.group(1)):,} pixels" if declared else "more pixels than Pillow opens"
        )
        raise ImageRefused(
            IMAGE_TOO_MANY_PIXELS,
            f"the image declares {count}; at most {limits.describe()} are decoded",
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageRefused(IMAGE_UNREADABLE, _reason(exc)) from None
    try:
        _check_pixels(image.width, image.height, limits)
    except ImageRefused:
        image.close()
        raise
    return image


@contextmanager
def open_image(source: Source, *, limits: ImageLimits = DEFAULT_LIMITS) -> Iterator[Image.Image]:
    """The image with only its header read (size, mode, format), after the byte and pixel
    limits were checked. Nothing is decoded until the caller asks (`load`, `verify`, ...)."""
    image = _open(source, limits)
    try:
        yield image
    finally:
        image.close()


# The PNG colour formats Pillow opens, as (bit depth, colour type): its PngImagePlugin._MODES.
_PNG_MODES = frozenset(
    {
        (1, 0),
        (2, 0),
        (4, 0),
        (8, 0),
        (16, 0),
        (8, 2),
        (16, 2),
        (1, 3),
        (2, 3),
        (4, 3),
        (8, 3),
        (8, 4),
        (16, 4),
        (8, 6),
        (16, 6),
    }
)
# Chunks before the image data that Pillow reads without fail once they hold this many bytes
# (palette, colour space, pixel density). Text, ICC profiles, animation, ... go through Pillow.
_PNG_PLAIN_CHUNKS = {b"PLTE": 0, b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_CHUNK_TYPE = re.compile(rb"\w{4}")


def sound_png_size(data: bytes, *, limits: ImageLimits = DEFAULT_LIMITS) -> tuple[int, int] | None:
    """(width, height) of a PNG that `open_image` opens within `limits` and whose `verify` passes
    (the CRC of every chunk up to IEND), found without Pillow; None for anything else, which is
    then Pillow's to judge, in its words. It vouches only for a plain PNG: the header, the palette,
    colour and density chunks, then the image data and whatever chunks follow it."""
    if (
        "PNG" not in limits.formats
        or len(data) > limits.max_bytes
        or not data.startswith(_PNG_MAGIC)
    ):
        return None
    chunks = _png_chunks(data)
    kind, header = next(chunks, (b"", memoryview(b"")))
    if kind != b"IHDR" or len(header) != 13:
        return None
    width, height, depth, colour, _, filter_method, _ = struct.unpack(">IIBBBBB", header)
    if (
        (depth, colour) not in _PNG_MODES
        or filter_method
        or not width
        or not height
        or width * height > limits.max_pixels
    ):
        return None
    for kind, body in chunks:
        if kind == b"IDAT":
            break
        if kind not in _PNG_PLAIN_CHUNKS or len(body) < _PNG_PLAIN_CHUNKS[kind]:
            return None
    else:
        return None
    return (width, height) if any(kind == b"IEND" for kind, _ in chunks) else None


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview]]:
    """(type, body) of each chunk after the signature while each is whole with a correct CRC,
    ending at IEND (whose body and CRC, as for Pillow, do not matter) or at the first fault."""
    view, at = memoryview(data), len(_PNG_MAGIC)
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        if not _PNG_CHUNK_TYPE.fullmatch(kind):
            return
        if kind == b"IEND":
            yield kind, view[:0]
            return
        end = at + 8 + length
        if (
            end + 4 > len(data)
            or zlib.crc32(view[at + 4 : end]) != struct.unpack_from(">I", data, end)[0]
        ):
            return
        yield kind, view[at + 8 : end]
        at = end + 4


def _reason(exc: BaseException) -> str:
    """Pillow's message without the repr of an in-memory stream or a file name."""
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not a JPEG, PNG or WebP image"
    return f"the image data is damaged or truncated ({type(exc).__name__})"


def _draft_size(width: int, height: int, longest: int) -> tuple[int, int]:
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _pixels(image: Image.Image, longest: int | None) -> Image.Image:
    """Decode `image` (JPEG at reduced DCT scale when `longest` allows) as RGB, or as
    premultiplied RGBa when it has transparency (so transparent pixels' colours do not bleed
    into their neighbours when reduced). One full-size copy at most besides the decode."""
    if longest is not None and image.format == "JPEG":
        image.draft("RGB", _draft_size(image.width, image.height, longest))
    image.load()
    if not _has_alpha(image):
        return image if image.mode == "RGB" else image.convert("RGB")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    return rgba.convert("RGBa")


def decode(
    source: Source, *, longest: int | None = None, limits: ImageLimits = DEFAULT_LIMITS
) -> Image.Image:
    """The decoded image as RGB, or RGBA when it has transparency; when `longest` is given, at
    least `longest` and less than twice `longest` px on its longer side (never enlarged), so the
    caller's own resize stays cheap. Raises ImageRefused, never a Pillow error."""
    from PIL import Image

    image = _open(source, limits)
    try:
        working = _pixels(image, longest)
    except Image.DecompressionBombError:
        raise ImageRefused(IMAGE_TOO_MANY_PIXELS, f"at most {limits.describe()}") from None
    except _DECODE_ERRORS as exc:
        raise ImageRefused(IMAGE_UNREADABLE, _reason(exc)) from None
    if longest is not None and (factor := max(working.size) // longest) >= 2:
        working = working.reduce(factor)
    return working.convert("RGBA") if working.mode == "RGBa" else working
