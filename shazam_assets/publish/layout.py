"""Where the product pages live in the store, and what type each file is served with.

    published/<ASIN>/index.html           the product page (written last)
    published/<ASIN>/manifest.json        what the page shows: URLs, sha256 and size of each file
    published/<ASIN>/r<fingerprint>/...   one release: the GLB, poster, frames, sprite, video
    published/_static/...                 the pages' script, style and model-viewer (shared)
    published/index.html                  the catalogue page
    published/catalog.json                the catalogue's data

Every URL in a page is relative to the page, so the tree works wherever it is hosted: on S3,
behind `shazam serve`, or opened from disk.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from shazam_assets.platform.asin import is_valid_asin

PAGES_PREFIX = "published/"
STATIC_DIR = "_static"
STATIC_PREFIX = f"{PAGES_PREFIX}{STATIC_DIR}/"
PAGE = "index.html"
PAGE_MANIFEST = "manifest.json"
CATALOGUE_KEY = f"{PAGES_PREFIX}catalog.json"
CATALOGUE_PAGE_KEY = f"{PAGES_PREFIX}{PAGE}"
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
    """How the object at store key `key` (under published/) is served."""
    suffix = posixpath.splitext(key)[1].lower()
    parts = key.removeprefix(PAGES_PREFIX).split("/")
    own_page = len(parts) == 1 or (len(parts) == 2 and is_valid_asin(parts[0]))
    if own_page and parts[-1] == PAGE:
        return ServedAs(HTML)
    if own_page and key in (CATALOGUE_KEY, f"{PAGES_PREFIX}{parts[0]}/{PAGE_MANIFEST}"):
        return ServedAs(JSON)
    if key.startswith(STATIC_PREFIX) and suffix in STATIC_TYPES:
        return ServedAs(STATIC_TYPES[suffix])
    if suffix in MEDIA_TYPES:
        return ServedAs(MEDIA_TYPES[suffix])
    return ServedAs(DOWNLOAD, ATTACHMENT)


def page_prefix(asin: str) -> str:
    return f"{PAGES_PREFIX}{asin}/"


def page_key(asin: str) -> str:
    return page_prefix(asin) + PAGE


def page_manifest_key(asin: str) -> str:
    return page_prefix(asin) + PAGE_MANIFEST


def is_release_name(name: str) -> bool:
    """`r` + 16 hex digits: a release folder under a product's page folder."""
    return bool(_RELEASE.match(name))


def parse_page_manifest_key(key: str) -> str | None:
    """`published/<ASIN>/manifest.json` -> the ASIN; None for any other key."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != PAGES_PREFIX or parts[2] != PAGE_MANIFEST:
        return None
    return parts[1] if is_valid_asin(parts[1]) else None
