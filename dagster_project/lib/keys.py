"""Every asset and check of the code location by key.

A stage refers to another stage's assets through these keys (`deps=[keys.ASSET_VERSION]`, a
job's selection, a run request), never by importing the other stage's module, so the stages
under `defs/` import nothing from each other.
"""

import dagster as dg

# production
ARTWORK = dg.AssetKey("artwork")
# ingest
SCAN_DATA = dg.AssetKey("scan_data")
DELIVERY = dg.AssetKey("delivery")
ASSET_VERSION = dg.AssetKey("asset_version")
# qa
QA_REVIEW = dg.AssetKey("qa_review")
# render
TURNTABLE_360 = dg.AssetKey("turntable_360")
# publish
CHANNEL_MODELS = dg.AssetKey("channel_models")
PRODUCT_PAGE = dg.AssetKey("product_page")
# search
SEARCH_INDEX = dg.AssetKey("search_index")
# operations
REVALIDATION = dg.AssetKey("revalidation")
PIPELINE_METRICS = dg.AssetKey("pipeline_metrics")

SCAN_DATA_VALID = dg.AssetCheckKey(SCAN_DATA, "scan_data_valid")  # blocking: no assignment
DELIVERY_VALID = dg.AssetCheckKey(DELIVERY, "delivery_valid")  # blocking: a rejection stops the run
QA_APPROVED = dg.AssetCheckKey(ASSET_VERSION, "qa_approved")  # the reviewer's decision (QA stage)
SEARCH_PROBE = dg.AssetCheckKey(SEARCH_INDEX, "search_finds_product")
