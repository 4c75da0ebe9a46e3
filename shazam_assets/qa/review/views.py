"""What each review page shows, read from the store and shaped for the templates.

Nothing here knows about HTTP; the functions return plain dicts and records, so the pages'
content can be tested and reasoned about without a server.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shazam_assets.platform import layout, review_queue
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.qa.backlog import PendingReview, pending_reviews
from shazam_assets.qa.decisions import Decision, read_decision
from shazam_assets.qa.result import QAResult, read_scores
from shazam_assets.qa.review import resolve
from shazam_assets.qa.review.resolve import ReviewVersion

RECENT_LIMIT = 8


@dataclass(frozen=True)
class Photo:
    url: str
    name: str
    alt: str


REVIEW_ROOT = "/review"  # where the review pages live in the studio


def version_url(asin: str, version: int) -> str:
    return f"{REVIEW_ROOT}/asins/{asin}/v{version}"


def compare_url(asin: str, version: int) -> str:
    return f"{version_url(asin, version)}/compare"


def format_age(age: timedelta) -> str:
    """A short, human duration: '12 min', '3 h 5 min', '2 d 4 h'."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_number(value: Any, digits: int = 2) -> str:
    """A score or measurement for a table cell; a dash where QA left no number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:.{digits}f}"


def recent_decisions(store: ObjectStore, *, limit: int = RECENT_LIMIT) -> list[Decision]:
    """The newest decisions of the decision log (CLI and review page alike), newest first.

    Reads one page of the review queue's newest-first feed once the queue is built, else lists
    the whole log (one small object per decision)."""
    if review_queue.is_built(store):
        newest = [
            layout.decision_key(d.asin, d.version)
            for d in review_queue.newest_decided(store, limit=limit)
        ]
    else:
        listed = sorted(
            store.list(layout.decisions_prefix()), key=lambda i: i.last_modified, reverse=True
        )
        newest = [info.key for info in listed[:limit]]
    found = []
    for key in newest:
        try:
            found.append(Decision.from_json(json.loads(store.get_bytes(key))))
        except (ObjectNotFound, ValueError, TypeError, KeyError):
            continue  # removed meanwhile, or not a decision record: not this page's concern
    return found


def pending_context(store: ObjectStore, *, now: datetime, sla: timedelta) -> dict[str, Any]:
    pending = pending_reviews(store, now=now, sla=sla)
    return {
        "pending": pending,
        "overdue_count": sum(p.overdue for p in pending),
        "recent": recent_decisions(store),
        "sla": format_age(sla),
    }


def live_versions(store: ObjectStore, asin: str) -> list[int]:
    """The ASIN's stored versions that are not deleted, oldest first."""
    return sorted(
        v
        for v in platform_versions.list_versions(store, asin)
        if not platform_versions.is_deleted(store, asin, v)
    )


def newest_live_version(store: ObjectStore, asin: str) -> int | None:
    return max(live_versions(store, asin), default=None)


def previous_live_version(store: ObjectStore, asin: str, version: int) -> int | None:
    """The newest stored, not deleted version older than `version`: what it is compared with."""
    return max((v for v in live_versions(store, asin) if v < version), default=None)


def _dimensions(product: Mapping[str, Any]) -> str:
    dims = product.get("dimensions") or {}
    values = [dims.get(k) for k in ("width", "height", "depth")]
    if not all(isinstance(v, int | float) for v in values):
        return ""
    return " \u00d7 ".join(f"{v:g}" for v in values) + f" {dims.get('unit', '')}".rstrip()


def _photos(item: ReviewVersion) -> list[Photo]:
    paths = item.photo_paths
    return [
        Photo(
            url=f"{version_url(item.asin, item.version)}/photos/{i}",
            name=path.rsplit("/", 1)[-1],
            alt=f"Reference photo {i + 1} of {len(paths)} ({path.rsplit('/', 1)[-1]})",
        )
        for i, path in enumerate(paths)
    ]


def model_url(item: ReviewVersion) -> str | None:
    path = item.model_path
    if path is None:
        return None
    return f"{version_url(item.asin, item.version)}/files/{urllib.parse.quote(path)}"


def _contact_sheet_url(store: ObjectStore, item: ReviewVersion) -> str | None:
    sheet = resolve.contact_sheet_file(store, item)
    if sheet is None or not store.exists(sheet.key):
        return None
    return f"{version_url(item.asin, item.version)}/contact-sheet"


def _created(item: ReviewVersion, now: datetime) -> tuple[str, str]:
    raw = item.manifest.created_at
    try:
        created = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return str(raw), ""
    return created.strftime("%Y-%m-%d %H:%M UTC"), format_age(now - created)


def version_context(store: ObjectStore, item: ReviewVersion, *, now: datetime) -> dict[str, Any]:
    """Everything the version page shows, except the form state and messages."""
    product = item.delivery.get("product") or {}
    scores = read_scores(store, item.asin, item.version)
    newest = newest_live_version(store, item.asin)
    created, age = _created(item, now)
    return {
        "asin": item.asin,
        "version": item.version,
        "title": product.get("title") or item.asin,
        "artist": (item.delivery.get("artist") or {}).get("name", ""),
        "dimensions": _dimensions(product),
        "created": created,
        "age": age,
        "model_url": model_url(item),
        "photos": _photos(item),
        "decision": read_decision(store, item.asin, item.version),
        "newest": newest,
        "superseded": newest is not None and newest > item.version,
        "scores": scores,
        "blocking_errors": [] if scores is None else list(scores.blocking_errors),
        "contact_sheet_url": _contact_sheet_url(store, item) if scores else None,
        "compare_url": compare_url(item.asin, item.version),
    }


def next_pending(store: ObjectStore, *, now: datetime, sla: timedelta) -> PendingReview | None:
    """The oldest version still waiting, offered after a decision so the reviewer moves on."""
    pending = pending_reviews(store, now=now, sla=sla)
    return pending[0] if pending else None


# --- the comparison with the previous version -------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One line of the comparison table: a measure of both versions and how it changed
    (`change`: "better", "worse" or "same"; empty where nothing can be compared)."""

    name: str
    this: str
    previous: str
    difference: str
    change: str


def _mean(values: list[float | None]) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float)]
    return sum(numbers) / len(numbers) if numbers else None


def _measures(scores: QAResult | None) -> dict[str, float | None]:
    visual = None if scores is None else scores.visual
    photos = [] if visual is None else list(visual.photos)
    return {
        "Visual match score": None if visual is None else visual.score,
        "Mean silhouette IoU": _mean([p.silhouette_iou for p in photos]),
        "Mean colour difference (\u0394E)": _mean([p.delta_e for p in photos]),
    }


_LOWER_IS_BETTER = frozenset({"Mean colour difference (\u0394E)"})


def _numeric_row(name: str, this: float | None, previous: float | None) -> ScoreRow:
    if this is None or previous is None:
        return ScoreRow(name, format_number(this), format_number(previous), "\u2014", "")
    delta = this - previous
    better = delta < 0 if name in _LOWER_IS_BETTER else delta > 0
    change = "same" if abs(delta) < 0.005 else "better" if better else "worse"
    return ScoreRow(name, format_number(this), format_number(previous), f"{delta:+.2f}", change)


def _check_row(name: str, this: bool | None, previous: bool | None) -> ScoreRow:
    def word(passed: bool | None) -> str:
        return "\u2014" if passed is None else "passed" if passed else "failed"

    if this is None or previous is None or this == previous:
        change, difference = ("same", "no change") if this == previous else ("", "\u2014")
    else:
        change, difference = ("better", "now passes") if this else ("worse", "now fails")
    return ScoreRow(f"Check {name}", word(this), word(previous), difference, change)


def score_rows(this: QAResult | None, previous: QAResult | None) -> list[ScoreRow]:
    """The QA scores of two versions side by side: the visual measures, then every check
    either version ran (in the order they ran)."""
    mine, theirs = _measures(this), _measures(previous)
    rows = [_numeric_row(name, mine[name], theirs[name]) for name in mine]
    checks_now = {c.name: c.passed for c in (this.checks if this else ())}
    checks_then = {c.name: c.passed for c in (previous.checks if previous else ())}
    for name in dict.fromkeys([*checks_now, *checks_then]):
        rows.append(_check_row(name, checks_now.get(name), checks_then.get(name)))
    return rows


def _side(store: ObjectStore, item: ReviewVersion) -> dict[str, Any]:
    scores = read_scores(store, item.asin, item.version)
    return {
        "version": item.version,
        "url": version_url(item.asin, item.version),
        "model_url": model_url(item),
        "photos": _photos(item),
        "decision": read_decision(store, item.asin, item.version),
        "scores": scores,
        "contact_sheet_url": _contact_sheet_url(store, item) if scores else None,
    }


def compare_context(store: ObjectStore, item: ReviewVersion) -> dict[str, Any]:
    """The version beside the previous stored version of the same ASIN (None when there is
    none): both models, both photo sets and contact sheets, the QA scores in one table."""
    product = item.delivery.get("product") or {}
    before = previous_live_version(store, item.asin, item.version)
    previous = None if before is None else resolve.load_version(store, item.asin, before)
    this_side = _side(store, item)
    previous_side = None if previous is None else _side(store, previous)
    return {
        "asin": item.asin,
        "version": item.version,
        "title": product.get("title") or item.asin,
        "this": this_side,
        "previous": previous_side,
        "rows": []
        if previous_side is None
        else score_rows(this_side["scores"], previous_side["scores"]),
    }


# --- an ASIN's versions -----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    """One stored version of an ASIN as its page lists it."""

    version: int
    url: str
    created_at: str
    deleted: bool
    published: bool
    decision: Decision | None


def version_rows(store: ObjectStore, asin: str) -> list[VersionRow]:
    """Every stored version of `asin`, newest first, with its decision and whether it is the
    published one (deleted versions are listed, without a link to review them)."""
    published = platform_versions.published_version(store, asin)
    rows = []
    for number in sorted(platform_versions.list_versions(store, asin), reverse=True):
        manifest = platform_versions.read_version_manifest(store, asin, number)
        created = "" if manifest is None else str(manifest.created_at or "")
        rows.append(
            VersionRow(
                version=number,
                url=version_url(asin, number),
                created_at=created.replace("T", " ").replace("+00:00", " UTC"),
                deleted=platform_versions.is_deleted(store, asin, number),
                published=number == published,
                decision=read_decision(store, asin, number),
            )
        )
    return rows
