"""Product pages: approved 3D models on the shop's pages, and a catalogue of them.

    publish_product(store, asin)     the page of the ASIN's approved version (release + page)
    unpublish_product(store, asin)   take a page down (and, through a hook, out of search)
    sync_product_page(store, asin)   whichever of the two QA's publish pointer calls for
    publish_catalogue(store)         rebuild published/index.html and published/catalog.json
    create_pages_app(store)          serve the published/ tree read-only (for `shazam serve`)

The keys are `shazam_assets.platform.layout`'s, the type each object is served with is
`serving`'s; refusals raise `PublishError` with a stable code
(listed in `shazam_assets.platform.errors`). Nothing here imports Dagster.
"""

from shazam_assets.publish.catalogue import CatalogueResult, catalogue_entries, publish_catalogue
from shazam_assets.publish.errors import PublishError
from shazam_assets.publish.product import (
    PageSync,
    PublishResult,
    ReleaseDeletion,
    UnpublishResult,
    publish_product,
    read_page_manifest,
    sync_product_page,
    unpublish_product,
)
from shazam_assets.publish.server import create_pages_app

__all__ = [
    "CatalogueResult",
    "PageSync",
    "PublishError",
    "PublishResult",
    "ReleaseDeletion",
    "UnpublishResult",
    "catalogue_entries",
    "create_pages_app",
    "publish_catalogue",
    "publish_product",
    "read_page_manifest",
    "sync_product_page",
    "unpublish_product",
]
