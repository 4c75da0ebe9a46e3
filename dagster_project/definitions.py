"""The SHAZAM code location: every stage under `defs/`, with the resources and executor they share.

Every module of the `defs/` folder is loaded as it is found (a new stage is a new folder, listed
nowhere). `load_definitions_from_package_module` rather than `dg.load_from_defs_folder`: the
latter's component machinery discovers every installed integration's components on each load,
and each run process loads the code location, so it added about 1.5 s to every run's start.
"""

import dagster as dg

from dagster_project import defs as stages
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
    dg.load_definitions_from_package_module(stages),
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
