"""A closed publication list: a .gltf delivery that carries an unlisted web page and its script
(`model/pwn.html` + `model/pwn.js`, see tests.builders.hostile_gltf_delivery) is accepted with a
warning, but no later stage reads, publishes or serves anything the manifest and the model do
not name: renders fetch, the review page serves and publishing copies only the model and the
resources validation read for it. Every published object carries an allow-listed type."""

from __future__ import annotations

import contextlib
import posixpath
import shutil
from pathlib import Path
from typing import BinaryIO

import pytest
from starlette.exceptions import HTTPException
from starlette.testclient import TestClient

from shazam_assets.ingest import versions
from shazam_assets.platform.layout import page_prefix, pages_prefix
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store
from shazam_assets.publish import create_pages_app, publish_product, read_page_manifest
from shazam_assets.qa.review import handlers
from shazam_assets.render.turntable import publish_turntable
from tests.builders import PWN_HTML, PWN_JS, hostile_gltf_delivery, store_delivery
from tests.publish.conftest import CHROMIUM, SMALL, RecordingStore, approve_and_render
from tests.publish.test_pages_browser import MODEL_TIMEOUT_MS, _open, _serving

HOSTILE = "B0PAGE0003"
MODEL_FILES = ("model/lamp.gltf", "model/lamp.bin")
INLINE_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".bin": "application/octet-stream",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}


@pytest.fixture(scope="module")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    store = LocalStore(root / "store")
    version = store_delivery(store, hostile_gltf_delivery(root, asin=HOSTILE), asin=HOSTILE)
    approve_and_render(store, HOSTILE, version)
    return store.root


@pytest.fixture
def hostile_store(hostile_template: Path, tmp_path: Path) -> LocalStore:
    return LocalStore(Path(shutil.copytree(hostile_template, tmp_path / "store")))


class ReadRecordingStore(RecordingStore):
    """Also logs every key read, to prove what a stage fetched."""

    def __init__(self, inner: ObjectStore) -> None:
        super().__init__(inner)
        self.reads: list[str] = []

    def get_bytes(self, key: str) -> bytes:
        self.reads.append(key)
        return self.inner.get_bytes(key)

    def open_read(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        self.reads.append(key)
        return self.inner.open_read(key)

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        self.reads.append(key)
        return self.inner.local_copy(key)


def test_the_version_records_the_model_files_validation_read(hostile_store) -> None:
    manifest = versions.read_version_manifest(hostile_store, HOSTILE, 1)
    assert manifest.model_files() == MODEL_FILES
    stored = {f.path for f in manifest.files}
    assert {"model/pwn.html", "model/pwn.js"} <= stored  # kept, as delivered, but never used


def test_renders_fetch_only_the_model_files(hostile_store) -> None:
    recorder = ReadRecordingStore(hostile_store)
    hostile_store.delete(f"renders/{HOSTILE}/v1/manifest.json")  # force a new render
    publish_turntable(recorder, HOSTILE, 1, SMALL)
    fetched = {k for k in recorder.reads if k.startswith(f"assets/{HOSTILE}/v1/")}
    assert {k.rsplit("/v1/", 1)[1] for k in fetched} - {versions.VERSION_MANIFEST} == set(
        MODEL_FILES
    )


def test_publishing_copies_only_the_model_files_and_serves_nothing_else(hostile_store) -> None:
    publish_product(hostile_store, HOSTILE)
    page = read_page_manifest(hostile_store, HOSTILE)
    release = page["release"]
    models = sorted(f["path"] for f in page["files"] if f["path"].startswith(f"{release}/model/"))
    assert models == sorted(f"{release}/{p}" for p in MODEL_FILES)
    assert [i.key for i in hostile_store.list(pages_prefix()) if "pwn" in i.key] == []
    client = TestClient(create_pages_app(hostile_store), base_url="http://localhost")
    assert client.get(f"/{HOSTILE}/{page['urls']['model']}").status_code == 200
    for name in ("pwn.html", "pwn.js"):
        assert client.get(f"/{HOSTILE}/{release}/model/{name}").status_code == 404


def test_an_uploaded_page_left_in_a_release_is_never_served_as_a_page_or_script(
    hostile_store,
) -> None:
    """What an older SHAZAM published (every file of the model's folder) stays inert: only
    SHAZAM's own pages are text/html, only its own scripts JavaScript."""
    publish_product(hostile_store, HOSTILE)
    release = read_page_manifest(hostile_store, HOSTILE)["release"]
    folder = f"{page_prefix(HOSTILE)}{release}/model/"
    for name in ("pwn.html", "pwn.js", "pwn.svg"):
        hostile_store.put_bytes(folder + name, b"<script>window.PWNED = 1</script>")
    client = TestClient(create_pages_app(hostile_store), base_url="http://localhost")
    for name in ("pwn.html", "pwn.js", "pwn.svg"):
        response = client.get(f"/{HOSTILE}/{release}/model/{name}")
        assert response.headers["content-type"] == "application/octet-stream", name
        assert response.headers["content-disposition"].startswith("attachment"), name
        assert response.headers["x-content-type-options"] == "nosniff"
    policy = client.get(f"/{HOSTILE}/").headers["content-security-policy"]
    assert "script-src 'self'" not in policy and "/_static/" in policy


def test_the_review_page_serves_only_the_model_files(hostile_store) -> None:
    item = handlers.version_or_404(hostile_store, HOSTILE, 1)
    for path in MODEL_FILES:
        assert handlers.model_file(hostile_store, item, path).status_code == 200, path
    for path in ("model/pwn.html", "model/pwn.js"):
        with pytest.raises(HTTPException) as refused:
            handlers.model_file(hostile_store, item, path)
        assert refused.value.status_code == 404, path


def test_published_objects_on_s3_carry_allow_listed_types(hostile_store, s3_store: S3Store) -> None:
    for info in hostile_store.list():
        with hostile_store.open_read(info.key) as stream:
            s3_store.put_stream(info.key, stream)  # no type: what the stores hold before publishing
    publish_product(s3_store, HOSTILE)
    client = s3_store.client
    seen: dict[str, str] = {}
    for info in s3_store.list(pages_prefix()):
        head = client.head_object(Bucket=s3_store.bucket, Key=s3_store.prefix + info.key)
        seen[info.key] = head["ContentType"]
        suffix = posixpath.splitext(info.key)[1].lower()
        if suffix in INLINE_TYPES:
            assert head["ContentType"] == INLINE_TYPES[suffix], info.key
            assert "ContentDisposition" not in head, info.key
    release = read_page_manifest(s3_store, HOSTILE)["release"]
    assert seen[f"{page_prefix(HOSTILE)}index.html"] == "text/html; charset=utf-8"
    assert seen[f"{page_prefix(HOSTILE)}{release}/model/lamp.gltf"] == "model/gltf+json"
    assert seen[f"{page_prefix(HOSTILE)}{release}/model/lamp.bin"] == "application/octet-stream"
    assert not [k for k in seen if "pwn" in k]
    html = [k for k, t in seen.items() if t.startswith("text/html")]
    assert sorted(html) == sorted(
        [
            f"{pages_prefix()}index.html",
            f"{pages_prefix()}404.html",
            f"{page_prefix(HOSTILE)}index.html",
        ]
    )


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_no_uploaded_script_runs_in_the_browser(hostile_store, browser) -> None:
    """The page of the hostile .gltf delivery in headless Chromium: the model loads, the
    uploaded page and script are not published, and even planted in the release (what an older
    SHAZAM published) the page is a download and the script is refused: nothing of them runs."""
    from playwright.sync_api import Error as PlaywrightError

    publish_product(hostile_store, HOSTILE)
    release = read_page_manifest(hostile_store, HOSTILE)["release"]
    folder = f"{page_prefix(HOSTILE)}{release}/model/"
    assert not hostile_store.exists(folder + "pwn.html")
    hostile_store.put_bytes(folder + "pwn.html", PWN_HTML)
    hostile_store.put_bytes(folder + "pwn.js", PWN_JS)
    with _serving(create_pages_app(hostile_store)) as server:
        page = _open(browser, server)
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        page.goto(f"{server}/{HOSTILE}/")
        page.wait_for_function(
            "() => ['loaded', 'error'].includes("
            "document.getElementById('viewer-status').dataset.state)",
            timeout=MODEL_TIMEOUT_MS,
        )
        assert page.locator("#viewer-status").inner_text() == "3D model loaded."
        injected = page.evaluate(
            """src => new Promise(done => {
                const s = document.createElement('script');
                s.src = src;
                s.onload = () => done('ran');
                s.onerror = () => done('refused');
                document.head.appendChild(s);
            })""",
            f"{release}/model/pwn.js",
        )
        assert injected == "refused"
        assert page.evaluate("() => window.PWNED") is None
        with contextlib.suppress(PlaywrightError):  # a download, not a page: goto is aborted
            page.goto(f"{server}/{HOSTILE}/{release}/model/pwn.html")
        page.wait_for_timeout(500)
        assert page.title() != "PWNED"
        assert page.evaluate("() => window.PWNED") is None
    assert not [u for u in seen if "pwned-beacon" in u]
