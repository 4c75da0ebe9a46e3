"""Operations as an engineer runs them, against the real `dagster-daemon` on the embedded default:
`shazam backfill` registers a backfill and the daemon's backfill loop launches its batched runs;
a failed render is announced by the run-failure sensor, listed by `shazam failures`, and
re-run from the workspace's code server by `shazam failures --rerun` once its cause is fixed.

The store starts as an older SHAZAM left it (results without the current logic versions), and
the Dagster instance as one whose upload and publish sensors already processed it: those two
are stopped, so only what the test launches runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus

from dagster_project import dagster_executable
from dagster_project.cli import PROJECT_ROOT
from dagster_project.defs.operations.run_failures import FAILURE_OUTBOX
from shazam_assets.ingest import versions
from shazam_assets.operations import backfill
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.settings import ensure_dagster_home
from shazam_assets.platform.storage import LocalStore
from shazam_demo.run import running_daemon
from tests.builders import ASIN, publish_legacy, store_delivery

BIN = Path(sys.executable).parent
LEGACY = ["B0OPSLEG01", "B0OPSLEG02", "B0OPSLEG03"]
UNPUBLISHED = "B0OPSNONE1"  # a partition between two stale ASINs: never published
DONE = {
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


def _until(
    what: str, check: Callable[[], object], alive: Callable[[], None], timeout_s: float = 240
):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        alive()
        time.sleep(1.0)
    raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")


@pytest.fixture
def deployment(tmp_path, delivery, monkeypatch):
    """(store, instance, run): env for `shazam` and the daemon, and the older store state."""
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    env = {
        "SHAZAM_STORE_URL": (tmp_path / "store").as_uri(),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "8",
        "SHAZAM_RENDER_SIZE": "64",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = LocalStore(tmp_path / "store")
    assert store_delivery(store, delivery) == 1  # judged under today's rules: current
    store.put_bytes(
        layout.published_pointer_key(ASIN), json.dumps({"asin": ASIN, "version": 1}).encode()
    )
    for asin in LEGACY:
        publish_legacy(store, asin, delivery)
    ensure_dagster_home(tmp_path / "home")
    instance = dg.DagsterInstance.get()
    # catalogue order: a current and a never-published ASIN sit between the stale ones
    instance.add_dynamic_partitions("asin", [LEGACY[0], ASIN, UNPUBLISHED, *LEGACY[1:]])

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
        return done

    for sensor in ("upload_sensor", "published_sensor"):
        run(dagster_executable("dagster"), "sensor", "stop", sensor, "-w", "workspace.yaml")
    yield store, instance, run
    instance.dispose()


def _backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id})))


@pytest.mark.integration
@pytest.mark.long
def test_daemon_runs_stage_backfills_and_failures_rerun(deployment, tmp_path) -> None:
    store, instance, run = deployment
    manifest = versions.read_version_manifest(store, ASIN, 1)
    model_key = versions.version_prefix(ASIN, 1) + manifest.model_path
    aside = tmp_path / "model-backup.glb"
    aside.write_bytes(store.get_bytes(model_key))
    store.delete(model_key)  # e.g. a lifecycle rule went wrong; the bucket's versioning has it
    (tmp_path / "render.txt").write_text(f"{ASIN}\n")
    current_verdict = versions.validation_key(ASIN, manifest.upload.upload_id)
    verdict_before = store.get_bytes(current_verdict)

    with running_daemon(PROJECT_ROOT, tmp_path / "daemon.log") as alive:
        validate = run(str(BIN / "shazam"), "backfill", "--stage", "validate")
        assert "validate: 3 to recompute (stale), 1 skipped" in validate.stdout  # ASIN is current
        render = run(
            str(BIN / "shazam"),
            "backfill",
            "--stage",
            "render",
            "--asins",
            str(tmp_path / "render.txt"),
        )
        by_title = {b.title: b for b in instance.get_backfills()}
        validate_id = by_title["validate backfill (stale)"].backfill_id
        render_id = by_title["render backfill (stale)"].backfill_id
        assert f"backfill {render_id}: 1 ASINs" in render.stdout
        for backfill_id in (validate_id, render_id):
            _until(
                f"backfill {backfill_id}",
                lambda b=backfill_id: instance.get_backfill(b).status in DONE,
                alive,
            )

        # validation: one run over the range bridges the two ASINs between the stale ones and
        # leaves them alone; every stale ASIN is re-judged, nothing new is stored
        assert instance.get_backfill(validate_id).status == BulkActionStatus.COMPLETED_SUCCESS
        (batch,) = _backfill_runs(instance, validate_id)
        assert batch.status == dg.DagsterRunStatus.SUCCESS
        assert (
            batch.tags["dagster/asset_partition_range_start"],
            batch.tags["dagster/asset_partition_range_end"],
        ) == (LEGACY[0], LEGACY[2])
        (event,) = instance.all_logs(
            batch.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        )[:1]
        meta = event.dagster_event.event_specific_data.materialization.metadata
        assert meta["asins"].value == 5 and meta["skipped"].value == f"{ASIN}, {UNPUBLISHED}"
        assert store.get_bytes(current_verdict) == verdict_before  # the current ASIN untouched
        assert backfill.stale_asins(store, "validate") == []
        assert all(versions.list_versions(store, a) == [1] for a in LEGACY)

        # the render of ASIN failed for good (its model is gone): no retry, an alert, a listing
        (failed,) = _backfill_runs(instance, render_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        assert instance.get_backfill(render_id).status == BulkActionStatus.COMPLETED_FAILED
        assert not instance.all_logs(failed.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
        alert_key = f"{FAILURE_OUTBOX}{failed.run_id}.json"
        _until("run-failure alert", lambda: store.exists(alert_key), alive, timeout_s=120)
        alert = json.loads(store.get_bytes(alert_key))
        assert (alert["asin"], alert["step"]) == (ASIN, "turntable_360")
        (listed,) = json.loads(run(str(BIN / "shazam"), "failures", "--json").stdout)
        assert (listed["run_id"], listed["partition"], listed["step"]) == (
            failed.run_id,
            ASIN,
            "turntable_360",
        )
        assert "STORE_NOT_FOUND" in listed["error"]  # the store error's code

        # the operator restores the model and re-runs every failure with one command
        store.put_file(model_key, aside)
        rerun = run(str(BIN / "shazam"), "failures", "--rerun")
        assert f"re-run {failed.job_name} {ASIN}: run " in rerun.stdout
        child_id = rerun.stdout.split(f"re-run {failed.job_name} {ASIN}: run ")[1].split()[0]
        child = _until(
            "re-run", lambda: (r := instance.get_run_by_id(child_id)) and r.is_finished and r, alive
        )
        assert child.status == dg.DagsterRunStatus.SUCCESS and child.parent_run_id == failed.run_id
    assert platform_versions.read_turntable_manifest(store, ASIN, 1) is not None
    assert backfill.stale_asins(store, "render", asins=[ASIN]) == []
    assert json.loads(run(str(BIN / "shazam"), "failures", "--json").stdout) == []
