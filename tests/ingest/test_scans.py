"""Registering an ASIN's scan data: real demo scans pass, every hostile folder gets a recorded
not-ok verdict with a stable code (never a traceback), and the record reads back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shazam_assets.ingest.scans import ScanDataError, ScanLimits, register_scan
from shazam_assets.platform import layout
from shazam_assets.platform.scans import read_scan_record, registered_asins
from shazam_assets.platform.storage import ObjectStore
from tests.builders import ASIN, upload_scan
from tests.image_bombs import png_bomb

NOW = datetime(2026, 12, 7, 7, 15, tzinfo=UTC)
CUBE_OBJ = b"mtllib cube.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


def test_a_demo_scan_registers_ok_and_reads_back(store: ObjectStore, tmp_path: Path) -> None:
    keys = upload_scan(store, tmp_path)
    record = register_scan(store, ASIN, now=NOW)
    assert record.ok, record.issues
    assert record.obj is not None and record.obj.endswith(".obj")
    roles = {f.path: f.role for f in record.files}
    assert sorted(roles.values()) == ["mtl", "obj", "photo", "photo", "texture"]
    assert len(record.files) == len(keys)
    assert record.total_bytes == sum(store.head(k).size for k in keys)
    assert all(f.etag for f in record.files)
    assert record.stats and record.stats["faces"] > 0
    assert read_scan_record(store, ASIN) == record
    assert registered_asins(store) == [ASIN]


def _put(store: ObjectStore, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        store.put_bytes(layout.scan_file_key(ASIN, path), data)


def _photo(tmp_path: Path) -> bytes:
    from tests.builders import product

    return product(tmp_path).photos[0].read_bytes()


HOSTILE = {
    "no OBJ": ({"a.jpg": "PHOTO"}, "SCAN_DATA_NO_OBJ"),
    "two OBJs": ({"a.obj": CUBE_OBJ, "b.obj": CUBE_OBJ, "a.jpg": "PHOTO"}, "SCAN_DATA_MANY_OBJ"),
    "no photo": ({"a.obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"}, "SCAN_DATA_NO_PHOTO"),
    "non-image named .jpg": (
        {"a.obj": CUBE_OBJ, "cube.mtl": b"", "a.jpg": b"MZ not a photo"},
        "PHOTO_UNREADABLE",
    ),
    "PNG bomb": (
        {"a.obj": CUBE_OBJ, "cube.mtl": b"", "a.png": png_bomb(13000, 13000)},
        "PHOTO_TOO_LARGE",
    ),
    "broken OBJ": ({"a.obj": b"v 0 0\nf 1 2 9\n", "a.jpg": "PHOTO"}, "SCAN_OBJ_UNPARSEABLE"),
    "missing MTL": ({"a.obj": CUBE_OBJ, "a.jpg": "PHOTO"}, "SCAN_MTL_MISSING"),
    "huge OBJ": (
        {"a.obj": CUBE_OBJ + b"#" * 600_000 + b"\n", "a.jpg": "PHOTO"},
        "SCAN_DATA_FILE_TOO_LARGE",
    ),
    "too many files": ({f"x{i}.txt": b"x" for i in range(9)}, "SCAN_DATA_TOO_MANY_FILES"),
    "too many bytes": (
        {"a.obj": CUBE_OBJ, "b.jpg": b"x" * 400_000, "c.jpg": b"x" * 400_000},
        "SCAN_DATA_TOO_LARGE",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_scan_data_gets_a_recorded_verdict(
    local_store: ObjectStore, tmp_path: Path, case: str
) -> None:
    files, code = HOSTILE[case]
    photo = _photo(tmp_path)
    _put(local_store, {p: photo if d == "PHOTO" else d for p, d in files.items()})
    limits = ScanLimits(max_files=8, max_total_bytes=600_000, max_file_bytes=550_000)
    record = register_scan(local_store, ASIN, now=NOW, limits=limits)
    assert not record.ok
    assert code in record.codes, record.issues
    assert all(i.hint for i in record.issues)
    assert read_scan_record(local_store, ASIN) == record


def test_a_key_escaping_its_folder_is_refused_before_reading(
    s3_store: ObjectStore, s3_client, s3_bucket: str
) -> None:
    """S3 keys may hold '..' parts (any S3 client writes them); such a file is never read."""
    for path in ("../../uploads/x.obj", "a/./b.jpg"):
        s3_client.put_object(Bucket=s3_bucket, Key=f"scans/{ASIN}/{path}", Body=CUBE_OBJ)
    record = register_scan(s3_store, ASIN, now=NOW)
    assert not record.ok and record.codes[0] == "SCAN_DATA_BAD_PATH"
    assert {i.path for i in record.issues if i.code == "SCAN_DATA_BAD_PATH"} == {
        "../../uploads/x.obj",
        "a/./b.jpg",
    }


def test_registration_refuses_a_malformed_asin(local_store: ObjectStore) -> None:
    with pytest.raises(ScanDataError) as refused:
        register_scan(local_store, "b0lower001", now=NOW)
    assert refused.value.code == "SCAN_DATA_BAD_ASIN" and refused.value.hint


def test_registered_asins_page_after_an_asin_reading_only_that_page(
    store: ObjectStore, tmp_path: Path
) -> None:
    asins = [f"B0PAGE{n:04d}" for n in range(5)]
    for asin in reversed(asins):
        upload_scan(store, tmp_path, asin=asin)
        register_scan(store, asin, now=NOW)
    assert registered_asins(store) == asins
    assert registered_asins(store, limit=2) == asins[:2]
    assert registered_asins(store, after=asins[1], limit=2) == asins[2:4]
    assert registered_asins(store, after=asins[3]) == asins[4:]
    assert registered_asins(store, after=asins[4]) == []
