"""Take an ASIN off the shop everywhere at once: QA's pointer, its product page and catalogue
entry (publish), and its search entry (search). Its versions stay stored and approved; the
pointer's history records the unpublishing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shazam_assets.platform.storage import ObjectStore
from shazam_assets.publish import UnpublishResult, unpublish_product
from shazam_assets.qa.decisions import unpublish as clear_pointer
from shazam_assets.search.build import update_table
from shazam_assets.search.embed import open_embedder


@dataclass(frozen=True)
class Unpublished:
    version: int  # the version that was published
    page: UnpublishResult


def unpublish_asin(
    store: ObjectStore,
    asin: str,
    *,
    reason: str,
    embedder: str,
    log: Callable[[str], None] = lambda _: None,
) -> Unpublished:
    """Clear the published pointer (QA_NOTHING_PUBLISHED if there is none), then take the page
    and catalogue entry down and drop the ASIN from the search index (embedder spec as
    `open_embedder` takes it)."""
    version = clear_pointer(store, asin, reason=reason)
    index = open_embedder(embedder)
    page = unpublish_product(
        store, asin, on_removed=lambda a: update_table(store, [a], index), log=log
    )
    return Unpublished(version=version, page=page)
