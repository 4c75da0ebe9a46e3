"""`product_page` of each ASIN, and the publish job: turntable, page and search entry of the
published version, run whenever it changes."""

from typing import Any

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.cadence import RENDER_BATCH
from dagster_project.lib.k8s import GPU_RUN_TAGS
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource
from dagster_project.lib.retries import RETRY, per_asin, transient_only
from shazam_assets import publish


def _page(done: publish.PublishResult) -> dict[str, Any]:
    return {
        "version": done.version,
        "release": done.release,
        "changed": done.changed,
        "files": done.files,
        "copied_bytes": done.copied_bytes,
        "page": dg.MetadataValue.url(done.page_uri),
    }


def _pages(synced: list[publish.PageSync]) -> dict[str, Any]:
    by = {
        outcome: [p.asin for p in synced if p.outcome == outcome]
        for outcome in ("published", "taken_down")
    }
    return {
        "asins": len(synced),
        "published": len(by["published"]),
        "changed": sum(bool(p.published and p.published.changed) for p in synced),
        "taken_down": ", ".join(by["taken_down"]) or "none",
    }


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="publish",
    deps=[keys.TURNTABLE_360],
    kinds={"html"},
    code_version=code_versions.PRODUCT_PAGE,
    output_required=False,
    backfill_policy=dg.BackfillPolicy.multi_run(
        max_partitions_per_run=RENDER_BATCH
    ),  # with its turntables
)
@transient_only
def product_page(context: dg.AssetExecutionContext, store: ObjectStoreResource):
    """The shop's page of the published version: 3D viewer, 360° spin, schema.org 3DModel,
    and its entry in the catalogue. Goes live atomically (the page is written last); an ASIN
    with nothing published has its page taken down. A backfill batch syncs every page of
    its range, then rebuilds the catalogue once."""
    s, keys = store.open(), context.partition_keys

    def sync(asin: str) -> publish.PageSync:  # a PublishError fails it with its code, no retry
        return publish.sync_product_page(s, asin, catalogue=False, log=context.log.info)

    try:
        synced = per_asin(keys, sync, log=context.log.error)
    finally:  # the pages that did go live (or down) are listed even when another one failed
        publish.publish_catalogue(s, log=context.log.info)
    if len(keys) > 1:
        yield dg.MaterializeResult(metadata=_pages(synced))
    elif (done := synced[0].published) is not None:  # else nothing published: the page is down
        yield dg.MaterializeResult(metadata=_page(done), data_version=dg.DataVersion(done.release))


publish_job = dg.define_asset_job(
    "publish_job",
    selection=[keys.TURNTABLE_360, keys.PRODUCT_PAGE, keys.SEARCH_INDEX],
    partitions_def=asin_partitions,
    tags=GPU_RUN_TAGS,
    description="Turntable, product page and search entry of one ASIN's published version.",
)
