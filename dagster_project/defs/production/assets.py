"""`artwork`: the artist's work on each ASIN, made outside Dagster and observed through events."""

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.partitions import asin_partitions

artwork = dg.AssetSpec(
    keys.ARTWORK,
    deps=[keys.SCAN_DATA],
    partitions_def=asin_partitions,
    group_name="production",
    code_version=code_versions.ARTWORK,
    description="The artist's production work on the scan: cleanup, UV, texturing, done in the "
    "studio by the assigned artist. Each assignment and stage mark is an observation with "
    "its time and duration; the final ZIP the artist uploads becomes the delivery.",
)
