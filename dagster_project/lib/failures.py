"""Failed runs as an operator reads them: one row per (job, ASIN) whose newest run failed,
with the failed step, the error and when; and a one-command re-run of all of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from dagster_project.lib.dagster_internals import (
    code_location_workspace,
    submit_reexecution_from_failure,
)
from dagster_project.lib.runs import is_rejection, partition_of
from shazam_assets.operations.backfill import STAGE_TAG

__all__ = ["FailedRun", "code_location_workspace", "failed_runs", "rerun_failures"]


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    job: str
    partition: str  # the ASIN, or "first...last" for a batched run
    step: str
    error: str
    failed_at: str  # ISO 8601, UTC
    assets: tuple[str, ...]  # what the run materialized (what a re-run backfills)
    stage: str  # the backfill stage tag it carried, or ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _error(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str]:
    """(step key, first line of the error) of a run's first failed step, else of the run
    failure."""
    for kind in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for record in instance.all_logs(run_id, of_type=kind):
            event = record.dagster_event
            if event is None:
                continue
            data = event.event_specific_data
            error = getattr(data, "error", None)
            message = error.message.strip() if error is not None else (event.message or "")
            return event.step_key or "-", message.splitlines()[0] if message else "-"
    return "-", "-"


def _assets(run: dg.DagsterRun, defs: dg.Definitions) -> tuple[str, ...]:
    if run.asset_selection:
        return tuple(sorted(k.to_user_string() for k in run.asset_selection))
    try:
        job = defs.resolve_job_def(run.job_name)
    except Exception:  # a job no longer in the code location: nothing to backfill
        return ()
    return tuple(sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys))


def failed_runs(
    instance: dg.DagsterInstance, defs: dg.Definitions, *, limit: int = 5000
) -> list[FailedRun]:
    """Every (job, partition) whose newest run (of the last `limit`) failed, newest first;
    not the runs that stopped because validation rejected the delivery (`shazam status`
    lists rejections; a re-run would reject it again). `defs` (the code location) names the
    assets of runs that recorded no asset selection."""
    seen: set[tuple[str, str]] = set()
    found = []
    for record in instance.get_run_records(limit=limit):  # newest first
        run = record.dagster_run
        key = (run.job_name, partition_of(dict(run.tags)))
        if key in seen:
            continue
        seen.add(key)
        if run.status != dg.DagsterRunStatus.FAILURE:
            continue
        if is_rejection(instance, run.run_id):
            continue
        step, error = _error(instance, run.run_id)
        ended = record.end_time or record.create_timestamp.timestamp()
        found.append(
            FailedRun(
                run_id=run.run_id,
                job=run.job_name,
                partition=key[1],
                step=step,
                error=error,
                failed_at=datetime.fromtimestamp(ended, UTC).isoformat(timespec="seconds"),
                assets=_assets(run, defs),
                stage=run.tags.get(STAGE_TAG, ""),
            )
        )
    return found


def rerun_failures(
    instance: dg.DagsterInstance, failures: list[FailedRun], *, workspace: Any
) -> list[tuple[FailedRun, str | None]]:
    """Re-execute each failed run from its failed step, as the UI's "re-execute from failure"
    does: same job, partition, config (e.g. the upload) and tags; submitted to the instance's
    run queue. `workspace`: `code_location_workspace(...)`'s context. Returns [(failure, new
    run id or None when its job no longer exists)]."""
    done: list[tuple[FailedRun, str | None]] = []
    for failure in failures:
        parent = instance.get_run_by_id(failure.run_id)
        run_id = (
            None
            if parent is None
            else submit_reexecution_from_failure(instance, parent, workspace=workspace)
        )
        done.append((failure, run_id))
    return done
