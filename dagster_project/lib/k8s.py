"""Where Dagster steps run on Kubernetes: the turntable render on GPU nodes, the rest on CPU nodes.

Production runs every step as its own Kubernetes Job (`k8s_job_executor`); a step's pod gets
the `dagster-k8s/config` op tag merged over the executor's defaults. Per-op tags reach step
pods only under that executor (dagster issue #22865) and Kubernetes has no cluster-wide default
node selector (#3958), so both placements are spelled out here:
- every step pod: the CPU node group and modest requests (`CPU_STEP_K8S_CONFIG`, the executor's
  `step_k8s_config`);
- the render step (`op_tags=GPU_STEP_TAGS`): one `nvidia.com/gpu`, the GPU node group, a
  toleration of the GPU nodes' `nvidia.com/gpu:NoSchedule` taint, and the `gpu` concurrency
  pool (at most `concurrency.pools.defaultLimit` renders at once, deploy/helm/values.yaml).

The labels, taint, ConfigMap and Secret names must match deploy/helm/values.yaml and the node
groups (deploy/README.md); tests/dagster_project/test_k8s.py checks both.

The embedded default (a checkout, `shazam dev`) keeps the in-process executor: `executor()` reads
`SHAZAM_EXECUTOR` when definitions load, and imports dagster-k8s only when it says `k8s`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

K8S_CONFIG_TAG = "dagster-k8s/config"  # dagster_k8s.job.USER_DEFINED_K8S_CONFIG_KEY
POOL_TAG = "dagster/concurrency_key"  # a step's concurrency pool, shared by every run

NODE_GROUP_LABEL = "shazam.io/node-group"  # label on every worker node: "cpu" or "gpu"
CPU_NODE_GROUP = "cpu"
GPU_NODE_GROUP = "gpu"
GPU_RESOURCE = "nvidia.com/gpu"  # extended resource of the NVIDIA device plugin; also the taint key
GPU_POOL = "gpu"

ENV_CONFIG_MAP = "shazam-env"  # SHAZAM_* settings (deploy/README.md)
ENV_SECRET = "shazam-secrets"  # SHAZAM_NOTIFY_URL and other credentials
EXECUTOR_ENV = "SHAZAM_EXECUTOR"  # "in_process" (default) or "k8s"
NAMESPACE_ENV = "SHAZAM_K8S_NAMESPACE"  # step Jobs' namespace; unset: the run launcher's

# Every step pod: CPU nodes. No CPU limit (throttling slows renders for nothing); memory is
# limited so a leaking step is killed instead of its neighbours. QA renders on the CPU (llvmpipe).
CPU_STEP_K8S_CONFIG: dict[str, Any] = {
    "container_config": {
        "resources": {
            "requests": {"cpu": "2", "memory": "4Gi"},
            "limits": {"memory": "8Gi"},
        }
    },
    "pod_spec_config": {"node_selector": {NODE_GROUP_LABEL: CPU_NODE_GROUP}},
}

# The render step: deep-merged over CPU_STEP_K8S_CONFIG by dagster-k8s, so its node group and
# requests replace the CPU ones and the toleration is added. Sized to fit a 4 vCPU / 16 GiB GPU
# node (g4dn.xlarge, g5.xlarge) after the kubelet's reservation.
GPU_STEP_K8S_CONFIG: dict[str, Any] = {
    "container_config": {
        "resources": {
            "requests": {"cpu": "3", "memory": "12Gi", GPU_RESOURCE: "1"},
            "limits": {"memory": "12Gi", GPU_RESOURCE: "1"},
        },
        # The NVIDIA container runtime mounts the driver's Vulkan ICD only with `graphics`.
        "env": [{"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "graphics,compute,utility"}],
    },
    "pod_spec_config": {
        "node_selector": {NODE_GROUP_LABEL: GPU_NODE_GROUP},
        "tolerations": [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}],
    },
}

GPU_STEP_TAGS: dict[str, str] = {
    K8S_CONFIG_TAG: json.dumps(GPU_STEP_K8S_CONFIG),
    POOL_TAG: GPU_POOL,
}
"""Op tags of a GPU step: `@dg.asset(..., op_tags=GPU_STEP_TAGS)`."""

GPU_RUN_TAGS: dict[str, str] = {"shazam/gpu": "true"}
"""Run tags of a job that renders: the run queue admits few of them at once (values.yaml)."""


def k8s_executor_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """`k8s_job_executor` config: step pods on CPU nodes, env from the chart's ConfigMap and
    Secret, images by unique tag (so `IfNotPresent` never runs a stale one)."""
    config: dict[str, Any] = {
        "image_pull_policy": "IfNotPresent",
        "env_config_maps": [ENV_CONFIG_MAP],
        "env_secrets": [ENV_SECRET],
        "step_k8s_config": CPU_STEP_K8S_CONFIG,
    }
    namespace = environ.get(NAMESPACE_ENV, "").strip()
    if namespace:
        config["job_namespace"] = namespace
    return config


def executor(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor the code location runs with, chosen by `SHAZAM_EXECUTOR` when definitions load:
    unset or `in_process` keeps the embedded default; `k8s` runs each step as a Kubernetes Job."""
    env = os.environ if environ is None else environ
    kind = env.get(EXECUTOR_ENV, "").strip().lower() or "in_process"
    if kind == "in_process":
        return dg.in_process_executor
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured(k8s_executor_config(env), name="shazam_k8s")
    raise ValueError(f"{EXECUTOR_ENV}={kind!r}: expected 'in_process' or 'k8s'")
