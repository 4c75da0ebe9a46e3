"""Evaluate the real sensors against a Dagster instance and execute their run requests the way
the daemon does (same job, subset, config, tags and partition)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.qa.sensors import qa_decision_sensor
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from shazam_assets.platform.storage import ObjectStore

QA_APPROVED = dg.AssetCheckKey(dg.AssetKey("asset_version"), "qa_approved")


def execute(
    instance: dg.DagsterInstance, job_name: str, request: dg.RunRequest
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(job_name)
    if request.asset_check_keys is not None:
        job = job.get_subset(
            asset_selection=set(request.asset_selection or ()),
            asset_check_selection=set(request.asset_check_keys),
        )
    elif request.asset_selection is not None:
        job = job.get_subset(asset_selection=set(request.asset_selection))
    return job.execute_in_process(
        run_config=request.run_config,
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
        raise_on_error=False,
    )


def decision_runs(instance: dg.DagsterInstance, store_url: str, cursor: str | None = None):
    """One tick of the QA decision sensor, its runs executed: ([(result, request)], cursor)."""
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": ObjectStoreResource(url=store_url)}
    )
    result = qa_decision_sensor(context)
    for request in result.run_requests:
        if not instance.has_dynamic_partition("asin", request.partition_key):
            instance.add_dynamic_partitions("asin", [request.partition_key])
    return [
        (execute(instance, "qa_decision_job", r), r) for r in result.run_requests
    ], result.cursor


def moto_sensor_resources(store: ObjectStore, sqs_client: Any, queue_url: str) -> dict:
    """The upload sensors' resources on moto: the store and SQS client the test made (pointed
    at the moto server), instead of ones built from the environment's AWS settings."""

    class Store(ObjectStoreResource):
        def open(self) -> ObjectStore:
            return store

    class Queue(UploadQueueResource):
        @property
        def client(self) -> Any:
            return sqs_client

    return {"store": Store(url="s3://moto"), "upload_queue": Queue(queue_url=queue_url)}
