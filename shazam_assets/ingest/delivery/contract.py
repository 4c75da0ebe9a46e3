"""The delivery contract: what an artist's ZIP must contain (see docs/delivery-spec.md).

A delivery is a ZIP with ``manifest.json`` at its root. The manifest names the final model
(a .glb, or a .gltf whose .bin and textures sit beside it), one or more reference product
photos, an optional scan source, the product's real-world dimensions, and the sign-off of the
three production stages. This module parses the manifest and checks it against the archive's
file list; it reads no model data.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Collection
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from shazam_assets.ingest.delivery.report import Issue, RuleBook
from shazam_assets.platform import freetext
from shazam_assets.platform.asin import asin_problem

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


def _text(name: str, max_chars: int, *, multiline: bool = False) -> AfterValidator:
    """Free text that reaches review pages, product pages and messages, checked by the one rule
    every entry point uses (`freetext`: NFC, no control characters, capped)."""
    field = freetext.TextField(name, max_chars, multiline=multiline)

    def check(value: str) -> str:
        try:
            return freetext.normalize(value, field)
        except freetext.TextError as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(check)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Artist(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200), _text("artist name", 200)]
    email: str | None = None


class Dimensions(_Strict):
    width: Annotated[float, Field(gt=0)]  # along +X
    height: Annotated[float, Field(gt=0)]  # along +Y (up)
    depth: Annotated[float, Field(gt=0)]  # along +Z (front)
    unit: Literal["m", "cm", "mm", "in"] = "m"

    def in_metres(self) -> tuple[float, float, float]:
        k = UNIT_TO_METRES[self.unit]
        return (self.width * k, self.height * k, self.depth * k)


class Product(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=500), _text("title", 500)]
    dimensions: Dimensions


class StageSignOff(_Strict):
    signed_off: bool
    by: Annotated[str, Field(min_length=1), _text("signed off by", 200)]
    date: date
    notes: Annotated[str, _text("stage notes", 4000, multiline=True)] | None = None


class Files(_Strict):
    model: Annotated[str, Field(min_length=1)]
    photos: Annotated[list[str], Field(min_length=1)]
    scan: str | None = None  # the scan .obj; its .mtl and textures are found through it

    @field_validator("model", "scan")
    @classmethod
    def _posix(cls, value: str | None) -> str | None:
        return None if value is None else posixpath.normpath(value)


class Manifest(_Strict):
    """The parsed, schema-valid manifest.json of a delivery."""

    schema_: Literal["shazam.delivery/1"] = Field(alias="schema")
    asin: str
    artist: Artist
    product: Product
    files: Files
    stages: dict[Literal["cleanup", "uv", "texturing"], StageSignOff]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def _schema_issues(error: ValidationError) -> list[Issue]:
    issues = []
    for problem in error.errors():
        pointer = "/" + "/".join(str(p) for p in problem["loc"])
        issues.append(
            MANIFEST_SCHEMA_VIOLATION(
                f"manifest.json{pointer}: {problem['msg']}", path=MANIFEST_NAME, pointer=pointer
            )
        )
    return issues


def parse_manifest(raw: bytes) -> tuple[Manifest | None, list[Issue]]:
    """Parse manifest bytes; every schema problem becomes its own issue."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [MANIFEST_INVALID_JSON(f"manifest.json: {exc}", path=MANIFEST_NAME)]
    try:
        return Manifest.model_validate(data), []
    except ValidationError as exc:
        return None, _schema_issues(exc)


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
        signoff = manifest.stages.get(stage)  # type: ignore[call-overload]
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
        issues.append(MODEL_MISSING(f"model {files.model!r} is not in the archive", path=files.model))
    for photo in files.photos:
        if not photo.lower().endswith(PHOTO_SUFFIXES):
            issues.append(PHOTO_FORMAT(f"photo {photo!r} is not .jpg/.jpeg/.png", path=photo))
        elif photo not in names:
            issues.append(PHOTO_MISSING(f"photo {photo!r} is not in the archive", path=photo))
    if files.scan is not None and files.scan not in names:
        issues.append(SCAN_MISSING(f"scan {files.scan!r} is not in the archive", path=files.scan))
    return issues


def unlisted_files(manifest: Manifest, *, names: Collection[str], used: Collection[str]) -> list[Issue]:
    """Warn about archive members nothing refers to (`used` = files the model and scan pulled in)."""
    listed = {MANIFEST_NAME, manifest.files.model, *manifest.files.photos, *used}
    if manifest.files.scan:
        listed.add(manifest.files.scan)
    return [
        UNLISTED_FILE(f"{name!r} is not referenced by the manifest, the model or the scan", path=name)
        for name in sorted(set(names) - listed)
    ]
