"""The publish sensor: a new or moved `pointers/published/<ASIN>.json` pointer renders that ASIN."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.ingest.sensors import SENSOR_INTERVAL_S
from dagster_project.defs.render.assets import turntable_job
from dagster_project.resources import ObjectStoreResource
from shazam_assets.qa.decisions import PUBLISHED_PREFIX, parse_published_key
from shazam_assets.scanning import scan_prefix


@dg.sensor(
    job=turntable_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Renders the turntable whenever an ASIN's published version changes "
    "(approval or rollback).",
)
def published_sensor(context: dg.SensorEvaluationContext, store: ObjectStoreResource):
    scan = scan_prefix(store.open(), PUBLISHED_PREFIX, context.cursor, now=datetime.now(UTC))
    requests = [
        dg.RunRequest(run_key=f"publish:{asin}:{info.etag}", partition_key=asin,
                      tags={"shazam/published": asin, "shazam/pointer_etag": info.etag})
        for info in scan.objects
        if (asin := parse_published_key(info.key)) is not None
    ]
    return dg.SensorResult(run_requests=requests, cursor=scan.cursor)
