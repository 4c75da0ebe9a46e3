"""The version of automatic QA scoring, recorded in every `scores.json` (`scoring_version`).

Bump it whenever views, masks, colour metric or thresholds change a score: `shazam backfill
--stage qa` re-scores older results, and it is the `qa_review` asset's `code_version`. A leaf
module, so the code location reads it without importing the scorer (scikit-image, the renderer).
"""

SCORING_VERSION = "scoring-1"
