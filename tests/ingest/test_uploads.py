"""Upload keys and the listing scan a polling sensor runs each tick."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shazam_assets.ingest.uploads import (
    ScanResult,
    Upload,
    batch_run_key,
    parse_upload_key,
    scan_uploads,
    upload_batches,
    wait_for_uploads,
)
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("uploads/B012345678/delivery.zip", ("B012345678", "delivery.zip")),
        ("uploads/B0ABCDEFGH/My Chair + Table v2.ZIP", ("B0ABCDEFGH", "My Chair + Table v2.ZIP")),
        ("uploads/0306406152/book.Zip", ("0306406152", "book.Zip")),  # ISBN-10 ASIN
        ("uploads/B012345678/delivery.rar", None),
        ("uploads/B012345678/delivery.zip.part", None),
        ("uploads/B012345678/.zip", None),
        ("uploads/B012345678/", None),
        ("uploads/B012345678/nested/delivery.zip", None),
        ("uploads/B012345678.zip", None),
        ("uploads//delivery.zip", None),
        ("uploads/b012345678/delivery.zip", None),  # ASINs are upper case
        ("uploads/B01234567/delivery.zip", None),  # 9 characters
        ("uploads/0306406153/book.zip", None),  # ISBN check digit wrong
        ("Uploads/B012345678/delivery.zip", None),
        ("other/B012345678/delivery.zip", None),
        ("x/uploads/B012345678/delivery.zip", None),
    ],
)
def test_parse_upload_key(key: str, expected: tuple[str, str] | None) -> None:
    assert parse_upload_key(key) == expected


def test_upload_identity_follows_key_and_etag() -> None:
    when = datetime(2025, 1, 1, tzinfo=UTC)
    upload = Upload("uploads/B012345678/a.zip", "B012345678", "abc", 3, when)
    modified = Upload("uploads/B012345678/a.zip", "B012345678", "def", 3, when)

    expected = hashlib.sha256(b"uploads/B012345678/a.zip\0abc").hexdigest()[:16]
    assert upload.upload_id == expected
    assert upload.run_key == f"upload:{expected}"
    assert modified.run_key != upload.run_key
    assert Upload(upload.key, upload.asin, "abc", 99, when).run_key == upload.run_key


# --------------------------------------------------------------------------- scanning


def _tick(store: ObjectStore, cursor: str | None, **kwargs: Any) -> ScanResult:
    return scan_uploads(store, cursor, now=datetime.now(UTC), **kwargs)


def _drain(store: ObjectStore, cursor: str | None, **kwargs: Any) -> tuple[list[str], str, int]:
    """Run ticks until a pass completes: (keys emitted, cursor, ticks used)."""
    keys: list[str] = []
    for ticks in range(1, 10_000):
        result = _tick(store, cursor, **kwargs)
        keys += [upload.key for upload in result.uploads]
        cursor = result.cursor
        if result.complete_pass:
            return keys, cursor, ticks
    raise AssertionError("the scan never completed a pass")


def _upload_key(n: int, name: str = "delivery.zip") -> str:
    return f"uploads/B0{n:08d}/{name}"


def test_first_tick_emits_every_upload_and_reports_the_rest(store: ObjectStore) -> None:
    store.put_bytes(_upload_key(2), b"two")
    store.put_bytes(_upload_key(1, "My Chair + Table.zip"), b"one")
    store.put_bytes("uploads/not-an-asin/x.zip", b"?")
    store.put_bytes("uploads/B000000003/readme.txt", b"?")
    store.put_bytes("elsewhere/B000000004/x.zip", b"not under uploads/")

    result = _tick(store, None)

    assert [u.key for u in result.uploads] == [
        _upload_key(1, "My Chair + Table.zip"),
        _upload_key(2),
    ]
    first = result.uploads[0]
    assert (first.asin, first.size) == ("B000000001", 3)
    assert first.etag == store.head(first.key).etag  # type: ignore[union-attr]
    assert result.complete_pass and result.listed == 4
    assert result.skipped_keys == ("uploads/B000000003/readme.txt", "uploads/not-an-asin/x.zip")


def test_next_tick_emits_nothing_again(store: ObjectStore) -> None:
    for n in range(5):
        store.put_bytes(_upload_key(n), b"x")
    store.put_bytes("uploads/junk.txt", b"?")
    first = _tick(store, None)

    second = _tick(store, first.cursor)
    third = _tick(store, second.cursor)

    assert len(first.uploads) == 5
    assert second.uploads == third.uploads == ()
    assert second.skipped_keys == third.skipped_keys == ()  # junk is reported once
    assert second.listed == 6


def test_key_sorting_before_the_last_seen_key_is_found(store: ObjectStore) -> None:
    store.put_bytes(_upload_key(99_999_998, "zz.zip"), b"late in key order")
    cursor = _tick(store, None).cursor
    cursor = _tick(store, cursor).cursor

    store.put_bytes(_upload_key(1, "aa.zip"), b"early in key order, uploaded later")
    result = _tick(store, cursor)

    assert [u.key for u in result.uploads] == [_upload_key(1, "aa.zip")]


def test_modified_object_is_emitted_once_more(store: ObjectStore) -> None:
    store.put_bytes(_upload_key(7), b"first version")
    first = _tick(store, None)

    store.put_bytes(_upload_key(7), b"second version, fixed")
    second = _tick(store, first.cursor)
    third = _tick(store, second.cursor)

    assert [u.key for u in second.uploads] == [_upload_key(7)]
    assert second.uploads[0].run_key != first.uploads[0].run_key
    assert third.uploads == ()


def test_object_with_old_last_modified_is_found(local_store: LocalStore) -> None:
    """A multipart upload's LastModified is its initiation time: older than objects already
    seen. Simulated with a file whose mtime is set ten minutes back."""
    local_store.put_bytes(_upload_key(5), b"seen first")
    cursor = _tick(local_store, None).cursor

    local_store.put_bytes(_upload_key(6), b"slow upload")
    ten_minutes_ago = time.time() - 600
    os.utime(local_store.root / _upload_key(6), (ten_minutes_ago, ten_minutes_ago))
    result = _tick(local_store, cursor)

    assert [u.key for u in result.uploads] == [_upload_key(6)]
    assert result.uploads[0].last_modified < datetime.now(UTC) - timedelta(minutes=9)


def test_first_tick_emits_old_objects_too(local_store: LocalStore) -> None:
    local_store.put_bytes(_upload_key(1), b"delivered last year")
    last_year = time.time() - 365 * 86400
    os.utime(local_store.root / _upload_key(1), (last_year, last_year))

    assert [u.key for u in _tick(local_store, None).uploads] == [_upload_key(1)]


def test_multipart_upload_completed_after_a_tick_is_found(s3_store: S3Store) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    key = _upload_key(3, "big delivery.zip")
    multipart = client.create_multipart_upload(Bucket=bucket, Key=key)
    s3_store.put_bytes(_upload_key(4), b"small")
    cursor = _tick(s3_store, None).cursor

    part = client.upload_part(
        Bucket=bucket, Key=key, UploadId=multipart["UploadId"], PartNumber=1, Body=b"z" * 1024
    )
    client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=multipart["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    result = _tick(s3_store, cursor)

    assert [u.key for u in result.uploads] == [key]
    assert result.uploads[0].etag.endswith("-1")


def test_max_uploads_spreads_a_pass_over_ticks(store: ObjectStore) -> None:
    keys = [_upload_key(n) for n in range(30)]
    for key in keys:
        store.put_bytes(key, b"x")

    emitted, cursor, ticks = _drain(store, None, max_uploads=7)

    assert emitted == keys
    assert ticks == 5
    assert _drain(store, cursor, max_uploads=7)[0] == []


def test_time_budget_resumes_and_new_keys_behind_the_resume_point_are_found(
    store: ObjectStore,
) -> None:
    for n in range(10, 20):
        store.put_bytes(_upload_key(n), b"x")
    emitted: list[str] = []
    result = _tick(store, None, time_budget_s=0)  # each tick handles one object
    for _ in range(4):
        emitted += [u.key for u in result.uploads]
        result = _tick(store, result.cursor, time_budget_s=0)
    assert result.listed == 1 and not result.complete_pass

    store.put_bytes(_upload_key(1), b"arrives behind the resume point")
    emitted += [u.key for u in result.uploads]
    rest, cursor, _ = _drain(store, result.cursor, time_budget_s=0)
    next_pass, _, _ = _drain(store, cursor, time_budget_s=0)

    assert Counter(emitted + rest + next_pass) == Counter(
        [_upload_key(n) for n in [1, *range(10, 20)]]
    )
    assert next_pass == [_upload_key(1)]


def test_cursor_stays_small_with_5000_fresh_objects(local_store: LocalStore) -> None:
    # Files written directly: the scan only lists, and 5,000 fsynced puts would cost seconds.
    for n in range(5000):
        path = local_store.root / _upload_key(n)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")

    mid_pass = _tick(local_store, None)
    emitted, cursor, ticks = _drain(local_store, None)
    again, cursor_after, _ = _drain(local_store, cursor)

    assert len(mid_pass.cursor) < 64_000 and not mid_pass.complete_pass
    assert len(emitted) == len(set(emitted)) == 5000
    assert ticks == 10  # 500 uploads a tick
    assert len(cursor) < 64_000, len(cursor)
    assert again == []  # all 5,000 are remembered despite the small cursor
    assert len(cursor_after) < 64_000


def test_recent_is_forgotten_once_outside_the_window(local_store: LocalStore) -> None:
    for n in range(200):
        local_store.put_bytes(_upload_key(n), b"x")
    cursor = _tick(local_store, None).cursor
    later = datetime.now(UTC) + timedelta(hours=1)

    first_later_pass = scan_uploads(local_store, cursor, now=later)
    second_later_pass = scan_uploads(local_store, first_later_pass.cursor, now=later)

    assert first_later_pass.uploads == second_later_pass.uploads == ()
    assert json.loads(second_later_pass.cursor)["recent"] == {}
    assert len(second_later_pass.cursor) < 200


def test_scan_refuses_a_naive_now_and_a_foreign_cursor(local_store: LocalStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        scan_uploads(local_store, None, now=datetime.now())
    with pytest.raises(ValueError, match="reset the sensor cursor"):
        _tick(local_store, "uploads/B000000009/delivery.zip")  # a since_key cursor
    with pytest.raises(ValueError, match="reset the sensor cursor"):
        _tick(local_store, json.dumps({"v": 99}))


def test_a_burst_is_cut_into_capped_batches_with_one_upload_per_asin() -> None:
    start = datetime(2026, 12, 7, tzinfo=UTC)
    uploads = [
        Upload(f"uploads/B0BURST{i:03d}/d.zip", f"B0BURST{i:03d}", f"e{i}", 1, start)
        for i in range(7)
    ]
    again = Upload("uploads/B0BURST000/e.zip", "B0BURST000", "x", 1, start + timedelta(seconds=1))
    batches = upload_batches([again, *reversed(uploads)], size=3)
    assert [len(b) for b in batches] == [3, 3, 2]
    assert all(len({u.asin for u in b}) == len(b) for b in batches)  # one upload per ASIN
    assert batches[0][0].key == "uploads/B0BURST000/d.zip"  # oldest first; the re-upload later
    assert sum(b.count(again) for b in batches[1:]) == 1
    assert upload_batches(uploads, size=3) == upload_batches(list(reversed(uploads)), size=3)
    keys = {batch_run_key(b) for b in batches}
    assert len(keys) == 3 and batch_run_key(batches[0]) == batch_run_key(batches[0][::-1])


# --------------------------------------------------------------------------- waiting ticks


def test_an_upload_made_while_a_tick_waits_is_found_when_it_lands(store: ObjectStore) -> None:
    """A tick that found nothing keeps looking, so an upload between two of Dagster's sensor
    loops starts its run when it lands rather than up to 5 s later."""
    first = wait_for_uploads(store, None, wait_s=0)
    writer = threading.Timer(0.8, store.put_bytes, args=(_upload_key(1), b"PK"))
    started = time.monotonic()
    writer.start()
    try:
        found = wait_for_uploads(store, first.cursor, wait_s=6, relook_s=0.1)
    finally:
        writer.join()

    assert [u.key for u in found.uploads] == [_upload_key(1)]
    assert 0.7 <= time.monotonic() - started < 3.0
    again = wait_for_uploads(store, found.cursor, wait_s=0)
    assert again.uploads == ()  # the cursor of the waiting tick remembers what it found


def test_a_waiting_tick_returns_at_once_with_what_it_found(local_store: LocalStore) -> None:
    local_store.put_bytes(_upload_key(2), b"PK")
    local_store.put_bytes("uploads/not-an-upload.txt", b"x")
    started = time.monotonic()

    found = wait_for_uploads(local_store, None, wait_s=10)

    assert [u.key for u in found.uploads] == [_upload_key(2)]
    assert found.skipped_keys == ("uploads/not-an-upload.txt",)
    assert time.monotonic() - started < 2.0


def test_a_waiting_tick_with_nothing_new_gives_up_after_its_wait(local_store: LocalStore) -> None:
    local_store.put_bytes(_upload_key(3), b"PK")
    seen = wait_for_uploads(local_store, None, wait_s=0)
    started = time.monotonic()

    nothing = wait_for_uploads(local_store, seen.cursor, wait_s=1, relook_s=0.1)

    assert nothing.uploads == () and nothing.complete_pass
    assert 0.8 <= time.monotonic() - started < 3.0
    assert nothing.listed >= 5  # it looked again and again, not once
