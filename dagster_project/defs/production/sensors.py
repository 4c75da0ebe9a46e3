"""The production sensor: every new production event becomes an observation of `artwork`."""

import dagster as dg

from dagster_project.lib import keys
from dagster_project.lib.cadence import SENSOR_INTERVAL_S
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.production.tracking import ProductionEvent, read_feed


def observation(event: ProductionEvent) -> dg.AssetObservation:
    metadata: dict[str, dg.RawMetadataValue] = {
        "stage": event.kind,
        "artist": event.artist.display,
        "by": event.by.display,
        "at": event.at.isoformat(),
        "assignment_id": event.assignment_id,
    }
    if event.duration_s is not None:
        metadata["duration_s"] = dg.MetadataValue.float(event.duration_s)
    return dg.AssetObservation(asset_key=keys.ARTWORK, partition=event.asin, metadata=metadata)


@dg.sensor(
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reads new production events (assignments, cleanup/UV/texturing done) and records "
    "each as an observation of the ASIN's artwork.",
)
def production_sensor(context: dg.SensorEvaluationContext, store: ObjectStoreResource):
    page = read_feed(store.open(), context.cursor)
    asins = sorted({e.asin for e in page.events})
    context.log.info(f"{len(page.events)} new production events for {len(asins)} ASINs")
    return dg.SensorResult(
        asset_events=[observation(e) for e in page.events],
        dynamic_partitions_requests=[asin_partitions.build_add_request(asins)] if asins else [],
        cursor=page.cursor,
    )
