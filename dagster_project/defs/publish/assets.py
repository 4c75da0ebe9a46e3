"""`product_page` and `search_index` of each ASIN, and the scheduled full search rebuild."""

from typing import Any

import dagster as dg

from dagster_project.defs.render.assets import RENDER_BATCH, turntable_360
from dagster_project.lib.k8s import GPU_RUN_TAGS
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource, SearchSettingsResource
from dagster_project.lib.retries import RETRY, per_asin, transient_only
from shazam_assets import publish
from shazam_assets.search import build

SEARCH_PROBE = "search_finds_product"


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
    by = {outcome: [p.asin for p in synced if p.outcome == outcome] for outcome in ("published", "taken_down")}
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
    deps=[turntable_360],
    kinds={"html"},
    output_required=False,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=RENDER_BATCH),  # with its turntables
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


@dg.asset(
    partitions_def=asin_partitions,
    group_name="publish",
    deps=[turntable_360],
    kinds={"hnswlib"},
    check_specs=[
        dg.AssetCheckSpec(
            SEARCH_PROBE, asset="search_index", partitions_def=asin_partitions,
            description="Altered copies of the product's reference photos find it in the top 5.",
        )
    ],
)
def search_index(
    context: dg.AssetExecutionContext, store: ObjectStoreResource, search: SearchSettingsResource
) -> dg.MaterializeResult:
    """The ASIN's entry in the search index (exact ASIN, words, and photos: its 360° frames and
    reference photos), upserted into a new index version; removed when nothing is published.
    `search_success_rate` is the share of probe photo queries that found it in the top 5."""
    s, asin, embedder = store.open(), context.partition_key, search.embedder()
    saved, (done,) = build.update_asins(s, [asin], embedder, log=context.log.info)
    index = build.SearchIndex.load(s, embedder)
    probe = build.probe_asin(s, index, asin)
    return dg.MaterializeResult(
        metadata={
            "published_version": done.version or 0,
            "indexed_pictures": done.frames + done.photos,
            "index_version": saved.version,
            "index_asins": saved.asins,
            "search_success_rate": probe.success_rate,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SEARCH_PROBE,
                passed=probe.found_in_top_k == probe.queries,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"queries": probe.queries, "found_in_top_5": probe.found_in_top_k,
                          "search_success_rate": probe.success_rate},
            )
        ],
    )


publish_job = dg.define_asset_job(
    "publish_job",
    selection=[turntable_360, product_page, search_index],
    partitions_def=asin_partitions,
    tags=GPU_RUN_TAGS,
    description="Turntable, product page and search entry of one ASIN's published version.",
)


@dg.op(description="Rebuild the whole search index from every published ASIN and save it.")
def rebuild_search_index(
    context: dg.OpExecutionContext, store: ObjectStoreResource, search: SearchSettingsResource
) -> None:
    s = store.open()
    index = build.rebuild(s, search.embedder(), log=context.log.info)
    saved = index.save(s)
    context.log_event(
        dg.AssetObservation(
            asset_key=search_index.key,
            metadata={"index_version": saved.version, "index_asins": saved.asins,
                      "vectors": saved.vectors, "deleted_versions": len(saved.deleted_versions)},
        )
    )


@dg.job(description="Full rebuild of the search index (catalogue changes, embedder upgrades).")
def search_rebuild_job() -> None:
    rebuild_search_index()


search_rebuild_schedule = dg.ScheduleDefinition(
    job=search_rebuild_job, cron_schedule="30 3 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: rebuild the search index from scratch.",
)
