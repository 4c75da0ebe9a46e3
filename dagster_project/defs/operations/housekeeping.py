"""Daily store housekeeping: what killed writes and killed runs left behind is reclaimed, so a
crash never costs storage for good (`shazam store gc` does the same by hand)."""

import dagster as dg

from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.ingest.versions import reclaim_leftovers
from shazam_assets.platform import review_queue


@dg.op(
    description="Delete temp files of killed writes and staging files of killed runs; build "
    "the review queue once for a store written before it."
)
def reclaim_store_leftovers(context: dg.OpExecutionContext, store: ObjectStoreResource) -> None:
    s = store.open()
    if review_queue.ensure_built(s):
        context.log.info("built the review queue from the versions and the decision log")
    done = reclaim_leftovers(s)
    context.log.info(
        f"reclaimed {done.temp.files} temporary files ({done.temp.bytes:,} bytes) and "
        f"{done.staging.files} staging files ({done.staging.bytes:,} bytes)"
    )


@dg.job(description="Reclaim what killed writes and runs left in the object store.")
def store_housekeeping_job() -> None:
    reclaim_store_leftovers()


store_housekeeping_schedule = dg.ScheduleDefinition(
    job=store_housekeeping_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily: reclaim temp files of killed writes and staging files of killed runs.",
)
