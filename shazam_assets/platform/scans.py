"""Reading an ASIN's registered scan data: the record ingest writes (`production/<ASIN>/scan.json`)
and the files under `scans/<ASIN>/`. Registering (listing and checking) is ingest's
(`shazam_assets.ingest.scans`); production and the studio read through here.
"""

from __future__ import annotations

import json

from shazam_assets.platform import layout
from shazam_assets.platform.records import ScanRecord
from shazam_assets.platform.storage import ObjectInfo, ObjectStore, read_json


def read_scan_record(store: ObjectStore, asin: str) -> ScanRecord | None:
    """The latest registration of the ASIN's scan data, or None when it was never registered."""
    data = read_json(store, layout.scan_record_key(asin))
    return None if data is None else ScanRecord.from_json(data)


def write_scan_record(store: ObjectStore, record: ScanRecord) -> ObjectInfo:
    """Replace the ASIN's scan record (a record of the latest registration, not an event)."""
    data = json.dumps(record.to_json(), indent=2, sort_keys=False).encode()
    return store.put_bytes(
        layout.scan_record_key(record.asin), data, content_type="application/json"
    )


def registered_asins(
    store: ObjectStore, *, after: str | None = None, limit: int | None = None
) -> list[str]:
    """ASINs whose scan data was registered (ok or not), ascending: all of them, or the first
    `limit` after the ASIN `after` (a page: the listing reads only those ASINs' folders).

    ASIN folders (upper case and digits) sort before the lower-case shared folders (the artists'
    markers, the event feed), so the listing stops where those begin. A folder's scan record
    sorts after its assignment and events, so starting after `after`'s record skips its folder."""
    shared = min(layout.production_feed_prefix(), layout.ARTIST_ASSIGNMENT.prefix())
    start = None if after is None else layout.scan_record_key(after)
    found: list[str] = []
    for info in store.list(layout.production_prefix(), start_after=start):
        if info.key >= shared or (limit is not None and len(found) >= limit):
            break
        asin = layout.parse_scan_record_key(info.key)
        if asin is not None and asin != after:
            found.append(asin)
    return found
