"""The ingest stage: an upload becomes a validated delivery, then a stored version.

These are the domain functions behind the Dagster assets `delivery` and `asset_version`
(and `shazam validate` for local files). Each call names the exact upload (key + ETag), so
two uploads for one ASIN never get mixed up, and a re-run of the same upload is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from shazam_assets.ingest import versions
from shazam_assets.ingest.delivery.guard import Guard, guarded_delivery
from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.uploads import Upload
from shazam_assets.platform import layout
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.layout import parse_upload_key
from shazam_assets.platform.storage import ObjectStore


class UploadNotFound(ShazamError, LookupError):
    """The upload a run was asked to process does not exist (any more) or changed."""

    code = "UPLOAD_NOT_FOUND"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


@dataclass(frozen=True)
class Verdict:
    upload: Upload
    report: Report
    record_key: str  # where the verdict was written in the store


def list_uploads(store: ObjectStore, asin: str) -> list[Upload]:
    """Every well-formed upload of one ASIN, oldest first."""
    found = []
    for info in store.list(layout.uploads_prefix(asin)):
        parsed = parse_upload_key(info.key)
        if parsed and parsed[0] == asin:
            found.append(
                Upload(
                    key=info.key,
                    asin=asin,
                    etag=info.etag,
                    size=info.size,
                    last_modified=info.last_modified,
                )
            )
    return sorted(found, key=lambda u: (u.last_modified, u.key))


def resolve_upload(store: ObjectStore, asin: str, *, key: str = "", etag: str = "") -> Upload:
    """The upload a run processes: the one named by key (and ETag), or the ASIN's newest."""
    if not key:
        uploads = list_uploads(store, asin)
        if not uploads:
            raise UploadNotFound(f"no upload under {layout.uploads_prefix(asin)} to process")
        return uploads[-1]
    parsed = parse_upload_key(key)
    if parsed is None or parsed[0] != asin:
        raise UploadNotFound(
            f"{key!r} is not an upload key of ASIN {asin} ({layout.uploads_prefix(asin)}<name>.zip)"
        )
    info = store.head(key)
    if info is None:
        raise UploadNotFound(f"upload {key} does not exist")
    if etag and info.etag != etag:
        raise UploadNotFound(
            f"upload {key} changed since it was seen (ETag {etag} -> {info.etag}); "
            "the new content gets its own run"
        )
    return Upload(
        key=key, asin=asin, etag=info.etag, size=info.size, last_modified=info.last_modified
    )


T = TypeVar("T")


def _with_upload(store: ObjectStore, upload: Upload, use: Callable[[Path], T]) -> T:
    with store.local_copy(upload.key) as path:
        current = store.head(upload.key)
        if current is None or current.etag != upload.etag:
            raise UploadNotFound(f"upload {upload.key} changed or vanished while it was read")
        return use(path)


def validate_upload(
    store: ObjectStore, upload: Upload, *, profile: str | None = None, guard: Guard | None = None
) -> Verdict:
    """Judge one upload and record the verdict (a rejection is kept under rejections/).

    Validation runs within a deadline and a memory cap (`guard`, by default from the
    environment): an overrun is a rejection with its own code, so every upload gets a verdict."""

    def judge(path: Path) -> Verdict:
        result = guarded_delivery(path, profile=profile, expected_asin=upload.asin, guard=guard)
        manifest = None if result.manifest is None else result.manifest.to_dict()
        key = versions.record_validation(
            store, upload=upload, report=result.report, manifest=manifest
        )
        return Verdict(upload=upload, report=result.report, record_key=key)

    return _with_upload(store, upload, judge)


def store_upload(store: ObjectStore, upload: Upload) -> versions.StoredVersion:
    """Unpack a validated upload into a new immutable version (or return the one it became)."""
    done = versions.find_upload_version(store, upload)
    if done is not None:
        return done
    return _with_upload(
        store, upload, lambda path: versions.store_version(store, upload=upload, zip_path=path)
    )
