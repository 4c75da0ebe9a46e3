"""Backfills that recompute one stage for many ASINs, registered on the Dagster instance.

`launch_backfill` is what `shazam backfill` and the staleness schedules use: it registers an
asset backfill (the daemon's backfill loop then launches its runs, batched by each asset's
`BackfillPolicy`) over the stage's assets and the given ASIN partitions. The caller passes the
code location's asset graph (a run's `context.repository_def.asset_graph`, the CLI's
`Definitions`), so nothing here imports the code location.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_project.lib import keys
from dagster_project.lib.dagster_internals import add_asset_backfill, partition_neighbourhood
from dagster_project.lib.partitions import ASIN_PARTITIONS
from shazam_assets.operations.backfill import REASON_TAG, STAGE_TAG, STAGES, Stage, bridge_gaps

# Longest run of other ASIN partitions a staleness backfill bridges between two stale ones (see
# bridge_gaps): a bridged ASIN costs its skip check and a materialization record (~30 ms), a
# run of its own ~5-15 s through the daemon, so short gaps are far cheaper bridged.
MAX_BRIDGED_GAP = 50

# What each stage recomputes. validate: `revalidation` re-judges the published version's
# upload, in batches (not `delivery` + `asset_version`: a backfill runs every check of the
# assets it selects, and asset_version's `qa_approved` would re-apply the reviewer's decision).
# qa: re-score the published version; render: re-render it, re-make its channel files (a no-op
# when profiles and tools are unchanged) and re-publish its page.
STAGE_ASSETS: dict[Stage, tuple[dg.AssetKey, ...]] = {
    "validate": (keys.REVALIDATION,),
    "qa": (keys.QA_REVIEW,),
    "render": (keys.TURNTABLE_360, keys.CHANNEL_MODELS, keys.PRODUCT_PAGE),
}


@dataclass(frozen=True)
class LaunchedBackfill:
    backfill_id: str
    stage: Stage
    asins: tuple[str, ...]


def batches_ranges(graph: Any, assets: Sequence[dg.AssetKey]) -> bool:
    """Whether every asset's backfill policy puts ranges of several partitions in one run."""
    policies = [graph.get(key).backfill_policy for key in assets]
    return all(p is not None and (p.max_partitions_per_run or 2) > 1 for p in policies)


def launch_assets_backfill(
    instance: dg.DagsterInstance,
    graph: Any,
    assets: Sequence[dg.AssetKey],
    asins: Sequence[str],
    *,
    tags: dict[str, str],
    title: str,
    bridge: bool = False,
) -> str:
    """Register a backfill of `assets` of the code location's asset `graph` over the `asins`
    partitions (added if new); its id. `bridge`: when the assets batch ranges, also cover short
    gaps between the ASINs (the runs must skip what they were not asked for), so a batch is
    not cut at every other ASIN."""
    if not asins:
        raise ValueError("no ASINs to backfill")
    partitions = list(dict.fromkeys(asins))
    # Membership of the given keys only, never the whole catalogue (issue 15: loading every key
    # costs 0.3 s at 100k ASINs and 2 s at 1M, once per launch and batch).
    known = instance.get_existing_dynamic_partitions(ASIN_PARTITIONS, partitions)
    missing = [a for a in partitions if a not in known]
    if missing:
        instance.add_dynamic_partitions(ASIN_PARTITIONS, missing)
    if bridge and batches_ranges(graph, assets):
        order = partition_neighbourhood(
            instance, ASIN_PARTITIONS, partitions, max_gap=MAX_BRIDGED_GAP
        )
        partitions = bridge_gaps(order, partitions, max_gap=MAX_BRIDGED_GAP)
    return add_asset_backfill(
        instance,
        graph,
        assets=assets,
        partitions=partitions,
        tags=tags,
        title=title,
        description=f"{title}: {len(asins)} ASINs",
    )


def launch_backfill(
    instance: dg.DagsterInstance,
    graph: Any,
    stage: Stage,
    asins: Sequence[str],
    *,
    reason: str = "stale",
) -> LaunchedBackfill:
    """Backfill `stage`'s assets over `asins`; its runs carry the stage tag the assets read.
    A "stale" backfill lets batched runs bridge gaps: its assets recompute stale ASINs only.
    `graph` is the code location's asset graph (a schedule's `context.repository_def`, or
    the CLI's `Definitions`), passed in so no definition imports the code location."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    backfill_id = launch_assets_backfill(
        instance,
        graph,
        STAGE_ASSETS[stage],
        asins,
        tags={STAGE_TAG: stage, REASON_TAG: reason},
        title=f"{stage} backfill ({reason})",
        bridge=reason == "stale",
    )
    return LaunchedBackfill(backfill_id=backfill_id, stage=stage, asins=tuple(asins))
