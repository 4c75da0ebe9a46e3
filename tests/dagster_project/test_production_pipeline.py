"""Scan data and production through Dagster's real instance: the scan sensor requests a
scan_data run whose blocking check records the verdict, and the production sensor turns each
assignment and stage mark into an observation of the ASIN's artwork."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from dagster_project.defs.ingest.sensors import scan_sensor
from dagster_project.defs.production.sensors import production_sensor
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.platform import layout
from shazam_assets.platform.identity import Person
from shazam_assets.platform.scans import read_scan_record
from shazam_assets.production import tracking
from tests.builders import ASIN, upload_scan
from tests.dagster_project.runs import execute

SCAN = dg.AssetKey("scan_data")
CHECK = dg.AssetCheckKey(SCAN, "scan_data_valid")
ARTWORK = dg.AssetKey("artwork")
LEAD = Person(sub="lead|1", name="Lena Lead")
ANNA = Person(sub="auth0|anna", name="Anna Artist")


def _tick(sensor, instance, url: str, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": ObjectStoreResource(url=url)}
    )
    result = sensor(context)
    for request in result.dynamic_partitions_requests or []:  # as the daemon applies them
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _check(instance) -> tuple[str, dict]:
    record = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)[0]
    evaluation = record.event.dagster_event.event_specific_data
    return record.status.value, evaluation.metadata


def test_scan_sensor_registers_new_scan_data_and_the_check_gates_it(env, tmp_path) -> None:
    instance, store, url = env
    upload_scan(store, tmp_path)
    result = _tick(scan_sensor, instance, url)
    assert [r.partition_key for r in result.run_requests] == [ASIN]
    assert instance.get_dynamic_partitions("asin") == [ASIN]
    assert _tick(scan_sensor, instance, url, result.cursor).run_requests == []

    run = execute(instance, "scan_job", result.run_requests[0])
    assert run.success
    meta = instance.get_latest_materialization_event(SCAN).asset_materialization.metadata
    assert meta["ok"].value is True and meta["files"].value == 5 and meta["photos"].value == 2
    assert meta["bytes"].value == read_scan_record(store, ASIN).total_bytes
    assert _check(instance)[0] == "SUCCEEDED"

    # a photo replaced by something that is not a photo: a new run, a failed blocking check
    photo = next(f.path for f in read_scan_record(store, ASIN).files if f.role == "photo")
    store.put_bytes(layout.scan_file_key(ASIN, photo), b"not a photo")
    again = _tick(scan_sensor, instance, url, result.cursor)
    assert [r.partition_key for r in again.run_requests] == [ASIN]
    assert again.run_requests[0].run_key != result.run_requests[0].run_key
    execute(instance, "scan_job", again.run_requests[0])
    status, metadata = _check(instance)
    assert status == "FAILED" and metadata["codes"].value == "PHOTO_UNREADABLE"
    assert read_scan_record(store, ASIN).ok is False


def test_production_events_become_artwork_observations_per_asin(env, tmp_path) -> None:
    instance, store, url = env
    upload_scan(store, tmp_path)
    execute(instance, "scan_job", _tick(scan_sensor, instance, url).run_requests[0])
    t0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=t0)
    tracking.mark_stage(store, ASIN, "cleanup", by=ANNA, now=t0 + timedelta(minutes=90))

    first = _tick(production_sensor, instance, url)
    assert [o.metadata["stage"].value for o in first.asset_events] == ["assigned", "cleanup"]
    tracking.mark_stage(store, ASIN, "uv", by=ANNA, now=t0 + timedelta(minutes=150))
    second = _tick(production_sensor, instance, url, first.cursor)
    assert [o.metadata["stage"].value for o in second.asset_events] == ["uv"]
    assert _tick(production_sensor, instance, url, second.cursor).asset_events == []

    for observation in [*first.asset_events, *second.asset_events]:  # as the daemon records them
        instance.report_runless_asset_event(observation)
    records = instance.fetch_observations(ARTWORK, limit=10).records
    seen = {r.asset_observation.metadata["stage"].value: r.asset_observation for r in records}
    assert set(seen) == {"assigned", "cleanup", "uv"}
    assert all(o.partition == ASIN for o in seen.values())
    assert seen["cleanup"].metadata["duration_s"].value == 5400.0
    assert seen["uv"].metadata["duration_s"].value == 3600.0
    assert seen["uv"].metadata["artist"].value == "Anna Artist"
    assert seen["uv"].metadata["at"].value == (t0 + timedelta(minutes=150)).isoformat()
    assert "duration_s" not in seen["assigned"].metadata
