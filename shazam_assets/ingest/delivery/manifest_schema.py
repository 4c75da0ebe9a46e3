"""The delivery manifest's schema as pydantic states it: the authority on what manifest.json may
hold, how loosely typed values are read (`"yes"` for true, `1` for 1.0, a midnight datetime for
a date), and the message of every schema problem.

`contract.parse_manifest` reads a manifest that is already in its canonical form itself (the
common case, so `shazam validate` does not import pydantic); it hands everything else to
`check`, whose answer it takes as is. tests/ingest/delivery/test_manifest_schema.py holds the
two to the same verdicts and values.
"""

from __future__ import annotations

import posixpath
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from shazam_assets.platform import freetext


def _text(field: freetext.TextField) -> AfterValidator:
    """Free text that reaches review pages, product pages and messages, checked by the one rule
    every entry point uses (`freetext`: NFC, no control characters, capped)."""

    def check(value: str) -> str:
        try:
            return freetext.normalize(value, field)
        except freetext.TextError as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(check)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Artist(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200), _text(freetext.ARTIST_NAME)]
    email: str | None = None


class Dimensions(_Strict):
    width: Annotated[float, Field(gt=0)]
    height: Annotated[float, Field(gt=0)]
    depth: Annotated[float, Field(gt=0)]
    unit: Literal["m", "cm", "mm", "in"] = "m"


class Product(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=500), _text(freetext.PRODUCT_TITLE)]
    dimensions: Dimensions


class StageSignOff(_Strict):
    signed_off: bool
    by: Annotated[str, Field(min_length=1), _text(freetext.SIGNED_OFF_BY)]
    date: date
    notes: Annotated[str, _text(freetext.STAGE_NOTES)] | None = None


class Files(_Strict):
    model: Annotated[str, Field(min_length=1)]
    photos: Annotated[list[str], Field(min_length=1)]
    scan: str | None = None

    @field_validator("model", "scan")
    @classmethod
    def _posix(cls, value: str | None) -> str | None:
        return None if value is None else posixpath.normpath(value)


class Manifest(_Strict):
    schema_: Literal["shazam.delivery/1"] = Field(alias="schema")
    asin: str
    artist: Artist
    product: Product
    files: Files
    stages: dict[Literal["cleanup", "uv", "texturing"], StageSignOff]


def check(data: Any) -> tuple[Manifest | None, list[tuple[str, str]]]:
    """The validated manifest, or each schema problem as (JSON pointer, message)."""
    try:
        return Manifest.model_validate(data), []
    except ValidationError as exc:
        return None, [
            ("/" + "/".join(str(p) for p in problem["loc"]), problem["msg"])
            for problem in exc.errors()
        ]
