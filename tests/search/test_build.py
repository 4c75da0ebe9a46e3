"""Indexing what the pipeline published: fields, turntable frames, photos, catalogue, removal."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from shazam_assets.platform.layout import published_pointer_key as published_key
from shazam_assets.platform.storage import LocalStore
from shazam_assets.search.build import index_asin, rebuild
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import SearchIndex
from shazam_assets.search.shop_catalogue import read_catalogue
from tests.search.conftest import EMBEDDER, MUG, SMALL, SPEAKER, UNPUBLISHED, photo


def test_index_asin_reads_the_published_version(
    published_store: LocalStore, search_products
) -> None:
    index = SearchIndex(EMBEDDER)
    done = index_asin(published_store, index, SPEAKER, EMBEDDER)
    assert (done.version, done.frames, done.photos) == (1, SMALL.frames, 2)
    hit = index.lookup(SPEAKER)
    assert hit is not None and hit.title == search_products["speaker"].title
    assert hit.fields["artist"] == "Speaker Maker" and hit.fields["version"] == "1"
    assert index.vector_count == SMALL.frames + 2
    assert index.search_text("speaker maker", k=1)[0].asin == SPEAKER


def test_an_unpublished_asin_is_removed(published_store: LocalStore) -> None:
    index = rebuild(published_store, EMBEDDER)
    assert index.asins == [SPEAKER, MUG]  # the stored but unpublished lamp is not there
    assert index_asin(published_store, index, UNPUBLISHED, EMBEDDER).version is None
    published_store.delete(published_key(MUG))  # unpublished since the last build
    assert index_asin(published_store, index, MUG, EMBEDDER).version is None
    assert index.lookup(MUG) is None and index.asins == [SPEAKER]


def test_rebuilt_index_finds_each_product_by_a_held_out_photo(
    published_store: LocalStore, search_products
) -> None:
    """Queries are new CPU-style renders at another size: the published photos and frames
    are in the index, this picture is not."""
    index = rebuild(published_store, EMBEDDER)
    for asin, slug in ((SPEAKER, "speaker"), (MUG, "mug")):
        query = photo(search_products[slug].photos[1], size=144)[8:136, 4:140]  # rescaled + cropped
        assert index.search_image(query, k=2)[0].asin == asin


def test_rebuild_with_a_catalogue_file_adds_brand_and_category(
    published_store: LocalStore, tmp_path: Path
) -> None:
    csv = tmp_path / "catalogue.csv"
    pd.DataFrame(
        [
            {
                "asin": MUG,
                "title": "Cream Mug 350 ml",
                "brand": "Kettleby",
                "category": "Drinkware",
            },
            {"asin": "B0NOTINDEX", "title": "Ghost", "brand": "Nobody", "category": "None"},
        ]
    ).to_csv(csv, index=False)
    index = rebuild(published_store, EMBEDDER, csv)
    assert index.search_text("kettleby", k=3)[0].asin == MUG
    assert index.search_text("drinkware 350", k=3)[0].asin == MUG
    assert (
        index.search_text("ghost nobody", k=3) == []
    )  # catalogue rows count only for published ASINs
    published_store.put_file(
        "search/catalogue.csv", csv
    )  # the store's own catalogue is the default
    assert rebuild(published_store, EMBEDDER).search_text("kettleby", k=1)[0].asin == MUG


def test_catalogue_parquet_and_bad_catalogues(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,title\nX1,Mug\n")
    with pytest.raises(SearchError) as refused:
        read_catalogue(bad)
    assert refused.value.code == "SEARCH_CATALOGUE_COLUMNS"
    frame = pd.DataFrame({"ASIN": ["B0PARQUET1"], "Brand": ["Lumio"], "category": [None]})
    parquet = tmp_path / "catalogue.parquet"
    if importlib.util.find_spec("pyarrow") is None:
        pytest.skip("pyarrow is not installed: Parquet catalogues are unavailable")
    frame.to_parquet(parquet)
    assert read_catalogue(parquet) == {"B0PARQUET1": {"brand": "Lumio"}}


def test_index_files_land_beside_the_assets(published_store: LocalStore) -> None:
    saved = rebuild(published_store, EMBEDDER).save(published_store)
    pointer = json.loads(published_store.get_bytes("search/index/current.json"))
    assert pointer["version"] == saved.version and pointer["asins"] == 2
    assert pointer["embedder"] == {"name": EMBEDDER.name, "dim": EMBEDDER.dim}
    assert published_store.exists(f"{saved.prefix}vectors.hnsw")
