"""What a search server answers from, kept current off the request path.

A background thread (`Poller`) asks the store every few seconds whether the search table
(`search/lance/`) has a newer version, or, on a store not yet rebuilt into a table, whether the
old index pointer (`search/index/current.json`) has another ETag, and whether the catalogue
(`published/catalog.json`) has. A newer table version costs one manifest read to open (the
vectors stay in the store and are read by queries), plus the word index built from the table's
word column; an old-style index is loaded whole. Either is prepared in that thread, then
swapped in with one reference assignment, so a request sees the old index or the new one, never half of
one, and never waits for a load. A load that fails is logged and counted; the previous index
stays in service and the next poll tries again (the pointer still differs from what was loaded).

Readiness: nothing is served until the first check has succeeded. No pointer at all is a legit
state (nothing has been published yet): the server is then ready with an empty index, and
loads the first one as soon as the pointer appears. A store that cannot be reached or an index
that cannot be loaded at start keeps the server unready until a later poll succeeds.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shazam_assets.platform import layout
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.search.embed import Embedder
from shazam_assets.search.index import POINTER_KEY, Searchable, SearchIndex
from shazam_assets.search.table import TableIndex, table_exists
from shazam_assets.search.telemetry import ServiceMetrics

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 5.0


@dataclass(frozen=True)
class Loaded:
    """One fully loaded, prepared index and where it came from."""

    index: Searchable
    etag: str | None  # the table version or pointer ETag it was read at; None: empty index
    loaded_at: float  # Unix time
    load_s: float  # seconds the load and the word index took


class LiveIndex:
    """The index a server answers from; `refresh()` is one check (the poller calls it)."""

    def __init__(
        self, store: ObjectStore, embedder: Embedder, *, metrics: ServiceMetrics | None = None
    ) -> None:
        self.store, self.embedder, self.metrics = store, embedder, metrics
        self._loaded: Loaded | None = None
        self.failures = 0

    @property
    def loaded(self) -> Loaded | None:
        """The index in service, or None before the first successful check."""
        return self._loaded

    def refresh(self) -> bool:
        """Load the index if the pointer moved since the last load; True if a new one went
        into service. Never raises: a failure is logged, counted and retried next time."""
        try:
            started = time.perf_counter()
            current = self._loaded
            index: Searchable
            if table_exists(self.store):
                # the newest version, its word index carried on from the one in service
                words = (
                    current.index.word_source
                    if current and isinstance(current.index, TableIndex)
                    else None
                )
                table = TableIndex.open(self.store, self.embedder, words=words)
                etag: str | None = f"table-v{table.version}"
                if current is not None and current.etag == etag:
                    return False
                table.prepare()
                index = table
            else:
                info = self.store.head(POINTER_KEY)
                etag = None if info is None else info.etag
                if current is not None and current.etag == etag:
                    return False
                index = _load(self.store, self.embedder, exists=etag is not None)
        except Exception as exc:  # the thread must survive any load failure
            self.failures += 1
            if self.metrics is not None:
                self.metrics.reload_failed()
            log.error(
                "search index reload failed (%s); still serving %s: %s",
                getattr(exc, "code", type(exc).__name__),
                _describe(self._loaded),
                exc,
                exc_info=not hasattr(exc, "code"),
            )
            return False
        loaded = Loaded(index, etag, time.time(), time.perf_counter() - started)
        self._loaded = loaded  # one reference assignment: the swap
        if self.metrics is not None:
            self.metrics.index_loaded(
                loaded.index, loaded_at=loaded.loaded_at, load_s=loaded.load_s
            )
        log.info("search index now %s (loaded in %.2f s)", _describe(loaded), loaded.load_s)
        return True


def _load(store: ObjectStore, embedder: Embedder, *, exists: bool) -> SearchIndex:
    """The saved index (an empty one when none exists), loaded and prepared.

    The cyclic garbage collector is paused meanwhile: the load creates a few objects per ASIN
    that all survive, and each collection it would trigger walks every object of the process
    (the index in service included) while holding the GIL, stalling the requests served
    meanwhile (at 100,000 ASINs the load took 4.0 s with stalls up to 0.68 s, and 2.8 s with
    stalls up to 0.21 s without; refcounting still frees everything else)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        index = SearchIndex.load(store, embedder) if exists else SearchIndex(embedder)
        index.prepare()
    finally:
        if paused:
            gc.enable()
    return index


def _describe(loaded: Loaded | None) -> str:
    if loaded is None:
        return "nothing (not ready)"
    index = loaded.index
    return f"v{index.version or '-'} with {len(index)} ASINs"


@dataclass(frozen=True)
class Document:
    """A small store object served as is: its bytes and ETag."""

    body: bytes
    etag: str


class LiveDocument:
    """A small store object (the catalogue) kept in memory, re-read when its ETag changes;
    `document` is None while the store has none."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self.store, self.key = store, key
        self.document: Document | None = None

    def refresh(self) -> bool:
        try:
            info = self.store.head(self.key)
            if info is None:
                changed, self.document = self.document is not None, None
                return changed
            if self.document is not None and self.document.etag == info.etag:
                return False
            self.document = Document(self.store.get_bytes(self.key), info.etag)
        except Exception as exc:  # keep serving the copy in memory
            log.error("reading %s failed; serving the copy in memory: %s", self.key, exc)
            return False
        return True


def live_catalogue(store: ObjectStore) -> LiveDocument:
    """The published catalogue's data (`published/catalog.json`)."""
    return LiveDocument(store, layout.catalogue_key())


class Poller:
    """A daemon thread calling each `refresh` now and then every `every_s` seconds."""

    def __init__(self, refreshers: Sequence[Callable[[], object]], *, every_s: float) -> None:
        self.refreshers, self.every_s = tuple(refreshers), every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="search-index-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            for refresh in self.refreshers:
                refresh()
            self._stop.wait(self.every_s)
