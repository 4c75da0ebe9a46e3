"""The search index: ASIN lookup, word search (BM25) and photo search (hnswlib, cosine).

Each indexed ASIN has text fields (title, artist, version, and the catalogue's brand and
category) and any number of image vectors (its turntable frames and reference photos). A photo
query finds the nearest vectors and ranks ASINs by their best vector, so one good view of a
product is enough. Replacing an ASIN marks its old vectors deleted (hnswlib reuses their
slots), so the index does not grow with re-publishing.

Persistence, beside the assets::

    search/index/v<N>/claim.json     reserves number N (create-if-absent)
    search/index/v<N>/vectors.hnsw   the hnswlib graph and vectors
    search/index/v<N>/meta.json      embedder, parameters, ASINs with their fields and labels
    search/index/current.json        the pointer to the version to load (written last)

Each save writes a new version; the previous one is kept (a reader holding the old pointer
can still load it), older ones are deleted once the new pointer is written.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import hnswlib
import numpy as np
import numpy.typing as npt

from shazam_assets.platform import layout
from shazam_assets.platform.storage import ObjectStore, read_json, sha256_file
from shazam_assets.search.embed import ByteImage, Embedder
from shazam_assets.search.errors import IndexConflict, SearchError
from shazam_assets.search.shop_catalogue import Catalogue
from shazam_assets.search.text import TextIndex

INDEX_PREFIX = layout.search_index_prefix()
POINTER_KEY = layout.search_pointer_key()
META_SCHEMA = "shazam.search-index/1"
TEXT_FIELDS = ("asin", "title", "artist", "brand", "category")


@dataclass(frozen=True)
class HnswParams:
    """hnswlib graph settings: M links per node, build and query beam widths."""

    m: int = 16
    ef_construction: int = 200
    ef_search: int = 128
    initial_capacity: int = 1024


@dataclass(frozen=True)
class Hit:
    """One search result."""

    asin: str
    score: float  # cosine similarity for photos, BM25 for words, 1.0 for an exact ASIN
    title: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "score": round(self.score, 6),
            "title": self.title,
            "version": self.fields.get("version"),
        }


class Searchable(Protocol):
    """What answers queries: the in-memory index (old stores) or the table."""

    @property
    def version(self) -> int | None: ...

    def __len__(self) -> int: ...

    @property
    def vector_count(self) -> int: ...

    def prepare(self) -> None: ...

    def lookup(self, asin: str) -> Hit | None: ...

    def search_text(self, query: str, k: int = 10) -> list[Hit]: ...

    def search_image(self, rgb: ByteImage, k: int = 10) -> list[Hit]: ...

    def search_vector(self, vector: npt.ArrayLike, k: int = 10) -> list[Hit]: ...


@dataclass(frozen=True)
class SavedIndex:
    """What `SearchIndex.save` wrote."""

    version: int
    prefix: str
    asins: int
    vectors: int
    bytes_written: int
    deleted_versions: tuple[int, ...]


@dataclass
class _Entry:
    fields: dict[str, str]
    labels: list[int]


Vectors = npt.NDArray[np.float32]  # (n, dim)


def checked_vectors(
    asin: str, raw: npt.ArrayLike, *, dim: int, embedder_name: str, forbidden: str = "/"
) -> Vectors:
    """An ASIN's vectors as an (n, dim) float32 array, refused with a code when the ASIN is
    blank, padded or holds a `forbidden` character, or the vectors have another dimension or
    are not finite. Every index backend checks what it stores here."""
    if not asin or asin != asin.strip() or any(c in asin for c in forbidden):
        raise SearchError("SEARCH_BAD_ASIN", f"{asin!r} is not an ASIN")
    vectors = np.asarray(raw, dtype=np.float32)
    vectors = vectors.reshape(0, dim) if vectors.size == 0 else np.atleast_2d(vectors)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise SearchError(
            "SEARCH_DIM_MISMATCH",
            f"{asin}: vectors of shape {vectors.shape}; "
            f"the index holds {dim}-d vectors of {embedder_name}",
        )
    if not np.isfinite(vectors).all():
        raise SearchError("SEARCH_BAD_VECTOR", f"{asin}: vectors contain NaN or infinity")
    return vectors


class SearchIndex:
    """All three searches over the published ASINs; not thread-safe for writers."""

    def __init__(self, embedder: Embedder, *, params: HnswParams = HnswParams()) -> None:
        self.embedder = embedder
        self.embedder_name = embedder.name
        self.dim = embedder.dim
        self.params = params
        self.catalogue: Catalogue = {}
        self._entries: dict[str, _Entry] = {}
        self._label_asin: dict[int, str] = {}
        self._next_label = 0
        self._graph = self._new_graph(params.initial_capacity)
        self._text: TextIndex | None = None
        self.version: int | None = None  # the saved version this was loaded from, if any

    def _new_graph(self, capacity: int) -> hnswlib.Index:
        graph = hnswlib.Index(space="cosine", dim=self.dim)
        graph.init_index(
            max_elements=capacity,
            M=self.params.m,
            ef_construction=self.params.ef_construction,
            allow_replace_deleted=True,
        )
        graph.set_ef(self.params.ef_search)
        return graph

    # ---------------------------------------------------------------- content

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, asin: object) -> bool:
        return asin in self._entries

    @property
    def asins(self) -> list[str]:
        return sorted(self._entries)

    @property
    def vector_count(self) -> int:
        return len(self._label_asin)

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Replace the catalogue words (they count only for indexed ASINs)."""
        self.catalogue = {a: dict(f) for a, f in catalogue.items()}
        self._text = None

    def upsert(self, asin: str, *, fields: Mapping[str, str], vectors: npt.ArrayLike) -> None:
        """Index an ASIN, replacing whatever it had: fields and every vector."""
        self.upsert_many([(asin, fields, vectors)])

    def upsert_many(self, items: Iterable[tuple[str, Mapping[str, str], npt.ArrayLike]]) -> None:
        """Upsert many ASINs with one hnswlib call (multi-threaded), for rebuilds and benchmarks.
        Every item is checked before anything changes; a repeated ASIN keeps its last item."""
        checked = {asin: (fields, self._checked(asin, raw)) for asin, fields, raw in items}
        batch: list[Vectors] = []
        labels: list[int] = []
        for asin, (fields, vectors) in checked.items():
            self.remove(asin)
            own = list(range(self._next_label, self._next_label + len(vectors)))
            self._next_label += len(vectors)
            self._entries[asin] = _Entry({k: str(v) for k, v in fields.items()}, own)
            self._label_asin.update(dict.fromkeys(own, asin))
            batch.append(vectors)
            labels += own
        self._text = None
        if labels:
            self._reserve(len(self._label_asin))
            self._graph.add_items(
                np.concatenate(batch), np.asarray(labels, dtype=np.int64), replace_deleted=True
            )

    def _checked(self, asin: str, raw: npt.ArrayLike) -> Vectors:
        return checked_vectors(asin, raw, dim=self.dim, embedder_name=self.embedder_name)

    def _reserve(self, live: int) -> None:
        """Grow the graph so `live` vectors fit; new vectors take deleted slots first, so the
        slots in use never exceed max(slots used before, live vectors)."""
        capacity = int(self._graph.get_max_elements())
        if live > capacity:
            self._graph.resize_index(max(live, 2 * capacity))

    def remove(self, asin: str) -> bool:
        """Forget an ASIN everywhere; True if it was indexed."""
        entry = self._entries.pop(asin, None)
        if entry is None:
            return False
        for label in entry.labels:
            self._graph.mark_deleted(label)
            del self._label_asin[label]
        self._text = None
        return True

    # ---------------------------------------------------------------- queries

    def _hit(self, asin: str, score: float) -> Hit:
        fields = {**self.catalogue.get(asin, {}), **self._entries[asin].fields}
        return Hit(asin=asin, score=score, title=fields.get("title", ""), fields=fields)

    def lookup(self, asin: str) -> Hit | None:
        """The ASIN itself, when indexed (case and surrounding space forgiven)."""
        key = asin.strip()
        key = key if key in self._entries else key.upper()
        return self._hit(key, 1.0) if key in self._entries else None

    def prepare(self) -> None:
        """Build the word index now rather than on the first word query after a change
        (about a second per 30,000 ASINs); a server calls this after loading."""
        if self._text is None:
            self._text = TextIndex([(a, self._document(a)) for a in sorted(self._entries)])

    def search_text(self, query: str, k: int = 10) -> list[Hit]:
        """ASINs whose title, artist, brand, category or ASIN match the words, best first."""
        self.prepare()
        assert self._text is not None
        return [self._hit(asin, score) for asin, score in self._text.search(query, k)]

    def _document(self, asin: str) -> str:
        fields = {"asin": asin, **self.catalogue.get(asin, {}), **self._entries[asin].fields}
        extra = self.catalogue.get(asin, {}).get("title", "")  # a catalogue title adds its words
        return " ".join([*(fields.get(name, "") for name in TEXT_FIELDS), extra])

    def search_image(self, rgb: ByteImage, k: int = 10) -> list[Hit]:
        """ASINs whose pictures look most like the photo (best view per ASIN), best first."""
        return self.search_vector(self.embedder.embed(rgb), k)

    def search_vector(self, vector: npt.ArrayLike, k: int = 10) -> list[Hit]:
        """Nearest ASINs to a query vector: widen the neighbour search until `k` distinct
        ASINs are found, since one ASIN owns many vectors (36 frames and its photos)."""
        query = self._checked("query", vector)[:1]
        live = len(self._label_asin)
        wanted = min(len(self._entries), k)
        best: dict[str, float] = {}
        n = min(live, max(4 * k, 32))
        while n > 0:  # hnswlib searches with a beam of max(ef, n); ef stays put (thread-safe)
            labels, distances = self._graph.knn_query(query, k=n)
            best = {}
            for label, distance in zip(labels[0], distances[0], strict=True):
                asin = self._label_asin[int(label)]
                best.setdefault(asin, 1.0 - float(distance))  # results come nearest first
            if len(best) >= wanted or n >= live:
                break
            n = min(live, 4 * n)
        ranked = sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:k]
        return [self._hit(asin, score) for asin, score in ranked]

    # ---------------------------------------------------------------- persistence

    def _meta(self) -> dict[str, Any]:
        return {
            "schema": META_SCHEMA,
            "embedder": {"name": self.embedder_name, "dim": self.dim},
            "hnsw": asdict(self.params),
            "capacity": int(self._graph.get_max_elements()),
            "next_label": self._next_label,
            "entries": {
                a: {"fields": e.fields, "labels": e.labels} for a, e in self._entries.items()
            },
            "catalogue": self.catalogue,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def save(self, store: ObjectStore, *, on_top_of_loaded: bool = False) -> SavedIndex:
        """Write a new index version, then the pointer; keep the previous version only.

        With `on_top_of_loaded`, the new version must directly follow the one this index was
        loaded from (optimistic concurrency: per-ASIN updates run in parallel Dagster runs);
        if another writer got there first, SEARCH_INDEX_CONFLICT is raised and nothing is
        written: reload, redo the change, save again (`build.update_asins` does)."""
        number = (
            _claim_after(store, self.version or 0) if on_top_of_loaded else _claim_version(store)
        )
        prefix = layout.search_index_version_prefix(number)
        meta = self._meta()
        with tempfile.TemporaryDirectory(prefix="shazam-search-") as tmp:
            path = Path(tmp) / layout.SEARCH_VECTORS_NAME
            self._graph.save_index(str(path))
            meta["vectors"] = {
                "key": layout.search_index_file_key(number, layout.SEARCH_VECTORS_NAME),
                "size": path.stat().st_size,
                "sha256": sha256_file(path),
            }
            store.put_file(
                layout.search_index_file_key(number, layout.SEARCH_VECTORS_NAME),
                path,
                content_type="application/octet-stream",
            )
        encoded = json.dumps(meta, separators=(",", ":")).encode()
        store.put_bytes(
            layout.search_index_file_key(number, layout.SEARCH_META_NAME),
            encoded,
            content_type="application/json",
        )
        pointer = {
            "version": number,
            "prefix": prefix,
            "embedder": meta["embedder"],
            "asins": len(self._entries),
            "vectors": self.vector_count,
            "saved_at": meta["saved_at"],
        }
        current = read_json(store, POINTER_KEY)
        if current is None or int(current["version"]) < number:  # a later save may have won
            store.put_bytes(
                POINTER_KEY, json.dumps(pointer, indent=2).encode(), content_type="application/json"
            )
        deleted = _delete_versions_before(store, number - 1)
        return SavedIndex(
            version=number,
            prefix=prefix,
            asins=len(self._entries),
            vectors=self.vector_count,
            bytes_written=meta["vectors"]["size"] + len(encoded),
            deleted_versions=deleted,
        )

    @classmethod
    def load(cls, store: ObjectStore, embedder: Embedder) -> SearchIndex:
        """The current saved index, or an empty one when none was saved. Refused with
        SEARCH_EMBEDDER_MISMATCH when it was built with another embedder."""
        pointer = read_json(store, POINTER_KEY)
        if pointer is None:
            return cls(embedder)
        check_embedder(pointer["embedder"], embedder, where=store.uri(POINTER_KEY))
        meta = read_json(store, pointer["prefix"] + layout.SEARCH_META_NAME)
        if meta is None:
            raise SearchError(
                "SEARCH_INDEX_INCOMPLETE",
                f"{store.uri(pointer['prefix'])} has no {layout.SEARCH_META_NAME}",
            )
        index = cls(embedder, params=HnswParams(**meta["hnsw"]))
        index._restore(store, meta)
        index.version = int(pointer["version"])
        return index

    def _restore(self, store: ObjectStore, meta: dict[str, Any]) -> None:
        vectors = meta["vectors"]
        with store.local_copy(vectors["key"]) as path:
            if sha256_file(path) != vectors["sha256"]:
                raise SearchError(
                    "SEARCH_INDEX_CORRUPT", f"{store.uri(vectors['key'])}: checksum mismatch"
                )
            graph = hnswlib.Index(space="cosine", dim=self.dim)
            graph.load_index(
                str(path), max_elements=int(meta["capacity"]), allow_replace_deleted=True
            )
        graph.set_ef(self.params.ef_search)
        self._graph = graph
        self._next_label = int(meta["next_label"])
        self.catalogue = meta.get("catalogue", {})
        for asin, entry in meta["entries"].items():
            self._entries[asin] = _Entry(dict(entry["fields"]), [int(x) for x in entry["labels"]])
            self._label_asin.update(dict.fromkeys(self._entries[asin].labels, asin))


def check_embedder(stored: Mapping[str, Any], embedder: Embedder, *, where: str) -> None:
    if stored.get("name") != embedder.name or int(stored.get("dim", -1)) != embedder.dim:
        raise SearchError(
            "SEARCH_EMBEDDER_MISMATCH",
            f"{where} was built with {stored.get('name')} ({stored.get('dim')}-d); this search "
            f"uses {embedder.name} ({embedder.dim}-d). Rebuild it with `shazam search-index`.",
        )


def saved_versions(store: ObjectStore) -> list[int]:
    """Index versions present in the store, ascending."""
    return sorted(
        {
            number
            for info in store.list(INDEX_PREFIX)
            if (number := layout.parse_search_index_key(info.key)) is not None
        }
    )


def _claim_version(store: ObjectStore) -> int:
    """The next unused version number, reserved with create-if-absent (never reused)."""
    pointer = read_json(store, POINTER_KEY) or {"version": 0}
    number = max([int(pointer["version"]), *saved_versions(store)], default=0) + 1
    claim = json.dumps({"claimed_at": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
    while not store.put_if_absent(
        layout.search_index_file_key(number, layout.SEARCH_CLAIM_NAME), claim
    ):
        number += 1
    return number


CLAIM_STALE_S = 600.0  # a claimed version with no pointer after this long was abandoned


def _claim_after(store: ObjectStore, base: int) -> int:
    """Reserve the version right after `base`, skipping numbers abandoned by crashed writers;
    SEARCH_INDEX_CONFLICT when a live writer holds it or the pointer has moved past `base`."""
    pointer = read_json(store, POINTER_KEY) or {"version": 0}
    number = base + 1
    claim = json.dumps({"claimed_at": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
    while int(pointer["version"]) == base:
        claim_key = layout.search_index_file_key(number, layout.SEARCH_CLAIM_NAME)
        if store.put_if_absent(claim_key, claim):
            return number
        held = read_json(store, claim_key) or {}
        since = datetime.fromisoformat(held.get("claimed_at", datetime.now(UTC).isoformat()))
        if (datetime.now(UTC) - since).total_seconds() < CLAIM_STALE_S:
            break
        number += 1
    raise IndexConflict(
        f"index v{base} was updated by another writer (now v{pointer['version']}); reload and retry"
    )


def _delete_versions_before(store: ObjectStore, keep_from: int) -> tuple[int, ...]:
    """Delete index versions numbered below `keep_from` (the pointer no longer names them)."""
    old = [v for v in saved_versions(store) if v < keep_from]
    for version in old:
        for info in list(store.list(layout.search_index_version_prefix(version))):
            store.delete(info.key)
    return tuple(old)
