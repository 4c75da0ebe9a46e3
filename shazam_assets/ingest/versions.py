"""The version store: every accepted delivery becomes an immutable, numbered version of its ASIN.

Layout under the store root::

    uploads/<ASIN>/<name>.zip               what artists upload (never deleted here)
    validations/<ASIN>/<upload_id>.json     the validation verdict of each upload
    rejections/<ASIN>/<upload_id>.json      the report of each rejected upload
    staging/<ASIN>/<upload_id>/<run>/<file> unpacked files before they become a version (per run)
    assets/<ASIN>/v<N>/<file>               the files of version N (immutable)
    assets/<ASIN>/v<N>/version.json         written last: version N exists iff this exists; it
                                            lists every file and the closed list of model files
    index/<ASIN>/claims/v<N>.json           reservation of number N (never deleted, never reused)
    index/<ASIN>/uploads/<upload_id>.json   which version an upload became (makes re-runs no-ops)

Numbers are reserved with the store's atomic create-if-absent, so two uploads arriving together
get two numbers and a number is never handed out twice, even after its version is deleted.

The store owns its control files: `version.json` and `.shazam-*` names are reserved
(`zipsafety.reserved_name_problem`), validation rejects archives that use them, and storing
refuses them again, so no delivery can write or forge a version's manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from shazam_assets.ingest.delivery import zipsafety
from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.uploads import Upload
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.storage import TEMP_GRACE, ObjectStore, Reclaimed, StoreError, read_json

VERSION_SCHEMA = "shazam.version/1"
STAGING_PREFIX = "staging/"
VERSION_MANIFEST = zipsafety.VERSION_MANIFEST  # reserved: no archive member may be named so
_VERSION_DIR = re.compile(r"^v(\d+)$")


class VersionStoreError(ShazamError, RuntimeError):
    """Storing a version cannot proceed; `code` is stable (VERSION_*), the message says why and
    nothing was committed."""


def assets_prefix(asin: str) -> str:
    return f"assets/{asin}/"


def version_prefix(asin: str, version: int) -> str:
    return f"assets/{asin}/v{version}/"


def renders_prefix(asin: str, version: int) -> str:
    """Where the turntable stage writes a version's renders (deleted with the version)."""
    return f"renders/{asin}/v{version}/"


def turntable_manifest_key(asin: str, version: int) -> str:
    """The committed turntable's manifest (written last; see `shazam_assets.render.turntable`)."""
    return renders_prefix(asin, version) + "manifest.json"


def _claim_key(asin: str, version: int) -> str:
    return f"index/{asin}/claims/v{version}.json"


def _upload_index_key(asin: str, upload_id: str) -> str:
    return f"index/{asin}/uploads/{upload_id}.json"


def validation_key(asin: str, upload_id: str) -> str:
    return f"validations/{asin}/{upload_id}.json"


def rejection_key(asin: str, upload_id: str) -> str:
    return f"rejections/{asin}/{upload_id}.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=str).encode()



@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the version folder, as in the delivery ZIP
    sha256: str
    size: int


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
    return {
        "key": upload.key,
        "etag": upload.etag,
        "upload_id": upload.upload_id,
        "size": upload.size,
        "last_modified": upload.last_modified.isoformat(),
    }


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
    existing = read_json(store, _upload_index_key(upload.asin, upload.upload_id))
    if existing is not None:
        return int(existing["version"])
    claimed = [_number(k) for k in _keys(store, f"index/{upload.asin}/claims/")]
    number = max(claimed, default=0) + 1
    claim = _json({"upload": _upload_record(upload), "claimed_at": _now()})
    while not store.put_if_absent(_claim_key(upload.asin, number), claim):
        number += 1
    index = _json({"version": number, "upload": _upload_record(upload)})
    if store.put_if_absent(_upload_index_key(upload.asin, upload.upload_id), index):
        return number
    winner = read_json(store, _upload_index_key(upload.asin, upload.upload_id))
    assert winner is not None
    return int(winner["version"])  # a concurrent run of the same upload won; share its number


def _number(key: str) -> int:
    return int(posixpath.basename(key).removeprefix("v").removesuffix(".json"))


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
            "VERSION_NOT_VALIDATED", f"upload {upload.key} ({upload.etag}) {state}; refusing to store it"
        )
    done = find_upload_version(store, upload)
    if done is not None:
        return done
    entries, issues = zipsafety.inspect_zip(zip_path)
    if any(i.severity == "error" for i in issues):
        raise VersionStoreError("VERSION_ZIP_UNSAFE", f"{upload.key} no longer passes ZIP safety checks; not storing it")
    names = [e.name for e in entries]
    _refuse_control_names(upload, names)
    staging = f"{STAGING_PREFIX}{upload.asin}/{upload.upload_id}/{uuid.uuid4().hex}/"
    try:
        files = _stage(store, zip_path=zip_path, names=names, prefix=staging)
        number = _claim_number(store, upload=upload)
        stored = _commit(store, upload=upload, number=number, staging=staging, files=files,
                         validation=validation)
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
                "not storing it"
            )


# A run stages and commits within minutes; staging untouched for a day belongs to a run that was
# killed between the two (a run that fails clears its own).
STAGING_GRACE = timedelta(hours=24)


def reclaim_staging(store: ObjectStore, *, older_than: timedelta = STAGING_GRACE) -> Reclaimed:
    """Delete the staging files of runs killed before they committed. Nothing is lost: the
    uploaded ZIP they were unpacked from is kept, and a re-run stages it again."""
    cutoff = datetime.now(UTC) - older_than
    files = size = 0
    for info in list(store.list(STAGING_PREFIX)):
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
    store: ObjectStore, *, temp_older_than: timedelta = TEMP_GRACE,
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
    target = version_prefix(upload.asin, number)
    if store.exists(target + VERSION_MANIFEST):  # a concurrent run of this upload finished first
        return _committed_by_other_run(store, upload, number)
    for item in files:
        store.copy(staging + item.path, target + item.path)
        if _sha256_of(store, target + item.path) != item.sha256:
            raise VersionStoreError("VERSION_CHECKSUM_MISMATCH", f"checksum mismatch copying {item.path} into {target}")
    manifest = {
        "schema": VERSION_SCHEMA,
        "asin": upload.asin,
        "version": number,
        "created_at": _now(),
        "upload": _upload_record(upload),
        "files": [vars(f) for f in files],
        "total_bytes": sum(f.size for f in files),
        "validation": validation["report"],
        "delivery_manifest": validation["manifest"],
        "model_files": _recorded_model_files(validation, files),
    }
    if not store.put_if_absent(target + VERSION_MANIFEST, _json(manifest)):
        return _committed_by_other_run(store, upload, number)
    return _stored_from_manifest(store, upload.asin, number, created=True)


def _committed_by_other_run(store: ObjectStore, upload: Upload, number: int) -> StoredVersion:
    """The version another run of this same upload committed; anything else at that key (a
    manifest of another upload, or not a version manifest at all) is refused, never trusted."""
    if not _is_manifest_of(store, upload, number):
        key = version_prefix(upload.asin, number) + VERSION_MANIFEST
        raise VersionStoreError(
            "VERSION_FOREIGN_MANIFEST",
            f"{upload.asin} v{number}: {key} was not written by this upload ({upload.key}); "
            "refusing to trust it or to store over it"
        )
    return _stored_from_manifest(store, upload.asin, number, created=False)


def _is_manifest_of(store: ObjectStore, upload: Upload, number: int) -> bool:
    """Whether version `number`'s manifest exists and is the one storing `upload` wrote."""
    try:
        found = read_json(store, version_prefix(upload.asin, number) + VERSION_MANIFEST)
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


def model_files(manifest: dict[str, Any]) -> tuple[str, ...] | None:
    """The closed list of a version's model files: the model first, then exactly the resources
    (buffers, images) validation read for it. Renders, the review page and publishing use these
    and nothing else the delivery carried, listed or not.

    None when the manifest names no stored model, or when it is a .gltf stored before the list
    was recorded (its resources are unknown: re-validate and store it again)."""
    stored = {f.get("path") for f in manifest.get("files") or () if isinstance(f, dict)}
    model = ((manifest.get("delivery_manifest") or {}).get("files") or {}).get("model")
    if not isinstance(model, str) or model not in stored:
        return None
    recorded = manifest.get("model_files")
    if recorded is None:
        recorded = ((manifest.get("validation") or {}).get("stats") or {}).get("model_files")
    if recorded is None:
        return (model,) if model.lower().endswith(".glb") else None
    if not isinstance(recorded, list) or recorded[:1] != [model]:
        return None
    return tuple(p for p in recorded if p in stored) if all(p in stored for p in recorded) else None


def download_files(
    store: ObjectStore, *, asin: str, version: int, paths: Iterable[str], dest: Path
) -> None:
    """Copy files of a version to `dest`, each at its path inside the version (so a .gltf finds
    its resources where its URIs say). Paths are the version's own (judged safe by zipsafety);
    one that would leave `dest` anyway is refused."""
    root = dest.resolve()
    prefix = version_prefix(asin, version)
    for path in paths:
        target = root.joinpath(*path.split("/")).resolve()
        if not target.is_relative_to(root):
            raise VersionStoreError("VERSION_PATH_OUTSIDE", f"{asin} v{version}: {path!r} is not a path inside the version")
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open_read(prefix + path) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)


def find_upload_version(store: ObjectStore, upload: Upload) -> StoredVersion | None:
    """The committed version an upload became, if any."""
    index = read_json(store, _upload_index_key(upload.asin, upload.upload_id))
    if index is None or not _is_manifest_of(store, upload, int(index["version"])):
        return None
    return _stored_from_manifest(store, upload.asin, int(index["version"]), created=False)


def read_version_manifest(store: ObjectStore, asin: str, version: int) -> dict[str, Any] | None:
    return read_json(store, version_prefix(asin, version) + VERSION_MANIFEST)


def _stored_from_manifest(store: ObjectStore, asin: str, version: int, *, created: bool) -> StoredVersion:
    manifest = read_version_manifest(store, asin, version)
    assert manifest is not None
    return StoredVersion(
        asin=asin,
        version=version,
        uri=store.uri(version_prefix(asin, version)),
        files=tuple(StoredFile(**f) for f in manifest["files"]),
        created=created,
    )


def list_versions(store: ObjectStore, asin: str) -> list[int]:
    """Committed version numbers of an ASIN, ascending."""
    found = set()
    for key in _keys(store, assets_prefix(asin)):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == VERSION_MANIFEST and (m := _VERSION_DIR.match(parts[2])):
            found.add(int(m.group(1)))
    return sorted(found)
