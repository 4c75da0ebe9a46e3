"""Publishing product pages: the files, their manifest, the write order, re-runs, old
releases, unpublishing and the catalogue, on a store holding real approved versions with
real turntables (see conftest)."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re

import pytest

from shazam_assets.ingest import versions
from shazam_assets.platform import layout
from shazam_assets.platform import viewer as viewer_module
from shazam_assets.platform.layout import catalogue_key, page_key, page_manifest_key, page_prefix
from shazam_assets.platform.storage import LocalStore
from shazam_assets.publish import (
    PublishError,
    catalogue_entries,
    publish_product,
    read_page_manifest,
    sync_product_page,
    unpublish_product,
)
from shazam_assets.qa.decisions import unpublish
from shazam_assets.render.turntable import TurntableSpec, publish_turntable
from tests.publish.conftest import MUG, SPEAKER, RecordingStore

_URL_ATTR = re.compile(r'\b(?:src|href|poster|data-draco|data-basis)="([^"]*)"')


def _sha256(store: LocalStore, key: str) -> str:
    return hashlib.sha256(store.get_bytes(key)).hexdigest()


def _page_keys(store: LocalStore, asin: str) -> set[str]:
    return {i.key for i in store.list(page_prefix(asin))}


def _releases(store: LocalStore, asin: str) -> set[str]:
    prefix = page_prefix(asin)
    return {k[len(prefix) :].split("/")[0] for k in _page_keys(store, asin) if k.count("/") > 2}


def test_publish_writes_a_release_a_manifest_with_checksums_and_the_page(pages_store) -> None:
    result = publish_product(pages_store, SPEAKER)
    assert result.changed and result.version == 1 and result.files == 12
    manifest = read_page_manifest(pages_store, SPEAKER)
    assert manifest is not None and manifest["release"] == result.release
    assert (manifest["asin"], manifest["version"]) == (SPEAKER, 1)
    assert manifest["title"].startswith("Bluetooth Speaker")
    assert set(manifest["dimensions"]) == {"width", "height", "depth", "unit"}
    urls = manifest["urls"]
    assert urls["model"] == f"{result.release}/model/speaker.glb"
    assert len(urls["frames"]) == 8 and urls["sprite"]["columns"] == 3
    listed = {f["path"]: f for f in manifest["files"]}
    named = [urls["model"], urls["poster"], *urls["frames"], urls["sprite"]["url"], urls["video"]]
    assert sorted(named) == sorted(listed)
    prefix = page_prefix(SPEAKER)
    for path, entry in listed.items():  # the copies hold exactly the bytes the manifest claims
        assert _sha256(pages_store, prefix + path) == entry["sha256"]
        assert pages_store.head(prefix + path).size == entry["size"]
    glb = pages_store.get_bytes(prefix + urls["model"])
    assert glb == pages_store.get_bytes(versions.version_prefix(SPEAKER, 1) + "model/speaker.glb")
    page = pages_store.get_bytes(page_key(SPEAKER))
    assert manifest["page"] == {
        "path": "index.html",
        "sha256": hashlib.sha256(page).hexdigest(),
        "size": len(page),
    }
    for entry in manifest["static"]:
        key = posixpath.normpath(prefix + entry["path"])
        assert _sha256(pages_store, key) == entry["sha256"]


def test_the_page_shows_the_model_and_spin_with_structured_data_and_only_local_urls(
    pages_store,
) -> None:
    publish_product(pages_store, SPEAKER)
    manifest = read_page_manifest(pages_store, SPEAKER)
    html = pages_store.get_bytes(page_key(SPEAKER)).decode()
    assert f'<h1 id="product-title">{manifest["title"]}</h1>' in html
    assert f'<model-viewer id="viewer" src="{manifest["urls"]["model"]}"' in html
    urls = [u for u in _URL_ATTR.findall(html) if not u.startswith(("#", "data:"))]
    assert len(urls) >= 9
    for url in urls:  # every URL is relative and names a stored file (or folder)
        assert "://" not in url and not url.startswith("/"), url
        key = posixpath.normpath(page_prefix(SPEAKER) + url)
        found = any(pages_store.list(key + "/")) if url.endswith("/") else pages_store.exists(key)
        assert found, url
    viewer = next(
        k for k in _page_keys(pages_store, "_static") if k.endswith("model-viewer.min.js")
    )
    installed = viewer_module.MODEL_VIEWER_DIR / "dist" / "model-viewer.min.js"
    assert pages_store.get_bytes(viewer) == installed.read_bytes()
    ld = json.loads(
        re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)[1]
    )
    assert ld["@type"] == "3DModel" and ld["name"] == manifest["title"]
    assert ld["encoding"] == [
        {
            "@type": "MediaObject",
            "contentUrl": manifest["urls"]["model"],
            "encodingFormat": "model/gltf-binary",
        }
    ]
    assert ld["image"] == manifest["urls"]["poster"]
    assert (
        ld["width"]["value"] == manifest["dimensions"]["width"] and ld["width"]["unitCode"] == "MTR"
    )


def test_a_title_cannot_break_out_of_the_structured_data(pages_store) -> None:
    key = versions.version_prefix(SPEAKER, 1) + versions.VERSION_MANIFEST
    manifest = json.loads(pages_store.get_bytes(key))
    manifest["delivery_manifest"]["product"]["title"] = "Speaker </script><script>alert(1)</script>"
    pages_store.put_bytes(key, json.dumps(manifest).encode())
    publish_product(pages_store, SPEAKER)
    html = pages_store.get_bytes(page_key(SPEAKER)).decode()
    assert "<script>alert(1)" not in html and html.count("</script>") == 3


def test_index_html_is_written_after_every_file_it_references(pages_store) -> None:
    recording = RecordingStore(pages_store)
    publish_product(recording, SPEAKER)
    writes = [key for op, key in recording.changes if op in ("put", "copy")]
    page_at = writes.index(page_key(SPEAKER))
    before = set(writes[:page_at])
    manifest = read_page_manifest(pages_store, SPEAKER)
    assert {page_prefix(SPEAKER) + f["path"] for f in manifest["files"]} <= before
    assert page_manifest_key(SPEAKER) in before
    assert all(not k.startswith(page_prefix(SPEAKER)) for k in writes[page_at + 1 :])
    assert writes.index(catalogue_key()) > page_at  # the catalogue links the page once it is live


def test_publishing_the_same_release_again_writes_nothing(pages_store) -> None:
    first = publish_product(pages_store, SPEAKER)
    recording = RecordingStore(pages_store)
    again = publish_product(recording, SPEAKER)
    assert recording.changes == []
    assert not again.changed and again.release == first.release and again.copied_bytes == 0
    assert again.catalogue is not None and not again.catalogue.changed


def test_a_new_release_keeps_the_previous_one_and_deletes_older_ones(pages_store) -> None:
    first = publish_product(pages_store, SPEAKER).release
    pages_store.put_bytes(f"{page_prefix(SPEAKER)}r{'0' * 16}/frames/000.webp", b"left by a crash")
    publish_turntable(pages_store, SPEAKER, 1, TurntableSpec(frames=8, size=64))
    second = publish_product(pages_store, SPEAKER)
    assert second.release != first and _releases(pages_store, SPEAKER) == {first, second.release}
    assert [d.release for d in second.deletions] == [f"r{'0' * 16}"]
    publish_turntable(pages_store, SPEAKER, 1, TurntableSpec(frames=9, size=64))
    third = publish_product(pages_store, SPEAKER)
    assert _releases(pages_store, SPEAKER) == {second.release, third.release}
    assert [(d.release, d.files) for d in third.deletions] == [(first, 12)]
    assert third.deletions[0].bytes_reclaimed > 0
    assert len(read_page_manifest(pages_store, SPEAKER)["urls"]["frames"]) == 9


def _drop(key_of):
    return lambda store: store.delete(key_of(store))


def _unlisted_model(store) -> None:
    key = versions.version_prefix(SPEAKER, 1) + versions.VERSION_MANIFEST
    manifest = json.loads(store.get_bytes(key))
    manifest["delivery_manifest"]["files"]["model"] = "model/missing.glb"
    store.put_bytes(key, json.dumps(manifest).encode())


def _first_frame(store) -> str:
    turntable = json.loads(store.get_bytes(layout.turntable_manifest_key(SPEAKER, 1)))
    return f"renders/{SPEAKER}/v1/{turntable['set']}/frames/000.webp"


@pytest.mark.parametrize(
    ("asin", "damage", "code"),
    [
        ("B0PAGE000", None, "PUBLISH_BAD_ASIN"),
        ("B0NOTHING1", None, "PUBLISH_NOT_APPROVED"),
        (
            SPEAKER,
            _drop(lambda s: versions.version_prefix(SPEAKER, 1) + versions.VERSION_MANIFEST),
            "PUBLISH_VERSION_MISSING",
        ),
        (SPEAKER, _unlisted_model, "PUBLISH_NO_MODEL"),
        (
            SPEAKER,
            _drop(lambda s: layout.turntable_manifest_key(SPEAKER, 1)),
            "PUBLISH_NO_TURNTABLE",
        ),
        (SPEAKER, _drop(_first_frame), "PUBLISH_SOURCE_MISSING"),
    ],
)
def test_refusals_have_stable_codes_and_leave_no_page(pages_store, asin, damage, code) -> None:
    if damage is not None:
        damage(pages_store)
    with pytest.raises(PublishError) as refused:
        publish_product(pages_store, asin)
    assert refused.value.code == code
    assert not pages_store.exists(page_key(SPEAKER)) and not pages_store.exists(
        page_manifest_key(SPEAKER)
    )
    assert not pages_store.exists(catalogue_key())


def test_a_missing_model_viewer_is_refused(pages_store, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(viewer_module, "MODEL_VIEWER_DIR", tmp_path / "nothing")
    with pytest.raises(PublishError) as refused:
        publish_product(pages_store, SPEAKER)
    assert refused.value.code == "PUBLISH_VIEWER_MISSING" and not pages_store.exists(
        page_key(SPEAKER)
    )


def test_a_failed_republish_leaves_the_live_page_alone(pages_store) -> None:
    publish_product(pages_store, SPEAKER)
    live = pages_store.get_bytes(page_key(SPEAKER))
    publish_turntable(pages_store, SPEAKER, 1, TurntableSpec(frames=8, size=64))
    pages_store.delete(_first_frame(pages_store))
    with pytest.raises(PublishError, match="PUBLISH_SOURCE_MISSING"):
        publish_product(pages_store, SPEAKER)
    assert pages_store.get_bytes(page_key(SPEAKER)) == live
    manifest = read_page_manifest(pages_store, SPEAKER)
    for entry in manifest["files"]:  # the live page still finds every file it shows
        assert pages_store.exists(page_prefix(SPEAKER) + entry["path"])


def test_unpublish_removes_the_page_first_then_everything_and_the_catalogue_entry(
    pages_store,
) -> None:
    publish_product(pages_store, SPEAKER)
    publish_product(pages_store, MUG)
    assert [e["asin"] for e in catalogue_entries(pages_store)] == [SPEAKER, MUG]
    recording, removed = RecordingStore(pages_store), []
    result = unpublish_product(recording, SPEAKER, on_removed=removed.append)
    deletes = [key for op, key in recording.changes if op == "delete"]
    assert deletes[:2] == [page_key(SPEAKER), page_manifest_key(SPEAKER)]
    assert result.was_live and result.files_deleted == 12 and result.bytes_reclaimed > 0
    assert removed == [SPEAKER] and _page_keys(pages_store, SPEAKER) == set()
    catalogue = json.loads(pages_store.get_bytes(catalogue_key()))
    assert [p["asin"] for p in catalogue["products"]] == [MUG] and result.catalogue.asins == (MUG,)
    assert SPEAKER not in pages_store.get_bytes("published/index.html").decode()
    assert pages_store.exists(
        layout.published_pointer_key(SPEAKER)
    )  # QA's approval pointer is not ours
    assert not unpublish_product(pages_store, SPEAKER).was_live


def test_sync_publishes_the_page_of_the_published_version(pages_store) -> None:
    first = sync_product_page(pages_store, SPEAKER)
    assert first.outcome == "published" and first.version == 1 and first.unpublished is None
    assert first.published is not None and first.published.changed
    assert read_page_manifest(pages_store, SPEAKER)["release"] == first.published.release
    again = sync_product_page(pages_store, SPEAKER)
    assert again.outcome == "published" and again.published is not None
    assert not again.published.changed  # the same release is live: nothing rewritten


def test_sync_takes_the_page_down_once_nothing_is_published(pages_store) -> None:
    sync_product_page(pages_store, SPEAKER)
    sync_product_page(pages_store, MUG)
    unpublish(pages_store, SPEAKER, reason="recalled")
    removed: list[str] = []
    down = sync_product_page(pages_store, SPEAKER, on_removed=removed.append)
    assert down.outcome == "taken_down" and down.version is None and down.published is None
    assert down.unpublished is not None and down.unpublished.files_deleted == 12
    assert removed == [SPEAKER] and _page_keys(pages_store, SPEAKER) == set()
    assert [e["asin"] for e in catalogue_entries(pages_store)] == [MUG]
    assert pages_store.exists(page_key(MUG))  # the other product's page is untouched
    assert sync_product_page(pages_store, SPEAKER).outcome == "nothing"


def test_the_catalogue_lists_every_page_with_title_poster_and_link(pages_store) -> None:
    publish_product(pages_store, MUG)
    publish_product(pages_store, SPEAKER)
    products = json.loads(pages_store.get_bytes(catalogue_key()))["products"]
    assert [p["asin"] for p in products] == [SPEAKER, MUG]  # by title: Bluetooth…, Ceramic…
    for item in products:
        assert item["title"] == read_page_manifest(pages_store, item["asin"])["title"]
        assert pages_store.exists("published/" + item["poster"])
        assert item["url"] == f"{item['asin']}/index.html"
    page = pages_store.get_bytes("published/index.html").decode()
    assert all(f'href="{p["url"]}"' in page and f'src="{p["poster"]}"' in page for p in products)
