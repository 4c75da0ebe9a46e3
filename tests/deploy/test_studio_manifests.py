"""deploy/k8s/studio/: the studio's Deployment runs `shazam studio` as the lead's contract says,
with its settings from the ConfigMaps and Secret the templates in deploy/k8s/env/ define, and the
objects around it (ServiceAccount, Service, Ingress, autoscaler, disruption budget, network
policies) select the pods and the port the Deployment makes. Every file here is also validated
against the Kubernetes API schema by test_k8s_manifests.py."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest

from tests.deploy.deploy_files import K8S, NAMESPACE, ROOT, VALUES, load, manifests
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

STUDIO = manifests(K8S / "studio")
NAME = "shazam-studio"
PORT = 8422
DEPLOYMENT = STUDIO[f"Deployment/{NAME}"]
POD = DEPLOYMENT["spec"]["template"]
STUDIO_POD: dict[str, str] = POD["metadata"]["labels"]
(CONTAINER,) = POD["spec"]["containers"]
STUDIO_ENV = ALL["ConfigMap/shazam-studio-env"]["data"]
STUDIO_SECRET = ALL["Secret/shazam-studio-secrets"]["stringData"]
INGRESS = STUDIO[f"Ingress/{NAME}"]
ANNOTATIONS: dict[str, str] = INGRESS["metadata"]["annotations"]
# The lead's contract: what `shazam studio` reads, and where each comes from.
FROM_CONFIGMAP = {
    "SHAZAM_STORE_URL": "shazam-env",
    "SHAZAM_STUDIO_HOST": "shazam-studio-env",  # only for --allowed-host below
    "SHAZAM_STUDIO_PUBLIC_URL": "shazam-studio-env",
    "SHAZAM_OIDC_ISSUER": "shazam-studio-env",
    "SHAZAM_OIDC_CLIENT_ID": "shazam-studio-env",
    "SHAZAM_OIDC_GROUPS_CLAIM": "shazam-studio-env",
}
FROM_SECRET = {
    "SHAZAM_OIDC_CLIENT_SECRET": "shazam-studio-secrets",
    "SHAZAM_STUDIO_SESSION_SECRET": "shazam-studio-secrets",
}


def _env() -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in CONTAINER["env"]}


def test_every_studio_object_is_in_the_shazam_namespace_and_named_for_the_studio() -> None:
    assert set(STUDIO) == {
        f"{kind}/{NAME}"
        for kind in (
            "ServiceAccount",
            "Deployment",
            "Service",
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        )
    } | {"NetworkPolicy/allow-studio-from-alb", "NetworkPolicy/allow-studio-https-egress"}
    assert all(obj["metadata"]["namespace"] == NAMESPACE for obj in STUDIO.values())


def test_the_container_runs_shazam_studio_on_port_8422_for_the_studio_host_only() -> None:
    command = CONTAINER["command"]
    assert command[:2] == ["shazam", "studio"]
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert options == {
        "--host": "0.0.0.0",
        "--port": str(PORT),
        "--allowed-host": "$(SHAZAM_STUDIO_HOST)",  # expanded by Kubernetes from the env
    }
    assert "args" not in CONTAINER
    assert CONTAINER["ports"] == [{"name": "http", "containerPort": PORT, "protocol": "TCP"}]
    values = load(VALUES)["dagster-user-deployments"]["deployments"][0]
    assert CONTAINER["image"].rsplit(":", 1)[0] == values["image"]["repository"]  # one image


def test_liveness_asks_healthz_and_readiness_asks_readyz() -> None:
    assert CONTAINER["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert CONTAINER["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert CONTAINER["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_every_setting_comes_from_the_configmaps_and_the_secret_the_templates_define() -> None:
    env = _env()
    assert set(env) == set(FROM_CONFIGMAP) | set(FROM_SECRET) | {"TMPDIR"}
    for name, configmap in FROM_CONFIGMAP.items():
        ref = env[name]["valueFrom"]["configMapKeyRef"]
        assert ref["name"] == configmap and ref["key"] in ALL[f"ConfigMap/{configmap}"]["data"]
        assert "optional" not in ref  # a missing setting keeps the pod from starting
    for name, secret in FROM_SECRET.items():
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret and ref["key"] in ALL[f"Secret/{secret}"]["stringData"]
    # Credentials never in the ConfigMap, settings never in a literal value.
    assert not set(FROM_SECRET) & set(STUDIO_ENV)
    assert all("value" not in entry for name, entry in env.items() if name != "TMPDIR")


def test_the_host_the_public_url_and_the_ingress_rule_agree() -> None:
    host = STUDIO_ENV["SHAZAM_STUDIO_HOST"]
    assert STUDIO_ENV["SHAZAM_STUDIO_PUBLIC_URL"] == f"https://{host}"
    (rule,) = INGRESS["spec"]["rules"]
    assert rule["host"] == host
    assert STUDIO_ENV["SHAZAM_OIDC_GROUPS_CLAIM"] == "cognito:groups"
    issuer = STUDIO_ENV["SHAZAM_OIDC_ISSUER"]
    assert re.fullmatch(r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[\w-]+", issuer)


def test_the_pods_meet_the_restricted_pod_security_level_with_a_writable_tmp_only() -> None:
    pod = POD["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 1000
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = CONTAINER["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    (mount,) = CONTAINER["volumeMounts"]
    (volume,) = POD["spec"]["volumes"]
    assert mount == {"name": volume["name"], "mountPath": "/tmp"} and "emptyDir" in volume
    resources = CONTAINER["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_replicas_spread_over_zones_and_nodes() -> None:
    spread = POD["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    assert all(_selects(c["labelSelector"], STUDIO_POD) for c in spread)
    assert POD["spec"]["nodeSelector"] == {"shazam.io/node-group": "cpu"}


def test_the_service_account_carries_the_irsa_role_and_no_kubernetes_token() -> None:
    account = STUDIO[f"ServiceAccount/{NAME}"]
    assert POD["spec"]["serviceAccountName"] == account["metadata"]["name"]
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/shazam-\w+-studio", role)
    assert account["automountServiceAccountToken"] is False
    assert POD["spec"]["automountServiceAccountToken"] is False


def test_the_service_and_the_ingress_reach_the_studio_port() -> None:
    service = STUDIO[f"Service/{NAME}"]["spec"]
    assert service["type"] == "ClusterIP"
    assert _selects({"matchLabels": service["selector"]}, STUDIO_POD)
    (port,) = service["ports"]
    assert port["targetPort"] == "http"
    (rule,) = INGRESS["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    assert backend == {"name": NAME, "port": {"name": port["name"]}}


def test_the_ingress_is_an_internet_facing_https_alb_with_ip_targets() -> None:
    assert INGRESS["spec"]["ingressClassName"] == "alb"
    prefix = "alb.ingress.kubernetes.io/"
    assert ANNOTATIONS[prefix + "scheme"] == "internet-facing"
    assert ANNOTATIONS[prefix + "target-type"] == "ip"
    listeners = json.loads(ANNOTATIONS[prefix + "listen-ports"])
    assert {"HTTPS": 443} in listeners and {"HTTP": 80} in listeners
    assert ANNOTATIONS[prefix + "ssl-redirect"] == "443"  # port 80 only redirects
    assert re.fullmatch(
        r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/\S+", ANNOTATIONS[prefix + "certificate-arn"]
    )
    assert ANNOTATIONS[prefix + "ssl-policy"].startswith("ELBSecurityPolicy-TLS13-")
    assert ANNOTATIONS[prefix + "healthcheck-path"] == CONTAINER["livenessProbe"]["httpGet"]["path"]
    assert "tls" not in INGRESS["spec"]  # the certificate is the annotation's


def test_the_namespace_lets_the_controller_gate_pod_readiness_on_the_alb() -> None:
    labels = ALL[f"Namespace/{NAMESPACE}"]["metadata"]["labels"]
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_the_autoscaler_and_the_disruption_budget_act_on_the_studio_pods() -> None:
    hpa = STUDIO[f"HorizontalPodAutoscaler/{NAME}"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment", NAME)
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and "cpu" in CONTAINER["resources"]["requests"]
    assert "replicas" not in DEPLOYMENT["spec"]  # the autoscaler owns the count
    assert _selects(DEPLOYMENT["spec"]["selector"], STUDIO_POD)
    pdb = STUDIO[f"PodDisruptionBudget/{NAME}"]["spec"]
    assert pdb["minAvailable"] == 1 < hpa["spec"]["minReplicas"]  # a drain can always proceed
    assert _selects(pdb["selector"], STUDIO_POD)
    for pod in (WEBSERVER_POD, DAEMON_POD, USER_CODE_POD):
        assert not _selects(pdb["selector"], pod)


def _dev_vpc() -> ipaddress.IPv4Network:
    text = (ROOT / "terraform" / "env" / "dev.tfvars").read_text()
    found = re.search(r'^vpc_cidr\s*=\s*"([^"]+)"', text, re.M)
    assert found is not None
    return ipaddress.IPv4Network(found.group(1))


def _ingress_open(ip: str, port: int) -> bool:
    return any(
        _port_open(rule.get("ports", []), port)
        and any(
            "ipBlock" in peer
            and ipaddress.ip_address(ip) in ipaddress.ip_network(peer["ipBlock"]["cidr"])
            for peer in rule["from"]
        )
        for spec in _policies(STUDIO_POD, "Ingress")
        for rule in spec.get("ingress", [])
    )


def test_only_the_load_balancer_subnets_reach_the_studio_port() -> None:
    """Every ingress peer of the studio pods is a public (load balancer) subnet of the VPC, not
    the VPC: the pods' own addresses (private subnets) stay out."""
    rules = [rule for spec in _policies(STUDIO_POD, "Ingress") for rule in spec.get("ingress", [])]
    assert rules
    vpc = _dev_vpc()
    for rule in rules:
        assert rule["ports"] == [{"protocol": "TCP", "port": PORT}]
        for peer in rule["from"]:
            assert set(peer) == {"ipBlock"}
            subnet = ipaddress.IPv4Network(peer["ipBlock"]["cidr"])
            assert subnet.subnet_of(vpc) and subnet.prefixlen >= 24, subnet
    alb = str(next(ipaddress.IPv4Network(rules[0]["from"][0]["ipBlock"]["cidr"]).hosts()))
    assert _ingress_open(alb, PORT)
    assert not _ingress_open(alb, 9422)  # no other port
    pod_address = str(next(next(vpc.subnets(new_prefix=19)).hosts()))  # private subnets
    assert not _ingress_open(pod_address, PORT)
    for pod in (WEBSERVER_POD, DAEMON_POD, USER_CODE_POD, RUN_POD):
        assert not _allowed(pod, STUDIO_POD, PORT)


@pytest.mark.parametrize(
    ("ip", "port", "open_"),
    [
        ("52.216.0.1", 443, True),  # S3
        ("3.248.0.1", 443, True),  # Cognito, STS
        ("10.20.0.10", 5432, False),  # PostgreSQL: the Dagster pods' only
        ("169.254.169.254", 80, False),  # instance metadata: IRSA instead
    ],
)
def test_studio_egress_is_https_only(ip: str, port: int, open_: bool) -> None:
    assert _egress_to_ip(STUDIO_POD, ip, port) is open_


def test_studio_pods_resolve_names_and_do_not_reach_the_code_server() -> None:
    dns = [
        rule
        for spec in _policies(STUDIO_POD, "Egress")
        for rule in spec.get("egress", [])
        if any(
            peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
            for peer in rule["to"]
        )
    ]
    assert dns and _port_open(dns[0]["ports"], 53, "UDP")
    (deployment,) = load(VALUES)["dagster-user-deployments"]["deployments"]
    assert not _allowed(STUDIO_POD, USER_CODE_POD, deployment["port"])
    assert not _selects({"matchLabels": {"app.kubernetes.io/name": "dagster"}}, STUDIO_POD)
