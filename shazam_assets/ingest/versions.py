"""The version store's write side: every accepted delivery becomes an immutable, numbered
version of its ASIN. Reading versions is `shazam_assets.platform.versions`'s; the keys are
`shazam_assets.platform.layout`'s (`python -m shazam_assets.platform.layout --markdown`).

The validation verdict of each upload is kept (and a rejected one again under rejections/);
an accepted upload's files are unpacked into its run's own staging folder, copied into the
version folder and verified, and only then is the version manifest written: version N exists
iff its manifest exists. Numbers are reserved with the store's atomic create-if-absent, so two
uploads arriving together get two numbers and a number is never handed out twice, even after
its version is deleted; the upload index says which version an upload became, which makes
re-runs no-ops.

The store owns its control files: the version manifest's name and `.shazam-*` names are
reserved (`zipsafety.reserved_name_problem`), validation rejects archives that use them, and
storing refuses them again, so no delivery can write or forge a version's manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from shazam_assets.ingest.delivery import zipsafety
from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.uploads import Upload
from shazam_assets.platform import layout, records, review_queue
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.records import StoredFile, UploadRecord, VersionManifest
from shazam_assets.platform.storage import TEMP_GRACE, ObjectStore, Reclaimed, StoreError, read_json

VERSION_SCHEMA = records.VERSION_SCHEMA
VERSION_MANIFEST = layout.VERSION_MANIFEST  # reserved: no archive member may be named so
# The read side, named here too for callers that store and read (the Dagster ingest stage).
version_prefix = layout.version_prefix
validation_key = layout.validation_key
rejection_key = layout.rejection_key
list_versions = platform_versions.list_versions
read_version_manifest = platform_versions.read_version_manifest
download_files = platform_versions.download_files
VersionStoreError = platform_versions.VersionStoreError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()


@dataclass(frozen=True)
class StoredVersion:
    asin: str
    version: int
    uri: str
    files: tuple[StoredFile, ...]
    created: bool  # False when this upload had already been stored (a re-run)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _upload_record(upload: Upload) -> dict[str, Any]:
    return _upload_ref(upload).to_json()


def _upload_ref(upload: Upload) -> UploadRecord:
    return UploadRecord(
        key=upload.key,
        etag=upload.etag,
        upload_id=upload.upload_id,
        size=upload.size,
        last_modified=upload.last_modified.isoformat(),
    )


# --- validation verdicts -------------------------------------------------------------------


def record_validation(
    store: ObjectStore, *, upload: Upload, report: Report, manifest: dict[str, Any] | None
) -> str:
    """Keep the verdict of an upload; a rejected one also lands under rejections/."""
    record = {
        "upload": _upload_record(upload),
        "validated_at": _now(),
        "ok": report.ok,
        "codes": list(report.codes),
        "report": report.to_dict(),
        "manifest": manifest,
    }
    if not report.ok:
        store.put_bytes(rejection_key(upload.asin, upload.upload_id), _json(record))
    key = validation_key(upload.asin, upload.upload_id)
    store.put_bytes(key, _json(record))
    return key


def read_validation(store: ObjectStore, upload: Upload) -> dict[str, Any] | None:
    return read_json(store, validation_key(upload.asin, upload.upload_id))


# --- storing a version ---------------------------------------------------------------------


class _HashingReader:
    """A read-only stream that hashes and counts what passes through it."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.inner.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _sha256_of(store: ObjectStore, key: str) -> str:
    digest = hashlib.sha256()
    with store.open_read(key) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stage(
    store: ObjectStore, *, zip_path: Path, names: list[str], prefix: str
) -> list[StoredFile]:
    files = []
    for name in names:
        with zipsafety.open_entry(zip_path, name) as member:
            reader = _HashingReader(member)
            store.put_stream(prefix + name, reader)  # type: ignore[arg-type]
        files.append(StoredFile(path=name, sha256=reader.digest.hexdigest(), size=reader.size))
    return files


def _claim_number(store: ObjectStore, *, upload: Upload) -> int:
    """Reserve the next unused version number for this upload (or the one it already has)."""
    index_key = layout.upload_index_key(upload.asin, upload.upload_id)
    existing = read_json(store, index_key)
    if existing is not None:
        return int(existing["version"])
    claimed = [
        c.version
        for k in _keys(store, layout.claims_prefix(upload.asin))
        if (c := layout.parse_claim_key(k)) is not None
    ]
    number = max(claimed, default=0) + 1
    claim = _json({"upload": _upload_record(upload), "claimed_at": _now()})
    while not store.put_if_absent(layout.claim_key(upload.asin, number), claim):
        number += 1
    index = _json({"version": number, "upload": _upload_record(upload)})
    if store.put_if_absent(index_key, index):
        return number
    winner = read_json(store, index_key)
    assert winner is not None
    return int(winner["version"])  # a concurrent run of the same upload won; share its number


def _keys(store: ObjectStore, prefix: str) -> Iterator[str]:
    return (info.key for info in store.list(prefix))


def store_version(store: ObjectStore, *, upload: Upload, zip_path: Path) -> StoredVersion:
    """Unpack an accepted upload into the next version of its ASIN.

    Files are streamed into this run's own staging prefix with their sha256, copied to the
    version folder, verified, and only then is version.json created (create-if-absent). Only
    the run whose create succeeded reports `created`; a concurrent run of the same upload
    returns the version the winner committed; any other manifest found there is refused.
    Staged files are deleted whether storing succeeds or fails. A re-run of the same upload
    returns the version it already became.
    """
    validation = read_validation(store, upload)
    if validation is None or not validation["ok"]:
        state = "has not been validated" if validation is None else "was rejected"
        raise VersionStoreError(
            "VERSION_NOT_VALIDATED",
            f"upload {upload.key} ({upload.etag}) {state}; refusing to store it",
        )
    done = find_upload_version(store, upload)
    if done is not None:
        return done
    entries, issues = zipsafety.inspect_zip(zip_path)
    if any(i.severity == "error" for i in issues):
        raise VersionStoreError(
            "VERSION_ZIP_UNSAFE", f"{upload.key} no longer passes ZIP safety checks; not storing it"
        )
    names = [e.name for e in entries]
    _refuse_control_names(upload, names)
    staging = layout.staging_prefix(upload.asin, upload.upload_id, uuid.uuid4().hex)
    try:
        files = _stage(store, zip_path=zip_path, names=names, prefix=staging)
        number = _claim_number(store, upload=upload)
        stored = _commit(
            store, upload=upload, number=number, staging=staging, files=files, validation=validation
        )
    except BaseException:
        with contextlib.suppress(StoreError, OSError):
            _clear(store, staging)
        raise
    _clear(store, staging)
    return stored


def _refuse_control_names(upload: Upload, names: list[str]) -> None:
    """No archive member may land on a key the store keeps for itself (version.json, temp files):
    validation refuses such names too, but the store does not rely on it."""
    for name in names:
        problem = zipsafety.reserved_name_problem(name)
        if problem is not None:
            raise VersionStoreError(
                "VERSION_RESERVED_NAME",
                f"{upload.key}: member {name!r} would overwrite the store's own files ({problem}); "
                "not storing it",
            )


# A run stages and commits within minutes; staging untouched for a day belongs to a run that was
# killed between the two (a run that fails clears its own).
STAGING_GRACE = timedelta(hours=24)


def reclaim_staging(store: ObjectStore, *, older_than: timedelta = STAGING_GRACE) -> Reclaimed:
    """Delete the staging files of runs killed before they committed. Nothing is lost: the
    uploaded ZIP they were unpacked from is kept, and a re-run stages it again."""
    cutoff = datetime.now(UTC) - older_than
    files = size = 0
    for info in list(store.list(layout.staging_prefix())):
        if info.last_modified < cutoff:
            store.delete(info.key)
            files, size = files + 1, size + info.size
    return Reclaimed(files=files, bytes=size)


@dataclass(frozen=True)
class Leftovers:
    """What one housekeeping pass reclaimed: temp files of killed writes, staging of killed runs."""

    temp: Reclaimed
    staging: Reclaimed


def reclaim_leftovers(
    store: ObjectStore,
    *,
    temp_older_than: timedelta = TEMP_GRACE,
    staging_older_than: timedelta = STAGING_GRACE,
) -> Leftovers:
    """The store's housekeeping (daily schedule and `shazam store gc`)."""
    return Leftovers(
        temp=store.reclaim_temp_files(older_than=temp_older_than),
        staging=reclaim_staging(store, older_than=staging_older_than),
    )


def _clear(store: ObjectStore, prefix: str) -> None:
    for key in list(_keys(store, prefix)):
        store.delete(key)


def _commit(
    store: ObjectStore,
    *,
    upload: Upload,
    number: int,
    staging: str,
    files: list[StoredFile],
    validation: dict[str, Any],
) -> StoredVersion:
    """Copy the staged files into version `number` and create its manifest, or find that a
    concurrent run of the same upload did (created=False)."""
    target = layout.version_prefix(upload.asin, number)
    manifest_key = layout.version_manifest_key(upload.asin, number)
    if store.exists(manifest_key):  # a concurrent run of this upload finished first
        return _committed_by_other_run(store, upload, number)
    for item in files:
        key = layout.version_file_key(upload.asin, number, item.path)
        store.copy(staging + item.path, key)
        if _sha256_of(store, key) != item.sha256:
            raise VersionStoreError(
                "VERSION_CHECKSUM_MISMATCH", f"checksum mismatch copying {item.path} into {target}"
            )
    recorded = _recorded_model_files(validation, files)
    manifest = VersionManifest(
        asin=upload.asin,
        version=number,
        created_at=_now(),
        upload=_upload_ref(upload),
        files=tuple(files),
        total_bytes=sum(f.size for f in files),
        validation=validation["report"],
        delivery=validation["manifest"],
        recorded_model_files=None if recorded is None else tuple(recorded),
    )
    # queued before the manifest exists, so no committed version is missing from the queue
    # (the queue's reader skips a marker whose version has no manifest)
    review_queue.mark_pending(store, upload.asin, number)
    if not store.put_if_absent(manifest_key, _json(manifest.to_json())):
        return _committed_by_other_run(store, upload, number)
    return _stored_from_manifest(store, upload.asin, number, created=True)


def _committed_by_other_run(store: ObjectStore, upload: Upload, number: int) -> StoredVersion:
    """The version another run of this same upload committed; anything else at that key (a
    manifest of another upload, or not a version manifest at all) is refused, never trusted."""
    if not _is_manifest_of(store, upload, number):
        key = layout.version_manifest_key(upload.asin, number)
        raise VersionStoreError(
            "VERSION_FOREIGN_MANIFEST",
            f"{upload.asin} v{number}: {key} was not written by this upload ({upload.key}); "
            "refusing to trust it or to store over it",
        )
    return _stored_from_manifest(store, upload.asin, number, created=False)


def _is_manifest_of(store: ObjectStore, upload: Upload, number: int) -> bool:
    """Whether version `number`'s manifest exists and is the one storing `upload` wrote."""
    try:
        found = read_json(store, layout.version_manifest_key(upload.asin, number))
    except ValueError:
        return False
    if not isinstance(found, dict) or not isinstance(found.get("upload"), dict):
        return False
    return (
        found.get("schema") == VERSION_SCHEMA
        and found.get("version") == number
        and found["upload"].get("upload_id") == upload.upload_id
    )


def _recorded_model_files(validation: dict[str, Any], files: list[StoredFile]) -> list[str] | None:
    """The model files validation recorded (the model, then the resources it read), when every
    one of them is stored; None for a verdict made before the list was recorded."""
    recorded = ((validation.get("report") or {}).get("stats") or {}).get("model_files")
    stored = {f.path for f in files}
    if isinstance(recorded, list) and recorded and all(p in stored for p in recorded):
        return [str(p) for p in recorded]
    return None


def find_upload_version(store: ObjectStore, upload: Upload) -> StoredVersion | None:
    """The committed version an upload became, if any."""
    index = read_json(store, layout.upload_index_key(upload.asin, upload.upload_id))
    if index is None or not _is_manifest_of(store, upload, int(index["version"])):
        return None
    return _stored_from_manifest(store, upload.asin, int(index["version"]), created=False)


def _stored_from_manifest(
    store: ObjectStore, asin: str, version: int, *, created: bool
) -> StoredVersion:
    manifest = read_version_manifest(store, asin, version)
    assert manifest is not None
    return StoredVersion(
        asin=asin,
        version=version,
        uri=store.uri(layout.version_prefix(asin, version)),
        files=manifest.files,
        created=created,
    )
