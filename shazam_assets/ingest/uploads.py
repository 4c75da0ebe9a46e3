"""Find vendor uploads (`layout.UPLOAD`: `uploads/<ASIN>/<name>.zip`) by listing the store, one sensor tick at a time.

An upload is identified by its key *and* its ETag, so a re-upload under the same key is a new
upload with a new run key. `scan_uploads` is what the polling upload sensor calls each tick;
the listing and its cursor (which misses no key that sorts before the last one seen, and no
multipart upload whose LastModified is older than objects already seen) are
`shazam_assets.platform.scanning`'s, shared with the QA decision sensor.

`wait_for_uploads` lets a tick that finds nothing keep looking for a few seconds, so an upload
that lands between two ticks is picked up when it lands rather than at the next tick.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shazam_assets.ingest.delivery.profiles import PROFILES
from shazam_assets.platform import freetext, layout
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.scanning import object_id, scan_prefix
from shazam_assets.platform.storage import ObjectInfo, ObjectStore

UPLOAD_PREFIX = layout.uploads_prefix()
parse_upload_key = layout.parse_upload_key  # `uploads/<ASIN>/<name>.zip` -> (asin, name) or None


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
        return object_id(self.key, self.etag).hex()

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


class UploadNameInvalid(ShazamError, ValueError):
    """An upload name the upload sensor would never pick up."""

    code = "UPLOAD_NAME_INVALID"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


def checked_upload_key(asin: str, name: str) -> str:
    """`uploads/<ASIN>/<name>` when the upload sensor will pick that key up (one name ending in
    .zip, valid UTF-8, no control characters), else `UploadNameInvalid`: an upload nobody
    processes is worse than a refusal."""
    try:
        name = freetext.normalize(name, freetext.TextField("upload name", 200))
    except freetext.TextError as exc:
        raise UploadNameInvalid(exc.message) from None
    key = layout.upload_key(asin, name)
    reserved = name.startswith(layout.RESERVED_PREFIX)  # the store's own temporary files
    if parse_upload_key(key) is None or reserved or name in (".", ".."):
        raise UploadNameInvalid(
            f"{name!r} would never be processed; an upload name is one file name "
            "(no '/') ending in .zip, such as delivery-2.zip"
        )
    return key


# The largest archive any profile's validator can accept: everything it may unpack, stored
# uncompressed, plus its central directory and as much again for the local headers. A larger
# upload is refused before a byte of it is sent (`check_upload_size`).
MAX_UPLOAD_BYTES = max(
    p.zip.max_total_uncompressed + 2 * p.zip.max_directory_bytes for p in PROFILES.values()
)


class UploadTooLarge(ShazamError, ValueError):
    """A declared upload size over what validation would ever accept."""

    code = "UPLOAD_TOO_LARGE"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


def check_upload_size(size: int) -> int:
    """`size` when an upload of that many bytes could pass validation, else `UploadTooLarge`."""
    if size > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(
            f"the file is {size:,} bytes; a delivery is at most {MAX_UPLOAD_BYTES:,} "
            "(what validation unpacks at most)"
        )
    return size


@dataclass(frozen=True)
class ScanResult:
    """What one tick found, and the cursor to store for the next tick."""

    uploads: tuple[Upload, ...]
    cursor: str
    complete_pass: bool  # this tick reached the end of the listing
    listed: int  # objects listed in this tick
    skipped_keys: tuple[str, ...]  # new objects under uploads/ that are not upload keys


def scan_uploads(
    store: ObjectStore,
    cursor: str | None,
    *,
    now: datetime,
    lookback: timedelta = timedelta(minutes=15),
    time_budget_s: float = 40.0,
    max_uploads: int = 500,
) -> ScanResult:
    """One sensor tick: the new uploads under `uploads/`, and keys there that are not uploads."""
    scan = scan_prefix(
        store,
        UPLOAD_PREFIX,
        cursor,
        now=now,
        lookback=lookback,
        time_budget_s=time_budget_s,
        max_items=max_uploads,
    )
    found = [(info, Upload.from_info(info)) for info in scan.objects]
    return ScanResult(
        uploads=tuple(u for _, u in found if u is not None),
        cursor=scan.cursor,
        complete_pass=scan.complete_pass,
        listed=scan.listed,
        skipped_keys=tuple(info.key for info, u in found if u is None),
    )


# How often a waiting tick looks again: one listing pass each (on S3, one LIST request per
# 1,000 keys under uploads/), so at most ~16 passes in a 4 s wait.
RELOOK_S = 0.25


def wait_for_uploads(
    store: ObjectStore,
    cursor: str | None,
    *,
    wait_s: float,
    relook_s: float = RELOOK_S,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ScanResult:
    """`scan_uploads`, and while a pass finds nothing new, look again every `relook_s` until
    `wait_s` has passed: a tick then returns as soon as an upload lands instead of leaving it
    for the next tick (Dagster's sensor loop starts one at most every 5 s). A tick that finds
    anything, or has not finished its listing pass, returns at once; `wait_s=0` is one scan."""
    deadline = time.monotonic() + wait_s
    listed = 0
    while True:
        scan = scan_uploads(store, cursor, now=clock())
        listed += scan.listed
        found = scan.uploads or scan.skipped_keys or not scan.complete_pass
        if found or time.monotonic() + relook_s > deadline:
            return dataclasses.replace(scan, listed=listed)
        cursor = scan.cursor
        time.sleep(relook_s)


def upload_batches(uploads: Iterable[Upload], *, size: int) -> list[tuple[Upload, ...]]:
    """The uploads of one sensor tick in batches of at most `size`, at most one upload per
    ASIN in a batch (a second upload of an ASIN goes to a later batch), oldest first. The same
    uploads always give the same batches, so a re-evaluated tick asks for the same runs."""
    if size < 1:
        raise ValueError("a batch holds at least one upload")
    batches: list[list[Upload]] = []
    open_for: dict[str, int] = {}  # ASIN -> the first batch that does not hold it yet
    for upload in sorted(uploads, key=lambda u: (u.last_modified, u.key, u.etag)):
        index = open_for.get(upload.asin, 0)
        while index < len(batches) and (
            len(batches[index]) >= size or any(u.asin == upload.asin for u in batches[index])
        ):
            index += 1
        if index == len(batches):
            batches.append([])
        batches[index].append(upload)
        open_for[upload.asin] = index + 1
    return [tuple(batch) for batch in batches]


def batch_run_key(uploads: Iterable[Upload]) -> str:
    """The run key of a batch: derived from its uploads' keys and ETags, in any order."""
    digest = hashlib.sha256(b"".join(sorted(bytes.fromhex(u.upload_id) for u in uploads)))
    return f"uploads:{digest.hexdigest()[:32]}"
