"""Pipeline metrics on a real store: deliveries, verdicts, decisions, publication, retention."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from dagster_project.defs.operations.metrics import pipeline_metrics
from dagster_project.defs.render.assets import turntable_360
from dagster_project.lib.k8s import RenderPodResource
from dagster_project.lib.pushgateway import PushgatewayResource
from dagster_project.lib.resources import (
    ObjectStoreResource,
    QASettingsResource,
    TurntableSettingsResource,
)
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.operations import metrics
from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore, ObjectStore
from shazam_assets.qa import decisions
from tests.builders import ASIN, edit_manifest, pack, product, rewrite_zip, store_delivery
from tests.test_cli import shazam

OTHER = "B0TESTBBB2"
NAMES = {
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
}


def _populate(store: ObjectStore, root: Path) -> dict[str, Any]:
    """ASIN: v1 rejected by QA, v2 approved and published (retention deletes v1).
    OTHER (another artist): a broken delivery rejected by validation, then one awaiting QA."""
    good = pack(root, product(root))
    v1 = store_delivery(store, good, name="first.zip")
    decisions.record_decision(
        store,
        asin=ASIN,
        version=v1,
        verdict="reject",
        reviewer="Rita",
        notes="handle colour is wrong",
    )
    v2 = store_delivery(store, good, name="second.zip")
    decisions.record_decision(store, asin=ASIN, version=v2, verdict="approve", reviewer="Rita")
    promotion = decisions.promote(store, ASIN, v2)
    other = pack(root, product(root), asin=OTHER, artist="Other Artist", name="other.zip")
    broken = rewrite_zip(
        other,
        root / "broken.zip",
        edit={"manifest.json": edit_manifest(lambda m: m.update(asin="B0OTHER001"))},
    )
    store.put_file(f"uploads/{OTHER}/broken.zip", broken)
    verdict = ingest.validate_upload(
        store, ingest.resolve_upload(store, OTHER, key=f"uploads/{OTHER}/broken.zip")
    )
    assert not verdict.report.ok
    store_delivery(store, other, asin=OTHER)
    tombstone = json.loads(store.get_bytes(layout.tombstone_key(ASIN, v1)))
    return {"codes": list(verdict.report.codes), "tombstone": tombstone, "promotion": promotion}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[LocalStore, dict[str, Any]]:
    root = tmp_path_factory.mktemp("metrics")
    store = LocalStore(root / "store")
    return store, _populate(store, root)


def _families(text: str) -> dict[str, list[Any]]:
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def _value(samples: dict[str, list[Any]], name: str, **labels: str) -> float:
    (match,) = [
        s.value for s in samples[name] if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return float(match)


def test_metrics_count_what_happened_in_the_store(world) -> None:
    store, facts = world
    m = metrics.compute_metrics(store)
    s = m.summary()
    assert s["deliveries_received"] == 4
    assert m.deliveries.groupby("artist").size().to_dict() == {"Test Artist": 2, "Other Artist": 2}
    assert s["validation_rejections"] == 1 and s["validation_rejection_rate"] == pytest.approx(
        1 / 4
    )
    assert m.rejections.code.tolist() == facts["codes"] and len(facts["codes"]) >= 1
    assert m.rejections.artist.tolist() == ["Other Artist"] * len(facts["codes"])  # from its ASIN
    assert s["qa_rejection_rate"] == pytest.approx(0.5)
    assert s["qa_backlog"] == 1 and m.backlog.asin.tolist() == [OTHER]
    assert s["bytes_reclaimed"] == facts["tombstone"]["bytes_reclaimed"] > 0
    assert facts["promotion"].deletions[0].bytes_reclaimed == facts["tombstone"]["bytes_reclaimed"]
    published = m.versions[m.versions.published_at.notna()]
    assert published[["asin", "version"]].values.tolist() == [[ASIN, 2]]
    latency = m.latency.set_index(["stage", "quantile"]).seconds
    assert latency[("upload_to_published", 0.5)] >= latency[("decided_to_published", 0.5)] >= 0
    assert m.latency[m.latency.stage == "upload_to_published"].samples.tolist() == [1, 1, 1]
    assert (
        m.latency[m.latency.stage == "upload_to_stored"].samples.iloc[0] == 2
    )  # deleted v1: no manifest left
    daily = m.daily.set_index("artist")
    assert daily.loc["Test Artist", "qa_rejections"] == 1
    assert daily.loc["Test Artist", "bytes_reclaimed"] == facts["tombstone"]["bytes_reclaimed"]
    assert daily.loc["Other Artist", "validation_rejections"] == 1
    assert math.isnan(s["search_success_rate"]) and s["render_failures"] == 0


def test_prometheus_text_parses_with_the_agreed_names(world) -> None:
    store, facts = world
    extra = metrics.OrchestratorFacts(
        search_success_rate={ASIN: 0.8, OTHER: 0.6},
        sensor_last_tick={"upload_sensor": 1_700_000_000.0},
    )
    samples = _families(metrics.to_prometheus(metrics.compute_metrics(store, facts=extra)))
    assert set(samples) == NAMES
    assert _value(samples, "shazam_deliveries_received_total", artist="Other Artist") == 2
    assert _value(samples, "shazam_validation_rejections_total", code=facts["codes"][0]) == 1
    assert _value(samples, "shazam_qa_backlog") == 1
    assert _value(samples, "shazam_qa_sla_seconds") == 24 * 3600
    assert _value(samples, "shazam_bytes_reclaimed_total") == facts["tombstone"]["bytes_reclaimed"]
    assert _value(samples, "shazam_search_success_rate") == pytest.approx(0.7)
    assert (
        _value(samples, "shazam_sensor_last_tick_timestamp_seconds", sensor="upload_sensor")
        == 1.7e9
    )
    stages = {
        (s.labels["stage"], s.labels["quantile"]) for s in samples["shazam_stage_latency_seconds"]
    }
    assert stages == {(st, q) for st in metrics.STAGES for q in ("0.5", "0.9", "0.99")}


def test_parquet_tables_round_trip_through_the_store(world, tmp_path) -> None:
    store, _ = world
    m = metrics.compute_metrics(store)
    target = LocalStore(tmp_path / "out")
    keys = metrics.write_parquet(m, target)
    assert sorted(keys) == sorted(f"metrics/{name}.parquet" for name in m.tables())
    for name, table in m.tables().items():
        back = metrics.read_parquet(target, name)
        assert back.columns.tolist() == table.columns.tolist() and len(back) == len(table), name
    versions = metrics.read_parquet(target, "versions")
    assert versions.bytes_reclaimed.sum() == m.versions.bytes_reclaimed.sum()
    assert versions.published_at.dropna().tolist() == m.versions.published_at.dropna().tolist()


def test_report_command_writes_html_with_plots(world, tmp_path) -> None:
    store, _ = world
    out = tmp_path / "report.html"
    shazam("report", "--out", str(out), store=store.root, check_code=0)
    page = out.read_text()
    assert page.count('src="data:image/png;base64,') >= 5
    assert "http://" not in page and "https://" not in page  # nothing fetched from a CDN


def test_metrics_endpoint_computes_then_serves_the_latest_snapshot(world, tmp_path) -> None:
    store, _ = world
    client = TestClient(metrics.create_metrics_app(store), base_url="http://localhost")
    fresh = client.get("/metrics")
    assert fresh.status_code == 200 and fresh.headers["content-type"].startswith("text/plain")
    assert _value(_families(fresh.text), "shazam_qa_backlog") == 1
    copy = LocalStore(tmp_path / "snap")
    copy.put_bytes(metrics.LATEST_PROM_KEY, b"shazam_qa_backlog 7.0\n")
    served = TestClient(metrics.create_metrics_app(copy), base_url="http://localhost").get(
        "/metrics"
    )
    assert _value(_families(served.text), "shazam_qa_backlog") == 7


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_PUT(self) -> None:
        self.received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_asset_materializes_with_orchestrator_facts_and_pushes(
    world, tmp_path, monkeypatch
) -> None:
    store, _ = world
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SHAZAM_PUSHGATEWAY_URL", f"127.0.0.1:{server.server_port}")
    resources = {
        "store": ObjectStoreResource(url=store.root.as_uri()),
        "qa_settings": QASettingsResource(),
        "pushgateway": PushgatewayResource(),
        "turntable_settings": TurntableSettingsResource(frames=8, size=64),
        "render_pod": RenderPodResource(),  # the render in the step, as on a laptop
    }
    try:
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("asin", [ASIN])
            failed = dg.materialize(
                [turntable_360],
                partition_key=ASIN,
                instance=instance,
                resources=resources,
                run_config={"ops": {"turntable_360": {"config": {"version": 99}}}},
                raise_on_error=False,
            )
            assert not failed.success  # v99 does not exist: a real render failure
            rendered = dg.materialize(
                [turntable_360], partition_key=ASIN, instance=instance, resources=resources
            )
            assert rendered.success  # the published v2, 8 frames of 64 px
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "search_index", partition=ASIN, metadata={"search_success_rate": 0.75}
                )
            )
            result = dg.materialize([pipeline_metrics], instance=instance, resources=resources)
            assert result.success
            (event,) = result.get_asset_materialization_events()
            meta = event.materialization.metadata
            assert meta["deliveries_received"].value == 4 and meta["qa_backlog"].value == 1
            assert meta["render_failures"].value == 1 and meta["search_success_rate"].value == 0.75
    finally:
        server.shutdown()
    samples = _families(store.get_bytes(metrics.LATEST_PROM_KEY).decode())
    assert _value(samples, "shazam_render_failures_total") == 1
    manifest = json.loads(store.get_bytes(f"renders/{ASIN}/v2/manifest.json"))
    assert _value(samples, "shazam_render_gpu_seconds_total") == pytest.approx(
        manifest["timings_s"]["total"]
    )
    assert manifest["timings_s"]["total"] > 0
    assert store.exists("metrics/versions.parquet") and store.exists("metrics/daily.parquet")
    report = store.get_bytes("metrics/report.html").decode()  # the HTML report, same figures
    assert (
        "<th>search success rate</th><td>0.75</td>" in report
        and "<th>render failures</th><td>1</td>" in report
    )
    ((path, body),) = _Gateway.received
    assert path == "/metrics/job/shazam_pipeline"
    assert _value(_families(body.decode()), "shazam_search_success_rate") == 0.75


def test_an_empty_store_gives_zeros_and_undefined_rates(tmp_path) -> None:
    """A new deployment scrapes cleanly: counts are 0, rates with nothing to divide are NaN."""
    empty = LocalStore(tmp_path / "empty")
    m = metrics.compute_metrics(empty)
    samples = _families(metrics.to_prometheus(m))
    assert (
        _value(samples, "shazam_qa_backlog") == 0
        and _value(samples, "shazam_render_failures_total") == 0
    )
    assert math.isnan(_value(samples, "shazam_qa_rejection_rate"))
    assert len(metrics.write_parquet(m, empty)) == len(m.tables())
