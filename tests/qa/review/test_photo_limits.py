"""The review pages never hand a reviewer's browser a decompression bomb: a stored photo whose
header declares more pixels than SHAZAM decodes (a version stored before validation checked
it) is refused with its code, read from the header only, over HTTP against `shazam review`
(which now starts the studio: the reviewer signs in through the real OpenID provider)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shazam_assets.ingest import versions
from shazam_assets.platform.storage import LocalStore
from tests.image_bombs import png_bomb
from tests.qa.review.conftest import SPEAKER
from tests.studio.conftest import REVIEWER, SESSION_SECRET, sign_in

SHAZAM = str(Path(sys.executable).parent / "shazam")

pytestmark = pytest.mark.integration


def test_a_photo_declaring_too_many_pixels_is_not_served(
    review_store: LocalStore, oidc_issuer: str
) -> None:
    photos = versions.read_version_manifest(review_store, SPEAKER, 1).photo_paths
    review_store.put_bytes(versions.version_prefix(SPEAKER, 1) + photos[0], png_bomb(13000, 13000))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=review_store.root.as_uri(),
        DAGSTER_HOME=str(review_store.root.parent / "home"),
        SHAZAM_OIDC_ISSUER=oidc_issuer,
        SHAZAM_OIDC_CLIENT_ID="shazam-studio-test",
        SHAZAM_OIDC_CLIENT_SECRET="test-client-secret",
        SHAZAM_STUDIO_SESSION_SECRET=SESSION_SECRET,
    )
    server = subprocess.Popen(
        [SHAZAM, "review", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(base + "/healthz", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "no studio"
                time.sleep(0.3)
        reviewer = sign_in(base, REVIEWER)
        page = f"/review/asins/{SPEAKER}/v1"
        assert reviewer.get(page).status_code == 200
        refused = reviewer.get(page + "/photos/0")
        assert refused.status_code == 422
        assert b"IMAGE_TOO_MANY_PIXELS" in refused.content and b"169,000,000" in refused.content
        assert reviewer.get(page + "/photos/1").status_code == 200  # the others are shown
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "The review page is part of the studio now" in output
