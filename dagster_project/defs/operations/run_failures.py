"""The run-failure sensor: every failed run is announced on the notifier's channel (the outbox
locally, Slack or SNS in production) with its job, ASIN, failed step and error. A run stopped
by a rejected delivery is not: validation tells the artist."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import dagster as dg

from dagster_project.lib.resources import NotifierResource, ObjectStoreResource
from dagster_project.lib.runs import is_rejection, partition_of
from shazam_assets.platform import layout
from shazam_assets.platform.notify import Outbox
from shazam_assets.platform.storage import ObjectStore

FAILURE_OUTBOX = layout.run_failures_prefix()  # not an ASIN folder: ASINs are 10 letters and digits


@dataclass(frozen=True)
class RunFailureAlert:
    """What an operator needs to act on a failed run (delivered like an artist notification)."""

    run_id: str
    job: str
    asin: str
    step: str
    error: str
    version: int = 0  # channels key artist notifications by version; alerts have none

    @property
    def subject(self) -> str:
        return f"[SHAZAM] run failed: {self.job} {self.asin or '-'} ({self.step})"[:100]

    def text(self) -> str:
        return (
            f"Run {self.run_id} of {self.job} failed for ASIN {self.asin or '-'} at step "
            f"{self.step}:\n{self.error}\n\nList and re-run failures: `shazam failures --rerun`."
        )


def deliver_alert(channel, store: ObjectStore, alert: RunFailureAlert) -> str:
    """Send an alert; the local outbox keeps alerts apart from artist notifications."""
    if isinstance(channel, Outbox):
        key = layout.run_failure_key(alert.run_id)
        body = {**asdict(alert), "subject": alert.subject, "text": alert.text()}
        store.put_bytes(key, json.dumps(body, indent=2).encode())
        return store.uri(key)
    return channel.deliver(alert)


def failure_alert(context: dg.RunFailureSensorContext) -> RunFailureAlert:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    if steps:
        step, error_info = steps[0].step_key or "-", steps[0].step_failure_data.error
        error = error_info.message.strip() if error_info else (steps[0].message or "")
    else:
        step, error = "-", context.failure_event.message or ""
    return RunFailureAlert(
        run_id=run.run_id,
        job=run.job_name,
        asin=partition_of(dict(run.tags)),
        step=step,
        error=error,
    )


@dg.run_failure_sensor(
    name="run_failure_notifier",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notifies the operators (SHAZAM_NOTIFY_URL) of every failed run: job, ASIN, step, error "
    "(not of rejected deliveries: validation tells the artist).",
)
def run_failure_notifier(
    context: dg.RunFailureSensorContext, store: ObjectStoreResource, notifier: NotifierResource
) -> None:
    if is_rejection(context.instance, context.dagster_run.run_id):
        context.log.info(
            f"run {context.dagster_run.run_id}: a rejected delivery (the artist is told), no alert"
        )
        return
    s = store.open()
    receipt = deliver_alert(notifier.channel(s), s, failure_alert(context))
    context.log.info(f"notified failure of run {context.dagster_run.run_id}: {receipt}")
