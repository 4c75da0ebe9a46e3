"""The turntable in a GPU pod of its own, through Dagster Pipes, as production runs it.

`turntable_360` runs as in the run pod (in process) with the render placement production uses
(`SHAZAM_RENDER_POD=k8s`); the real `PipesK8sClient` asks a stand-in Kubernetes API server
(tests/dagster_project/kube.py) for the GPU pod, and that server plays the pod: it runs the pod's
own command with the pod's own env (the Pipes bootstrap variables included) and serves its
output as the pod log, which is how the materialization comes back. So the pod spec, the
command in the image and the Pipes protocol over pod logs are all the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.render.assets import turntable_360
from dagster_project.lib import k8s
from dagster_project.lib.resources import ObjectStoreResource, TurntableSettingsResource
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.notify import Outbox
from shazam_assets.qa.decisions import record_decision
from shazam_assets.qa.outcome import apply_decision
from tests.builders import ASIN
from tests.dagster_project.kube import FakeKubernetesApi, values

NAMESPACE = "shazam"
IMAGE = "registry.example/shazam:test"
TURNTABLE = dg.AssetKey("turntable_360")


@pytest.fixture
def kubelet(tmp_path: Path) -> Iterator[FakeKubernetesApi]:
    server = FakeKubernetesApi(run_pods=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.kubeconfig(tmp_path / "kubeconfig")
    yield server
    server.shutdown()
    server.server_close()


def _published(store, delivery: Path) -> int:
    """A stored, approved and published version of ASIN (domain calls, no Dagster run)."""
    store.put_file(f"uploads/{ASIN}/a.zip", delivery)
    upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/a.zip")
    assert ingest.validate_upload(store, upload).report.ok
    version = ingest.store_upload(store, upload).version
    record_decision(store, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    apply_decision(store, ASIN, version, channel=Outbox(store), keep_approved=1)
    assert platform_versions.published_version(store, ASIN) == version
    return version


def _production_render_pod(kubeconfig: Path) -> k8s.RenderPodResource:
    """What definitions build from the chart's env, with a test image and the stand-in API."""
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]} | {k8s.NAMESPACE_ENV: NAMESPACE}
    pod = k8s.render_pod(env)
    assert pod.mode == "k8s"
    test = {"image": IMAGE, "kubeconfig_file": str(kubeconfig), "poll_interval_s": 0.1}
    return k8s.RenderPodResource(**{**pod.model_dump(), **test})


def _render(
    instance, url: str, kubeconfig: Path, run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("asin", [ASIN])
    return dg.materialize(
        [turntable_360],
        partition_key=ASIN,
        instance=instance,
        resources={
            "store": ObjectStoreResource(url=url),
            "turntable_settings": TurntableSettingsResource(frames=8, size=64),
            "render_pod": _production_render_pod(kubeconfig),
        },
        run_config=run_config,
        raise_on_error=False,
    )


def test_the_render_runs_in_a_gpu_pod_and_reports_its_materialization(
    env, delivery, kubelet: FakeKubernetesApi, tmp_path: Path
) -> None:
    instance, store, url = env
    version = _published(store, delivery)
    result = _render(instance, url, tmp_path / "kubeconfig")
    assert result.success

    ((path, pod),) = kubelet.pod_requests  # one pod for the render, no Job per step
    assert path == f"/api/v1/namespaces/{NAMESPACE}/pods" and kubelet.jobs == []
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert container["image"] == IMAGE
    assert container["command"] == ["python", *k8s.RENDER_POD_ARGS]
    assert container["resources"]["requests"][k8s.GPU_RESOURCE] == "1"
    assert container["resources"]["limits"][k8s.GPU_RESOURCE] == "1"
    assert spec["nodeSelector"] == {k8s.NODE_GROUP_LABEL: k8s.GPU_NODE_GROUP}
    assert {"key": k8s.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    assert spec["serviceAccountName"] == values()["global"]["serviceAccountName"]  # IRSA
    assert spec["restartPolicy"] == "Never"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert {"configMapRef": {"name": k8s.ENV_CONFIG_MAP}} in container["envFrom"]  # SHAZAM_*
    assert {"secretRef": {"name": k8s.ENV_SECRET}} in container["envFrom"]
    env_vars = {e["name"]: e.get("value") for e in container["env"]}
    assert env_vars["NVIDIA_DRIVER_CAPABILITIES"] == "graphics,compute,utility"
    assert {"DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES"} <= set(env_vars)
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "dagster"  # the chart's egress policies apply
    assert labels["app.kubernetes.io/component"] == k8s.RENDER_POD_COMPONENT
    assert all(p.deleted for p in kubelet.pods.values())  # removed once it reported

    event = instance.get_latest_materialization_event(TURNTABLE)
    assert event is not None
    metadata = event.asset_materialization.metadata
    manifest = platform_versions.read_turntable_manifest(store, ASIN, version)
    assert manifest is not None and manifest.size == 64 and len(manifest.frames) == 8
    assert metadata["version"].value == version and metadata["rendered"].value is True
    assert metadata["fingerprint"].value == manifest.fingerprint
    assert isinstance(metadata["poster"], dg.UrlMetadataValue)  # typed as in the step
    assert event.asset_materialization.partition == ASIN
    tags = event.asset_materialization.tags or {}
    assert tags["dagster/data_version"] == manifest.fingerprint

    again = _render(
        instance, url, tmp_path / "kubeconfig"
    )  # the same version rendered: decided in the run pod, no pod
    assert again.success and len(kubelet.pod_requests) == 1


def test_a_refused_render_in_the_pod_fails_the_step_without_retries(
    env, delivery, kubelet: FakeKubernetesApi, tmp_path: Path
) -> None:
    instance, store, url = env
    _published(store, delivery)
    config = {"ops": {"turntable_360": {"config": {"version": 7}}}}  # no such version
    result = _render(instance, url, tmp_path / "kubeconfig", run_config=config)
    assert not result.success and len(kubelet.pod_requests) == 1  # tried once: not retried
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    error = failure.step_failure_data
    assert error.user_failure_data is not None
    assert error.user_failure_data.metadata["code"].value == "RENDER_UNKNOWN_VERSION"
