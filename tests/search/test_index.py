"""SearchIndex: lookup, word and photo search, replacing and removing, persistence."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from shazam_assets.platform.storage import LocalStore, ObjectStore
from shazam_assets.search.embed import DescriptorEmbedder
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import POINTER_KEY, SearchIndex, saved_versions
from tests.search.conftest import EMBEDDER

DIM = EMBEDDER.dim
TITLES = {
    "B0TEXT0001": "Ceramic Mug, Cream",
    "B0TEXT0002": "Bookshelf Speaker, Walnut / Charcoal",
    "B0TEXT0003": "Dining Table, Oak",
    "B0TEXT0004": "Dining Chair, Oak / Sage",
}
CATALOGUE = {
    "B0TEXT0001": {"brand": "Kettleby", "category": "Kitchen > Drinkware"},
    "B0TEXT0003": {"brand": "Nordhaus", "category": "Furniture > Tables"},
}


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def index() -> SearchIndex:
    rng = np.random.default_rng(7)
    built = SearchIndex(EMBEDDER)
    built.set_catalogue(CATALOGUE)
    for asin, title in TITLES.items():
        built.upsert(
            asin,
            fields={"title": title, "artist": "Ada Artist", "version": "1"},
            vectors=_unit(rng, 5),
        )
    return built


def _asins(hits) -> list[str]:
    return [h.asin for h in hits]


def test_exact_asin_lookup(index: SearchIndex) -> None:
    hit = index.lookup("B0TEXT0003")
    assert hit is not None and hit.title == "Dining Table, Oak" and hit.score == 1.0
    assert index.lookup(" b0text0003 ") == hit  # case and space forgiven
    assert index.lookup("B0NOTHERE1") is None


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("cream mug", "B0TEXT0001"),
        ("speaker", "B0TEXT0002"),
        ("oak table", "B0TEXT0003"),
        ("chair sage", "B0TEXT0004"),
        ("Nordhaus", "B0TEXT0003"),  # catalogue-only brand
        ("drinkware", "B0TEXT0001"),  # catalogue-only category
        ("kettleby mugs", "B0TEXT0001"),  # plural
        ("spea", "B0TEXT0002"),  # prefix
        ("speakre walnut", "B0TEXT0002"),  # typo
        ("B0TEXT0004", "B0TEXT0004"),  # the ASIN as a word
    ],
)
def test_text_search_ranks_the_right_title_first(
    index: SearchIndex, query: str, first: str
) -> None:
    hits = index.search_text(query, k=3)
    assert hits and hits[0].asin == first, hits
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_text_search_without_a_match_returns_nothing(index: SearchIndex) -> None:
    assert index.search_text("zeppelin", k=5) == []


def test_image_search_returns_the_asin_owning_the_nearest_vector(index: SearchIndex) -> None:
    rng = np.random.default_rng(1)
    target = _unit(rng, 1)
    index.upsert("B0TEXT0009", fields={"title": "Lamp"}, vectors=target)
    noisy = target[0] + 0.05 * _unit(rng, 1)[0]
    hits = index.search_vector(noisy, k=3)
    assert hits[0].asin == "B0TEXT0009" and hits[0].score > 0.9
    assert len(_asins(hits)) == len(set(_asins(hits))) == 3  # one hit per ASIN, best vector wins


def test_upsert_replaces_an_asins_vectors_and_fields(index: SearchIndex) -> None:
    rng = np.random.default_rng(2)
    old, new = _unit(rng, 1), _unit(rng, 1)
    index.upsert("B0TEXT0009", fields={"title": "Old Lamp"}, vectors=old)
    index.upsert("B0TEXT0009", fields={"title": "Brass Lamp"}, vectors=new)
    assert index.vector_count == 4 * 5 + 1
    assert index.search_vector(new[0], k=1)[0].asin == "B0TEXT0009"
    old_hits = {h.asin: h.score for h in index.search_vector(old[0], k=10)}
    assert old_hits.get("B0TEXT0009", 0.0) < 0.5  # the old vector is gone
    assert _asins(index.search_text("brass", k=3)) == ["B0TEXT0009"]
    assert index.search_text("old", k=3) == []


def test_remove_makes_an_asin_vanish_from_all_three_searches(index: SearchIndex) -> None:
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 3)
    index.upsert("B0TEXT0009", fields={"title": "Velvet Sofa"}, vectors=vectors)
    assert index.remove("B0TEXT0009") is True
    assert index.lookup("B0TEXT0009") is None
    assert index.search_text("velvet sofa", k=5) == []
    assert "B0TEXT0009" not in _asins(index.search_vector(vectors[0], k=10))
    assert index.remove("B0TEXT0009") is False


def test_removing_everything_leaves_searches_empty(index: SearchIndex) -> None:
    for asin in list(index.asins):
        index.remove(asin)
    assert index.search_vector(_unit(np.random.default_rng(4), 1)[0], k=5) == []
    assert index.search_text("oak", k=5) == []


def test_vectors_of_another_dimension_are_refused(index: SearchIndex) -> None:
    with pytest.raises(SearchError) as refused:
        index.upsert("B0TEXT0009", fields={"title": "x"}, vectors=np.ones((2, DIM + 1)))
    assert refused.value.code == "SEARCH_DIM_MISMATCH"
    assert "B0TEXT0009" not in index


def test_save_load_round_trip_keeps_one_previous_version(
    store: ObjectStore, index: SearchIndex
) -> None:
    recorded = _Recorder(store)
    first = index.save(recorded)
    rng = np.random.default_rng(5)
    query = _unit(rng, 1)
    index.upsert("B0TEXT0009", fields={"title": "Brass Lamp"}, vectors=query)
    second = index.save(recorded)
    index.remove("B0TEXT0001")
    third = index.save(recorded)
    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert saved_versions(store) == [2, 3]  # the previous version kept, older ones deleted
    puts = [key for op, key in recorded.changes if op == "put"]
    assert puts[-1] == POINTER_KEY  # the pointer is written after the version's files
    assert puts.index("search/index/v3/meta.json") > puts.index("search/index/v3/vectors.hnsw")
    assert json.loads(store.get_bytes(POINTER_KEY))["version"] == 3

    loaded = SearchIndex.load(store, EMBEDDER)
    assert loaded.version == 3 and loaded.asins == index.asins
    assert loaded.search_vector(query[0], k=1)[0].asin == "B0TEXT0009"
    assert loaded.search_text("nordhaus", k=1)[0].asin == "B0TEXT0003"  # catalogue kept
    assert loaded.lookup("B0TEXT0001") is None
    loaded.upsert(
        "B0TEXT0010", fields={"title": "Glass Vase"}, vectors=_unit(rng, 2)
    )  # still writable
    assert loaded.search_text("vase", k=1)[0].asin == "B0TEXT0010"


def test_loading_a_store_without_an_index_gives_an_empty_one(local_store: LocalStore) -> None:
    empty = SearchIndex.load(local_store, EMBEDDER)
    assert len(empty) == 0 and empty.version is None
    assert empty.search_text("anything", k=3) == [] and empty.lookup("B0TEXT0001") is None


def test_an_index_built_by_another_embedder_is_refused(
    local_store: LocalStore, index: SearchIndex
) -> None:
    index.save(local_store)
    other = DescriptorEmbedder(crop_px=96)  # another dimension

    class Renamed(DescriptorEmbedder):
        @property
        def name(self) -> str:
            return "descriptor/2"

    for embedder in (other, Renamed()):
        with pytest.raises(SearchError) as refused:
            SearchIndex.load(local_store, embedder)
        assert refused.value.code == "SEARCH_EMBEDDER_MISMATCH"


class _Recorder(ObjectStore):
    """Passes everything to a store and records the order of writes and deletes."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner, self.url = inner, inner.url
        self.changes: list[tuple[str, str]] = []

    def list(self, prefix: str = "", *, start_after: str | None = None):
        return self.inner.list(prefix, start_after=start_after)

    def head(self, key: str):
        return self.inner.head(key)

    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(key)

    def open_read(self, key: str):
        return self.inner.open_read(key)

    def local_copy(self, key: str):
        return self.inner.local_copy(key)

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None):
        self.changes.append(("put", key))
        return self.inner.put_bytes(key, data, content_type=content_type)

    def put_stream(self, key: str, stream, *, content_type: str | None = None):
        self.changes.append(("put", key))
        return self.inner.put_stream(key, stream, content_type=content_type)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self.changes.append(("put", key))
        return self.inner.put_if_absent(key, data)

    def copy(self, src: str, dst: str):
        self.changes.append(("put", dst))
        return self.inner.copy(src, dst)

    def delete(self, key: str) -> None:
        self.changes.append(("delete", key))
        self.inner.delete(key)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)


def test_a_save_on_top_of_a_stale_index_is_refused_and_changes_nothing(
    local_store: LocalStore, index: SearchIndex
) -> None:
    index.save(local_store)
    first = SearchIndex.load(local_store, EMBEDDER)
    second = SearchIndex.load(local_store, EMBEDDER)
    rng = np.random.default_rng(11)
    first.upsert("B0TEXT0009", fields={"title": "Brass Lamp"}, vectors=_unit(rng, 1))
    assert first.save(local_store, on_top_of_loaded=True).version == 2
    second.upsert("B0TEXT0010", fields={"title": "Glass Vase"}, vectors=_unit(rng, 1))
    with pytest.raises(SearchError) as conflict:
        second.save(local_store, on_top_of_loaded=True)  # would drop the lamp
    assert conflict.value.code == "SEARCH_INDEX_CONFLICT"
    current = SearchIndex.load(local_store, EMBEDDER)
    assert current.version == 2 and "B0TEXT0009" in current and "B0TEXT0010" not in current


def test_parallel_writers_never_lose_an_update(local_store: LocalStore, index: SearchIndex) -> None:
    """Threads standing in for parallel Dagster runs, each adding one ASIN with a retry loop
    like `build.update_asins`: every ASIN ends up in the index."""
    import threading

    index.save(local_store)
    added = [f"B0PARA{i:04d}" for i in range(6)]

    def writer(asin: str, seed: int) -> None:
        while True:
            mine = SearchIndex.load(local_store, EMBEDDER)
            mine.upsert(asin, fields={"title": asin}, vectors=_unit(np.random.default_rng(seed), 1))
            try:
                mine.save(local_store, on_top_of_loaded=True)
                return
            except SearchError as exc:
                assert exc.code == "SEARCH_INDEX_CONFLICT"

    threads = [threading.Thread(target=writer, args=(a, i)) for i, a in enumerate(added)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    final = SearchIndex.load(local_store, EMBEDDER)
    assert set(added) <= set(final.asins) and set(TITLES) <= set(final.asins)
