"""The `code_version` of every asset, so the UI and Dagster's staleness see when the logic
that made a partition changed.

Where a stage records the version of its logic beside each result (the validation rules, the
QA scorer, the renderer: `shazam_assets.operations.backfill.STAGE_LOGIC`), the asset's code
version is that same version, so Dagster's "code version changed" and `shazam backfill
--stale` agree. The other assets have a version of their own here: bump it when their
logic changes what they write.
"""

from shazam_assets.operations import backfill

VALIDATION = backfill.current_version("validate")  # delivery, revalidation
QA_SCORING = backfill.current_version("qa")  # qa_review
RENDERER = backfill.current_version("render")  # turntable_360

STORED_VERSION = "store-1"  # asset_version: the layout of a stored version
PRODUCT_PAGE = "page-1"
SEARCH_ENTRY = "search-1"
METRICS = "metrics-1"
