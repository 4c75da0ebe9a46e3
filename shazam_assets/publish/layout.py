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

from shazam_assets.asin import is_valid_asin

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

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
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


def content_type(path: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")


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
