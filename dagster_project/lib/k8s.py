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

Production (deploy/helm/values.yaml) runs every step of a run inside its run pod
(`SHAZAM_EXECUTOR=in_process`) and renders turntables in a GPU pod of their own, launched through
Dagster Pipes (`SHAZAM_RENDER_POD=k8s`, `render_pod()`): an ASIN costs a run pod per job plus one
GPU pod, instead of a pod per step. The GPU pod is `GPU_STEP_K8S_CONFIG` spelled as a pod
(`gpu_pod_spec`), runs the run's own image with `RENDER_POD_ARGS` and reports the turntable's
materialization back over the Pipes protocol (its log stream). `SHAZAM_EXECUTOR=k8s` (a Job per
step, the render step on a GPU node through its op tags) stays available.
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
NAMESPACE_ENV = "SHAZAM_K8S_NAMESPACE"  # step Jobs' and GPU pods' namespace; unset: the run's
RENDER_POD_ENV = "SHAZAM_RENDER_POD"  # "" (default): render in the step; "k8s": a GPU pod (Pipes)
SERVICE_ACCOUNT_ENV = "SHAZAM_K8S_SERVICE_ACCOUNT"  # the GPU pod's (IRSA); default SERVICE_ACCOUNT
SERVICE_ACCOUNT = "dagster"  # global.serviceAccountName in values.yaml: S3, SQS, SNS through IRSA
RENDER_POD_ARGS = ("-m", "dagster_project.cli", "render-pipes")  # after the image's `python`
RENDER_POD_COMPONENT = "render_worker"  # its app.kubernetes.io/component label
RENDER_POD_START_S = 600.0  # a GPU node may have to scale up from zero (values: runMonitoring)

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

# The image runs as uid 1000; the namespace enforces the `baseline` Pod Security level and warns
# on `restricted`, which this meets (the same contexts as the code server's in values.yaml).
POD_SECURITY_CONTEXT: dict[str, Any] = {
    "run_as_non_root": True,
    "run_as_user": 1000,
    "run_as_group": 1000,
    "fs_group": 1000,
    "seccomp_profile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allow_privilege_escalation": False,
    "capabilities": {"drop": ["ALL"]},
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


def gpu_pod_spec(*, service_account: str = SERVICE_ACCOUNT) -> dict[str, Any]:
    """The `base_pod_spec` of the GPU render pod (`PipesK8sClient.run`): `GPU_STEP_K8S_CONFIG`'s
    resources, GPU env, node selector and toleration, the chart's ConfigMap and Secret as env,
    the service account whose IAM role reaches the store (IRSA). Image, command and the Pipes
    variables are set by the client. A fresh dict each call (the client extends its env list)."""
    container = json.loads(json.dumps(GPU_STEP_K8S_CONFIG["container_config"]))
    pod = json.loads(json.dumps(GPU_STEP_K8S_CONFIG["pod_spec_config"]))
    return {
        **pod,
        "service_account_name": service_account,
        "restart_policy": "Never",  # a failed render is retried by the step's retry policy
        "security_context": POD_SECURITY_CONTEXT,
        "containers": [
            {
                **container,
                "image_pull_policy": "IfNotPresent",
                "env_from": [
                    {"config_map_ref": {"name": ENV_CONFIG_MAP}},
                    {"secret_ref": {"name": ENV_SECRET}},
                ],
                "security_context": CONTAINER_SECURITY_CONTEXT,
            }
        ],
    }


class RenderPodResource(dg.ConfigurableResource):
    """Where the turntable renders. `mode` empty: in the step's own process (the embedded default).
    `k8s`: in a pod of its own on a GPU node, launched through Dagster Pipes by the step (which
    runs inside the run pod) with the run's image; the pod reports the materialization back."""

    mode: str = ""
    image: str = ""  # empty: the run's own image (the code location's, which the run pod runs)
    namespace: str = ""  # empty: the run pod's own namespace
    service_account: str = SERVICE_ACCOUNT
    kubeconfig_file: str = ""  # empty: in the cluster (the run pod's service account)
    poll_interval_s: float = 5.0

    @property
    def in_gpu_pod(self) -> bool:
        return self.mode == "k8s"

    def request(self, *, image: str | None, run_id: str, deadline_s: float) -> dict[str, Any]:
        """Keyword arguments for the Pipes client's `run` (besides `context` and `extras`)."""
        image = self.image or image
        if not image:
            raise dg.Failure(
                "the run has no container image to start the GPU render pod with "
                f"({RENDER_POD_ENV}=k8s needs the run launched by the K8sRunLauncher)",
                allow_retries=False,
            )
        return {
            "image": image,
            "command": ["python", *RENDER_POD_ARGS],
            "namespace": self.namespace or None,
            "base_pod_meta": {
                "labels": {
                    "app.kubernetes.io/component": RENDER_POD_COMPONENT,
                    "dagster/run-id": run_id,
                }
            },
            "base_pod_spec": gpu_pod_spec(service_account=self.service_account),
            "pod_wait_timeout": RENDER_POD_START_S + deadline_s,  # once it runs
        }

    def client(self) -> Any:
        """The Pipes client that starts the pod (dagster-k8s is imported only here)."""
        from dagster_k8s import PipesK8sClient

        return PipesK8sClient(
            kubeconfig_file=self.kubeconfig_file or None, poll_interval=self.poll_interval_s
        )


def render_pod(environ: Mapping[str, str] | None = None) -> RenderPodResource:
    """The render placement, chosen by `SHAZAM_RENDER_POD` when definitions load (like
    `executor()`): unset or empty renders in the step; `k8s` in a GPU pod through Pipes."""
    env = os.environ if environ is None else environ
    mode = env.get(RENDER_POD_ENV, "").strip().lower()
    if mode not in ("", "k8s"):
        raise ValueError(f"{RENDER_POD_ENV}={mode!r}: expected '' or 'k8s'")
    return RenderPodResource(
        mode=mode,
        namespace=env.get(NAMESPACE_ENV, "").strip(),
        service_account=env.get(SERVICE_ACCOUNT_ENV, "").strip() or SERVICE_ACCOUNT,
    )
