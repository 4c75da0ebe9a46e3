"""`search_index`: each ASIN's entry in the search index, and the nightly full rebuild."""

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource, SearchSettingsResource


@dg.asset(
    partitions_def=asin_partitions,
    group_name="search",
    deps=[keys.TURNTABLE_360],
    kinds={"lancedb"},
    code_version=code_versions.SEARCH_ENTRY,
    check_specs=[
        dg.AssetCheckSpec(
            keys.SEARCH_PROBE.name,
            asset=keys.SEARCH_INDEX,
            partitions_def=asin_partitions,
            description="Altered copies of the product's reference photos find it in the top 5.",
        )
    ],
)
def search_index(
    context: dg.AssetExecutionContext, store: ObjectStoreResource, search: SearchSettingsResource
) -> dg.MaterializeResult:
    """The ASIN's entry in the search table (exact ASIN, words, and photos: its 360° frames and
    reference photos), written as the ASIN's own rows (a publish costs the same whatever the
    catalogue's size); removed when nothing is published. `search_success_rate` is the share
    of probe photo queries that found it in the top 5."""
    s, asin, embedder = store.open(), context.partition_key, search.embedder()
    from shazam_assets.search import build  # pandas and lancedb: only in the run that indexes

    index, (done,) = build.update_table(s, [asin], embedder, log=context.log.info)
    index.refresh()
    probe = build.probe_asin(s, index, asin)
    return dg.MaterializeResult(
        metadata={
            "published_version": done.version or 0,
            "indexed_pictures": done.frames + done.photos,
            "index_version": index.version,
            "index_asins": len(index),
            "search_success_rate": probe.success_rate,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=keys.SEARCH_PROBE.name,
                passed=probe.found_in_top_k == probe.queries,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "queries": probe.queries,
                    "found_in_top_5": probe.found_in_top_k,
                    "search_success_rate": probe.success_rate,
                },
            )
        ],
    )


@dg.op(description="Rebuild the whole search table from every published ASIN.")
def rebuild_search_index(
    context: dg.OpExecutionContext, store: ObjectStoreResource, search: SearchSettingsResource
) -> None:
    s = store.open()
    from shazam_assets.search import build

    index = build.rebuild_table(s, search.embedder(), log=context.log.info)
    context.log_event(
        dg.AssetObservation(
            asset_key=keys.SEARCH_INDEX,
            metadata={
                "index_version": index.version,
                "index_asins": len(index),
                "vectors": index.vector_count,
            },
        )
    )


@dg.job(description="Full rebuild of the search index (catalogue changes, embedder upgrades).")
def search_rebuild_job() -> None:
    rebuild_search_index()


search_rebuild_schedule = dg.ScheduleDefinition(
    job=search_rebuild_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: rebuild the search index from scratch.",
)
