"""Operations: staleness backfills, failure listing and re-runs, run-failure notifications,
store housekeeping."""

import dagster as dg

from dagster_project.defs.operations.assets import revalidation
from dagster_project.defs.operations.housekeeping import (
    store_housekeeping_job,
    store_housekeeping_schedule,
)
from dagster_project.defs.operations.schedules import stale_backfill_job, stale_schedules
from dagster_project.defs.operations.sensors import run_failure_notifier

defs = dg.Definitions(
    assets=[revalidation],
    jobs=[stale_backfill_job, store_housekeeping_job],
    schedules=[*stale_schedules, store_housekeeping_schedule],
    sensors=[run_failure_notifier],
)
