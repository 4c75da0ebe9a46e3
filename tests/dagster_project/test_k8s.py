"""Production placement: every step runs in its run pod on CPU nodes and the turntable renders
in a GPU pod of its own (Dagster Pipes); `SHAZAM_EXECUTOR=k8s` (a Job per step, the render step's
on a GPU node) still builds the Jobs it did.

The Jobs and pods are the ones dagster-k8s itself would create: the executor comes from
`dagster_project.lib.k8s.executor()`, the instance has a `K8sRunLauncher` configured like the Helm
chart renders deploy/helm/values.yaml, and the launcher, `K8sStepHandler.launch_step` and
dagster-k8s's Pipes pod builder send their Jobs and pods to a stand-in Kubernetes API server over
HTTP, which records the request bodies (tests/dagster_project/kube.py). No cluster needed. The
render pod, run end to end, is tests/dagster_project/test_render_pipes.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import create_execution_plan
from dagster_k8s.job import (
    USER_DEFINED_K8S_CONFIG_KEY,
    DagsterK8sJobConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from dagster_project.lib import k8s
from shazam_assets.platform import settings
from tests.dagster_project.kube import (
    FakeKubernetesApi,
    executor_config,
    launch_run,
    launch_step,
    run_launcher_config,
    values,
)

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "shazam"
IMAGE = "registry.example/shazam:test"
GPU_SELECTOR = {k8s.NODE_GROUP_LABEL: k8s.GPU_NODE_GROUP}
CPU_SELECTOR = {k8s.NODE_GROUP_LABEL: k8s.CPU_NODE_GROUP}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
_values = values


@pytest.fixture(scope="module")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeKubernetesApi, Path]]:
    server = FakeKubernetesApi()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = server.kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    yield server, kubeconfig
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def launched_jobs(kube_api: tuple[FakeKubernetesApi, Path]) -> dict[str, tuple[str, dict]]:
    """Step key -> (request path, Job) for the delivery, QA and render steps of one run under
    `SHAZAM_EXECUTOR=k8s` (a Job per step, the placement before the render went to Pipes)."""
    server, kubeconfig = kube_api
    launcher = {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": run_launcher_config(_values(), kubeconfig, NAMESPACE),
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
            launch_step(instance, recon_job, executor_def, step_key, "B0TESTASIN")
    by_step = {job["metadata"]["labels"]["dagster/op"]: (path, job) for path, job in server.jobs}
    return by_step


_executor_config = executor_config


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
    assert env[k8s.RENDER_POD_ENV] == "k8s"  # the run launcher's envVars reach step pods too
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


def _chart_env() -> dict[str, str]:
    """The code server's env in values.yaml (run pods get it too: includeConfigInLaunchedRuns)."""
    (deployment,) = _values()["dagster-user-deployments"]["deployments"]
    return {e["name"]: e["value"] for e in deployment["env"]}


def _load_definitions(env: Mapping[str, str]) -> dict[str, Any]:
    """Load the definitions in a process of their own with `env` (the executor and the render
    placement are read when they load): each job's executor name and the render placement."""
    code = (
        "import json; from dagster_project.definitions import defs; "
        "jobs = {j.name: j.executor_def.name for j in defs.resolve_all_job_defs()}; "
        "print(json.dumps({'jobs': jobs, "
        "'render_pod': defs.resources['render_pod'].mode}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_production_runs_every_step_in_its_run_pod_and_renders_in_a_gpu_pod() -> None:
    """With the chart's env, no job launches a Job per step: ingest, QA and publish steps run
    in the run pod (in process), and the render goes to a GPU pod through Pipes."""
    from dagster_project.definitions import defs

    if os.environ.get(k8s.EXECUTOR_ENV, "in_process") == "in_process":
        assert defs.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor
    loaded = _load_definitions(_chart_env())
    assert {"ingest_job", "qa_decision_job", "publish_job", "turntable_job"} <= set(loaded["jobs"])
    assert set(loaded["jobs"].values()) == {dg.in_process_executor.name}
    assert loaded["render_pod"] == "k8s"


def test_render_pod_defaults_to_the_step_and_refuses_unknown_modes() -> None:
    assert k8s.render_pod({}).in_gpu_pod is False  # the embedded default: render in the step
    pod = k8s.render_pod({k8s.RENDER_POD_ENV: " K8S ", k8s.NAMESPACE_ENV: "renders"})
    assert pod.in_gpu_pod and pod.namespace == "renders"
    assert pod.service_account == _values()["global"]["serviceAccountName"]
    with pytest.raises(ValueError, match="SHAZAM_RENDER_POD"):
        k8s.render_pod({k8s.RENDER_POD_ENV: "docker"})


@pytest.fixture(scope="module")
def run_job(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Job the chart's K8sRunLauncher launches for a publish run (the run pod)."""
    server = FakeKubernetesApi()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = server.kubeconfig(tmp_path_factory.mktemp("kube-run") / "config")
    launcher = {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": run_launcher_config(_values(), kubeconfig, NAMESPACE),
    }
    try:
        with (
            pytest.MonkeyPatch.context() as mp,
            dg.instance_for_test(overrides={"run_launcher": launcher}) as instance,
        ):
            for name, value in settings.embedded(ROOT).environment().items():
                mp.setenv(name, value)
            repo = ReconstructableRepository.for_module(
                "dagster_project.definitions",
                "defs",
                working_directory=str(ROOT),
                container_image=IMAGE,
            )
            launch_run(instance, repo.get_reconstructable_job("publish_job"), "B0TESTASIN")
        ((_, job),) = server.jobs
        return job
    finally:
        server.shutdown()
        server.server_close()


def test_the_run_pod_is_sized_for_the_cpu_steps_it_now_runs(run_job) -> None:
    spec, container = _pod(run_job)
    assert container["resources"] == k8s.CPU_STEP_K8S_CONFIG["container_config"]["resources"]
    assert spec["nodeSelector"] == CPU_SELECTOR and not spec.get("tolerations")
    assert spec["serviceAccountName"] == _values()["global"]["serviceAccountName"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[k8s.EXECUTOR_ENV] == "in_process" and env[k8s.RENDER_POD_ENV] == "k8s"
    assert container["image"] == IMAGE
    assert container["args"][:3] == ["dagster", "api", "execute_run"]


def test_render_pod_spec_is_the_gpu_step_config_as_a_pod() -> None:
    """The pod `PipesK8sClient` creates from `RenderPodResource.request` (dagster-k8s's own
    pod builder, offline): one GPU, GPU nodes, the chart's env, IRSA, the Pipes command."""
    from dagster_k8s.pipes import build_pod_body
    from kubernetes.client import ApiClient

    pod = k8s.render_pod({k8s.RENDER_POD_ENV: "k8s", k8s.NAMESPACE_ENV: NAMESPACE})
    request = pod.request(image=IMAGE, run_id="0123-run", deadline_s=660.0)
    assert request["namespace"] == NAMESPACE
    assert request["pod_wait_timeout"] == k8s.RENDER_POD_START_S + 660.0
    body = ApiClient().sanitize_for_serialization(
        build_pod_body(
            pod_name="dagster-render-test",
            image=request["image"],
            command=request["command"],
            env_vars={"DAGSTER_PIPES_CONTEXT": "ctx", "DAGSTER_PIPES_MESSAGES": "msg"},
            base_pod_meta=request["base_pod_meta"],
            base_pod_spec=request["base_pod_spec"],
        )
    )
    spec = body["spec"]
    (container,) = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"] == {
        "cpu": "3",
        "memory": "12Gi",
        "nvidia.com/gpu": "1",
    }
    assert spec["nodeSelector"] == GPU_SELECTOR and spec["tolerations"] == [GPU_TOLERATION]
    assert spec["serviceAccountName"] == _values()["global"]["serviceAccountName"]
    assert container["image"] == IMAGE and container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == ["python", "-m", "dagster_project.cli", "render-pipes"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "graphics,compute,utility"
    assert env["DAGSTER_PIPES_CONTEXT"] == "ctx"
    assert {"configMapRef": {"name": k8s.ENV_CONFIG_MAP}} in container["envFrom"]
    assert {"secretRef": {"name": k8s.ENV_SECRET}} in container["envFrom"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert body["metadata"]["labels"]["app.kubernetes.io/component"] == k8s.RENDER_POD_COMPONENT
    again = pod.request(image=IMAGE, run_id="0123-run", deadline_s=660.0)["base_pod_spec"]
    assert again["containers"][0]["env"] == [  # the builder's env did not leak into the next pod
        {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "graphics,compute,utility"}
    ]
    with pytest.raises(dg.Failure, match="no container image"):
        pod.request(image=None, run_id="0123-run", deadline_s=660.0)


def test_helm_values_match_the_code_location() -> None:
    values = _values()
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    k8s_launcher = launcher["config"]["k8sRunLauncher"]
    assert k8s_launcher["runK8sConfig"]["podSpecConfig"]["nodeSelector"] == CPU_SELECTOR
    assert "SHAZAM_EXECUTOR=in_process" in k8s_launcher["envVars"]
    assert "SHAZAM_RENDER_POD=k8s" in k8s_launcher["envVars"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "dagster_project.definitions"]
    assert {"name": k8s.EXECUTOR_ENV, "value": "in_process"} in deployment["env"]
    assert {"name": k8s.RENDER_POD_ENV, "value": "k8s"} in deployment["env"]
    assert values["global"]["serviceAccountName"] == k8s.SERVICE_ACCOUNT
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
