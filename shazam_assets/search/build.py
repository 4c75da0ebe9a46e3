"""Fill a search index from what is published in the store.

An ASIN's entry comes from its published version: title, artist and dimensions from the
version manifest's delivery manifest, pictures from its turntable frames (when the turntable
stage rendered it) and its reference photos. An ASIN with nothing published leaves the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.records import VersionManifest
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.platform.versions import published_version
from shazam_assets.search.embed import Embedder, decode_image
from shazam_assets.search.errors import IndexConflict
from shazam_assets.search.index import SavedIndex, Searchable, SearchIndex
from shazam_assets.search.shop_catalogue import (
    Catalogue,
    catalogue_from_frame,
    read_catalogue,
    store_catalogue,
)
from shazam_assets.search.table import Item, TableIndex, table_exists


class Writable(Protocol):
    """What `index_asin` writes to: the in-memory index or the table."""

    def upsert(self, asin: str, *, fields: Mapping[str, str], vectors: npt.ArrayLike) -> None: ...

    def remove(self, asin: str) -> bool: ...


@dataclass(frozen=True)
class Indexed:
    """What `index_asin` did for one ASIN."""

    asin: str
    version: int | None  # None: nothing published, the ASIN was removed
    frames: int
    photos: int


def asin_fields(asin: str, version: int, manifest: VersionManifest) -> dict[str, str]:
    """The words and facts a search result shows, from a version manifest."""
    dims = manifest.product.get("dimensions") or {}
    fields = {
        "title": manifest.title,
        "artist": manifest.artist,
        "version": str(version),
    }
    if dims:
        size = " x ".join(str(dims.get(axis)) for axis in ("width", "height", "depth"))
        fields["dimensions"] = f"{size} {dims.get('unit', 'm')}"
    return {k: v for k, v in fields.items() if v}


def picture_keys(
    store: ObjectStore, asin: str, version: int, manifest: VersionManifest
) -> tuple[list[str], list[str]]:
    """Store keys of the version's turntable frames and of its reference photos."""
    frames: list[str] = []
    spin = platform_versions.read_turntable_manifest(store, asin, version)
    if spin is not None:
        base = layout.render_set_prefix(asin, version, str(spin.set))
        frames = [base + frame.path for frame in spin.frames]
    photos = [layout.version_file_key(asin, version, path) for path in manifest.photo_paths]
    return frames, photos


def index_asin(store: ObjectStore, index: Writable, asin: str, embedder: Embedder) -> Indexed:
    """Bring one ASIN's entry up to date with its published version (or remove it)."""
    version = published_version(store, asin)
    manifest = (
        None if version is None else platform_versions.read_version_manifest(store, asin, version)
    )
    if version is None or manifest is None:
        index.remove(asin)
        return Indexed(asin=asin, version=None, frames=0, photos=0)
    frames, photos = picture_keys(store, asin, version, manifest)
    vectors = np.zeros((len(frames) + len(photos), embedder.dim), dtype=np.float32)  # (n, dim)
    for row, key in enumerate(frames + photos):
        vectors[row] = embedder.embed(decode_image(store.get_bytes(key)))
    index.upsert(asin, fields=asin_fields(asin, version, manifest), vectors=vectors)
    return Indexed(asin=asin, version=version, frames=len(frames), photos=len(photos))


def published_asins(store: ObjectStore) -> Iterator[str]:
    """Every ASIN with a publish pointer, in key order."""
    yield from platform_versions.published_asins(store)


def resolve_catalogue(
    store: ObjectStore, catalogue: Path | pd.DataFrame | Catalogue | None
) -> Catalogue:
    """A catalogue from a file, a table, a ready mapping, or (None) the store's own."""
    if catalogue is None:
        return store_catalogue(store) or {}
    if isinstance(catalogue, Path):
        return read_catalogue(catalogue)
    if isinstance(catalogue, pd.DataFrame):
        return catalogue_from_frame(catalogue)
    return catalogue


def rebuild(
    store: ObjectStore,
    embedder: Embedder,
    catalogue: Path | pd.DataFrame | Catalogue | None = None,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> SearchIndex:
    """A fresh index of every published ASIN (not saved: call `.save(store)`)."""
    index = SearchIndex(embedder)
    index.set_catalogue(resolve_catalogue(store, catalogue))
    for asin in published_asins(store):
        done = index_asin(store, index, asin, embedder)
        log(f"{asin}: v{done.version}, {done.frames} frames, {done.photos} photos")
    return index


def update_asins(
    store: ObjectStore,
    asins: Iterable[str],
    embedder: Embedder,
    *,
    timeout_s: float = 300.0,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[SavedIndex, list[Indexed]]:
    """Bring some ASINs' entries up to date and save a new index version on top of the current
    one. Parallel callers (one Dagster run per ASIN) never lose each other's updates: a save
    that lost the race reloads the newer index, redoes its ASINs and saves again."""
    wanted = list(asins)
    deadline = time.monotonic() + timeout_s
    while True:
        index = SearchIndex.load(store, embedder)
        done = [index_asin(store, index, asin, embedder) for asin in wanted]
        try:
            return index.save(store, on_top_of_loaded=True), done
        except IndexConflict as exc:
            if time.monotonic() > deadline:
                raise
            log(f"{exc.message}; retrying")
            time.sleep(0.5)


class _Collected:
    """Collects `index_asin`'s entries for one table write (the rebuild)."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def upsert(self, asin: str, *, fields: Mapping[str, str], vectors: npt.ArrayLike) -> None:
        self.items.append((asin, fields, vectors))

    def remove(self, asin: str) -> bool:
        return False


def rebuild_table(
    store: ObjectStore,
    embedder: Embedder,
    catalogue: Path | pd.DataFrame | Catalogue | None = None,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> TableIndex:
    """Replace the search table with a fresh one of every published ASIN (the nightly rebuild
    and the migration from a store that only has the old saved index).

    Publishes and unpublishes go on meanwhile and none is lost. The new rows carry the time
    the rebuild started reading the store as their generation, so a run that read its pointer
    later writes a newer generation and wins wherever its rows land. Writes committed to the
    old table after that time are found in its last version (their rows, or a removal's
    tombstone, are of a newer generation) and those ASINs indexed again from their pointers
    once the new table is in place; writes after the overwrite are refused by Lance against
    the old version and go to the new table (`TableIndex._commit`)."""
    started = time.time_ns()
    collected = _Collected()
    for asin in published_asins(store):
        done = index_asin(store, collected, asin, embedder)
        log(f"{asin}: v{done.version}, {done.frames} frames, {done.photos} photos")
    index = TableIndex.create(
        store,
        embedder,
        collected.items,
        catalogue=resolve_catalogue(store, catalogue),
        indexes=False,
        gen=started,
    )
    for asin in index.written_before(index.version - 1, since=started):
        done = index_asin(store, index, asin, embedder)
        log(f"{asin}: written while the rebuild ran; indexed again (v{done.version})")
    index.build_indexes()
    index.clean_up()
    return index


def update_table(
    store: ObjectStore,
    asins: Iterable[str],
    embedder: Embedder,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[TableIndex, list[Indexed]]:
    """Bring some ASINs' entries in the search table up to date: a few small commits each,
    whatever the size of the table; parallel callers never lose each other's updates. A
    store without the table gets one first from everything published (the migration)."""
    wanted = list(asins)
    if not table_exists(store):
        log("no search table yet: building it from every published ASIN")
        index = rebuild_table(store, embedder, log=log)
    else:
        index = TableIndex.open(store, embedder)
    index.catalogue = store_catalogue(store) or {}
    done = [index_asin(store, index, asin, embedder) for asin in wanted]
    return index, done


def open_index(store: ObjectStore, embedder: Embedder) -> Searchable:
    """What searches answer from: the table when there is one, else the old saved index
    (a store not yet rebuilt still works), else an empty index."""
    if table_exists(store):
        return TableIndex.open(store, embedder)
    return SearchIndex.load(store, embedder)


@dataclass(frozen=True)
class Probe:
    """How well image search finds one ASIN: its reference photos, altered so they are not
    the indexed pictures (cropped to 85%, scaled to 80%, 10% darker), as queries."""

    asin: str
    queries: int
    found_in_top_k: int
    k: int

    @property
    def success_rate(self) -> float:
        return self.found_in_top_k / self.queries if self.queries else 1.0


def probe_asin(store: ObjectStore, index: Searchable, asin: str, *, k: int = 5) -> Probe:
    """Search with altered copies of the ASIN's reference photos; count the top-k hits."""
    version = published_version(store, asin)
    manifest = (
        None if version is None else platform_versions.read_version_manifest(store, asin, version)
    )
    if version is None or manifest is None:
        return Probe(asin=asin, queries=0, found_in_top_k=0, k=k)
    _, photos = picture_keys(store, asin, version, manifest)
    found = 0
    for key in photos:
        query = _altered(decode_image(store.get_bytes(key)))
        found += asin in [hit.asin for hit in index.search_image(query, k)]
    return Probe(asin=asin, queries=len(photos), found_in_top_k=found, k=k)


def _altered(rgb: np.ndarray) -> np.ndarray:
    """A shopper's photo of the product rather than the delivered one.  (h, w, 3) uint8"""
    from PIL import Image

    h, w = rgb.shape[:2]
    dy, dx = int(h * 0.075), int(w * 0.075)
    image = Image.fromarray(rgb[dy : h - dy, dx : w - dx])
    image = image.resize((max(1, int(image.width * 0.8)), max(1, int(image.height * 0.8))))
    return (np.asarray(image, dtype=np.float32) * 0.9).astype(np.uint8)
