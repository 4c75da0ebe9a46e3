"""Daily staleness backfills: a small run lists the published ASINs whose stage result came
from an older logic version and registers one backfill of them (nothing when none are stale).

The listing runs as a job, not inside the schedule tick, so a large catalogue cannot time the
tick out. Render staleness is RUNNING by default: checking it reads one manifest per ASIN, and
a RENDERER_VERSION bump is meant to re-render. Validation and QA are STOPPED: a rules change
can reject live products and re-scoring is heavy, so an operator starts them (or runs
`shazam backfill --dry-run` first).
"""

import dagster as dg

from dagster_project.lib.backfills import launch_backfill
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.operations.backfill import STAGES, Stage, stale_asins


class StaleConfig(dg.Config):
    stage: str = "render"


@dg.op(description="Register a backfill of the ASINs whose `stage` result is stale.")
def request_stale_backfill(
    context: dg.OpExecutionContext, config: StaleConfig, store: ObjectStoreResource
) -> None:
    if config.stage not in STAGES:
        raise dg.Failure(f"unknown stage {config.stage!r}", allow_retries=False)
    stage: Stage = config.stage  # narrowed by the membership test above
    skipped: list[str] = []
    stale = stale_asins(store.open(), stage, on_skip=lambda asin, _: skipped.append(asin))
    context.log.info(f"{stage}: {len(stale)} stale, {len(skipped)} current")
    if stale:
        launched = launch_backfill(
            context.instance, context.repository_def.asset_graph, stage, stale
        )
        context.log.info(f"backfill {launched.backfill_id} of {len(stale)} ASINs")


@dg.job(description="Find stale ASINs of one stage and register their backfill.")
def stale_backfill_job() -> None:
    request_stale_backfill()


def _schedule(stage: Stage, cron: str, status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=f"stale_{stage}_schedule",
        job=stale_backfill_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        run_config=dg.RunConfig(ops={"request_stale_backfill": StaleConfig(stage=stage)}),
        default_status=status,
        description=f"Daily: backfill the published ASINs whose {stage} result is from an older version.",
    )


stale_schedules = [
    _schedule("validate", "0 2 * * *", dg.DefaultScheduleStatus.STOPPED),
    _schedule("qa", "15 2 * * *", dg.DefaultScheduleStatus.STOPPED),
    _schedule("render", "45 2 * * *", dg.DefaultScheduleStatus.RUNNING),
]
