"""Check what `helm template` renders from deploy/helm/values.yaml before it reaches a cluster.

    helm template dagster dagster/dagster --version 1.13.27 -n shazam \\
        -f deploy/helm/values.yaml > rendered.yaml
    python deploy/scripts/check_rendered_chart.py rendered.yaml --kubernetes-version 1.33.0

Two checks, both offline:
- every manifest against the Kubernetes API's JSON schema (kubernetes-validate's bundled copy);
- the instance ConfigMap's dagster.yaml against Dagster's own instance schema, and each
  configurable class in it (run launcher, run coordinator, compute logs...) against that class's
  config schema. Helm accepts values that Dagster then refuses at startup (run limits both in
  the run coordinator and under `concurrency`, say); this finds them before the webserver and
  the daemon crash-loop.
CI runs it on the real chart (.github/workflows/ci.yml); tests/deploy imports these functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

# Instance keys whose value is a configurable class: {module, class, config}.
CLASS_KEYS = (
    "run_launcher",
    "run_coordinator",
    "compute_logs",
    "run_storage",
    "event_log_storage",
    "schedule_storage",
    "scheduler",
    "local_artifact_storage",
)


def load_resources(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a multi-document YAML stream (as `helm template` prints)."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def instance_yaml(resources: Sequence[Mapping[str, Any]]) -> str:
    """The dagster.yaml of the chart's instance ConfigMap (`<release>-instance`)."""
    for resource in resources:
        name = str(resource.get("metadata", {}).get("name", ""))
        data = resource.get("data") or {}
        if (
            resource.get("kind") == "ConfigMap"
            and name.endswith("-instance")
            and ("dagster.yaml" in data)
        ):
            return str(data["dagster.yaml"])
    raise LookupError("no ConfigMap `<release>-instance` with a dagster.yaml key")


def configurable_class(module: str, name: str) -> Any:
    """The class an instance entry names; `dagster.core.x` is the public alias of `dagster._core.x`."""
    from dagster._utils import convert_dagster_submodule_name

    return getattr(importlib.import_module(convert_dagster_submodule_name(module, "private")), name)


def class_config_errors(key: str, entry: Mapping[str, Any]) -> list[str]:
    """Errors of one {module, class, config} entry against its class's own config schema."""
    from dagster._config import validate_config

    try:
        klass = configurable_class(str(entry["module"]), str(entry["class"]))
    except (ImportError, AttributeError) as error:
        return [f"{key}: cannot load {entry.get('module')}.{entry.get('class')}: {error}"]
    result = validate_config(klass.config_type(), entry.get("config") or {})
    return [f"{key}: {error.message}" for error in result.errors or []]


def instance_errors(dagster_yaml: str) -> list[str]:
    """Everything Dagster would refuse in this dagster.yaml when an instance loads it."""
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    with tempfile.TemporaryDirectory() as home:
        Path(home, "dagster.yaml").write_text(dagster_yaml)
        try:
            dagster_instance_config(home)
        except DagsterInvalidConfigError as error:
            details = [e.message for e in error.errors]
            return [f"instance: {error.args[0]}", *details]
    config = yaml.safe_load(dagster_yaml) or {}
    errors: list[str] = []
    for key in CLASS_KEYS:
        if key in config:
            errors.extend(class_config_errors(key, config[key]))
    return errors


def kubernetes_errors(
    resources: Sequence[Mapping[str, Any]], *, version: str, strict: bool
) -> list[str]:
    """Each resource that the Kubernetes API schema of `version` rejects, with the reason.

    `strict` also rejects fields the API does not know (typos that the server would drop)."""
    import kubernetes_validate

    errors = []
    for resource in resources:
        name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(dict(resource), version, strict)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            errors.append(f"{name}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{name}: {error.message}")
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rendered", type=Path, help="output of `helm template`")
    parser.add_argument("--kubernetes-version", default="1.33.0")
    args = parser.parse_args(argv)
    resources = load_resources(args.rendered.read_text())
    errors = kubernetes_errors(resources, version=args.kubernetes_version, strict=False)
    errors += instance_errors(instance_yaml(resources))
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    print(f"{len(resources)} manifests checked, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
