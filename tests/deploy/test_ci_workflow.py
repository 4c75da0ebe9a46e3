""".github/workflows/ci.yml: the job graph, an image tagged once with the commit SHA and deployed
by that tag, AWS access through OIDC only, and production behind a manual approval."""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.deploy_files import ROOT, WORKFLOW, load

SHA = "${{ github.sha }}"
ON_MAIN = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
# `--set[-string] "dagster-user-deployments.deployments[0].image.tag=<value>"`: the value
TAG_SET = re.compile(
    r"--set(?:-string)? \"?dagster-user-deployments\.deployments\[0\]\.image\.tag="
    r"(\$\{\{[^}]*\}\}|[^\s\"]+)"
)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


@pytest.fixture(scope="module")
def jobs(workflow) -> dict[str, dict[str, Any]]:
    return workflow["jobs"]


def _needs(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def _script(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_triggers(workflow) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers
    assert workflow["permissions"] == {"contents": "read"}  # jobs widen it where they must


def test_job_graph(jobs) -> None:
    assert {name: _needs(job) for name, job in jobs.items()} == {
        "lint": set(),
        "test": set(),
        "build-and-push": {"lint", "test"},
        "deploy-dev": {"build-and-push"},
        "deploy-prod": {"deploy-dev"},
    }
    for name in ("deploy-dev", "deploy-prod"):
        assert jobs[name]["if"] == ON_MAIN


def test_lint_runs_ruff_and_mypy(jobs) -> None:
    script = _script(jobs["lint"])
    assert re.search(r"^ruff format --check$", script, re.M)
    assert re.search(r"^ruff check\b", script, re.M)
    assert re.search(r"^mypy\b", script, re.M)
    assert "deploy/scripts/check_rendered_chart.py" in script  # the real chart, rendered


def test_lint_installs_the_locked_versions(jobs) -> None:
    """CI checks what the image runs: the lock, hash-checked, then the project without resolving."""
    script = _script(jobs["lint"])
    assert re.search(
        r"^python -m pip install --require-hashes -r requirements-dev.lock$", script, re.M
    )
    assert re.search(r"^python -m pip install --no-deps -e \.$", script, re.M)
    assert not re.search(r"pip install (?!--require-hashes|--no-deps)", script)
    (setup_python,) = _steps_using(jobs["lint"], "actions/setup-python")
    assert setup_python["with"]["cache-dependency-path"] == "requirements-dev.lock"


def test_test_job_runs_make_test_with_the_system_packages(jobs) -> None:
    job = jobs["test"]
    assert job["runs-on"].startswith("ubuntu-")
    script = _script(job)
    assert re.search(r"^make test$", script, re.M)
    for package in ("libvulkan1", "mesa-vulkan-drivers", "libegl1", "chromium", "nodejs"):
        assert package in script.split()


def test_image_is_built_once_and_tagged_with_the_commit_sha(jobs) -> None:
    job = jobs["build-and-push"]
    (build,) = _steps_using(job, "docker/build-push-action")
    inputs = build["with"]
    assert inputs["file"] == "deploy/docker/Dockerfile"
    (tag,) = [t.strip() for t in str(inputs["tags"]).replace(",", "\n").split("\n") if t.strip()]
    assert tag.endswith(f":{SHA}")  # immutable: one tag per commit, never `latest`
    assert "latest" not in str(inputs)
    assert job["env"]["PUBLISH"] == "${{ " + ON_MAIN + " }}"
    assert inputs["push"] == "${{ env.PUBLISH == 'true' }}"  # pull requests build, main pushes


@pytest.mark.parametrize("name", ["build-and-push", "deploy-dev", "deploy-prod"])
def test_aws_access_is_an_oidc_role_not_stored_keys(jobs, name: str) -> None:
    job = jobs[name]
    assert job["permissions"]["id-token"] == "write"
    (credentials,) = _steps_using(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"].startswith("${{ vars.")
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    assert "secrets." not in yaml.safe_dump(job)


@pytest.mark.parametrize("name", ["deploy-dev", "deploy-prod"])
def test_deploys_install_the_sha_tag_with_helm(jobs, name: str) -> None:
    script = _script(jobs[name])
    assert "helm upgrade --install dagster dagster/dagster" in script
    assert "-f deploy/helm/values.yaml" in script
    assert "--namespace shazam" in script
    assert TAG_SET.findall(script) == [SHA]
    assert "--atomic" in script  # a failed upgrade rolls back
    assert "kubectl apply -f deploy/k8s/" in script


def test_production_waits_for_approval_and_deploys_what_dev_ran(jobs) -> None:
    prod, dev = jobs["deploy-prod"], jobs["deploy-dev"]
    environment = prod["environment"]
    assert (environment["name"] if isinstance(environment, dict) else environment) == "production"
    assert dev["environment"] == "dev"
    # Same chart, same values, same image tag: only the environment's variables differ.
    assert TAG_SET.findall(_script(prod)) == TAG_SET.findall(_script(dev))
    assert prod["concurrency"]["cancel-in-progress"] is False  # never cut a deploy in half


def test_chart_version_matches_the_one_values_yaml_targets(workflow) -> None:
    version = workflow["env"]["HELM_CHART_VERSION"]
    values = (ROOT / "deploy" / "helm" / "values.yaml").read_text()
    assert f"--version {version}" in values


def _github_workflow_errors(workflow: dict[Any, Any]) -> list[str]:
    """Errors against SchemaStore's GitHub workflow schema, as vendored by check-jsonschema."""
    pytest.importorskip("check_jsonschema", reason="check-jsonschema (dev extra) not installed")
    schemas = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((schemas / "github-workflows.json").read_text())
    document = {("on" if key is True else key): value for key, value in workflow.items()}
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_workflow_matches_githubs_workflow_schema(workflow) -> None:
    assert _github_workflow_errors(workflow) == []
    broken = copy.deepcopy(workflow)
    broken["jobs"]["test"]["runs_on"] = broken["jobs"]["test"].pop("runs-on")
    assert _github_workflow_errors(broken)
