"""Register an ASIN's 3D scan data (`scans/<ASIN>/`): list it, check it, record the verdict.

Scan data is what the production stage starts from: JPEG photos of the product and the scan
OBJ with its .mtl and textures, copied in by the scanning team. Before a lead can assign the
ASIN to an artist, `register_scan` judges it with the checks a delivery's scan and photos get
(`delivery.scan.check_obj_scan`, `delivery.photos.check_photo`) and writes the verdict to
`production/<ASIN>/scan.json` (`platform.records.ScanRecord`, read back through
`platform.scans`).

The files are written by people outside the pipeline, so the listing is judged first, from
what the store declares (count, sizes, names), before any content is read: too many files, too
many bytes, a file too large to check, or a name that escapes its folder is a recorded issue
with a stable code. The caps are the delivery ZIP's (`zipsafety.ZipLimits`), since the same
scan travels in a delivery later. Only then is the OBJ streamed (never held in memory) and each
photo and texture decoded through `platform.imaging`'s bounded decoder. Every hostile input
ends in a recorded not-ok verdict; only a failing store raises (and is retried).
"""

from __future__ import annotations

import hashlib
import posixpath
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from shazam_assets.ingest.delivery import photos, scan, zipsafety
from shazam_assets.ingest.delivery.profiles import get_profile
from shazam_assets.ingest.delivery.report import Issue, RuleBook
from shazam_assets.platform import imaging, layout
from shazam_assets.platform.asin import asin_problem
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.records import ScanFile, ScanIssue, ScanRecord
from shazam_assets.platform.scanning import object_id, scan_prefix
from shazam_assets.platform.scans import write_scan_record
from shazam_assets.platform.storage import ObjectInfo, ObjectStore

_ZIP = zipsafety.ZipLimits()
_IMAGES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class ScanLimits:
    """What one registration may read: the delivery ZIP's caps, since the scan is packed into
    one later, and the bounded decoder's byte cap for each picture."""

    max_files: int = _ZIP.max_entries
    max_total_bytes: int = _ZIP.max_total_uncompressed
    max_file_bytes: int = _ZIP.max_entry_uncompressed
    max_image_bytes: int = imaging.DEFAULT_LIMITS.max_bytes


SCAN_LIMITS = ScanLimits()

rules = RuleBook("scan data")
TOO_MANY_FILES = rules.error(
    "SCAN_DATA_TOO_MANY_FILES",
    "The scan folder holds more files than a scan registration reads",
    hint="Keep only the photos, the OBJ, its .mtl and its textures under scans/<ASIN>/.",
)
TOO_LARGE = rules.error(
    "SCAN_DATA_TOO_LARGE",
    "The scan folder's files add up to more bytes than a scan registration reads",
    hint="Decimate the scan mesh and downsize the textures in the scanning software; remove "
    "files the scan does not need.",
)
FILE_TOO_LARGE = rules.error(
    "SCAN_DATA_FILE_TOO_LARGE",
    "One scan file is larger than a scan registration reads",
    hint="Decimate the scan mesh (an OBJ of a few hundred MB is plenty) or downsize the image.",
)
BAD_PATH = rules.error(
    "SCAN_DATA_BAD_PATH",
    "A scan file's name is not a plain relative path",
    hint="Rename the file: folders separated by '/', no '.' or '..' parts, no backslashes or "
    "control characters.",
)
NO_OBJ = rules.error(
    "SCAN_DATA_NO_OBJ",
    "The scan folder has no .obj file",
    hint="Copy the scan's OBJ (with its .mtl and textures) into scans/<ASIN>/.",
)
MANY_OBJ = rules.error(
    "SCAN_DATA_MANY_OBJ",
    "The scan folder has more than one .obj file",
    hint="Keep exactly one scan OBJ per ASIN; remove the others.",
)
NO_PHOTO = rules.error(
    "SCAN_DATA_NO_PHOTO",
    "The scan folder has no product photo",
    hint="Copy at least one JPEG or PNG photo of the product into scans/<ASIN>/.",
)


class ScanDataError(ShazamError, ValueError):
    """Registration was asked for something that is not an ASIN (SCAN_DATA_BAD_ASIN)."""


def _path_problem(path: str) -> str | None:
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in path:
        return "its path has an empty, '.' or '..' part or a backslash"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in path):
        return "its path holds a control character"
    return zipsafety.reserved_name_problem(path) or zipsafety.name_length_problem(path)


def _listing(
    store: ObjectStore, asin: str, limits: ScanLimits
) -> tuple[list[tuple[str, ObjectInfo]], list[Issue]]:
    """The folder's (path, info) pairs, at most `max_files + 1` listed, and what the listing
    alone shows is wrong (nothing is read)."""
    found: list[tuple[str, ObjectInfo]] = []
    issues: list[Issue] = []
    for info in store.list(layout.scans_prefix(asin)):
        if len(found) == limits.max_files:
            issues.append(
                TOO_MANY_FILES(f"more than {limits.max_files:,} files; listing stopped there")
            )
            return found, issues
        parsed = layout.parse_scan_file_key(info.key)
        path = parsed[1] if parsed is not None else info.key
        problem = _path_problem(path)
        if problem is not None:
            issues.append(BAD_PATH(f"{path!r}: {problem}", path=path))
            continue
        found.append((path, info))
    total = sum(info.size for _, info in found)
    if total > limits.max_total_bytes:
        issues.append(
            TOO_LARGE(f"{total:,} bytes in all; at most {limits.max_total_bytes:,} are read")
        )
    for path, info in found:
        if info.size > limits.max_file_bytes:
            issues.append(
                FILE_TOO_LARGE(
                    f"{path} is {info.size:,} bytes; at most {limits.max_file_bytes:,}", path=path
                )
            )
    return found, issues


def _check_pictures(
    store: ObjectStore,
    asin: str,
    files: dict[str, ObjectInfo],
    names: Iterable[str],
    *,
    min_px: int,
    limits: ScanLimits,
) -> list[Issue]:
    issues: list[Issue] = []
    for name in names:
        size = files[name].size
        if size > limits.max_image_bytes:
            issues.append(
                photos.PHOTO_UNREADABLE(
                    f"{name} is {size:,} bytes; images over {limits.max_image_bytes:,} bytes "
                    "are not decoded",
                    path=name,
                )
            )
            continue
        data = store.get_bytes(layout.scan_file_key(asin, name))
        issues += photos.check_photo(name, data, min_px=min_px)[1]
    return issues


def register_scan(
    store: ObjectStore, asin: str, *, now: datetime, limits: ScanLimits = SCAN_LIMITS
) -> ScanRecord:
    """Judge the ASIN's scan data as it is now and record the verdict (replacing the last one).

    The record is written whatever the verdict; `ok` is False when any issue is an error.
    Raises ScanDataError for a malformed ASIN, StoreError when the store fails."""
    problem = asin_problem(asin)
    if problem is not None:
        raise ScanDataError("SCAN_DATA_BAD_ASIN", problem)
    listed, issues = _listing(store, asin, limits)
    files = dict(listed)
    objs = [p for p in files if p.lower().endswith(".obj")]
    stats: dict[str, object] | None = None
    textures: tuple[str, ...] = ()
    mtls: tuple[str, ...] = ()
    if not objs:
        issues.append(NO_OBJ(f"no .obj among {len(files)} files"))
    elif len(objs) > 1:
        issues.append(MANY_OBJ(f"{len(objs)} OBJ files: {', '.join(objs[:5])}"))
    if issues:  # the listing is wrong: no content is read
        return _record(store, asin, now=now, listed=listed, issues=issues, obj=None)
    obj = objs[0]
    checked, obj_issues = scan.check_obj_scan(
        obj_name=obj,
        open_member=lambda name: store.open_read(layout.scan_file_key(asin, name)),
        member_names=frozenset(files),
    )
    issues += obj_issues
    if checked is not None:
        stats = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(checked).items()}
        textures, mtls = checked.textures, checked.material_libraries
    pictures = [p for p in files if posixpath.splitext(p)[1].lower() in _IMAGES]
    photo_names = [p for p in pictures if p not in textures]
    if not photo_names:
        issues.append(NO_PHOTO("no JPEG or PNG photo besides the scan's textures"))
    min_px = get_profile(None).min_photo_px
    issues += _check_pictures(store, asin, files, photo_names, min_px=min_px, limits=limits)
    issues += _check_pictures(store, asin, files, textures, min_px=0, limits=limits)
    roles = {obj: "obj", **dict.fromkeys(mtls, "mtl"), **dict.fromkeys(textures, "texture")}
    roles.update(dict.fromkeys(photo_names, "photo"))
    return _record(
        store, asin, now=now, listed=listed, issues=issues, obj=obj, roles=roles, stats=stats
    )


def _record(
    store: ObjectStore,
    asin: str,
    *,
    now: datetime,
    listed: list[tuple[str, ObjectInfo]],
    issues: list[Issue],
    obj: str | None,
    roles: dict[str, str] | None = None,
    stats: dict[str, object] | None = None,
) -> ScanRecord:
    roles = roles or {}
    record = ScanRecord(
        asin=asin,
        registered_at=now,
        ok=not any(i.severity == "error" for i in issues),
        files=tuple(
            ScanFile(path=p, size=i.size, etag=i.etag, role=roles.get(p, "other"))
            for p, i in listed
        ),
        issues=tuple(
            ScanIssue(
                code=i.code,
                severity=str(i.severity),
                message=i.message,
                hint=i.hint,
                path=i.path,
            )
            for i in issues
        ),
        obj=obj,
        stats=stats,
    )
    write_scan_record(store, record)
    return record


@dataclass(frozen=True)
class ScanArrivals:
    """What one sensor tick found under `scans/`: the ASINs with new or changed files."""

    asins: tuple[tuple[str, str], ...]  # (ASIN, run key), ascending by ASIN
    cursor: str
    listed: int
    skipped_keys: tuple[str, ...]  # new objects under scans/ that are not scans/<ASIN>/<path>


def scan_arrivals(
    store: ObjectStore,
    cursor: str | None,
    *,
    now: datetime,
    time_budget_s: float = 40.0,
    max_files: int = 5000,
) -> ScanArrivals:
    """One sensor tick over `scans/` (`platform.scanning`'s cursor: nothing missed, nothing
    re-emitted): each ASIN with new files once, with a run key derived from those files (key and
    ETag), so files arriving over several ticks register again and a repeated tick does not."""
    found = scan_prefix(
        store,
        layout.scans_prefix(),
        cursor,
        now=now,
        time_budget_s=time_budget_s,
        max_items=max_files,
    )
    by_asin: dict[str, list[bytes]] = {}
    skipped = []
    for info in found.objects:
        parsed = layout.parse_scan_file_key(info.key)
        if parsed is None:
            skipped.append(info.key)
            continue
        by_asin.setdefault(parsed[0], []).append(object_id(info.key, info.etag))
    asins = tuple(
        (asin, "scan:" + asin + ":" + hashlib.sha256(b"".join(sorted(ids))).hexdigest()[:16])
        for asin, ids in sorted(by_asin.items())
    )
    return ScanArrivals(
        asins=asins, cursor=found.cursor, listed=found.listed, skipped_keys=tuple(skipped)
    )
