"""Artist productivity from production events: how long each stage took, per artist.

Every production event (`shazam_assets.production.tracking`) carries its assignment, its
artist and, for a stage, when the step before it was done, so each stage mark is one duration:
assigned -> cleanup, cleanup -> UV, UV -> texturing. The last step, texturing -> upload, ends at
the first delivery ZIP received for the ASIN after texturing was marked (the uploads listing).
A stage counts once per assignment (its first mark); a reassigned ASIN's earlier marks stay
with the artist who did them. An ASIN is *completed* by an artist when texturing is marked.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shazam_assets.platform.storage import ObjectStore
from shazam_assets.production import tracking

# The step each duration ends with, and what it is called in the tables and in Prometheus.
STEPS = {
    "cleanup": "assigned_to_cleanup",
    "uv": "cleanup_to_uv",
    "texturing": "uv_to_texturing",
}
UPLOAD_STEP = "texturing_to_upload"
STEP_ORDER = (*STEPS.values(), UPLOAD_STEP)
STAGE_COLUMNS = ["asin", "artist", "assignment_id", "step", "started_at", "done_at", "seconds"]
ASSIGNMENT_COLUMNS = ["asin", "artist", "assigned_at", "next_stage"]


def _first_marks(events: list[tracking.ProductionEvent]) -> list[tracking.ProductionEvent]:
    """The first mark of each stage in each assignment (a retried mark is not counted twice)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for event in events:
        key = (event.assignment_id, event.kind)
        if event.stage is not None and event.since is not None and key not in seen:
            seen.add(key)
            out.append(event)
    return out


def _upload_row(texturing: tracking.ProductionEvent, received: pd.Series) -> dict[str, Any] | None:
    """texturing -> the first upload received at or after it, if there is one yet."""
    later = received[received >= pd.Timestamp(texturing.at)]
    if later.empty:
        return None
    done = later.min()
    return {
        "asin": texturing.asin,
        "artist": texturing.artist.display,
        "assignment_id": texturing.assignment_id,
        "step": UPLOAD_STEP,
        "started_at": texturing.at,
        "done_at": done,
        "seconds": (done - pd.Timestamp(texturing.at)).total_seconds(),
    }


def production_tables(
    store: ObjectStore, deliveries: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stage durations, current assignments) from every registered ASIN's production events.

    `deliveries` is the metrics' uploads table (asin, received_at) for the upload step."""
    rows: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for asin in tracking.registered_asins(store):
        state = tracking.production_state(store, asin)
        received = deliveries.received_at[deliveries.asin == asin]
        for event in _first_marks(list(state.events)):
            rows.append(
                {
                    "asin": asin,
                    "artist": event.artist.display,
                    "assignment_id": event.assignment_id,
                    "step": STEPS[event.kind],
                    "started_at": event.since,
                    "done_at": event.at,
                    "seconds": event.duration_s,
                }
            )
            upload = _upload_row(event, received) if event.kind == "texturing" else None
            if upload is not None:
                rows.append(upload)
        if state.assignment is not None:
            current.append(
                {
                    "asin": asin,
                    "artist": state.assignment.artist.display,
                    "assigned_at": state.assignment.assigned_at,
                    "next_stage": state.next_stage or "upload",
                }
            )
    stages = pd.DataFrame(rows, columns=STAGE_COLUMNS)
    for column in ("started_at", "done_at"):
        stages[column] = pd.to_datetime(stages[column], utc=True)
    stages["seconds"] = stages.seconds.astype(float)
    assignments = pd.DataFrame(current, columns=ASSIGNMENT_COLUMNS)
    assignments["assigned_at"] = pd.to_datetime(assignments.assigned_at, utc=True)
    return stages, assignments
