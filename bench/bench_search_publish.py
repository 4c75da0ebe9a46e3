"""Search publish cost: what one ASIN's publish writes and takes as the catalogue grows.

For each size (default 10,000, 100,000 and 1,000,000 indexed ASINs) a LanceDB search table
(`shazam_assets.search.table`) is filled with synthetic ASINs, one random unit vector each of
the descriptor's dimension (as bench_search.py), titles from the same word lists, and the ASIN
index the nightly rebuild makes. Then 20 publishes of an existing ASIN with 13 vectors (12
turntable frames and a photo, the pipeline's default), each timed, with the bytes it added to
the store folder. The embedding of the pictures is left out: it is the same in both designs.

Baseline, in the same run: the old design (`SearchIndex`: load the whole saved index, upsert,
save a full new version, as `build.update_asins` did) at the sizes up to `--old-max`; beyond
that it would need the whole hnswlib graph built, and the table says so.

At the largest size: the vector index (IVF_FLAT, cosine) is built as the nightly rebuild
does, publishes are measured again (new rows stay outside the index until the next rebuild),
and queries: photo k=10 p50/p99 (1,000 noisy copies of indexed vectors; the source ranked
first; recall@10 against exact search on 100 random queries), ASIN lookup and words.

Quality: the quality set of bench_search.py (`--quality`), indexed in both designs, recall@1
and @5 of each.

Word freshness (`--part words`; part of the default run): how long after a publish its words
are searchable on a reader. A reader (`LiveIndex`, the server's) loads the table; then each of
10 publishes of a new ASIN with a word of its own is followed by the reader's refresh (open the
newest version, bring the word index up to date) and a word query that must rank it first:
timed from the publish's commit to the answer. Measured on a fresh delta and with 1,000 rows
already written since the reader's base. Baseline, same run: the previous reader, which built
the whole word index again for every version (the table's ASIN and word columns read, bm25s
index built, as `TableIndex.prepare` did; skipped when bm25s is not installed), and this
code's full base build (what a background base rebuild costs). Then 100 word queries as in
the queries part.

    .venv/bin/python bench/bench_search_publish.py [--sizes 10000,100000,1000000] [--quality]
        [--part all|scale|words]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_search import _titles, _unit_rows  # noqa: E402

from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_assets.search.embed import DescriptorEmbedder, Embedder  # noqa: E402
from shazam_assets.search.index import SearchIndex  # noqa: E402
from shazam_assets.search.live import LiveIndex  # noqa: E402
from shazam_assets.search.table import TableIndex  # noqa: E402
from shazam_assets.search.text import tokenize  # noqa: E402

PUBLISHES = 20
VECTORS_PER_ASIN = 13
CHUNK = 50_000


def _bytes_under(root: Path) -> int:
    return sum(os.path.getsize(Path(d) / f) for d, _, names in os.walk(root) for f in names)


def _asin(i: int) -> str:
    return f"B{i:09d}"


def _vectors(seed: int, n: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _unit_rows(rng.standard_normal((n, dim), dtype=np.float32))


def _chunks(n: int, dim: int):  # (asin, fields, (1, dim) vector) in chunks of CHUNK
    rng = np.random.default_rng(0)
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        vectors = _unit_rows(rng.standard_normal((count, dim), dtype=np.float32))
        titles = _titles(count, rng)
        yield [(_asin(start + j), titles[j], vectors[j : j + 1]) for j in range(count)]


def fill_table(store: LocalStore, embedder: Embedder, n: int) -> tuple[TableIndex, float]:
    """The table as the rebuild leaves it, less the vector index (built at the largest size)."""
    tick = time.perf_counter()
    table: TableIndex | None = None
    for chunk in _chunks(n, embedder.dim):
        if table is None:
            table = TableIndex.create(store, embedder, chunk, indexes=False, gen=0)
        else:
            table._table.add(table._rows(chunk, {}, gen=0))
    assert table is not None
    table._table.create_scalar_index("asin", index_type="BTREE", replace=True)
    table._table.create_scalar_index("gen", index_type="BTREE", replace=True)
    return table, time.perf_counter() - tick


def publishes(writer, root: Path, n: int, dim: int, *, seed: int) -> tuple[list[float], list[int]]:
    """Time `writer(asin, vectors)` for PUBLISHES existing ASINs; seconds and bytes added."""
    rng = np.random.default_rng(seed)
    seconds, written = [], []
    for k in range(PUBLISHES):
        asin = _asin(int(rng.integers(0, n)))
        vectors = _vectors(seed * 1000 + k, VECTORS_PER_ASIN, dim)
        before = _bytes_under(root)
        tick = time.perf_counter()
        writer(asin, {"title": f"Republished {k}", "version": "2"}, vectors)
        seconds.append(time.perf_counter() - tick)
        written.append(_bytes_under(root) - before)
    return seconds, written


def old_design(embedder: Embedder, n: int, work: Path) -> tuple[list[float], list[int]]:
    """The previous `update_asins`: load the saved index, upsert, save a whole new version.
    Bytes written: the new version's files (the old one is deleted afterwards)."""
    store = LocalStore(work / f"old-{n}")
    index = SearchIndex(embedder)
    for chunk in _chunks(n, embedder.dim):
        index.upsert_many(chunk)
    index.save(store)
    seconds, written = [], []
    rng = np.random.default_rng(5)
    for k in range(5):  # each takes seconds at 100k; five are enough
        vectors = _vectors(7000 + k, VECTORS_PER_ASIN, embedder.dim)
        tick = time.perf_counter()
        mine = SearchIndex.load(store, embedder)
        mine.upsert(_asin(int(rng.integers(0, n))), fields={"title": "x"}, vectors=vectors)
        saved = mine.save(store, on_top_of_loaded=True)
        seconds.append(time.perf_counter() - tick)
        written.append(saved.bytes_written)
    return seconds, written


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:.1f}"


def queries(table: TableIndex, n: int, dim: int) -> list[str]:
    rng = np.random.default_rng(0)
    sources = rng.integers(0, min(n, CHUNK), 1000)  # the first chunk's vectors, regenerated
    first_chunk = _unit_rows(
        np.random.default_rng(0).standard_normal((min(n, CHUNK), dim), dtype=np.float32)
    )
    noise = _unit_rows(rng.standard_normal((1000, dim), dtype=np.float32))
    near = _unit_rows(first_chunk[sources] + 0.75 * noise)
    latencies, first = [], []
    for source, q in zip(sources, near, strict=True):
        tick = time.perf_counter()
        hits = table.search_vector(q, 10)
        latencies.append(time.perf_counter() - tick)
        first.append(hits[0].asin == _asin(int(source)))
    lookups = []
    for i in rng.integers(0, n, 200):
        tick = time.perf_counter()
        assert table.lookup(_asin(int(i))) is not None
        lookups.append(time.perf_counter() - tick)
    tick = time.perf_counter()
    table.prepare()
    text_build = time.perf_counter() - tick
    words = []
    for query in ["oak table", "walnt chair", "Nordhaus lamp", "cream ceramic mug 4711"] * 25:
        tick = time.perf_counter()
        table.search_text(query, 10)
        words.append(time.perf_counter() - tick)
    return [
        f"| photo query k=10, p50 / p99 (1,000 noisy copies of indexed vectors) | "
        f"{_ms(latencies, 50)} / {_ms(latencies, 99)} ms |",
        f"| ... the source ASIN ranked first | {np.mean(first):.3f} |",
        f"| ASIN lookup p50 / p99 (200) | {_ms(lookups, 50)} / {_ms(lookups, 99)} ms |",
        f"| word index build from the table's word column (once per new version) | "
        f"{text_build:.1f} s |",
        f"| word query k=10, p50 / p99 (100) | {_ms(words, 50)} / {_ms(words, 99)} ms |",
    ]


def scale(sizes: list[int], old_max: int, embedder: Embedder, work: Path) -> None:
    dim = embedder.dim
    print(f"### Publish cost per ASIN ({VECTORS_PER_ASIN} vectors of {dim}-d), local store\n")
    print(
        "| indexed ASINs | table fill | table publish p50 / p90 | bytes written per publish "
        "(median) | old design publish p50 | old bytes per publish | time ratio old/new |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    largest: TableIndex | None = None
    for n in sizes:
        store = LocalStore(work / f"table-{n}")
        table, fill_s = fill_table(store, embedder, n)

        def publish(asin, fields, vectors, table=table):
            table.upsert(asin, fields=fields, vectors=vectors)

        seconds, written = publishes(publish, store.root, n, dim, seed=1)
        old = "not measured (above --old-max)"
        old_bytes, ratio = "", ""
        if n <= old_max:
            old_s, old_w = old_design(embedder, n, work)
            old = f"{np.median(old_s):.2f} s"
            old_bytes = f"{np.median(old_w) / 2**20:.1f} MiB"
            ratio = f"{np.median(old_s) / np.median(seconds):.0f}x"
        print(
            f"| {n:,} | {fill_s:.0f} s | {_ms(seconds, 50)} / {_ms(seconds, 90)} ms | "
            f"{np.median(written) / 1024:.1f} KiB | {old} | {old_bytes} | {ratio} |",
            flush=True,
        )
        largest = table
    assert largest is not None
    n = sizes[-1]
    tick = time.perf_counter()
    largest.build_indexes()
    index_s = time.perf_counter() - tick
    rows = [f"| vector index build (IVF_FLAT, the nightly rebuild's) | {index_s:.0f} s |"]
    rows += queries(largest, n, dim)

    def publish(asin, fields, vectors):
        largest.upsert(asin, fields=fields, vectors=vectors)

    seconds, written = publishes(publish, work / f"table-{n}", n, dim, seed=2)
    rows.append(
        f"| publish after the vector index, p50 / p90; bytes (median) | "
        f"{_ms(seconds, 50)} / {_ms(seconds, 90)} ms; {np.median(written) / 1024:.1f} KiB |"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(f"| peak RSS of the benchmark process | {peak:.0f} MiB |")
    print(f"\n### Queries at {n:,} ASINs (LanceDB table, local store)\n")
    print("| measure | value |\n|---|---:|")
    print("\n".join(rows) + "\n", flush=True)


def _old_word_index(store: LocalStore, embedder: Embedder) -> float | None:
    """Seconds the previous reader took per version: read the table's ASIN and word columns,
    index them with bm25s (the previous `TextIndex`)."""
    try:
        import bm25s
    except ImportError:
        return None
    tick = time.perf_counter()
    table = TableIndex.open(store, embedder)._table
    rows = table.search().where("slot = 0").select(["asin", "document"]).limit(None).to_arrow()
    documents = dict(zip(rows["asin"].to_pylist(), rows["document"].to_pylist(), strict=True))
    corpus = [tokenize(text) for _, text in sorted(documents.items())]
    bm25s.BM25().index(corpus, show_progress=False)
    vocab = sorted({token for tokens in corpus for token in tokens})
    heads: dict[str, list[str]] = {}
    for token in vocab:
        heads.setdefault(token[0], []).append(token)
    return time.perf_counter() - tick


def _to_searchable(
    live: LiveIndex, writer: TableIndex, dim: int, tag: str
) -> tuple[list[float], list[float]]:
    """Seconds from each publish's commit to its word ranking first on the refreshed reader,
    and the refresh's share of them."""
    seconds, refresh = [], []
    for k in range(10):
        asin, word = f"BW{tag}{k:05d}", f"zephyr{tag}{k}"
        writer.upsert(asin, fields={"title": f"{word} lamp"}, vectors=_vectors(k, 1, dim))
        tick = time.perf_counter()
        assert live.refresh()
        refresh.append(time.perf_counter() - tick)
        hits = live.loaded.index.search_text(word, 1)  # type: ignore[union-attr]
        seconds.append(time.perf_counter() - tick)
        assert hits and hits[0].asin == asin, (word, hits)
    return seconds, refresh


def words(sizes: list[int], embedder: Embedder, work: Path) -> None:
    dim = embedder.dim
    print("### From a publish to its words being searchable on a refreshed reader\n")
    print(
        "| indexed ASINs | reader start (base word index) | publish to searchable p50 / p90 | "
        "... of which the refresh, p50 | ... with 1,000 rows already since the base | previous "
        "reader: whole word index per version | ratio previous / now (p50) | word query k=10 "
        "p50 / p99 (100) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        store = LocalStore(work / f"words-{n}")
        fill_table(store, embedder, n)
        live = LiveIndex(store, embedder)
        tick = time.perf_counter()
        assert live.refresh()
        start_s = time.perf_counter() - tick
        writer = TableIndex.open(store, embedder)
        fresh, refresh = _to_searchable(live, writer, dim, "a")
        rng = np.random.default_rng(3)
        bulk = [(f"BX{i:08d}", t, _vectors(i, 1, dim)) for i, t in enumerate(_titles(1000, rng))]
        writer.upsert_many(bulk)
        live.refresh()
        loaded, _ = _to_searchable(live, writer, dim, "b")
        index = live.loaded.index  # type: ignore[union-attr]
        assert isinstance(index, TableIndex) and index.word_source.bases_built == 1
        latencies = []
        for query in ["oak table", "walnt chair", "Nordhaus lamp", "cream ceramic mug 4711"] * 25:
            tick = time.perf_counter()
            index.search_text(query, 10)
            latencies.append(time.perf_counter() - tick)
        old = _old_word_index(store, embedder)
        old_text = "not measured (no bm25s)" if old is None else f"{old:.2f} s"
        ratio = "" if old is None else f"{old / np.median(fresh):.0f}x"
        print(
            f"| {n:,} | {start_s:.2f} s | {_ms(fresh, 50)} / {_ms(fresh, 90)} ms | "
            f"{_ms(refresh, 50)} ms | {_ms(loaded, 50)} / {_ms(loaded, 90)} ms | {old_text} | "
            f"{ratio} | {_ms(latencies, 50)} / {_ms(latencies, 99)} ms |",
            flush=True,
        )
    print()


def quality(embedder: Embedder, work: Path) -> None:
    from bench_search import build_products, queries_for

    products = build_products(work / "quality", seeds=(0, 1))
    unseen = build_products(work / "quality", seeds=(2, 3), khronos=False)
    print("### Recall on bench_search.py's quality set, both designs\n")
    print("| products | design | queries | recall@1 | recall@5 |\n|---|---|---:|---:|---:|")
    for label, chosen in (
        ("12 (seeds 0, 1 + Khronos)", products),
        ("10 unseen (seeds 2, 3)", unseen),
    ):
        items = [
            (p.asin, {"title": p.title}, np.stack([embedder.embed(f) for f in p.indexed]))
            for p in chosen
        ]
        memory = SearchIndex(embedder)
        memory.upsert_many(items)
        table = TableIndex.create(LocalStore(work / f"quality-{len(chosen)}"), embedder, items)
        for design, index in (("old (hnswlib)", memory), ("table (LanceDB)", table)):
            r1, r5 = [], []
            for p in chosen:
                for _, rgb in queries_for(p):
                    hits = [h.asin for h in index.search_image(rgb, 5)]
                    r1.append(hits[:1] == [p.asin])
                    r5.append(p.asin in hits)
            print(f"| {label} | {design} | {len(r1)} | {np.mean(r1):.3f} | {np.mean(r5):.3f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--old-max", type=int, default=100_000)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="folder for the stores")
    parser.add_argument("--part", choices=["all", "scale", "words"], default="all")
    args = parser.parse_args()
    embedder = DescriptorEmbedder()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-publish-", dir=args.work) as tmp:
        if args.quality:
            quality(embedder, Path(tmp))
        if args.part in ("all", "words"):
            words(sizes, embedder, Path(tmp))
        if args.part in ("all", "scale"):
            scale(sizes, args.old_max, embedder, Path(tmp))


if __name__ == "__main__":
    main()
