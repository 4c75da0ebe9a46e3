"""What type each published object is served with, decided by its key.

The keys of the product pages, their releases, the shared static files and the catalogue are
`shazam_assets.platform.layout`'s (under `layout.pages_prefix()`). Every URL in a page is
relative to the page, so the tree works wherever it is hosted: on S3, behind `shazam serve`,
or opened from disk.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from shazam_assets.platform import layout
from shazam_assets.platform.asin import is_valid_asin

PAGE_SCHEMA = "shazam.product-page/1"
CATALOGUE_SCHEMA = "shazam.catalogue/1"
_RELEASE = re.compile(r"^r[0-9a-f]{16}$")

# What a published object is served as is decided by its key, never by its content or by
# what a delivery named it: only the pages SHAZAM renders are HTML, only its own files under
# _static/ are scripts and styles; anything else is shown inline only with a media type from
# MEDIA_TYPES and is otherwise a download (application/octet-stream, attachment). Browsers get
# `X-Content-Type-Options: nosniff` with it, so no uploaded byte ever runs as a page or script.
MEDIA_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".usdz": "model/vnd.usdz+zip",  # what iOS Quick Look opens (IANA-registered)
    ".bin": "application/octet-stream",
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ktx2": "image/ktx2",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
}
HTML = "text/html; charset=utf-8"
JSON = "application/json"
DOWNLOAD = "application/octet-stream"
ATTACHMENT = "attachment"


@dataclass(frozen=True)
class ServedAs:
    """The headers a published object is stored (S3 metadata) and served with."""

    content_type: str
    content_disposition: str | None = None  # "attachment": never shown inline

    def metadata(self) -> dict[str, str | None]:
        """Keyword arguments for the store's put_* and copy: the object carries its headers."""
        return {"content_type": self.content_type, "content_disposition": self.content_disposition}


def served_as(key: str) -> ServedAs:
    """How the object at store key `key` (under `layout.pages_prefix()`) is served."""
    suffix = posixpath.splitext(key)[1].lower()
    relative = layout.page_relative(key)
    parts = (key if relative is None else relative).split("/")
    own_page = len(parts) == 1 or (len(parts) == 2 and is_valid_asin(parts[0]))
    if own_page and parts[-1] == layout.PAGE_NAME:
        return ServedAs(HTML)
    if own_page and key in (layout.catalogue_key(), layout.page_manifest_key(parts[0])):
        return ServedAs(JSON)
    if key.startswith(layout.static_prefix()) and suffix in STATIC_TYPES:
        return ServedAs(STATIC_TYPES[suffix])
    if suffix in MEDIA_TYPES:
        return ServedAs(MEDIA_TYPES[suffix])
    return ServedAs(DOWNLOAD, ATTACHMENT)


def is_release_name(name: str) -> bool:
    """`r` + 16 hex digits: a release folder under a product's page folder."""
    return bool(_RELEASE.match(name))
