"""The review backlog: stored versions waiting for a human decision, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.qa.decisions import read_decision


@dataclass(frozen=True)
class PendingReview:
    asin: str
    version: int
    created_at: datetime
    age: timedelta
    overdue: bool
    title: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "version": self.version,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "age_seconds": int(self.age.total_seconds()),
            "overdue": self.overdue,
        }


def pending_reviews(
    store: ObjectStore, *, now: datetime, sla: timedelta = DEFAULTS.review_sla
) -> list[PendingReview]:
    """The newest stored version of each ASIN that has no decision yet (older undecided
    versions are superseded and cannot be decided), oldest first; `overdue` past the SLA."""
    pending = []
    for asin in platform_versions.stored_asins(store):
        live = [
            v
            for v in platform_versions.list_versions(store, asin)
            if not platform_versions.is_deleted(store, asin, v)
        ]
        if not live or read_decision(store, asin, live[-1]) is not None:
            continue
        manifest = platform_versions.read_version_manifest(store, asin, live[-1])
        if manifest is None:
            continue  # deleted between the listing and now
        created = datetime.fromisoformat(manifest.created_at)
        title = manifest.title
        age = now - created
        pending.append(
            PendingReview(
                asin=asin,
                version=live[-1],
                created_at=created,
                age=age,
                overdue=age > sla,
                title=title,
            )
        )
    return sorted(pending, key=lambda p: p.created_at)
