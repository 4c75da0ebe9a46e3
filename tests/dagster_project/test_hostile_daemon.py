"""Hostile deliveries through the real `dagster-daemon`, as an artist's upload arrives: `shazam
upload`, the upload sensor, one run each. Every one ends with a recorded verdict the artist can
read (`shazam status`), nothing is stored, nothing is left in staging, and no operator is paged:
a forged version manifest, a kilobyte model declaring a gigabyte of accessor data, a manifest
nested 100,000 deep, a photo whose header claims 30000 x 30000 pixels.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from dagster_project.cli import PROJECT_ROOT
from dagster_project.defs.operations.run_failures import FAILURE_OUTBOX
from shazam_assets.ingest import versions
from shazam_assets.platform.settings import ensure_dagster_home
from shazam_assets.platform.storage import LocalStore
from shazam_demo.run import running_daemon
from tests.builders import ASIN, rewrite_zip
from tests.image_bombs import png_bomb
from tests.ingest.delivery import adversarial

BIN = Path(sys.executable).parent


def _hostile(delivery: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (ZIP, the code its verdict must carry), built from a good delivery."""
    with zipfile.ZipFile(delivery) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    model, photo = manifest["files"]["model"], manifest["files"]["photos"][0]
    forged = {
        "schema": versions.VERSION_SCHEMA,
        "asin": ASIN,
        "version": 1,
        "files": [],
        "delivery_manifest": {"product": {"title": "FORGED"}},
    }
    sparse = adversarial.sparse_accessor().files["sparse.glb"]
    nested = folder / "nested.zip"
    nested.write_bytes(adversarial.nested_manifest().files["nested.zip"])
    return {
        "forged.zip": (
            rewrite_zip(
                delivery, folder / "forged.zip", add={"version.json": json.dumps(forged).encode()}
            ),
            "ZIP_RESERVED_NAME",
        ),
        "sparse.zip": (
            rewrite_zip(delivery, folder / "sparse.zip", edit={model: lambda _: sparse}),
            "VALIDATION_LIMIT_ACCESSOR_DATA",
        ),
        "nested.zip": (nested, "VALIDATION_LIMIT_JSON_DEPTH"),
        "bomb.zip": (
            rewrite_zip(
                delivery,
                folder / "bomb.zip",
                edit={photo: lambda _: png_bomb(30000, 30000)},
                stored=frozenset({photo}),
            ),
            "PHOTO_TOO_LARGE",
        ),
    }


@pytest.mark.integration
@pytest.mark.long
def test_hostile_uploads_get_recorded_verdicts_through_the_daemon(
    tmp_path, delivery, monkeypatch
) -> None:
    (tmp_path / "store").mkdir()
    env = {
        "SHAZAM_STORE_URL": (tmp_path / "store").as_uri(),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ensure_dagster_home(tmp_path / "home")
    store = LocalStore(tmp_path / "store")
    hostile = _hostile(delivery, tmp_path)

    def shazam(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "shazam"), *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    for name, (path, _) in hostile.items():
        assert shazam("upload", str(path), "--asin", ASIN, "--name", name).returncode == 0

    def status() -> dict:
        return json.loads(shazam("status", ASIN, "--json").stdout)

    with running_daemon(PROJECT_ROOT, tmp_path / "daemon.log") as alive:
        deadline = time.monotonic() + 300
        while any(u["outcome"] == "pending" for u in status()["uploads"]):
            assert time.monotonic() < deadline, status()["uploads"]
            alive()
            time.sleep(2)

    found = status()
    assert {u["key"].rsplit("/", 1)[1]: u["outcome"] for u in found["uploads"]} == dict.fromkeys(
        hostile, "rejected"
    )
    by_name = {r["upload_key"].rsplit("/", 1)[1]: r for r in found["rejections"]}
    for name, (_, code) in hostile.items():
        assert code in by_name[name]["codes"], (name, by_name[name]["codes"])
        assert all(e["hint"] for e in by_name[name]["errors"])  # the artist is told how to fix it
    assert found["versions"] == [] and list(store.list("assets/")) == []
    assert list(store.list("staging/")) == []
    assert list(store.list(FAILURE_OUTBOX)) == []  # rejections page no operator
