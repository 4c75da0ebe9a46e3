"""deploy/monitoring/: the alert rules pass promtool's check and unit tests, every alert is tested
firing and silent, dashboards query only metrics that exist, and the kube-prometheus-stack values
load exactly these rules and every dashboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_files import DEPLOY, load

MONITORING = DEPLOY / "monitoring"
ALERTS = MONITORING / "alerts.yaml"
ALERT_TESTS = MONITORING / "alerts.test.yaml"
DASHBOARDS = MONITORING / "dashboards"
STACK_VALUES = MONITORING / "values-kube-prometheus-stack.yaml"
KUSTOMIZATION = MONITORING / "kustomization.yaml"

# What shazam_assets/operations/metrics.py exports, and the two exporters the rules and dashboards also read.
SHAZAM_METRICS = {
    "shazam_deliveries_received_total",
    "shazam_validation_rejections_total",
    "shazam_validation_rejection_rate",
    "shazam_qa_rejection_rate",
    "shazam_qa_backlog",
    "shazam_qa_backlog_oldest_age_seconds",
    "shazam_qa_sla_seconds",
    "shazam_stage_latency_seconds",
    "shazam_render_gpu_seconds_total",
    "shazam_render_failures_total",
    "shazam_bytes_reclaimed_total",
    "shazam_search_success_rate",
    "shazam_sensor_last_tick_timestamp_seconds",
    "shazam_metrics_generated_timestamp_seconds",
    "shazam_production_completed_total",
    "shazam_production_step_seconds",
    "shazam_production_assigned",
}
EXPORTER_METRICS = {
    "aws_sqs_approximate_age_of_oldest_message_maximum",
    "aws_sqs_approximate_number_of_messages_visible_maximum",
    "DCGM_FI_DEV_GPU_UTIL",
}
KNOWN_METRICS = SHAZAM_METRICS | EXPORTER_METRICS
# An identifier followed by `(` is a function, one followed by `{` or standing alone a metric; the
# words PromQL itself uses are not metrics.
_PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
}
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, strings, ranges dropped)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range and subquery durations
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names: set[str] = set()
    for match in _IDENT.finditer(bare):
        rest = bare[match.end() :].lstrip()
        word = match.group()
        if rest.startswith("(") or word.lower() in _PROMQL_WORDS or word.startswith("$"):
            continue
        if match.start() > 0 and bare[match.start() - 1] in "$0123456789.":
            continue  # $__range, numbers such as 1e3
        names.add(word)
    return names


def test_metric_names_finds_metrics_and_skips_the_rest() -> None:
    expr = (
        'sum by (artist) (increase(shazam_deliveries_received_total{artist=~"$artist"}[1d]))'
        " > on (job) group_left shazam_qa_sla_seconds and time() - x_total offset 5m"
    )
    assert metric_names(expr) == {
        "shazam_deliveries_received_total",
        "shazam_qa_sla_seconds",
        "x_total",
    }


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in load(ALERTS)["groups"] for rule in group["rules"] if "alert" in rule]


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        reason = "promtool is not installed (Debian package `prometheus`; `make setup` installs it)"
        print(reason)
        pytest.skip(reason)
    return promtool


def _run(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_accepts_the_rule_file() -> None:
    result = _run("check", "rules", ALERTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = _run("test", "rules", ALERT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_catch_a_changed_threshold(tmp_path: Path) -> None:
    """The unit tests hold the rules to their thresholds: loosen one and they fail."""
    text = ALERTS.read_text()
    assert "> 300" in text
    (tmp_path / ALERTS.name).write_text(text.replace("> 300", "> 900"))
    (tmp_path / ALERT_TESTS.name).write_text(ALERT_TESTS.read_text())
    result = _run("test", "rules", ALERT_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "ShazamSensorNotTicking" in result.stdout + result.stderr


def test_every_alert_has_a_severity_and_runbook_annotations() -> None:
    for alert in _alerts():
        assert alert["labels"]["severity"] in {"critical", "warning"}, alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]
        assert "Runbook:" in alert["annotations"]["description"], alert["alert"]


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in load(ALERT_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
    names = {alert["alert"] for alert in _alerts()}
    assert names == {
        "ShazamQABacklogSLABreach",
        "ShazamRenderFailures",
        "ShazamValidationRejectionSpike",
        "ShazamUploadQueueBacklog",
        "ShazamDeadLetterQueueNotEmpty",
        "ShazamSensorNotTicking",
        "ShazamMetricsStale",
    }
    assert names - firing == set(), "alerts never tested firing"
    assert names - silent == set(), "alerts never tested silent"
    assert (firing | silent) - names == set(), "tests of alerts that do not exist"


def test_rules_read_only_known_metrics() -> None:
    for alert in _alerts():
        assert metric_names(alert["expr"]) <= KNOWN_METRICS, alert["alert"]


def _dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return found


def test_dashboards_cover_what_operations_watch() -> None:
    read: dict[str, set[str]] = {name: set() for name in _dashboards()}
    for name, board in _dashboards().items():
        for panel in _panels(board):
            for target in panel["targets"]:
                read[name] |= metric_names(target["expr"])
    everything = set().union(*read.values())
    for metric in (
        "shazam_deliveries_received_total",
        "shazam_qa_rejection_rate",
        "shazam_stage_latency_seconds",
        "DCGM_FI_DEV_GPU_UTIL",
        "shazam_bytes_reclaimed_total",
        "shazam_search_success_rate",
        "shazam_production_completed_total",
        "shazam_production_step_seconds",
        "shazam_production_assigned",
    ):
        assert metric in everything, metric
    assert all(read.values()), "a dashboard that queries nothing"


@pytest.mark.parametrize("name", sorted(p.name for p in DASHBOARDS.glob("*.json")))
def test_dashboard_is_valid_and_queries_known_metrics(name: str) -> None:
    board = json.loads((DASHBOARDS / name).read_text())
    assert board["uid"] and board["title"].startswith("SHAZAM / ")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    panels = _panels(board)
    assert panels and len({p["id"] for p in panels}) == len(panels), "panel ids must be unique"
    for panel in panels:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
            names = metric_names(target["expr"])
            assert names and names <= KNOWN_METRICS, (panel["title"], names - KNOWN_METRICS)


def test_dashboard_uids_are_unique() -> None:
    uids = [board["uid"] for board in _dashboards().values()]
    assert len(set(uids)) == len(uids)


def test_stack_values_load_exactly_the_tested_rules() -> None:
    """Helm cannot read alerts.yaml beside a remote chart, so the values carry a copy: it must be
    the file promtool tested."""
    values = load(STACK_VALUES)
    assert values["additionalPrometheusRulesMap"]["shazam"] == load(ALERTS)
    assert "deploy/monitoring/alerts.yaml" in STACK_VALUES.read_text()


def test_stack_values_provision_every_dashboard() -> None:
    """Grafana's sidecar loads the ConfigMap kustomization.yaml builds from every dashboard file."""
    sidecar = load(STACK_VALUES)["grafana"]["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    (generator,) = load(KUSTOMIZATION)["configMapGenerator"]
    assert generator["options"]["labels"] == {sidecar["label"]: sidecar["labelValue"]}
    assert sidecar["folderAnnotation"] in generator["options"]["annotations"]
    files = {MONITORING / f for f in generator["files"]}
    assert files == set(DASHBOARDS.glob("*.json"))
    text = STACK_VALUES.read_text()
    assert "kubectl apply -k deploy/monitoring/" in text and generator["name"] in text


def test_stack_values_scrape_shazam_serve_metrics() -> None:
    (monitor,) = load(STACK_VALUES)["prometheus"]["additionalServiceMonitors"]
    (endpoint,) = monitor["endpoints"]
    assert endpoint["path"] == "/metrics"
    # `shazam serve` answers /metrics only on its internal port, never on the public `http` one
    assert endpoint["port"] == "metrics"
    assert monitor["namespaceSelector"]["matchNames"] == ["shazam"]
    assert monitor["selector"]["matchLabels"]


# --- the CloudWatch exporter's config produces the aws_sqs_* series the alerts read ----------

CLOUDWATCH_VALUES = MONITORING / "values-cloudwatch-exporter.yaml"
# Statistics the exporter requests when a rule names none (CloudWatchCollector.loadConfig).
_CLOUDWATCH_DEFAULT_STATISTICS = ("Sum", "SampleCount", "Minimum", "Maximum", "Average")
# Every series the exporter writes carries these (it sets job and instance itself; Prometheus
# then attaches its target's job and instance), whatever the config.
_TARGET_LABELS = frozenset({"job", "instance"})
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_TEMPLATE_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


def _cloudwatch_name(name: str) -> str:
    """The Java exporter's toSnakeCase then safeName: `ApproximateAgeOfOldestMessage` ->
    `approximate_age_of_oldest_message`, `aws/sqs` -> `aws_sqs`."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return re.sub(r"__+", "_", re.sub(r"[^a-zA-Z0-9:_]", "_", snake))


def cloudwatch_series(config: dict[str, Any]) -> dict[str, set[str]]:
    """Metric name -> label names the CloudWatch exporter exports for `config`: one gauge per
    rule and statistic, aws_<namespace lower-cased>_<metric>_<statistic>, labelled by the rule's
    dimensions (all in snake_case)."""
    series: dict[str, set[str]] = {}
    for rule in config["metrics"]:
        base = _cloudwatch_name(f"{rule['aws_namespace'].lower()}_{rule['aws_metric_name']}")
        labels = set(_TARGET_LABELS) | {_cloudwatch_name(d) for d in rule.get("aws_dimensions", [])}
        for statistic in rule.get("aws_statistics", _CLOUDWATCH_DEFAULT_STATISTICS):
            series.setdefault(f"{base}_{_cloudwatch_name(statistic)}", set()).update(labels)
    return series


def test_cloudwatch_series_follows_the_exporter_readme_example() -> None:
    """The exporter's README: AWS/ELB RequestCount by [AvailabilityZone, LoadBalancerName], Sum
    exports aws_elb_request_count_sum{load_balancer_name=..., availability_zone=...}."""
    config = {
        "metrics": [
            {
                "aws_namespace": "AWS/ELB",
                "aws_metric_name": "RequestCount",
                "aws_dimensions": ["AvailabilityZone", "LoadBalancerName"],
                "aws_statistics": ["Sum"],
            }
        ]
    }
    assert cloudwatch_series(config) == {
        "aws_elb_request_count_sum": {"job", "instance", "availability_zone", "load_balancer_name"}
    }
    config["metrics"][0].pop("aws_statistics")
    assert "aws_elb_request_count_sample_count" in cloudwatch_series(config)


def _label_names(matchers: str) -> set[str]:
    """Label names of a selector's matchers (`job="x",queue_name=~".+-dlq"` -> job, queue_name)."""
    return set(_MATCHER_LABEL.findall(re.sub(r'"(?:[^"\\]|\\.)*"', '""', matchers)))


def _cloudwatch_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(load(CLOUDWATCH_VALUES)["config"])
    return config


def _sqs_references() -> dict[str, set[str]]:
    """Every aws_sqs_* metric the alerts (expressions, annotations) and their promtool tests
    (input series, expected labels) read, with the label names read from it."""
    found: dict[str, set[str]] = {}
    expected: dict[str, set[str]] = {}  # alert name -> labels its tests expect it to carry
    for case in load(ALERT_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            for exp in check["exp_alerts"] or []:
                expected.setdefault(check["alertname"], set()).update(exp["exp_labels"])
    for alert in _alerts():
        sqs = {m for m in metric_names(alert["expr"]) if m.startswith("aws_sqs_")}
        for metric in sqs:
            found.setdefault(metric, set())
        for metric, matchers in _SELECTOR.findall(alert["expr"]):
            if metric.startswith("aws_sqs_"):
                found[metric] |= _label_names(matchers)
        templated = set(_TEMPLATE_LABEL.findall(json.dumps(alert["annotations"])))
        tested = expected.get(alert["alert"], set())
        for metric in sqs:  # labels the rule itself sets are not the exporter's
            found[metric] |= (templated | tested) - set(alert.get("labels", {}))
    for case in load(ALERT_TESTS)["tests"]:
        for series in case.get("input_series", []):
            match = _SELECTOR.fullmatch(series["series"].strip())
            if match and match.group(1).startswith("aws_sqs_"):
                labels = _label_names(match.group(2))
                found.setdefault(match.group(1), set()).update(labels)
    return found


def _not_produced(config: dict[str, Any], referenced: dict[str, set[str]]) -> list[str]:
    produced = cloudwatch_series(config)
    return [
        f"{metric}{sorted(labels - produced.get(metric, set()))}"
        for metric, labels in sorted(referenced.items())
        if metric not in produced or not labels <= produced[metric]
    ]


def test_sqs_alerts_read_series_the_cloudwatch_exporter_config_produces() -> None:
    referenced = _sqs_references()
    assert set(referenced) == {
        "aws_sqs_approximate_age_of_oldest_message_maximum",
        "aws_sqs_approximate_number_of_messages_visible_maximum",
    }
    assert all("queue_name" in labels for labels in referenced.values()), referenced
    assert {m for m in EXPORTER_METRICS if m.startswith("aws_")} <= set(referenced)
    assert _not_produced(_cloudwatch_config(), referenced) == []


def test_sqs_check_fails_without_a_metric_or_its_dimension() -> None:
    """Dropping any metric rule, or the QueueName dimension, leaves an alert reading nothing."""
    referenced = _sqs_references()
    for i in range(len(_cloudwatch_config()["metrics"])):
        config = _cloudwatch_config()
        del config["metrics"][i]
        assert _not_produced(config, referenced), f"metric rule {i} is not needed"
    config = _cloudwatch_config()
    for rule in config["metrics"]:
        rule["aws_dimensions"] = []
    assert any("queue_name" in miss for miss in _not_produced(config, referenced))


def test_cloudwatch_values_select_shazam_queues_at_sqs_resolution() -> None:
    config = _cloudwatch_config()
    assert config["region"] and config["period_seconds"] == 60
    assert config["delay_seconds"] < 300 and config["set_timestamp"] is False
    for rule in config["metrics"]:
        (pattern,) = rule["aws_dimension_select_regex"]["QueueName"]
        for queue in ("shazam-prod-upload-events", "shazam-prod-upload-events-dlq"):
            assert re.fullmatch(pattern, queue), (pattern, queue)
        assert not re.fullmatch(pattern, "other-team-jobs")


def test_cloudwatch_values_are_scraped_with_an_irsa_role() -> None:
    values = load(CLOUDWATCH_VALUES)
    release = re.search(
        r"helm upgrade --install (\S+) prometheus-community/kube-prometheus-stack",
        STACK_VALUES.read_text(),
    )
    assert release is not None
    assert values["serviceMonitor"]["enabled"] is True
    assert values["serviceMonitor"]["labels"] == {"release": release.group(1)}
    assert "serviceMonitorSelector" not in json.dumps(load(STACK_VALUES))
    role = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert "REPLACE" in role and "cloudwatch_exporter_role_arn" in CLOUDWATCH_VALUES.read_text()
    assert values["ingress"]["enabled"] is False
