"""Every file under deploy/ is read by a test: a new file fails here until a test checks it
(terraform/ has the same guard in tests/test_terraform.py)."""

from __future__ import annotations

from tests.deploy.deploy_files import (
    CHECK_SCRIPT,
    DEPLOY,
    DOCKERFILE,
    INSTANCE,
    K8S,
    VALUES,
    WORKSPACE,
)

CHECKED = {
    VALUES: "test_helm_values.py, tests/dagster_project/test_k8s.py",
    INSTANCE: "test_instance.py, tests/dagster_project/test_postgres_instance.py",
    WORKSPACE: "test_instance.py",
    DOCKERFILE: "test_dockerfile.py",
    DOCKERFILE.parent / "Dockerfile.dockerignore": "test_dockerfile.py",
    CHECK_SCRIPT: "test_instance.py (imported), run by CI's lint job",
    DEPLOY / "README.md": "documentation",
    DEPLOY / "monitoring" / "alerts.yaml": "test_monitoring.py (promtool check rules)",
    DEPLOY / "monitoring" / "alerts.test.yaml": "test_monitoring.py (promtool test rules)",
    DEPLOY / "monitoring" / "values-kube-prometheus-stack.yaml": "test_monitoring.py",
    DEPLOY / "monitoring" / "kustomization.yaml": "test_monitoring.py",
    DEPLOY / "monitoring" / "values-cloudwatch-exporter.yaml": "test_monitoring.py",
    **{p: "test_monitoring.py" for p in (DEPLOY / "monitoring" / "dashboards").glob("*.json")},
}


def test_every_deploy_file_has_a_test() -> None:
    files = {p for p in DEPLOY.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    manifests = {p for p in K8S.rglob("*.yaml")}  # every one validated by test_k8s_manifests.py
    unchecked = sorted(str(p.relative_to(DEPLOY)) for p in files - set(CHECKED) - manifests)
    assert unchecked == [], f"deploy files no test reads: {unchecked}"
    assert all(p.is_file() for p in CHECKED), "a checked file was removed; update CHECKED"
