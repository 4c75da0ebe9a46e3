"""The catalogue: `published/catalog.json` and the page `published/index.html` listing every
product page, with a search box; and `published/404.html`, the page any URL where nothing is
published gets (the CDN's error page, and `shazam serve`'s).

It is rebuilt from the product pages' manifests, the only record of what is live, after
each publish and unpublish; an unchanged catalogue is not rewritten. Two publishers racing
each re-read the manifests after writing and write again if they differ, so the last writer
always leaves a catalogue with every page that was live when it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.publish.markup import (
    SEARCH_API,
    format_dimensions,
    render_catalogue_page,
    render_not_found_page,
)
from shazam_assets.publish.serving import CATALOGUE_SCHEMA, served_as
from shazam_assets.publish.site import site_assets, upload_site_assets

_ATTEMPTS = 3


@dataclass(frozen=True)
class CatalogueResult:
    asins: tuple[str, ...]  # every product listed, in catalogue order
    changed: bool  # False: the stored catalogue already said exactly this


def _entry(asin: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """One product as catalog.json lists it; URLs relative to the catalogue page."""
    return {
        "asin": asin,
        "title": manifest["title"],
        "version": manifest["version"],
        "dimensions": format_dimensions(manifest.get("dimensions")),
        "url": layout.page_relative(layout.page_key(asin)),
        "poster": f"{asin}/{manifest['urls']['poster']}",
    }


def catalogue_entries(store: ObjectStore) -> list[dict[str, Any]]:
    """Every live product page, sorted by title then ASIN. (Lists the whole published/ tree:
    one request per ~20 products on S3.)"""
    entries = []
    for info in store.list(layout.pages_prefix()):
        asin = layout.parse_page_manifest_key(info.key)
        if asin is None:
            continue
        try:
            entries.append(_entry(asin, json.loads(store.get_bytes(info.key))))
        except ObjectNotFound:
            continue  # unpublished while we listed
    return sorted(entries, key=lambda e: (str(e["title"]).lower(), e["asin"]))


def _current(store: ObjectStore, key: str) -> bytes | None:
    try:
        return store.get_bytes(key)
    except ObjectNotFound:
        return None


def _write_catalogue(store: ObjectStore, entries: list[dict[str, Any]], *, search_api: str) -> bool:
    """Write catalog.json, then the page (and the 404 page); only what differs. True if
    anything was written."""
    site = site_assets()
    data = json.dumps({"schema": CATALOGUE_SCHEMA, "products": entries}, indent=2, sort_keys=True)
    page = render_catalogue_page(entries, site=site.urls(depth=0), search_api=search_api)
    wanted = [
        (layout.catalogue_key(), data.encode()),
        (layout.catalogue_page_key(), page),
        (layout.not_found_page_key(), render_not_found_page()),
    ]
    stale = [(key, body) for key, body in wanted if _current(store, key) != body]
    if stale:
        upload_site_assets(store, site)
    for key, body in stale:
        store.put_bytes(key, body, **served_as(key).metadata())
    return bool(stale)


def publish_catalogue(
    store: ObjectStore, *, search_api: str = SEARCH_API, log: Callable[[str], None] = lambda _: None
) -> CatalogueResult:
    """Rebuild the catalogue from the live product pages (a no-op when it is up to date)."""
    changed = False
    entries = catalogue_entries(store)
    for _ in range(_ATTEMPTS):
        changed = _write_catalogue(store, entries, search_api=search_api) or changed
        again = catalogue_entries(store)
        if again == entries:
            break
        entries = again  # a page went live or away while we wrote: write what is true now
    asins = tuple(e["asin"] for e in entries)
    if changed:
        log(
            f"catalogue: {len(asins)} product(s) listed in {store.uri(layout.catalogue_page_key())}"
        )
    return CatalogueResult(asins=asins, changed=changed)
