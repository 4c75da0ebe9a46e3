"""The code location as the UI and daemon load it (a snapshot of what exists)."""

from __future__ import annotations

import dagster as dg

from dagster_project.definitions import defs


def test_definitions_expose_the_ingest_graph_checks_sensors_and_jobs() -> None:
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "delivery", "asset_version", "qa_review", "turntable_360", "product_page", "search_index",
        "pipeline_metrics", "revalidation",
    }
    assert graph.get(dg.AssetKey("asset_version")).parent_keys == {dg.AssetKey("delivery")}
    assert graph.get(dg.AssetKey("qa_review")).parent_keys == {dg.AssetKey("asset_version")}
    assert graph.get(dg.AssetKey("turntable_360")).parent_keys == {dg.AssetKey("asset_version")}
    assert graph.get(dg.AssetKey("product_page")).parent_keys == {dg.AssetKey("turntable_360")}
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == {
        ("delivery", "delivery_valid"),
        ("asset_version", "qa_approved"),
        ("qa_review", "qa_visual_match"),
        ("qa_review", "qa_real_world_size"),
        ("qa_review", "qa_placement"),
        ("search_index", "search_finds_product"),
    }
    spec = next(iter(defs.resolve_assets_def("delivery").check_specs))
    assert spec.blocking is True
    for key in graph.get_all_asset_keys() - {dg.AssetKey("pipeline_metrics")}:
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == "asin"
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "upload_sensor", "upload_queue_sensor", "qa_decision_sensor", "published_sensor",
        "run_failure_notifier",
    }
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    assert defs.resolve_job_def("ingest_job") is not None
    assert defs.resolve_job_def("qa_decision_job") is not None
    assert defs.resolve_job_def("turntable_job") is not None
    assert defs.resolve_job_def("publish_job") is not None
    assert graph.get(dg.AssetKey("pipeline_metrics")).partitions_def is None
    assert defs.resolve_job_def("metrics_job") is not None
    assert sorted(s.name for s in defs.schedules) == [
        "metrics_job_schedule", "search_rebuild_job_schedule",
        "stale_qa_schedule", "stale_render_schedule", "stale_validate_schedule",
        "store_housekeeping_job_schedule",
    ]
    assert defs.resolve_job_def("stale_backfill_job") is not None


def test_definitions_load_without_environment(monkeypatch) -> None:
    """Nothing reads the environment at import time: loading works with no variables set."""
    import importlib
    import sys

    for name in ("SHAZAM_STORE_URL", "SHAZAM_UPLOAD_QUEUE_URL", "SHAZAM_NOTIFY_URL"):
        monkeypatch.delenv(name, raising=False)
    for module in [m for m in sys.modules if m.startswith("dagster_project")]:
        monkeypatch.delitem(sys.modules, module)
    loaded = importlib.import_module("dagster_project.definitions")
    assert loaded.defs.resolve_job_def("ingest_job")
