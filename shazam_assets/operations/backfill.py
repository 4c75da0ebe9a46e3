"""Which published ASINs need a stage recomputed because that stage's logic changed.

Each stage records the version of its logic beside its result: the validation rules in the
upload's verdict (`stats.rules_version`), the QA scoring in its result (`scoring_version`),
the renderer in the turntable manifest (`renderer`). A published ASIN is stale for a stage
when its published version's stored result came from another version (or has none); the
backfill recomputes exactly those. Nothing here imports Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.qa.result import read_scores

Stage = Literal["validate", "qa", "render"]
# The run tag a stage backfill puts on its runs: the assets then recompute the ASIN's
# *published* version (not its newest upload or version), so nothing new is stored.
STAGE_TAG = "shazam/backfill_stage"
# Why a backfill runs: "stale" (only ASINs whose result is stale: a run may cover others, which
# it leaves alone), "all" (everything it names), or a schedule's or benchmark's own word.
REASON_TAG = "shazam/backfill_reason"


def current_version(stage: Stage) -> str:
    """The version of a stage's logic in this checkout (read at call time, so tests can bump it)."""
    return STAGE_LOGIC[stage].current()


def published_asins(store: ObjectStore) -> list[str]:
    """Every ASIN whose published pointer names a version, sorted."""
    found = platform_versions.published_asins(store)
    return sorted(a for a in found if platform_versions.published_version(store, a) is not None)


def validation_record(store: ObjectStore, asin: str, version: int) -> dict[str, Any] | None:
    """The newest verdict of the upload a version was stored from (re-validation rewrites it)."""
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        return None
    try:
        record: dict[str, Any] = json.loads(
            store.get_bytes(layout.validation_key(asin, manifest.upload.upload_id))
        )
    except ObjectNotFound:
        return {"report": manifest.validation}
    return record


def upload_key_of(store: ObjectStore, asin: str, version: int) -> str | None:
    """The upload key a stored version came from (what a re-validation must judge again)."""
    manifest = platform_versions.read_version_manifest(store, asin, version)
    return None if manifest is None else manifest.upload.key


def _recorded_rules(store: ObjectStore, asin: str, version: int) -> str | None:
    record = validation_record(store, asin, version)
    stats = {} if record is None else record["report"].get("stats", {})
    return stats.get("rules_version")


def _recorded_scoring(store: ObjectStore, asin: str, version: int) -> str | None:
    scores = read_scores(store, asin, version)
    return None if scores is None else scores.scoring_version


def _recorded_renderer(store: ObjectStore, asin: str, version: int) -> str | None:
    manifest = platform_versions.read_turntable_manifest(store, asin, version)
    return None if manifest is None else manifest.renderer


def _rules_version() -> str:
    from shazam_assets.ingest.delivery import validate

    return validate.RULES_VERSION


def _scoring_version() -> str:
    from shazam_assets.qa import scoring

    return scoring.SCORING_VERSION


def _renderer_version() -> str:
    from shazam_assets.platform import renderer as render

    return render.RENDERER_VERSION


@dataclass(frozen=True)
class StageLogic:
    """How to tell whether a stage's result is current: the version of its logic in this
    checkout, and the version its stored result for one ASIN version records (None: none)."""

    current: Callable[[], str]
    recorded: Callable[[ObjectStore, str, int], str | None]


# One entry per stage whose results record their logic version; adding a stage is one entry
# (and its name in `Stage`).
STAGE_LOGIC: dict[Stage, StageLogic] = {
    "validate": StageLogic(current=_rules_version, recorded=_recorded_rules),
    "qa": StageLogic(current=_scoring_version, recorded=_recorded_scoring),
    "render": StageLogic(current=_renderer_version, recorded=_recorded_renderer),
}
STAGES: tuple[Stage, ...] = tuple(STAGE_LOGIC)


def recorded_version(store: ObjectStore, stage: Stage, asin: str, version: int) -> str | None:
    """The logic version a stage's stored result for one ASIN version came from (None: no result)."""
    return STAGE_LOGIC[stage].recorded(store, asin, version)


def stale_asins(
    store: ObjectStore,
    stage: Stage,
    *,
    asins: list[str] | None = None,
    on_skip: Callable[[str, str], None] | None = None,
) -> list[str]:
    """Published ASINs (of `asins`, default all) whose `stage` result is missing or older than
    the current logic version. `on_skip(asin, reason)` hears about each ASIN left out."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    current = current_version(stage)
    stale = []
    for asin in published_asins(store) if asins is None else asins:
        version = platform_versions.published_version(store, asin)
        if version is None:
            if on_skip:
                on_skip(asin, "not published")
            continue
        recorded = recorded_version(store, stage, asin, version)
        if recorded == current:
            if on_skip:
                on_skip(asin, f"current ({current})")
            continue
        stale.append(asin)
    return stale


def split_targets(
    store: ObjectStore, stage: Stage, asins: Sequence[str], *, stale_only: bool
) -> tuple[list[str], list[str]]:
    """(ASINs a run recomputes, ASINs it leaves alone), each in `asins` order: the stale ones
    when `stale_only` (a staleness backfill, whose batches may bridge others: see
    `bridge_gaps`), else every published one."""
    if stale_only:
        todo = stale_asins(store, stage, asins=list(asins))
    else:
        todo = [a for a in asins if platform_versions.published_version(store, a) is not None]
    chosen = set(todo)
    return todo, [a for a in asins if a not in chosen]


def bridge_gaps(order: Sequence[str], targets: Collection[str], *, max_gap: int) -> list[str]:
    """`targets` plus the other keys of `order` that lie in a gap of at most `max_gap` keys
    between two targets, in `order`'s order.

    An orchestrator that batches contiguous ranges of partitions into runs (Dagster does) starts
    a new run at every gap in the targets; a catalogue interleaves ASINs that need no work with
    ones that do, so a few gaps would cost many runs. Bridging a short gap costs a cheap skip
    per bridged ASIN instead of a run (seconds); the work must then skip what it was not meant
    to do (see `stale_asins`)."""
    wanted = set(targets)
    picked: list[str] = []
    gap: list[str] = []
    for key in order:
        if key in wanted:
            if picked and len(gap) <= max_gap:
                picked.extend(gap)
            picked.append(key)
            gap = []
        elif picked:
            gap.append(key)
    missing = wanted.difference(order)
    return picked + [t for t in targets if t in missing]


@dataclass(frozen=True)
class Revalidation:
    """What re-judging a batch of published versions under the current rules found."""

    accepted: tuple[str, ...]
    rejected: tuple[str, ...]  # published, but the current rules reject its delivery
    skipped: tuple[str, ...]  # not published, or its upload is gone


def revalidate(store: ObjectStore, asins: Iterable[str]) -> Revalidation:
    """Re-judge the upload each ASIN's published version came from and record the new verdict
    (never stores a version: the upload already is one)."""
    from shazam_assets.ingest import pipeline as ingest

    found: dict[str, list[str]] = {"accepted": [], "rejected": [], "skipped": []}
    for asin in asins:
        version = platform_versions.published_version(store, asin)
        key = upload_key_of(store, asin, version) if version is not None else None
        try:
            upload = ingest.resolve_upload(store, asin, key=key) if key else None
        except ingest.UploadNotFound:
            upload = None
        if upload is None:
            found["skipped"].append(asin)
            continue
        ok = ingest.validate_upload(store, upload).report.ok
        found["accepted" if ok else "rejected"].append(asin)
    return Revalidation(**{k: tuple(v) for k, v in found.items()})
