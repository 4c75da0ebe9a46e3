"""Search: does a photo find its product, and how does the index behave at 100,000 ASINs?

Quality. The five procedural demo products and (when ../shared/data is there) the Khronos
Mixer and WickerChair are indexed the way the pipeline indexes a published ASIN: 12 turntable
frames at 256 px from the studio renderer plus one reference photo. A second run adds the
demo products in another colourway (seed 1) as look-alike distractors; a third indexes only
the demo products in two colourways not used for tuning (seeds 2 and 3). Queries are pictures
that are NOT in the index:

- the held-out reference photo(s) (demo: front_left; Khronos: rr-1 and rr-2, close-ups);
- those photos cropped, shifted and scaled, colour-jittered, and JPEG-compressed at q=30;
- the CPU renderer (`shazam_assets.qa.raster`) at four other angles and elevations on four
  other backgrounds (other lighting and other shading than the studio frames).

It prints recall@1 and recall@5 per query kind and overall.

Scale. 100,000 synthetic ASINs, one random unit vector each (the descriptor's dimension),
indexed in one `upsert_many`: build time, size on disk after `save`, peak RSS, photo-query
latency p50/p99 at k=10 (recall@10 against exact search on a sample), load time, and word
queries over 100,000 synthetic titles (index build and p50/p99).

The descriptor's block weights were tuned on the first two query sets (seeds 0 and 1); a third
set, the demo products in colourways 2 and 3, checks that the tuning carries over.

    .venv/bin/python bench/bench_search.py [--part quality|scale|all] [--asins 100000]
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_assets.qa import raster as cpu  # noqa: E402
from shazam_assets.render.turntable import TurntableSpec, render_turntable  # noqa: E402
from shazam_assets.search.embed import DescriptorEmbedder, Embedder, decode_image  # noqa: E402
from shazam_assets.search.index import SearchIndex  # noqa: E402
from shazam_demo.products import CATALOG, make_product  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "khronos-3dc"
KHRONOS = ("Mixer", "WickerChair")
SPEC = TurntableSpec(frames=12, size=256, frame_format="png")
RGB = np.ndarray  # (h, w, 3) uint8


@dataclass(frozen=True)
class Product:
    asin: str
    title: str
    indexed: tuple[RGB, ...]  # turntable frames and the indexed photo
    held_out: tuple[RGB, ...]  # reference photos kept out of the index
    model: Path


def _read(path: Path) -> RGB:
    return decode_image(path.read_bytes())


def _turntable(model: Path, out: Path) -> list[RGB]:
    if not (out / "manifest.json").exists():
        render_turntable(model, out, SPEC)
    return [_read(p) for p in sorted((out / "frames").glob("*.png"))]


def build_products(
    work: Path, *, seeds: tuple[int, ...] = (0, 1), khronos: bool = True
) -> list[Product]:
    """Demo products in the colourways of `seeds`, and the Khronos models."""
    products = []
    for seed in seeds:
        for slug in CATALOG:
            made = make_product(slug, out_dir=work / f"demo-{seed}", seed=seed, with_scan=False)
            frames = _turntable(made.model, work / f"tt-{slug}-{seed}")
            photos = {p.stem.removeprefix(f"{slug}_"): _read(p) for p in made.photos}
            products.append(
                Product(
                    f"B0DEMO{slug.upper()[:3]}{seed}",
                    made.title,
                    (*frames, photos["front_right"]),
                    (photos["front_left"],),
                    made.model,
                )
            )
    for name in KHRONOS if khronos else ():
        folder = DATA / name
        if not folder.is_dir():
            continue
        frames = _turntable(folder / f"{name}.glb", work / f"tt-{name}")
        rr = [_read(folder / f"rr-{name}-{i}.png") for i in range(3)]
        products.append(
            Product(
                f"B0KHR{name.upper()[:5]}",
                name,
                (*frames, rr[0]),
                tuple(rr[1:]),
                folder / f"{name}.glb",
            )
        )
    return products


# --------------------------------------------------------------------------- query pictures


def _crop(rgb: RGB) -> RGB:
    h, w = rgb.shape[:2]
    return rgb[int(0.1 * h) : int(0.85 * h), int(0.15 * w) : int(0.9 * w)]


def _shift_scale(rgb: RGB) -> RGB:
    """The picture at 60 % size, off-centre on a canvas of its border colour."""
    h, w = rgb.shape[:2]
    small = np.asarray(
        Image.fromarray(rgb).resize((int(w * 0.6), int(h * 0.6)), Image.Resampling.BILINEAR)
    )
    canvas = np.empty_like(rgb)
    canvas[:] = np.median(np.concatenate([rgb[0], rgb[-1]]), axis=0).astype(np.uint8)
    y, x = int(0.3 * h), int(0.08 * w)
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def _jitter(rgb: RGB) -> RGB:
    image = ImageEnhance.Brightness(Image.fromarray(rgb)).enhance(0.85)
    image = ImageEnhance.Color(image).enhance(1.25)
    return np.asarray(ImageEnhance.Contrast(image).enhance(1.1))


def _jpeg(rgb: RGB) -> RGB:
    buffer = io.BytesIO()
    Image.fromarray(rgb).resize((256, 256)).save(buffer, "JPEG", quality=30)
    return decode_image(buffer.getvalue())


AUGMENT: dict[str, Callable[[RGB], RGB]] = {
    "photo cropped": _crop,
    "photo shifted + scaled": _shift_scale,
    "photo colour-jittered": _jitter,
    "photo JPEG q=30": _jpeg,
}
BACKGROUNDS = ((235, 235, 235), (245, 235, 215), (205, 220, 240), (70, 70, 70))


def queries_for(product: Product) -> list[tuple[str, RGB]]:
    """(kind, picture) pairs, none of them in the index."""
    out = [("held-out photo", p) for p in product.held_out]
    out += [(kind, fn(p)) for kind, fn in AUGMENT.items() for p in product.held_out]
    scene = cpu.load_scene(product.model)
    for i, background in enumerate(BACKGROUNDS):
        view = cpu.View(
            f"q{i}",
            azimuth_deg=45.0 + 90.0 * i + 10.0,
            elevation_deg=(8.0, 30.0)[i % 2],
            fov_deg=32.0,
        )
        out.append(
            (
                "CPU render, other angle + background",
                cpu.render(scene, view, size=224, background=background).rgb,
            )
        )
    return out


# --------------------------------------------------------------------------- quality


def recall_table(
    products: list[Product], embedder: Embedder, queries: dict[str, list[tuple[str, RGB]]]
) -> tuple[list[str], dict[str, float]]:
    """Index the products, run every query; markdown rows and overall recall@1/@5."""
    index = SearchIndex(embedder)
    for p in products:
        index.upsert(
            p.asin,
            fields={"title": p.title},
            vectors=np.stack([embedder.embed(f) for f in p.indexed]),
        )
    stats: dict[str, list[tuple[bool, bool]]] = {}
    for p in products:
        for kind, rgb in queries[p.asin]:
            hits = [h.asin for h in index.search_image(rgb, 5)]
            stats.setdefault(kind, []).append((hits[:1] == [p.asin], p.asin in hits))
    rows = []
    every = [s for values in stats.values() for s in values]
    for kind, values in [*stats.items(), ("**all**", every)]:
        r1 = np.mean([a for a, _ in values])
        r5 = np.mean([b for _, b in values])
        rows.append(f"| {kind} | {len(values)} | {r1:.3f} | {r5:.3f} |")
    return rows, {
        "r1": float(np.mean([a for a, _ in every])),
        "r5": float(np.mean([b for _, b in every])),
    }


def quality(work: Path, embedder: Embedder) -> None:
    started = time.perf_counter()
    products = build_products(work, seeds=(0, 1))
    unseen = build_products(work, seeds=(2, 3), khronos=False)
    queries = {p.asin: queries_for(p) for p in products + unseen}
    print(
        f"built {len(products) + len(unseen)} products, their turntables and queries in "
        f"{time.perf_counter() - started:.0f} s\n"
    )
    base = [p for p in products if not p.asin.endswith("1") or p.asin.startswith("B0KHR")]
    for label, chosen in (
        ("7 products (5 demo + Mixer + WickerChair)", base),
        ("12 products (+ the 5 demo products in another colourway)", products),
        ("10 demo products in two colourways never used to tune the weights", unseen),
    ):
        rows, _ = recall_table(chosen, embedder, queries)
        print(f"### {label}, embedder {embedder.name} ({embedder.dim}-d)\n")
        print("| query | n | recall@1 | recall@5 |\n|---|---:|---:|---:|")
        print("\n".join(rows) + "\n")
    sample = [q for qs in queries.values() for _, q in qs][:50]
    tick = time.perf_counter()
    for q in sample:
        embedder.embed(q)
    print(
        f"embedding: {(time.perf_counter() - tick) / len(sample) * 1000:.1f} ms per query picture "
        f"(256-1024 px)\n"
    )


# --------------------------------------------------------------------------- scale

_WORDS = {
    "colour": [
        "red",
        "blue",
        "green",
        "black",
        "white",
        "grey",
        "oak",
        "walnut",
        "cream",
        "teal",
        "amber",
        "navy",
        "olive",
        "sand",
    ],
    "material": [
        "ceramic",
        "steel",
        "wooden",
        "leather",
        "linen",
        "glass",
        "brass",
        "bamboo",
        "wicker",
        "marble",
        "velvet",
    ],
    "kind": [
        "mug",
        "lamp",
        "table",
        "chair",
        "speaker",
        "mixer",
        "sofa",
        "vase",
        "kettle",
        "stool",
        "shelf",
        "clock",
        "bowl",
        "desk",
        "rug",
    ],
    "brand": [
        "Acme",
        "Nordhaus",
        "Kettleby",
        "Lumio",
        "Oakridge",
        "Vireo",
        "Brightline",
        "Tessel",
        "Corvo",
        "Halden",
    ],
}


def _titles(n: int, rng: np.random.Generator) -> list[dict[str, str]]:
    pick = {k: rng.integers(0, len(v), n) for k, v in _WORDS.items()}
    return [
        {
            "title": f"{_WORDS['colour'][pick['colour'][i]].title()} {_WORDS['material'][pick['material'][i]]} "
            f"{_WORDS['kind'][pick['kind'][i]]} {i}",
            "artist": f"Artist {i % 997}",
            "brand": _WORDS["brand"][pick["brand"][i]],
        }
        for i in range(n)
    ]


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:.2f}"


def scale(n: int, embedder: Embedder) -> None:
    rng = np.random.default_rng(0)
    dim = embedder.dim
    vectors = _unit_rows(rng.standard_normal((n, dim), dtype=np.float32))
    fields = _titles(n, rng)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index = SearchIndex(embedder)
    tick = time.perf_counter()
    index.upsert_many((f"B{i:09d}", fields[i], vectors[i : i + 1]) for i in range(n))
    build_s = time.perf_counter() - tick
    # Like a photo of an indexed product: an indexed vector plus noise (cosine about 0.8).
    sources = rng.integers(0, n, 1000)
    noise = _unit_rows(rng.standard_normal((1000, dim), dtype=np.float32))
    near = _unit_rows(vectors[sources] + 0.75 * noise)
    latencies, first = [], []
    for source, q in zip(sources, near, strict=True):
        tick = time.perf_counter()
        hits = index.search_vector(q, 10)
        latencies.append(time.perf_counter() - tick)
        first.append(hits[0].asin == f"B{source:09d}")
    random_recall = []
    for q in _unit_rows(rng.standard_normal((100, dim), dtype=np.float32)):
        exact = {f"B{j:09d}" for j in np.argsort(-(vectors @ q))[:10]}
        random_recall.append(len({h.asin for h in index.search_vector(q, 10)} & exact) / 10)
    tick = time.perf_counter()
    index.prepare()
    text_build_s = time.perf_counter() - tick
    words = [f"{rng.choice(_WORDS['colour'])} {rng.choice(_WORDS['kind'])}" for _ in range(300)]
    words += ["oak tabl", "walnt chair", "Nordhaus lamp", "cream ceramic mug 4711"] * 25
    text_lat = []
    for query in words:
        tick = time.perf_counter()
        index.search_text(query, 10)
        text_lat.append(time.perf_counter() - tick)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        store = LocalStore(Path(tmp) / "store")
        tick = time.perf_counter()
        saved = index.save(store)
        save_s = time.perf_counter() - tick
        tick = time.perf_counter()
        SearchIndex.load(store, embedder)
        load_s = time.perf_counter() - tick
        disk = sum(info.size for info in store.list(saved.prefix))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"### {n:,} synthetic ASINs, one {dim}-d random unit vector each "
        f"(hnswlib M={index.params.m}, ef_construction={index.params.ef_construction}, "
        f"ef={index.params.ef_search})\n"
    )
    print("| measure | value |\n|---|---:|")
    print(f"| build (upsert_many, hnswlib on all cores) | {build_s:.1f} s |")
    print(f"| index size on disk (vectors.hnsw + meta.json) | {disk / 2**20:.0f} MiB |")
    print(f"| save / load through a local store | {save_s:.1f} s / {load_s:.1f} s |")
    print(f"| peak RSS (process, before building: {rss0:.0f} MiB) | {peak:.0f} MiB |")
    print(
        f"| vector query k=10, p50 / p99 (1,000 noisy copies of indexed vectors) | "
        f"{_ms(latencies, 50)} / {_ms(latencies, 99)} ms |"
    )
    print(f"| ... the source ASIN ranked first | {np.mean(first):.3f} |")
    print(
        f"| recall@10 vs exact search, 100 random queries (no structure: the worst case) | "
        f"{np.mean(random_recall):.3f} |"
    )
    print(f"| word index build (BM25, 100k titles + brands) | {text_build_s:.1f} s |")
    print(
        f"| word query k=10, p50 / p99 ({len(words)} queries, prefixes and typos included) | "
        f"{_ms(text_lat, 50)} / {_ms(text_lat, 99)} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["quality", "scale", "all"], default="all")
    parser.add_argument("--asins", type=int, default=100_000)
    parser.add_argument(
        "--work", type=Path, default=None, help="keep renders here (reused next time)"
    )
    args = parser.parse_args()
    embedder = DescriptorEmbedder()
    if args.part in ("scale", "all"):  # first: its peak RSS must not include the renderers
        scale(args.asins, embedder)
    if args.part in ("quality", "all"):
        if args.work is not None:
            quality(args.work, embedder)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
                quality(Path(tmp), embedder)


if __name__ == "__main__":
    main()
