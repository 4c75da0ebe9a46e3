"""Production tracking: who works on which ASIN, and when each production stage was done.

The work before a delivery: a lead assigns an ASIN whose scan data is registered and ok to an
artist; the artist downloads the scan package, then marks cleanup, UV and texturing done, in
that order, and uploads the final ZIP (ingest takes it from there).

What happened is a log of events, each written once and never changed
(`production/<ASIN>/events/<stamp>-<id>.json`, put-if-absent), with a copy in one shared,
time-ordered feed (`production/feed/`) that the Dagster sensor reads. Two small records say
what is true now and are replaced: `production/<ASIN>/assignment.json` (the current
assignment) and one marker per artist and ASIN (`production/artists/<id>/<ASIN>.json`), so an
artist's work list costs O(own ASINs). Markers are never deleted: a marker counts only while
the ASIN's assignment still names that artist.

Stages count per assignment: every assignment has an id (its "assigned" event's id), each
stage event carries it, and reassigning starts the stages again. Assigning an ASIN to the
artist who has it already is a no-op (the current assignment is returned, its stages kept).
Marking a stage that is already done is a no-op too: the first mark's event is returned and
its timestamp stands, so a retried request or a double click changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.asin import asin_problem
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.identity import Person, artist_id
from shazam_assets.platform.records import ScanFile, ScanRecord
from shazam_assets.platform.scans import read_scan_record
from shazam_assets.platform.scans import registered_asins as _registered_asins
from shazam_assets.platform.storage import ObjectInfo, ObjectStore, read_json

STAGES = ("cleanup", "uv", "texturing")
ASSIGNED = "assigned"  # the kind of an assignment event; a stage event's kind is its stage
EVENT_SCHEMA = "shazam.production-event/1"
ASSIGNMENT_SCHEMA = "shazam.assignment/1"
_STAMP = "%Y%m%dT%H%M%S%fZ"


class ProductionError(ShazamError, ValueError):
    """A refusal of production tracking: `code` is one of PRODUCTION_* (errors catalogue)."""


def stamp(at: datetime) -> str:
    """A sortable UTC stamp: 20261207T071500123456Z."""
    return _utc(at).strftime(_STAMP)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("production times must be timezone-aware")
    return at.astimezone(UTC)


def _check_asin(asin: str) -> None:
    problem = asin_problem(asin)
    if problem is not None:
        raise ProductionError("PRODUCTION_BAD_ASIN", problem)


@dataclass(frozen=True)
class ProductionEvent:
    """One thing that happened to an ASIN: assigned (to `artist`, by `by`), or a stage done."""

    event_id: str  # uuid4 hex
    asin: str
    kind: str  # "assigned" or one of STAGES
    assignment_id: str  # the event id of the assignment this event belongs to
    artist: Person  # the assignee
    by: Person  # who did it: the lead (assigned) or the artist (a stage)
    at: datetime  # UTC
    since: datetime | None = None  # a stage: when the step before it was done (or assigned)

    @property
    def stage(self) -> str | None:
        return None if self.kind == ASSIGNED else self.kind

    @property
    def duration_s(self) -> float | None:
        """Seconds the stage took (from the step before it), None for an assignment."""
        return None if self.since is None else (self.at - self.since).total_seconds()

    @property
    def key(self) -> str:
        return layout.production_event_key(self.asin, stamp(self.at), self.event_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": EVENT_SCHEMA,
            "event_id": self.event_id,
            "asin": self.asin,
            "kind": self.kind,
            "assignment_id": self.assignment_id,
            "artist": self.artist.to_json(),
            "by": self.by.to_json(),
            "at": self.at.isoformat(),
            "since": None if self.since is None else self.since.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProductionEvent:
        since = data.get("since")
        return cls(
            event_id=str(data["event_id"]),
            asin=str(data["asin"]),
            kind=str(data["kind"]),
            assignment_id=str(data["assignment_id"]),
            artist=Person.from_json(data["artist"]),
            by=Person.from_json(data["by"]),
            at=datetime.fromisoformat(str(data["at"])),
            since=None if since is None else datetime.fromisoformat(str(since)),
        )


@dataclass(frozen=True)
class Assignment:
    """Who an ASIN is assigned to now (`production/<ASIN>/assignment.json`)."""

    asin: str
    assignment_id: str
    artist: Person
    assigned_by: Person
    assigned_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": ASSIGNMENT_SCHEMA,
            "asin": self.asin,
            "assignment_id": self.assignment_id,
            "artist": self.artist.to_json(),
            "assigned_by": self.assigned_by.to_json(),
            "assigned_at": self.assigned_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Assignment:
        return cls(
            asin=str(data["asin"]),
            assignment_id=str(data["assignment_id"]),
            artist=Person.from_json(data["artist"]),
            assigned_by=Person.from_json(data["assigned_by"]),
            assigned_at=datetime.fromisoformat(str(data["assigned_at"])),
        )


@dataclass(frozen=True)
class ProductionState:
    """Everything known about one ASIN's production, for the studio and the metrics."""

    asin: str
    scan: ScanRecord | None
    assignment: Assignment | None
    stages: Mapping[str, datetime | None]  # stage -> when done in the current assignment
    events: tuple[ProductionEvent, ...] = field(default=())  # every event, in time order

    @property
    def next_stage(self) -> str | None:
        """The stage to mark next; None when all are done (or nothing is assigned)."""
        if self.assignment is None:
            return None
        return next((s for s in STAGES if self.stages.get(s) is None), None)

    @property
    def ready_to_upload(self) -> bool:
        return self.assignment is not None and self.stages.get(STAGES[-1]) is not None


def _write_event(store: ObjectStore, event: ProductionEvent) -> None:
    data = json.dumps(event.to_json(), indent=2).encode()
    if not store.put_if_absent(event.key, data):  # a uuid4 collision: never overwrite
        raise RuntimeError(f"production event {event.key} exists already")
    store.put_if_absent(layout.production_feed_key(stamp(event.at), event.event_id), data)


def read_events(store: ObjectStore, asin: str) -> list[ProductionEvent]:
    """The ASIN's events in time order (their keys sort by stamp)."""
    _check_asin(asin)
    events = []
    for info in store.list(layout.production_events_prefix(asin)):
        data = read_json(store, info.key)
        if data is not None:
            events.append(ProductionEvent.from_json(data))
    return events


def read_assignment(store: ObjectStore, asin: str) -> Assignment | None:
    data = read_json(store, layout.assignment_key(asin))
    return None if data is None else Assignment.from_json(data)


def _stages(
    events: list[ProductionEvent], assignment: Assignment | None
) -> dict[str, datetime | None]:
    done: dict[str, datetime | None] = dict.fromkeys(STAGES)
    if assignment is None:
        return done
    for event in events:
        if event.assignment_id == assignment.assignment_id and event.kind in done:
            done[event.kind] = done[event.kind] or event.at
    return done


def production_state(store: ObjectStore, asin: str) -> ProductionState:
    """The ASIN's scan record, current assignment, stage times and event history."""
    _check_asin(asin)
    events = read_events(store, asin)
    assignment = read_assignment(store, asin)
    return ProductionState(
        asin=asin,
        scan=read_scan_record(store, asin),
        assignment=assignment,
        stages=_stages(events, assignment),
        events=tuple(events),
    )


def assign(
    store: ObjectStore, asin: str, *, artist: Person, by: Person, now: datetime
) -> Assignment:
    """Assign the ASIN to `artist` (a lead's action); its scan data must be registered and ok.

    Writes the "assigned" event, then the assignment record, then the artist's marker.
    Reassigning to someone else starts the stages again; to the current assignee it is a no-op."""
    _check_asin(asin)
    if not artist.sub or not by.sub:
        raise ProductionError("PRODUCTION_BAD_PERSON", "the artist and the lead need a subject")
    scan = read_scan_record(store, asin)
    if scan is None or not scan.ok:
        why = "is not registered" if scan is None else f"has errors ({', '.join(scan.codes)})"
        raise ProductionError("PRODUCTION_NO_SCAN", f"{asin}: the scan data {why}")
    current = read_assignment(store, asin)
    if current is not None and current.artist.sub == artist.sub:
        return current
    at = _utc(now)
    event_id = uuid.uuid4().hex
    event = ProductionEvent(
        event_id=event_id,
        asin=asin,
        kind=ASSIGNED,
        assignment_id=event_id,
        artist=artist,
        by=by,
        at=at,
    )
    _write_event(store, event)
    assignment = Assignment(
        asin=asin, assignment_id=event_id, artist=artist, assigned_by=by, assigned_at=at
    )
    body = json.dumps(assignment.to_json(), indent=2).encode()
    store.put_bytes(layout.assignment_key(asin), body, content_type="application/json")
    store.put_bytes(
        layout.artist_assignment_key(artist_id(artist.sub), asin),
        body,
        content_type="application/json",
    )
    return assignment


def mark_stage(
    store: ObjectStore, asin: str, stage: str, *, by: Person, now: datetime
) -> ProductionEvent:
    """Mark a stage done (the assignee's action), in order: cleanup, uv, texturing.

    A stage already done in the current assignment is not marked again: its event is returned."""
    _check_asin(asin)
    if stage not in STAGES:
        raise ProductionError(
            "PRODUCTION_UNKNOWN_STAGE", f"{stage!r} is not one of {', '.join(STAGES)}"
        )
    assignment = read_assignment(store, asin)
    if assignment is None or assignment.artist.sub != by.sub:
        raise ProductionError("PRODUCTION_NOT_ASSIGNED", f"{asin} is not assigned to {by.display}")
    events = [e for e in read_events(store, asin) if e.assignment_id == assignment.assignment_id]
    done = {e.kind: e for e in reversed(events)}  # the earliest event of each kind wins
    if stage in done:
        return done[stage]
    index = STAGES.index(stage)
    before = STAGES[index - 1] if index else ASSIGNED
    if before not in done:
        raise ProductionError(
            "PRODUCTION_STAGE_ORDER", f"{asin}: mark {before} done before {stage}"
        )
    since = done[before].at if before in done else assignment.assigned_at
    event = ProductionEvent(
        event_id=uuid.uuid4().hex,
        asin=asin,
        kind=stage,
        assignment_id=assignment.assignment_id,
        artist=assignment.artist,
        by=by,
        at=max(_utc(now), since),
        since=since,
    )
    _write_event(store, event)
    return event


def assigned_asins(store: ObjectStore, artist_sub: str) -> list[str]:
    """The ASINs assigned to this artist now, ascending (their markers, checked against each
    ASIN's current assignment: a reassigned ASIN's old marker no longer counts)."""
    out = []
    for info in store.list(layout.artist_assignments_prefix(artist_id(artist_sub))):
        asin = layout.parse_artist_assignment_key(info.key)
        if asin is None:
            continue
        current = read_assignment(store, asin)
        if current is not None and current.artist.sub == artist_sub:
            out.append(asin)
    return out


def registered_asins(
    store: ObjectStore, *, after: str | None = None, limit: int | None = None
) -> list[str]:
    """ASINs with a scan record (ok or not), ascending, for the lead's board: all, or a page
    of `limit` after the ASIN `after`."""
    if after is not None:
        _check_asin(after)
    return _registered_asins(store, after=after, limit=limit)


def scan_package(store: ObjectStore, asin: str) -> tuple[ScanFile, ...]:
    """The files an artist downloads: exactly those the latest registration checked (bounded by
    its limits), while `scans/<ASIN>/` still holds them unchanged. One listing, stopped one entry
    past the registered count: a file added or replaced since is refused, never served unchecked
    (PRODUCTION_SCAN_CHANGED; the scan sensor registers the folder again)."""
    _check_asin(asin)
    record = read_scan_record(store, asin)
    if record is None or not record.ok:
        why = "is not registered" if record is None else f"has errors ({', '.join(record.codes)})"
        raise ProductionError("PRODUCTION_NO_SCAN", f"{asin}: the scan data {why}")
    registered = {f.path: f.etag for f in record.files}
    present: dict[str, str] = {}
    for info in store.list(layout.scans_prefix(asin)):
        if len(present) > len(registered):
            break
        parsed = layout.parse_scan_file_key(info.key)
        present[parsed[1] if parsed is not None else info.key] = info.etag
    if present != registered:
        raise ProductionError(
            "PRODUCTION_SCAN_CHANGED",
            f"{asin}: the scan data changed since it was registered at "
            f"{record.registered_at.isoformat()}",
        )
    return record.files


# --- the feed: every ASIN's events in one time-ordered folder, for the Dagster sensor ----------

FEED_LOOKBACK = timedelta(minutes=5)  # writers' clocks and slow writes: re-read this far back


@dataclass(frozen=True)
class FeedPage:
    """New events since the cursor, and the cursor to keep."""

    events: tuple[ProductionEvent, ...]
    cursor: str


def read_feed(store: ObjectStore, cursor: str | None, *, max_events: int = 500) -> FeedPage:
    """The feed's events not seen before, oldest first: O(new events) per call.

    The cursor keeps the newest stamp seen and the ids seen within `FEED_LOOKBACK` of it; the
    listing starts that far back, so an event written late with an earlier stamp (a slow
    writer, a skewed clock) is still found, and nothing is returned twice."""
    state = json.loads(cursor) if cursor else {"newest": None, "seen": []}
    newest: str | None = state["newest"]
    seen = set(state["seen"])
    start_after = None
    if newest is not None:
        start_after = _feed_floor(_parse_stamp(newest) - FEED_LOOKBACK)
    found = []
    for info in _feed_listing(store, start_after):
        data = read_json(store, info.key)
        if data is None:
            continue
        event = ProductionEvent.from_json(data)
        if event.event_id in seen:
            continue
        found.append(event)
        seen.add(event.event_id)
        newest = max(newest or "", stamp(event.at))
        if len(found) >= max_events:
            break
    if newest is not None:
        seen = _recent(store, _parse_stamp(newest) - FEED_LOOKBACK, seen)
    return FeedPage(
        events=tuple(found), cursor=json.dumps({"newest": newest, "seen": sorted(seen)})
    )


def _parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


def _feed_floor(at: datetime) -> str:
    """A key that sorts just before every feed entry stamped `at` or later."""
    return layout.production_feed_key(stamp(at), "")


def _feed_listing(store: ObjectStore, start_after: str | None) -> Iterator[ObjectInfo]:
    return store.list(layout.production_feed_prefix(), start_after=start_after)


def _recent(store: ObjectStore, floor: datetime, seen: set[str]) -> set[str]:
    """The ids in `seen` whose feed entries are at or after `floor` (the rest fall out)."""
    current = set()
    for info in _feed_listing(store, _feed_floor(floor)):
        parsed = layout.PRODUCTION_FEED.match(info.key)
        if parsed is not None and parsed["event_id"] in seen:
            current.add(parsed["event_id"])
    return current
