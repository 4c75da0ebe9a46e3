"""Production tracking: a lead assigns an ASIN with ok scan data, the assignee marks cleanup,
UV and texturing in order, reassignment starts over, and every refusal has its code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shazam_assets.ingest.scans import register_scan
from shazam_assets.platform import layout
from shazam_assets.platform.identity import Person, artist_id
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.production import tracking
from shazam_assets.production.tracking import ProductionError
from tests.builders import ASIN, upload_scan

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
LEAD = Person(sub="lead|1", name="Lena Lead", email="lena@example.com")
ANNA = Person(sub="auth0|anna", name="Anna Artist", email="anna@example.com")
BEN = Person(sub="auth0|ben", name="", email="ben@example.com")


@pytest.fixture
def scanned(store: ObjectStore, tmp_path: Path) -> ObjectStore:
    upload_scan(store, tmp_path)
    assert register_scan(store, ASIN, now=T0).ok
    return store


def _code(call) -> str:
    with pytest.raises(ProductionError) as refused:
        call()
    assert refused.value.hint
    return refused.value.code


def test_the_whole_production_of_one_asin(scanned: ObjectStore) -> None:
    store = scanned
    assert tracking.registered_asins(store) == [ASIN]
    assert tracking.scan_package(store, ASIN) == tracking.production_state(store, ASIN).scan.files
    assignment = tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0)
    assert (assignment.artist, assignment.assigned_by, assignment.assigned_at) == (ANNA, LEAD, T0)
    assert tracking.assigned_asins(store, ANNA.sub) == [ASIN]
    state = tracking.production_state(store, ASIN)
    assert state.next_stage == "cleanup" and not state.ready_to_upload
    times = {}
    for hours, stage in enumerate(tracking.STAGES, start=1):
        times[stage] = T0 + timedelta(hours=hours)
        event = tracking.mark_stage(store, ASIN, stage, by=ANNA, now=times[stage])
        assert event.stage == stage and event.duration_s == 3600.0
    state = tracking.production_state(store, ASIN)
    assert state.stages == times
    assert state.next_stage is None and state.ready_to_upload
    assert [e.kind for e in state.events] == ["assigned", "cleanup", "uv", "texturing"]
    assert all(e.assignment_id == assignment.assignment_id for e in state.events)


def test_marking_a_stage_again_keeps_the_first_mark(scanned: ObjectStore) -> None:
    tracking.assign(scanned, ASIN, artist=ANNA, by=LEAD, now=T0)
    first = tracking.mark_stage(scanned, ASIN, "cleanup", by=ANNA, now=T0 + timedelta(hours=1))
    again = tracking.mark_stage(scanned, ASIN, "cleanup", by=ANNA, now=T0 + timedelta(hours=2))
    assert again == first
    assert len(tracking.production_state(scanned, ASIN).events) == 2


def test_reassignment_moves_the_work_and_starts_the_stages_over(scanned: ObjectStore) -> None:
    store = scanned
    first = tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0)
    tracking.mark_stage(store, ASIN, "cleanup", by=ANNA, now=T0 + timedelta(hours=1))
    assert tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0 + timedelta(hours=2)) == first
    second = tracking.assign(store, ASIN, artist=BEN, by=LEAD, now=T0 + timedelta(hours=3))
    assert second.assignment_id != first.assignment_id
    assert tracking.assigned_asins(store, ANNA.sub) == []
    assert tracking.assigned_asins(store, BEN.sub) == [ASIN]
    # Anna's marker is kept (nothing a person may need is deleted), it just no longer counts
    assert store.exists(layout.artist_assignment_key(artist_id(ANNA.sub), ASIN))
    state = tracking.production_state(store, ASIN)
    assert state.assignment == second and state.next_stage == "cleanup"
    assert state.stages == dict.fromkeys(tracking.STAGES)
    assert _code(lambda: tracking.mark_stage(store, ASIN, "uv", by=ANNA, now=T0)) == (
        "PRODUCTION_NOT_ASSIGNED"
    )
    # assigned back to Anna: a new assignment, her earlier cleanup does not count
    tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0 + timedelta(hours=4))
    assert tracking.production_state(store, ASIN).next_stage == "cleanup"
    assert tracking.assigned_asins(store, ANNA.sub) == [ASIN]


def test_refusals_have_their_codes(store: ObjectStore, tmp_path: Path) -> None:
    assign = lambda: tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0)  # noqa: E731
    assert _code(assign) == "PRODUCTION_NO_SCAN"  # never registered
    store.put_bytes(layout.scan_file_key(ASIN, "a.jpg"), b"not a photo")
    assert not register_scan(store, ASIN, now=T0).ok
    assert _code(assign) == "PRODUCTION_NO_SCAN"  # registered with errors
    upload_scan(store, tmp_path)
    store.delete(layout.scan_file_key(ASIN, "a.jpg"))
    assert register_scan(store, ASIN, now=T0).ok
    assert (
        _code(lambda: tracking.mark_stage(store, ASIN, "cleanup", by=ANNA, now=T0))
        == "PRODUCTION_NOT_ASSIGNED"
    )
    assign()
    mark = lambda stage, who=ANNA: tracking.mark_stage(store, ASIN, stage, by=who, now=T0)  # noqa: E731
    assert _code(lambda: mark("uv")) == "PRODUCTION_STAGE_ORDER"
    assert _code(lambda: mark("texturing")) == "PRODUCTION_STAGE_ORDER"
    assert _code(lambda: mark("rigging")) == "PRODUCTION_UNKNOWN_STAGE"
    assert _code(lambda: mark("cleanup", BEN)) == "PRODUCTION_NOT_ASSIGNED"
    assert _code(lambda: tracking.production_state(store, "nope")) == "PRODUCTION_BAD_ASIN"
    assert tracking.production_state(store, ASIN).events[0].kind == "assigned"


def test_the_feed_returns_each_event_once_even_when_written_late(
    local_store: ObjectStore, tmp_path: Path
) -> None:
    store = local_store
    upload_scan(store, tmp_path)
    register_scan(store, ASIN, now=T0)
    tracking.assign(store, ASIN, artist=ANNA, by=LEAD, now=T0)
    page = tracking.read_feed(store, None)
    assert [e.kind for e in page.events] == ["assigned"]
    assert tracking.read_feed(store, page.cursor).events == ()
    tracking.mark_stage(store, ASIN, "cleanup", by=ANNA, now=T0 + timedelta(minutes=10))
    late = tracking.mark_stage(store, ASIN, "uv", by=ANNA, now=T0 + timedelta(minutes=11))
    page = tracking.read_feed(store, page.cursor, max_events=1)
    assert [e.kind for e in page.events] == ["cleanup"]
    page = tracking.read_feed(store, page.cursor)
    assert page.events == (late,)
    assert tracking.read_feed(store, page.cursor).events == ()
    # another ASIN assigned by a lead whose clock is 3 minutes behind: found, once
    other = "B0TESTAAA2"
    upload_scan(store, tmp_path, asin=other)
    register_scan(store, other, now=T0)
    tracking.assign(store, other, artist=BEN, by=LEAD, now=T0 + timedelta(minutes=8))
    page = tracking.read_feed(store, page.cursor)
    assert [(e.asin, e.kind) for e in page.events] == [(other, "assigned")]
    assert tracking.read_feed(store, page.cursor).events == ()


def test_the_scan_package_is_what_registration_checked_and_nothing_added_since(
    scanned: ObjectStore,
) -> None:
    files = tracking.scan_package(scanned, ASIN)
    assert files and all(f.etag for f in files)
    # a file dropped into the folder after registration (unchecked, of any size) is not served
    scanned.put_bytes(layout.scan_file_key(ASIN, "scan/extra.bin"), b"x" * 1024)
    assert _code(lambda: tracking.scan_package(scanned, ASIN)) == "PRODUCTION_SCAN_CHANGED"
    scanned.delete(layout.scan_file_key(ASIN, "scan/extra.bin"))
    assert tracking.scan_package(scanned, ASIN) == files
    # a registered file replaced since: refused as well, until the sensor registers it again
    photo = next(f for f in files if f.role == "photo")
    scanned.put_bytes(layout.scan_file_key(ASIN, photo.path), b"not the checked photo")
    assert _code(lambda: tracking.scan_package(scanned, ASIN)) == "PRODUCTION_SCAN_CHANGED"


def test_no_scan_package_without_a_registered_ok_scan(store: ObjectStore) -> None:
    assert _code(lambda: tracking.scan_package(store, ASIN)) == "PRODUCTION_NO_SCAN"
