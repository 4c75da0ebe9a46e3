"""The read-only pages app: what it serves (with the right types), and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from shazam_assets.platform.layout import page_prefix, pages_prefix
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store
from shazam_assets.publish import create_pages_app, publish_product, read_page_manifest
from shazam_assets.publish.server import store_key
from shazam_assets.publish.serving import IMMUTABLE, POINTER, served_as
from tests.publish.conftest import MUG, SPEAKER

BASE = "http://localhost"


@pytest.fixture
def published(pages_store: LocalStore) -> LocalStore:
    publish_product(pages_store, SPEAKER)
    publish_product(pages_store, MUG)
    pages_store.put_bytes("assets/secret.txt", b"not for the web")
    return pages_store


def _client(store: ObjectStore) -> TestClient:
    return TestClient(create_pages_app(store), base_url=BASE, follow_redirects=False)


def test_pages_and_files_are_served_with_their_content_types(published) -> None:
    client = _client(published)
    urls = read_page_manifest(published, SPEAKER)["urls"]
    expected = {
        "/": "text/html; charset=utf-8",
        "/catalog.json": "application/json",
        f"/{SPEAKER}/": "text/html; charset=utf-8",
        f"/{SPEAKER}/manifest.json": "application/json",
        f"/{SPEAKER}/{urls['model']}": "model/gltf-binary",
        f"/{SPEAKER}/{urls['frames'][3]}": "image/webp",
        f"/{SPEAKER}/{urls['video']}": "video/mp4",
    }
    for url, media_type in expected.items():
        response = client.get(url)
        assert (response.status_code, response.headers["content-type"]) == (200, media_type), url
    glb = client.get(f"/{SPEAKER}/{urls['model']}")
    assert glb.content == published.get_bytes(page_prefix(SPEAKER) + urls["model"])
    assert glb.headers["cache-control"] == IMMUTABLE
    for pointer in ("/", "/catalog.json", f"/{SPEAKER}/", f"/{SPEAKER}/manifest.json"):
        assert client.get(pointer).headers["cache-control"] == POINTER
    assert "Bluetooth Speaker" in client.get(f"/{SPEAKER}/").text
    assert client.get("/").headers["content-security-policy"].startswith("default-src 'self'")
    statics = [i.key for i in published.list("published/_static/")]
    js = next(k for k in statics if k.endswith("model-viewer.min.js"))
    wasm = next(k for k in statics if k.endswith(".wasm"))
    assert (
        client.get("/" + js.removeprefix("published/"))
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert (
        client.get("/" + wasm.removeprefix("published/")).headers["content-type"]
        == "application/wasm"
    )
    head = client.head(f"/{SPEAKER}/{urls['model']}")
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(glb.content)


def test_a_product_folder_without_its_slash_redirects(published) -> None:
    response = _client(published).get(f"/{SPEAKER}")
    assert (response.status_code, response.headers["location"]) == (308, f"/{SPEAKER}/")
    assert _client(published).get("/B0NOTHING1").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/published/index.html",  # the app's root is published/ itself
        f"/{SPEAKER}.json",  # QA's approval pointer names the reviewer
        "/assets/secret.txt",
        "/%2e%2e/assets/secret.txt",
        "/_static/..%2f..%2fassets/secret.txt",
        f"/{SPEAKER}/%2e%2e/%2e%2e/assets/secret.txt",
        f"/{SPEAKER}//index.html",
        "/_static/.shazam-tmp-x",
        f"/{SPEAKER}/nothing.webp",
        "/catalog.json/x",
    ],
)
def test_nothing_outside_the_page_tree_is_served(published, url) -> None:
    response = _client(published).get(url)
    assert response.status_code == 404, url
    assert b"not for the web" not in response.content


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("", "published/index.html"),
        ("catalog.json", "published/catalog.json"),
        (f"{SPEAKER}/", f"published/{SPEAKER}/index.html"),
        ("_static/x.js", "published/_static/x.js"),
        ("../assets/x", None),
        (f"{SPEAKER}/../../assets/x", None),
        (f"{SPEAKER}/a\\..\\..\\x", None),
        (f"{SPEAKER}/./index.html", None),
        ("other/index.html", None),
        (f"{MUG}.json", None),
    ],
)
def test_url_paths_map_only_into_the_page_tree(path, key) -> None:
    assert store_key(path) == key


def test_a_url_where_nothing_is_published_gets_the_404_page(published) -> None:
    """What the CDN answers for a missing key (its error page is published/404.html): a page
    that links only to the root, so it works at any depth."""
    client = _client(published)
    for url in (f"/{SPEAKER}/nothing.webp", "/B0NOTHING1/", "/assets/secret.txt"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert 'href="/"' in response.text and "not here" in response.text
    assert client.get("/404.html").status_code == 200
    published.delete("published/404.html")  # a store published before the page existed
    assert client.get("/B0NOTHING1/").text == "Not found."


def test_an_unknown_host_is_refused(published) -> None:
    client = TestClient(create_pages_app(published), base_url="http://evil.example")
    assert client.get("/").status_code == 400


def test_publishing_and_serving_work_on_s3(
    pages_store: LocalStore, s3_store: S3Store, s3_client: Any
) -> None:
    """Server-side copies on S3 (moto over HTTP), then the same app serves the pages. S3 holds
    every published object with the headers the CDN serves it with: the release's files and
    _static/ for a year, the pointers (pages, manifest, catalogue) for half a minute at most,
    exactly as `shazam serve` sends them."""
    for info in pages_store.list():
        with pages_store.open_read(info.key) as stream:
            s3_store.put_stream(info.key, stream)
    result = publish_product(s3_store, SPEAKER)
    manifest = read_page_manifest(s3_store, SPEAKER)
    assert result.changed and manifest is not None
    client = _client(s3_store)
    glb = client.get(f"/{SPEAKER}/{manifest['urls']['model']}")
    assert glb.status_code == 200 and len(glb.content) == manifest["files"][0]["size"]
    assert SPEAKER in client.get("/catalog.json").text
    assert not publish_product(s3_store, SPEAKER).changed

    published = [i.key for i in s3_store.list(pages_prefix())]
    release = [k for k in published if k.startswith(f"{page_prefix(SPEAKER)}{result.release}/")]
    static = [k for k in published if k.startswith("published/_static/")]
    pointers = ["", "catalog.json", "404.html", f"{SPEAKER}/", f"{SPEAKER}/manifest.json"]
    assert len(release) == result.files and static
    assert sorted(published) == sorted([*release, *static, *map(store_key, pointers)])
    for key in published:
        stored = s3_client.head_object(Bucket=s3_store.bucket, Key=key)
        path = key.removeprefix("published/")
        served = client.head("/" + path.removesuffix("index.html"))
        expected = POINTER if key in map(store_key, pointers) else IMMUTABLE
        assert stored["CacheControl"] == served.headers["cache-control"] == expected, key
        assert stored["ContentType"] == served.headers["content-type"], key


@pytest.mark.parametrize(
    ("key", "cache_control"),
    [
        ("published/index.html", POINTER),
        ("published/catalog.json", POINTER),
        ("published/404.html", POINTER),
        (f"published/{SPEAKER}/index.html", POINTER),
        (f"published/{SPEAKER}/manifest.json", POINTER),
        (f"published/{SPEAKER}/r0123456789abcdef/model/chair.glb", IMMUTABLE),
        (f"published/{SPEAKER}/r0123456789abcdef/frames/000.webp", IMMUTABLE),
        ("published/_static/model-viewer-4.0.0/model-viewer.min.js", IMMUTABLE),
        ("published/_static/pages.0123456789.css", IMMUTABLE),
        (f"published/{SPEAKER}/poster.webp", POINTER),  # not in a release: may change in place
        (f"published/{SPEAKER}/r0123/poster.webp", POINTER),  # not a release name
        ("published/NOTANASIN/r0123456789abcdef/x.webp", POINTER),
    ],
)
def test_only_content_named_objects_are_cached_long(key: str, cache_control: str) -> None:
    """A rollback or unpublish rewrites the pointers in place: they must expire within a
    minute; a release folder or a _static file never changes its bytes."""
    assert served_as(key).cache_control == cache_control
