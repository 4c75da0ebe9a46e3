"""Ingest: an uploaded ZIP becomes a validated delivery, then a stored, immutable version."""

import dagster as dg

from dagster_project.defs.ingest.assets import asset_version, delivery, ingest_job
from dagster_project.defs.ingest.sensors import upload_queue_sensor, upload_sensor

defs = dg.Definitions(
    assets=[delivery, asset_version],
    jobs=[ingest_job],
    sensors=[upload_sensor, upload_queue_sensor],
)
