"""Reference product photos: they must be real JPEG/PNG images QA can compare renders with.

Photos are opened through `imaging.open_image`, so a header that declares more pixels than QA
and search will ever decode is rejected here (PHOTO_TOO_LARGE) before any pixel is decoded. A
plain, intact PNG is vouched for by `imaging.sound_png_size` without Pillow; every other photo,
and every fault, is Pillow's to judge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shazam_assets.ingest.delivery.report import Issue, RuleBook
from shazam_assets.platform import imaging

if TYPE_CHECKING:
    from PIL import Image

rules = RuleBook("photo")
PHOTO_UNREADABLE = rules.error(
    "PHOTO_UNREADABLE",
    "A reference photo is not a readable JPEG or PNG image",
    hint="Re-export the photo as a baseline JPEG or PNG; check the file is not truncated.",
)
PHOTO_TOO_LARGE = rules.error(
    "PHOTO_TOO_LARGE",
    "A reference photo declares more pixels than SHAZAM decodes",
    hint=f"Supply photos of at most {imaging.DEFAULT_LIMITS.describe()}; "
    "about 2000 px on the longer side is plenty for the visual comparison.",
)
PHOTO_TOO_SMALL = rules.warning(
    "PHOTO_TOO_SMALL",
    "A reference photo is too small for a useful visual comparison",
    hint="Supply product photos at least 512 px on their shorter side.",
)

_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


def _read_through(image: Image.Image) -> None:
    """Prove the whole image is intact without paying for a full-resolution decode.

    PNG: `verify` checks every chunk's CRC, so truncation or damage anywhere is found.
    JPEG: a 1/8-scale decode (DCT scaling) still reads the entire entropy-coded stream.
    """
    if image.format == "PNG":
        image.verify()
    else:
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


def check_photo(
    name: str, data: bytes, *, min_px: int
) -> tuple[tuple[int, int] | None, list[Issue]]:
    """Check a photo reads as the format its extension names; return its (width, height)."""
    expected = _FORMATS.get(name[name.rfind(".") :].lower())
    size = imaging.sound_png_size(data) if expected == "PNG" else None
    if size is None:
        try:
            with imaging.open_image(data) as image:
                actual, size = image.format, image.size
                _read_through(image)
        except imaging.ImageRefused as exc:
            rule = PHOTO_UNREADABLE if exc.code == imaging.IMAGE_UNREADABLE else PHOTO_TOO_LARGE
            return None, [rule(f"{name}: {exc.message}", path=name)]
        except (OSError, SyntaxError, ValueError, EOFError) as exc:  # damage past the header
            return None, [PHOTO_UNREADABLE(f"{name}: {exc}", path=name)]
        if actual != expected:
            return None, [
                PHOTO_UNREADABLE(f"{name}: the file is {actual}, not {expected}", path=name)
            ]
    if min(size) < min_px:
        return size, [
            PHOTO_TOO_SMALL(
                f"{name} is {size[0]}x{size[1]}; at least {min_px} px is recommended",
                path=name,
                width=size[0],
                height=size[1],
            )
        ]
    return size, []
