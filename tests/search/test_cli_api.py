"""`shazam search` / `shazam search-index` as a subprocess, and the HTTP API through TestClient."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from shazam_assets.platform.storage import LocalStore
from shazam_assets.search.api import create_search_app
from shazam_assets.search.build import rebuild
from tests.search.conftest import EMBEDDER, MUG, SPEAKER, photo
from tests.test_cli import shazam


@pytest.mark.long
def test_cli_builds_the_index_and_answers_each_query_kind(
    published_store: LocalStore, search_products
) -> None:
    store = published_store.root
    built = shazam("search-index", store=store, check_code=0)
    assert re.search(r"search index v\d+: 2 ASINs, 20 vectors under \S+/search/lance", built.stdout)

    by_asin = json.loads(
        shazam("search", "--asin", MUG, "--json", store=store, check_code=0).stdout
    )
    assert by_asin["results"][0]["asin"] == MUG and by_asin["results"][0]["score"] == 1.0
    assert set(by_asin["results"][0]) >= {"asin", "score", "title"}

    by_text = json.loads(
        shazam("search", "--text", "speakr", "--k", "1", "--json", store=store, check_code=0).stdout
    )
    assert [r["asin"] for r in by_text["results"]] == [SPEAKER]
    assert by_text["results"][0]["title"] == search_products["speaker"].title

    held_out = search_products["mug"].photos[1]
    by_image = json.loads(
        shazam("search", "--image", str(held_out), "--json", store=store, check_code=0).stdout
    )
    scores = [r["score"] for r in by_image["results"]]
    assert by_image["results"][0]["asin"] == MUG and scores == sorted(scores, reverse=True)

    human = shazam("search", "--text", "mug", store=store, check_code=0)
    assert MUG in human.stdout and "1." in human.stdout


@pytest.mark.parametrize("args", [(), ("--asin", MUG, "--text", "mug")])
def test_cli_needs_exactly_one_query_kind(tmp_path: Path, args: tuple[str, ...]) -> None:
    refused = shazam("search", *args, store=tmp_path / "store", check_code=2)
    assert "exactly one of --asin, --text or --image" in refused.stderr


def test_cli_reports_a_missing_photo(tmp_path: Path) -> None:
    refused = shazam(
        "search", "--image", str(tmp_path / "nope.jpg"), store=tmp_path / "store", check_code=2
    )
    assert "no such file" in refused.stderr


def _ready(client: TestClient) -> TestClient:
    """Wait for the app's first index (loaded by its background thread once it starts)."""
    deadline = time.monotonic() + 30
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "no index in service"
        time.sleep(0.05)
    return client


@pytest.fixture
def client(published_store: LocalStore) -> Iterator[TestClient]:
    rebuild(published_store, EMBEDDER).save(published_store)
    app = create_search_app(published_store, EMBEDDER)
    with TestClient(app, base_url="http://localhost") as started:
        yield _ready(started)


def _jpeg(path: Path) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo(path, size=160)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_api_searches_by_asin_words_and_photo(client: TestClient, search_products) -> None:
    assert client.get("/healthz").json() == {
        "ok": True,
        "index_version": 1,
        "asins": 2,
        "vectors": 20,
        "embedder": EMBEDDER.name,
    }
    assert client.get("/search", params={"asin": SPEAKER}).json()["results"][0]["asin"] == SPEAKER
    assert client.get("/search", params={"asin": "B0NOTHERE1"}).json() == {"results": []}
    words = client.get("/search", params={"text": "ceramic mug", "k": 5}).json()["results"]
    assert words[0]["asin"] == MUG and words[0]["title"] == search_products["mug"].title
    image = client.post(
        "/search/image",
        files={"photo": ("q.jpg", _jpeg(search_products["speaker"].photos[1]), "image/jpeg")},
        data={"k": "2"},
    )
    assert image.status_code == 200 and [r["asin"] for r in image.json()["results"]] == [
        SPEAKER,
        MUG,
    ]


def test_api_refuses_bad_queries_with_a_code(client: TestClient) -> None:
    for params in ({}, {"asin": MUG, "text": "mug"}):
        refused = client.get("/search", params=params)
        assert refused.status_code == 400 and refused.json()["detail"]["code"] == "SEARCH_BAD_QUERY"
    junk = client.post("/search/image", files={"photo": ("q.jpg", b"not a jpeg", "image/jpeg")})
    assert junk.status_code == 400 and junk.json()["detail"]["code"] == "SEARCH_BAD_IMAGE"
    assert client.get("/search", params={"text": "mug", "k": 0}).status_code == 422


def test_api_follows_a_new_index_version(published_store: LocalStore, client: TestClient) -> None:
    app = create_search_app(published_store, EMBEDDER, reload_s=0.05)
    with TestClient(app, base_url="http://localhost") as live:
        assert _ready(live).get("/healthz").json()["index_version"] == 1
        index = rebuild(published_store, EMBEDDER)
        index.remove(MUG)
        index.save(published_store)
        deadline = time.monotonic() + 30
        while live.get("/healthz").json()["index_version"] != 2:
            assert time.monotonic() < deadline, "the new index never went into service"
            time.sleep(0.05)
        assert live.get("/search", params={"asin": MUG}).json() == {"results": []}


def test_openapi_lists_the_search_paths(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/search", "/search/image", "/healthz"} <= set(spec["paths"])
    assert "post" in spec["paths"]["/search/image"] and "get" in spec["paths"]["/search"]
