"""deploy/helm/values.yaml: only keys the Dagster chart knows, and the production settings SHAZAM
relies on (S3 compute logs, probes and resources, IRSA, the GPU run limit, immutable tags)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from dagster_project.lib import k8s
from tests.deploy import chart_schema
from tests.deploy.deploy_files import VALUES, load, manifests


@pytest.fixture
def values() -> dict[str, Any]:
    return load(VALUES)


def _user_code(values: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    return deployment


def test_values_use_only_keys_and_types_the_chart_accepts(values) -> None:
    assert chart_schema.errors(values) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(values: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = values
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set("dagsterWebserver/readinesProbe", {}), "unknown key 'readinesProbe'"),
        (_set("runLauncher/config/k8sRunLauncher/envVar", []), "unknown key 'envVar'"),
        (_set("runLauncher/type", "K8sLauncher"), "'K8sLauncher' not one of"),
        (_set("dagsterDaemon/livenessProbe/exec", {"cmd": ["x"]}), "'cmd' was unexpected"),
        (_set("dagsterWebserver/resources/requests/cpu", [1]), "resources.requests.cpu"),
        (
            _set("dagster-user-deployments/deployments/0/readinessProbe/periodSecond", 5),
            "'periodSecond' was unexpected",
        ),
        (_set("concurrency/pools/defaultLimit", True), "expected an integer"),
        (_set("computeLogManager/config/s3ComputeLogManager/bucket", {"envv": "X"}), "bucket"),
    ],
)
def test_schema_check_reports_what_the_chart_would_reject(values, mutate, expected) -> None:
    broken = copy.deepcopy(values)
    mutate(broken)
    found = chart_schema.errors(broken)
    assert any(expected in error for error in found), found


def test_compute_logs_go_to_s3_from_the_env_configmap(values) -> None:
    manager = values["computeLogManager"]
    assert manager["type"] == "S3ComputeLogManager"
    s3 = manager["config"]["s3ComputeLogManager"]
    configmap = manifests()[f"ConfigMap/{k8s.ENV_CONFIG_MAP}"]["data"]
    for key in ("bucket", "prefix"):
        assert s3[key]["env"] in configmap  # set wherever logs are written or read
    # Both the webserver (reads logs) and the daemon load that ConfigMap; run and step pods do
    # through the run launcher.
    for component in ("dagsterWebserver", "dagsterDaemon"):
        assert {"name": k8s.ENV_CONFIG_MAP} in values[component]["envConfigMaps"]


@pytest.mark.parametrize("component", ["dagsterWebserver", "dagsterDaemon", "user-code"])
def test_long_running_pods_have_resources_and_probes(values, component: str) -> None:
    pod = _user_code(values) if component == "user-code" else values[component]
    assert {"cpu", "memory"} <= set(pod["resources"]["requests"])
    assert "memory" in pod["resources"]["limits"]  # a leak kills the pod, not its node
    assert pod["livenessProbe"] and pod["readinessProbe"]
    if component == "user-code":
        # The chart fills in `dagster api grpc-health-check` when no exec is given.
        assert pod["readinessProbe"]["enabled"] is True
        assert pod["startupProbe"]["enabled"] is True
        assert "exec" not in pod["livenessProbe"]
    liveness = pod["livenessProbe"]
    # Liveness gives up later than readiness: a slow pod leaves the Service before it restarts.
    assert liveness["failureThreshold"] * liveness["periodSeconds"] >= (
        pod["readinessProbe"]["failureThreshold"] * pod["readinessProbe"]["periodSeconds"]
    )


def test_webserver_probes_hit_its_http_port(values) -> None:
    webserver = values["dagsterWebserver"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert webserver[probe]["httpGet"] == {"path": "/server_info", "port": 80}
    assert webserver.get("service", {}).get("port", 80) == 80  # the chart's default port


def test_every_pod_uses_the_irsa_service_account(values) -> None:
    account = values["serviceAccount"]
    assert account["create"] is True
    assert account["name"] == values["global"]["serviceAccountName"]
    role = account["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role)


def test_gpu_runs_are_limited_by_their_run_tag(values) -> None:
    runs = values["concurrency"]["runs"]
    ((gpu_key, gpu_value),) = k8s.GPU_RUN_TAGS.items()
    gpu_limits = [limit for limit in runs["tagConcurrencyLimits"] if limit["key"] == gpu_key]
    # As many rendering runs as GPU nodes: the same number as the step pool's limit.
    pool_limit = values["concurrency"]["pools"]["defaultLimit"]
    assert gpu_limits == [{"key": gpu_key, "value": gpu_value, "limit": pool_limit}]
    # Limits live in one place only: Dagster refuses them in both (tests/deploy/test_instance.py).
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert not any(coordinator["config"]["queuedRunCoordinator"].values())


def test_user_code_image_is_pinned_and_runs_as_non_root(values) -> None:
    deployment = _user_code(values)
    image = deployment["image"]
    assert image["tag"] and str(image["tag"]) != "latest"
    assert image["pullPolicy"] == "IfNotPresent"  # safe only because tags are never reused
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert deployment["podSecurityContext"]["runAsUser"] == 1000  # the Dockerfile's USER
    assert deployment["securityContext"]["allowPrivilegeEscalation"] is False


def test_webserver_replicas_leave_room_for_its_disruption_budget(values) -> None:
    budget = manifests()["PodDisruptionBudget/dagster-webserver"]["spec"]
    assert values["dagsterWebserver"]["replicaCount"] > budget["minAvailable"]
