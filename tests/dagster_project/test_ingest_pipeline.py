"""The ingest stage through Dagster's real instance: sensors evaluated, runs executed, checks recorded."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.defs.ingest.sensors import upload_queue_sensor, upload_sensor
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from shazam_assets.ingest import versions
from shazam_assets.operations.status import asin_status
from shazam_assets.platform.storage import S3Store
from tests.builders import ASIN, edit_manifest, pack, product, rewrite_zip
from tests.dagster_project.runs import moto_sensor_resources

DELIVERY = dg.AssetKey("delivery")
VERSION = dg.AssetKey("asset_version")
CHECK = dg.AssetCheckKey(DELIVERY, "delivery_valid")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deliveries")
    good = pack(root, product(root))
    bad = rewrite_zip(
        good,
        root / "bad.zip",
        edit={"manifest.json": edit_manifest(lambda m: m["stages"].pop("uv"))},
    )
    return {"good": good, "bad": bad}


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _resources(store_url: str, queue_url: str = "") -> dict:
    return {
        "store": ObjectStoreResource(url=store_url),
        "upload_queue": UploadQueueResource(queue_url=queue_url),
    }


def _tick(sensor, instance, resources, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    result = sensor(context)
    return result, context


def _run(
    instance, request: dg.RunRequest, store_url: str, monkeypatch
) -> dg.ExecuteInProcessResult:
    """Execute a sensor's run request like the daemon would: same job, config, tags, partition."""
    monkeypatch.setenv("SHAZAM_STORE_URL", store_url)
    monkeypatch.setenv("SHAZAM_UPLOAD_QUEUE_URL", "")
    job = defs.resolve_job_def("ingest_job")
    return job.execute_in_process(
        run_config=request.run_config,
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
        raise_on_error=False,
    )


def _apply_partitions(instance, result: dg.SensorResult) -> None:
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))


def _upload_and_run(tmp_path, instance, zip_path, name: str, monkeypatch, **env: str):
    """(store, run): `zip_path` uploaded as `name` to a new local store, found by the upload
    sensor, and its run executed as the daemon would (with `env` set for the run)."""
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    store_url = (tmp_path / "store").as_uri()
    store = ObjectStoreResource(url=store_url).open()
    store.put_file(f"uploads/{ASIN}/{name}", zip_path)
    result, _ = _tick(upload_sensor, instance, _resources(store_url))
    _apply_partitions(instance, result)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    return store, _run(instance, result.run_requests[0], store_url, monkeypatch)


def test_upload_sensor_requests_one_run_per_upload_and_runs_store_a_version(
    tmp_path, instance, deliveries, monkeypatch
) -> None:
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    store_url = (tmp_path / "store").as_uri()
    resources = _resources(store_url)
    store = ObjectStoreResource(url=store_url).open()
    store.put_file(f"uploads/{ASIN}/good delivery.zip", deliveries["good"])  # a key with a space

    result, _ = _tick(upload_sensor, instance, resources)
    assert [r.partition_key for r in result.run_requests] == [ASIN]
    request = result.run_requests[0]
    assert request.tags["shazam/upload_key"] == f"uploads/{ASIN}/good delivery.zip"
    _apply_partitions(instance, result)
    assert instance.get_dynamic_partitions("asin") == [ASIN]

    # A tick that finds nothing waits (SHAZAM_UPLOAD_WAIT_S) and returns with the upload that
    # lands meanwhile, rather than leaving it for the next tick; the first is not asked again.
    monkeypatch.setenv("SHAZAM_UPLOAD_WAIT_S", "5")
    later = f"uploads/{ASIN}/later.zip"
    threading.Timer(0.5, store.put_file, args=(later, deliveries["good"])).start()
    started = time.monotonic()
    again, _ = _tick(upload_sensor, instance, resources, cursor=result.cursor)
    assert [r.tags["shazam/upload_key"] for r in again.run_requests] == [later]
    assert time.monotonic() - started < 3.5

    run = _run(instance, request, store_url, monkeypatch)
    assert run.success
    record = instance.get_latest_materialization_event(VERSION)
    meta = record.asset_materialization.metadata
    assert record.asset_materialization.partition == ASIN
    assert meta["version"].value == 1 and meta["new_version"].value is True
    check = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)[0]
    assert check.status.value == "SUCCEEDED" and check.partition == ASIN
    assert versions.list_versions(store, ASIN) == [1]

    rerun = _run(instance, request, store_url, monkeypatch)  # e.g. re-executed from the UI
    assert rerun.success and versions.list_versions(store, ASIN) == [1]


def test_rejected_delivery_fails_the_blocking_check_and_stores_nothing(
    tmp_path, instance, deliveries, monkeypatch
) -> None:
    store, run = _upload_and_run(tmp_path, instance, deliveries["bad"], "bad.zip", monkeypatch)

    assert not run.success
    check = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)[0]
    assert check.status.value == "FAILED"
    evaluation = check.event.dagster_event.event_specific_data
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "CONTRACT_STAGE_NOT_SIGNED_OFF" in evaluation.metadata["codes"].value
    assert instance.get_latest_materialization_event(VERSION) is None  # blocked downstream
    delivery_meta = instance.get_latest_materialization_event(
        DELIVERY
    ).asset_materialization.metadata
    assert delivery_meta["verdict"].value == "rejected"
    assert list(store.list("assets/")) == []
    assert store.exists(f"uploads/{ASIN}/bad.zip")
    assert asin_status(store, ASIN)["rejections"][0]["codes"] == ["CONTRACT_STAGE_NOT_SIGNED_OFF"]


def test_a_forged_version_manifest_in_the_archive_never_becomes_the_version(
    tmp_path, instance, deliveries, monkeypatch
) -> None:
    """An archive entry named version.json must not replace the manifest the store writes."""
    forged = {
        "schema": versions.VERSION_SCHEMA,
        "asin": ASIN,
        "version": 1,
        "files": [],
        "validation": {"ok": True},
        "delivery_manifest": {"product": {"title": "FORGED"}},
    }
    zip_path = rewrite_zip(
        deliveries["good"],
        tmp_path / "forged.zip",
        add={"version.json": json.dumps(forged).encode()},
    )
    store, run = _upload_and_run(tmp_path, instance, zip_path, "forged.zip", monkeypatch)

    assert not run.success
    check = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)[0]
    assert check.status.value == "FAILED"
    codes = check.event.dagster_event.event_specific_data.metadata["codes"].value
    assert "ZIP_RESERVED_NAME" in codes
    assert instance.get_latest_materialization_event(VERSION) is None
    assert versions.list_versions(store, ASIN) == [] and list(store.list("assets/")) == []
    assert list(store.list("staging/")) == []


def test_materialize_without_config_processes_the_newest_upload(
    tmp_path, instance, deliveries, monkeypatch
) -> None:
    """What `dagster asset materialize --partition ASIN` does."""
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    store_url = (tmp_path / "store").as_uri()
    store = ObjectStoreResource(url=store_url).open()
    store.put_file(f"uploads/{ASIN}/first.zip", deliveries["good"])
    instance.add_dynamic_partitions("asin", [ASIN])
    monkeypatch.setenv("SHAZAM_STORE_URL", store_url)
    monkeypatch.setenv("SHAZAM_UPLOAD_QUEUE_URL", "")
    result = defs.resolve_job_def("ingest_job").execute_in_process(
        partition_key=ASIN, instance=instance
    )
    assert result.success
    assert asin_status(store, ASIN)["versions"][0]["upload_key"] == f"uploads/{ASIN}/first.zip"


def test_queue_sensor_turns_s3_events_into_runs_over_http(
    s3_client, sqs_client, s3_bucket, instance, deliveries, monkeypatch
) -> None:
    queue_url = sqs_client.create_queue(QueueName=f"uploads-{s3_bucket}")["QueueUrl"]
    key = f"uploads/{ASIN}/from events.zip"
    s3_client.upload_file(str(deliveries["good"]), s3_bucket, key)
    etag = s3_client.head_object(Bucket=s3_bucket, Key=key)["ETag"].strip('"')
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-24T10:00:00.000Z",
                "s3": {
                    "bucket": {"name": s3_bucket},
                    "object": {"key": key.replace(" ", "+"), "eTag": etag, "size": 1},
                },
            }
        ]
    }
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    store = S3Store(s3_bucket, client=s3_client)
    resources = moto_sensor_resources(store, sqs_client, queue_url)
    listing, _ = _tick(upload_sensor, instance, resources)
    assert isinstance(listing, dg.SkipReason)  # SQS mode: the listing sensor stands down
    result, _ = _tick(upload_queue_sensor, instance, resources)
    assert [(r.partition_key, r.tags["shazam/upload_key"]) for r in result.run_requests] == [
        (ASIN, key)
    ]
    assert result.run_requests[0].tags["shazam/etag"] == etag

    # The run itself reads the store from SHAZAM_STORE_URL with boto3's standard variables.
    for name, value in {
        "AWS_ENDPOINT_URL": sqs_client.meta.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    _apply_partitions(instance, result)
    run = _run(instance, result.run_requests[0], f"s3://{s3_bucket}", monkeypatch)
    assert run.success
    assert versions.list_versions(store, ASIN) == [1]
    assert store.exists(f"assets/{ASIN}/v1/manifest.json")


@pytest.mark.parametrize(
    ("variable", "value", "code"),
    [
        ("SHAZAM_VALIDATION_TIMEOUT_S", "0.01", "VALIDATION_TIMEOUT"),
        ("SHAZAM_VALIDATION_MEMORY_MB", "64", "VALIDATION_MEMORY_LIMIT"),
    ],
)
def test_validation_overrun_is_a_recorded_rejection_not_a_pending_upload(
    tmp_path, instance, deliveries, monkeypatch, variable, value, code
) -> None:
    """A validation that runs out of time or memory still ends the run with a verdict: the
    blocking check fails with the guard's code and the rejection is recorded for the artist."""
    store, run = _upload_and_run(
        tmp_path, instance, deliveries["good"], "slow.zip", monkeypatch, **{variable: value}
    )

    assert not run.success
    check = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)[0]
    assert check.status.value == "FAILED"
    assert code in check.event.dagster_event.event_specific_data.metadata["codes"].value
    assert asin_status(store, ASIN)["rejections"][0]["codes"] == [code]
    assert list(store.list("assets/")) == []
