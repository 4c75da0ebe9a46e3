"""The automatic QA of one stored version as the UI shows it: the `qa_review` materialization's
metadata and one result per automatic check. Built here, not in `defs/qa/`, because two stages
report it: the `qa_review` asset (one ASIN per run) and the batched ingest run
(`defs/ingest/batch.py`), which reviews every version it stored as that ASIN's own events."""

from __future__ import annotations

from typing import Any

import dagster as dg

from shazam_assets.platform.storage import ObjectStore


def review(
    s: ObjectStore, asin: str, version: int
) -> tuple[dict[str, Any], list[dg.AssetCheckResult]]:
    """Run the automatic checks on `asin` v`version` (the result is kept in the store) and
    return (materialization metadata, check results)."""
    # Imported here: the scorer (the studio renderer, trimesh) is needed by the runs that
    # review, not by every process that loads the code location (each run's start).
    from shazam_assets.qa import checks

    severity = {checks.WARN: dg.AssetCheckSeverity.WARN, checks.ERROR: dg.AssetCheckSeverity.ERROR}
    result = checks.run_automatic_qa(s, asin, version)
    metadata: dict[str, Any] = {
        "version": version,
        "blocking_errors": ", ".join(result.blocking_errors) or "none",
    }
    visual = result.visual
    if visual is not None and result.contact_sheet:  # None when the version could not be scored
        rows = "\n".join(
            f"| {p.photo} | {p.best_view} | {p.silhouette_iou:.2f} | {p.delta_e:.1f} | {p.score:.2f} |"
            for p in visual.photos
        )
        metadata["visual_score"] = float(visual.score or 0.0)
        metadata["contact_sheet"] = dg.MetadataValue.path(s.uri(result.contact_sheet))
        metadata["photos"] = dg.MetadataValue.md(
            "| photo | best view | IoU | ΔE | score |\n|---|---|---|---|---|\n" + rows
        )
    results = [
        dg.AssetCheckResult(
            check_name=c.name,
            passed=c.passed,
            severity=severity[c.severity],
            description=c.message,
            metadata={"version": version, **c.metadata},
        )
        for c in result.checks
    ]
    return metadata, results
