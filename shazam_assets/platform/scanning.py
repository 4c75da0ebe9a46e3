"""Find new objects under a prefix by listing the store, one sensor tick at a time.

Used by every polling sensor (uploads, QA decisions). An object is identified by its key *and*
its ETag, so rewriting a key with new content makes it new again. The cursor is an opaque JSON
string the sensor stores and hands back.
Why not remember the last key seen? A `since_key` cursor misses every object whose key sorts
before the last one seen (Dagster issue #22892): a new delivery for `B000000001` arriving after
`B0ZZZZZZZZ` was processed would never be found. Why not remember the newest LastModified? S3
sets LastModified when an upload *starts*: a multipart upload that took ten minutes becomes
visible with a timestamp older than objects listed long ago.

The design: every tick lists the whole prefix in key order (a *pass*), and decides
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
- A pass that runs out of its time budget, or that has emitted `max_items`, stops and records
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

from shazam_assets.platform.storage import ObjectInfo, ObjectStore

_CURSOR_VERSION = 1
_ID_BYTES = 8  # object identities are the first bytes of sha256(key, etag)


def object_id(key: str, etag: str) -> bytes:
    """The identity of one version of one object."""
    return hashlib.sha256(f"{key}\0{etag}".encode()).digest()[:_ID_BYTES]


@dataclass(frozen=True)
class PrefixScan:
    """What one tick found, and the cursor to store for the next tick."""

    objects: tuple[ObjectInfo, ...]  # new or changed objects, in key order
    cursor: str
    complete_pass: bool  # this tick reached the end of the listing
    listed: int  # objects listed in this tick


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
            raise ValueError(f"not a scan cursor ({exc}); reset the sensor cursor") from exc

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


def scan_prefix(
    store: ObjectStore,
    prefix: str,
    cursor: str | None,
    *,
    now: datetime,
    lookback: timedelta = timedelta(minutes=15),
    time_budget_s: float = 40.0,
    max_items: int = 500,
) -> PrefixScan:
    """One sensor tick: continue (or start) a listing pass and return the new objects found.

    `now` must be timezone-aware; it stamps the start of a new pass. The module docstring
    explains the cursor and why it misses nothing written faster than `lookback`.
    """
    if now.tzinfo is None:
        raise ValueError("scanning needs a timezone-aware `now`")
    state = _ScanState.parse(cursor)
    pass_start = now if state.resume_after is None else state.pass_start or now
    threshold = None if state.hwm is None else state.hwm - lookback

    listing = store.list(prefix, start_after=state.resume_after)
    tick = _Tick(threshold, state.recent, time.monotonic() + time_budget_s, max_items)
    state.resume_after = tick.run(listing)
    complete = state.resume_after is None
    if complete:
        state.hwm, state.pass_start = pass_start, None
        state.recent.prune(pass_start - lookback)
    else:
        # Mid-pass the window stays the same; a first pass only needs what the next will.
        state.pass_start = pass_start
        state.recent.prune(pass_start - lookback if threshold is None else threshold)
    return PrefixScan(
        objects=tuple(tick.found), cursor=state.dump(), complete_pass=complete, listed=tick.listed
    )


@dataclass
class _Tick:
    """The per-object decisions of one tick, within its time and item budgets."""

    threshold: datetime | None
    recent: _Recent
    deadline: float  # time.monotonic() value
    max_items: int
    found: list[ObjectInfo] = field(default_factory=list)
    listed: int = 0

    def run(self, listing: Iterable[ObjectInfo]) -> str | None:
        """Handle objects until the listing ends (None) or a budget runs out (the last key)."""
        objects = iter(listing)
        for info in objects:
            self.listed += 1
            self.handle(info)
            if time.monotonic() >= self.deadline:
                return info.key
            if len(self.found) >= self.max_items:
                following = next(objects, None)  # a pass that ends here is complete now
                return None if following is None else info.key
        return None

    def handle(self, info: ObjectInfo) -> None:
        if self.threshold is not None and info.last_modified < self.threshold:
            return
        digest = object_id(info.key, info.etag)
        if digest in self.recent:
            return
        self.recent.add(digest, info.last_modified)
        self.found.append(info)
