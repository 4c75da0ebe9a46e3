"""Find vendor uploads (`uploads/<ASIN>/<name>.zip`) by listing the store, one sensor tick at a time.

An upload is identified by its key *and* its ETag, so a re-upload under the same key is a new
upload with a new run key. `scan_uploads` is what a polling sensor calls each tick; its cursor
is an opaque JSON string that the sensor stores and hands back.

Why not remember the last key seen? A `since_key` cursor misses every object whose key sorts
before the last one seen (Dagster issue #22892): a new delivery for `B000000001` arriving after
`B0ZZZZZZZZ` was processed would never be found. Why not remember the newest LastModified? S3
sets LastModified when an upload *starts*: a multipart upload that took ten minutes becomes
visible with a timestamp older than objects listed long ago.

The design: every tick lists the whole `uploads/` prefix in key order (a *pass*), and decides
per object by time and by identity:

- `hwm` (high-water mark) is the time the last completed pass started. Any object that pass did
  not see became visible after it started, so its LastModified is at least
  `hwm - (its upload duration)`. A pass therefore considers objects with
  `LastModified >= hwm - lookback`, and `lookback` must exceed the longest upload (initiation
  to completion) plus any clock skew between the sensor and the store. Older objects are
  skipped with one comparison each, without hashing.
- `recent` remembers the identities (the 8-byte `upload_id`, a hash of key and ETag) of the
  objects already handled inside that window, grouped by the minute of their LastModified so
  whole groups fall out as the window moves. An object in the window whose identity is not in
  `recent` is new: it is emitted and remembered. A modified object has a new ETag, hence a new
  identity. Identities are packed as base64, about 11 bytes each: 5,000 objects uploaded within
  one window cost about 55 KB of cursor, a bulk load of 100,000 about 1.1 MB, and the cost
  disappears once a pass starts `lookback` after they arrived (steady state: a few KB).
  (Two different uploads share a truncated identity with probability about n / 2**64.)
- A pass that runs out of its time budget, or that has emitted `max_uploads`, stops and records
  `resume_after` (the last key handled) and its own start time; the next tick continues the same
  pass from there with the same window. Dagster cancels a sensor evaluation after 60 s, so the
  default budget of 40 s leaves room for the sensor to build and submit its run requests. A
  100,000-object prefix is ~100 list requests; `bench/bench_sensor_scan.py` times it (moto,
  which rescans the bucket for every page, needs two ticks of at most 40.3 s per pass).
- The first tick ever (no cursor) emits every upload under the prefix.

Re-emitting is harmless (the sensor's run key, derived from key and ETag, makes Dagster skip a
duplicate) and rare: it happens when Dagster did not store a tick's cursor, so the tick runs
again, or when a local file is touched without a content change. Missing an upload would be a
bug; it happens only to an upload slower than `lookback`, or to one whose 64-bit identity
collides with one of the n remembered in the window (probability about n / 2**64). At scale,
S3 event notifications into SQS (`upload_events`) avoid listing altogether.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shazam_assets.asin import is_valid_asin
from shazam_assets.storage import ObjectInfo, ObjectStore

UPLOAD_PREFIX = "uploads/"
_CURSOR_VERSION = 1
_ID_BYTES = 8  # upload_id is the hex of these bytes


@dataclass(frozen=True)
class Upload:
    """One delivery archive as it exists in the store right now."""

    key: str
    asin: str
    etag: str
    size: int
    last_modified: datetime

    @property
    def upload_id(self) -> str:
        """Stable id of this exact upload: the same key with new content gets a new id."""
        return _digest(self.key, self.etag).hex()

    @property
    def run_key(self) -> str:
        """The Dagster run key: derived from key and ETag, so Dagster deduplicates re-emits."""
        return f"upload:{self.upload_id}"

    @classmethod
    def from_info(cls, info: ObjectInfo) -> Upload | None:
        """The upload an object is, or None when its key is not an upload key."""
        parsed = parse_upload_key(info.key)
        if parsed is None:
            return None
        return cls(info.key, parsed[0], info.etag, info.size, info.last_modified)


def _digest(key: str, etag: str) -> bytes:
    return hashlib.sha256(f"{key}\0{etag}".encode()).digest()[:_ID_BYTES]


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """`uploads/<ASIN>/<name>.zip` -> (asin, name); None for any other key.

    The name must end in `.zip` (any case) and have a stem; deeper paths, other extensions
    and invalid ASINs are not uploads.
    """
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != UPLOAD_PREFIX:
        return None
    asin, name = parts[1], parts[2]
    if not is_valid_asin(asin) or len(name) <= 4 or not name.lower().endswith(".zip"):
        return None
    return asin, name


@dataclass(frozen=True)
class ScanResult:
    """What one tick found, and the cursor to store for the next tick."""

    uploads: tuple[Upload, ...]
    cursor: str
    complete_pass: bool  # this tick reached the end of the listing
    listed: int  # objects listed in this tick
    skipped_keys: tuple[str, ...]  # new objects under uploads/ that are not upload keys


@dataclass
class _Recent:
    """Identities of handled objects in the window, grouped by LastModified minute."""

    by_minute: dict[int, set[bytes]] = field(default_factory=dict)
    members: set[bytes] = field(default_factory=set)

    def __contains__(self, digest: bytes) -> bool:
        return digest in self.members

    def add(self, digest: bytes, last_modified: datetime) -> None:
        self.by_minute.setdefault(int(last_modified.timestamp()) // 60, set()).add(digest)
        self.members.add(digest)

    def prune(self, floor: datetime) -> None:
        """Forget minutes that end before `floor`: those objects are outside every window."""
        first_kept = int(floor.timestamp()) // 60
        for minute in [m for m in self.by_minute if m < first_kept]:
            self.members.difference_update(self.by_minute.pop(minute))

    def encode(self) -> dict[str, str]:
        return {
            str(minute): base64.b64encode(b"".join(sorted(ids))).decode("ascii")
            for minute, ids in sorted(self.by_minute.items())
        }

    @classmethod
    def decode(cls, data: dict[str, str]) -> _Recent:
        recent = cls()
        for minute, packed in data.items():
            raw = base64.b64decode(packed, validate=True)
            ids = {raw[i : i + _ID_BYTES] for i in range(0, len(raw), _ID_BYTES)}
            recent.by_minute[int(minute)] = ids
            recent.members.update(ids)
        return recent


@dataclass
class _ScanState:
    """The decoded cursor."""

    hwm: datetime | None  # start of the last completed pass; None before the first completes
    pass_start: datetime | None  # start of the pass in progress
    resume_after: str | None  # last key handled by the pass in progress
    recent: _Recent

    @classmethod
    def parse(cls, cursor: str | None) -> _ScanState:
        if cursor is None:
            return cls(None, None, None, _Recent())
        try:
            data = json.loads(cursor)
            if data.get("v") != _CURSOR_VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            return cls(
                _parse_time(data["hwm"]),
                _parse_time(data["pass_start"]),
                data["resume_after"],
                _Recent.decode(data["recent"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an upload-scan cursor ({exc}); reset the sensor cursor") from exc

    def dump(self) -> str:
        return json.dumps(
            {
                "v": _CURSOR_VERSION,
                "hwm": _format_time(self.hwm),
                "pass_start": _format_time(self.pass_start),
                "resume_after": self.resume_after,
                "recent": self.recent.encode(),
            },
            separators=(",", ":"),
        )


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _format_time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def scan_uploads(
    store: ObjectStore,
    cursor: str | None,
    *,
    now: datetime,
    lookback: timedelta = timedelta(minutes=15),
    time_budget_s: float = 40.0,
    max_uploads: int = 500,
) -> ScanResult:
    """One sensor tick: continue (or start) a listing pass and return the new uploads found.

    `now` must be timezone-aware; it stamps the start of a new pass. The module docstring
    explains the cursor and why it misses nothing uploaded faster than `lookback`.
    """
    if now.tzinfo is None:
        raise ValueError("scan_uploads needs a timezone-aware `now`")
    state = _ScanState.parse(cursor)
    pass_start = now if state.resume_after is None else state.pass_start or now
    threshold = None if state.hwm is None else state.hwm - lookback

    listing = store.list(UPLOAD_PREFIX, start_after=state.resume_after)
    tick = _Tick(threshold, state.recent, time.monotonic() + time_budget_s, max_uploads)
    state.resume_after = tick.run(listing)
    complete = state.resume_after is None
    if complete:
        state.hwm, state.pass_start = pass_start, None
        state.recent.prune(pass_start - lookback)
    else:
        # Mid-pass the window stays the same; a first pass only needs what the next will.
        state.pass_start = pass_start
        state.recent.prune(pass_start - lookback if threshold is None else threshold)
    return ScanResult(
        uploads=tuple(tick.uploads),
        cursor=state.dump(),
        complete_pass=complete,
        listed=tick.listed,
        skipped_keys=tuple(tick.skipped),
    )


@dataclass
class _Tick:
    """The per-object decisions of one tick, within its time and upload budgets."""

    threshold: datetime | None
    recent: _Recent
    deadline: float  # time.monotonic() value
    max_uploads: int
    uploads: list[Upload] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    listed: int = 0

    def run(self, listing: Iterable[ObjectInfo]) -> str | None:
        """Handle objects until the listing ends (None) or a budget runs out (the last key)."""
        objects = iter(listing)
        for info in objects:
            self.listed += 1
            self.handle(info)
            if time.monotonic() >= self.deadline:
                return info.key
            if len(self.uploads) >= self.max_uploads:
                following = next(objects, None)  # a pass that ends here is complete now
                return None if following is None else info.key
        return None

    def handle(self, info: ObjectInfo) -> None:
        if self.threshold is not None and info.last_modified < self.threshold:
            return
        digest = _digest(info.key, info.etag)
        if digest in self.recent:
            return
        self.recent.add(digest, info.last_modified)
        upload = Upload.from_info(info)
        if upload is None:
            self.skipped.append(info.key)
        else:
            self.uploads.append(upload)
