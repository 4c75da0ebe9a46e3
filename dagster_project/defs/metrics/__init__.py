"""Operations: the pipeline's own metrics, every 15 minutes, for Prometheus and the report."""

import dagster as dg

from dagster_project.defs.metrics.assets import (
    PushgatewayResource,
    metrics_job,
    metrics_schedule,
    pipeline_metrics,
)

defs = dg.Definitions(
    assets=[pipeline_metrics],
    jobs=[metrics_job],
    schedules=[metrics_schedule],
    resources={"pushgateway": PushgatewayResource()},
)
