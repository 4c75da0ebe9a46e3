"""`shazam serve` (catalogue, product pages and the search API on one port, as a real server
process) and `shazam unpublish` (page, catalogue entry and search entry taken down)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from shazam_assets import publish
from shazam_assets.platform.storage import LocalStore
from shazam_assets.platform.versions import published_version
from shazam_assets.search.build import rebuild
from tests.search.conftest import EMBEDDER, MUG, SPEAKER
from tests.test_cli import shazam

SHAZAM = str(Path(sys.executable).parent / "shazam")


def _published(store: LocalStore) -> None:
    for asin in (SPEAKER, MUG):
        publish.publish_product(store, asin)
    rebuild(store, EMBEDDER).save(store)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_shows_the_catalogue_pages_and_answers_searches(published_store: LocalStore) -> None:
    _published(published_store)
    port, metrics_port = _free_port(), _free_port()
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=published_store.root.as_uri(),
        DAGSTER_HOME=str(published_store.root.parent / "home"),
    )
    server = subprocess.Popen(
        [SHAZAM, "serve", "--port", str(port), "--metrics-port", str(metrics_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        status, catalogue = _get(base + "/")
        assert status == 200 and SPEAKER in catalogue and MUG in catalogue
        status, page = _get(f"{base}/{SPEAKER}/")
        assert status == 200 and "<model-viewer" in page and '"3DModel"' in page
        status, body = _get(base + "/search?text=mug&k=1")
        assert status == 200 and [r["asin"] for r in json.loads(body)["results"]] == [MUG]
        status, spec = _get(base + "/openapi.json")
        assert status == 200 and {"/search", "/search/image"} <= set(json.loads(spec)["paths"])
        assert _get(base + f"/../assets/{SPEAKER}/")[0] == 404  # nothing outside the pages
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_unpublish_takes_page_catalogue_and_search_entry_down(published_store: LocalStore) -> None:
    _published(published_store)
    store = published_store.root
    done = shazam("unpublish", SPEAKER, "--reason", "product recalled", store=store, check_code=0)
    assert f"unpublished {SPEAKER} v1: page removed" in done.stdout
    assert not published_store.exists(f"published/{SPEAKER}/index.html")
    assert list(published_store.list(f"published/{SPEAKER}/")) == []
    assert SPEAKER not in published_store.get_bytes("published/catalog.json").decode()
    assert published_version(published_store, SPEAKER) is None
    found = json.loads(
        shazam("search", "--asin", SPEAKER, "--json", store=store, check_code=0).stdout
    )
    assert found == {"results": []}
    mug = json.loads(shazam("search", "--asin", MUG, "--json", store=store, check_code=0).stdout)
    assert [r["asin"] for r in mug["results"]] == [MUG]  # the others stay
    status = json.loads(shazam("status", SPEAKER, "--json", store=store, check_code=0).stdout)
    assert status["published_version"] is None and status["versions"][0]["state"] == "approved"

    again = shazam("unpublish", SPEAKER, store=store, check_code=2)
    assert "QA_NOTHING_PUBLISHED" in again.stderr
