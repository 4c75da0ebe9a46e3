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
# How long browsers and the CDN (docs/deploy.md, "The shop's CDN") may keep an object, decided
# by its key like its type. A release folder `<ASIN>/r<16 hex>/` and every file under _static/
# are named for their content (a release's fingerprint, a file's hash, model-viewer's version):
# a name never changes its bytes, so they are kept for a year and never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
# The pointers (each product's index.html and manifest.json, the catalogue's index.html and
# catalog.json, the 404 page) are rewritten in place by a publish, a rollback or an unpublish, and must show
# within a minute through both caches. The CDN keeps one for at most s-maxage=30 s; a browser
# for at most max-age=15 s after it got it. Even a browser that ignored the Age the CDN sends
# (RFC 9111 has it subtract the time the copy spent in the CDN) sees a change at most
# 30 + 15 = 45 s after it was written. Shorter would only add requests to the origin: 30 s
# bounds the CDN's fetches to two per pointer and edge location a minute.
POINTER = "public, max-age=15, s-maxage=30"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
DOWNLOAD = "application/octet-stream"
ATTACHMENT = "attachment"


@dataclass(frozen=True)
class ServedAs:
    """The headers a published object is stored (S3 metadata) and served with."""

    content_type: str
    content_disposition: str | None = None  # "attachment": never shown inline
    cache_control: str = POINTER  # IMMUTABLE for content-named keys

    def metadata(self) -> dict[str, str | None]:
        """Keyword arguments for the store's put_* and copy: the object carries its headers."""
        return {
            "content_type": self.content_type,
            "content_disposition": self.content_disposition,
            "cache_control": self.cache_control,
        }


def served_as(key: str) -> ServedAs:
    """How the object at store key `key` (under `layout.pages_prefix()`) is served."""
    suffix = posixpath.splitext(key)[1].lower()
    relative = layout.page_relative(key)
    parts = (key if relative is None else relative).split("/")
    own_page = len(parts) == 1 or (len(parts) == 2 and is_valid_asin(parts[0]))
    if (own_page and parts[-1] == layout.PAGE_NAME) or key == layout.not_found_page_key():
        return ServedAs(HTML)
    if own_page and key in (layout.catalogue_key(), layout.page_manifest_key(parts[0])):
        return ServedAs(JSON)
    static = key.startswith(layout.static_prefix())
    cache = IMMUTABLE if static or _in_release(parts) else POINTER
    if static and suffix in STATIC_TYPES:
        return ServedAs(STATIC_TYPES[suffix], cache_control=cache)
    if suffix in MEDIA_TYPES:
        return ServedAs(MEDIA_TYPES[suffix], cache_control=cache)
    return ServedAs(DOWNLOAD, ATTACHMENT, cache_control=cache)


def _in_release(parts: list[str]) -> bool:
    """`<ASIN>/r<16 hex>/...`: a file inside one of a product's release folders."""
    return len(parts) > 2 and is_valid_asin(parts[0]) and is_release_name(parts[1])


def is_release_name(name: str) -> bool:
    """`r` + 16 hex digits: a release folder under a product's page folder."""
    return bool(_RELEASE.match(name))
