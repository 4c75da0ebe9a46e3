"""A stand-in Kubernetes API server for the placement tests and bench/bench_k8s_pods.py.

It accepts the requests dagster-k8s makes and keeps what it got: `POST …/jobs` (the step Jobs of
`k8s_job_executor`) is recorded and answered. `POST …/pods` (a Pipes pod, `PipesK8sClient`) is
recorded and, with `run_pods`, played like a kubelet would: the pod's first container command
runs as a local process (the image's `python` is this interpreter) with the pod's env, its
output becomes the pod log (`…/log`, timestamped like the kubelet's, streamed once the process
ends, which `follow` allows), its state the container status, and `DELETE` removes it. No
cluster, no container runtime: the same requests and the same command.

Also here: the K8sRunLauncher config the chart renders from deploy/helm/values.yaml, and
`launch_step`, which lets the k8s executor's step handler launch one step's Job the way a run
does (dagster internals, the way dagster-k8s's own executor tests build step contexts).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dagster as dg
import yaml
from dagster._core.definitions.definition_config_schema import ConfiguredDefinitionConfigSchema
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import create_context_free_log_manager
from dagster._core.execution.plan.step import ExecutionStep
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating import StepDelegatingExecutor, StepHandlerContext
from dagster._grpc.types import ExecuteStepArgs

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "helm" / "values.yaml"

_PODS = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods(?:/(?P<name>[^/?]+))?(?P<log>/log)?$")


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


@dataclass
class Pod:
    """A pod the API server got, and its container process once it is played."""

    body: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    lines: list[str] = field(default_factory=list)  # "<timestamp> <line>", the pod log
    reader: threading.Thread | None = None
    deleted: bool = False
    started_at: str = ""
    finished_at: str = ""

    def status(self) -> dict[str, Any]:
        (container,) = self.body["spec"]["containers"]
        state: dict[str, Any] = {"running": {"startedAt": self.started_at}}
        phase = "Running"
        code = self.process.poll() if self.process else None
        if code is not None and self.reader is not None:
            self.reader.join()  # the whole log is in before the state says terminated
            state = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": self.started_at,
                    "finishedAt": self.finished_at,
                }
            }
            phase = "Succeeded" if code == 0 else "Failed"
        status = {
            "name": container["name"],
            "image": container["image"],
            "imageID": "fake://" + container["image"],
            "ready": code is None,
            "restartCount": 0,
            "state": state,
        }
        return {"phase": phase, "containerStatuses": [status]}


class FakeKubernetesApi(ThreadingHTTPServer):
    """Records Jobs and pods; plays pods when `run_pods` (see the module docstring)."""

    def __init__(self, *, run_pods: bool = False, cwd: Path = ROOT) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.run_pods = run_pods
        self.cwd = cwd
        self.jobs: list[tuple[str, dict[str, Any]]] = []  # (request path, Job as JSON)
        self.pods: dict[str, Pod] = {}
        self.pod_requests: list[tuple[str, dict[str, Any]]] = []  # (request path, Pod as JSON)
        self._clock = datetime.now(UTC)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def kubeconfig(self, path: Path) -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "test",
                    "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                    "users": [{"name": "test", "user": {"token": "test"}}],
                    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
                }
            )
        )
        return path

    def timestamp(self) -> str:
        """Strictly increasing, like the kubelet's nanosecond ones (equal stamps join lines)."""
        with self._lock:
            self._clock = max(self._clock + timedelta(microseconds=1), datetime.now(UTC))
            return self._clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def start(self, pod: Pod) -> None:
        (container,) = pod.body["spec"]["containers"]
        command = list(container["command"])
        if command[0] == "python":  # the image's interpreter
            command[0] = sys.executable
        env = {**os.environ, **{e["name"]: e.get("value", "") for e in container.get("env", [])}}
        pod.started_at = self.timestamp()
        pod.process = subprocess.Popen(
            command, cwd=self.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

        def read() -> None:
            assert pod.process is not None and pod.process.stdout is not None
            for raw in pod.process.stdout:
                pod.lines.append(f"{self.timestamp()} {raw.decode(errors='replace').rstrip()}")
            pod.process.wait()
            pod.finished_at = self.timestamp()

        pod.reader = threading.Thread(target=read, daemon=True)
        pod.reader.start()


class _Handler(BaseHTTPRequestHandler):
    server: FakeKubernetesApi

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        path = urlparse(self.path).path
        if path.endswith("/jobs"):
            self.server.jobs.append((self.path, body))
        elif (match := _PODS.match(path)) is not None:
            self.server.pod_requests.append((self.path, body))
            pod = self.server.pods[body["metadata"]["name"]] = Pod(body)
            body["metadata"]["namespace"] = match["ns"]
            if self.server.run_pods:
                self.server.start(pod)
        self._send(201, body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: [v.lower() for v in vs] for k, vs in parse_qs(url.query).items()}
        match = _PODS.match(url.path)
        if match is None:
            return self._send(404, {"kind": "Status", "code": 404})
        if match["name"] is None:  # list, by field selector metadata.name=<name>
            wanted = query.get("fieldSelector", [""])[0].removeprefix("metadata.name=")
            pod = self.server.pods.get(wanted)
            items = [] if pod is None or pod.deleted else [{**pod.body, "status": pod.status()}]
            return self._send(
                200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
            )
        pod = self.server.pods.get(match["name"])
        if pod is None or pod.deleted:
            return self._send(404, {"kind": "Status", "code": 404})
        if not match["log"]:
            return self._send(200, {**pod.body, "status": pod.status()})
        if pod.reader is not None and query.get("follow") == ["true"]:
            pod.reader.join()
        lines = pod.lines
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"][0]) :]
        if query.get("timestamps") != ["true"]:
            lines = [line.partition(" ")[2] for line in lines]
        self._send(200, "".join(line + "\n" for line in lines).encode(), "text/plain")

    def do_DELETE(self) -> None:
        match = _PODS.match(urlparse(self.path).path)
        pod = self.server.pods.get(match["name"]) if match and match["name"] else None
        if pod is None:
            return self._send(404, {"kind": "Status", "code": 404})
        pod.deleted = True
        if pod.process is not None and pod.process.poll() is None:
            pod.process.kill()
        self._send(200, pod.body)

    def log_message(self, format: str, *args: Any) -> None:  # keep output clean
        pass


def run_launcher_config(
    chart: Mapping[str, Any], kubeconfig: Path, namespace: str
) -> dict[str, Any]:
    """The K8sRunLauncher config the chart renders into dagster.yaml from values.yaml."""
    launcher = chart["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = launcher["runK8sConfig"]
    return {
        "instance_config_map": "dagster-instance",
        "service_account_name": chart["global"]["serviceAccountName"],
        "postgres_password_secret": chart["global"]["postgresqlSecretName"],
        "image_pull_policy": launcher["imagePullPolicy"],
        "job_namespace": namespace,
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


def executor_config(executor_def: dg.ExecutorDefinition) -> dict[str, Any]:
    """The config a run hands a configured executor (its parent's `execution: config:`)."""
    schema = executor_def.config_schema
    assert isinstance(schema, ConfiguredDefinitionConfigSchema)
    resolved = schema.resolve_config({})
    assert resolved.success and resolved.value is not None, resolved.errors
    return resolved.value["config"]


def launch_step(
    instance, recon_job, executor_def: dg.ExecutorDefinition, step_key: str, partition: str
) -> None:
    """Create the executor as a run does, then let its step handler launch one step's Job."""
    assert executor_def.executor_creation_fn is not None
    executor = executor_def.executor_creation_fn(
        InitExecutorContext(
            job=recon_job,
            executor_def=executor_def,
            executor_config=executor_config(executor_def),
            instance=instance,
        )
    )
    assert isinstance(executor, StepDelegatingExecutor)
    plan = create_execution_plan(recon_job)
    run = instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        execution_plan=plan,
        job_code_origin=recon_job.get_python_origin(),
        tags={"dagster/partition": partition},
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


def launch_run(instance, recon_job, partition: str) -> None:
    """Let the instance's run launcher (a K8sRunLauncher) launch one run's Job, as the daemon
    does for a queued run."""
    from dagster._core.launcher import LaunchRunContext

    run = instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        execution_plan=create_execution_plan(recon_job),
        job_code_origin=recon_job.get_python_origin(),
        tags={"dagster/partition": partition},
    )
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
