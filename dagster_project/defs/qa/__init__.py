"""QA: automatic checks on each stored version, and the reviewer's decision as `qa_approved`."""

import dagster as dg

from dagster_project.defs.qa.assets import qa_approved, qa_decision_job, qa_review
from dagster_project.defs.qa.sensors import qa_decision_sensor

defs = dg.Definitions(
    assets=[qa_review],
    asset_checks=[qa_approved],
    jobs=[qa_decision_job],
    sensors=[qa_decision_sensor],
)
