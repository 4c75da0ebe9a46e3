"""Word search kept current without indexing the catalogue again: a reader's word index is a
base plus the documents written after it, ranked exactly as a fresh index of the live
documents ranks them (prefixes and typos included)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.platform.storage import LocalStore
from shazam_assets.search import table as table_module
from shazam_assets.search.live import LiveIndex
from shazam_assets.search.table import TableIndex
from shazam_assets.search.text import TextIndex, Words, tokenize
from tests.search.conftest import EMBEDDER

COLOURS = ["navy", "cream", "oak", "walnut", "brass", "olive", "amber", "slate"]
KINDS = ["table", "chair", "lamp", "speaker", "mug", "vase", "desk", "shelf", "sofa"]
BRANDS = ["Nordhaus", "Acme", "Lumen", "Fjord"]
QUERIES = [
    "oak table", "walnt chair", "nordhaus lamp", "brass", "spea", "cream mug 17", "lmp",
    "fjord sofa", "shel", "amber vase", "velvet", "B0W0000042", "slate deks",
]  # fmt: skip


def _title(rng: random.Random, i: int) -> str:
    return f"{rng.choice(COLOURS)} {rng.choice(KINDS)} {i} {rng.choice(BRANDS)}"


def _docs(n: int, seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    return {f"B0W{i:07d}": _title(rng, i) for i in range(n)}


def _ranked(hits: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(asin, round(score, 4)) for asin, score in hits]


def test_base_plus_delta_ranks_as_a_fresh_index() -> None:
    """Replaced, removed and new documents over a base: the same hits and scores as an index
    built from scratch over what is live."""
    base_docs = _docs(400)
    rng = random.Random(1)
    live = dict(base_docs)
    delta: dict[str, str] = {}
    for asin in rng.sample(sorted(base_docs), 40):  # republished with other words
        delta[asin] = live[asin] = _title(rng, 900) + " velvet speakers"
    for i in range(20):  # new ASINs
        delta[f"B0N{i:07d}"] = live[f"B0N{i:07d}"] = _title(rng, 1000 + i) + " ottoman"
    removed = rng.sample(sorted(set(base_docs) - set(delta)), 15)
    for asin in removed:
        del live[asin]
    base = TextIndex(sorted(base_docs.items()))
    order = sorted(base_docs)
    dead = [order.index(a) for a in [*delta, *removed] if a in base_docs]
    words = Words(base, TextIndex(sorted(delta.items())), dead)
    fresh = TextIndex(sorted(live.items()))
    assert len(words) == len(live)
    for query in [*QUERIES, "velvet speaker", "ottom", "otoman"]:
        assert _ranked(words.search(query, 10)) == _ranked(fresh.search(query, 10)), query
    assert words.search("ottom", 30)[0][0].startswith("B0N")  # a prefix reaches the delta


@pytest.fixture
def catalogue(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 1, EMBEDDER.dim)).astype(np.float32)
    items = [(a, {"title": t}, vectors[i]) for i, (a, t) in enumerate(_docs(300).items())]
    TableIndex.create(store, EMBEDDER, items)
    return store


def _publish(store: LocalStore, asin: str, title: str) -> None:
    vector = np.random.default_rng(len(asin + title)).normal(size=(1, EMBEDDER.dim))
    TableIndex.open(store, EMBEDDER).upsert(asin, fields={"title": title}, vectors=vector)


def test_a_refresh_adds_a_publish_words_without_indexing_the_catalogue(
    catalogue: LocalStore,
) -> None:
    """The reader's base is built once; publishes, a republish and an unpublish afterwards
    reach its word search through the rows written since, ranked as a fresh reader ranks."""
    reader = TableIndex.open(catalogue, EMBEDDER)
    assert reader.search_text("oak table", 3)
    _publish(catalogue, "B0LAMP0001", "Brass Lamp Quetzal")
    _publish(catalogue, "B0W0000007", "Velvet Ottoman")  # was another title
    TableIndex.open(catalogue, EMBEDDER).remove("B0W0000011")
    assert reader.refresh()
    assert [h.asin for h in reader.search_text("quetzal", 3)] == ["B0LAMP0001"]
    assert [h.asin for h in reader.search_text("otoman", 3)] == ["B0W0000007"]  # typo
    assert reader.lookup("B0W0000011") is None
    fresh = TableIndex.open(catalogue, EMBEDDER)
    for query in [*QUERIES, "brass lamp", "B0W0000011"]:
        mine = [(h.asin, round(h.score, 4)) for h in reader.search_text(query, 10)]
        assert mine == [(h.asin, round(h.score, 4)) for h in fresh.search_text(query, 10)]
        assert "B0W0000011" not in [asin for asin, _ in mine]
    assert reader.word_source.bases_built == 1  # the catalogue's words were indexed once


def test_the_live_index_carries_its_word_base_across_versions(catalogue: LocalStore) -> None:
    live = LiveIndex(catalogue, EMBEDDER)
    assert live.refresh()
    first = live.loaded.index  # type: ignore[union-attr]
    for i in range(3):
        _publish(catalogue, f"B0NEW{i:05d}", f"Zanzibar Chair {i}")
        assert live.refresh()
        hits = live.loaded.index.search_text("zanzibar", 5)  # type: ignore[union-attr]
        assert sorted(h.asin for h in hits) == [f"B0NEW{j:05d}" for j in range(i + 1)]
    served = live.loaded.index  # type: ignore[union-attr]
    assert isinstance(served, TableIndex) and served.word_source is first.word_source
    assert served.word_source.bases_built == 1
    assert first.search_text("zanzibar", 5) == []  # the old version answers as it was


def test_a_large_delta_rebuilds_the_base_in_the_background(
    catalogue: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "DELTA_REBUILD_MIN", 4)
    reader = TableIndex.open(catalogue, EMBEDDER)
    reader.prepare()
    writer = TableIndex.open(catalogue, EMBEDDER)
    for i in range(8):  # above 2% of 300
        writer.upsert(f"B0NEW{i:05d}", fields={"title": f"Zanzibar Desk {i}"}, vectors=[])
    assert reader.refresh()
    assert len(reader.search_text("zanzibar", 10)) == 8  # served while the base is rebuilt
    reader.word_source.wait(60)
    assert reader.word_source.bases_built == 2
    writer.upsert("B0NEW99999", fields={"title": "Zanzibar Shelf"}, vectors=[])
    assert reader.refresh()
    assert len(reader.search_text("zanzibar", 10)) == 9
    fresh = TableIndex.open(catalogue, EMBEDDER)
    for query in QUERIES:
        assert [h.asin for h in reader.search_text(query, 10)] == [
            h.asin for h in fresh.search_text(query, 10)
        ]


def test_a_table_replaced_by_the_rebuild_gets_a_new_base(catalogue: LocalStore) -> None:
    """Every row of the rebuilt table is new; the reader indexes them again at its next
    refresh (the rows' generation is when the rebuild started, older than what it read)."""
    reader = TableIndex.open(catalogue, EMBEDDER)
    reader.prepare()
    items = [(a, {"title": f"Quokka {t}"}, []) for a, t in sorted(_docs(50, seed=3).items())]
    TableIndex.create(catalogue, EMBEDDER, items, gen=1)
    assert reader.refresh()
    assert len(reader.search_text("quokka", 100)) == 50
    assert reader.search_text("oak table", 3) == [] or all(
        "Quokka" in h.title for h in reader.search_text("oak table", 3)
    )
    assert reader.word_source.bases_built == 2


def test_rows_that_commit_late_are_written_again_under_a_newer_generation(
    catalogue: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's cursor trusts that rows commit within a window of their generation; a write
    slower than that appends again, and the ASIN keeps one generation, searchable."""
    reader = TableIndex.open(catalogue, EMBEDDER)
    reader.prepare()
    monkeypatch.setattr(table_module, "COMMIT_WINDOW_NS", -1)  # every commit counts as late
    writer = TableIndex.open(catalogue, EMBEDDER)
    versions = writer.version
    writer.upsert("B0SLOW0001", fields={"title": "Tardy Teapot"}, vectors=[])
    assert writer.version >= versions + 4  # three appends, then one clean-up
    rows = writer._table.search().where("asin = 'B0SLOW0001'").select(["gen"]).to_list()
    assert len(rows) == 1
    assert reader.refresh() and [h.asin for h in reader.search_text("tardy", 3)] == ["B0SLOW0001"]


def test_scores_are_bm25s_scores_for_exact_words() -> None:
    """The word index's BM25 is held to bm25s (the library it replaced, which cannot add a
    document to an index): the same scores for every document, on a corpus with repeated,
    rare and shared words of varied lengths."""
    import bm25s

    rng = np.random.default_rng(15)
    vocabulary = [f"w{i:03d}x" for i in range(300)]
    docs = [
        (f"B{i:09d}", " ".join(rng.choice(vocabulary, size=rng.integers(1, 12))))
        for i in range(400)
    ]
    ours = TextIndex(docs)
    corpus = [tokenize(text) for _, text in docs]
    reference = bm25s.BM25()  # k1 = 1.5, b = 0.75, Lucene's idf: what the module says it uses
    reference.index(corpus, show_progress=False)
    # (a word repeated in a query counts once here; bm25s would count it twice)
    for query in [*vocabulary[:40], "w001x w002x", "w010x w011x w200x", "w299x w000x w150x"]:
        expected = reference.get_scores(tokenize(query))
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)
