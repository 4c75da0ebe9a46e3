"""The review page never hands a reviewer's browser a decompression bomb: a stored photo whose
header declares more pixels than SHAZAM decodes (a version stored before validation checked
it) is refused with its code, read from the header only, over HTTP against `shazam review`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from shazam_assets.ingest import versions
from shazam_assets.platform.storage import LocalStore
from tests.image_bombs import png_bomb
from tests.qa.review.conftest import SPEAKER

SHAZAM = str(Path(sys.executable).parent / "shazam")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_photo_declaring_too_many_pixels_is_not_served(review_store: LocalStore) -> None:
    photos = versions.read_version_manifest(review_store, SPEAKER, 1).photo_paths
    review_store.put_bytes(versions.version_prefix(SPEAKER, 1) + photos[0], png_bomb(13000, 13000))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=review_store.root.as_uri(),
        DAGSTER_HOME=str(review_store.root.parent / "home"),
    )
    server = subprocess.Popen(
        [SHAZAM, "review", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/asins/{SPEAKER}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(base)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no review server"
                time.sleep(0.3)
        assert status == 200
        status, body = _get(base + "/photos/0")
        assert status == 422 and b"IMAGE_TOO_MANY_PIXELS" in body and b"169,000,000" in body
        assert _get(base + "/photos/1")[0] == 200  # the others are shown as before
    finally:
        server.terminate()
        server.wait(timeout=10)
