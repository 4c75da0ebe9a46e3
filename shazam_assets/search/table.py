"""The search index as a LanceDB table: a publish writes one ASIN's rows, not the whole index.

One Lance dataset (`search/lance/entries.lance/` beside the assets, on local disk or on S3)
holds one row per picture vector of every indexed ASIN, and one row without a vector for an
ASIN with no pictures. Every row carries the ASIN's result fields (catalogue words merged in)
so a hit needs no second read; the row with `slot = 0` also carries the words the BM25
full-text index covers.

Why this shape (issue 15): every write is a Lance commit of a small new fragment plus a
deletion file, so a publish costs the same at 10,000 and 1,000,000 ASINs; Lance commits with
create-if-absent manifests (conditional puts on S3), so concurrent writers rebase onto each
other instead of overwriting; a reader moves to the newest version with `refresh()`, which
reads one manifest, not the index. Vectors and words not yet covered by an index are searched
exhaustively next to the indexed ones until the nightly rebuild (or `optimize`) folds them in.

Word search stays the module `text`'s BM25 (its tokeniser, completions at 0.6 and close
spellings at 0.5 of an exact word) rather than Lance's full-text index: Lance's index has its
own tokeniser and fuzzy matching and would rank differently. A reader builds the word index
of the whole catalogue once and then adds only the rows written after it (`WordSource`), so a
publish's words are searchable after the next refresh at a cost that does not grow with the
catalogue; the base is rebuilt in a background thread when the delta grows large.

An upsert appends the ASIN's new rows under a new generation (`gen`, nanoseconds) and then
deletes its rows of older generations. A reader between the two commits sees both (queries keep
one hit per ASIN), never none; writers of the same ASIN racing each other leave the newest
generation only (the one whose append commits last cleans up after all of them). A removal
does the same with a tombstone row (`slot = -1`, no words, no vector), so readers learn of it
from the rows written since they last looked. A write that Lance refuses because the table was
replaced under it (the nightly rebuild's overwrite) is made again on the newest version.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store
from shazam_assets.search.embed import ByteImage, Embedder
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import TEXT_FIELDS, Hit, Vectors, check_embedder, checked_vectors
from shazam_assets.search.shop_catalogue import Catalogue
from shazam_assets.search.text import TextIndex, Words

TABLE = "entries"
TOMBSTONE_SLOT = -1  # the row a removal leaves (see `TableIndex.remove`)
VECTOR_INDEX_MIN_ROWS = 50_000  # below this an exhaustive scan is fast and exact
KEEP_VERSIONS_FOR = timedelta(hours=1)  # readers refresh every few seconds
VECTORS_PER_PARTITION = 4096  # IVF list size: a query probes 20 lists (about 80,000 vectors)
COMMIT_WINDOW_NS = 60 * 10**9  # a write whose rows commit later than this after `gen` redoes
READ_WINDOW_NS = COMMIT_WINDOW_NS + 60 * 10**9  # ... plus the clocks' disagreement
_COMMIT_TRIES = 10
DELTA_REBUILD_MIN, DELTA_REBUILD_FRACTION = 2_000, 0.02  # the word base is rebuilt beyond this
Item = tuple[str, Mapping[str, str], npt.ArrayLike]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableLocation:
    """Where LanceDB finds the table: a local folder or an S3 URI with its options."""

    uri: str
    storage_options: dict[str, str]


def table_location(store: ObjectStore) -> TableLocation:
    """The LanceDB location of the store's search table (`search/lance/` in the store)."""
    prefix = layout.search_table_prefix()
    if isinstance(store, LocalStore):
        return TableLocation(str(store.root / prefix), {})
    if isinstance(store, S3Store):
        return TableLocation(f"s3://{store.bucket}/{store.prefix}{prefix}", _s3_options(store))
    raise SearchError("SEARCH_STORE_UNSUPPORTED", f"{store!r}: no LanceDB location for this store")


def _s3_options(store: S3Store) -> dict[str, str]:
    """The store's own S3 endpoint, region and credentials, handed to Lance's object store."""
    client = store.client
    options = {"aws_region": client.meta.region_name or "us-east-1"}
    endpoint = client.meta.endpoint_url
    if endpoint and not endpoint.startswith("https://s3."):
        options["aws_endpoint"] = endpoint
        options["allow_http"] = str(endpoint.startswith("http://")).lower()
    credentials = client._request_signer._credentials  # boto3 has no public getter
    # Expiring credentials (IRSA, instance roles) are left to Lance's own AWS chain, which
    # refreshes them; fixed ones (given explicitly, as for moto) are handed over.
    if credentials is not None and not hasattr(credentials, "refresh_needed"):
        frozen = credentials.get_frozen_credentials()
        options["aws_access_key_id"] = frozen.access_key
        options["aws_secret_access_key"] = frozen.secret_key
        if frozen.token:
            options["aws_session_token"] = frozen.token
    return options


def _connect(store: ObjectStore) -> Any:
    import lancedb  # 1-2 s to import: only where the table is used, not in every run launch

    where = table_location(store)
    return lancedb.connect(where.uri, storage_options=where.storage_options or None)


def table_exists(store: ObjectStore) -> bool:
    """True once a rebuild (or a first publish) created the table. A folder holding no
    committed version (a creation that died, files deleted by hand) is no table: the next
    publish or rebuild makes it again (`create` overwrites) instead of failing on it."""
    db = _connect(store)
    if TABLE not in db.table_names():
        return False
    try:
        db.open_table(TABLE)
    except ValueError:  # lancedb: "Table 'entries' was not found"
        return False
    return True


def _conflict(exc: RuntimeError) -> bool:
    """Lance refused a commit because another one it cannot rebase onto came first."""
    return any(m in str(exc) for m in ("Incompatible transaction", "Retryable commit conflict"))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class TableIndex:
    """Lookup, word and photo search over the LanceDB table; the same queries and hits as
    `SearchIndex`, with writes that go straight to the store."""

    def __init__(
        self, store: ObjectStore, embedder: Embedder, table: Any, *, words: WordSource | None = None
    ) -> None:
        self.store, self.embedder, self._table = store, embedder, table
        self.embedder_name, self.dim = embedder.name, embedder.dim
        self.word_source = words or WordSource(store)
        self._text: Words | None = None
        self.catalogue: Catalogue = {}  # merged into the entries written by `upsert`

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(
        cls, store: ObjectStore, embedder: Embedder, *, words: WordSource | None = None
    ) -> TableIndex:
        """The store's table; SEARCH_INDEX_MISSING when none was created yet. `words`: the
        word index of a previous version of the same table (a reader's), brought up to date
        by `prepare` from the rows written since instead of built again."""
        db = _connect(store)
        if TABLE not in db.table_names():
            raise SearchError(
                "SEARCH_INDEX_MISSING",
                f"{table_location(store).uri} has no search table; run `shazam search-index`",
            )
        table = db.open_table(TABLE)
        meta = table.schema.metadata or {}
        stored = json.loads(meta.get(b"shazam.embedder", b"{}"))
        check_embedder(stored, embedder, where=table_location(store).uri)
        return cls(store, embedder, table, words=words)

    @classmethod
    def create(
        cls,
        store: ObjectStore,
        embedder: Embedder,
        items: Iterable[Item],
        *,
        catalogue: Catalogue | None = None,
        indexes: bool = True,
        gen: int | None = None,
    ) -> TableIndex:
        """A new table holding exactly `items` (replacing any table there): the rebuild.
        `indexes=False` leaves `build_indexes` to the caller (after more rows are added);
        `gen`: the rows' generation (default now; the rebuild gives the time it started
        reading, so a publish that read the store after it wins over its rows)."""
        made = time.time_ns()
        schema = _schema(embedder, made=made)
        index = cls(store, embedder, None)
        rows = index._rows(items, catalogue or {}, gen=made if gen is None else gen)
        db = _connect(store)
        index._table = db.create_table(TABLE, rows, schema=schema, mode="overwrite")
        index.catalogue = dict(catalogue or {})
        if indexes:
            index.build_indexes()
            index.clean_up()
        return index

    def build_indexes(self) -> None:
        """(Re)build the ASIN, generation and (for a large table) vector indexes over every
        row. A concurrent publish can preempt an index's commit: it is built again on the
        newest version."""
        if self._table.count_rows() == 0:
            return
        self._commit(
            lambda: self._table.create_scalar_index("asin", index_type="BTREE", replace=True)
        )
        # readers find the rows written after their word index by generation
        self._commit(
            lambda: self._table.create_scalar_index("gen", index_type="BTREE", replace=True)
        )
        vectors = self._table.count_rows("has_vector")
        if vectors >= VECTOR_INDEX_MIN_ROWS:  # IVF_FLAT: exact distances in the probed lists
            self._commit(
                lambda: self._table.create_index(
                    metric="cosine",
                    vector_column_name="vector",
                    index_type="IVF_FLAT",
                    num_partitions=max(16, vectors // VECTORS_PER_PARTITION),
                    max_iterations=10,
                    replace=True,
                )
            )

    def clean_up(self, *, older_than: timedelta = KEEP_VERSIONS_FOR) -> None:
        """Compact small fragments, fold new rows into the indexes, and delete the files only
        versions older than `older_than` use (a reader still on one of those reloads)."""
        self._commit(lambda: self._table.optimize(cleanup_older_than=older_than))

    def written_before(self, version: int, *, since: int) -> list[str]:
        """ASINs that have rows (or a tombstone) of a generation newer than `since` in
        `version` of the table: what writers committed to the table the rebuild replaced
        after it started reading the store."""
        if version < 1:
            return []
        old = _connect(self.store).open_table(TABLE)
        old.checkout(version)
        rows = old.search().where(f"gen > {since}").select(["asin"]).limit(None).to_arrow()
        return sorted(set(rows["asin"].to_pylist()))

    def _commit(self, write: Callable[[], object]) -> None:
        """One write; when the table was replaced (the rebuild's overwrite) or rewritten
        under it since this handle's version, Lance refuses it (`Incompatible transaction`):
        move to the newest version and write again there, so no writer's update is left on
        a table nobody reads any more."""
        for attempt in range(_COMMIT_TRIES):
            try:
                write()
                return
            except RuntimeError as exc:  # lance raises its commit conflicts as RuntimeError
                if attempt + 1 == _COMMIT_TRIES or not _conflict(exc):
                    raise
                log.info("search table changed under this write (%s); writing again", exc)
                time.sleep(0.05 * (attempt + 1))
                self._table.checkout_latest()

    def refresh(self) -> bool:
        """Move to the newest committed version (reads its manifest only); True if it moved."""
        before = self._table.version
        self._table.checkout_latest()
        moved = bool(self._table.version != before)
        self._text = None if moved else self._text
        return moved

    @property
    def version(self) -> int:
        return int(self._table.version)

    def prepare(self) -> None:
        """Make the word index of this version now rather than on the first word query: the
        shared base plus the rows written after it (see `WordSource`); a server calls this in
        its background thread after `refresh`."""
        if self._text is None:
            self._text = self.word_source.words_at(self._table)

    # ---------------------------------------------------------------- writing

    def upsert(
        self,
        asin: str,
        *,
        fields: Mapping[str, str],
        vectors: npt.ArrayLike,
        catalogue: Catalogue | None = None,
    ) -> None:
        """Index an ASIN, replacing whatever it had: two small commits (append, then delete
        the older generations), whatever the size of the table."""
        self.upsert_many([(asin, fields, vectors)], catalogue=catalogue)

    def upsert_many(self, items: Iterable[Item], *, catalogue: Catalogue | None = None) -> None:
        items = list(items)
        chosen = self.catalogue if catalogue is None else catalogue
        fresh = not self._table.list_indices()
        rows = self._append(lambda gen: self._rows(items, chosen, gen=gen))
        if rows.num_rows == 0:
            return
        self._drop_older_generations(sorted(set(rows.column("asin").to_pylist())))
        self._text = None
        if fresh:  # the first rows of a new table: give it its word index
            self.build_indexes()

    def _append(self, make_rows: Callable[[int], pa.Table]) -> pa.Table:
        """Append rows made under a new generation. Rows that commit later than
        `COMMIT_WINDOW_NS` after their generation are written again under a newer one, so a
        reader that read the table at time T knows every row it has not seen is of a
        generation after T - `READ_WINDOW_NS`."""
        for _ in range(3):
            gen = time.time_ns()
            rows = make_rows(gen)
            if rows.num_rows == 0:
                break
            self._commit(partial(self._table.add, rows))
            if time.time_ns() - gen <= COMMIT_WINDOW_NS:
                break
            log.warning(
                "search rows committed %.0f s after their generation; writing them again",
                (time.time_ns() - gen) / 1e9,
            )
        return rows

    def _drop_older_generations(self, asins: list[str]) -> None:
        """Delete the ASINs' rows older than their newest generation, as the table stands
        after this writer's append: the writer whose append commits last sees every
        generation, so the newest one alone is left, whatever order writers raced in."""
        self._commit(lambda: self._delete_older_generations(asins))

    def _delete_older_generations(self, asins: list[str]) -> None:
        rows = (
            self._table.search()
            .where(f"asin IN ({', '.join(map(_quoted, asins))})")
            .select(["asin", "gen"])
            .limit(None)
            .to_arrow()
        )
        gens: dict[str, set[int]] = {}
        for asin, gen in zip(rows["asin"].to_pylist(), rows["gen"].to_pylist(), strict=True):
            gens.setdefault(asin, set()).add(gen)
        stale = [
            f"(asin = {_quoted(asin)} AND gen < {max(seen)})"
            for asin, seen in gens.items()
            if len(seen) > 1
        ]
        if stale:
            self._table.delete(" OR ".join(stale))

    def remove(self, asin: str) -> bool:
        """Forget an ASIN; True if it was indexed. Like an upsert, a removal appends a row
        under a new generation (a tombstone: `slot = -1`, no words, no vector) and then drops
        the older generations: readers' word indexes learn of it from the rows written since
        their base, and a removal racing a publish of the same ASIN ends as the newer one."""
        if self._table.count_rows(f"asin = {_quoted(asin)} AND slot >= 0") == 0:
            return False
        self._append(lambda gen: self._tombstone(asin, gen=gen))
        self._drop_older_generations([asin])
        self._text = None
        return True

    def _tombstone(self, asin: str, *, gen: int) -> pa.Table:
        return pa.Table.from_pydict(
            {
                "asin": [asin],
                "gen": [gen],
                "slot": [TOMBSTONE_SLOT],
                "fields": ["{}"],
                "document": [None],
                "has_vector": [False],
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(np.zeros(self.dim, np.float32)), self.dim
                ),
            },
            schema=_schema(self.embedder),
        )

    def _rows(self, items: Iterable[Item], catalogue: Catalogue, *, gen: int) -> pa.Table:
        checked = {asin: (fields, self._checked(asin, raw)) for asin, fields, raw in items}
        asins: list[str] = []
        slots: list[int] = []
        documents: list[str | None] = []
        field_json: list[str] = []
        blocks: list[Vectors] = []
        for asin, (fields, vectors) in checked.items():
            merged = {**catalogue.get(asin, {}), **{k: str(v) for k, v in fields.items()}}
            count = max(len(vectors), 1)
            asins += [asin] * count
            slots += list(range(count))
            documents += [_document(asin, merged, catalogue), *([None] * (count - 1))]
            field_json += [json.dumps(merged, separators=(",", ":"))] * count
            blocks.append(vectors if len(vectors) else np.zeros((1, self.dim), np.float32))
        flat = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), np.float32)
        has_vector = [bool(len(v)) for _, v in checked.values() for _ in range(max(len(v), 1))]
        return pa.Table.from_pydict(
            {
                "asin": asins,
                "gen": [gen] * len(asins),
                "slot": slots,
                "fields": field_json,
                "document": documents,
                "has_vector": has_vector,
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), self.dim),
            },
            schema=_schema(self.embedder),
        )

    def _checked(self, asin: str, raw: npt.ArrayLike) -> Vectors:
        # no quote either: an ASIN is spliced into the table's filters (quoted as well)
        return checked_vectors(
            asin, raw, dim=self.dim, embedder_name=self.embedder_name, forbidden="/'"
        )

    # ---------------------------------------------------------------- queries

    def __len__(self) -> int:
        return int(self._table.count_rows("slot = 0"))

    def __contains__(self, asin: object) -> bool:
        return isinstance(asin, str) and self.lookup(asin) is not None

    @property
    def vector_count(self) -> int:
        return int(self._table.count_rows("has_vector"))

    @property
    def asins(self) -> list[str]:
        column = (
            self._table.search().where("slot = 0").select(["asin"]).limit(None).to_arrow()["asin"]
        )
        return sorted(set(column.to_pylist()))

    def lookup(self, asin: str) -> Hit | None:
        """The ASIN itself, when indexed (case and surrounding space forgiven)."""
        key = asin.strip()
        for candidate in dict.fromkeys([key, key.upper()]):
            rows = (
                self._table.search()
                .where(f"asin = {_quoted(candidate)} AND slot = 0")
                .select(["asin", "fields"])
                .limit(1)
                .to_list()
            )
            if rows:
                return _hit(rows[0], 1.0)
        return None

    def search_text(self, query: str, k: int = 10) -> list[Hit]:
        """ASINs whose title, artist, brand, category or ASIN match the words, best first
        (the same BM25 ranking, prefixes and typos as `SearchIndex`). Hits are read back from
        this version, so an ASIN removed since the word base was built is left out (and more
        candidates asked for in its place)."""
        self.prepare()
        assert self._text is not None
        want = k
        while True:
            scored = self._text.search(query, want)
            if not scored:
                return []
            rows = {
                row["asin"]: row
                for row in self._table.search()
                .where(f"slot = 0 AND asin IN ({', '.join(_quoted(a) for a, _ in scored)})")
                .select(["asin", "fields"])
                .limit(4 * len(scored))
                .to_list()
            }
            hits = [_hit(rows[asin], score) for asin, score in scored if asin in rows]
            if len(hits) >= k or len(scored) < want:
                return hits[:k]
            want *= 4

    def search_image(self, rgb: ByteImage, k: int = 10) -> list[Hit]:
        """ASINs whose pictures look most like the photo (best view per ASIN), best first."""
        return self.search_vector(self.embedder.embed(rgb), k)

    def search_vector(self, vector: npt.ArrayLike, k: int = 10) -> list[Hit]:
        """Nearest ASINs to a query vector, widening the search until `k` distinct ASINs are
        found (one ASIN owns many vectors: its frames and photos)."""
        query = self._checked("query", vector)[0]
        n = max(4 * k, 32)
        while True:
            rows = (
                self._table.search(query, vector_column_name="vector")
                .metric("cosine")
                .where("has_vector", prefilter=True)
                .select(["asin", "fields", "_distance"])
                .limit(n)
                .refine_factor(4)
                .to_list()
            )
            hits = _best_per_asin(((r, 1.0 - float(r["_distance"])) for r in rows), k)
            if len(hits) >= k or len(rows) < n:
                return hits
            n *= 4


@dataclass(frozen=True)
class _Base:
    """The word index of every ASIN's slot-0 row at one table version, sorted by ASIN."""

    text: TextIndex
    gens: npt.NDArray[np.int64]  # (docs,) the generation each document was read at
    made: str  # the table's `shazam.made`: a rebuild's new table needs a new base
    read_at: int  # time.time_ns() when its rows were read

    def position(self, asin: str) -> int | None:
        i = bisect.bisect_left(self.text.asins, asin)
        return i if i < len(self.text.asins) and self.text.asins[i] == asin else None

    def holds(self, asin: str, gen: int) -> bool:
        i = self.position(asin)
        return i is not None and int(self.gens[i]) == gen


@dataclass
class _Newer:
    """What a reader has read since its base: the newest row (or tombstone: None) of each
    ASIN written after it, and the generation below which nothing unseen can commit."""

    base: _Base
    cursor: int
    rows: dict[str, tuple[int, str | None]]


class WordSource:
    """The word index a reader's successive versions of the table share.

    A base index of every ASIN's words is built once (at the first `prepare`), and each
    version's word index is that base plus a delta index of the rows written after it,
    scored together as one index of the live documents (`text.Words`): a refresh reads the
    slot-0 rows and tombstones of a generation above a cursor (the B-tree index on `gen`
    finds them; rows written since the last `optimize` are scanned) and indexes them, so its
    cost follows what was written, not the catalogue. An ASIN replaced or removed since the
    base counts as dead in it; `search_text` also reads its hits back from its own version.

    Generations are the writers' clocks, and a row commits a little after its `gen` is
    taken: a writer whose commit took longer than `COMMIT_WINDOW_NS` writes again under a
    new generation, so after a read at time T every row not yet seen is of a generation
    above T - `READ_WINDOW_NS`, the next cursor. A table replaced by the rebuild (another
    `shazam.made`) gets a new base at once; when the delta grows past
    `DELTA_REBUILD_FRACTION` of the base (at least `DELTA_REBUILD_MIN` rows), a new base is
    built in a background thread from its own handle of the newest version, while queries
    and refreshes go on with the old one until it is in place."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._newer: _Newer | None = None
        self._rebuilding: threading.Thread | None = None
        self.bases_built = 0

    def words_at(self, table: Any) -> Words:
        """The word index of the version `table` is at."""
        with self._lock:
            newer = self._newer
        if newer is None or newer.base.made != _made(table):
            newer = self._install(_read_base(table))
        read_at = time.time_ns()
        rows = _slot0_rows(table, f"gen > {newer.cursor}")
        with self._lock:
            for asin, (gen, document) in rows.items():
                if asin not in newer.rows or gen > newer.rows[asin][0]:
                    newer.rows[asin] = (gen, document)
            newer.cursor = max(newer.cursor, read_at - READ_WINDOW_NS)
            delta = {a: doc for a, (g, doc) in newer.rows.items() if not newer.base.holds(a, g)}
        base = newer.base
        dead = [i for asin in delta if (i := base.position(asin)) is not None]
        words = Words(
            base.text,
            TextIndex(sorted((a, doc) for a, doc in delta.items() if doc is not None)),
            dead,
        )
        if len(delta) > max(DELTA_REBUILD_MIN, DELTA_REBUILD_FRACTION * len(base.text)):
            self._rebuild_in_background()
        return words

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for a base rebuild in progress (tests, benchmarks)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout_s)

    def _install(self, base: _Base) -> _Newer:
        newer = _Newer(base, base.read_at - READ_WINDOW_NS, {})
        with self._lock:
            self._newer = newer
            self.bases_built += 1
        return newer

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._rebuilding is not None and self._rebuilding.is_alive():
                return
            self._rebuilding = threading.Thread(
                target=self._rebuild, name="search-word-base", daemon=True
            )
            self._rebuilding.start()

    def _rebuild(self) -> None:
        try:
            self._install(_read_base(_connect(self.store).open_table(TABLE)))
        except Exception:  # the old base keeps serving; the next prepare tries again
            log.exception("rebuilding the word index's base failed")


def _made(table: Any) -> str:
    return str((table.schema.metadata or {}).get(b"shazam.made", b"").decode())


def _slot0_rows(table: Any, where: str) -> dict[str, tuple[int, str | None]]:
    """ASIN -> (gen, document) of the slot-0 rows and tombstones (document None) matching
    `where`, the newest generation of each (a reader between a writer's append and its
    clean-up sees two)."""
    rows = (
        table.search()
        .where(f"slot <= 0 AND {where}")
        .select(["asin", "gen", "document"])
        .limit(None)
        .to_arrow()
    )
    newest: dict[str, tuple[int, str | None]] = {}
    columns = (rows["asin"].to_pylist(), rows["gen"].to_pylist(), rows["document"].to_pylist())
    for asin, gen, document in zip(*columns, strict=True):
        if asin not in newest or gen > newest[asin][0]:
            newest[asin] = (gen, document)
    return newest


def _read_base(table: Any) -> _Base:
    read_at = time.time_ns()
    rows = sorted((a, row) for a, row in _slot0_rows(table, "true").items() if row[1] is not None)
    gens = np.array([gen for _, (gen, _) in rows], dtype=np.int64)
    text = TextIndex([(asin, doc or "") for asin, (_, doc) in rows])
    return _Base(text, gens, _made(table), read_at)


def _schema(embedder: Embedder, *, made: int | None = None) -> pa.Schema:
    """The table's columns; `made`: when `create` made the table (readers tell a table
    replaced by a rebuild from the one they indexed by it)."""
    return pa.schema(
        [
            ("asin", pa.string()),
            ("gen", pa.int64()),
            ("slot", pa.int32()),
            ("fields", pa.string()),
            ("document", pa.string()),
            ("has_vector", pa.bool_()),
            ("vector", pa.list_(pa.float32(), embedder.dim)),
        ],
        metadata={
            "shazam.embedder": json.dumps({"name": embedder.name, "dim": embedder.dim}),
            **({} if made is None else {"shazam.made": str(made)}),
        },
    )


def _document(asin: str, fields: Mapping[str, str], catalogue: Catalogue) -> str:
    extra = catalogue.get(asin, {}).get("title", "")  # a catalogue title adds its words
    values = {"asin": asin, **fields}
    return " ".join([*(values.get(name, "") for name in TEXT_FIELDS), extra])


def _hit(row: Mapping[str, Any], score: float) -> Hit:
    fields = json.loads(row["fields"])
    return Hit(asin=row["asin"], score=score, title=fields.get("title", ""), fields=fields)


def _best_per_asin(scored: Iterable[tuple[Mapping[str, Any], float]], k: int) -> list[Hit]:
    best: dict[str, tuple[Mapping[str, Any], float]] = {}
    for row, score in scored:
        if row["asin"] not in best or score > best[row["asin"]][1]:
            best[row["asin"]] = (row, score)
    ranked = sorted(best.values(), key=lambda pair: (-pair[1], pair[0]["asin"]))[:k]
    return [_hit(row, score) for row, score in ranked]
