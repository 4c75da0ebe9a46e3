"""The SHAZAM code location: every stage under `defs/`, with the resources and executor they share."""

from pathlib import Path

import dagster as dg

from dagster_project.lib import k8s, preview
from dagster_project.lib.pushgateway import PushgatewayResource
from dagster_project.lib.resources import (
    NotifierResource,
    ObjectStoreResource,
    QASettingsResource,
    SearchSettingsResource,
    TurntableSettingsResource,
    UploadQueueResource,
)

preview.silence_known_notices()

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    dg.Definitions(
        resources={
            "store": ObjectStoreResource(url=dg.EnvVar("SHAZAM_STORE_URL")),
            "upload_queue": UploadQueueResource(queue_url=dg.EnvVar("SHAZAM_UPLOAD_QUEUE_URL")),
            "notifier": NotifierResource(url=dg.EnvVar("SHAZAM_NOTIFY_URL")),
            "qa_settings": QASettingsResource(),
            "search": SearchSettingsResource(),
            "turntable_settings": TurntableSettingsResource(
                frames=dg.EnvVar.int("SHAZAM_RENDER_FRAMES"),
                size=dg.EnvVar.int("SHAZAM_RENDER_SIZE"),
            ),
            "pushgateway": PushgatewayResource(),
        },
        executor=k8s.executor(),
    ),
)
