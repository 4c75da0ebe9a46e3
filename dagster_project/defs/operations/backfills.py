"""Backfills that recompute one stage for many ASINs, launched through the Dagster instance.

`launch_backfill` is what `shazam backfill` and the staleness schedules use: it registers an
asset backfill (the daemon's backfill loop then launches its runs, batched by each asset's
`BackfillPolicy`) over the stage's assets and the given ASIN partitions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from shazam_assets.operations.backfill import REASON_TAG, STAGE_TAG, STAGES, Stage, bridge_gaps

ASIN_PARTITIONS = "asin"  # dagster_project.lib.partitions.asin_partitions
# Longest run of other ASIN partitions a staleness backfill bridges between two stale ones (see
# bridge_gaps): a bridged ASIN costs its skip check and a materialization record (~30 ms), a
# run of its own ~5-15 s through the daemon, so short gaps are far cheaper bridged.
MAX_BRIDGED_GAP = 50

# What each stage recomputes. validate: `revalidation` re-judges the published version's
# upload, in batches (not `delivery` + `asset_version`: a backfill runs every check of the
# assets it selects, and asset_version's `qa_approved` would re-apply the reviewer's decision).
# qa: re-score the published version; render: re-render it and re-publish its page.
STAGE_ASSETS: dict[Stage, tuple[dg.AssetKey, ...]] = {
    "validate": (dg.AssetKey("revalidation"),),
    "qa": (dg.AssetKey("qa_review"),),
    "render": (dg.AssetKey("turntable_360"), dg.AssetKey("product_page")),
}


def stale_only(context: dg.AssetExecutionContext) -> bool:
    """Whether this run belongs to a staleness backfill: it recomputes only stale ASINs."""
    return context.run.tags.get(REASON_TAG) == "stale"


@dataclass(frozen=True)
class LaunchedBackfill:
    backfill_id: str
    stage: Stage
    asins: tuple[str, ...]


def batches_ranges(graph: BaseAssetGraph, assets: Sequence[dg.AssetKey]) -> bool:
    """Whether every asset's backfill policy puts ranges of several partitions in one run."""
    policies = [graph.get(key).backfill_policy for key in assets]
    return all(p is not None and (p.max_partitions_per_run or 2) > 1 for p in policies)


def launch_assets_backfill(
    instance: dg.DagsterInstance, graph: BaseAssetGraph, assets: Sequence[dg.AssetKey],
    asins: Sequence[str], *, tags: dict[str, str], title: str, bridge: bool = False,
) -> str:
    """Register a backfill of `assets` of the code location's asset `graph` over the `asins`
    partitions (added if new); its id. `bridge`: when the assets batch ranges, also cover short
    gaps between the ASINs (the runs must skip what they were not asked for), so a batch is
    not cut at every other ASIN."""
    if not asins:
        raise ValueError("no ASINs to backfill")
    known = set(instance.get_dynamic_partitions(ASIN_PARTITIONS))
    missing = [a for a in dict.fromkeys(asins) if a not in known]
    if missing:
        instance.add_dynamic_partitions(ASIN_PARTITIONS, missing)
    partitions = list(dict.fromkeys(asins))
    if bridge and batches_ranges(graph, assets):
        order = instance.get_dynamic_partitions(ASIN_PARTITIONS)
        partitions = bridge_gaps(order, partitions, max_gap=MAX_BRIDGED_GAP)
    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=graph,
        partition_names=partitions,
        asset_selection=list(assets),
        backfill_timestamp=time.time(),
        tags=tags,
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description=f"{title}: {len(asins)} ASINs",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


def launch_backfill(
    instance: dg.DagsterInstance, graph: BaseAssetGraph, stage: Stage, asins: Sequence[str], *,
    reason: str = "stale",
) -> LaunchedBackfill:
    """Backfill `stage`'s assets over `asins`; its runs carry the stage tag the assets read.
    A "stale" backfill lets batched runs bridge gaps: its assets recompute stale ASINs only.
    `graph` is the code location's asset graph (a schedule's `context.repository_def`, or
    the CLI's `Definitions`), passed in so no definition imports the code location."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    backfill_id = launch_assets_backfill(
        instance, graph, STAGE_ASSETS[stage], asins,
        tags={STAGE_TAG: stage, REASON_TAG: reason}, title=f"{stage} backfill ({reason})",
        bridge=reason == "stale",
    )
    return LaunchedBackfill(backfill_id=backfill_id, stage=stage, asins=tuple(asins))
