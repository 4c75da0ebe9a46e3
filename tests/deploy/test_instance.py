"""deploy/dagster/dagster.yaml and workspace.yaml: valid for Dagster itself, and the same
instance the Helm chart renders from deploy/helm/values.yaml.

Dagster's own checks run on them: `dagster_instance_config` (the loader every DagsterInstance
uses), each configurable class's config schema, `process_config` to resolve the `env:`
references with the ConfigMap's values, and a real instance for the concurrency settings the
daemon enforces. No database or cluster: the storage and launcher classes are not started.
"""

from __future__ import annotations

import copy
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.storage.config import pg_config
from dagster._core.workspace.config_schema import process_workspace_config
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

from dagster_project.lib import k8s
from tests.deploy.deploy_files import (
    INSTANCE,
    NAMESPACE,
    RELEASE,
    VALUES,
    WORKSPACE,
    check_script,
    load,
    manifests,
)

PASSWORD_ENV = "DAGSTER_PG_PASSWORD"  # from the Secret dagster-postgresql-secret, not the ConfigMap


@pytest.fixture(scope="module")
def instance() -> dict[str, Any]:
    return load(INSTANCE)


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return load(VALUES)


@pytest.fixture
def configmap_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a pod gets from the `shazam-env` ConfigMap and the password Secret."""
    data = dict(manifests()[f"ConfigMap/{k8s.ENV_CONFIG_MAP}"]["data"])
    data[PASSWORD_ENV] = "from-the-secret"
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    return data


def test_instance_passes_dagsters_instance_and_class_schemas() -> None:
    assert check_script().instance_errors(INSTANCE.read_text()) == []


def test_instance_check_refuses_run_limits_in_two_places(instance) -> None:
    """The shape values.yaml had before: limits on the run coordinator while pools are set."""
    broken = copy.deepcopy(instance)
    broken["run_coordinator"]["config"] = {"max_concurrent_runs": 20}
    found = check_script().instance_errors(yaml.safe_dump(broken))
    assert found and "incompatible with the `concurrency > runs` config" in found[0]


def test_instance_check_refuses_unknown_launcher_fields(instance) -> None:
    broken = copy.deepcopy(instance)
    broken["run_launcher"]["config"]["job_namespac"] = "typo"
    found = check_script().instance_errors(yaml.safe_dump(broken))
    assert any('unexpected config entry "job_namespac"' in error for error in found), found


def _env_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_env_names(value) for value in node.values()))
    return set()


def test_env_references_are_all_set_by_the_configmap_or_the_password_secret(instance) -> None:
    configmap = manifests()[f"ConfigMap/{k8s.ENV_CONFIG_MAP}"]["data"]
    assert _env_names(instance) - set(configmap) == {PASSWORD_ENV}
    launcher = instance["run_launcher"]["config"]
    secret = manifests()[f"Secret/{launcher['postgres_password_secret']}"]
    assert "postgresql-password" in secret["stringData"]  # the key dagster-k8s reads


def test_storage_resolves_to_the_configmaps_database(instance, configmap_env) -> None:
    result = process_config(pg_config(), instance["storage"]["postgres"])
    assert result.success and result.value is not None, result.errors
    db = result.value["postgres_db"]
    assert db["hostname"] == configmap_env["DAGSTER_PG_HOST"]
    assert db["port"] == int(configmap_env["DAGSTER_PG_PORT"])
    assert db["password"] == "from-the-secret"
    assert db["scheme"] == "postgresql+psycopg2"  # SQLAlchemy 2.1's default is psycopg 3
    # TLS through libpq's PGSSLMODE, so a local test server needs no certificate.
    assert configmap_env["PGSSLMODE"] == "require"


def test_env_references_fail_without_the_configmap(instance, monkeypatch) -> None:
    for name in _env_names(instance):
        monkeypatch.delenv(name, raising=False)
    result = process_config(pg_config(), instance["storage"]["postgres"])
    assert not result.success
    assert "DAGSTER_PG_HOST" in str(result.errors)


def test_compute_logs_resolve_to_the_configmaps_bucket(instance, values, configmap_env) -> None:
    logs = instance["compute_logs"]
    assert (logs["module"], logs["class"]) == (
        "dagster_aws.s3.compute_log_manager",
        "S3ComputeLogManager",
    )
    result = process_config(S3ComputeLogManager.config_type(), logs["config"])
    assert result.success and result.value is not None, result.errors
    assert result.value["bucket"] == configmap_env["DAGSTER_COMPUTE_LOGS_BUCKET"]
    assert result.value["prefix"] == configmap_env["DAGSTER_COMPUTE_LOGS_PREFIX"]
    chart = values["computeLogManager"]["config"]["s3ComputeLogManager"]
    assert {key: chart[key] for key in ("bucket", "prefix")} == {
        key: logs["config"][key] for key in ("bucket", "prefix")
    }
    assert chart["uploadInterval"] == logs["config"]["upload_interval"]


def test_run_launcher_is_the_one_the_chart_renders(instance, values) -> None:
    launcher = instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    config, chart = launcher["config"], values["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = chart["runK8sConfig"]
    assert config == {
        "load_incluster_config": chart["loadInclusterConfig"],
        "job_namespace": chart["jobNamespace"] or NAMESPACE,  # null: the release namespace
        "image_pull_policy": chart["imagePullPolicy"],
        "service_account_name": values["global"]["serviceAccountName"],
        "dagster_home": "/opt/dagster/dagster_home",  # the chart's global.dagsterHome default
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
        "env_config_maps": [source["name"] for source in chart["envConfigMaps"]],
        "env_secrets": [source["name"] for source in chart["envSecrets"]],
        "env_vars": chart["envVars"],
        "run_k8s_config": {
            "container_config": run_k8s["containerConfig"],
            "pod_spec_config": run_k8s["podSpecConfig"],
            "job_spec_config": run_k8s["jobSpecConfig"],
        },
    }
    assert manifests()[f"Namespace/{config['job_namespace']}"]


def test_daemon_enforces_the_charts_run_and_pool_limits(instance, values) -> None:
    """A real instance from dagster.yaml's concurrency settings, asked what the daemon uses."""
    overrides = {key: instance[key] for key in ("run_coordinator", "concurrency")}
    with dg.instance_for_test(overrides=overrides) as test_instance:
        settings = test_instance.get_concurrency_config()
    runs, pools = values["concurrency"]["runs"], values["concurrency"]["pools"]
    assert settings.run_queue_config is not None
    assert settings.run_queue_config.max_concurrent_runs == runs["maxConcurrentRuns"]
    assert list(settings.run_queue_config.tag_concurrency_limits) == runs["tagConcurrencyLimits"]
    assert settings.pool_config.default_pool_limit == pools["defaultLimit"]
    granularity = settings.pool_config.pool_granularity
    assert granularity is not None and granularity.value == pools["granularity"]


def test_monitoring_retries_and_telemetry_match_the_chart(instance, values) -> None:
    daemon = values["dagsterDaemon"]
    monitoring = daemon["runMonitoring"]
    assert instance["run_monitoring"] == {
        "enabled": monitoring["enabled"],
        "start_timeout_seconds": monitoring["startTimeoutSeconds"],
        "poll_interval_seconds": monitoring["pollIntervalSeconds"],
    }
    retries = daemon["runRetries"]
    assert instance["run_retries"] == {
        "enabled": retries["enabled"],
        "max_retries": retries["maxRetries"],
    }
    assert instance["telemetry"] == values["telemetry"] == {"enabled": False}


def test_workspace_points_at_the_user_code_service(values) -> None:
    workspace = load(WORKSPACE)
    result = process_workspace_config(workspace)
    assert result.success, result.errors
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    (location,) = workspace["load_from"]
    # The chart names the code server's Service after the deployment.
    assert location["grpc_server"] == {
        "host": deployment["name"],
        "port": deployment["port"],
        "location_name": deployment["name"],
    }


def _rendered(instance_text: str) -> str:
    """A `helm template`-like stream: the instance ConfigMap plus one other manifest."""
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{RELEASE}-instance"},
        "data": {"dagster.yaml": instance_text},
    }
    budget = manifests()["PodDisruptionBudget/dagster-webserver"]
    return yaml.safe_dump_all([configmap, budget])


def test_rendered_chart_check_passes_a_valid_render_and_fails_a_broken_one(
    instance, tmp_path, capsys
) -> None:
    script = check_script()
    good = tmp_path / "good.yaml"
    good.write_text(_rendered(INSTANCE.read_text()))
    assert script.main([str(good)]) == 0
    broken = copy.deepcopy(instance)
    broken["run_coordinator"]["config"] = {"tag_concurrency_limits": []}
    bad = tmp_path / "bad.yaml"
    bad.write_text(_rendered(yaml.safe_dump(broken)))
    assert script.main([str(bad)]) == 1
    assert "incompatible with the `concurrency > runs` config" in capsys.readouterr().err
