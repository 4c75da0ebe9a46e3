"""The QA decision sensor: every new decision becomes a check-only run of `qa_approved`."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.qa import assets  # the job this stage's sensor requests
from dagster_project.lib import keys
from dagster_project.lib.cadence import SENSOR_INTERVAL_S
from dagster_project.lib.resources import ObjectStoreResource
from shazam_assets.platform import layout
from shazam_assets.platform.scanning import scan_prefix


@dg.sensor(
    job=assets.qa_decision_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Picks up QA decisions (CLI or review page) and runs the qa_approved check.",
)
def qa_decision_sensor(context: dg.SensorEvaluationContext, store: ObjectStoreResource):
    scan = scan_prefix(
        store.open(), layout.decisions_prefix(), context.cursor, now=datetime.now(UTC)
    )
    requests = []
    for info in scan.objects:
        parsed = layout.parse_decision_key(info.key)
        if parsed is None:
            context.log.warning(f"ignored {info.key!r}: not {layout.DECISION.shown}")
            continue
        asin, version = parsed
        requests.append(
            dg.RunRequest(
                run_key=f"decision:{asin}:v{version}",
                partition_key=asin,
                asset_selection=[],
                asset_check_keys=[keys.QA_APPROVED],
                run_config=dg.RunConfig(
                    ops={assets.qa_approved.node_def.name: assets.DecisionConfig(version=version)}
                ),
                tags={"shazam/decision": f"{asin}/v{version}"},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=scan.cursor)
