"""Upload sensors: find new ZIPs under uploads/ and request one ingest run per upload; the scan
sensor finds new scan data under scans/ and requests one scan_data run per ASIN.

Two modes. `upload_sensor` lists the upload prefix (fine up to ~100k objects, and the only
mode for the local store). `upload_queue_sensor` reads S3 event notifications from SQS for
large buckets; it is active when SHAZAM_UPLOAD_QUEUE_URL is set, and then the listing sensor
stands down. Either way the run key is derived from key + ETag, so an upload runs once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.ingest import assets  # the job this stage's sensor requests
from dagster_project.lib.cadence import SENSOR_INTERVAL_S
from dagster_project.lib.configs import UPLOAD_OPS, UploadConfig
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from shazam_assets.ingest.scans import scan_arrivals
from shazam_assets.ingest.upload_events import poll_upload_events
from shazam_assets.ingest.uploads import Upload, scan_uploads


def run_request(upload: Upload) -> dg.RunRequest:
    config = UploadConfig(upload_key=upload.key, etag=upload.etag)
    return dg.RunRequest(
        run_key=upload.run_key,
        partition_key=upload.asin,
        run_config=dg.RunConfig(ops=dict.fromkeys(UPLOAD_OPS, config)),
        tags={"shazam/upload_key": upload.key, "shazam/etag": upload.etag},
    )


def _result(uploads: Sequence[Upload], cursor: str) -> dg.SensorResult:
    asins = sorted({u.asin for u in uploads})
    return dg.SensorResult(
        run_requests=[run_request(u) for u in uploads],
        dynamic_partitions_requests=[asin_partitions.build_add_request(asins)] if asins else [],
        cursor=cursor,
    )


@dg.sensor(
    job=assets.ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Lists uploads/ and requests an ingest run for every new or changed ZIP.",
)
def upload_sensor(
    context: dg.SensorEvaluationContext,
    store: ObjectStoreResource,
    upload_queue: UploadQueueResource,
):
    if upload_queue.enabled:
        return dg.SkipReason(
            "SQS mode is on (SHAZAM_UPLOAD_QUEUE_URL); upload_queue_sensor reads events"
        )
    scan = scan_uploads(store.open(), context.cursor, now=datetime.now(UTC))
    context.log.info(
        f"listed {scan.listed} objects, {len(scan.uploads)} new uploads, "
        f"{len(scan.skipped_keys)} keys that are not uploads/<ASIN>/<name>.zip"
        + ("" if scan.complete_pass else "; pass continues next tick")
    )
    for key in scan.skipped_keys[:20]:
        context.log.warning(f"ignored {key!r}: not an upload key (uploads/<ASIN>/<name>.zip)")
    return _result(scan.uploads, scan.cursor)


@dg.sensor(
    job=assets.ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reads S3 event notifications from SQS (large buckets); dead letters go to the DLQ.",
)
def upload_queue_sensor(
    context: dg.SensorEvaluationContext,
    store: ObjectStoreResource,
    upload_queue: UploadQueueResource,
):
    if not upload_queue.enabled:
        return dg.SkipReason("SHAZAM_UPLOAD_QUEUE_URL is not set; upload_sensor lists the bucket")
    batch = poll_upload_events(
        upload_queue.client, upload_queue.queue_url, store=store.open(), cursor=context.cursor
    )
    context.log.info(
        f"received {batch.received} messages, {len(batch.uploads)} uploads, "
        f"{batch.malformed} malformed (left for the dead-letter queue)"
    )
    return _result(batch.uploads, batch.cursor)


@dg.sensor(
    job=assets.scan_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Lists scans/ and requests a scan_data run for every ASIN with new or changed scan files.",
)
def scan_sensor(context: dg.SensorEvaluationContext, store: ObjectStoreResource):
    found = scan_arrivals(store.open(), context.cursor, now=datetime.now(UTC))
    context.log.info(f"listed {found.listed} objects, {len(found.asins)} ASINs with new scan files")
    for key in found.skipped_keys[:20]:
        context.log.warning(f"ignored {key!r}: not a scan file key (scans/<ASIN>/<path>)")
    asins = [asin for asin, _ in found.asins]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=key, partition_key=asin) for asin, key in found.asins],
        dynamic_partitions_requests=[asin_partitions.build_add_request(asins)] if asins else [],
        cursor=found.cursor,
    )
