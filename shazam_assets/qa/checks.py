"""Automatic QA of a stored version: visual match with the photos, real-world size, placement.

Each check gives an outcome with a severity: WARN informs the reviewer, ERROR blocks approval
(`decisions.record_decision` refuses to approve while `scores.json` lists blocking errors).
Results are written as a `QAResult` (`layout.scores_key`) with a contact sheet beside them.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.errors import TransientError
from shazam_assets.platform.imaging import ImageRefused
from shazam_assets.platform.records import VersionManifest
from shazam_assets.platform.renderer.errors import RenderError
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.qa.result import ERROR, WARN, CheckOutcome, QAResult, VisualResult

__all__ = ["ERROR", "WARN", "CheckOutcome", "PlacementTolerances", "QAResult", "run_automatic_qa"]


@dataclass(frozen=True)
class PlacementTolerances:
    """How far a model may sit from the Khronos 3D Commerce placement rules before QA speaks."""

    size_warn: float = 0.03  # relative difference per axis from the manifest's dimensions
    size_error: float = 0.10
    ground_warn: float = 0.01  # |min Y| as a fraction of the height: resting on the ground plane
    ground_error: float = 0.10
    centre_warn: float = 0.05  # |centre X/Z| as a fraction of the width/depth


def check_size(
    bounds: list[list[float]], dims: tuple[float, float, float], tol: PlacementTolerances
) -> CheckOutcome:
    size = [hi - lo for lo, hi in zip(*bounds, strict=True)]
    worst = max(abs(s / d - 1) for s, d in zip(size, dims, strict=True))
    meta = {
        "model_m": [round(s, 4) for s in size],
        "manifest_m": list(dims),
        "worst_relative_error": round(worst, 4),
    }
    text = f"model {' x '.join(f'{s:.3f}' for s in size)} m vs product {' x '.join(f'{d:.3f}' for d in dims)} m"
    if worst > tol.size_error:
        return CheckOutcome("qa_real_world_size", False, ERROR, f"{text}: off by {worst:.0%}", meta)
    if worst > tol.size_warn:
        return CheckOutcome("qa_real_world_size", False, WARN, f"{text}: off by {worst:.0%}", meta)
    return CheckOutcome(
        "qa_real_world_size", True, WARN, f"{text}: within {tol.size_warn:.0%}", meta
    )


def check_placement(
    bounds: list[list[float]], dims: tuple[float, float, float], tol: PlacementTolerances
) -> CheckOutcome:
    (x0, y0, z0), (x1, y1, z1) = bounds
    height = max(y1 - y0, 1e-9)
    problems, severity = [], WARN
    if (
        abs((y1 - y0) / dims[1] - 1) > tol.size_error
        and abs(max(x1 - x0, z1 - z0) / dims[1] - 1) <= tol.size_error
    ):
        problems.append("the product's height lies along X or Z: +Y must be up")
        severity = ERROR
    if abs(y0) > tol.ground_error * height:
        problems.append(f"the bottom is at y={y0:+.3f} m: the product floats or sinks")
        severity = ERROR
    elif abs(y0) > tol.ground_warn * height:
        problems.append(f"the bottom is at y={y0:+.3f} m, not on the ground plane")
    centre = ((x0 + x1) / 2, (z0 + z1) / 2)
    if abs(centre[0]) > tol.centre_warn * max(x1 - x0, 1e-9) or abs(
        centre[1]
    ) > tol.centre_warn * max(z1 - z0, 1e-9):
        problems.append(
            f"the footprint is centred at x={centre[0]:+.3f}, z={centre[1]:+.3f} m, not at the origin"
        )
    meta = {"min_y_m": round(y0, 4), "centre_xz_m": [round(c, 4) for c in centre]}
    if problems:
        return CheckOutcome("qa_placement", False, severity, "; ".join(problems), meta)
    return CheckOutcome(
        "qa_placement", True, WARN, "+Y up, resting on the ground plane, centred", meta
    )


def _fetch(
    store: ObjectStore, asin: str, version: int, manifest: VersionManifest, dest: Path
) -> tuple[Path, list[Path]]:
    """Download the model files (the model and the resources validation read for it, nothing
    else of its folder) and the photos of a version."""
    files = manifest.delivery_files
    model_files = manifest.model_files() or (files["model"],)
    photos = list(files["photos"])
    platform_versions.download_files(
        store, asin=asin, version=version, paths=[*model_files, *photos], dest=dest
    )
    return dest / model_files[0], [dest / p for p in photos]


def _unscorable(code: str, message: str) -> CheckOutcome:
    """A version QA cannot look at (a photo over the decoding limits, a model the renderer
    refuses; validation stops both today, versions stored earlier may hold them): a blocking
    verdict the reviewer sees, instead of a QA run that fails on every retry."""
    return CheckOutcome(
        "qa_visual_match", False, ERROR, f"visual QA could not run: {message}", {"code": code}
    )


def check_visual(
    store: ObjectStore, asin: str, version: int, manifest: VersionManifest
) -> tuple[CheckOutcome, VisualResult | None, str | None]:
    """Render the model, score it against every reference photo, save the contact sheet."""
    from shazam_assets.qa.scoring import (
        PANEL,
        QAThresholds,
        contact_sheet,
        read_photo,
        score_model_against_photos,
    )

    thresholds = QAThresholds()
    with tempfile.TemporaryDirectory(prefix="shazam-qa-") as tmp:
        model, photos = _fetch(store, asin, version, manifest, Path(tmp))
        try:
            visual, renderings = score_model_against_photos(model, photos)
        except TransientError:
            raise  # the render process died: a retry may succeed
        except (ImageRefused, RenderError) as exc:
            return _unscorable(exc.code, str(exc)), None, None
        by_view = {r.view.name: r for r in renderings}
        pairs = [
            (
                by_view[p.best_view].rgb,
                read_photo(photo, longest=PANEL),
                f"{p.photo}: best view {p.best_view}, IoU {p.silhouette_iou:.2f}, ΔE {p.delta_e:.1f}",
            )
            for p, photo in zip(visual.photos, photos, strict=True)
        ]
        sheet = contact_sheet(pairs, Path(tmp) / "contact-sheet.png")
        sheet_key = layout.contact_sheet_key(asin, version)
        store.put_file(sheet_key, sheet, content_type="image/png")
    summary = VisualResult.from_json(asdict(visual))
    message = f"visual match {visual.score:.2f} over {len(visual.photos)} photo(s)"
    if visual.score < thresholds.error:
        outcome = CheckOutcome(
            "qa_visual_match",
            False,
            ERROR,
            message + f" (< {thresholds.error}: likely the wrong product or texture)",
            {},
        )
    elif visual.score < thresholds.warn:
        outcome = CheckOutcome(
            "qa_visual_match",
            False,
            WARN,
            message + f" (< {thresholds.warn}: compare carefully)",
            {},
        )
    else:
        outcome = CheckOutcome("qa_visual_match", True, WARN, message, {})
    return outcome, summary, sheet_key


def _scoring_version() -> str:
    from shazam_assets.qa import scoring  # lazy, like check_visual: scoring loads the renderer

    return scoring.SCORING_VERSION


def run_automatic_qa(
    store: ObjectStore,
    asin: str,
    version: int,
    *,
    tolerances: PlacementTolerances = PlacementTolerances(),
) -> QAResult:
    """Run every automatic check on a stored version and record its QAResult; returns it."""
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        raise LookupError(f"{asin} v{version} is not a stored version")
    bounds = manifest.bounds_m
    dims = manifest.dimensions_m
    visual, summary, sheet_key = check_visual(store, asin, version, manifest)
    outcomes = (
        visual,
        check_size(bounds, dims, tolerances),
        check_placement(bounds, dims, tolerances),
    )
    result = QAResult(
        asin=asin,
        version=version,
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scoring_version=_scoring_version(),
        checks=outcomes,
        visual=summary,
        contact_sheet=sheet_key,
        blocking_errors=tuple(o.name for o in outcomes if not o.passed and o.severity == ERROR),
    )
    payload = json.dumps(result.to_json(), indent=2, default=str)
    store.put_bytes(layout.scores_key(asin, version), payload.encode())
    return QAResult.from_json(json.loads(payload))  # exactly what readers of the store get
