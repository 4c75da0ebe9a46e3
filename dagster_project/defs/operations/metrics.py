"""`pipeline_metrics`: deliveries, rejections, backlog, latency, renders and search, in numbers."""

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.pushgateway import PushgatewayResource
from dagster_project.lib.resources import ObjectStoreResource, QASettingsResource
from dagster_project.lib.retries import FAILED_ASINS
from dagster_project.lib.runs import partition_of
from shazam_assets.platform import layout

if TYPE_CHECKING:  # pandas and matplotlib: imported where the metrics are computed, so the
    # code location (loaded by every run process) does not pay ~0.6 s for them
    from shazam_assets.operations import metrics

REPORT_KEY = (
    layout.metrics_report_key()
)  # the HTML report of the latest figures (`shazam report`'s)
TURNTABLE_STEP = keys.TURNTABLE_360.to_python_identifier()
FACTS_LIMIT = 10_000  # newest orchestrator events read per metric (a few weeks of a busy shop)


def _failed_asins(record: dg.EventLogRecord, run: dg.DagsterRun | None) -> list[str]:
    """The ASINs a failed render step names (a batch lists them), else the run's ASIN."""
    event = record.event_log_entry.dagster_event
    user = event.step_failure_data.user_failure_data if event and event.step_failure_data else None
    named = user.metadata.get(FAILED_ASINS) if user else None
    if named is not None and str(named.value):
        return [a.strip() for a in str(named.value).split(",")]
    return [partition_of(dict(run.tags)) if run else ""]


def _render_failures(instance: dg.DagsterInstance) -> "tuple[metrics.RenderFailure, ...]":
    from shazam_assets.operations import metrics

    """One per ASIN whose `turntable_360` step failed (in any job)."""
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_FAILURE),
        limit=FACTS_LIMIT,
        ascending=False,
    )
    failures = []
    for record in records:
        if record.event_log_entry.step_key != TURNTABLE_STEP:
            continue
        failed_at = datetime.fromtimestamp(record.timestamp, UTC)
        for asin in _failed_asins(record, instance.get_run_by_id(record.run_id)):
            failures.append(metrics.RenderFailure(asin=asin, failed_at=failed_at))
    return tuple(failures)


def _search_success_rate(instance: dg.DagsterInstance) -> dict[str, float]:
    """The latest probe result of each ASIN's `search_index` materialization."""
    latest: dict[str, float] = {}
    records = instance.fetch_materializations(keys.SEARCH_INDEX, limit=FACTS_LIMIT)
    for record in records.records:  # newest first
        event = record.asset_materialization
        value = event.metadata.get("search_success_rate") if event else None
        if event and event.partition and value is not None and event.partition not in latest:
            latest[event.partition] = float(value.value)  # type: ignore[arg-type]
    return latest


def _sensor_ticks(instance: dg.DagsterInstance) -> dict[str, float]:
    """When each sensor last ticked (epoch seconds)."""
    ticks: dict[str, float] = {}
    for state in instance.all_instigator_state():
        if state.instigator_type.value != "SENSOR":  # schedules have ticks too
            continue
        last = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        if last:
            ticks[state.instigator_name] = max(
                ticks.get(state.instigator_name, 0.0), last[0].timestamp
            )
    return ticks


def orchestrator_facts(instance: dg.DagsterInstance) -> "metrics.OrchestratorFacts":
    """What only the Dagster instance knows, for `metrics.compute_metrics` (the asset and
    `shazam report` both use it, so their numbers agree)."""
    from shazam_assets.operations import metrics

    return metrics.OrchestratorFacts(
        render_failures=_render_failures(instance),
        search_success_rate=_search_success_rate(instance),
        sensor_last_tick=_sensor_ticks(instance),
    )


def _headline(summary: dict[str, float]) -> dict[str, float]:
    """Dagster metadata cannot hold NaN usefully: leave undefined rates out."""
    return {name: round(value, 4) for name, value in summary.items() if not math.isnan(value)}


@dg.asset(
    group_name="operations", kinds={"prometheus", "parquet"}, code_version=code_versions.METRICS
)
def pipeline_metrics(
    context: dg.AssetExecutionContext,
    store: ObjectStoreResource,
    qa_settings: QASettingsResource,
    pushgateway: PushgatewayResource,
) -> dg.MaterializeResult:
    """How the pipeline is doing: deliveries per artist, validation and QA rejection rates,
    the review backlog against its SLA, time from upload to the shop per stage, render time
    and failures, bytes reclaimed by cleanup, and search success. Written to the store as
    Parquet tables, `metrics/latest.prom` (served at `shazam serve`'s /metrics) and an HTML
    report with plots (`metrics/report.html`), and pushed to a Pushgateway when one is
    configured."""
    from shazam_assets.operations import metrics
    from shazam_assets.operations import metrics_report as report

    s = store.open()
    computed = metrics.compute_metrics(
        s, facts=orchestrator_facts(context.instance), sla=timedelta(hours=qa_settings.sla_hours)
    )
    tables = metrics.write_parquet(computed, s)
    latest = metrics.write_latest(computed, s)
    s.put_bytes(
        REPORT_KEY, report.render_html(computed).encode(), content_type="text/html; charset=utf-8"
    )
    if gateway := pushgateway.target():
        metrics.push(computed, gateway)
        context.log.info(f"pushed the metrics to {gateway}")
    return dg.MaterializeResult(
        metadata={
            **_headline(computed.summary()),
            "tables": len(tables),
            "prometheus": dg.MetadataValue.url(s.uri(latest)),
            "report": dg.MetadataValue.url(s.uri(REPORT_KEY)),
        }
    )


metrics_job = dg.define_asset_job(
    "metrics_job", selection=[pipeline_metrics], description="Recompute the pipeline metrics."
)

metrics_schedule = dg.ScheduleDefinition(
    job=metrics_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: recompute the pipeline metrics and push them.",
)
