"""The review queue: one small marker per stored version that waits for a reviewer's decision.

Ingest writes a version's marker just before its manifest (so no committed version lacks one);
QA removes it when the version is decided or deleted. Listing the queue reads the markers, so
the review page and the metrics' backlog cost O(pending versions), not O(stored ASINs). The
markers are a hint the reader verifies (the decision log and the version store stay the
truth): a marker whose version was decided or deleted behind its back is dropped when found.
Each decision also leaves a marker in a feed whose keys sort newest first, so the review page's
"recent decisions" reads one page of it instead of the whole decision log.
A store written before the queue existed has neither: until the daily housekeeping has rebuilt
both from the versions and the decision log (`review/built.json` records it), readers scan the
versions and the decision log as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.storage import ObjectStore


def mark_pending(store: ObjectStore, asin: str, version: int) -> None:
    """Queue `version` for review (idempotent)."""
    store.put_bytes(layout.review_queue_key(asin, version), b"{}")


def clear_pending(store: ObjectStore, asin: str, version: int) -> None:
    """Take `version` off the queue, and the older versions of the ASIN with it (a decided
    version supersedes them: they can never be decided). Idempotent."""
    for info in store.list(layout.review_queue_asin_prefix(asin)):
        marker = layout.parse_review_queue_key(info.key)
        if marker is not None and marker.asin == asin and marker.version <= version:
            store.delete(info.key)


def requeue_newest(store: ObjectStore, asin: str, *, decided: Callable[[int], bool]) -> None:
    """After a version was deleted: queue the ASIN's newest live version if it is undecided
    (deleting the newest can make an older one the version to review again)."""
    live = [
        v
        for v in platform_versions.list_versions(store, asin)
        if not platform_versions.is_deleted(store, asin, v)
    ]
    if live and not decided(live[-1]):
        mark_pending(store, asin, live[-1])


def record_decided(store: ObjectStore, asin: str, version: int, *, at: datetime) -> None:
    """Add a decision to the newest-first feed."""
    epoch_ms = int(at.timestamp() * 1000)
    store.put_bytes(layout.recent_decision_key(asin, version, epoch_ms=epoch_ms), b"{}")


def is_built(store: ObjectStore) -> bool:
    return store.exists(layout.review_queue_built_key())


def newest_decided(store: ObjectStore, *, limit: int) -> list[layout.AsinVersion]:
    """The `limit` newest decisions, newest first (reads about `limit` keys); the queue must
    be built (`is_built`)."""
    found: list[layout.AsinVersion] = []
    for info in store.list(layout.recent_decisions_prefix()):
        parsed = layout.parse_recent_decision_key(info.key)
        if parsed is not None and parsed not in found:
            found.append(parsed)
        if len(found) >= limit:
            break
    return found


def ensure_built(store: ObjectStore) -> bool:
    """Rebuild the queue and the feed once for a store written before them; whether it did."""
    if is_built(store):
        return False
    rebuild(store)
    return True


def _markers(store: ObjectStore) -> Iterator[layout.AsinVersion]:
    for info in store.list(layout.review_queue_prefix()):
        parsed = layout.parse_review_queue_key(info.key)
        if parsed is not None:
            yield parsed


def queued(store: ObjectStore) -> dict[str, list[int]]:
    """ASIN -> its queued version numbers, descending (the newest is the one to review); the
    queue must be built (`is_built`)."""
    found: dict[str, list[int]] = {}
    for marker in _markers(store):
        found.setdefault(marker.asin, []).append(marker.version)
    return {asin: sorted(numbers, reverse=True) for asin, numbers in found.items()}


def is_current(store: ObjectStore, asin: str, version: int) -> bool:
    """Whether `version` is the ASIN's newest live version: every newer one was deleted
    (a newer stored version supersedes it: only the newest can be decided)."""
    newer = [v for v in platform_versions.list_versions(store, asin) if v > version]
    return all(platform_versions.is_deleted(store, asin, v) for v in newer)


def rebuild(store: ObjectStore) -> int:
    """Queue each ASIN's newest live version when it is undecided, and add every decision to
    the feed (a full scan of the version store and the decision log, for a store written
    before them); the number of queue markers written."""
    for info in store.list(layout.decisions_prefix()):
        decided = layout.parse_decision_key(info.key)
        if decided is not None:
            record_decided(store, decided.asin, decided.version, at=info.last_modified)
    written = 0
    for asin in platform_versions.stored_asins(store):
        live = [
            v
            for v in platform_versions.list_versions(store, asin)
            if not platform_versions.is_deleted(store, asin, v)
        ]
        if live and not store.exists(layout.decision_key(asin, live[-1])):
            mark_pending(store, asin, live[-1])
            written += 1
    stamp = {"built_at": datetime.now(UTC).isoformat(), "markers": written}
    store.put_bytes(layout.review_queue_built_key(), json.dumps(stamp).encode())
    return written
