"""The automatic QA result of a version (`scores.json`): each check's outcome and the visual
scores, parsed once from the store and written back through `QAResult.to_json`.

Readers are the reviewer's page, the decision that refuses an approval blocked by an ERROR,
the Dagster QA asset and the backfill. Parsing is lenient (a field of the wrong type reads as
missing) because the review page shows whatever the store holds and must not fail on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.errors import Severity
from shazam_assets.platform.storage import ObjectStore, read_json

WARN, ERROR = Severity.WARNING, Severity.ERROR
# scores.json spells WARNING "warn", as it always has (Severity("warn") reads it back)
_STORED_SEVERITY = {WARN: "warn", ERROR: "error"}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _severity(value: Any) -> Severity:
    """A stored severity ("warn" or "error"); anything else reads as INFO, which blocks nothing,
    as an unknown string never compared equal to "error" before."""
    try:
        return Severity(value)
    except ValueError:
        return Severity.INFO


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    severity: Severity  # WARN or ERROR: what a failure means
    message: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "severity": _STORED_SEVERITY.get(self.severity, self.severity.value),
            "message": self.message,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Any) -> CheckOutcome:
        data = _mapping(data)
        return cls(
            name=_text(data.get("name")),
            passed=data.get("passed") is True,
            severity=_severity(data.get("severity")),
            message=_text(data.get("message")),
            metadata=_mapping(data.get("metadata")),
        )


@dataclass(frozen=True)
class PhotoResult:
    """How well the best rendered view matched one reference photo (`scoring.PhotoScore`)."""

    photo: str
    best_view: str
    silhouette_iou: float | None
    delta_e: float | None
    score: float | None
    close_up: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "photo": self.photo,
            "best_view": self.best_view,
            "silhouette_iou": self.silhouette_iou,
            "delta_e": self.delta_e,
            "score": self.score,
            "close_up": self.close_up,
        }

    @classmethod
    def from_json(cls, data: Any) -> PhotoResult:
        data = _mapping(data)
        return cls(
            photo=_text(data.get("photo")),
            best_view=_text(data.get("best_view")),
            silhouette_iou=_float(data.get("silhouette_iou")),
            delta_e=_float(data.get("delta_e")),
            score=_float(data.get("score")),
            close_up=data.get("close_up") is True,
        )


@dataclass(frozen=True)
class VisualResult:
    """The visual match of the model against all its reference photos (`scoring.VisualQA`)."""

    photos: tuple[PhotoResult, ...]
    score: float | None  # mean of the per-photo best scores, 0..1
    views: tuple[str, ...]
    seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "photos": [p.to_json() for p in self.photos],
            "score": self.score,
            "views": list(self.views),
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: Any) -> VisualResult | None:
        """None for the empty mapping QA writes when it could not score the version."""
        data = _mapping(data)
        if not data:
            return None
        return cls(
            photos=tuple(PhotoResult.from_json(p) for p in _list(data.get("photos"))),
            score=_float(data.get("score")),
            views=tuple(v for v in _list(data.get("views")) if isinstance(v, str)),
            seconds=_float(data.get("seconds")),
        )


@dataclass(frozen=True)
class QAResult:
    """`scores.json` of one version."""

    asin: str
    version: int | None
    checked_at: str
    scoring_version: str | None
    checks: tuple[CheckOutcome, ...]
    visual: VisualResult | None  # None: the version could not be scored (its check says why)
    contact_sheet: str | None  # store key of the contact sheet
    blocking_errors: tuple[str, ...]  # names of the failed checks of severity ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "version": self.version,
            "checked_at": self.checked_at,
            "scoring_version": self.scoring_version,
            "checks": [c.to_json() for c in self.checks],
            "visual": {} if self.visual is None else self.visual.to_json(),
            "contact_sheet": self.contact_sheet,
            "blocking_errors": list(self.blocking_errors),
        }

    @classmethod
    def from_json(cls, data: Any) -> QAResult:
        data = _mapping(data)
        version = data.get("version")
        scoring = data.get("scoring_version")
        sheet = data.get("contact_sheet")
        return cls(
            asin=_text(data.get("asin")),
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            checked_at=_text(data.get("checked_at")),
            scoring_version=scoring if isinstance(scoring, str) else None,
            checks=tuple(CheckOutcome.from_json(c) for c in _list(data.get("checks"))),
            visual=VisualResult.from_json(data.get("visual")),
            contact_sheet=sheet if isinstance(sheet, str) else None,
            blocking_errors=tuple(str(e) for e in _list(data.get("blocking_errors"))),
        )


def read_scores(store: ObjectStore, asin: str, version: int) -> QAResult | None:
    """The automatic QA result of a version, or None when QA has not run for it."""
    data = read_json(store, layout.scores_key(asin, version))
    return None if data is None else QAResult.from_json(data)
