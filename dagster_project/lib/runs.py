"""What a run's tags and errors tell the stages and the operator tools: which ASINs it covers,
whether it belongs to a staleness backfill, whether a blocking check rejected its delivery."""

from __future__ import annotations

from typing import Any

import dagster as dg

from shazam_assets.operations.backfill import REASON_TAG

PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")

# A blocking asset check (delivery_valid) that fails stops its run with this error: the delivery
# was rejected, which is the artist's to fix (they are told), not an operator's.
REJECTION_ERROR = "DagsterAssetCheckFailedError"


def partition_of(tags: dict[str, str]) -> str:
    """The run's ASIN, "first...last" for a batched run, else ""."""
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if all(t in tags for t in RANGE_TAGS):
        start, end = tags[RANGE_TAGS[0]], tags[RANGE_TAGS[1]]
        return start if start == end else f"{start}...{end}"  # a backfill batch of one, or many
    return ""


def stale_only(context: dg.AssetExecutionContext) -> bool:
    """Whether this run belongs to a staleness backfill: it recomputes only stale ASINs."""
    return context.run.tags.get(REASON_TAG) == "stale"


def is_rejection(error: Any) -> bool:
    """Whether a step failed only because a blocking check rejected its asset (`error`: the
    step failure's serializable error info, or None)."""
    return error is not None and getattr(error, "cls_name", None) == REJECTION_ERROR
