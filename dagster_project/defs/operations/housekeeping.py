"""Daily store housekeeping: what killed writes and killed runs left behind is reclaimed, so a
crash never costs storage for good (`shazam store gc` does the same by hand)."""

import dagster as dg

from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.ingest.versions import reclaim_leftovers


@dg.op(description="Delete temp files of killed writes and staging files of killed runs.")
def reclaim_store_leftovers(context: dg.OpExecutionContext, store: ObjectStoreResource) -> None:
    done = reclaim_leftovers(store.open())
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
