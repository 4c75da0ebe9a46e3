"""deploy/k8s/shop/: the search service's Deployment runs `shazam serve --api-only` with probes
that wait for the index, the objects around it select its pods and ports, and the ServiceMonitor
in the monitoring values scrapes a Service these manifests create, on its metrics port only.
Every file here is also validated against the Kubernetes API schema by test_k8s_manifests.py."""

from __future__ import annotations

import re

import pytest

from tests.deploy.deploy_files import DEPLOY, K8S, NAMESPACE, VALUES, load, manifests
from tests.deploy.test_k8s_manifests import (
    ALL,
    DAEMON_POD,
    RUN_POD,
    USER_CODE_POD,
    WEBSERVER_POD,
    _allowed,
    _egress_to_ip,
    _policies,
    _port_open,
    _selects,
)

SHOP = manifests(K8S / "shop")
NAME = "shazam-serve"
PORT, METRICS_PORT = 8422, 9422
DEPLOYMENT = SHOP[f"Deployment/{NAME}"]
POD = DEPLOYMENT["spec"]["template"]
SHOP_POD: dict[str, str] = POD["metadata"]["labels"]
(CONTAINER,) = POD["spec"]["containers"]
SERVICE = SHOP[f"Service/{NAME}"]
INGRESS = SHOP[f"Ingress/{NAME}"]
STACK_VALUES = DEPLOY / "monitoring" / "values-kube-prometheus-stack.yaml"


def test_every_shop_object_is_in_the_shazam_namespace_and_named_for_the_service() -> None:
    assert set(SHOP) == {
        f"{kind}/{NAME}"
        for kind in (
            "ServiceAccount",
            "Deployment",
            "Service",
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        )
    } | {
        "NetworkPolicy/allow-serve-from-alb",
        "NetworkPolicy/allow-serve-metrics-from-monitoring",
        "NetworkPolicy/allow-serve-https-egress",
    }
    assert all(obj["metadata"]["namespace"] == NAMESPACE for obj in SHOP.values())


def test_the_container_runs_the_shop_api_alone_with_metrics_on_their_own_port() -> None:
    command = CONTAINER["command"]
    assert command[:3] == ["shazam", "serve", "--api-only"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {
        "--host": "0.0.0.0",
        "--port": str(PORT),
        "--allowed-host": "$(SHAZAM_SEARCH_HOST)",
        "--metrics-host": "0.0.0.0",
        "--metrics-port": str(METRICS_PORT),
    }
    assert CONTAINER["ports"] == [
        {"name": "http", "containerPort": PORT, "protocol": "TCP"},
        {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
    ]
    env = {entry["name"]: entry for entry in CONTAINER["env"]}
    ref = env["SHAZAM_SEARCH_HOST"]["valueFrom"]["configMapKeyRef"]
    assert ref["key"] in ALL[f"ConfigMap/{ref['name']}"]["data"]
    assert env["SHAZAM_STORE_URL"]["valueFrom"]["configMapKeyRef"]["name"] == "shazam-env"
    values = load(VALUES)["dagster-user-deployments"]["deployments"][0]
    assert CONTAINER["image"].rsplit(":", 1)[0] == values["image"]["repository"]  # one image


def test_readiness_and_startup_wait_for_the_index_and_liveness_does_not() -> None:
    assert CONTAINER["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert CONTAINER["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    startup = CONTAINER["startupProbe"]
    assert startup["httpGet"] == {"path": "/readyz", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # a big index loads
    rollout = DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]
    assert rollout["maxUnavailable"] == 0  # old pods serve until new ones have an index


def test_the_pods_meet_the_restricted_pod_security_level_with_a_writable_tmp_only() -> None:
    pod = POD["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = CONTAINER["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    (mount,) = CONTAINER["volumeMounts"]
    (volume,) = POD["spec"]["volumes"]
    assert mount == {"name": volume["name"], "mountPath": "/tmp"} and "emptyDir" in volume
    resources = CONTAINER["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_the_service_account_carries_the_irsa_role_and_no_kubernetes_token() -> None:
    account = SHOP[f"ServiceAccount/{NAME}"]
    assert POD["spec"]["serviceAccountName"] == account["metadata"]["name"]
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/shazam-\w+-serve", role)
    assert account["automountServiceAccountToken"] is False
    assert POD["spec"]["automountServiceAccountToken"] is False


def test_the_service_monitor_scrapes_the_service_these_manifests_create() -> None:
    """The monitoring values select a Service by label in a namespace and scrape its port named
    `metrics`: that Service exists here, its `metrics` port reaches the container's metrics
    port, and no Ingress routes it."""
    (monitor,) = load(STACK_VALUES)["prometheus"]["additionalServiceMonitors"]
    selected = [
        obj
        for obj in ALL.values()
        if obj["kind"] == "Service"
        and obj["metadata"]["namespace"] in monitor["namespaceSelector"]["matchNames"]
        and _selects(monitor["selector"], obj["metadata"].get("labels", {}))
    ]
    assert selected == [SERVICE]
    (endpoint,) = monitor["endpoints"]
    ports = {p["name"]: p for p in SERVICE["spec"]["ports"]}
    assert ports[endpoint["port"]]["targetPort"] == "metrics"
    assert {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"} in CONTAINER[
        "ports"
    ]
    assert _selects({"matchLabels": SERVICE["spec"]["selector"]}, SHOP_POD)
    backends = [
        path["backend"]["service"]
        for obj in ALL.values()
        if obj["kind"] == "Ingress"
        for rule in obj["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert {"name": NAME, "port": {"name": "http"}} in backends
    assert not [b for b in backends if b["name"] == NAME and b["port"] != {"name": "http"}]


def test_the_ingress_is_an_https_alb_health_checking_readiness() -> None:
    annotations = INGRESS["metadata"]["annotations"]
    prefix = "alb.ingress.kubernetes.io/"
    assert INGRESS["spec"]["ingressClassName"] == "alb"
    assert annotations[prefix + "target-type"] == "ip"
    assert annotations[prefix + "ssl-redirect"] == "443"
    assert annotations[prefix + "healthcheck-path"] == "/readyz"
    (rule,) = INGRESS["spec"]["rules"]
    assert rule["host"] == ALL["ConfigMap/shazam-shop-env"]["data"]["SHAZAM_SEARCH_HOST"]


def test_the_autoscaler_and_the_disruption_budget_act_on_the_service_pods() -> None:
    hpa = SHOP[f"HorizontalPodAutoscaler/{NAME}"]["spec"]
    assert (hpa["scaleTargetRef"]["kind"], hpa["scaleTargetRef"]["name"]) == ("Deployment", NAME)
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu" and "cpu" in CONTAINER["resources"]["requests"]
    assert "replicas" not in DEPLOYMENT["spec"]  # the autoscaler owns the count
    pdb = SHOP[f"PodDisruptionBudget/{NAME}"]["spec"]
    assert pdb["minAvailable"] == 1 < hpa["minReplicas"]  # a drain can always proceed
    assert _selects(pdb["selector"], SHOP_POD)
    assert not _selects(pdb["selector"], WEBSERVER_POD)


def _ingress_rules(port: int) -> list[dict]:
    return [
        rule
        for spec in _policies(SHOP_POD, "Ingress")
        for rule in spec.get("ingress", [])
        if _port_open(rule.get("ports", []), port)
    ]


def test_the_metrics_port_admits_prometheus_only_and_the_public_port_the_alb_only() -> None:
    (metrics,) = _ingress_rules(METRICS_PORT)
    (peer,) = metrics["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    (public,) = _ingress_rules(PORT)
    assert all(set(p) == {"ipBlock"} for p in public["from"])  # the ALB's subnets
    for pod in (WEBSERVER_POD, DAEMON_POD, USER_CODE_POD, RUN_POD):
        assert not _allowed(pod, SHOP_POD, PORT) and not _allowed(pod, SHOP_POD, METRICS_PORT)


@pytest.mark.parametrize(
    ("ip", "port", "open_"),
    [("52.216.0.1", 443, True), ("10.20.0.10", 5432, False), ("169.254.169.254", 80, False)],
)
def test_service_egress_is_https_only(ip: str, port: int, open_: bool) -> None:
    assert _egress_to_ip(SHOP_POD, ip, port) is open_
