"""Turntable: 360° renders of each ASIN's published version, on GPU nodes in production."""

import dagster as dg

from dagster_project.defs.render.assets import turntable_360, turntable_job

defs = dg.Definitions(assets=[turntable_360], jobs=[turntable_job])
