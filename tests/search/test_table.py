"""The search table (LanceDB): a publish writes the ASIN's rows only, concurrent writers all
land, readers move to a new version cheaply, and the rebuild and migration work, on a local
folder and on S3 through the moto server."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.platform import layout
from shazam_assets.platform.layout import published_pointer_key
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store
from shazam_assets.search.build import open_index, rebuild, rebuild_table, update_table
from shazam_assets.search.index import SearchIndex
from shazam_assets.search.live import LiveIndex
from shazam_assets.search.table import TABLE, TableIndex, table_exists
from tests.search.conftest import EMBEDDER, MUG, SPEAKER, photo

DIM = EMBEDDER.dim


def _unit(seed: int, n: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _items(n: int, *, start: int = 0) -> list:
    return [(f"B0T{i:07d}", {"title": f"Product {i}"}, _unit(i, 2)) for i in range(start, n)]


def _bytes_under(root: Path) -> int:
    return sum(os.path.getsize(Path(d) / f) for d, _, names in os.walk(root) for f in names)


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")  # type: ignore[no-any-return]


def test_an_upsert_writes_the_same_bytes_whatever_the_table_size(tmp_path: Path) -> None:
    """Publishing one ASIN into 4,000 indexed ASINs writes no more than into 100 (the old
    index wrote a full copy: 40 times more)."""
    written = []
    for n in (100, 4000):
        store = LocalStore(tmp_path / f"n{n}")
        table = TableIndex.create(store, EMBEDDER, _items(n))
        before = _bytes_under(store.root)
        table.upsert("B0T0000042", fields={"title": "Brass Lamp"}, vectors=_unit(99, 3))
        written.append(_bytes_under(store.root) - before)
        assert table.lookup("B0T0000042").title == "Brass Lamp"  # type: ignore[union-attr]
    small, large = written
    assert large < 1.5 * small, written


def test_concurrent_writers_all_land(any_store: ObjectStore) -> None:
    """Threads standing in for parallel Dagster runs, each publishing its own ASINs into the
    same table, plus two writers of one ASIN: every update is there, each ASIN once."""
    TableIndex.create(any_store, EMBEDDER, _items(3))
    added = [f"B0PARA{i:04d}" for i in range(8)]
    errors: list[BaseException] = []

    def writer(asins: list[str], seed: int) -> None:
        try:
            mine = TableIndex.open(any_store, EMBEDDER)
            for asin in asins:
                mine.upsert(asin, fields={"title": asin}, vectors=_unit(seed, 2))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    jobs = [added[i::4] for i in range(4)] + [["B0T0000001"], ["B0T0000001"]]
    threads = [threading.Thread(target=writer, args=(job, i)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    final = TableIndex.open(any_store, EMBEDDER)
    assert final.asins == sorted([*added, "B0T0000000", "B0T0000001", "B0T0000002"])
    assert len(final) == 11 and final.vector_count == 22  # no ASIN twice


def test_a_reader_sees_an_upsert_and_a_delete_after_refresh(any_store: ObjectStore) -> None:
    table = TableIndex.create(any_store, EMBEDDER, _items(5))
    reader = TableIndex.open(any_store, EMBEDDER)
    lamp = _unit(7, 1)
    table.upsert("B0LAMP0001", fields={"title": "Brass Lamp"}, vectors=lamp)
    assert reader.lookup("B0LAMP0001") is None  # a reader keeps its version until it refreshes
    assert reader.refresh() and not reader.refresh()
    assert reader.lookup("B0LAMP0001").title == "Brass Lamp"  # type: ignore[union-attr]
    assert reader.search_text("brass lamp", 1)[0].asin == "B0LAMP0001"
    assert reader.search_vector(lamp[0], 1)[0].asin == "B0LAMP0001"

    assert table.remove("B0LAMP0001") and not table.remove("B0LAMP0001")
    assert reader.refresh()
    assert reader.lookup("B0LAMP0001") is None and reader.search_text("brass lamp") == []
    assert "B0LAMP0001" not in [h.asin for h in reader.search_vector(lamp[0], 5)]


def test_the_live_index_follows_the_table(local_store: LocalStore) -> None:
    TableIndex.create(local_store, EMBEDDER, _items(5))
    live = LiveIndex(local_store, EMBEDDER)
    assert live.refresh() and not live.refresh()
    first = live.loaded
    TableIndex.open(local_store, EMBEDDER).upsert(
        "B0LAMP0001", fields={"title": "Brass Lamp"}, vectors=_unit(7, 1)
    )
    assert live.refresh()
    assert live.loaded is not first and live.loaded.index.lookup("B0LAMP0001") is not None  # type: ignore[union-attr]
    assert first.index.lookup("B0LAMP0001") is None  # type: ignore[union-attr]  # old view intact


def test_rebuild_from_the_publish_pointers_and_migration(
    published_store: LocalStore, search_products
) -> None:
    """A store with only the old saved index keeps serving it; the first publish builds the
    table from every published ASIN; the rebuild drops what is no longer published."""
    rebuild(published_store, EMBEDDER).save(published_store)
    assert isinstance(open_index(published_store, EMBEDDER), SearchIndex)

    _, (done,) = update_table(published_store, [MUG], EMBEDDER)
    assert done.version == 1 and table_exists(published_store)
    served = open_index(published_store, EMBEDDER)
    assert isinstance(served, TableIndex) and served.asins == [SPEAKER, MUG]
    for asin, slug in ((SPEAKER, "speaker"), (MUG, "mug")):
        query = photo(search_products[slug].photos[1], size=144)[8:136, 4:140]
        assert served.search_image(query, k=2)[0].asin == asin

    published_store.delete(published_pointer_key(MUG))
    assert rebuild_table(published_store, EMBEDDER).asins == [SPEAKER]


def test_s3_table_lives_under_the_store_prefix(s3_store: S3Store, s3_client) -> None:
    TableIndex.create(s3_store, EMBEDDER, _items(2))
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_store.bucket)["Contents"]]
    assert keys and all(k.startswith(s3_store.prefix + "search/lance/entries.lance/") for k in keys)


def test_a_table_folder_without_a_committed_version_is_built_again(tmp_path: Path) -> None:
    """A creation that died (or files deleted by hand) leaves the folder without a version:
    the next publish rebuilds the table instead of failing on it."""
    store = LocalStore(tmp_path / "store")
    (store.root / layout.search_table_prefix() / f"{TABLE}.lance" / "_versions").mkdir(parents=True)
    assert not table_exists(store)
    index, done = update_table(store, [], EMBEDDER)
    assert table_exists(store) and len(index) == 0 and done == []
