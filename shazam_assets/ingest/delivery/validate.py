"""Validate a delivery ZIP, a .glb, or a .gltf with its resources: every rule, one report.

Order matters only for safety: a ZIP is judged by `zipsafety` (central directory, CRCs, caps)
before any member is read for content, and nothing is ever extracted to disk here.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shazam_assets.ingest.delivery import (
    budgets,
    contract,
    gltf,
    limits,
    masters,
    photos,
    zipsafety,
)
from shazam_assets.ingest.delivery import rules_version as _rules_version
from shazam_assets.ingest.delivery.contract import Manifest
from shazam_assets.ingest.delivery.profiles import MB, Profile, get_profile
from shazam_assets.ingest.delivery.report import Issue, Report, RuleBook, build_report

RULES_VERSION = _rules_version.RULES_VERSION  # recorded in every report; defined once there
MEMBER_READ_CAP = 64 * MB  # photos and external glTF resources are read whole, up to this
# Members the checks read whole: the safety pass keeps their bytes instead of inflating twice.
_READ_WHOLE = (".json", ".glb", ".gltf", ".bin", ".png", ".jpg", ".jpeg", ".webp", ".ktx2")

rules = RuleBook("input")
UNSUPPORTED_INPUT = rules.error(
    "INPUT_UNSUPPORTED",
    "Only .zip deliveries, .glb and .gltf files can be validated",
    hint="Pass the delivery ZIP, or the model file itself.",
)


@dataclass(frozen=True)
class DeliveryValidation:
    """The report plus what later stages need from a valid delivery."""

    report: Report
    manifest: Manifest | None
    entries: tuple[zipsafety.ZipEntry, ...]


class _Members:
    """Read access to the members of a judged-safe archive, remembering what was used."""

    def __init__(self, path: Path, entries: tuple[zipsafety.ZipEntry, ...]) -> None:
        self.path = path
        self.sizes = {e.name: e.size for e in entries}  # measured by inspect_zip, not headers
        self.retained = {e.name: e.data for e in entries if e.data is not None}
        self.used: set[str] = set()
        self.oversized: set[str] = set()
        self.inflated: dict[str, bytes] = {}  # members read once, however often they are named

    def read(self, name: str, *, max_bytes: int = MEMBER_READ_CAP) -> bytes | None:
        """The member's bytes; None when absent or larger than `max_bytes` (see `oversized`)."""
        if name not in self.sizes:
            return None
        self.used.add(name)
        if self.sizes[name] > max_bytes:
            self.oversized.add(name)
            return None
        if name in self.retained:
            return self.retained[name]
        if name not in self.inflated:
            self.inflated[name] = zipsafety.read_entry(self.path, name, max_bytes=max_bytes)
        return self.inflated[name]

    def resolver(self, base: str) -> Callable[[str], bytes | None]:
        folder = posixpath.dirname(base)

        def resolve(uri: str) -> bytes | None:
            return self.read(posixpath.normpath(posixpath.join(folder, uri)))

        return resolve


def validate_path(
    path: Path, *, profile: str | None = None, expected_asin: str | None = None
) -> Report:
    """Validate whatever a user points `shazam validate` at."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return validate_delivery(path, profile=profile, expected_asin=expected_asin).report
    if suffix in (".glb", ".gltf"):
        return validate_model_file(path, profile=profile)
    return build_report(
        subject=str(path),
        profile=get_profile(profile).name,
        issues=[UNSUPPORTED_INPUT(f"{path.name}: unsupported file type {suffix or '(none)'}")],
    )


def validate_model_file(
    path: Path,
    *,
    profile: str | None = None,
    dimensions_m: tuple[float, float, float] | None = None,
) -> Report:
    """A bare .glb or .gltf (resources resolved beside it, never outside its folder).

    Nothing is read whole before its size is known: the file's size and, for a GLB, the
    length its header declares are checked against the profile first; a file that is too
    large, or a .glb without the GLB magic, is judged on its first bytes alone.
    """
    started = time.perf_counter()
    chosen = get_profile(profile)
    resources = _FolderResources(path.parent, budget=chosen.max_model_bytes)
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_GLB_HEADER)
    declared = _glb_declared_length(head)
    claimed = max(size, declared or 0)
    if declared is None and path.suffix.lower() == ".glb":  # not a GLB: its header says why
        issues, stats = _check_model(
            name=path.name,
            data=head,
            resolve=resources.read,
            profile=chosen,
            extra_bytes=lambda: 0,
            dimensions_m=None,
        )
    elif claimed > chosen.max_model_bytes:  # rejected on size, never read
        issues = budgets.check_file_size(claimed, chosen)
        stats = {"model": path.name, "model_bytes": claimed}
    else:
        issues, stats = _check_model(
            name=path.name,
            data=path.read_bytes(),
            resolve=resources.read,
            profile=chosen,
            extra_bytes=resources.loaded_bytes,
            dimensions_m=dimensions_m,
        )
        issues += resources.refusals()
    stats["seconds"] = round(time.perf_counter() - started, 4)
    return build_report(
        subject=str(path), profile=chosen.name, issues=limits.cap_issues(issues), stats=stats
    )


_GLB_HEADER = 12


def _glb_declared_length(head: bytes) -> int | None:
    """The total length a GLB header declares, or None when `head` is not a GLB header."""
    if len(head) < _GLB_HEADER or head[:4] != b"glTF":
        return None
    return int.from_bytes(head[8:12], "little")


class _FolderResources:
    """External resources of a bare .gltf, from its own folder: each file read once however
    many buffers name it, and only while the model stays within the profile's size budget."""

    def __init__(self, folder: Path, *, budget: int) -> None:
        self.root = folder.resolve()
        self.budget = budget
        self.files: dict[Path, bytes] = {}
        self.refused: dict[str, int] = {}

    def read(self, uri: str) -> bytes | None:
        target = (self.root / uri).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        if target not in self.files:
            size = target.stat().st_size
            if self.loaded_bytes() + size > self.budget:
                self.refused[uri] = size
                raise ValueError(
                    f"{size / MB:.1f} MB would take the model over its "
                    f"{self.budget / MB:.0f} MB budget; not read"
                )
            self.files[target] = target.read_bytes()
        return self.files[target]

    def loaded_bytes(self) -> int:
        return sum(len(data) for data in self.files.values())

    def refusals(self) -> list[Issue]:
        if not self.refused:
            return []
        total = self.loaded_bytes() + sum(self.refused.values())
        return [
            budgets.FILE_TOO_LARGE(
                f"model and resources are at least {total / MB:.1f} MB; the profile allows "
                f"{self.budget / MB:.0f} MB",
                bytes=total,
            )
        ]


def _check_model(
    *,
    name: str,
    data: bytes,
    resolve: Callable[[str], bytes | None],
    profile: Profile,
    extra_bytes: Callable[[], int],
    dimensions_m: tuple[float, float, float] | None,
) -> tuple[list[Issue], dict[str, Any]]:
    asset, issues = gltf.validate_gltf(name=name, data=data, resolve=resolve)
    stats: dict[str, Any] = {"model": name, "model_bytes": len(data) + extra_bytes()}
    if asset is not None:
        issues = issues + masters.check_master(asset.document)
    if asset is None or any(i.severity == "error" for i in issues):
        return issues, stats
    model_stats, budget_issues = budgets.check_budgets(
        asset, profile=profile, model_bytes=stats["model_bytes"], dimensions_m=dimensions_m
    )
    stats.update(asdict(model_stats))
    return issues + budget_issues, stats


def validate_delivery(
    path: Path,
    *,
    profile: str | None = None,
    expected_asin: str | None = None,
    rules_version: str | None = None,
) -> DeliveryValidation:
    """Judge a delivery ZIP: archive safety, contract, model, budgets, photos, scan.

    The report is stamped with `rules_version` (default RULES_VERSION): the guard passes its
    caller's, since the child process that validates has its own copy of the module."""
    started = time.perf_counter()
    chosen = get_profile(profile)
    entries, issues = zipsafety.inspect_zip(
        path,
        limits=chosen.zip,
        retain=lambda name, size: size <= MEMBER_READ_CAP and name.lower().endswith(_READ_WHOLE),
    )
    stats: dict[str, Any] = {
        "rules_version": rules_version or RULES_VERSION,
        "archive_bytes": path.stat().st_size,
        "entries": len(entries),
        "uncompressed_bytes": sum(e.size for e in entries),
    }
    manifest = None
    if not any(i.severity == "error" for i in issues):
        manifest, content_issues, content_stats = _check_contents(
            path, entries, profile=chosen, expected_asin=expected_asin
        )
        issues += content_issues
        stats.update(content_stats)
    stats["seconds"] = round(time.perf_counter() - started, 4)
    report = build_report(
        subject=str(path), profile=chosen.name, issues=limits.cap_issues(issues), stats=stats
    )
    return DeliveryValidation(report=report, manifest=manifest, entries=entries)


def _check_contents(
    path: Path,
    entries: tuple[zipsafety.ZipEntry, ...],
    *,
    profile: Profile,
    expected_asin: str | None,
) -> tuple[Manifest | None, list[Issue], dict[str, Any]]:
    members = _Members(path, entries)
    raw = members.read(contract.MANIFEST_NAME, max_bytes=contract.MANIFEST_MAX_BYTES)
    if raw is None:
        if contract.MANIFEST_NAME in members.oversized:
            size = members.sizes[contract.MANIFEST_NAME]
            return (
                None,
                [
                    contract.MANIFEST_SCHEMA_VIOLATION(
                        f"manifest.json is {size:,} bytes; at most {contract.MANIFEST_MAX_BYTES:,} are allowed",
                        path=contract.MANIFEST_NAME,
                    )
                ],
                {},
            )
        return None, [contract.MANIFEST_MISSING()], {}
    deep = limits.json_too_big(raw, contract.MANIFEST_NAME, path=contract.MANIFEST_NAME)
    if deep is not None:  # the JSON decoder would recurse once per level
        return None, [deep], {}
    manifest, issues = contract.parse_manifest(raw)
    if manifest is None:
        return None, issues, {}
    names = frozenset(members.sizes)
    issues += contract.check_manifest(manifest, names=names, expected_asin=expected_asin)
    stats: dict[str, Any] = {"asin": manifest.asin, "artist": manifest.artist.name}
    files = manifest.files
    if files.model in names and files.model.lower().endswith(contract.MODEL_SUFFIXES):
        issues += _check_delivered_model(members, manifest, profile, stats)
    issues += _check_photos(members, files.photos, profile)
    stats["photos"] = len(files.photos)
    if files.scan and files.scan in names:
        # most deliveries have no scan, and `shazam validate` does not import its checks for them
        from shazam_assets.ingest.delivery import scan

        scan_stats, scan_issues = scan.check_obj_scan(
            obj_name=files.scan,
            open_member=lambda name: zipsafety.open_entry(path, name),
            member_names=names,
        )
        issues += scan_issues
        members.used.update(n for n in names if _beside(n, files.scan))
        if scan_stats is not None:
            stats["scan"] = asdict(scan_stats)
    issues += [
        budgets.FILE_TOO_LARGE(
            f"{name} is {members.sizes[name] / MB:.0f} MB, too large to check", path=name
        )
        for name in sorted(members.oversized - {contract.MANIFEST_NAME})
        if name not in files.photos
    ]
    issues += contract.unlisted_files(manifest, names=names, used=members.used)
    return manifest, issues, stats


def _beside(name: str, anchor: str) -> bool:
    folder = posixpath.dirname(anchor)
    return bool(folder) and name.startswith(folder + "/")


def _check_delivered_model(
    members: _Members, manifest: Manifest, profile: Profile, stats: dict[str, Any]
) -> list[Issue]:
    model = manifest.files.model
    size = members.sizes[model]
    if size > profile.max_model_bytes:  # rejected on size alone, never loaded into memory
        stats["model_bytes"] = size
        return budgets.check_file_size(size, profile)
    before = set(members.used)
    data = members.read(model, max_bytes=profile.max_model_bytes)
    assert data is not None
    issues, model_stats = _check_model(
        name=posixpath.basename(model),
        data=data,
        resolve=members.resolver(model),
        profile=profile,
        extra_bytes=lambda: sum(members.sizes[n] for n in members.used - before - {model}),
        dimensions_m=manifest.product.dimensions.in_metres(),
    )
    stats.update(model_stats)
    stats["model"] = model
    # The closed list of model files: the model and exactly the resources its checks read.
    # Renders, the review page and publishing use this list, never the folder's contents.
    stats["model_files"] = [model, *sorted(members.used - before - {model})]
    return issues


def _check_photos(members: _Members, names: tuple[str, ...], profile: Profile) -> list[Issue]:
    issues: list[Issue] = []
    for name in names:
        data = members.read(name)
        if data is not None:
            issues += photos.check_photo(name, data, min_px=profile.min_photo_px)[1]
        elif name in members.oversized:
            issues.append(
                photos.PHOTO_UNREADABLE(
                    f"{name} is {members.sizes[name] / MB:.0f} MB; photos over {MEMBER_READ_CAP // MB} MB "
                    "are not accepted",
                    path=name,
                )
            )
    return issues
