"""The records that cross stage boundaries read what stores hold and write back the same bytes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from shazam_assets.platform import layout
from shazam_assets.platform.records import TurntableManifest, VersionManifest
from shazam_assets.platform.storage import LocalStore
from shazam_assets.platform.versions import list_versions, read_version_manifest
from shazam_assets.qa.result import QAResult, read_scores
from tests.builders import ASIN, pack, product, store_delivery


def _version_json(manifest: VersionManifest) -> bytes:
    """How ingest writes version.json."""
    return json.dumps(manifest.to_json(), indent=2, sort_keys=True, default=str).encode()


def test_a_stored_version_manifest_reads_and_writes_back_byte_for_byte(
    local_store: LocalStore, tmp_path: Path
) -> None:
    version = store_delivery(local_store, pack(tmp_path, product(tmp_path)))
    raw = local_store.get_bytes(layout.version_manifest_key(ASIN, version))
    manifest = read_version_manifest(local_store, ASIN, version)
    assert manifest is not None and _version_json(manifest) == raw
    assert (manifest.asin, manifest.version, list_versions(local_store, ASIN)) == (
        ASIN,
        version,
        [version],
    )
    assert manifest.title.startswith("Bluetooth Speaker") and manifest.artist
    assert len(manifest.bounds_m) == 2 and all(d > 0 for d in manifest.dimensions_m)
    assert manifest.model_files() == (manifest.model_path,)
    assert set(manifest.photo_paths) <= manifest.listed


def test_a_manifest_stored_before_model_files_were_recorded_still_reads() -> None:
    old = {
        "schema": "shazam.version/1",
        "asin": ASIN,
        "version": 1,
        "created_at": "2025-01-01T00:00:00+00:00",
        "upload": {
            "key": f"uploads/{ASIN}/d.zip",
            "etag": "e",
            "upload_id": "u",
            "size": 3,
            "last_modified": "2025-01-01T00:00:00+00:00",
        },
        "files": [
            {"path": "model/a.gltf", "sha256": "0" * 64, "size": 1},
            {"path": "model/a.bin", "sha256": "1" * 64, "size": 2},
        ],
        "total_bytes": 3,
        "validation": {"ok": True, "stats": {"model_files": ["model/a.gltf", "model/a.bin"]}},
        "delivery_manifest": {"files": {"model": "model/a.gltf", "photos": []}},
    }
    manifest = VersionManifest.from_json(old)
    assert manifest.recorded_model_files is None
    assert manifest.model_files() == ("model/a.gltf", "model/a.bin")  # from the validation's stats
    unknown = copy.deepcopy(old)
    del unknown["validation"]["stats"]
    assert (
        VersionManifest.from_json(unknown).model_files() is None
    )  # a .gltf with unknown resources


TURNTABLE = {
    "schema": "shazam.turntable/1",
    "renderer": "studio-1",
    "fingerprint": "0123456789abcdef",
    "spec": {
        "frames": 8,
        "size": 64,
        "background": "white",
        "frame_format": "webp",
        "video": "mp4",
        "elevation_deg": 15.0,
    },
    "model": {
        "sha256": "a" * 64,
        "triangles": 1200,
        "bounds": [[-0.1, 0.0, -0.1], [0.1, 0.2, 0.1]],
    },
    "frames": [
        {
            "path": f"frames/{i:03d}.webp",
            "azimuth_deg": i * 45.0,
            "camera": {"eye": [0.0, 0.1, 1.0], "target": [0.0, 0.1, 0.0], "fov_deg": 30.0},
        }
        for i in range(8)
    ],
    "poster": "poster.webp",
    "sprite": {"path": "sprite.webp", "cell": 64, "columns": 3, "frames": 8},
    "video": {"path": "spin.mp4", "fps": 12},
    "timings_s": {
        "load": 0.5,
        "render": 1.2,
        "per_frame": 0.15,
        "encode_after_render": 0.1,
        "total": 2.0,
    },
    "rendered_at": "2026-01-01T00:00:00+00:00",
    "files": [{"path": "poster.webp", "size": 10, "sha256": "b" * 64}],
}


def test_a_turntable_manifest_writes_back_what_it_read_on_disk_and_committed() -> None:
    local = TurntableManifest.from_json(TURNTABLE)
    assert json.dumps(local.to_json(), indent=2) == json.dumps(TURNTABLE, indent=2)
    committed = local.committed(asin=ASIN, version=2)
    expected = dict(TURNTABLE, set=TURNTABLE["fingerprint"], asin=ASIN, version=2)
    assert json.dumps(committed.to_json(), indent=2) == json.dumps(expected, indent=2)
    assert TurntableManifest.from_json(expected) == committed
    assert (committed.per_frame_s, committed.total_s, committed.size) == (0.15, 2.0, 64)


def test_a_turntable_manifest_missing_parts_reads_leniently() -> None:
    manifest = TurntableManifest.from_json({"renderer": "studio-0"})
    assert manifest.renderer == "studio-0" and manifest.frames == () and manifest.set is None


QA = {
    "asin": ASIN,
    "version": 1,
    "checked_at": "2026-01-01T00:00:00+00:00",
    "scoring_version": "scoring-1",
    "checks": [
        {
            "name": "qa_visual_match",
            "passed": True,
            "severity": "warn",
            "message": "ok",
            "metadata": {},
        },
        {
            "name": "qa_placement",
            "passed": False,
            "severity": "error",
            "message": "floats",
            "metadata": {"min_y_m": 0.2},
        },
    ],
    "visual": {
        "photos": [
            {
                "photo": "front.jpg",
                "best_view": "front",
                "silhouette_iou": 0.91,
                "delta_e": 4.2,
                "score": 0.87,
                "close_up": False,
            }
        ],
        "score": 0.87,
        "views": ["front", "back"],
        "seconds": 3.2,
    },
    "contact_sheet": f"qa/{ASIN}/v1/contact-sheet.png",
    "blocking_errors": ["qa_placement"],
}


def test_a_qa_result_writes_back_what_it_read(local_store: LocalStore) -> None:
    for stored in (QA, dict(QA, visual={}, contact_sheet=None)):  # scored, and not scorable
        result = QAResult.from_json(stored)
        assert json.dumps(result.to_json(), indent=2) == json.dumps(stored, indent=2)
    local_store.put_bytes(layout.scores_key(ASIN, 1), json.dumps(QA).encode())
    result = read_scores(local_store, ASIN, 1)
    assert result is not None and result.blocking_errors == ("qa_placement",)
    assert result.visual is not None and result.visual.photos[0].best_view == "front"
    assert read_scores(local_store, ASIN, 2) is None


def test_a_qa_result_of_the_wrong_shape_reads_as_missing_parts() -> None:
    odd = QAResult.from_json(
        {"contact_sheet": 7, "checks": "no", "visual": {"score": "high", "photos": [1]}}
    )
    assert odd.contact_sheet is None and odd.checks == () and odd.blocking_errors == ()
    assert odd.visual is not None and odd.visual.score is None and odd.visual.photos[0].photo == ""
