"""The delivery contract: what an artist's ZIP must contain (see docs/delivery-spec.md).

A delivery is a ZIP with ``manifest.json`` at its root. The manifest names the final model
(a .glb, or a .gltf whose .bin and textures sit beside it), one or more reference product
photos, an optional scan source, the product's real-world dimensions, and the sign-off of the
three production stages. This module parses the manifest and checks it against the archive's
file list; it reads no model data.

The manifest's schema is stated once, with pydantic, in `manifest_schema`; the records here are
plain frozen dataclasses. A manifest in canonical form (as `shazam pack` writes it) is read
without pydantic, which `shazam validate` would otherwise spend a third of its time importing;
any other input gets the schema's verdict and messages, unchanged.
"""

from __future__ import annotations

import datetime
import json
import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from shazam_assets.ingest.delivery.report import Issue, RuleBook
from shazam_assets.platform import freetext
from shazam_assets.platform.asin import asin_problem

if TYPE_CHECKING:
    from shazam_assets.ingest.delivery import manifest_schema

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = "shazam.delivery/1"
MANIFEST_MAX_BYTES = 256 * 1024
PRODUCTION_STAGES = ("cleanup", "uv", "texturing")
MODEL_SUFFIXES = (".glb", ".gltf")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
UNIT_TO_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}

rules = RuleBook("contract")
MANIFEST_MISSING = rules.error(
    "CONTRACT_MANIFEST_MISSING",
    "The delivery has no manifest.json at its root",
    hint="Build the ZIP with `shazam pack`, or add manifest.json next to model/ and photos/.",
)
MANIFEST_INVALID_JSON = rules.error(
    "CONTRACT_MANIFEST_INVALID_JSON",
    "manifest.json is not valid UTF-8 JSON",
    hint="Save manifest.json as UTF-8 JSON; `shazam pack` writes a correct one.",
)
MANIFEST_SCHEMA_VIOLATION = rules.error(
    "CONTRACT_MANIFEST_SCHEMA",
    "manifest.json does not follow the delivery manifest schema",
    hint="Compare manifest.json with the example in docs/delivery-spec.md.",
)
ASIN_INVALID = rules.error(
    "CONTRACT_ASIN_INVALID",
    "The manifest's ASIN is not a valid ASIN",
    hint="An ASIN has 10 characters: 'B0' and 8 letters/digits, or a valid ISBN-10.",
)
ASIN_MISMATCH = rules.error(
    "CONTRACT_ASIN_MISMATCH",
    "The manifest's ASIN differs from the ASIN the delivery was uploaded under",
    hint="Upload to uploads/<ASIN>/ using the ASIN written in manifest.json (or fix the manifest).",
)
MODEL_MISSING = rules.error(
    "CONTRACT_MODEL_MISSING",
    "The model named in the manifest is not in the archive",
    hint="Put the final .glb (or .gltf with its .bin and textures) in the ZIP at the path the manifest names.",
)
MODEL_FORMAT = rules.error(
    "CONTRACT_MODEL_FORMAT",
    "The final model must be a .glb or .gltf file",
    hint="Export the final model as glTF 2.0 binary (.glb).",
)
PHOTO_MISSING = rules.error(
    "CONTRACT_PHOTO_MISSING",
    "A reference photo named in the manifest is not in the archive",
    hint="Include every photo listed under files.photos, or remove it from the manifest.",
)
PHOTO_FORMAT = rules.error(
    "CONTRACT_PHOTO_FORMAT",
    "Reference photos must be JPEG or PNG files",
    hint="Convert reference photos to .jpg or .png.",
)
SCAN_MISSING = rules.error(
    "CONTRACT_SCAN_MISSING",
    "The scan source named in the manifest is not in the archive",
    hint="Include the scan .obj (with its .mtl and textures) or remove files.scan from the manifest.",
)
STAGE_NOT_SIGNED_OFF = rules.error(
    "CONTRACT_STAGE_NOT_SIGNED_OFF",
    "A production stage has not been signed off",
    hint="Each of cleanup, uv and texturing needs signed_off: true, who signed off, and when.",
)
UNLISTED_FILE = rules.warning(
    "CONTRACT_UNLISTED_FILE",
    "The archive holds a file the manifest does not account for",
    hint="Remove stray files from the delivery; they are stored but nobody uses them.",
)


Unit = Literal["m", "cm", "mm", "in"]
_UNITS: tuple[Unit, ...] = ("m", "cm", "mm", "in")


@dataclass(frozen=True)
class Artist:
    name: str
    email: str | None = None


@dataclass(frozen=True)
class Dimensions:
    width: float  # along +X
    height: float  # along +Y (up)
    depth: float  # along +Z (front)
    unit: Unit = "m"

    def in_metres(self) -> tuple[float, float, float]:
        k = UNIT_TO_METRES[self.unit]
        return (self.width * k, self.height * k, self.depth * k)


@dataclass(frozen=True)
class Product:
    title: str
    dimensions: Dimensions


@dataclass(frozen=True)
class StageSignOff:
    signed_off: bool
    by: str
    date: datetime.date
    notes: str | None = None


@dataclass(frozen=True)
class Files:
    model: str  # POSIX-normalised
    photos: tuple[str, ...]
    scan: str | None = (
        None  # the scan .obj, POSIX-normalised; its .mtl and textures are found through it
    )


@dataclass(frozen=True)
class Manifest:
    """The parsed, schema-valid manifest.json of a delivery."""

    schema: str
    asin: str
    artist: Artist
    product: Product
    files: Files
    stages: Mapping[str, StageSignOff]  # by stage name, in the manifest's order

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON values, keyed as manifest.json spells it (what a version records)."""
        return asdict(self, dict_factory=_json_fields)


def _json_fields(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        name: value.isoformat()
        if isinstance(value, datetime.date)
        else list(value)
        if isinstance(value, tuple)
        else value
        for name, value in fields
    }


def parse_manifest(raw: bytes) -> tuple[Manifest | None, list[Issue]]:
    """Parse manifest bytes; every schema problem becomes its own issue."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [MANIFEST_INVALID_JSON(f"manifest.json: {exc}", path=MANIFEST_NAME)]
    try:
        return _read_manifest(data), []
    except _NotCanonical:
        pass
    # Anything else (a problem, or a loosely typed value) is the schema's to judge, in its words.
    from shazam_assets.ingest.delivery import manifest_schema

    checked, problems = manifest_schema.check(data)
    if checked is None:
        return None, [
            MANIFEST_SCHEMA_VIOLATION(
                f"manifest.json{pointer}: {message}", path=MANIFEST_NAME, pointer=pointer
            )
            for pointer, message in problems
        ]
    return _from_schema(checked), []


# The plain reader: a manifest already in canonical form (what `shazam pack` writes) is read here,
# without pydantic, to the same record manifest_schema would give. It vouches only for exact JSON
# types and values the schema takes unchanged; at anything else it declines (_NotCanonical) and
# parse_manifest asks manifest_schema, the authority on every problem and every loose value.


class _NotCanonical(Exception):
    pass


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")  # the schema refuses what the plain reader would recover


def _read_manifest(data: Any) -> Manifest:
    m = _fields(data, ("schema", "asin", "artist", "product", "files", "stages"))
    artist = _fields(m["artist"], ("name",), ("email",))
    product = _fields(m["product"], ("title", "dimensions"))
    dims = _fields(product["dimensions"], ("width", "height", "depth"), ("unit",))
    files = _fields(m["files"], ("model", "photos"), ("scan",))
    stages, unit = m["stages"], dims.get("unit", "m")
    if (
        m["schema"] != MANIFEST_SCHEMA
        or unit not in _UNITS
        or type(files["photos"]) is not list
        or not files["photos"]
        or type(stages) is not dict
        or not stages.keys() <= set(PRODUCTION_STAGES)
    ):
        raise _NotCanonical
    scan = files.get("scan")
    return Manifest(
        schema=MANIFEST_SCHEMA,
        asin=_string(m["asin"]),
        artist=Artist(
            name=_text(artist["name"], freetext.ARTIST_NAME, min_chars=1, max_chars=200),
            email=None if artist.get("email") is None else _string(artist["email"]),
        ),
        product=Product(
            title=_text(product["title"], freetext.PRODUCT_TITLE, min_chars=1, max_chars=500),
            dimensions=Dimensions(
                width=_positive(dims["width"]),
                height=_positive(dims["height"]),
                depth=_positive(dims["depth"]),
                unit=unit,
            ),
        ),
        files=Files(
            model=posixpath.normpath(_string(files["model"], min_chars=1)),
            photos=tuple(_string(p) for p in files["photos"]),
            scan=None if scan is None else posixpath.normpath(_string(scan)),
        ),
        stages={name: _read_signoff(signoff) for name, signoff in stages.items()},
    )


def _read_signoff(data: Any) -> StageSignOff:
    s = _fields(data, ("signed_off", "by", "date"), ("notes",))
    if (
        type(s["signed_off"]) is not bool
        or type(s["date"]) is not str
        or not _DATE.fullmatch(s["date"])
    ):
        raise _NotCanonical
    try:
        day = datetime.date.fromisoformat(s["date"])
    except ValueError:
        raise _NotCanonical from None
    notes = s.get("notes")
    return StageSignOff(
        signed_off=s["signed_off"],
        by=_text(s["by"], freetext.SIGNED_OFF_BY, min_chars=1),
        date=day,
        notes=None if notes is None else _text(notes, freetext.STAGE_NOTES),
    )


def _fields(data: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if type(data) is not dict or not set(required) <= data.keys() <= {*required, *optional}:
        raise _NotCanonical
    return data


def _string(value: Any, *, min_chars: int = 0) -> str:
    if type(value) is not str or len(value) < min_chars or _SURROGATE.search(value):
        raise _NotCanonical
    return value


def _text(
    value: Any, field: freetext.TextField, *, min_chars: int = 0, max_chars: int | None = None
) -> str:
    """As the schema reads free text: its length checked as given, then `freetext.normalize`."""
    text = _string(value, min_chars=min_chars)
    if max_chars is not None and len(text) > max_chars:
        raise _NotCanonical
    try:
        return freetext.normalize(text, field)
    except freetext.TextError:
        raise _NotCanonical from None


def _positive(value: Any) -> float:
    if type(value) is float and value > 0:
        return value
    if type(value) is int and 0 < value <= 2**53:  # exact as a float
        return float(value)
    raise _NotCanonical


def _from_schema(m: manifest_schema.Manifest) -> Manifest:
    d = m.product.dimensions
    return Manifest(
        schema=m.schema_,
        asin=m.asin,
        artist=Artist(name=m.artist.name, email=m.artist.email),
        product=Product(
            title=m.product.title,
            dimensions=Dimensions(width=d.width, height=d.height, depth=d.depth, unit=d.unit),
        ),
        files=Files(model=m.files.model, photos=tuple(m.files.photos), scan=m.files.scan),
        stages={
            name: StageSignOff(signed_off=s.signed_off, by=s.by, date=s.date, notes=s.notes)
            for name, s in m.stages.items()
        },
    )


def check_manifest(
    manifest: Manifest, *, names: Collection[str], expected_asin: str | None
) -> list[Issue]:
    """Check the manifest against the archive's file names and the upload's ASIN."""
    issues: list[Issue] = []
    problem = asin_problem(manifest.asin)
    if problem:
        issues.append(ASIN_INVALID(problem, path=MANIFEST_NAME, pointer="/asin"))
    if expected_asin is not None and manifest.asin != expected_asin:
        issues.append(
            ASIN_MISMATCH(
                f"manifest.json says {manifest.asin!r} but the delivery was uploaded under "
                f"{expected_asin!r}",
                path=MANIFEST_NAME,
                pointer="/asin",
            )
        )
    issues += _check_files(manifest.files, names)
    for stage in PRODUCTION_STAGES:
        signoff = manifest.stages.get(stage)
        if signoff is None or not signoff.signed_off:
            issues.append(
                STAGE_NOT_SIGNED_OFF(
                    f"production stage {stage!r} is not signed off",
                    path=MANIFEST_NAME,
                    pointer=f"/stages/{stage}",
                )
            )
    return issues


def _check_files(files: Files, names: Collection[str]) -> list[Issue]:
    issues: list[Issue] = []
    if not files.model.lower().endswith(MODEL_SUFFIXES):
        issues.append(MODEL_FORMAT(f"model {files.model!r} is not .glb or .gltf", path=files.model))
    elif files.model not in names:
        issues.append(
            MODEL_MISSING(f"model {files.model!r} is not in the archive", path=files.model)
        )
    for photo in files.photos:
        if not photo.lower().endswith(PHOTO_SUFFIXES):
            issues.append(PHOTO_FORMAT(f"photo {photo!r} is not .jpg/.jpeg/.png", path=photo))
        elif photo not in names:
            issues.append(PHOTO_MISSING(f"photo {photo!r} is not in the archive", path=photo))
    if files.scan is not None and files.scan not in names:
        issues.append(SCAN_MISSING(f"scan {files.scan!r} is not in the archive", path=files.scan))
    return issues


def unlisted_files(
    manifest: Manifest, *, names: Collection[str], used: Collection[str]
) -> list[Issue]:
    """Warn about archive members nothing refers to (`used` = files the model and scan pulled in)."""
    listed = {MANIFEST_NAME, manifest.files.model, *manifest.files.photos, *used}
    if manifest.files.scan:
        listed.add(manifest.files.scan)
    return [
        UNLISTED_FILE(
            f"{name!r} is not referenced by the manifest, the model or the scan", path=name
        )
        for name in sorted(set(names) - listed)
    ]
