"""The keys of the official Dagster Helm chart's values (dagster/dagster 1.13.x), for offline checks.

The chart ships a values.schema.json generated from pydantic models (helm/dagster/schema in the
dagster repository); neither the chart nor those models come with the dagster packages on PyPI,
and tests run without network, so the parts of that schema SHAZAM's values.yaml touches are
transcribed here (field names and types, not the models' code). Where the chart's schema
points at a Kubernetes type (probes, resources, security contexts, tolerations...), the value
is checked against that type from the Kubernetes API schema kubernetes-validate bundles, in
strict mode: an unknown field fails, as `kubectl apply --validate=strict` would fail it.
Sections SHAZAM does not use (celery, rabbitmq, redis, flower, ingress...) are accepted as any
value. CI renders the real chart too (.github/workflows/ci.yml, deploy/scripts/).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import referencing

KUBERNETES_VERSION = "1.33.0"


@dataclass(frozen=True)
class K8s:
    """A value of a Kubernetes API type; `extra` are the chart's own keys it strips first."""

    definition: str  # e.g. "io.k8s.api.core.v1.Probe"
    extra: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclass(frozen=True)
class MapOf:
    """Free-form keys (labels, annotations, node selectors), each value of one spec."""

    value: Spec


@dataclass(frozen=True)
class OneOf:
    options: tuple[Spec, ...]


@dataclass(frozen=True)
class Enum:
    values: frozenset[str]


ANY = object()  # the chart's schema accepts anything here (or SHAZAM does not use it)
# What a value may be: a mapping of keys, one of the classes above, a Python type, or ANY.
Spec = object

STRING_SOURCE = OneOf((str, {"env": str}))
INT_SOURCE = OneOf((int, {"env": str}))
STRINGS = MapOf(str)
PROBE = K8s("io.k8s.api.core.v1.Probe")
PROBE_WITH_ENABLED = K8s("io.k8s.api.core.v1.Probe", frozenset({"enabled"}))
IMAGE = {
    "repository": str,
    "tag": (str, int),
    "pullPolicy": Enum(frozenset({"Always", "IfNotPresent", "Never"})),
}
CONFIGURABLE_CLASS = {"module": str, "class": str, "config": dict}

# Keys every pod-bearing component of the chart shares.
POD = {
    "env": OneOf((STRINGS, ListOf(K8s("io.k8s.api.core.v1.EnvVar")))),
    "envConfigMaps": ListOf(K8s("io.k8s.api.core.v1.ConfigMapEnvSource")),
    "envSecrets": ListOf(K8s("io.k8s.api.core.v1.SecretEnvSource")),
    "annotations": STRINGS,
    "labels": STRINGS,
    "nodeSelector": STRINGS,
    "affinity": K8s("io.k8s.api.core.v1.Affinity"),
    "tolerations": ListOf(K8s("io.k8s.api.core.v1.Toleration")),
    "podSecurityContext": K8s("io.k8s.api.core.v1.PodSecurityContext"),
    "securityContext": K8s("io.k8s.api.core.v1.SecurityContext"),
    "resources": K8s("io.k8s.api.core.v1.ResourceRequirements"),
    "livenessProbe": PROBE,
    "readinessProbe": PROBE,
    "startupProbe": PROBE_WITH_ENABLED,
    "volumeMounts": ListOf(K8s("io.k8s.api.core.v1.VolumeMount")),
    "volumes": ListOf(K8s("io.k8s.api.core.v1.Volume")),
    "schedulerName": str,
}
CHART_COMPONENT = {
    **POD,
    "image": IMAGE,
    "deploymentLabels": STRINGS,
    "checkDbReadyInitContainer": bool,
    "initContainerResources": K8s("io.k8s.api.core.v1.ResourceRequirements"),
    "extraContainers": ListOf(K8s("io.k8s.api.core.v1.Container")),
    "extraPrependedInitContainers": ListOf(K8s("io.k8s.api.core.v1.Container")),
    "logFormat": str,
}

WEBSERVER = {
    **CHART_COMPONENT,
    "replicaCount": int,
    "nameOverride": str,
    "pathPrefix": str,
    "service": {"type": str, "port": int, "annotations": STRINGS},
    "workspace": {
        "enabled": bool,
        "servers": ListOf({"host": str, "port": int, "name": str, "ssl": bool}),
        "externalConfigmap": str,
    },
    "enableReadOnly": bool,
    "dbStatementTimeout": int,
    "dbPoolRecycle": int,
    "dbPoolMaxOverflow": int,
    "logLevel": str,
}

TAG_CONCURRENCY_LIMIT = {
    "key": str,
    "value": OneOf((str, {"applyLimitPerUniqueValue": bool})),
    "limit": int,
}
RUN_COORDINATOR = {
    "enabled": bool,
    "type": Enum(frozenset({"QueuedRunCoordinator", "CustomRunCoordinator"})),
    "config": {
        "queuedRunCoordinator": {
            "maxConcurrentRuns": INT_SOURCE,
            "tagConcurrencyLimits": ListOf(TAG_CONCURRENCY_LIMIT),
            "dequeueIntervalSeconds": INT_SOURCE,
            "dequeueNumWorkers": INT_SOURCE,
            "dequeueUseThreads": bool,
            "blockOpConcurrencyLimitedRuns": {"enabled": bool, "opConcurrencySlotBuffer": int},
        },
        "customRunCoordinator": CONFIGURABLE_CLASS,
    },
}
WORKER_POOL = {"useThreads": bool, "numWorkers": int, "numSubmitWorkers": int}
DAEMON = {
    **CHART_COMPONENT,
    "enabled": bool,
    "runCoordinator": RUN_COORDINATOR,
    "heartbeatTolerance": int,
    # The schema types this as a free mapping; these are the keys the instance template reads.
    "runMonitoring": {
        "enabled": bool,
        "startTimeoutSeconds": int,
        "cancelTimeoutSeconds": int,
        "maxRuntimeSeconds": int,
        "maxResumeRunAttempts": int,
        "pollIntervalSeconds": int,
        "freeSlotsAfterRunEndSeconds": int,
    },
    "runRetries": {"enabled": bool, "maxRetries": int, "retryOnAssetOrOpFailure": bool},
    "sensors": WORKER_POOL,
    "schedules": WORKER_POOL,
    "backfills": WORKER_POOL,
}

USER_DEPLOYMENT = {
    **POD,
    "name": str,
    "image": IMAGE,
    "dagsterApiGrpcArgs": ListOf(str),
    "codeServerArgs": ListOf(str),
    "includeConfigInLaunchedRuns": {"enabled": bool},
    "deploymentNamespace": str,
    "port": int,
    "replicaCount": int,
    "readinessProbe": PROBE_WITH_ENABLED,
    "service": {"annotations": STRINGS},
    "initContainers": ListOf(K8s("io.k8s.api.core.v1.Container")),
    "sidecarContainers": ListOf(K8s("io.k8s.api.core.v1.Container")),
    "deploymentStrategy": K8s("io.k8s.api.apps.v1.DeploymentStrategy"),
}

RUN_LAUNCHER = {
    "type": Enum(frozenset({"K8sRunLauncher", "CeleryK8sRunLauncher", "CustomRunLauncher"})),
    "config": {
        "k8sRunLauncher": {
            "image": IMAGE,
            "imagePullPolicy": IMAGE["pullPolicy"],
            "jobNamespace": str,
            "loadInclusterConfig": bool,
            "kubeconfigFile": str,
            "envConfigMaps": POD["envConfigMaps"],
            "envSecrets": POD["envSecrets"],
            "envVars": ListOf(str),
            "volumeMounts": POD["volumeMounts"],
            "volumes": POD["volumes"],
            "labels": STRINGS,
            "failPodOnRunFailure": bool,
            "resources": POD["resources"],
            "schedulerName": str,
            "securityContext": POD["securityContext"],
            # Passed to dagster-k8s as-is (camelCase or snake_case Kubernetes fields).
            "runK8sConfig": {
                "containerConfig": dict,
                "podSpecConfig": dict,
                "podTemplateSpecMetadata": dict,
                "jobSpecConfig": dict,
                "jobMetadata": dict,
            },
        },
        "celeryK8sRunLauncher": ANY,
        "customRunLauncher": CONFIGURABLE_CLASS,
    },
}

COMPUTE_LOG_MANAGER = {
    "type": Enum(
        frozenset(
            {
                "NoOpComputeLogManager",
                "AzureBlobComputeLogManager",
                "GCSComputeLogManager",
                "S3ComputeLogManager",
                "CustomComputeLogManager",
            }
        )
    ),
    "config": {
        "s3ComputeLogManager": {
            "bucket": STRING_SOURCE,
            "localDir": STRING_SOURCE,
            "prefix": STRING_SOURCE,
            "useSsl": bool,
            "verify": bool,
            "verifyCertPath": STRING_SOURCE,
            "endpointUrl": STRING_SOURCE,
            "skipEmptyFiles": bool,
            "uploadInterval": int,
            "uploadExtraArgs": dict,
            "showUrlOnly": bool,
            "region": STRING_SOURCE,
        },
        "azureBlobComputeLogManager": ANY,
        "gcsComputeLogManager": ANY,
        "customComputeLogManager": CONFIGURABLE_CLASS,
    },
}

CHART_VALUES: Mapping[str, Spec] = {
    "global": {
        "postgresqlSecretName": str,
        "dagsterHome": str,
        "serviceAccountName": str,
        "celeryConfigSecretName": str,
    },
    "serviceAccount": {"create": bool, "name": str, "annotations": STRINGS},
    "generatePostgresqlPasswordSecret": bool,
    "generateCeleryConfigSecret": bool,
    "imagePullSecrets": ListOf(K8s("io.k8s.api.core.v1.LocalObjectReference")),
    "postgresql": {
        "image": IMAGE,
        "enabled": bool,
        "postgresqlHost": str,
        "postgresqlUsername": str,
        "postgresqlPassword": str,
        "postgresqlDatabase": str,
        "postgresqlParams": dict,
        "postgresqlScheme": str,
        "service": {"port": int},
    },
    "dagsterWebserver": WEBSERVER,
    "dagster-user-deployments": {
        "enabled": bool,
        "enableSubchart": bool,
        "imagePullSecrets": ListOf(K8s("io.k8s.api.core.v1.LocalObjectReference")),
        "deployments": ListOf(USER_DEPLOYMENT),
    },
    "runLauncher": RUN_LAUNCHER,
    "dagsterDaemon": DAEMON,
    "computeLogManager": COMPUTE_LOG_MANAGER,
    "pythonLogs": {
        "pythonLogLevel": Enum(
            frozenset({"CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET"})
        ),
        "managedPythonLoggers": ListOf(str),
        "dagsterHandlerConfig": dict,
    },
    "telemetry": {"enabled": bool},
    "concurrency": {
        "enabled": bool,
        "pools": {
            "defaultLimit": int,
            "granularity": Enum(frozenset({"op", "run"})),
            "opGranularityRunBuffer": int,
        },
        "runs": {"maxConcurrentRuns": int, "tagConcurrencyLimits": ListOf(TAG_CONCURRENCY_LIMIT)},
    },
    "additionalInstanceConfig": dict,
    "rabbitmq": ANY,
    "redis": ANY,
    "flower": ANY,
    "ingress": ANY,
    "scheduler": ANY,
    "busybox": ANY,
    "migrate": ANY,
    "retention": ANY,
}


@functools.cache
def _kubernetes_registry() -> tuple[str, referencing.Registry]:
    """(base URI, registry) of the Kubernetes API definitions kubernetes-validate bundles."""
    folder = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = folder / f"v{KUBERNETES_VERSION}-local-strict" / "_definitions.json"
    definitions = json.loads(path.read_text())
    resource = referencing.Resource.from_contents(definitions)
    return definitions["$id"], resource @ referencing.Registry()


def _kubernetes_errors(value: Any, spec: K8s, path: str) -> list[str]:
    base, registry = _kubernetes_registry()
    if isinstance(value, Mapping):
        value = {key: item for key, item in value.items() if key not in spec.extra}
    schema = {"$ref": f"{base}#/$defs/{spec.definition}"}
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    return [
        f"{'.'.join([path, *map(str, error.path)])}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def errors(value: Any, spec: Spec = CHART_VALUES, path: str = "values") -> list[str]:
    """Every key the chart does not know and every value of the wrong type, with its path.

    A null value is accepted anywhere: for Helm it unsets the chart's default."""
    if value is None or spec is ANY:
        return []
    if isinstance(spec, Mapping):
        if not isinstance(value, Mapping):
            return [f"{path}: expected a mapping, got {value!r}"]
        found = []
        for key, item in value.items():
            if key in spec:
                found += errors(item, spec[key], f"{path}.{key}")
            else:
                found.append(f"{path}: unknown key {key!r} (not in the chart's schema)")
        return found
    return _leaf_errors(value, spec, path)


def _leaf_errors(value: Any, spec: Spec, path: str) -> list[str]:
    if isinstance(spec, K8s):
        return _kubernetes_errors(value, spec, path)
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [e for i, item in enumerate(value) for e in errors(item, spec.item, f"{path}[{i}]")]
    if isinstance(spec, MapOf):
        if not isinstance(value, Mapping):
            return [f"{path}: expected a mapping, got {value!r}"]
        return [e for key, item in value.items() for e in errors(item, spec.value, f"{path}.{key}")]
    if isinstance(spec, OneOf):
        if any(not errors(value, option, path) for option in spec.options):
            return []
        return [f"{path}: {value!r} matches none of the chart's types for it"]
    if isinstance(spec, Enum):
        return (
            [] if value in spec.values else [f"{path}: {value!r} not one of {sorted(spec.values)}"]
        )
    assert isinstance(spec, type | tuple), spec
    if isinstance(value, bool) and spec is int:  # YAML true is no integer
        return [f"{path}: expected an integer, got {value!r}"]
    return [] if isinstance(value, spec) else [f"{path}: expected {spec}, got {value!r}"]
