"""Pods per ASIN on Kubernetes, before and after the render moved to Dagster Pipes, counted from
the pods and Jobs dagster-k8s builds (no cluster: a stand-in API server records them,
tests/dagster_project/kube.py).

Per ASIN the pipeline launches three runs: `ingest_job` for the upload, the check-only
`qa_decision_job` run for the reviewer's decision, and `publish_job` (turntable, channel files,
product page, search entry). For each, the chart's K8sRunLauncher launches the run pod, then:
- before (`SHAZAM_EXECUTOR=k8s`): `k8s_job_executor` launches one Job per step of the run's plan,
  each counted as the step handler sends it (the render step's asks for a GPU);
- after (the chart now: `SHAZAM_EXECUTOR=in_process`, `SHAZAM_RENDER_POD=k8s`): the run's executor
  launches no pods (each job's executor is checked to be the in-process one), and the publish
  run's turntable step is executed for real against a stand-in API server that plays the pod
  (it runs the pod's own command): the GPU pods counted are the ones `PipesK8sClient` created.
The render pod renders a demo product (the mug) at the demo settings (24 frames, 512 px); its
lifetime is the GPU-seconds an ASIN would hold, measured here on this machine's CPU (Mesa's
software Vulkan) when no GPU is lent.

    .venv/bin/python bench/bench_k8s_pods.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dagster_project.lib import k8s  # noqa: E402
from tests.dagster_project.kube import values  # noqa: E402

# The definitions read the executor and the render placement when they load: the chart's env.
(_DEPLOYMENT,) = values()["dagster-user-deployments"]["deployments"]
os.environ.update({e["name"]: e["value"] for e in _DEPLOYMENT["env"]})

import dagster as dg  # noqa: E402
from dagster._core.definitions.reconstruct import ReconstructableRepository  # noqa: E402
from dagster._core.execution.api import create_execution_plan  # noqa: E402

from dagster_project.definitions import defs  # noqa: E402
from dagster_project.lib.resources import ObjectStoreResource, TurntableSettingsResource  # noqa: E402
from shazam_assets.ingest import pipeline as ingest  # noqa: E402
from shazam_assets.platform import settings  # noqa: E402
from shazam_assets.platform.notify import Outbox  # noqa: E402
from shazam_assets.qa.decisions import record_decision  # noqa: E402
from shazam_assets.qa.outcome import apply_decision  # noqa: E402
from shazam_demo.run import DEMO_SETTINGS, build_delivery  # noqa: E402
from tests.dagster_project.kube import (  # noqa: E402
    FakeKubernetesApi,
    launch_run,
    launch_step,
    run_launcher_config,
)

ASIN = "B0DEMOMUG1"
NAMESPACE = "shazam"
IMAGE = "registry.example/shazam:bench"
QA_APPROVED = dg.AssetCheckKey(dg.AssetKey("asset_version"), "qa_approved")
# Each job an ASIN goes through, with the selection its sensor requests (None: the whole job).
RUNS = {
    "ingest_job": None,
    "qa_decision_job": {"asset_selection": set(), "asset_check_selection": {QA_APPROVED}},
    "publish_job": None,
}


def _serve(run_pods: bool) -> FakeKubernetesApi:
    server = FakeKubernetesApi(run_pods=run_pods)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _gpu(job_or_pod: dict) -> bool:
    spec = job_or_pod["spec"].get("template", job_or_pod)["spec"]
    resources = spec["containers"][0].get("resources") or {}
    return "nvidia.com/gpu" in (resources.get("limits") or {})


def _step_keys(job_name: str) -> list[str]:
    job = defs.resolve_job_def(job_name)
    subset = RUNS[job_name]
    if subset is not None:
        job = job.get_subset(**subset)
    return [step.key for step in create_execution_plan(job).get_steps_to_execute_in_topo_order()]


def _launch_everything(work: Path, *, before: bool) -> dict[str, dict[str, int]]:
    """Per job: run pods and step pods (and how many of them ask for a GPU) the launcher and
    the executor send to the API server."""
    server = _serve(run_pods=False)
    kubeconfig = server.kubeconfig(work / f"kubeconfig-{before}")
    launcher = {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": run_launcher_config(values(), kubeconfig, NAMESPACE),
    }
    repo = ReconstructableRepository.for_module(
        "dagster_project.definitions", "defs", working_directory=str(ROOT), container_image=IMAGE
    )
    step_jobs = k8s.executor({k8s.EXECUTOR_ENV: "k8s", k8s.NAMESPACE_ENV: NAMESPACE})
    counts: dict[str, dict[str, int]] = {}
    try:
        with dg.instance_for_test(overrides={"run_launcher": launcher}) as instance:
            for job_name in RUNS:
                recon_job = repo.get_reconstructable_job(job_name)
                seen = len(server.jobs)
                launch_run(instance, recon_job, ASIN)
                runs = len(server.jobs) - seen
                if before:
                    for step_key in _step_keys(job_name):
                        launch_step(instance, recon_job, step_jobs, step_key, ASIN)
                else:  # the in-process executor: every step runs inside the run pod
                    assert defs.resolve_job_def(job_name).executor_def is dg.in_process_executor
                steps = server.jobs[seen + runs :]
                counts[job_name] = {
                    "runs": runs,
                    "steps": len(steps),
                    "gpu": sum(_gpu(job) for _, job in steps),
                }
    finally:
        server.shutdown()
        server.server_close()
    return counts


def _published_store(work: Path) -> str:
    (work / "store").mkdir()
    url = (work / "store").as_uri()
    store = ObjectStoreResource(url=url).open()
    store.put_file(f"uploads/{ASIN}/mug.zip", build_delivery(asin=ASIN, slug="mug", work=work))
    upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/mug.zip")
    assert ingest.validate_upload(store, upload).report.ok
    version = ingest.store_upload(store, upload).version
    record_decision(store, asin=ASIN, version=version, verdict="approve", reviewer="bench")
    apply_decision(store, ASIN, version, channel=Outbox(store), keep_approved=1)
    return url


def _render_pods(work: Path, *, in_pod: bool) -> tuple[int, int, float, float, float]:
    """(render pods created, of which ask for a GPU, pod seconds, seconds from the pod's start
    to its first Pipes message (the interpreter and imports), step seconds) of the publish
    run's turntable step, executed as the run pod does, the pod played by the stand-in API;
    `in_pod=False`: the same render in the step's own process (the embedded default)."""
    work.mkdir()
    url = _published_store(work)
    server = _serve(run_pods=True)
    kubeconfig = server.kubeconfig(work / "kubeconfig-pods")
    pod = defs.resources["render_pod"]
    assert isinstance(pod, k8s.RenderPodResource) and pod.in_gpu_pod
    if not in_pod:
        pod = k8s.RenderPodResource()
    resources = {
        "store": ObjectStoreResource(url=url),
        "turntable_settings": TurntableSettingsResource(
            frames=DEMO_SETTINGS.render_frames, size=DEMO_SETTINGS.render_size
        ),
        "render_pod": k8s.RenderPodResource(
            **{
                **pod.model_dump(),
                "namespace": NAMESPACE,
                "image": IMAGE,
                "kubeconfig_file": str(kubeconfig),
                "poll_interval_s": 0.2,
            }
        ),
    }
    try:
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("asin", [ASIN])
            started = time.perf_counter()
            result = dg.materialize(
                [defs.get_assets_def("turntable_360")],
                partition_key=ASIN,
                instance=instance,
                resources=resources,
            )
            step_s = time.perf_counter() - started
            assert result.success
        pods = [p.body for p in server.pods.values()]
        lived = [_stamp(p.finished_at) - _stamp(p.started_at) for p in server.pods.values()]
        opened = [
            _stamp(p.lines[0].split(" ")[0]) - _stamp(p.started_at) for p in server.pods.values()
        ]
        return len(pods), sum(_gpu(p) for p in pods), sum(lived), sum(opened), step_s
    finally:
        server.shutdown()
        server.server_close()


def _stamp(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def main() -> None:
    for name, value in settings.embedded(ROOT).environment().items():
        os.environ.setdefault(name, value)  # resource EnvVars of the plans
    with tempfile.TemporaryDirectory(prefix="shazam-bench-pods-") as tmp:
        work = Path(tmp)
        before = _launch_everything(work, before=True)
        after = _launch_everything(work, before=False)
        *_, local_s = _render_pods(work / "local", in_pod=False)
        pods, gpu_pods, pod_s, start_s, step_s = _render_pods(work / "pod", in_pod=True)
    after["publish_job"]["render"] = pods
    after["publish_job"]["gpu"] = gpu_pods

    print(
        "| run (per ASIN) | before: run pod + step pods (GPU) | after: run pod + step pods + render pods (GPU) |"
    )
    print("|---|---|---|")
    totals = {"before": 0, "after": 0, "before_gpu": 0, "after_gpu": 0}
    for job_name in RUNS:
        b, a = before[job_name], after[job_name]
        render = a.get("render", 0)
        totals["before"] += b["runs"] + b["steps"]
        totals["after"] += a["runs"] + a["steps"] + render
        totals["before_gpu"] += b["gpu"]
        totals["after_gpu"] += a["gpu"]
        print(
            f"| {job_name} | {b['runs']} + {b['steps']} ({b['gpu']}) | "
            f"{a['runs']} + {a['steps']} + {render} ({a['gpu']}) |"
        )
    ratio = totals["before"] / totals["after"]
    print(
        f"| **per ASIN** | **{totals['before']}** ({totals['before_gpu']} GPU) | "
        f"**{totals['after']}** ({totals['after_gpu']} GPU) — {ratio:.1f}x fewer |"
    )
    print(
        f"\nrender pod ({DEMO_SETTINGS.render_frames} frames at {DEMO_SETTINGS.render_size} px, "
        f"the mug, CPU rendering here): pod lived {pod_s:.1f} s ({start_s:.1f} s of them from "
        f"its start to Pipes opened: interpreter and CLI), the turntable step took "
        f"{step_s:.1f} s; the same render in the step's own process (embedded default, "
        f"same run) {local_s:.1f} s: Pipes adds {step_s - local_s:+.1f} s "
        f"({step_s / local_s:.2f}x) before any pod scheduling or image pull"
    )


if __name__ == "__main__":
    main()
