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
from shazam_assets.platform import layout
from shazam_assets.platform.versions import published_version
from shazam_assets.publish import channels


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


def _channels(done: channels.ChannelsResult, s: Any) -> dict[str, Any]:
    m = done.files.manifest
    rows = "\n".join(
        f"| {d['channel']} | {d.get('bytes_after') or '-'} | {d.get('ssim_min') or '-'} | "
        f"{(d.get('refused') or {}).get('code') or 'shipped'} |"
        for d in m["derivatives"]
    )
    usdz = m["usdz"]
    return {
        "version": done.files.version,
        "set": done.files.set,
        "made": done.made,
        "channels": dg.MetadataValue.md(
            "| channel | bytes | SSIM min | outcome |\n|---|---|---|---|\n" + rows
        ),
        "usdz": (usdz.get("refused") or {}).get("code") or f"{usdz.get('bytes', 0):,} bytes",
        "variants": ", ".join(done.files.variants) or "none",
        "manifest": dg.MetadataValue.url(
            s.uri(layout.channel_manifest_key(done.files.asin, done.files.version))
        ),
    }


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="publish",
    deps=[keys.TURNTABLE_360],  # after it: a version that cannot be rendered is not processed twice
    kinds={"gltf", "usdz"},
    code_version=code_versions.CHANNEL_MODELS,
    output_required=False,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=RENDER_BATCH),
)
@transient_only
def channel_models(context: dg.AssetExecutionContext, store: ObjectStoreResource):
    """What each sales channel serves, made from the published version's master: a compressed
    derivative per channel (shipped only when the Khronos validator and a render comparison
    with the master pass, within the channel's budget) and the USDZ for iOS Quick Look. An
    ASIN with nothing published makes nothing."""
    s = store.open()

    def make(asin: str) -> channels.ChannelsResult | None:
        version = published_version(s, asin)
        if version is None:
            context.log.info(f"{asin} has no published version; no channel files to make")
            return None
        return channels.publish_channels(s, asin, version, log=context.log.info)

    made = per_asin(context.partition_keys, make, log=context.log.error)
    if len(made) > 1:
        yield dg.MaterializeResult(
            metadata={"asins": len(made), "made": sum(bool(d and d.made) for d in made)}
        )
    elif (done := made[0]) is not None:  # else nothing published: nothing to make
        yield dg.MaterializeResult(
            metadata=_channels(done, s), data_version=dg.DataVersion(done.files.set)
        )


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="publish",
    deps=[keys.CHANNEL_MODELS],  # and, through it, the turntable
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
    selection=[keys.TURNTABLE_360, keys.CHANNEL_MODELS, keys.PRODUCT_PAGE, keys.SEARCH_INDEX],
    partitions_def=asin_partitions,
    tags=GPU_RUN_TAGS,
    description="Turntable, channel files, product page and search entry of one ASIN's "
    "published version.",
)
