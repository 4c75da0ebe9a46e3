"""The review queue lists exactly the versions waiting for a decision, in O(pending)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.platform import layout, review_queue
from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa import decisions
from shazam_assets.qa.backlog import pending_reviews
from shazam_assets.qa.review.views import recent_decisions
from tests.builders import ASIN, pack, product

OTHER = "B0QUEUE002"


class ListingStore(LocalStore):
    """A local store that records the prefixes it is asked to list."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listed: list[str] = []

    def list(self, prefix: str = "", *, start_after: str | None = None):
        self.listed.append(prefix)
        return super().list(prefix, start_after=start_after)


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("queue-deliveries")
    made = product(root)
    return {asin: pack(root, made, asin=asin, name=f"{asin}.zip") for asin in (ASIN, OTHER)}


def _store(store, zips, asin: str, name: str) -> int:
    store.put_file(f"uploads/{asin}/{name}", zips[asin])
    upload = ingest.resolve_upload(store, asin, key=f"uploads/{asin}/{name}")
    assert ingest.validate_upload(store, upload).report.ok
    return ingest.store_upload(store, upload).version


def _pending(store) -> list[tuple[str, int]]:
    """The pending (ASIN, version)s, sorted (created_at has a resolution of a second)."""
    return sorted((p.asin, p.version) for p in pending_reviews(store, now=datetime.now(UTC)))


def _decide(store, asin: str, version: int, verdict: str) -> None:
    decisions.record_decision(
        store, asin=asin, version=version, verdict=verdict, reviewer="Rita", notes="fix it"
    )


def test_the_queue_follows_store_decide_and_delete(tmp_path, zips) -> None:
    store = ListingStore(tmp_path / "store")
    assert review_queue.ensure_built(store)  # what the daily housekeeping does
    assert _pending(store) == []
    first = _store(store, zips, ASIN, "1.zip")
    _store(store, zips, OTHER, "1.zip")
    assert _pending(store) == [(OTHER, 1), (ASIN, first)]

    second = _store(store, zips, ASIN, "2.zip")
    assert _pending(store) == [(OTHER, 1), (ASIN, second)]  # v1 superseded
    _decide(store, ASIN, second, "reject")
    assert _pending(store) == [(OTHER, 1)]  # the newest was decided: nothing of ASIN waits
    decisions.delete_version(store, ASIN, second, reason="test")
    assert _pending(store) == [(OTHER, 1), (ASIN, first)]  # v1 is the newest live one again
    _decide(store, OTHER, 1, "approve")
    assert _pending(store) == [(ASIN, first)]

    store.listed.clear()
    _pending(store)
    # the queue and the one pending ASIN's versions; never the whole version index
    assert store.listed == [layout.review_queue_prefix(), layout.versions_prefix(ASIN)]
    markers = {i.key for i in store.list(layout.review_queue_prefix())}
    assert markers == {layout.review_queue_key(ASIN, first)}  # decided ones were removed

    store.listed.clear()
    newest = [(d.asin, d.version) for d in recent_decisions(store, limit=1)]
    assert newest == [(OTHER, 1)]
    assert layout.decisions_prefix() not in store.listed  # one page of the feed, not the log


def test_a_store_written_before_the_queue_is_read_whole_until_rebuilt(tmp_path, zips) -> None:
    store = ListingStore(tmp_path / "store")
    assert _store(store, zips, ASIN, "1.zip") == 1
    _store(store, zips, OTHER, "1.zip")
    second = _store(store, zips, ASIN, "2.zip")
    _decide(store, OTHER, 1, "approve")
    expected = _pending(store)
    assert expected == [(ASIN, second)]
    decided = [(d.asin, d.version) for d in recent_decisions(store)]
    for info in list(store.list("review/")):  # as an older SHAZAM left it: no queue at all
        store.delete(info.key)

    before = {i.key for i in store.list("")}
    assert _pending(store) == expected  # scanned whole, read only
    assert [(d.asin, d.version) for d in recent_decisions(store)] == decided == [(OTHER, 1)]
    assert {i.key for i in store.list("")} == before
    assert review_queue.ensure_built(store) and not review_queue.ensure_built(store)
    assert review_queue.queued(store) == {ASIN: [second]}
    assert _pending(store) == expected
    assert [(d.asin, d.version) for d in recent_decisions(store)] == decided
    store.listed.clear()
    _pending(store)
    assert layout.version_index_prefix() not in store.listed  # the queue, not every ASIN
