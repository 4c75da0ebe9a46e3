"""Production placement: the render step's Kubernetes Job asks for a GPU on GPU nodes, others don't.

The Jobs are the ones dagster-k8s itself would create: the executor comes from
`dagster_project.lib.k8s.executor()`, the instance has a `K8sRunLauncher` configured like the Helm
chart renders deploy/helm/values.yaml, and `K8sStepHandler.launch_step` sends each step's Job to
a stand-in Kubernetes API server over HTTP, which records the request body. No cluster needed.
The step contexts are built as `StepDelegatingExecutor` builds them (dagster internals, the way
dagster-k8s's own executor tests do).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.definition_config_schema import ConfiguredDefinitionConfigSchema
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import create_context_free_log_manager
from dagster._core.execution.plan.step import ExecutionStep
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating import StepDelegatingExecutor, StepHandlerContext
from dagster._grpc.types import ExecuteStepArgs
from dagster_k8s.job import (
    USER_DEFINED_K8S_CONFIG_KEY,
    DagsterK8sJobConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from dagster_project.lib import k8s
from shazam_assets.platform import settings

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
NAMESPACE = "shazam"
IMAGE = "registry.example/shazam:test"
GPU_SELECTOR = {k8s.NODE_GROUP_LABEL: k8s.GPU_NODE_GROUP}
CPU_SELECTOR = {k8s.NODE_GROUP_LABEL: k8s.CPU_NODE_GROUP}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


class _FakeKubernetesApi(ThreadingHTTPServer):
    """Accepts `POST …/namespaces/<ns>/jobs` like the API server and keeps each Job it got."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _JobsHandler)
        self.jobs: list[tuple[str, dict[str, Any]]] = []  # (request path, Job as JSON)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _JobsHandler(BaseHTTPRequestHandler):
    server: _FakeKubernetesApi

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.jobs.append((self.path, json.loads(body)))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_FakeKubernetesApi, Path]]:
    server = _FakeKubernetesApi()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "test",
                "clusters": [{"name": "test", "cluster": {"server": server.url}}],
                "users": [{"name": "test", "user": {"token": "test"}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
            }
        )
    )
    yield server, kubeconfig
    server.shutdown()
    server.server_close()


def _run_launcher_config(values: Mapping[str, Any], kubeconfig: Path) -> dict[str, Any]:
    """The K8sRunLauncher config the chart renders into dagster.yaml from values.yaml."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = launcher["runK8sConfig"]
    return {
        "instance_config_map": "dagster-instance",
        "service_account_name": values["global"]["serviceAccountName"],
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
        "image_pull_policy": launcher["imagePullPolicy"],
        "job_namespace": NAMESPACE,
        "env_config_maps": [c["name"] for c in launcher["envConfigMaps"]],
        "env_secrets": [s["name"] for s in launcher["envSecrets"]],
        "env_vars": launcher["envVars"],
        "run_k8s_config": {
            "container_config": run_k8s["containerConfig"],
            "pod_spec_config": run_k8s["podSpecConfig"],
            "job_spec_config": run_k8s["jobSpecConfig"],
        },
        "load_incluster_config": False,
        "kubeconfig_file": str(kubeconfig),
    }


@pytest.fixture(scope="module")
def launched_jobs(kube_api: tuple[_FakeKubernetesApi, Path]) -> dict[str, tuple[str, dict]]:
    """Step key -> (request path, Job) for the delivery, QA and render steps of one run."""
    server, kubeconfig = kube_api
    launcher = {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": _run_launcher_config(_values(), kubeconfig),
    }
    with (
        pytest.MonkeyPatch.context() as mp,
        dg.instance_for_test(overrides={"run_launcher": launcher}) as instance,
    ):
        for name, value in (
            settings.embedded(ROOT).environment().items()
        ):  # resource EnvVars of the plan
            mp.setenv(name, value)
        repo = ReconstructableRepository.for_module(
            "dagster_project.definitions",
            "defs",
            working_directory=str(ROOT),
            container_image=IMAGE,
        )
        recon_job = repo.get_reconstructable_job("__ASSET_JOB")
        executor_def = k8s.executor({k8s.EXECUTOR_ENV: "k8s", k8s.NAMESPACE_ENV: NAMESPACE})
        for step_key in ("delivery", "qa_review", "turntable_360"):
            _launch_step(instance, recon_job, executor_def, step_key)
    by_step = {job["metadata"]["labels"]["dagster/op"]: (path, job) for path, job in server.jobs}
    return by_step


def _executor_config(executor_def: dg.ExecutorDefinition) -> dict[str, Any]:
    """The config a run hands a configured executor (its parent's `execution: config:`)."""
    schema = executor_def.config_schema
    assert isinstance(schema, ConfiguredDefinitionConfigSchema)
    resolved = schema.resolve_config({})
    assert resolved.success and resolved.value is not None, resolved.errors
    return resolved.value["config"]


def _launch_step(instance, recon_job, executor_def: dg.ExecutorDefinition, step_key: str) -> None:
    """Create the executor as a run does, then let its step handler launch one step's Job."""
    assert executor_def.executor_creation_fn is not None
    executor = executor_def.executor_creation_fn(
        InitExecutorContext(
            job=recon_job,
            executor_def=executor_def,
            executor_config=_executor_config(executor_def),
            instance=instance,
        )
    )
    assert isinstance(executor, StepDelegatingExecutor)
    plan = create_execution_plan(recon_job)
    run = instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        execution_plan=plan,
        job_code_origin=recon_job.get_python_origin(),
        tags={"dagster/partition": "B0TESTASIN"},
    )
    plan_context = PlanOrchestrationContext(
        plan_data=PlanData(
            job=recon_job,
            dagster_run=run,
            instance=instance,
            execution_plan=plan,
            raise_on_error=True,
        ),
        log_manager=create_context_free_log_manager(instance, run),
        executor=executor,
        output_capture=None,
    )
    args = ExecuteStepArgs(
        job_origin=recon_job.get_python_origin(),
        run_id=run.run_id,
        step_keys_to_execute=[step_key],
        instance_ref=instance.get_ref(),
        retry_mode=RetryMode.DISABLED,
        should_verify_step=True,
        print_serialized_events=False,
    )
    steps = [step for step in plan.steps if isinstance(step, ExecutionStep)]
    context = StepHandlerContext(
        instance=instance,
        plan_context=plan_context,
        steps=steps,
        execute_step_args=args,
        dagster_run=run,
    )
    list(executor._step_handler.launch_step(context))


def _pod(job: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, its only container) of a Job as the API server received it (camelCase)."""
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, container


def test_render_step_job_requests_a_gpu_on_gpu_nodes(launched_jobs) -> None:
    path, job = launched_jobs["turntable_360"]
    spec, container = _pod(job)
    assert path == f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert spec["nodeSelector"] == GPU_SELECTOR  # the GPU group replaced the CPU default
    assert GPU_TOLERATION in spec["tolerations"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "graphics,compute,utility"
    assert env["DAGSTER_RUN_STEP_KEY"] == "turntable_360"
    assert container["image"] == IMAGE
    assert container["imagePullPolicy"] == "IfNotPresent"


@pytest.mark.parametrize("step_key", ["delivery", "qa_review"])
def test_other_steps_run_on_cpu_nodes_without_gpu(launched_jobs, step_key: str) -> None:
    _, job = launched_jobs[step_key]
    spec, container = _pod(job)
    resources = container["resources"]
    assert "nvidia.com/gpu" not in {**resources.get("limits", {}), **resources.get("requests", {})}
    assert resources["requests"] == {"cpu": "2", "memory": "4Gi"}  # k8s.CPU_STEP_K8S_CONFIG
    assert spec["nodeSelector"] == CPU_SELECTOR
    assert not spec.get("tolerations")
    assert container["image"] == IMAGE


@pytest.mark.parametrize("step_key", ["delivery", "turntable_360"])
def test_step_jobs_get_env_from_the_charts_configmap_and_secret(launched_jobs, step_key) -> None:
    _, job = launched_jobs[step_key]
    _, container = _pod(job)
    sources = container["envFrom"]
    assert {"configMapRef": {"name": k8s.ENV_CONFIG_MAP}} in sources
    assert {"secretRef": {"name": k8s.ENV_SECRET}} in sources
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[k8s.EXECUTOR_ENV] == "k8s"  # the run launcher's envVars reach step pods too
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400


def test_render_asset_carries_the_gpu_tags_and_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.definitions import defs

    for name, value in (
        settings.embedded(ROOT).environment().items()
    ):  # resource EnvVars of the plan
        monkeypatch.setenv(name, value)

    plan = create_execution_plan(defs.resolve_implicit_global_asset_job_def())
    tags = plan.get_step_by_key("turntable_360").tags or {}
    assert tags[USER_DEFINED_K8S_CONFIG_KEY] == k8s.GPU_STEP_TAGS[k8s.K8S_CONFIG_TAG]
    assert tags["dagster/concurrency_key"] == k8s.GPU_POOL
    for other in ("delivery", "asset_version", "qa_review"):
        other_tags = plan.get_step_by_key(other).tags or {}
        assert USER_DEFINED_K8S_CONFIG_KEY not in other_tags
        assert "dagster/concurrency_key" not in other_tags


def test_gpu_step_tags_build_a_gpu_job() -> None:
    """The tag plumbing alone, independent of the definitions: tags -> config -> V1Job."""
    assert k8s.K8S_CONFIG_TAG == USER_DEFINED_K8S_CONFIG_KEY
    job = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(job_image=IMAGE, dagster_home="/opt/dagster/dagster_home"),
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-test",
        user_defined_k8s_config=get_user_defined_k8s_config(k8s.GPU_STEP_TAGS),
    )
    pod = job.spec.template.spec
    assert pod.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    assert pod.node_selector == GPU_SELECTOR
    assert [t.to_dict() for t in pod.tolerations] == [
        {**GPU_TOLERATION, "toleration_seconds": None, "value": None}
    ]
    plain = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(job_image=IMAGE),
        args=[],
        job_name="dagster-step-plain",
        user_defined_k8s_config=get_user_defined_k8s_config({}),
    )
    assert not plain.spec.template.spec.tolerations and not plain.spec.template.spec.node_selector


def test_executor_defaults_to_in_process() -> None:
    assert k8s.executor({}) is dg.in_process_executor
    assert k8s.executor({k8s.EXECUTOR_ENV: " in_process "}) is dg.in_process_executor
    with pytest.raises(ValueError, match="SHAZAM_EXECUTOR"):
        k8s.executor({k8s.EXECUTOR_ENV: "celery"})


def test_k8s_executor_config() -> None:
    from dagster_k8s import k8s_job_executor

    executor_def = k8s.executor({k8s.EXECUTOR_ENV: "K8S", k8s.NAMESPACE_ENV: "renders"})
    assert executor_def.executor_creation_fn is k8s_job_executor.executor_creation_fn
    config = _executor_config(executor_def)
    assert config["job_namespace"] == "renders"
    assert config["image_pull_policy"] == "IfNotPresent"
    assert config["env_config_maps"] == [k8s.ENV_CONFIG_MAP]
    assert config["env_secrets"] == [k8s.ENV_SECRET]
    assert config["step_k8s_config"]["pod_spec_config"]["node_selector"] == CPU_SELECTOR
    without_namespace = _executor_config(k8s.executor({k8s.EXECUTOR_ENV: "k8s"}))
    assert "job_namespace" not in without_namespace  # then the run launcher's namespace


def test_definitions_use_the_configured_executor() -> None:
    """`definitions.py` asks `k8s.executor()` at load: in_process here, k8s when the chart says so."""
    from dagster_project.definitions import defs

    if os.environ.get(k8s.EXECUTOR_ENV, "in_process") == "in_process":
        assert defs.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor
    code = (
        "from dagster_project.definitions import defs; "
        "print(defs.resolve_implicit_global_asset_job_def().executor_def.name)"
    )
    env = {**os.environ, k8s.EXECUTOR_ENV: "k8s", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split()[-1] == "shazam_k8s"


def test_helm_values_match_the_code_location() -> None:
    values = _values()
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    k8s_launcher = launcher["config"]["k8sRunLauncher"]
    assert k8s_launcher["runK8sConfig"]["podSpecConfig"]["nodeSelector"] == CPU_SELECTOR
    assert "SHAZAM_EXECUTOR=k8s" in k8s_launcher["envVars"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "dagster_project.definitions"]
    assert {"name": k8s.EXECUTOR_ENV, "value": "k8s"} in deployment["env"]
    for source in (deployment, k8s_launcher):
        assert source["envConfigMaps"] == [{"name": k8s.ENV_CONFIG_MAP}]
        assert source["envSecrets"] == [{"name": k8s.ENV_SECRET}]
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    daemon = values["dagsterDaemon"]
    assert daemon["enabled"] is True
    limits = values["concurrency"]["runs"]["tagConcurrencyLimits"]
    ((gpu_key, gpu_value),) = k8s.GPU_RUN_TAGS.items()
    assert {"key": gpu_key, "value": gpu_value, "limit": 2} in limits
    assert values["concurrency"]["pools"] == {"defaultLimit": 2, "granularity": "op"}
