"""deploy/k8s/: every manifest valid for the Kubernetes API (offline, kubernetes-validate's bundled
schemas, strict: unknown fields fail), and selecting the pods the chart and dagster-k8s create."""

from __future__ import annotations

import copy
import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

import pytest
from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job

from dagster_project.lib import k8s
from shazam_assets.platform import settings
from tests.deploy.chart_schema import KUBERNETES_VERSION
from tests.deploy.deploy_files import (
    INSTANCE,
    NAMESPACE,
    RELEASE,
    ROOT,
    VALUES,
    check_script,
    load,
    manifests,
)

ALL = manifests()

# Pod labels of the chart's Deployments (release `dagster`) and of dagster-k8s's Jobs.
CHART_POD = {"app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": RELEASE}
WEBSERVER_POD = {**CHART_POD, "component": "dagster-webserver"}
DAEMON_POD = {**CHART_POD, "component": "dagster-daemon"}
USER_CODE_POD = {**CHART_POD, "component": "user-deployments", "deployment": "shazam"}


def _job_pod(component: str) -> dict[str, str]:
    """The labels dagster-k8s gives a run (`run_worker`) or step (`step_worker`) pod."""
    job = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(job_image="shazam:test"),
        args=[],
        job_name="dagster-run-test",
        component=component,
    )
    return dict(job.spec.template.metadata.labels)


RUN_POD = _job_pod("run_worker")
STEP_POD = _job_pod("step_worker")


def _errors(resource: Mapping[str, Any]) -> list[str]:
    return check_script().kubernetes_errors([resource], version=KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", sorted(ALL))
def test_manifest_is_valid_for_the_kubernetes_api(name: str) -> None:
    assert _errors(ALL[name]) == []


def test_validation_is_strict_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelled field or a wrong type fails, from the bundled schemas: no socket opens."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("schema validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    broken = copy.deepcopy(ALL["PodDisruptionBudget/dagster-webserver"])
    broken["spec"]["minAvailabel"] = broken["spec"].pop("minAvailable")
    (error,) = _errors(broken)
    assert "minAvailabel" in error
    bad_port = copy.deepcopy(ALL["NetworkPolicy/allow-postgres-egress"])
    bad_port["spec"]["egress"][0]["ports"][0]["port"] = [5432]
    (error,) = _errors(bad_port)
    assert "spec.egress.0.ports.0.port" in error
    assert _errors(ALL["DaemonSet/nvidia-device-plugin"]) == []


def test_every_namespaced_manifest_is_in_the_shazam_namespace() -> None:
    for name, resource in ALL.items():
        if resource["kind"] == "Namespace":
            assert resource["metadata"]["name"] == NAMESPACE
        elif resource["kind"] == "DaemonSet":  # the device plugin, a cluster add-on
            assert resource["metadata"]["namespace"] == "kube-system"
        else:
            assert resource["metadata"]["namespace"] == NAMESPACE, name


def test_namespace_enforces_pod_security() -> None:
    labels = ALL[f"Namespace/{NAMESPACE}"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] in {"baseline", "restricted"}
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and In/NotIn/Exists/DoesNotExist)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return all(_matches(expression, labels) for expression in selector.get("matchExpressions", []))


def _matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    if operator in {"In", "NotIn"}:
        return (labels.get(key) in expression["values"]) is (operator == "In")
    assert operator in {"Exists", "DoesNotExist"}, operator
    return (key in labels) is (operator == "Exists")


def _policies(pod: Mapping[str, str], direction: str) -> list[dict[str, Any]]:
    return [
        policy["spec"]
        for policy in ALL.values()
        if policy["kind"] == "NetworkPolicy"
        and direction in policy["spec"]["policyTypes"]
        and _selects(policy["spec"]["podSelector"], pod)
    ]


def _peer_matches(peer: Mapping[str, Any], pod: Mapping[str, str] | None, ip: str | None) -> bool:
    if "ipBlock" in peer:
        return ip is not None and ipaddress.ip_address(ip) in ipaddress.ip_network(
            peer["ipBlock"]["cidr"]
        )
    if pod is None or "namespaceSelector" in peer:  # other namespaces: tested separately
        return False
    return _selects(peer["podSelector"], pod)


def _port_open(rules: list[dict[str, Any]], port: int, protocol: str = "TCP") -> bool:
    return any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in rules)


def _allowed(source: Mapping[str, str], target: Mapping[str, str], port: int) -> bool:
    """Both sides agree: an egress rule of the source and an ingress rule of the target."""
    egress = any(
        _port_open(rule.get("ports", []), port)
        and any(_peer_matches(peer, target, None) for peer in rule["to"])
        for spec in _policies(source, "Egress")
        for rule in spec.get("egress", [])
    )
    ingress = any(
        _port_open(rule.get("ports", []), port)
        and any(_peer_matches(peer, source, None) for peer in rule["from"])
        for spec in _policies(target, "Ingress")
        for rule in spec.get("ingress", [])
    )
    return egress and ingress


def test_default_deny_covers_every_pod_both_ways() -> None:
    deny = ALL["NetworkPolicy/default-deny-all"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


@pytest.mark.parametrize(
    ("source", "allowed"),
    [(WEBSERVER_POD, True), (DAEMON_POD, True), (RUN_POD, True), (STEP_POD, False)],
    ids=["webserver", "daemon", "run", "step"],
)
def test_user_code_grpc_is_open_to_webserver_daemon_and_runs_only(source, allowed) -> None:
    (deployment,) = load(VALUES)["dagster-user-deployments"]["deployments"]
    assert _allowed(source, USER_CODE_POD, deployment["port"]) is allowed
    assert not _allowed(source, USER_CODE_POD, 5432)


def test_webserver_ingress_only_from_the_ingress_controller_namespace() -> None:
    (rule,) = [
        rule for spec in _policies(WEBSERVER_POD, "Ingress") for rule in spec.get("ingress", [])
    ]
    (peer,) = rule["from"]
    assert set(peer) == {"namespaceSelector"}  # no pod of this namespace, no other peer
    assert set(peer["namespaceSelector"]["matchLabels"]) == {"kubernetes.io/metadata.name"}
    assert _port_open(rule["ports"], 80)
    for pod in (DAEMON_POD, USER_CODE_POD, RUN_POD):
        assert not _allowed(pod, WEBSERVER_POD, 80)


def _egress_to_ip(pod: Mapping[str, str], ip: str, port: int) -> bool:
    return any(
        _port_open(rule.get("ports", []), port)
        and any(_peer_matches(peer, None, ip) for peer in rule["to"])
        for spec in _policies(pod, "Egress")
        for rule in spec.get("egress", [])
    )


@pytest.mark.parametrize("pod", [WEBSERVER_POD, DAEMON_POD, USER_CODE_POD, RUN_POD, STEP_POD])
def test_dagster_pods_reach_dns_postgres_and_https_only(pod) -> None:
    dns = [
        rule
        for spec in _policies(pod, "Egress")
        for rule in spec.get("egress", [])
        if any(
            peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
            for peer in rule["to"]
        )
    ]
    assert dns and _port_open(dns[0]["ports"], 53, "UDP") and _port_open(dns[0]["ports"], 53)
    rds = ALL["NetworkPolicy/allow-postgres-egress"]["spec"]["egress"][0]["to"][0]["ipBlock"]
    inside_rds = str(next(ipaddress.ip_network(rds["cidr"]).hosts()))
    assert _egress_to_ip(pod, inside_rds, 5432)
    assert _egress_to_ip(pod, "52.216.0.1", 443)  # an S3 address
    assert not _egress_to_ip(pod, "52.216.0.1", 5432)  # PostgreSQL only inside the RDS CIDR
    assert not _egress_to_ip(pod, "169.254.169.254", 80)  # no instance metadata: IRSA instead


def test_webserver_disruption_budget_selects_the_charts_webserver_pods() -> None:
    spec = ALL["PodDisruptionBudget/dagster-webserver"]["spec"]
    assert _selects(spec["selector"], WEBSERVER_POD)
    assert not _selects(spec["selector"], DAEMON_POD)


def test_env_configmap_and_secret_carry_every_setting_the_pipeline_reads() -> None:
    configmap = ALL[f"ConfigMap/{k8s.ENV_CONFIG_MAP}"]["data"]
    secret = ALL[f"Secret/{k8s.ENV_SECRET}"]["stringData"]
    pipeline = set(settings.embedded(ROOT).environment()) - {
        "DAGSTER_HOME"
    }  # the chart sets DAGSTER_HOME
    assert pipeline <= set(configmap) | set(secret)
    assert "SHAZAM_NOTIFY_URL" in secret  # a webhook URL is a credential
    assert all(isinstance(value, str) for value in configmap.values())  # ConfigMaps hold strings
    launcher = load(INSTANCE)["run_launcher"]["config"]
    assert launcher["env_config_maps"] == [k8s.ENV_CONFIG_MAP]
    assert launcher["env_secrets"] == [k8s.ENV_SECRET]


def test_device_plugin_runs_on_gpu_nodes_despite_their_taint() -> None:
    pod = ALL["DaemonSet/nvidia-device-plugin"]["spec"]["template"]["spec"]
    gpu_step = k8s.GPU_STEP_K8S_CONFIG["pod_spec_config"]
    assert pod["nodeSelector"] == gpu_step["node_selector"]
    assert gpu_step["tolerations"][0] in pod["tolerations"]
    (container,) = pod["containers"]
    assert container["image"].startswith("nvcr.io/nvidia/k8s-device-plugin:v")
    assert {"mountPath": "/var/lib/kubelet/device-plugins", "name": "device-plugin"} in container[
        "volumeMounts"
    ]
