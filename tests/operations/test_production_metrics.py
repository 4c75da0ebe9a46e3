"""Artist productivity from real production events: ASINs completed, step durations per artist,
throughput per day, the work each artist holds now, in the tables and the Prometheus text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shazam_assets.ingest.scans import register_scan
from shazam_assets.operations import metrics
from shazam_assets.platform import layout
from shazam_assets.platform.identity import Person
from shazam_assets.platform.storage import LocalStore
from shazam_assets.production import tracking
from tests.builders import upload_scan

LEAD = Person(sub="lead|1", name="Lena Lead")
ANNA = Person(sub="auth0|anna", name="Anna Artist")
BEN = Person(sub="auth0|ben", email="ben@example.com")  # no name: shown by email
DONE, WORKING, MOVED = "B0PRODDONE", "B0PRODWORK", "B0PRODMOVE"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[LocalStore, datetime]:
    """DONE: Anna did every stage (1 h, 2 h, 3 h), then uploaded the ZIP. WORKING: Ben did
    cleanup (2 h) and UV (2 h). MOVED: Ben did cleanup (30 min), then it went to Anna."""
    root: Path = tmp_path_factory.mktemp("production-metrics")
    store = LocalStore(root / "store")
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(days=1)
    for asin in (DONE, WORKING, MOVED):
        upload_scan(store, root, asin=asin)
        assert register_scan(store, asin, now=t0).ok
    tracking.assign(store, DONE, artist=ANNA, by=LEAD, now=t0)
    for hours, stage in ((1, "cleanup"), (3, "uv"), (6, "texturing")):
        tracking.mark_stage(store, DONE, stage, by=ANNA, now=t0 + timedelta(hours=hours))
    tracking.mark_stage(store, DONE, "texturing", by=ANNA, now=t0 + timedelta(hours=7))  # again
    store.put_bytes(layout.upload_key(DONE, "final.zip"), b"PK\x05\x06" + bytes(18))
    tracking.assign(store, WORKING, artist=BEN, by=LEAD, now=t0)
    tracking.mark_stage(store, WORKING, "cleanup", by=BEN, now=t0 + timedelta(hours=2))
    tracking.mark_stage(store, WORKING, "uv", by=BEN, now=t0 + timedelta(hours=4))
    tracking.assign(store, MOVED, artist=BEN, by=LEAD, now=t0)
    tracking.mark_stage(store, MOVED, "cleanup", by=BEN, now=t0 + timedelta(minutes=30))
    tracking.assign(store, MOVED, artist=ANNA, by=LEAD, now=t0 + timedelta(hours=1))
    return store, t0


def _seconds(m: metrics.PipelineMetrics, artist: str, step: str) -> list[float]:
    rows = m.production[(m.production.artist == artist) & (m.production.step == step)]
    return sorted(rows.seconds.tolist())


def test_step_durations_and_completions_per_artist(world) -> None:
    store, t0 = world
    m = metrics.compute_metrics(store)
    assert _seconds(m, "Anna Artist", "assigned_to_cleanup") == [3600.0]
    assert _seconds(m, "Anna Artist", "cleanup_to_uv") == [7200.0]
    assert _seconds(m, "Anna Artist", "uv_to_texturing") == [10800.0]  # the repeat is not counted
    (upload,) = _seconds(m, "Anna Artist", "texturing_to_upload")
    uploaded = store.head(layout.upload_key(DONE, "final.zip")).last_modified
    assert upload == pytest.approx((uploaded - (t0 + timedelta(hours=6))).total_seconds())
    assert _seconds(m, "ben@example.com", "assigned_to_cleanup") == [1800.0, 7200.0]
    assert _seconds(m, "ben@example.com", "cleanup_to_uv") == [7200.0]
    assert _seconds(m, "ben@example.com", "uv_to_texturing") == []
    work = m.assignments.set_index("asin")
    assert work.loc[DONE, "next_stage"] == "upload" and work.loc[DONE, "artist"] == "Anna Artist"
    assert work.loc[WORKING, "next_stage"] == "texturing"
    assert work.loc[MOVED, "next_stage"] == "cleanup" and work.loc[MOVED, "artist"] == "Anna Artist"
    daily = m.daily.set_index(["day", "artist"])
    day = (t0 + timedelta(hours=6)).strftime("%Y-%m-%d")
    assert daily.loc[(day, "Anna Artist"), "production_completed"] == 1
    assert daily.production_completed.sum() == 1


def test_prometheus_carries_the_productivity_series(world) -> None:
    store, _ = world
    text = metrics.to_prometheus(metrics.compute_metrics(store))
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]

    def value(name: str, **labels: str) -> float:
        (found,) = [
            s.value
            for s in samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        return float(found)

    assert value("shazam_production_completed_total", artist="Anna Artist") == 1
    assert not [
        s for s in samples if s.name == "shazam_production_completed_total" and "ben" in str(s)
    ]
    assert (
        value(
            "shazam_production_step_seconds",
            artist="Anna Artist",
            step="cleanup_to_uv",
            quantile="0.5",
        )
        == 7200
    )
    assert value(
        "shazam_production_step_seconds",
        artist="ben@example.com",
        step="assigned_to_cleanup",
        quantile="0.5",
    ) == pytest.approx(4500)
    assert value("shazam_production_assigned", artist="Anna Artist", next_stage="upload") == 1
    assert value("shazam_production_assigned", artist="Anna Artist", next_stage="cleanup") == 1
    assert (
        value("shazam_production_assigned", artist="ben@example.com", next_stage="texturing") == 1
    )


def test_the_production_tables_round_trip_through_parquet(world) -> None:
    store, _ = world
    m = metrics.compute_metrics(store)
    metrics.write_parquet(m, store)
    back = metrics.read_parquet(store, "production")
    assert len(back) == len(m.production) == 7
    assert set(metrics.read_parquet(store, "assignments").asin) == {DONE, WORKING, MOVED}
