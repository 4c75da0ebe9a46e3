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
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from shazam_assets.backfill import STAGE_TAG, STAGES, Stage

ASIN_PARTITIONS = "asin"  # dagster_project.partitions.asin_partitions

# What each stage recomputes. validate: `revalidation` re-judges the published version's
# upload, in batches (not `delivery` + `asset_version`: a backfill runs every check of the
# assets it selects, and asset_version's `qa_approved` would re-apply the reviewer's decision).
# qa: re-score the published version; render: re-render it and re-publish its page.
STAGE_ASSETS: dict[Stage, tuple[dg.AssetKey, ...]] = {
    "validate": (dg.AssetKey("revalidation"),),
    "qa": (dg.AssetKey("qa_review"),),
    "render": (dg.AssetKey("turntable_360"), dg.AssetKey("product_page")),
}


@dataclass(frozen=True)
class LaunchedBackfill:
    backfill_id: str
    stage: Stage
    asins: tuple[str, ...]


def launch_assets_backfill(
    instance: dg.DagsterInstance, assets: Sequence[dg.AssetKey], asins: Sequence[str], *,
    tags: dict[str, str], title: str,
) -> str:
    """Register a backfill of `assets` over the `asins` partitions (added if new); its id."""
    from dagster_project.definitions import defs  # the code location imports this module

    if not asins:
        raise ValueError("no ASINs to backfill")
    known = set(instance.get_dynamic_partitions(ASIN_PARTITIONS))
    missing = [a for a in dict.fromkeys(asins) if a not in known]
    if missing:
        instance.add_dynamic_partitions(ASIN_PARTITIONS, missing)
    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=defs.resolve_asset_graph(),
        partition_names=list(dict.fromkeys(asins)),
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
    instance: dg.DagsterInstance, stage: Stage, asins: Sequence[str], *, reason: str = "stale"
) -> LaunchedBackfill:
    """Backfill `stage`'s assets over `asins`; its runs carry the stage tag the assets read."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    backfill_id = launch_assets_backfill(
        instance, STAGE_ASSETS[stage], asins,
        tags={STAGE_TAG: stage, "shazam/backfill_reason": reason}, title=f"{stage} backfill ({reason})",
    )
    return LaunchedBackfill(backfill_id=backfill_id, stage=stage, asins=tuple(asins))
