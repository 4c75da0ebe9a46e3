"""Turntables through Dagster's real instance: a publication is picked up by the publish sensor,
`turntable_360` renders the published version, and asking again renders nothing."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.render.sensors import published_sensor
from dagster_project.resources import ObjectStoreResource
from shazam_assets import turntable
from shazam_assets.qa.decisions import record_decision
from tests.builders import ASIN
from tests.dagster_project.runs import decision_runs, execute
from tests.dagster_project.test_qa_pipeline import _ingest

TURNTABLE = dg.AssetKey("turntable_360")


def _tick(instance, url, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"store": ObjectStoreResource(url=url)})
    result = published_sensor(context)
    return result.run_requests, result.cursor


def test_approval_renders_the_turntable_once(env, delivery) -> None:
    instance, store, url = env
    _ingest(instance, store, url, delivery, "first.zip")
    requests, cursor = _tick(instance, url)
    assert requests == []  # nothing is published before a reviewer approves

    record_decision(store, asin=ASIN, version=1, verdict="approve", reviewer="Rita")
    decision_runs(instance, url)
    requests, cursor = _tick(instance, url, cursor)
    assert [r.partition_key for r in requests] == [ASIN]
    run = execute(instance, "turntable_job", requests[0])
    assert run.success
    event = instance.get_latest_materialization_event(TURNTABLE)
    assert event is not None and event.dagster_event.partition == ASIN
    metadata = event.asset_materialization.metadata
    assert metadata["version"].value == 1 and metadata["frames"].value == 8 and metadata["rendered"].value
    manifest = turntable.read_turntable_manifest(store, ASIN, 1)
    assert manifest is not None and manifest["spec"]["size"] == 64
    assert metadata["fingerprint"].value == manifest["fingerprint"]

    assert _tick(instance, url, cursor)[0] == []  # the same pointer is not rendered twice
    again = execute(instance, "turntable_job", requests[0])  # e.g. a backfill over the partition
    metadata = instance.get_latest_materialization_event(TURNTABLE).asset_materialization.metadata
    assert again.success and metadata["rendered"].value is False


def test_a_partition_with_nothing_published_renders_nothing(env, delivery) -> None:
    instance, store, url = env
    _ingest(instance, store, url, delivery, "first.zip")
    run = execute(instance, "turntable_job", dg.RunRequest(partition_key=ASIN))
    assert run.success
    assert instance.get_latest_materialization_event(TURNTABLE) is None
    assert list(store.list("renders/")) == []
