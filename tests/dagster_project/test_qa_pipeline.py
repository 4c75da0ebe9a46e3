"""The QA loop through Dagster's real instance: automatic checks after storing, decisions picked
up by the QA sensor, check-only `qa_approved` runs, promotion and notification."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from dagster_project.defs.ingest.sensors import upload_sensor
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from shazam_assets.operations.status import asin_status
from shazam_assets.qa.decisions import record_decision
from tests.builders import ASIN
from tests.dagster_project.runs import QA_APPROVED, decision_runs, execute


def _ingest(instance, store, url, delivery: Path, name: str, cursor=None):
    store.put_file(f"uploads/{ASIN}/{name}", delivery)
    resources = {
        "store": ObjectStoreResource(url=url),
        "upload_queue": UploadQueueResource(queue_url=""),
    }
    result = upload_sensor(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    )
    instance.add_dynamic_partitions("asin", [ASIN])
    for request in result.run_requests:
        assert execute(instance, "ingest_job", request).success
    return result.cursor


def _latest_check(instance, key):
    return instance.event_log_storage.get_asset_check_execution_history(key, limit=1)[0]


def test_reject_then_approve_through_sensors_and_checks(env, delivery) -> None:
    instance, store, url = env
    cursor = _ingest(instance, store, url, delivery, "first.zip")
    qa_check = _latest_check(
        instance, dg.AssetCheckKey(dg.AssetKey("qa_review"), "qa_visual_match")
    )
    assert qa_check.partition == ASIN and qa_check.status.value == "SUCCEEDED"
    review = instance.get_latest_materialization_event(
        dg.AssetKey("qa_review")
    ).asset_materialization
    assert review.metadata["version"].value == 1 and store.exists(f"qa/{ASIN}/v1/contact-sheet.png")

    record_decision(
        store, asin=ASIN, version=1, verdict="reject", reviewer="Rita", notes="Logo is missing"
    )
    runs, qa_cursor = decision_runs(instance, url)
    assert len(runs) == 1
    run, request = runs[0]
    assert request.asset_check_keys == [QA_APPROVED] and request.partition_key == ASIN
    assert run.success  # the check ran; its result is the failed decision
    check = _latest_check(instance, QA_APPROVED)
    assert check.status.value == "FAILED" and check.partition == ASIN
    evaluation = check.event.dagster_event.event_specific_data
    assert (
        evaluation.metadata["reviewer"].value == "Rita"
        and evaluation.metadata["notes"].value == "Logo is missing"
    )
    outbox = json.loads(store.get_bytes(f"outbox/{ASIN}/v1.json"))
    assert "Logo is missing" in outbox["text"]

    again, qa_cursor = decision_runs(instance, url, qa_cursor)
    assert again == []  # a decision is requested once

    _ingest(instance, store, url, delivery, "fixed.zip", cursor)  # the artist's next upload: v2
    record_decision(store, asin=ASIN, version=2, verdict="approve", reviewer="Rita")
    runs, _ = decision_runs(instance, url, qa_cursor)
    assert [r.success for r, _ in runs] == [True]
    check = _latest_check(instance, QA_APPROVED)
    assert check.status.value == "SUCCEEDED"
    status = asin_status(store, ASIN)
    assert status["published_version"] == 2
    assert {v["version"]: v["state"] for v in status["versions"]} == {1: "deleted", 2: "published"}
