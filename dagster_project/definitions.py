"""The SHAZAM code location: every stage's definitions merged, with shared resources."""

import dagster as dg

from dagster_project.defs import ingest, metrics, operations, publish, qa, render
from dagster_project.lib import k8s
from dagster_project.lib.resources import (
    NotifierResource,
    ObjectStoreResource,
    QASettingsResource,
    SearchSettingsResource,
    TurntableSettingsResource,
    UploadQueueResource,
)

defs = dg.Definitions.merge(
    ingest.defs,
    qa.defs,
    render.defs,
    publish.defs,
    metrics.defs,
    operations.defs,
    dg.Definitions(
        resources={
            "store": ObjectStoreResource(url=dg.EnvVar("SHAZAM_STORE_URL")),
            "upload_queue": UploadQueueResource(queue_url=dg.EnvVar("SHAZAM_UPLOAD_QUEUE_URL")),
            "notifier": NotifierResource(url=dg.EnvVar("SHAZAM_NOTIFY_URL")),
            "qa_settings": QASettingsResource(),
            "search": SearchSettingsResource(),
            "turntable_settings": TurntableSettingsResource(
                frames=dg.EnvVar.int("SHAZAM_RENDER_FRAMES"), size=dg.EnvVar.int("SHAZAM_RENDER_SIZE")
            ),
        },
        executor=k8s.executor(),
    ),
)
