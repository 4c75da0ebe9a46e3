"""A decision is one write: a failure anywhere while recording it leaves either no decision
(and a retry records it) or the whole decision (and the QA sensor's log shows it)."""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

import pytest

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.operations.status import asin_status
from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore, ObjectInfo, ObjectStore
from shazam_assets.qa import decisions
from shazam_assets.qa.backlog import pending_reviews
from shazam_assets.qa.decisions import DecisionError, record_decision
from tests.builders import ASIN, pack, product
from tests.stores import Forwarding


class DiskFull(OSError):
    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, "No space left on device")


class FailingStore(Forwarding):
    """A store whose `fail_at`-th write raises ENOSPC, either before it reaches the inner store
    (`after=False`: nothing written) or after (`after=True`: written, but the caller never hears)."""

    def __init__(self, inner: ObjectStore, *, fail_at: int, after: bool) -> None:
        super().__init__(inner)
        self.fail_at, self.after, self.writes = fail_at, after, 0

    def _write(self, do):
        self.writes += 1
        if self.writes == self.fail_at and not self.after:
            raise DiskFull
        result = do()
        if self.writes == self.fail_at:
            raise DiskFull
        return result

    def put_bytes(self, key, data, **headers) -> ObjectInfo:
        return self._write(lambda: self.inner.put_bytes(key, data, **headers))

    def put_stream(self, key, stream, **headers) -> ObjectInfo:
        return self._write(lambda: self.inner.put_stream(key, stream, **headers))

    def put_if_absent(self, key, data) -> bool:
        return self._write(lambda: self.inner.put_if_absent(key, data))

    def copy(self, src, dst, **headers) -> ObjectInfo:
        return self._write(lambda: self.inner.copy(src, dst, **headers))


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("atomic-decisions")
    return pack(root, product(root))


def _stored_version(store: ObjectStore, zip_path: Path) -> int:
    store.put_file(f"uploads/{ASIN}/a.zip", zip_path)
    upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/a.zip")
    assert ingest.validate_upload(store, upload).report.ok
    return ingest.store_upload(store, upload).version


def _logged(store: ObjectStore) -> list[tuple[str, int]]:
    """What the QA decision sensor would pick up."""
    return [
        p for i in store.list(layout.decisions_prefix()) if (p := layout.parse_decision_key(i.key))
    ]


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.mark.parametrize("after", [False, True], ids=["before-write", "after-write"])
@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_failed_decision_is_completed_by_its_retry(
    store: ObjectStore, good_zip, fail_at, after
) -> None:
    version = _stored_version(store, good_zip)
    failing = FailingStore(store, fail_at=fail_at, after=after)
    with contextlib.suppress(OSError):
        record_decision(failing, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    # Whatever the failure left, the decision is all or nothing for every reader.
    decided = decisions.read_decision(store, ASIN, version)
    assert _logged(store) == ([(ASIN, version)] if decided else [])
    pending = [p.version for p in pending_reviews(store, now=_now())]
    assert pending == ([] if decided else [version])

    retried = record_decision(store, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    assert retried.verdict is decisions.Verdict.APPROVE and retried.reviewer == "Rita"
    assert _logged(store) == [(ASIN, version)]
    assert decisions.read_decision(store, ASIN, version) == retried
    assert [v["state"] for v in asin_status(store, ASIN)["versions"]] == ["approved"]
    assert pending_reviews(store, now=_now()) == []


def test_a_retry_with_another_verdict_says_who_decided(local_store: LocalStore, good_zip) -> None:
    version = _stored_version(local_store, good_zip)
    record_decision(local_store, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    with pytest.raises(DecisionError) as refused:
        record_decision(
            local_store, asin=ASIN, version=version, verdict="reject", reviewer="Rita", notes="no"
        )
    assert refused.value.code == "QA_ALREADY_DECIDED" and "approved by Rita" in str(refused.value)


def test_a_half_written_decision_of_an_older_release_can_be_decided_again(
    local_store: LocalStore, good_zip
) -> None:
    """Stores written before decisions were one write may hold `qa/<ASIN>/v<N>/decision.json`
    without its log entry: nobody acted on it, so the version is still waiting for a review."""
    version = _stored_version(local_store, good_zip)
    local_store.put_bytes(
        f"qa/{ASIN}/v{version}/decision.json",
        b'{"asin": "%s", "version": %d, "verdict": "approve", "reviewer": "Old", "decided_at": "2026-01-01T00:00:00+00:00"}'
        % (ASIN.encode(), version),
    )
    assert [p.version for p in pending_reviews(local_store, now=_now())] == [version]
    record_decision(
        local_store,
        asin=ASIN,
        version=version,
        verdict="reject",
        reviewer="Rita",
        notes="logo missing",
    )
    assert _logged(local_store) == [(ASIN, version)]
    assert decisions.read_decision(local_store, ASIN, version).reviewer == "Rita"
