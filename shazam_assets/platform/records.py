"""The records that cross stage boundaries, parsed once from the store's JSON and written back
through one function each.

`to_json()` returns exactly the mapping the store has always held (same keys, same order), so
stores written before these records existed still read, and what is written now reads the same
in older releases. Nested parts no other stage looks into (the validation report, the delivery
manifest, cameras) stay mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

VERSION_SCHEMA = "shazam.version/1"
TURNTABLE_SCHEMA = "shazam.turntable/1"
_UNITS_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} is not a JSON object")
    return data


@dataclass(frozen=True)
class StoredFile:
    """One file of a version (or of a render set), as its manifest lists it."""

    path: str  # relative to the version folder, as in the delivery ZIP
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_json(cls, data: Any) -> StoredFile:
        data = _object(data, "a file entry")
        return cls(
            path=str(data.get("path", "")),
            sha256=str(data.get("sha256", "")),
            size=int(data.get("size", 0)),
        )


@dataclass(frozen=True)
class UploadRecord:
    """Which upload (key and ETag) a version or a verdict came from."""

    key: str
    etag: str
    upload_id: str
    size: int
    last_modified: str  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "etag": self.etag,
            "upload_id": self.upload_id,
            "size": self.size,
            "last_modified": self.last_modified,
        }

    @classmethod
    def from_json(cls, data: Any) -> UploadRecord:
        data = _mapping(data)
        return cls(
            key=str(data.get("key", "")),
            etag=str(data.get("etag", "")),
            upload_id=str(data.get("upload_id", "")),
            size=int(data.get("size", 0)),
            last_modified=str(data.get("last_modified", "")),
        )


def _model_file_list(value: Any) -> tuple[str, ...] | None:
    """A recorded list of model files: None when absent, () when not a list of paths."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return tuple(value)
    return ()


@dataclass(frozen=True)
class VersionManifest:
    """`version.json`: a version exists iff this exists (see `shazam_assets.platform.layout`)."""

    asin: str
    version: int
    created_at: str  # ISO 8601 UTC
    upload: UploadRecord
    files: tuple[StoredFile, ...]
    total_bytes: int
    validation: Mapping[str, Any]  # the validation report (`Report.to_dict()`)
    delivery: Mapping[str, Any] | None  # the delivery's manifest.json, as validated
    recorded_model_files: tuple[str, ...] | None  # None in versions stored before it was kept
    schema: str = VERSION_SCHEMA

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "asin": self.asin,
            "version": self.version,
            "created_at": self.created_at,
            "upload": self.upload.to_json(),
            "files": [f.to_json() for f in self.files],
            "total_bytes": self.total_bytes,
            "validation": self.validation,
            "delivery_manifest": self.delivery,
            "model_files": None
            if self.recorded_model_files is None
            else list(self.recorded_model_files),
        }

    @classmethod
    def from_json(cls, data: Any) -> VersionManifest:
        data = _object(data, "a version manifest")
        delivery = data.get("delivery_manifest")
        return cls(
            asin=str(data.get("asin", "")),
            version=int(data.get("version", 0)),
            created_at=str(data.get("created_at", "")),
            upload=UploadRecord.from_json(data.get("upload")),
            files=tuple(
                StoredFile.from_json(f) for f in data.get("files") or () if isinstance(f, Mapping)
            ),
            total_bytes=int(data.get("total_bytes", 0)),
            validation=_mapping(data.get("validation")),
            delivery=delivery if isinstance(delivery, Mapping) else None,
            recorded_model_files=_model_file_list(data.get("model_files")),
            schema=str(data.get("schema", "")),
        )

    # -- what readers look at -------------------------------------------------------------

    @property
    def stats(self) -> Mapping[str, Any]:
        """The validation's statistics (bounds, triangles, the model files it read)."""
        return _mapping(self.validation.get("stats"))

    @property
    def bounds_m(self) -> list[list[float]]:
        """[[min x, y, z], [max x, y, z]] of the model in metres, as validation measured it."""
        return list(self.stats["bounds_m"])

    @property
    def product(self) -> Mapping[str, Any]:
        return _mapping(_mapping(self.delivery).get("product"))

    @property
    def title(self) -> str:
        return str(self.product.get("title", ""))

    @property
    def artist(self) -> str:
        return str(_mapping(_mapping(self.delivery).get("artist")).get("name", ""))

    @property
    def dimensions_m(self) -> tuple[float, float, float]:
        """The product's width, height and depth from the delivery manifest, in metres."""
        d = self.product["dimensions"]
        k = _UNITS_M[d.get("unit", "m")]
        return (d["width"] * k, d["height"] * k, d["depth"] * k)

    @property
    def delivery_files(self) -> Mapping[str, Any]:
        """The delivery manifest's `files` (model, photos, scan)."""
        return _mapping(_mapping(self.delivery).get("files"))

    @property
    def model_path(self) -> str | None:
        model = self.delivery_files.get("model")
        return model if isinstance(model, str) else None

    @property
    def photo_paths(self) -> tuple[str, ...]:
        """The reference photos the delivery manifest names, in its order."""
        return tuple(p for p in self.delivery_files.get("photos") or () if isinstance(p, str))

    @property
    def listed(self) -> frozenset[str]:
        """Every path the version holds (relative to its folder)."""
        return frozenset(f.path for f in self.files)

    def file(self, path: str) -> StoredFile | None:
        return next((f for f in self.files if f.path == path), None)

    def stored_model(self) -> tuple[str, tuple[str, ...], str] | None:
        """(the model's path, `model_files()`, the model's sha256): what a stage that reads the
        model (renders, channel files) fetches and fingerprints; None as `model_files()`."""
        files = self.model_files()
        if files is None:
            return None
        entry = self.file(files[0])
        assert entry is not None  # model_files() lists stored files only
        return files[0], files, entry.sha256

    def model_files(self) -> tuple[str, ...] | None:
        """The closed list of the version's model files: the model first, then exactly the
        resources (buffers, images) validation read for it. Renders, the review page and
        publishing use these and nothing else the delivery carried, listed or not.

        None when the manifest names no stored model, or when it is a .gltf stored before the
        list was recorded (its resources are unknown: re-validate and store it again)."""
        stored = self.listed
        model = self.model_path
        if model is None or model not in stored:
            return None
        recorded = self.recorded_model_files
        if recorded is None:
            recorded = _model_file_list(self.stats.get("model_files"))
        if recorded is None:
            return (model,) if model.lower().endswith(".glb") else None
        if recorded[:1] != (model,):
            return None
        return recorded if all(p in stored for p in recorded) else None


# --- the turntable ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TurntableFrame:
    path: str  # relative to the render set: frames/000.webp
    azimuth_deg: float
    camera: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "azimuth_deg": self.azimuth_deg, "camera": self.camera}

    @classmethod
    def from_json(cls, data: Any) -> TurntableFrame:
        data = _mapping(data)
        return cls(
            path=str(data.get("path", "")),
            azimuth_deg=float(data.get("azimuth_deg", 0.0)),
            camera=_mapping(data.get("camera")),
        )


@dataclass(frozen=True)
class SpriteSheet:
    path: str
    cell: int  # px per frame
    columns: int
    frames: int

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "cell": self.cell,
            "columns": self.columns,
            "frames": self.frames,
        }

    @classmethod
    def from_json(cls, data: Any) -> SpriteSheet:
        data = _mapping(data)
        return cls(
            path=str(data.get("path", "")),
            cell=int(data.get("cell", 0)),
            columns=int(data.get("columns", 0)),
            frames=int(data.get("frames", 0)),
        )


@dataclass(frozen=True)
class Video:
    path: str
    fps: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "fps": self.fps}

    @classmethod
    def from_json(cls, data: Any) -> Video:
        data = _mapping(data)
        return cls(path=str(data.get("path", "")), fps=int(data.get("fps", 0)))


@dataclass(frozen=True)
class RenderedFile:
    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Any) -> RenderedFile:
        data = _mapping(data)
        return cls(
            path=str(data.get("path", "")),
            size=int(data.get("size", 0)),
            sha256=str(data.get("sha256", "")),
        )


@dataclass(frozen=True)
class TurntableManifest:
    """A turntable's `manifest.json`: on disk after rendering, and in the store once committed
    (then `set`, `asin` and `version` say where its files are)."""

    renderer: str
    fingerprint: str
    spec: Mapping[str, Any]  # the TurntableSpec's fields
    model: Mapping[str, Any]  # sha256, triangles, bounds
    frames: tuple[TurntableFrame, ...]
    poster: str
    sprite: SpriteSheet
    video: Video
    timings_s: Mapping[str, float]  # load, render, per_frame, encode_after_render, total
    rendered_at: str
    files: tuple[RenderedFile, ...] = ()
    set: str | None = None  # the set folder, once committed
    asin: str | None = None
    version: int | None = None
    schema: str = TURNTABLE_SCHEMA

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": self.schema,
            "renderer": self.renderer,
            "fingerprint": self.fingerprint,
            "spec": self.spec,
            "model": self.model,
            "frames": [f.to_json() for f in self.frames],
            "poster": self.poster,
            "sprite": self.sprite.to_json(),
            "video": self.video.to_json(),
            "timings_s": self.timings_s,
            "rendered_at": self.rendered_at,
            "files": [f.to_json() for f in self.files],
        }
        if self.set is not None:
            data.update(set=self.set, asin=self.asin, version=self.version)
        return data

    @classmethod
    def from_json(cls, data: Any) -> TurntableManifest:
        data = _object(data, "a turntable manifest")
        return cls(
            renderer=str(data.get("renderer", "")),
            fingerprint=str(data.get("fingerprint", "")),
            spec=_mapping(data.get("spec")),
            model=_mapping(data.get("model")),
            frames=tuple(TurntableFrame.from_json(f) for f in data.get("frames") or ()),
            poster=str(data.get("poster", "")),
            sprite=SpriteSheet.from_json(data.get("sprite")),
            video=Video.from_json(data.get("video")),
            timings_s={str(k): float(v) for k, v in _mapping(data.get("timings_s")).items()},
            rendered_at=str(data.get("rendered_at", "")),
            files=tuple(RenderedFile.from_json(f) for f in data.get("files") or ()),
            set=None if data.get("set") is None else str(data["set"]),
            asin=None if data.get("asin") is None else str(data["asin"]),
            version=None if data.get("version") is None else int(data["version"]),
            schema=str(data.get("schema", "")),
        )

    @property
    def total_s(self) -> float:
        return float(self.timings_s.get("total", 0.0))

    @property
    def per_frame_s(self) -> float:
        return float(self.timings_s.get("per_frame", 0.0))

    @property
    def size(self) -> int:
        """Pixels a side of each frame."""
        return int(self.spec.get("size", 0))

    @property
    def file_paths(self) -> list[str]:
        return [f.path for f in self.files]

    def committed(self, *, asin: str, version: int) -> TurntableManifest:
        """This manifest as committed for a stored version: its set is named by its fingerprint."""
        return replace(self, set=self.fingerprint, asin=asin, version=version)


SCAN_SCHEMA = "shazam.scan/1"


@dataclass(frozen=True)
class ScanFile:
    """One file of an ASIN's scan data (`scans/<ASIN>/<path>`) as registration listed it.

    `role`: "obj", "mtl", "texture" (named by the MTL), "photo", or "other" (not used)."""

    path: str
    size: int
    etag: str
    role: str = "other"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "etag": self.etag, "role": self.role}

    @classmethod
    def from_json(cls, data: Any) -> ScanFile:
        data = _object(data, "a scan file entry")
        return cls(
            path=str(data.get("path", "")),
            size=int(data.get("size", 0)),
            etag=str(data.get("etag", "")),
            role=str(data.get("role", "other")),
        )


@dataclass(frozen=True)
class ScanIssue:
    """One finding of the scan checks, as the artist and the lead read it."""

    code: str
    severity: str  # "error", "warning" or "info" (platform.errors.Severity)
    message: str
    hint: str
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }
        return out if self.path is None else {**out, "path": self.path}

    @classmethod
    def from_json(cls, data: Any) -> ScanIssue:
        data = _object(data, "a scan issue")
        path = data.get("path")
        return cls(
            code=str(data.get("code", "")),
            severity=str(data.get("severity", "error")),
            message=str(data.get("message", "")),
            hint=str(data.get("hint", "")),
            path=None if path is None else str(path),
        )


@dataclass(frozen=True)
class ScanRecord:
    """`production/<ASIN>/scan.json`: the latest registration of an ASIN's scan data.

    `ok` is False when any issue is an error: the ASIN cannot be assigned until the scan data
    is fixed and registered again. `files` is the listing the checks judged (key order)."""

    asin: str
    registered_at: datetime
    ok: bool
    files: tuple[ScanFile, ...]
    issues: tuple[ScanIssue, ...]
    obj: str | None = None  # the scan OBJ's path, when exactly one was found
    stats: Mapping[str, Any] | None = None  # the OBJ check's counts (vertices, faces, ...)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def codes(self) -> tuple[str, ...]:
        """The error codes, first occurrence order (warnings are in `issues`)."""
        return tuple(dict.fromkeys(i.code for i in self.issues if i.severity == "error"))

    @property
    def photos(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files if f.role == "photo")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCAN_SCHEMA,
            "asin": self.asin,
            "registered_at": self.registered_at.isoformat(),
            "ok": self.ok,
            "obj": self.obj,
            "files": [f.to_json() for f in self.files],
            "issues": [i.to_json() for i in self.issues],
            "stats": None if self.stats is None else dict(self.stats),
        }

    @classmethod
    def from_json(cls, data: Any) -> ScanRecord:
        data = _object(data, "a scan record")
        stats = data.get("stats")
        return cls(
            asin=str(data.get("asin", "")),
            registered_at=datetime.fromisoformat(str(data["registered_at"])),
            ok=bool(data.get("ok", False)),
            obj=None if data.get("obj") is None else str(data["obj"]),
            files=tuple(ScanFile.from_json(f) for f in data.get("files") or ()),
            issues=tuple(ScanIssue.from_json(i) for i in data.get("issues") or ()),
            stats=dict(stats) if isinstance(stats, Mapping) else None,
        )
