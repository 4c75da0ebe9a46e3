"""The publish sensor: a new or moved `pointers/published/<ASIN>.json` pointer (approval,
rollback, unpublish) runs that ASIN's turntable, product page and search entry."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.publish import assets  # the job this stage's sensor requests
from dagster_project.lib import keys
from dagster_project.lib.cadence import SENSOR_INTERVAL_S
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.platform import layout
from shazam_assets.platform.scanning import scan_prefix
from shazam_assets.platform.versions import published_version

TAKE_DOWN = [keys.PRODUCT_PAGE, keys.SEARCH_INDEX]


@dg.sensor(
    job=assets.publish_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Renders, publishes and indexes an ASIN whenever its published version changes "
    "(approval, rollback or unpublish).",
)
def published_sensor(context: dg.SensorEvaluationContext, store: ObjectStoreResource):
    s = store.open()
    scan = scan_prefix(s, layout.published_pointers_prefix(), context.cursor, now=datetime.now(UTC))
    requests = []
    for info in scan.objects:
        asin = layout.parse_published_pointer_key(info.key)
        if asin is None:
            continue
        # Unpublished: nothing to render, so only the page and the search entry run (they take
        # the ASIN down); with the turntable in the run, its skip would skip them too.
        selection = None if published_version(s, asin) is not None else TAKE_DOWN
        requests.append(
            dg.RunRequest(
                run_key=f"publish:{asin}:{info.etag}",
                partition_key=asin,
                asset_selection=selection,
                tags={"shazam/published": asin, "shazam/pointer_etag": info.etag},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=scan.cursor)
