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
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from shazam_assets.platform.errors import ShazamError

IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"

Source = bytes | Path

# Pillow's own errors for a file it cannot parse (SyntaxError and struct.error come from
# damaged headers in several plugins).
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError)


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
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=limits.formats)
    except Image.DecompressionBombError as exc:
        # Pillow's own last line of defence (twice its warning size); our cap is lower.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(declared.group(1)):,} pixels" if declared else "more pixels than Pillow opens"
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


def _reason(exc: BaseException) -> str:
    """Pillow's message without the repr of an in-memory stream or a file name."""
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
