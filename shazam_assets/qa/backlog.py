"""The review backlog: stored versions waiting for a human decision, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shazam_assets.platform import review_queue
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.records import VersionManifest
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
    versions are superseded and cannot be decided), oldest first; `overdue` past the SLA.
    Reads the review queue, so it costs O(pending versions), not O(stored ASINs); a store
    whose queue was never built is scanned whole, as before the queue."""
    pending = []
    for asin, numbers in _candidates(store).items():
        found = _current_pending(store, asin, numbers)
        if found is None:
            continue
        version, manifest = found
        created = datetime.fromisoformat(manifest.created_at)
        age = now - created
        pending.append(
            PendingReview(
                asin=asin,
                version=version,
                created_at=created,
                age=age,
                overdue=age > sla,
                title=manifest.title,
            )
        )
    return sorted(pending, key=lambda p: p.created_at)


def _candidates(store: ObjectStore) -> dict[str, list[int]]:
    """ASIN -> versions that may wait for review, newest first."""
    if review_queue.is_built(store):
        return review_queue.queued(store)
    return {
        asin: platform_versions.list_versions(store, asin)[::-1]
        for asin in platform_versions.stored_asins(store)
    }


def _current_pending(
    store: ObjectStore, asin: str, numbers: list[int]
) -> tuple[int, VersionManifest] | None:
    """(version, manifest) of the ASIN's newest live version when it waits for review (the
    `numbers` are its candidates, newest first); None when none waits."""
    for version in numbers:
        if platform_versions.is_deleted(store, asin, version):
            continue
        if read_decision(store, asin, version) is not None:
            return None  # the newest live version is decided
        if not review_queue.is_current(store, asin, version):
            return None  # a newer live version was decided: nothing of this ASIN waits
        manifest = platform_versions.read_version_manifest(store, asin, version)
        if manifest is None:
            continue  # being stored (the marker goes first) or deleted since the listing
        return version, manifest
    return None
