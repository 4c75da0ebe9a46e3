"""Paths of the deployment files under test, and loaders for them (YAML, the check script)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VALUES = DEPLOY / "helm" / "values.yaml"
INSTANCE = DEPLOY / "dagster" / "dagster.yaml"
WORKSPACE = DEPLOY / "dagster" / "workspace.yaml"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CHECK_SCRIPT = DEPLOY / "scripts" / "check_rendered_chart.py"
NAMESPACE = "shazam"
RELEASE = "dagster"  # the Helm release name deploy/README.md and CI install


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def manifests(folder: Path = K8S) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object under `folder` (recursively), keyed `<Kind>/<name>`."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


def check_script() -> ModuleType:
    """deploy/scripts/check_rendered_chart.py as a module (deploy/ is no package)."""
    spec = importlib.util.spec_from_file_location("check_rendered_chart", CHECK_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
