"""Failed runs as an operator reads them: one row per (job, ASIN) whose newest run failed,
with the failed step, the error and when; and a one-command re-run of all of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from shazam_assets.operations.backfill import STAGE_TAG

PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


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


def partition_of(tags: dict[str, str]) -> str:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if all(t in tags for t in RANGE_TAGS):
        start, end = tags[RANGE_TAGS[0]], tags[RANGE_TAGS[1]]
        return start if start == end else f"{start}...{end}"  # a backfill batch of one, or many
    return ""


def _step_keys(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list[str | None]:
    return [r.dagster_event.step_key for r in instance.all_logs(run_id, of_type=kind) if r.dagster_event]


def _blocked_steps(instance: dg.DagsterInstance, run_id: str) -> set[str | None]:
    """The steps of a run in which a blocking asset check failed with ERROR (and so stopped
    the step), read from the run's check evaluations."""
    blocked = set()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        event = record.dagster_event
        if event is None:
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.blocking and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            blocked.add(event.step_key)
    return blocked


def is_rejection(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether a run failed only because a blocking check (delivery_valid) rejected its asset:
    every failed step is one in which a blocking check failed. The delivery was rejected, which
    is the artist's to fix (they are told), not an operator's."""
    failed = _step_keys(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
    return bool(failed) and set(failed) <= _blocked_steps(instance, run_id)


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
        found.append(FailedRun(
            run_id=run.run_id, job=run.job_name, partition=key[1], step=step, error=error,
            failed_at=datetime.fromtimestamp(ended, UTC).isoformat(timespec="seconds"),
            assets=_assets(run, defs), stage=run.tags.get(STAGE_TAG, ""),
        ))
    return found


@contextmanager
def code_location_workspace(instance: dg.DagsterInstance, workspace_yaml: str) -> Iterator[Any]:
    """A workspace request context over the code locations of workspace.yaml (the same names
    the daemon and the UI use, so the runs created here are launched by them)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[workspace_yaml])) as process:
        yield process.create_request_context()


def _remote_job(workspace: Any, run: dg.DagsterRun):
    """(code location, remote job) of a run: its recorded origin, else the only location."""
    origin = run.remote_job_origin
    names = [origin.location_name] if origin is not None else list(workspace.code_location_names)
    for name in names:
        location = workspace.get_code_location(name)
        for repository in location.get_repositories().values():
            if repository.has_job(run.job_name):
                return location, repository.get_full_job(run.job_name)
    return None, None


def rerun_failures(
    instance: dg.DagsterInstance, failures: list[FailedRun], *, workspace: Any
) -> list[tuple[FailedRun, str | None]]:
    """Re-execute each failed run from its failed step, as the UI's "re-execute from failure"
    does: same job, partition, config (e.g. the upload) and tags; submitted to the instance's
    run queue. Returns [(failure, new run id or None when its job no longer exists)]."""
    from dagster._core.execution.plan.resume_retry import ReexecutionStrategy

    done: list[tuple[FailedRun, str | None]] = []
    for failure in failures:
        parent = instance.get_run_by_id(failure.run_id)
        location, job = (None, None) if parent is None else _remote_job(workspace, parent)
        if parent is None or location is None or job is None:
            done.append((failure, None))
            continue
        run = instance.create_reexecuted_run(
            request_context=workspace, parent_run=parent, code_location=location, remote_job=job,
            strategy=ReexecutionStrategy.FROM_FAILURE, use_parent_run_tags=True,
        )
        instance.submit_run(run.run_id, workspace)
        done.append((failure, run.run_id))
    return done
