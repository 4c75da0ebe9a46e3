"""The code location as the UI and daemon load it (a snapshot of what exists)."""

from __future__ import annotations

import dagster as dg

from dagster_project.definitions import defs


def test_definitions_expose_the_ingest_graph_checks_sensors_and_jobs() -> None:
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "artwork",
        "scan_data",
        "delivery",
        "asset_version",
        "qa_review",
        "turntable_360",
        "channel_models",
        "product_page",
        "search_index",
        "pipeline_metrics",
        "revalidation",
    }
    assert graph.get(dg.AssetKey("artwork")).parent_keys == {dg.AssetKey("scan_data")}
    assert graph.get(dg.AssetKey("asset_version")).parent_keys == {dg.AssetKey("delivery")}
    assert graph.get(dg.AssetKey("qa_review")).parent_keys == {dg.AssetKey("asset_version")}
    assert graph.get(dg.AssetKey("turntable_360")).parent_keys == {dg.AssetKey("asset_version")}
    assert graph.get(dg.AssetKey("channel_models")).parent_keys == {dg.AssetKey("turntable_360")}
    assert graph.get(dg.AssetKey("product_page")).parent_keys == {dg.AssetKey("channel_models")}
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == {
        ("scan_data", "scan_data_valid"),
        ("delivery", "delivery_valid"),
        ("asset_version", "qa_approved"),
        ("qa_review", "qa_visual_match"),
        ("qa_review", "qa_real_world_size"),
        ("qa_review", "qa_placement"),
        ("search_index", "search_finds_product"),
    }
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {  # one group per stage, as the defs/ folders and shazam_assets' stages
        "artwork": "production",
        "scan_data": "ingest",
        "delivery": "ingest",
        "asset_version": "ingest",
        "qa_review": "qa",
        "turntable_360": "render",
        "channel_models": "publish",
        "product_page": "publish",
        "search_index": "search",
        "revalidation": "operations",
        "pipeline_metrics": "operations",
    }
    assert all(graph.get(k).code_version for k in graph.get_all_asset_keys())
    for name in ("delivery", "scan_data"):
        spec = next(iter(defs.resolve_assets_def(name).check_specs))
        assert spec.blocking is True
    for key in graph.get_all_asset_keys() - {dg.AssetKey("pipeline_metrics")}:
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == "asin"
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "scan_sensor",
        "production_sensor",
        "upload_sensor",
        "upload_queue_sensor",
        "qa_decision_sensor",
        "published_sensor",
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
        "metrics_job_schedule",
        "search_rebuild_job_schedule",
        "stale_qa_schedule",
        "stale_render_schedule",
        "stale_validate_schedule",
        "store_housekeeping_job_schedule",
    ]
    assert defs.resolve_job_def("stale_backfill_job") is not None
    assert sorted(j.name for j in defs.jobs) == [
        "ingest_batch_job",
        "ingest_job",
        "metrics_job",
        "publish_job",
        "qa_decision_job",
        "scan_job",
        "search_rebuild_job",
        "stale_backfill_job",
        "store_housekeeping_job",
        "turntable_job",
    ]


def test_code_versions_are_the_stages_logic_versions() -> None:
    """Staleness is Dagster's: an asset's code version is the logic version its stage records
    beside each result, the one `shazam backfill --stale` compares."""
    from shazam_assets.operations import backfill

    graph = defs.resolve_asset_graph()
    for stage, assets in {
        "validate": ("delivery", "revalidation"),
        "qa": ("qa_review",),
        "render": ("turntable_360",),
    }.items():
        for name in assets:
            assert graph.get(dg.AssetKey(name)).code_version == backfill.current_version(stage)  # type: ignore[arg-type]


def test_stages_import_nothing_from_each_other() -> None:
    """A stage folder refers to other stages' assets by key (dagster_project.lib.keys)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "dagster_project"
    stages = sorted(
        p.name for p in (root / "defs").iterdir() if p.is_dir() and not p.name.startswith("_")
    )
    assert stages == ["ingest", "operations", "production", "publish", "qa", "render", "search"]
    for stage in stages:
        for path in (root / "defs" / stage).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    named = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                    foreign = [
                        m
                        for m in named
                        if m.startswith("dagster_project.defs.") and m.split(".")[2] != stage
                    ]
                    assert not foreign, f"{path}: imports {foreign}"
                    assert node.module != "dagster_project.definitions", path
    for path in root.rglob("*.py"):  # only the CLI, which passes the asset graph to the tools
        in_cli = path.stem == "cli" or "cli" in path.relative_to(root).parts
        assert in_cli or "dagster_project.definitions import" not in path.read_text(), path


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


def test_the_installed_package_finds_its_defs_folder(tmp_path) -> None:
    """In the image the package lives in site-packages, with no pyproject.toml near it: the
    code location still finds every stage of its defs/ folder, and the dg project config ships
    inside the package for the `dg` tools."""
    import shutil
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    assert "dg.toml" in package_data["dagster_project"]
    site = tmp_path / "site-packages"
    shutil.copytree(
        root / "dagster_project",
        site / "dagster_project",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (site / "shazam_assets").symlink_to(root / "shazam_assets")
    load = (
        "import dagster_project.definitions as d; "
        "print(d.__file__, len(d.defs.resolve_asset_graph().get_all_asset_keys()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", load],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(site / "dagster_project" / "definitions.py"), "11"]
