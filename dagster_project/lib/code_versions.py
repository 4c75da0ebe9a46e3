"""The `code_version` of every asset, so the UI and Dagster's staleness see when the logic
that made a partition changed.

Where a stage records the version of its logic beside each result (the validation rules, the
QA scorer, the renderer: `shazam_assets.operations.backfill.STAGE_LOGIC`), the asset's code
version is that same version, so Dagster's "code version changed" and `shazam backfill
--stale` agree. The other assets have a version of their own here: bump it when their
logic changes what they write.
"""

# The leaf modules that define them, not the validator, scorer and renderer that use them: the
# code location is loaded by every run process, and those would add a second to each.
from shazam_assets.ingest.delivery.rules_version import RULES_VERSION
from shazam_assets.platform.renderer_version import RENDERER_VERSION
from shazam_assets.qa.scoring_version import SCORING_VERSION

VALIDATION = RULES_VERSION  # delivery, revalidation
QA_SCORING = SCORING_VERSION  # qa_review
RENDERER = RENDERER_VERSION  # turntable_360

SCAN_DATA = (
    f"{RULES_VERSION}+scan-1"  # scan_data: the delivery's scan and photo rules + listing caps
)
ARTWORK = "artwork-1"  # artwork (external): what a production event observes
STORED_VERSION = "store-1"  # asset_version: the layout of a stored version
CHANNEL_MODELS = "channels-1"  # with the profiles and tools, which its set fingerprint names
PRODUCT_PAGE = "page-2"  # 2: AR, channel derivatives with the master as fallback, variants
SEARCH_ENTRY = "search-1"
METRICS = "metrics-1"
