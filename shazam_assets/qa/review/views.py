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

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.qa.backlog import PendingReview, pending_reviews
from shazam_assets.qa.decisions import Decision, read_decision
from shazam_assets.qa.result import read_scores
from shazam_assets.qa.review import resolve
from shazam_assets.qa.review.resolve import ReviewVersion

RECENT_LIMIT = 8


@dataclass(frozen=True)
class Photo:
    url: str
    name: str
    alt: str


def version_url(asin: str, version: int) -> str:
    return f"/asins/{asin}/v{version}"


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

    The log is listed whole to find the newest; it holds one small object per decision."""
    newest = sorted(
        store.list(layout.decisions_prefix()), key=lambda i: i.last_modified, reverse=True
    )
    found = []
    for info in newest[:limit]:
        try:
            found.append(Decision.from_json(json.loads(store.get_bytes(info.key))))
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


def newest_live_version(store: ObjectStore, asin: str) -> int | None:
    live = [
        v
        for v in platform_versions.list_versions(store, asin)
        if not platform_versions.is_deleted(store, asin, v)
    ]
    return max(live, default=None)


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
    }


def next_pending(store: ObjectStore, *, now: datetime, sla: timedelta) -> PendingReview | None:
    """The oldest version still waiting, offered after a decision so the reviewer moves on."""
    pending = pending_reviews(store, now=now, sla=sla)
    return pending[0] if pending else None
