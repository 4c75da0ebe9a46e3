"""Upload sensors: find new ZIPs under uploads/ and request their ingest runs; the scan sensor
finds new scan data under scans/ and requests one scan_data run per ASIN.

A tick that finds one upload requests an `ingest_job` run for its ASIN partition, as it always
did. A tick that finds more (a burst) requests `ingest_batch_job` runs of up to
`SHAZAM_INGEST_BATCH` (50) uploads each, at most one upload per ASIN in a run, every ASIN still
reported as its own partition (`defs/ingest/batch.py` says how, and why not partition ranges or
backfills). The run key of a batch is derived from its uploads' keys and ETags, and the same
uploads always form the same batches, so a tick evaluated twice asks for the same runs and
Dagster skips the repeat. Every run carries `shazam/upload/<upload id>` for each of its uploads.

A tick that finds nothing waits up to `SHAZAM_UPLOAD_WAIT_S` (4 s) for an upload before it
returns, so an upload lands in a tick that is already looking instead of waiting up to 5 s for
the next one: the SQS sensor long-polls the queue, the listing sensor lists again every 0.25 s.

Two modes. `upload_sensor` lists the upload prefix (fine up to ~100k objects, and the only
mode for the local store). `upload_queue_sensor` reads S3 event notifications from SQS for
large buckets; it is active when SHAZAM_UPLOAD_QUEUE_URL is set, and then the listing sensor
stands down. Either way the run key is derived from key + ETag, so an upload runs once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.ingest import assets, batch  # the jobs this stage's sensors request
from dagster_project.lib.cadence import SENSOR_INTERVAL_S, UPLOAD_SENSOR_INTERVAL_S
from dagster_project.lib.configs import UPLOAD_OPS, UploadConfig
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource, UploadQueueResource
from dagster_project.lib.runs import BATCH_TAG, upload_tag
from shazam_assets.ingest.scans import scan_arrivals
from shazam_assets.ingest.upload_events import poll_upload_events
from shazam_assets.ingest.uploads import Upload, batch_run_key, upload_batches, wait_for_uploads
from shazam_assets.platform.settings import Settings


def run_request(upload: Upload) -> dg.RunRequest:
    """One upload's `ingest_job` run, on its ASIN's partition."""
    config = UploadConfig(upload_key=upload.key, etag=upload.etag)
    return dg.RunRequest(
        run_key=upload.run_key,
        job_name=assets.ingest_job.name,
        partition_key=upload.asin,
        run_config=dg.RunConfig(ops=dict.fromkeys(UPLOAD_OPS, config)),
        tags={
            "shazam/upload_key": upload.key,
            "shazam/etag": upload.etag,
            upload_tag(upload.upload_id): upload.key,
        },
    )


def batch_request(uploads: Sequence[Upload]) -> dg.RunRequest:
    """One `ingest_batch_job` run for several uploads of different ASINs."""
    config = batch.BatchConfig(
        uploads=[batch.BatchUpload(upload_key=u.key, etag=u.etag) for u in uploads]
    )
    asins = sorted(u.asin for u in uploads)
    return dg.RunRequest(
        run_key=batch_run_key(uploads),
        job_name=batch.ingest_batch_job.name,
        run_config=dg.RunConfig(ops={batch.ingest_batch.name: config}),
        tags={
            BATCH_TAG: f"{asins[0]}...{asins[-1]}",
            "shazam/uploads": str(len(uploads)),
            **{upload_tag(u.upload_id): u.key for u in uploads},
        },
    )


def run_requests(uploads: Sequence[Upload], *, batch_size: int) -> list[dg.RunRequest]:
    """The runs for one tick's uploads: one `ingest_job` run for a lone upload, batches else."""
    return [
        run_request(group[0]) if len(group) == 1 else batch_request(group)
        for group in upload_batches(uploads, size=batch_size)
    ]


def _batch_size() -> int:
    """Uploads per batched run: `SHAZAM_INGEST_BATCH` (settings.Settings.ingest_batch)."""
    return max(1, Settings.from_env(only=("ingest_batch",)).ingest_batch)


def _wait_s() -> int:
    """How long a tick that finds nothing waits: `SHAZAM_UPLOAD_WAIT_S` (Settings.upload_wait_s)."""
    return max(0, Settings.from_env(only=("upload_wait_s",)).upload_wait_s)


def _result(uploads: Sequence[Upload], cursor: str) -> dg.SensorResult:
    asins = sorted({u.asin for u in uploads})
    return dg.SensorResult(
        run_requests=run_requests(uploads, batch_size=_batch_size()),
        dynamic_partitions_requests=[asin_partitions.build_add_request(asins)] if asins else [],
        cursor=cursor,
    )


@dg.sensor(
    jobs=[assets.ingest_job, batch.ingest_batch_job],
    minimum_interval_seconds=UPLOAD_SENSOR_INTERVAL_S,
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
    scan = wait_for_uploads(store.open(), context.cursor, wait_s=_wait_s())
    context.log.info(
        f"listed {scan.listed} objects, {len(scan.uploads)} new uploads, "
        f"{len(scan.skipped_keys)} keys that are not uploads/<ASIN>/<name>.zip"
        + ("" if scan.complete_pass else "; pass continues next tick")
    )
    for key in scan.skipped_keys[:20]:
        context.log.warning(f"ignored {key!r}: not an upload key (uploads/<ASIN>/<name>.zip)")
    return _result(scan.uploads, scan.cursor)


@dg.sensor(
    jobs=[assets.ingest_job, batch.ingest_batch_job],
    minimum_interval_seconds=UPLOAD_SENSOR_INTERVAL_S,
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
        upload_queue.client,
        upload_queue.queue_url,
        store=store.open(),
        cursor=context.cursor,
        wait_time_s=_wait_s(),
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
