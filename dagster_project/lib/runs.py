"""What a run's tags and errors tell the stages and the operator tools: which ASINs it covers,
whether it belongs to a staleness backfill, whether a blocking check rejected its delivery."""

from __future__ import annotations

import dagster as dg

from shazam_assets.operations.backfill import REASON_TAG

PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
BATCH_TAG = "shazam/batch"  # a batched ingest run's ASINs: "first...last" (or the only one)
UPLOAD_TAG_PREFIX = "shazam/upload/"  # + an upload's id, on the run that processes it: its key


def upload_tag(upload_id: str) -> str:
    """The tag naming one upload on the ingest run that processes it, alone or in a batch:
    `RunsFilter(tags={upload_tag(id): key})` finds that run."""
    return UPLOAD_TAG_PREFIX + upload_id


def partition_of(tags: dict[str, str]) -> str:
    """The run's ASIN, "first...last" for a batched run, else ""."""
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if BATCH_TAG in tags:
        return tags[BATCH_TAG]
    if all(t in tags for t in RANGE_TAGS):
        start, end = tags[RANGE_TAGS[0]], tags[RANGE_TAGS[1]]
        return start if start == end else f"{start}...{end}"  # a backfill batch of one, or many
    return ""


def stale_only(context: dg.AssetExecutionContext) -> bool:
    """Whether this run belongs to a staleness backfill: it recomputes only stale ASINs."""
    return context.run.tags.get(REASON_TAG) == "stale"


def _step_keys(
    instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType
) -> list[str | None]:
    return [
        r.dagster_event.step_key for r in instance.all_logs(run_id, of_type=kind) if r.dagster_event
    ]


def _blocked_steps(instance: dg.DagsterInstance, run_id: str) -> set[str | None]:
    """The steps of a run in which a blocking asset check failed with ERROR (and so stopped
    the step), read from the run's check evaluations."""
    blocked = set()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        event = record.dagster_event
        if event is None:
            continue
        evaluation = event.asset_check_evaluation_data
        if (
            evaluation.blocking
            and not evaluation.passed
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ):
            blocked.add(event.step_key)
    return blocked


def is_rejection(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether a run failed only because a blocking check (delivery_valid) rejected its asset:
    every failed step is one in which a blocking check failed. The delivery was rejected, which
    is the artist's to fix (they are told), not an operator's."""
    failed = _step_keys(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
    return bool(failed) and set(failed) <= _blocked_steps(instance, run_id)
