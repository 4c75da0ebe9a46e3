"""Operating the pipeline through a real Dagster instance: stage backfills, retries of transient
errors only, the failure list and its re-run, and the run-failure notification."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.definitions import defs
from dagster_project.defs.ingest.assets import delivery
from dagster_project.defs.operations.metrics import orchestrator_facts
from dagster_project.defs.operations.run_failures import FAILURE_OUTBOX, run_failure_notifier
from dagster_project.lib.backfills import STAGE_ASSETS
from dagster_project.lib.failures import failed_runs
from dagster_project.lib.resources import NotifierResource, ObjectStoreResource
from dagster_project.lib.runs import is_rejection
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest import versions
from shazam_assets.ingest.delivery import validate
from shazam_assets.operations import backfill
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import StoreFailed
from shazam_assets.render import turntable
from tests.builders import ASIN, pack, product, store_delivery

MISSING = "B0NOUPLOAD"  # an ASIN with no upload: its delivery step fails for good


@pytest.fixture
def published(env, delivery, monkeypatch):
    """(instance, store, url) with ASIN stored and published at v1, plus a newer, unstored
    upload; `shazam` commands see the test instance."""
    instance, store, url = env
    assert store_delivery(store, delivery, name="first.zip") == 1
    store.put_file(f"uploads/{ASIN}/newer.zip", delivery)
    store.put_bytes(
        layout.published_pointer_key(ASIN), json.dumps({"asin": ASIN, "version": 1}).encode()
    )
    instance.add_dynamic_partitions("asin", [ASIN])
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(lambda: instance))
    return instance, store, url


def _partitions(backfill_record) -> set[tuple[str, str]]:
    subset = backfill_record.asset_backfill_data.target_subset
    return {
        (k.asset_key.to_user_string(), k.partition_key) for k in subset.iterate_asset_partitions()
    }


def test_backfill_command_targets_only_stale_asins(published, monkeypatch) -> None:
    instance, _, _ = published
    current = CliRunner().invoke(main, ["backfill", "--stage", "validate"])
    assert current.exit_code == 0, current.output
    assert "0 to recompute (stale), 1 skipped" in current.output and instance.get_backfills() == []

    monkeypatch.setattr(validate, "RULES_VERSION", "rules-next")
    dry = CliRunner().invoke(main, ["backfill", "--stage", "validate", "--dry-run"])
    assert f"would recompute {ASIN}" in dry.output and instance.get_backfills() == []
    done = CliRunner().invoke(main, ["backfill", "--stage", "validate"])
    assert done.exit_code == 0, done.output
    (record,) = instance.get_backfills()
    assert f"backfill {record.backfill_id}: 1 ASINs" in done.output
    assert _partitions(record) == {("revalidation", ASIN)}
    assert record.tags[backfill.STAGE_TAG] == "validate"


def test_revalidation_run_rejudges_the_published_upload_without_a_new_version(
    published, monkeypatch
) -> None:
    """What a validate backfill runs for one ASIN: the upload its published version came from is
    judged again (not the newer upload beside it), and nothing new is stored."""
    instance, store, _ = published
    monkeypatch.setattr(validate, "RULES_VERSION", "rules-next")
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("revalidation")}
    )
    result = job.execute_in_process(
        partition_key=ASIN,
        instance=instance,
        tags={backfill.STAGE_TAG: "validate", backfill.REASON_TAG: "stale"},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("revalidation")
    assert materialization.metadata["accepted"].value == 1
    assert materialization.metadata["rules_version"].value == "rules-next"
    newer = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/newer.zip")
    assert not store.exists(versions.validation_key(ASIN, newer.upload_id))  # newer.zip not judged
    assert versions.list_versions(store, ASIN) == [1]
    assert backfill.stale_asins(store, "validate") == []


_calls = {"open": 0}


class FlakyStore(ObjectStoreResource):
    """Fails its first open() like an S3 503, then works."""

    def open(self):
        _calls["open"] += 1
        if _calls["open"] == 1:
            raise StoreFailed("S3 s3://bucket/key: SlowDown: please reduce your request rate")
        return super().open()


def _retries(instance, result) -> int:
    return len(instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY))


def test_transient_store_error_is_retried_and_a_permanent_failure_is_not(published) -> None:
    instance, _, url = published
    _calls["open"] = 0
    instance.add_dynamic_partitions("asin", [MISSING])
    ok = dg.materialize(
        [delivery], partition_key=ASIN, instance=instance, resources={"store": FlakyStore(url=url)}
    )
    assert ok.success and _retries(instance, ok) == 1
    failed = dg.materialize(
        [delivery],
        partition_key=MISSING,
        instance=instance,
        resources={"store": ObjectStoreResource(url=url)},
        raise_on_error=False,
    )
    assert not failed.success and _retries(instance, failed) == 0


def _failed_ingest(instance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("asin", [MISSING])
    job = defs.resolve_job_def("ingest_job").get_subset(asset_selection={dg.AssetKey("delivery")})
    result = job.execute_in_process(partition_key=MISSING, instance=instance, raise_on_error=False)
    assert not result.success
    return result


@pytest.fixture
def queued(env, monkeypatch):
    """A test instance with a run queue (what `shazam` configures), seen by `shazam`, and the
    code location loaded in process instead of from workspace.yaml's gRPC server."""
    from contextlib import contextmanager

    from dagster._core.test_utils import in_process_test_workspace
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    from dagster_project.lib import failures

    coordinator = {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
    origin = LoadableTargetOrigin(module_name="dagster_project.definitions", attribute="defs")

    @contextmanager
    def workspace(instance, _yaml):
        with in_process_test_workspace(instance, origin) as context:
            yield context

    monkeypatch.setattr(failures, "code_location_workspace", workspace)
    with dg.instance_for_test(overrides={"run_coordinator": coordinator}) as instance:
        monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(lambda: instance))
        yield instance


def test_failures_lists_the_failed_partition_and_rerun_reexecutes_it(queued) -> None:
    instance = queued
    run = _failed_ingest(instance)
    (failure,) = failed_runs(instance, defs)
    assert (failure.run_id, failure.job, failure.partition, failure.step) == (
        run.run_id,
        "ingest_job",
        MISSING,
        "delivery",
    )
    assert "no upload" in failure.error and failure.failed_at.startswith("20")
    listed = CliRunner().invoke(main, ["failures", "--json"])
    assert json.loads(listed.output)[0]["partition"] == MISSING
    rerun = CliRunner().invoke(main, ["failures", "--rerun"])
    assert rerun.exit_code == 0, rerun.output
    (child,) = [r for r in instance.get_runs() if r.run_id != run.run_id]
    assert f"re-run ingest_job {MISSING}: run {child.run_id}" in rerun.output
    assert child.status == dg.DagsterRunStatus.QUEUED and child.parent_run_id == run.run_id
    assert child.tags["dagster/partition"] == MISSING
    assert failed_runs(instance, defs) == []  # the newest run of that partition is the re-run


def _notify(instance, url: str, run_id: str) -> None:
    """Evaluate the run-failure sensor for one failed run, as the daemon does."""
    (event,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_notifier",
        dagster_event=event.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run_id),
        resources={"store": ObjectStoreResource(url=url), "notifier": NotifierResource(url="")},
    ).for_run_failure()
    run_failure_notifier(context)


def test_failure_sensor_writes_an_outbox_alert(published) -> None:
    instance, store, url = published
    run = _failed_ingest(instance)
    _notify(instance, url, run.run_id)
    alert = json.loads(store.get_bytes(f"{FAILURE_OUTBOX}{run.run_id}.json"))
    assert (alert["job"], alert["asin"], alert["step"]) == ("ingest_job", MISSING, "delivery")
    assert "no upload" in alert["error"] and "shazam failures --rerun" in alert["text"]


def test_a_rejected_delivery_is_neither_a_failure_nor_an_alert(published, delivery) -> None:
    """Validation rejecting a ZIP stops its run (a blocking check), but that is the artist's to
    fix and they are told; operators see only runs that failed for other reasons."""
    instance, store, url = published
    other = "B0TESTDDD4"  # the ZIP names ASIN in its manifest: rejected for this one
    store.put_file(f"uploads/{other}/wrong.zip", delivery)
    instance.add_dynamic_partitions("asin", [other])
    rejected = defs.resolve_job_def("ingest_job").execute_in_process(
        partition_key=other, instance=instance, raise_on_error=False
    )
    assert not rejected.success  # the blocking check delivery_valid stopped it
    failed = _failed_ingest(instance)  # and a real failure beside it
    assert [f.run_id for f in failed_runs(instance, defs)] == [failed.run_id]
    # told apart by the run's failed blocking check evaluation, not by an error's class name
    assert is_rejection(instance, rejected.run_id) and not is_rejection(instance, failed.run_id)
    for run in (rejected, failed):
        _notify(instance, url, run.run_id)
    assert [i.key for i in store.list(FAILURE_OUTBOX)] == [f"{FAILURE_OUTBOX}{failed.run_id}.json"]


def test_revalidation_processes_a_batch_of_asins_in_one_run(
    published, delivery, monkeypatch
) -> None:
    instance, store, _ = published
    other = "B0TESTCCC3"  # stored from a delivery made for ASIN: the current rules reject it
    store.put_file(f"uploads/{other}/first.zip", delivery)
    upload = ingest.resolve_upload(store, other, key=f"uploads/{other}/first.zip")
    manifest = {"upload": {"key": upload.key, "upload_id": upload.upload_id}, "validation": {}}
    store.put_bytes(f"assets/{other}/v1/version.json", json.dumps(manifest).encode())
    store.put_bytes(
        layout.published_pointer_key(other), json.dumps({"asin": other, "version": 1}).encode()
    )
    instance.add_dynamic_partitions("asin", [other, MISSING])
    monkeypatch.setattr(validate, "RULES_VERSION", "rules-next")
    policy = defs.resolve_assets_def("revalidation").backfill_policy
    assert policy is not None and policy.max_partitions_per_run > 1
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("revalidation")}
    )
    result = job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": ASIN,
            "dagster/asset_partition_range_end": MISSING,
        },
    )
    assert result.success
    (materialization,) = {
        m.metadata["asins"].value: m for m in result.asset_materializations_for_node("revalidation")
    }.values()
    assert materialization.metadata["asins"].value == 3
    assert materialization.metadata["rejected"].value == other
    assert materialization.metadata["skipped"].value == MISSING
    assert backfill.stale_asins(store, "validate") == []  # both published ASINs re-judged


def test_stale_schedule_run_registers_a_backfill_only_when_stale(published, monkeypatch) -> None:
    instance, _, _ = published
    schedule = defs.resolve_schedule_def("stale_validate_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    # run as the daemon does: the job of the code location (its op reads the asset graph
    # from `context.repository_def`, which a bare `execute_in_process` does not set)
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    job = ReconstructableRepository.for_module(
        "dagster_project.definitions", "defs"
    ).get_reconstructable_job("stale_backfill_job")
    config = (
        schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
        .run_requests[0]
        .run_config
    )
    assert dg.execute_job(job, instance, run_config=config).success
    assert instance.get_backfills() == []  # nothing stale yet
    monkeypatch.setattr(validate, "RULES_VERSION", "rules-next")
    assert dg.execute_job(job, instance, run_config=config).success
    (record,) = instance.get_backfills()
    assert _partitions(record) == {("revalidation", ASIN)}


RENDER_STALE, RENDER_UNPUBLISHED, RENDER_CURRENT, RENDER_LAST = (
    "B0RNDAAAA1",
    "B0RNDBBBB2",
    "B0RNDCCCC3",
    "B0RNDDDDD4",
)


@pytest.fixture
def catalogue(env, tmp_path):
    """Four stored ASINs in this partition order: stale (published, never rendered),
    unpublished, current (published, rendered by today's renderer), stale again."""
    instance, store, _ = env
    made = product(tmp_path)
    order = [RENDER_STALE, RENDER_UNPUBLISHED, RENDER_CURRENT, RENDER_LAST]
    for asin in order:
        assert (
            store_delivery(store, pack(tmp_path, made, asin=asin, name=f"{asin}.zip"), asin=asin)
            == 1
        )
        if asin != RENDER_UNPUBLISHED:
            store.put_bytes(
                layout.published_pointer_key(asin),
                json.dumps({"asin": asin, "version": 1}).encode(),
            )
    spec = turntable.TurntableSpec(frames=8, size=64)
    turntable.publish_turntable(store, RENDER_CURRENT, 1, spec)
    instance.add_dynamic_partitions("asin", order)
    return instance, store, order


def _render_batch(instance, order) -> dg.ExecuteInProcessResult:
    """The run a render backfill's batch is: the render stage's assets over a range of ASINs."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(STAGE_ASSETS["render"])
    )
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": order[0],
            "dagster/asset_partition_range_end": order[-1],
            backfill.STAGE_TAG: "render",
            backfill.REASON_TAG: "stale",
        },
    )


@pytest.mark.long
def test_render_backfill_batches_stale_asins_and_leaves_the_rest(catalogue, monkeypatch) -> None:
    from dagster_project.lib.backfills import launch_backfill

    instance, store, order = catalogue
    assert backfill.stale_asins(store, "render") == [RENDER_STALE, RENDER_LAST]
    record = instance.get_backfill(
        launch_backfill(
            instance, defs.resolve_asset_graph(), "render", [RENDER_STALE, RENDER_LAST]
        ).backfill_id
    )
    assert {p for _, p in _partitions(record)} == set(order)  # the gap between them is bridged
    current = platform_versions.read_turntable_manifest(store, RENDER_CURRENT, 1)

    model = (
        versions.version_prefix(RENDER_STALE, 1)
        + versions.read_version_manifest(store, RENDER_STALE, 1).model_path
    )
    saved = store.get_bytes(model)
    store.delete(model)  # one broken ASIN does not stop the batch, and fails it for good
    failed = _render_batch(instance, order)
    assert not failed.success and _retries(instance, failed) == 0
    assert (
        platform_versions.read_turntable_manifest(store, RENDER_LAST, 1) is not None
    )  # rendered anyway
    (failure,) = failed_runs(instance, defs)
    assert (
        failure.partition == f"{RENDER_STALE}...{RENDER_LAST}" and failure.step == "turntable_360"
    )
    assert f"{RENDER_STALE}: STORE_NOT_FOUND" in failure.error  # the store error's code
    assert [f.asin for f in orchestrator_facts(instance).render_failures] == [
        RENDER_STALE
    ]  # not the batch

    store.put_bytes(model, saved)
    done = _render_batch(instance, order)
    assert done.success
    spins = {m.partition: m.metadata for m in done.asset_materializations_for_node("turntable_360")}
    assert set(spins) == set(order)  # every partition of the range is accounted for
    meta = spins[RENDER_STALE]
    assert meta["rendered"].value == 1  # RENDER_LAST was rendered by the failed run: current now
    assert meta["skipped"].value == f"{RENDER_UNPUBLISHED}, {RENDER_CURRENT}, {RENDER_LAST}"
    assert (
        platform_versions.read_turntable_manifest(store, RENDER_CURRENT, 1) == current
    )  # left alone
    assert platform_versions.read_turntable_manifest(store, RENDER_UNPUBLISHED, 1) is None
    assert backfill.stale_asins(store, "render") == []
    pages = {asin: store.exists(f"published/{asin}/index.html") for asin in order}
    assert pages == {
        RENDER_STALE: True,
        RENDER_UNPUBLISHED: False,
        RENDER_CURRENT: True,
        RENDER_LAST: True,
    }
    catalogue = json.loads(store.get_bytes("published/catalog.json"))
    assert sorted(p["asin"] for p in catalogue["products"]) == [
        RENDER_STALE,
        RENDER_CURRENT,
        RENDER_LAST,
    ]


def test_daily_housekeeping_reclaims_what_killed_writes_and_runs_left(published) -> None:
    """A write killed midway leaves a temp file, a run killed between staging and commit leaves
    staging files: the daily schedule's run reclaims both once old, and keeps young ones."""
    import os
    import time

    instance, store, _ = published
    root = store.root
    old = time.time() - 2 * 86400
    killed_write = root / "uploads" / ASIN / ".shazam-tmp-deadbeef"
    killed_write.write_bytes(b"x" * 100)
    os.utime(killed_write, (old, old))
    killed_run = layout.staging_prefix(ASIN, "upload1", "run1") + "model/model.glb"
    running = layout.staging_prefix(ASIN, "upload2", "run2") + "model/model.glb"
    store.put_bytes(killed_run, b"y" * 300)
    store.put_bytes(running, b"z" * 10)
    os.utime(root / killed_run, (old, old))
    schedule = defs.resolve_schedule_def("store_housekeeping_job_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    result = defs.resolve_job_def("store_housekeeping_job").execute_in_process(instance=instance)
    assert result.success
    assert not killed_write.exists() and not store.exists(killed_run)
    assert store.exists(running)  # a run may still be staging it
    assert store.exists(versions.version_prefix(ASIN, 1) + versions.VERSION_MANIFEST)
    # the published store predates the review queue: housekeeping built it from the versions
    assert store.exists(layout.review_queue_built_key())


@pytest.mark.parametrize(
    ("code", "retried"),
    [("RENDER_CRASHED", 1), ("RENDER_TIMEOUT", 0), ("RENDER_MODEL_UNREADABLE", 0)],
)
def test_a_crashed_render_process_is_retried_a_refused_model_is_not(code, retried) -> None:
    """The renderer runs in its own process: when that process dies (a GPU driver fault, the
    node's OOM killer) the step is worth another try; a model it refuses or that runs past its
    deadline is not. (The watchdog raises a crash as RenderCrashed: transient is a type.)"""
    from dagster_project.lib.retries import RETRY, transient_only
    from shazam_assets.platform.renderer import RenderCrashed, RenderError

    error = (
        RenderCrashed("render stopped")
        if code == "RENDER_CRASHED"
        else RenderError(code, "render stopped")
    )
    assert error.code == code

    calls = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    @transient_only
    def render_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise error

    assert RETRY.max_retries >= 1
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([render_once], instance=instance, raise_on_error=False)
    assert _retries(instance, result) == retried and result.success == bool(retried)


def test_transient_is_a_type_not_a_code_or_a_class_name() -> None:
    """The retry rule reads the exception's type: every TransientError (and the network's own
    errors) is retried; any other refusal, whatever its code says, and any other exception,
    a bare RuntimeError included, fails for good."""
    import botocore.exceptions

    from dagster_project.lib.retries import is_transient
    from shazam_assets.platform.errors import ShazamError, TransientError
    from shazam_assets.platform.notify import NotifyError
    from shazam_assets.platform.renderer import RenderCrashed, RenderError
    from shazam_assets.platform.storage import ObjectNotFound, StoreUrlError
    from shazam_assets.qa.decisions import DecisionContended, DecisionError
    from shazam_assets.search.errors import IndexConflict

    transient = [
        StoreFailed("S3 down"),
        RenderCrashed("died"),
        DecisionContended("busy"),
        IndexConflict("moved"),
        NotifyError("webhook timed out"),
        ConnectionError(),
        TimeoutError(),
        botocore.exceptions.EndpointConnectionError(endpoint_url="http://s3"),
    ]
    permanent = [
        ObjectNotFound("assets/x"),
        StoreUrlError("STORE_URL_INVALID", "bad"),
        RenderError("RENDER_CRASHED", "a code alone makes nothing transient"),
        DecisionError("QA_ALREADY_DECIDED", "decided"),
        ingest.UploadNotFound("gone"),
        RuntimeError("a defect"),
        ValueError("bad input"),
        KeyError("k"),
    ]
    assert [is_transient(e) for e in transient] == [True] * len(transient)
    assert [is_transient(e) for e in permanent] == [False] * len(permanent)
    assert all(isinstance(e, TransientError) for e in transient[:5])
    assert all(isinstance(e, ShazamError) and e.hint for e in transient[:5])
