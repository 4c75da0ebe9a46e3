"""Operations: staleness backfills, failure listing and re-runs, run-failure notifications."""

import dagster as dg

from dagster_project.defs.ops.assets import revalidation
from dagster_project.defs.ops.schedules import stale_backfill_job, stale_schedules
from dagster_project.defs.ops.sensors import run_failure_notifier

defs = dg.Definitions(
    assets=[revalidation],
    jobs=[stale_backfill_job],
    schedules=stale_schedules,
    sensors=[run_failure_notifier],
)
