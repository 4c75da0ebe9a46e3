"""SHAZAM's Dagster instance on a real PostgreSQL server, as production runs it (RDS).

The sensor daemon's own iteration (`execute_sensor_iteration`) evaluates the real definitions
against an instance whose run, event-log and schedule storages are dagster-postgres classes,
configured like deploy/dagster/dagster.yaml (that file itself when it exists). Runs launch
synchronously in this process, so one tick covers what the daemon and a run worker write:
the ASIN's dynamic partition, the run and its tags, the event log (materializations, asset
check evaluations), the tick and the sensor's cursor. A second instance, opened on the same
database like the webserver would, reads it all back; later ticks prove the cursor and the
run-key deduplication hold across ticks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)
from dagster._core.events import StepMaterializationData
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import SensorInstigatorData, TickStatus
from dagster._core.storage.tags import PARTITION_NAME_TAG, RUN_KEY_TAG, SENSOR_NAME_TAG
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster._daemon.sensor import execute_sensor_iteration
from dagster._time import get_current_timestamp

from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.ingest import versions
from tests.builders import ASIN
from tests.pg import PostgresServer, missing_reason, postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.long]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_INSTANCE_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
# Also taken from the deploy config: the run queue and its limits (kept in the same database).
# Not taken: its Kubernetes run launcher and S3 compute logs.
QUEUE_KEYS = ("run_coordinator", "concurrency", "run_retries")
SENSOR = "upload_sensor"
# SQLAlchemy 2.1 maps a bare `postgresql://` URL to psycopg 3, which is not installed;
# dagster-postgres ships psycopg2, so production's config names that driver too.
SCHEME = "postgresql+psycopg2"
# Production queues runs (QueuedRunCoordinator, dequeued by the daemon); here the dequeued run
# executes in this process instead of a Kubernetes Job.
QUEUED = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
}
SYNC_LAUNCHER = {
    "run_launcher": {
        "module": "dagster._core.launcher.sync_in_memory_run_launcher",
        "class": "SyncInMemoryRunLauncher",
    }
}
MATERIALIZED = {"delivery", "asset_version", "qa_review"}
CHECKED = {("delivery", "delivery_valid"), ("qa_review", "qa_visual_match")}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    reason = missing_reason()
    if reason:
        print(f"SKIP test_postgres_instance: {reason}")
        pytest.skip(reason)
    with postgres_server() as server:
        yield server


def _postgres_db(server: PostgresServer, db_name: str) -> dict[str, Any]:
    return {
        "hostname": server.host,
        "port": server.port,
        "username": server.user,
        "password": "trust-auth-ignores-it",
        "db_name": db_name,
    }


def _default_config(server: PostgresServer, db_name: str) -> dict[str, Any]:
    """The storages production configures (one dagster-postgres class per kind) and its queue."""
    classes = {
        "run_storage": "PostgresRunStorage",
        "event_log_storage": "PostgresEventLogStorage",
        "schedule_storage": "PostgresScheduleStorage",
    }
    return {
        key: {
            "module": "dagster_postgres",
            "class": cls,
            "config": {"postgres_db": {**_postgres_db(server, db_name), "scheme": SCHEME}},
        }
        for key, cls in classes.items()
    } | QUEUED


def _point_at(node: Any, values: dict[str, Any], url: str, monkeypatch) -> Any:
    """Aim a deploy config at the test server: `{env: NAME}` leaves get NAME set, literals
    under `postgres_db` are replaced, a `postgres_url` becomes the server's URL."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        wanted = url if key == "postgres_url" else values.get(key)
        if wanted is not None and isinstance(value, dict) and set(value) == {"env"}:
            monkeypatch.setenv(value["env"], str(wanted))
            out[key] = value
        elif wanted is not None and not isinstance(value, dict):
            out[key] = wanted
        else:
            out[key] = _point_at(value, values, url, monkeypatch)
    return out


@pytest.fixture
def instance_config(postgres: PostgresServer, monkeypatch) -> dict[str, Any]:
    """Instance config on a fresh database: deploy/dagster/dagster.yaml's storages and run queue
    when that file exists (its env vars set to this server), else the same shape built here."""
    db_name = postgres.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    if not DEPLOY_INSTANCE_YAML.exists():
        return _default_config(postgres, db_name)
    deployed = yaml.safe_load(DEPLOY_INSTANCE_YAML.read_text()) or {}
    storages = {key: deployed[key] for key in STORAGE_KEYS if key in deployed}
    assert storages, f"{DEPLOY_INSTANCE_YAML} configures none of {STORAGE_KEYS}"
    queue = {key: deployed[key] for key in QUEUE_KEYS if key in deployed}
    return {
        **_point_at(
            storages,
            _postgres_db(postgres, db_name),
            postgres.url(db_name, scheme=SCHEME),
            monkeypatch,
        ),
        **queue,
    }


@pytest.fixture
def pg_env(tmp_path, monkeypatch, instance_config):
    """(instance, store, store URL, instance config): conftest's `env` on PostgreSQL, with the
    daemon's runs launched synchronously in this process."""
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    url = (tmp_path / "store").as_uri()
    settings = {
        "SHAZAM_STORE_URL": url,
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "8",
        "SHAZAM_RENDER_SIZE": "64",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test(overrides={**QUEUED, **instance_config, **SYNC_LAUNCHER}) as instance:
        yield instance, ObjectStoreResource(url=url).open(), url, instance_config


def _workspace(instance: dg.DagsterInstance) -> AbstractContextManager[WorkspaceProcessContext]:
    """The code location the daemon would load (workspace.yaml's module), in this process."""
    origin = LoadableTargetOrigin(
        module_name="dagster_project.definitions",
        attribute="defs",
        working_directory=str(REPO_ROOT),
    )
    target = InProcessWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(origin, location_name="shazam")
    )
    return create_test_daemon_workspace_context(target, instance)


def _daemon_tick(context: WorkspaceProcessContext) -> None:
    """One iteration of the sensor daemon (every running sensor ticks, its runs are queued),
    then one of the run queue daemon (queued runs are launched)."""
    logger = logging.getLogger("shazam.test.sensor_daemon")
    list(
        execute_sensor_iteration(
            context, logger, threadpool_executor=None, submit_threadpool_executor=None
        )
    )
    list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(context))


def _sensor_state(instance: dg.DagsterInstance, context: WorkspaceProcessContext):
    """The upload sensor's stored state, its data and its ticks (newest first)."""
    location = next(iter(context.create_request_context().get_code_location_entries().values()))
    assert location.code_location, location.load_error
    sensor = location.code_location.get_repository(SINGLETON_REPOSITORY_NAME).get_sensor(SENSOR)
    origin_id, selector_id = sensor.get_remote_origin_id(), sensor.selector_id
    state = instance.get_instigator_state(origin_id, selector_id)
    assert state is not None and isinstance(state.instigator_data, SensorInstigatorData)
    return state, state.instigator_data, list(instance.get_ticks(origin_id, selector_id))


def _ingest_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(job_name="ingest_job")))


def _assert_postgres_backed(instance: dg.DagsterInstance) -> None:
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)


def _assert_run_recorded(instance: dg.DagsterInstance, run_id: str) -> None:
    """The run's event log holds the ingest materializations and passed checks, for the ASIN."""
    of_type = {
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    records = instance.get_records_for_run(run_id, of_type=of_type, limit=1000).records
    materialized: dict[str, str | None] = {}
    checks: dict[tuple[str, str], bool] = {}
    for record in records:
        data = (
            record.event_log_entry.dagster_event
            and record.event_log_entry.dagster_event.event_specific_data
        )
        if isinstance(data, StepMaterializationData):
            materialized[data.materialization.asset_key.path[-1]] = data.materialization.partition
        elif isinstance(data, dg.AssetCheckEvaluation):
            assert data.partition == ASIN
            checks[(data.asset_key.path[-1], data.check_name)] = data.passed
    assert materialized == dict.fromkeys(MATERIALIZED, ASIN)
    assert set(checks) >= CHECKED and all(checks[key] for key in CHECKED), checks


def _assert_readable_elsewhere(
    config: dict[str, Any], context: WorkspaceProcessContext, run: dg.DagsterRun, cursor: str
) -> None:
    """What the webserver (another process) sees: a second instance on the same database."""
    with dg.instance_for_test(overrides=config) as reader:
        assert reader.get_dynamic_partitions("asin") == [ASIN]
        [stored] = reader.get_runs(dg.RunsFilter(tags={RUN_KEY_TAG: run.tags[RUN_KEY_TAG]}))
        assert stored.run_id == run.run_id and stored.status == dg.DagsterRunStatus.SUCCESS
        assert stored.tags["shazam/upload_key"] == f"uploads/{ASIN}/first.zip"
        _assert_run_recorded(reader, stored.run_id)
        assert _sensor_state(reader, context)[1].cursor == cursor


def test_sensor_daemon_ticks_runs_and_cursors_persist_in_postgres(pg_env, delivery) -> None:
    instance, store, _, config = pg_env
    _assert_postgres_backed(instance)
    store.put_file(f"uploads/{ASIN}/first.zip", delivery)
    started = get_current_timestamp()
    with _workspace(instance) as context:
        _daemon_tick(context)  # the sensor requests one run; it is queued, dequeued and run
        [run] = _ingest_runs(instance)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[SENSOR_NAME_TAG] == SENSOR and run.tags[PARTITION_NAME_TAG] == ASIN
        assert instance.has_dynamic_partition("asin", ASIN)
        assert versions.list_versions(store, ASIN) == [1]
        _, data, ticks = _sensor_state(instance, context)
        run_key, cursor = run.tags[RUN_KEY_TAG], data.cursor
        assert cursor and ticks[0].status == TickStatus.SUCCESS and ticks[0].cursor == cursor
        assert ticks[0].run_ids == [run.run_id] and ticks[0].run_keys == [run_key]
        _assert_readable_elsewhere(config, context, run, cursor)

        with freeze_time(started + 20):  # past the sensor's 15 s minimum interval
            _daemon_tick(context)  # the stored cursor reaches the sensor: it requests nothing
        state, data, ticks = _sensor_state(instance, context)
        assert ticks[0].status == TickStatus.SKIPPED and ticks[0].run_keys == []
        assert data.cursor == ticks[0].cursor != cursor  # the listing's watermark moved on

        # `dagster sensor cursor --delete`: the sensor lists the same upload again, and the
        # daemon finds its run key among the stored runs instead of launching it twice.
        instance.update_instigator_state(state.with_data(data._replace(cursor=None)))
        with freeze_time(started + 40):
            _daemon_tick(context)
        _, _, ticks = _sensor_state(instance, context)
        assert ticks[0].run_keys == [run_key] and ticks[0].run_ids == []
        assert [r.run_id for r in _ingest_runs(instance)] == [run.run_id]
