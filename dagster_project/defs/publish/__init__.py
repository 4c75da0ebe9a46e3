"""Publishing: product pages and search, whenever an ASIN's published version changes."""

import dagster as dg

from dagster_project.defs.publish.assets import (
    product_page,
    publish_job,
    search_index,
    search_rebuild_job,
    search_rebuild_schedule,
)
from dagster_project.defs.publish.sensors import published_sensor

defs = dg.Definitions(
    assets=[product_page, search_index],
    jobs=[publish_job, search_rebuild_job],
    schedules=[search_rebuild_schedule],
    sensors=[published_sensor],
)
