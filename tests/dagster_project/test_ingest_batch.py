"""Batched ingest through Dagster's real instance: a burst found in one sensor tick becomes one
`ingest_batch_job` run, each ASIN reported as its own partition with its own `delivery_valid`
result, and a rejected delivery stops only itself."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.ingest.sensors import upload_queue_sensor, upload_sensor
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from dagster_project.lib.runs import is_rejection, upload_tag
from shazam_assets.ingest import versions
from shazam_assets.ingest.uploads import Upload
from shazam_assets.operations.status import asin_status
from shazam_assets.platform.storage import S3Store
from tests.builders import edit_manifest, pack, product, rewrite_zip
from tests.dagster_project.runs import execute, moto_sensor_resources

GOOD, ALSO_GOOD, BAD = "B0BATCHAA1", "B0BATCHBB2", "B0BATCHCC3"
DELIVERY, VERSION, REVIEW = (dg.AssetKey(k) for k in ("delivery", "asset_version", "qa_review"))
VALID = dg.AssetCheckKey(DELIVERY, "delivery_valid")


@pytest.fixture(autouse=True)
def _ticks_look_once(monkeypatch) -> None:
    """Ticks here look once: a tick that finds nothing would wait for an upload (4 s);
    test_ingest_pipeline.py tests the waiting."""
    monkeypatch.setenv("SHAZAM_UPLOAD_WAIT_S", "0")


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batch")
    made = {
        asin: pack(root, product(root), asin=asin, name=f"{asin}.zip") for asin in (GOOD, ALSO_GOOD)
    }
    unsigned = pack(root, product(root), asin=BAD, name="unsigned.zip")
    made[BAD] = rewrite_zip(
        unsigned,
        root / f"{BAD}.zip",
        edit={"manifest.json": edit_manifest(lambda m: m["stages"].pop("uv"))},
    )
    return made


def _tick(sensor, instance, url: str, cursor=None, queue=None):
    resources = {
        "store": ObjectStoreResource(url=url),
        "upload_queue": queue or UploadQueueResource(queue_url=""),
    }
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions("asin", list(request.partition_keys))
    return result


def _history(instance, asin: str):
    records = instance.event_log_storage.get_asset_check_execution_history(VALID, limit=50)
    return [c for c in records if c.partition == asin]


def test_a_burst_is_one_batch_run_and_a_rejection_stops_only_itself(env, zips) -> None:
    instance, store, url = env
    for asin, path in zips.items():
        store.put_file(f"uploads/{asin}/delivery.zip", path)
    result = _tick(upload_sensor, instance, url)
    (request,) = result.run_requests
    assert request.job_name == "ingest_batch_job" and request.partition_key is None
    assert request.tags["shazam/batch"] == f"{GOOD}...{BAD}"
    uploads = [store.head(f"uploads/{asin}/delivery.zip") for asin in zips]
    for info in uploads:  # each upload finds the run that processes it (as `shazam demo` does)
        upload = Upload.from_info(info)
        assert request.tags[upload_tag(upload.upload_id)] == info.key

    run = execute(instance, "ingest_batch_job", request)
    assert run.success  # a rejection is the artist's to fix, not a failure of the batch
    for asin in (GOOD, ALSO_GOOD):
        assert versions.list_versions(store, asin) == [1]
        for key in (DELIVERY, VERSION, REVIEW):  # the partition's own history, as the UI reads it
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[asin]), limit=5
            ).records
            assert [r.run_id for r in records] == [run.run_id]
        (check,) = _history(instance, asin)
        assert check.status.value == "SUCCEEDED"
    assert versions.list_versions(store, BAD) == []
    (rejected,) = _history(instance, BAD)
    assert rejected.status.value == "FAILED"
    evaluation = rejected.event.dagster_event.event_specific_data
    assert "CONTRACT_STAGE_NOT_SIGNED_OFF" in evaluation.metadata["codes"].value
    assert asin_status(store, BAD)["rejections"][0]["codes"] == ["CONTRACT_STAGE_NOT_SIGNED_OFF"]
    assert not any(
        e.partition == BAD
        for e in run.get_asset_materialization_events()
        if e.asset_key != DELIVERY
    )
    materialized = instance.get_latest_materialization_event(VERSION).asset_materialization
    assert materialized.tags["dagster/code_version"] == "store-1"


def test_each_upload_is_requested_once_across_ticks_and_a_lost_one_fails_alone(env, zips) -> None:
    instance, store, url = env
    store.put_file(f"uploads/{GOOD}/a.zip", zips[GOOD])
    store.put_file(f"uploads/{ALSO_GOOD}/a.zip", zips[ALSO_GOOD])
    first = _tick(upload_sensor, instance, url)
    again = _tick(upload_sensor, instance, url)  # the same tick evaluated again (no cursor stored)
    assert [r.run_key for r in first.run_requests] == [r.run_key for r in again.run_requests]
    assert len(first.run_requests) == 1
    assert _tick(upload_sensor, instance, url, cursor=first.cursor).run_requests == []

    store.put_file(f"uploads/{GOOD}/b.zip", zips[GOOD])  # later, alone: one run as before
    (single,) = _tick(upload_sensor, instance, url, cursor=first.cursor).run_requests
    assert (single.job_name, single.partition_key) == ("ingest_job", GOOD)

    store.delete(f"uploads/{ALSO_GOOD}/a.zip")  # gone before the batch ran
    run = execute(instance, "ingest_batch_job", first.run_requests[0])
    assert not run.success and not is_rejection(instance, run.run_id)  # an operator's to see
    assert versions.list_versions(store, GOOD) == [1]  # its neighbour is stored all the same
    assert ALSO_GOOD in str(run.get_step_failure_events()[0].step_failure_data.error.message)


def test_the_queue_sensor_batches_s3_events(s3_client, sqs_client, s3_bucket, env, zips) -> None:
    instance = env[0]
    queue_url = sqs_client.create_queue(QueueName=f"batch-{s3_bucket}")["QueueUrl"]
    records = []
    for asin, path in zips.items():
        key = f"uploads/{asin}/delivery.zip"
        s3_client.upload_file(str(path), s3_bucket, key)
        etag = s3_client.head_object(Bucket=s3_bucket, Key=key)["ETag"].strip('"')
        records.append(
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-12-07T10:00:00.000Z",
                "s3": {
                    "bucket": {"name": s3_bucket},
                    "object": {"key": key, "eTag": etag, "size": 1},
                },
            }
        )
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": records}))
    store = S3Store(s3_bucket, client=s3_client)
    resources = moto_sensor_resources(store, sqs_client, queue_url)
    context = dg.build_sensor_context(instance=instance, resources=resources)
    (request,) = upload_queue_sensor(context).run_requests
    config = request.run_config["ops"]["ingest_batch"]["config"]
    assert request.job_name == "ingest_batch_job"
    assert sorted(u["upload_key"] for u in config["uploads"]) == sorted(
        f"uploads/{asin}/delivery.zip" for asin in zips
    )
