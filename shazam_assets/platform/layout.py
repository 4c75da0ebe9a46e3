"""The store's layout: every key SHAZAM reads or writes is built and parsed here, and nowhere else.

Each kind of key is one `KeyKind` in `KINDS`: its pattern (`assets/{asin}/v{version}/{path}`),
the stage that writes it and what it holds. The builders below format those patterns and the
parsers match them, so the table `layout_table_markdown()` prints (docs/architecture.md) is the
layout the code uses, not a description of it::

    python -m shazam_assets.platform.layout --markdown

Placeholders: `{version}` and `{number}` are decimal numbers (written `v<N>`), `{path}` a path
that may hold `/`, every other placeholder (`{asin}`, `{upload_id}`...) one path segment; the
typed parsers (`parse_upload_key`, `parse_published_pointer_key`...) also check the ASIN where
a wrong one must not pass.
"""

from __future__ import annotations

import argparse
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from shazam_assets.platform.asin import is_valid_asin

# Names the store keeps for itself: no delivery may carry a file so named (zipsafety refuses
# them, storing refuses them again), so no upload can forge a manifest or a temporary file.
VERSION_MANIFEST = "version.json"  # at the top of a version's folder, written last
RESERVED_PREFIX = ".shazam-"  # the store's own temporary and control files
TEMP_MARK = RESERVED_PREFIX + "tmp-"  # temporary files of a write in progress; never listed

_NUMBERS = frozenset({"version", "number"})
_PATHS = frozenset({"path"})


@dataclass(frozen=True)
class KeyKind:
    """One kind of key: its pattern, the stage that writes it, and what it holds."""

    name: str
    pattern: str
    stage: str
    holds: str
    # Deleted with its version by retention (`version_data_prefixes`).
    version_data: bool = False

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        out = []
        for literal, field, _, _ in string.Formatter().parse(self.pattern):
            out.append(re.escape(literal))
            if field in _NUMBERS:
                out.append(rf"(?P<{field}>[0-9]+)")
            elif field in _PATHS:
                out.append(rf"(?P<{field}>.+)")
            elif field:
                out.append(rf"(?P<{field}>[^/]+)")
        return re.compile("".join(out))

    @property
    def shown(self) -> str:
        """The pattern as people read it: `decisions/<ASIN>/v<N>.json`."""
        return _pattern_text(self.pattern)

    def key(self, **values: object) -> str:
        """The key for these values; every placeholder must be given."""
        return self.pattern.format(**values)

    def prefix(self, **values: object) -> str:
        """The folder holding every key of this kind that starts with these values: the pattern
        up to the first placeholder not given, cut back to its last `/`."""
        out = ""
        for literal, field, _, _ in string.Formatter().parse(self.pattern):
            out += literal
            if field is None or field not in values:
                break
            out += str(values[field])
        return out[: out.rfind("/") + 1]

    def match(self, key: str) -> dict[str, str] | None:
        """The placeholders' values when `key` is of this kind (as text), else None."""
        found = self._regex.fullmatch(key)
        return None if found is None else found.groupdict()


KINDS: dict[str, KeyKind] = {}


def _kind(
    name: str, pattern: str, stage: str, holds: str, *, version_data: bool = False
) -> KeyKind:
    kind = KeyKind(name, pattern, stage, holds, version_data)
    KINDS[name] = kind
    return kind


# --- production (the work before the delivery) ----------------------------------------

SCAN_FILE = _kind(
    "scan_file",
    "scans/{asin}/{path}",
    "scan capture",
    "an ASIN's 3D scan data: JPEG photos and the OBJ with its .mtl and textures",
)
SCAN_RECORD = _kind(
    "scan_record",
    "production/{asin}/scan.json",
    "ingest (scan_data)",
    "the scan data as registered: its files, sizes and the scan checks' verdict (latest registration)",
)
PRODUCTION_EVENT = _kind(
    "production_event",
    "production/{asin}/events/{stamp}-{event_id}.json",
    "production",
    "one production event (assigned, cleanup/UV/texturing done), written once, never changed",
)
ASSIGNMENT = _kind(
    "assignment",
    "production/{asin}/assignment.json",
    "production",
    "who the ASIN is assigned to now (the events keep the history)",
)
ARTIST_ASSIGNMENT = _kind(
    "artist_assignment",
    "production/artists/{artist_id}/{asin}.json",
    "production",
    "an artist's assigned ASINs, one marker each, so an artist's work list is O(own ASINs)",
)
PRODUCTION_FEED = _kind(
    "production_feed",
    "production/feed/{stamp}-{event_id}.json",
    "production",
    "the same production event again in one time-ordered folder for every ASIN: what the "
    "production sensor reads, O(new events) per tick",
)


# --- ingest --------------------------------------------------------------------------------

UPLOAD = _kind(
    "upload",
    "uploads/{asin}/{name}",
    "artist (`shazam upload`, S3)",
    "a delivery ZIP (`<NAME>` ends in .zip) as uploaded; never deleted by SHAZAM",
)
VALIDATION = _kind(
    "validation",
    "validations/{asin}/{upload_id}.json",
    "ingest",
    "the validation verdict of one upload (report and delivery manifest)",
)
REJECTION = _kind(
    "rejection",
    "rejections/{asin}/{upload_id}.json",
    "ingest",
    "the same verdict again for a rejected upload, listed by `shazam status`",
)
STAGING = _kind(
    "staging",
    "staging/{asin}/{upload_id}/{run}/{path}",
    "ingest",
    "files unpacked by one run before they become a version; reclaimed after a day",
)
VERSION_FILE = _kind(
    "version_file",
    "assets/{asin}/v{version}/{path}",
    "ingest",
    "the files of version N, immutable",
    version_data=True,
)
VERSION_MANIFEST_KIND = _kind(
    "version_manifest",
    "assets/{asin}/v{version}/" + VERSION_MANIFEST,
    "ingest",
    "written last: version N exists iff it exists; every file's sha256 and size, the "
    "validation report, the delivery manifest and the closed list of model files",
    version_data=True,
)
CLAIM = _kind(
    "claim",
    "index/{asin}/claims/v{version}.json",
    "ingest",
    "the reservation of number N: never deleted, so a number is never reused",
)
UPLOAD_INDEX = _kind(
    "upload_index",
    "index/{asin}/uploads/{upload_id}.json",
    "ingest",
    "which version an upload became (a re-run of the upload is a no-op)",
)

# --- qa ------------------------------------------------------------------------------------

QA_SCORES = _kind(
    "qa_scores",
    "qa/{asin}/v{version}/scores.json",
    "qa",
    "the automatic QA result: each check's outcome, the visual scores, blocking errors",
)
QA_FILE = _kind(
    "qa_file",
    "qa/{asin}/v{version}/{name}",
    "qa",
    "pictures automatic QA drew for the reviewer (the contact sheet)",
)
DECISION = _kind(
    "decision",
    "decisions/{asin}/v{version}.json",
    "qa (`shazam qa`, the studio's review pages)",
    "the reviewer's decision, written once; the QA sensor lists these",
)
REVIEW_QUEUE = _kind(
    "review_queue",
    "review/pending/{asin}/v{version}.json",
    "ingest (stored), qa (decided, deleted)",
    "an empty marker per stored version without a decision: the review queue, listed in "
    "O(pending) instead of reading every stored ASIN",
)
REVIEW_QUEUE_BUILT = _kind(
    "review_queue_built",
    "review/built.json",
    "qa",
    "when the review queue was rebuilt from the versions (a store written before the queue)",
)
RECENT_DECISION = _kind(
    "recent_decision",
    "review/decided/{rank}/{asin}/v{version}.json",
    "qa",
    "an empty marker per decision, `rank` counting down with time, so listing the newest "
    "decisions reads a page, not the whole decision log",
)
PUBLISHED_POINTER = _kind(
    "published_pointer",
    "pointers/published/{asin}.json",
    "qa (promotion)",
    "which version the ASIN publishes (or none) with its history; written last",
)
TOMBSTONE = _kind(
    "tombstone",
    "index/{asin}/deleted/v{version}.json",
    "qa (retention)",
    "a version removed by retention: when, why, how many files and bytes",
)
NOTIFIED = _kind(
    "notified",
    "notifications/{asin}/v{version}.json",
    "qa",
    "marks a rejection as notified, so the artist is told once",
)
OUTBOX = _kind(
    "outbox",
    "outbox/{asin}/v{version}.json",
    "qa (outbox channel)",
    "a rejection notice, when notifications go to the store",
)
RUN_FAILURE_ALERT = _kind(
    "run_failure_alert",
    "outbox/_runs/{run_id}.json",
    "operations (sensor)",
    "an operator alert about a failed Dagster run (not an ASIN folder)",
)

# --- render --------------------------------------------------------------------------------

TURNTABLE_MANIFEST_NAME = "manifest.json"
RENDER_FILE = _kind(
    "render_file",
    "renders/{asin}/v{version}/{set}/{path}",
    "render",
    "one turntable set: frames, sprite, poster, video",
    version_data=True,
)
TURNTABLE_MANIFEST = _kind(
    "turntable_manifest",
    "renders/{asin}/v{version}/" + TURNTABLE_MANIFEST_NAME,
    "render",
    "the committed turntable (its set, files, cameras, timings); written last",
    version_data=True,
)

# --- publish -------------------------------------------------------------------------------

CHANNEL_FILE = _kind(
    "channel_file",
    "channels/{asin}/v{version}/{set}/{path}",
    "publish",
    "one set of channel files: compressed derivatives per channel, the USDZ for iOS AR",
    version_data=True,
)
CHANNEL_MANIFEST = _kind(
    "channel_manifest",
    "channels/{asin}/v{version}/manifest.json",
    "publish",
    "the committed channel files (sizes, checks, refusals, variants); written last",
    version_data=True,
)


STATIC_DIR = "_static"
PAGE_NAME = "index.html"
PAGE_MANIFEST_NAME = "manifest.json"
PAGE = _kind("page", "published/{asin}/" + PAGE_NAME, "publish", "the product page, written last")
PAGE_MANIFEST = _kind(
    "page_manifest",
    "published/{asin}/" + PAGE_MANIFEST_NAME,
    "publish",
    "what the page shows: URLs, sha256 and size of each file",
)
RELEASE_FILE = _kind(
    "release_file",
    "published/{asin}/{release}/{path}",
    "publish",
    "one release (`r` + fingerprint): the model, poster, frames, sprite, video",
)
STATIC_FILE = _kind(
    "static_file",
    "published/" + STATIC_DIR + "/{path}",
    "publish",
    "the pages' script, style and model-viewer, shared by every page",
)
CATALOGUE_PAGE = _kind("catalogue_page", "published/" + PAGE_NAME, "publish", "the catalogue page")
CATALOGUE = _kind("catalogue", "published/catalog.json", "publish", "the catalogue's data")
NOT_FOUND_PAGE = _kind(
    "not_found_page",
    "published/404.html",
    "publish",
    "the page any URL where nothing is published gets, with status 404",
)

# --- search --------------------------------------------------------------------------------

SEARCH_POINTER = _kind(
    "search_pointer",
    "search/index/current.json",
    "search",
    "the index version searches load; written last",
)
SEARCH_INDEX_FILE = _kind(
    "search_index_file",
    "search/index/v{number}/{path}",
    "search",
    "one saved index version: claim.json, meta.json, vectors.hnsw",
)
SEARCH_TABLE = _kind(
    "search_table",
    "search/lance/{path}",
    "search",
    "the search table (LanceDB): data fragments, deletion files, versioned manifests, indexes",
)
SEARCH_CATALOGUE = _kind(
    "search_catalogue",
    "search/catalogue.{format}",
    "operator",
    "optional shop catalogue (parquet or csv) merged into search results",
)

# --- operations ----------------------------------------------------------------------------

METRICS_TABLE = _kind(
    "metrics_table",
    "metrics/{name}.parquet",
    "operations",
    "the pipeline metrics tables of the latest snapshot",
)
METRICS_LATEST = _kind(
    "metrics_latest",
    "metrics/latest.prom",
    "operations",
    "the latest metrics as Prometheus text, served at GET /metrics",
)
METRICS_REPORT = _kind(
    "metrics_report", "metrics/report.html", "operations", "the HTML report of the latest figures"
)

SEARCH_CLAIM_NAME = "claim.json"
SEARCH_META_NAME = "meta.json"
SEARCH_VECTORS_NAME = "vectors.hnsw"
SEARCH_CATALOGUE_FORMATS = ("parquet", "csv")  # looked for in this order


# --- studio --------------------------------------------------------------------------------

AUDIT_EVENT = _kind(
    "audit_event",
    "audit/{day}/{stamp}-{event_id}.json",
    "studio",
    "the audit log: one record per change a signed-in person made, written once, never changed",
)
PERSON = _kind(
    "person",
    "people/{person_id}.json",
    "studio",
    "a person who signed in to the studio: name, email and roles at their last sign-in",
)
UPLOAD_SESSION = _kind(
    "upload_session",
    "upload-sessions/{asin}/{upload}.json",
    "studio",
    "a browser upload in progress: its key, size, part plan and store upload id, bound to the "
    "ASIN; removed when it completes or is aborted",
)

# --- typed keys ----------------------------------------------------------------------------


class UploadKey(NamedTuple):
    asin: str
    name: str  # the ZIP's file name


class VersionKey(NamedTuple):
    """A key inside version `version` of `asin`: `path` is relative to the version folder."""

    asin: str
    version: int
    path: str


class AsinVersion(NamedTuple):
    asin: str
    version: int


# --- production ------------------------------------------------------------------------------


def scans_prefix(asin: str | None = None) -> str:
    """`scans/`, or one ASIN's scan folder."""
    return SCAN_FILE.prefix() if asin is None else SCAN_FILE.prefix(asin=asin)


def scan_file_key(asin: str, path: str) -> str:
    return SCAN_FILE.key(asin=asin, path=path)


def parse_scan_file_key(key: str) -> tuple[str, str] | None:
    """`scans/<ASIN>/<path>` -> (ASIN, path); None for any other key or a malformed ASIN."""
    found = SCAN_FILE.match(key)
    if found is None or not is_valid_asin(found["asin"]):
        return None
    return found["asin"], found["path"]


def scan_record_key(asin: str) -> str:
    return SCAN_RECORD.key(asin=asin)


def production_events_prefix(asin: str) -> str:
    return PRODUCTION_EVENT.prefix(asin=asin)


def parse_scan_record_key(key: str) -> str | None:
    """`production/<ASIN>/scan.json` -> the ASIN; None for any other key."""
    found = SCAN_RECORD.match(key)
    return found["asin"] if found is not None and is_valid_asin(found["asin"]) else None


def production_event_key(asin: str, stamp: str, event_id: str) -> str:
    return PRODUCTION_EVENT.key(asin=asin, stamp=stamp, event_id=event_id)


def production_feed_prefix() -> str:
    return PRODUCTION_FEED.prefix()


def production_feed_key(stamp: str, event_id: str) -> str:
    return PRODUCTION_FEED.key(stamp=stamp, event_id=event_id)


def production_prefix() -> str:
    """`production/`: every production record (scan records, assignments, events, markers)."""
    return SCAN_RECORD.prefix()


def assignment_key(asin: str) -> str:
    return ASSIGNMENT.key(asin=asin)


def artist_assignments_prefix(artist_id: str) -> str:
    return ARTIST_ASSIGNMENT.prefix(artist_id=artist_id)


def artist_assignment_key(artist_id: str, asin: str) -> str:
    return ARTIST_ASSIGNMENT.key(artist_id=artist_id, asin=asin)


def parse_artist_assignment_key(key: str) -> str | None:
    """`production/artists/<ID>/<ASIN>.json` -> the ASIN; None for any other key."""
    found = ARTIST_ASSIGNMENT.match(key)
    return found["asin"] if found is not None and is_valid_asin(found["asin"]) else None


# --- ingest ----------------------------------------------------------------------------------


def uploads_prefix(asin: str | None = None) -> str:
    """`uploads/`, or one ASIN's upload folder."""
    return UPLOAD.prefix() if asin is None else UPLOAD.prefix(asin=asin)


def upload_key(asin: str, name: str) -> str:
    return UPLOAD.key(asin=asin, name=name)


def parse_upload_key(key: str) -> UploadKey | None:
    """`uploads/<ASIN>/<name>.zip` -> UploadKey; None for any other key.

    The name must end in `.zip` (any case) and have a stem; deeper paths, other extensions and
    invalid ASINs are not uploads."""
    found = UPLOAD.match(key)
    if found is None or not is_valid_asin(found["asin"]):
        return None
    name = found["name"]
    if len(name) <= 4 or not name.lower().endswith(".zip"):
        return None
    return UploadKey(found["asin"], name)


def validation_key(asin: str, upload_id: str) -> str:
    return VALIDATION.key(asin=asin, upload_id=upload_id)


def rejection_key(asin: str, upload_id: str) -> str:
    return REJECTION.key(asin=asin, upload_id=upload_id)


def rejections_prefix(asin: str) -> str:
    return REJECTION.prefix(asin=asin)


def staging_prefix(
    asin: str | None = None, upload_id: str | None = None, run: str | None = None
) -> str:
    """`staging/` (every run's staging), or one run's own staging folder."""
    given = {"asin": asin, "upload_id": upload_id, "run": run}
    return STAGING.prefix(**{k: v for k, v in given.items() if v is not None})


def versions_prefix(asin: str) -> str:
    """The folder holding every version of an ASIN."""
    return VERSION_FILE.prefix(asin=asin)


def version_prefix(asin: str, version: int) -> str:
    return VERSION_FILE.prefix(asin=asin, version=version)


def version_file_key(asin: str, version: int, path: str) -> str:
    return VERSION_FILE.key(asin=asin, version=version, path=path)


def version_manifest_key(asin: str, version: int) -> str:
    return VERSION_MANIFEST_KIND.key(asin=asin, version=version)


def parse_version_key(key: str) -> VersionKey | None:
    """`assets/<ASIN>/v<N>/<path>` -> VersionKey (the manifest included); None otherwise."""
    found = VERSION_FILE.match(key)
    return (
        None if found is None else VersionKey(found["asin"], int(found["version"]), found["path"])
    )


def parse_version_manifest_key(key: str) -> AsinVersion | None:
    found = parse_version_key(key)
    if found is None or found.path != VERSION_MANIFEST:
        return None
    return AsinVersion(found.asin, found.version)


def claim_key(asin: str, version: int) -> str:
    return CLAIM.key(asin=asin, version=version)


def claims_prefix(asin: str) -> str:
    return CLAIM.prefix(asin=asin)


def version_index_prefix() -> str:
    """`index/`: claims, upload index and tombstones of every ASIN (small files)."""
    return CLAIM.prefix()


def parse_claim_key(key: str) -> AsinVersion | None:
    """`index/<ASIN>/claims/v<N>.json` -> (ASIN, N); None for any other key."""
    found = CLAIM.match(key)
    return None if found is None else AsinVersion(found["asin"], int(found["version"]))


def upload_index_key(asin: str, upload_id: str) -> str:
    return UPLOAD_INDEX.key(asin=asin, upload_id=upload_id)


# --- qa --------------------------------------------------------------------------------------


def scores_key(asin: str, version: int) -> str:
    return QA_SCORES.key(asin=asin, version=version)


def qa_prefix(asin: str, version: int) -> str:
    """The version's own QA folder (scores and the pictures QA drew)."""
    return QA_FILE.prefix(asin=asin, version=version)


def contact_sheet_key(asin: str, version: int) -> str:
    return QA_FILE.key(asin=asin, version=version, name="contact-sheet.png")


def decisions_prefix() -> str:
    """The decision log: one object per decision; the QA sensor and the review page list it."""
    return DECISION.prefix()


def decision_key(asin: str, version: int) -> str:
    return DECISION.key(asin=asin, version=version)


def parse_decision_key(key: str) -> AsinVersion | None:
    """`decisions/<ASIN>/v<N>.json` -> (ASIN, N); None for any other key."""
    found = DECISION.match(key)
    return None if found is None else AsinVersion(found["asin"], int(found["version"]))


def review_queue_prefix() -> str:
    """`review/pending/`: one marker per version waiting for a reviewer's decision."""
    return REVIEW_QUEUE.prefix()


def review_queue_asin_prefix(asin: str) -> str:
    return REVIEW_QUEUE.prefix(asin=asin)


def review_queue_key(asin: str, version: int) -> str:
    return REVIEW_QUEUE.key(asin=asin, version=version)


def parse_review_queue_key(key: str) -> AsinVersion | None:
    """`review/pending/<ASIN>/v<N>.json` -> (ASIN, N); None for any other key."""
    found = REVIEW_QUEUE.match(key)
    return None if found is None else AsinVersion(found["asin"], int(found["version"]))


def review_queue_built_key() -> str:
    return REVIEW_QUEUE_BUILT.key()


def recent_decisions_prefix() -> str:
    """`review/decided/`: listed in key order, the newest decision first."""
    return RECENT_DECISION.prefix()


def recent_decision_key(asin: str, version: int, *, epoch_ms: int) -> str:
    """A decision's marker; its rank (10^13 - epoch ms, 13 digits) sorts newer ones first."""
    rank = f"{10**13 - epoch_ms:013d}"
    return RECENT_DECISION.key(rank=rank, asin=asin, version=version)


def parse_recent_decision_key(key: str) -> AsinVersion | None:
    found = RECENT_DECISION.match(key)
    return None if found is None else AsinVersion(found["asin"], int(found["version"]))


def published_pointers_prefix() -> str:
    """Pointers live apart from the product pages (`published/<ASIN>/`), so the publish sensor
    lists only pointers."""
    return PUBLISHED_POINTER.prefix()


def published_pointer_key(asin: str) -> str:
    return PUBLISHED_POINTER.key(asin=asin)


def parse_published_pointer_key(key: str) -> str | None:
    """`pointers/published/<ASIN>.json` -> the ASIN; None for any other key."""
    found = PUBLISHED_POINTER.match(key)
    return found["asin"] if found is not None and is_valid_asin(found["asin"]) else None


def tombstone_key(asin: str, version: int) -> str:
    return TOMBSTONE.key(asin=asin, version=version)


def notified_key(asin: str, version: int) -> str:
    return NOTIFIED.key(asin=asin, version=version)


def outbox_key(asin: str, version: int) -> str:
    return OUTBOX.key(asin=asin, version=version)


def run_failures_prefix() -> str:
    return RUN_FAILURE_ALERT.prefix()


def run_failure_key(run_id: str) -> str:
    return RUN_FAILURE_ALERT.key(run_id=run_id)


# --- render ----------------------------------------------------------------------------------


def renders_prefix(asin: str, version: int) -> str:
    """Where the turntable stage writes a version's renders (deleted with the version)."""
    return RENDER_FILE.prefix(asin=asin, version=version)


def turntable_manifest_key(asin: str, version: int) -> str:
    return TURNTABLE_MANIFEST.key(asin=asin, version=version)


def render_set_prefix(asin: str, version: int, set_name: str) -> str:
    return RENDER_FILE.prefix(asin=asin, version=version, set=set_name)


def channel_manifest_key(asin: str, version: int) -> str:
    return CHANNEL_MANIFEST.key(asin=asin, version=version)


def channel_set_prefix(asin: str, version: int, set_name: str) -> str:
    return CHANNEL_FILE.prefix(asin=asin, version=version, set=set_name)


def version_data_prefixes(asin: str, version: int) -> tuple[str, ...]:
    """Every folder whose keys belong to version N and go when it is deleted (its files, its
    renders), derived from the kinds marked `version_data`."""
    found: list[str] = []
    for kind in KINDS.values():
        if kind.version_data:
            prefix = kind.prefix(asin=asin, version=version)
            if prefix not in found:
                found.append(prefix)
    return tuple(found)


def version_commit_markers(asin: str, version: int) -> tuple[tuple[str, ...], str]:
    """(deleted first, deleted last) when a version goes: the manifests of what was derived
    from it (turntable, channel files) first, so no reader finds a manifest whose files are
    going; the version manifest last, so an interrupted deletion is found and finished by the
    next one."""
    first = (turntable_manifest_key(asin, version), channel_manifest_key(asin, version))
    return first, version_manifest_key(asin, version)


# --- publish ---------------------------------------------------------------------------------


def pages_prefix() -> str:
    """`published/`: every product page, the catalogue and the shared static files."""
    return PAGE.prefix()


def static_prefix() -> str:
    return STATIC_FILE.prefix()


def static_key(path: str) -> str:
    return STATIC_FILE.key(path=path)


def page_prefix(asin: str) -> str:
    return PAGE.prefix(asin=asin)


def page_key(asin: str) -> str:
    return PAGE.key(asin=asin)


def page_manifest_key(asin: str) -> str:
    return PAGE_MANIFEST.key(asin=asin)


def catalogue_key() -> str:
    return CATALOGUE.key()


def catalogue_page_key() -> str:
    return CATALOGUE_PAGE.key()


def not_found_page_key() -> str:
    return NOT_FOUND_PAGE.key()


def parse_page_manifest_key(key: str) -> str | None:
    """`published/<ASIN>/manifest.json` -> the ASIN; None for any other key."""
    found = PAGE_MANIFEST.match(key)
    return found["asin"] if found is not None and is_valid_asin(found["asin"]) else None


def page_relative(key: str) -> str | None:
    """A key under `published/` as a path relative to it (how pages and `shazam serve` name
    it); None for a key outside."""
    prefix = pages_prefix()
    return key[len(prefix) :] if key.startswith(prefix) else None


def page_store_key(path: str) -> str:
    """The store key of a path relative to `published/` (the inverse of `page_relative`)."""
    return pages_prefix() + path


# --- search ----------------------------------------------------------------------------------


def search_index_prefix() -> str:
    return SEARCH_INDEX_FILE.prefix()


def search_pointer_key() -> str:
    return SEARCH_POINTER.key()


def search_index_version_prefix(number: int) -> str:
    return SEARCH_INDEX_FILE.prefix(number=number)


def search_index_file_key(number: int, name: str) -> str:
    return SEARCH_INDEX_FILE.key(number=number, path=name)


def parse_search_index_key(key: str) -> int | None:
    """`search/index/v<N>/<file>` -> N; None for any other key."""
    found = SEARCH_INDEX_FILE.match(key)
    return None if found is None else int(found["number"])


def search_table_prefix() -> str:
    """The folder LanceDB keeps the search table in (`search/lance/`); LanceDB names the
    files under it (`search_table_key` says where one of them is)."""
    return SEARCH_TABLE.prefix()


def search_table_key(path: str) -> str:
    """A file of the search table, `path` as LanceDB names it (`entries.lance/_versions/...`)."""
    return SEARCH_TABLE.key(path=path)


def search_catalogue_keys() -> tuple[str, ...]:
    return tuple(SEARCH_CATALOGUE.key(format=f) for f in SEARCH_CATALOGUE_FORMATS)


# --- studio ----------------------------------------------------------------------------------


def audit_prefix(day: str | None = None) -> str:
    """`audit/`, or one UTC day's records (`audit/2026-12-07/`)."""
    return AUDIT_EVENT.prefix() if day is None else AUDIT_EVENT.prefix(day=day)


def audit_event_key(day: str, stamp: str, event_id: str) -> str:
    return AUDIT_EVENT.key(day=day, stamp=stamp, event_id=event_id)


def people_prefix() -> str:
    return PERSON.prefix()


def person_key(person_id: str) -> str:
    return PERSON.key(person_id=person_id)


def upload_sessions_prefix(asin: str) -> str:
    return UPLOAD_SESSION.prefix(asin=asin)


def upload_session_key(asin: str, upload: str) -> str:
    return UPLOAD_SESSION.key(asin=asin, upload=upload)


# --- operations ------------------------------------------------------------------------------


def metrics_prefix() -> str:
    return METRICS_TABLE.prefix()


def metrics_table_key(name: str) -> str:
    return METRICS_TABLE.key(name=name)


def metrics_latest_key() -> str:
    return METRICS_LATEST.key()


def metrics_report_key() -> str:
    return METRICS_REPORT.key()


# --- the table -------------------------------------------------------------------------------


def _pattern_text(pattern: str) -> str:
    return (
        re.sub(r"\{(\w+)\}", lambda m: f"<{m.group(1).upper()}>", pattern)
        .replace("v<VERSION>", "v<N>")
        .replace("v<NUMBER>", "v<N>")
    )


def layout_rows() -> Iterator[tuple[str, str, str]]:
    """(key pattern, written by, what it holds) of every kind of key, in pipeline order."""
    for kind in KINDS.values():
        holds = kind.holds + (" (deleted with its version)" if kind.version_data else "")
        yield kind.shown, kind.stage, holds


def layout_table_markdown() -> str:
    """The store layout as a markdown table, for docs/architecture.md."""
    lines = ["| key pattern | written by | what it holds |", "|---|---|---|"]
    lines += [f"| `{p}` | {s} | {h} |" for p, s, h in layout_rows()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The object store's layout.")
    parser.add_argument(
        "--markdown", action="store_true", help="print the layout as a markdown table"
    )
    parser.parse_args(argv)
    print(layout_table_markdown(), end="")


if __name__ == "__main__":
    main()
