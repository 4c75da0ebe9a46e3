"""The SHAZAM code location: every stage under `defs/`, with the resources and executor they share.

The executor and where turntables render are read from the environment when the definitions load
(`SHAZAM_EXECUTOR`, `SHAZAM_RENDER_POD`; dagster_project/lib/k8s.py): the embedded default runs
everything in process, production runs every step in its run pod and each render in a GPU pod.

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
            "render_pod": k8s.render_pod(),  # SHAZAM_RENDER_POD: in the step, or a GPU pod
        },
        executor=k8s.executor(),
    ),
)
