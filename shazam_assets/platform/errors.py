"""One error hierarchy: every refusal anywhere is a `ShazamError` with a stable code, a severity
and a repair hint, and every code it can carry is listed here.

Validation findings are `Rule`s, declared where they are checked (`shazam_assets.ingest.delivery.codes`
gathers them) and reported, not raised. Everything else that refuses (a QA decision, a render, a
publish, a search, the object store, a typed name, an HTTP request) raises a subclass of
`ShazamError` (`DecisionError`, `RenderError`, `PublishError`, `SearchError`, `StoreError`,
`TextError`, `ImageRefused`, ...); the CLI prints `CODE: message` and exits 2. Whether another try
may succeed is a type: a `TransientError` (a store that failed, a render process that died, a lost
race) is retried by the pipeline, any other refusal fails for good. The codes are listed below,
once, so `shazam codes` and docs/error-codes.md show them with their hints; tests walk every
subclass and scan the sources, and fail on a code that is raised but not listed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Severity(enum.StrEnum):
    """How bad a finding or a refusal is; shared by delivery validation, QA and the errors. Only
    ERROR rejects a delivery or blocks an approval."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @classmethod
    def _missing_(cls, value: object) -> Severity | None:
        # QA results (scores.json) spell WARNING "warn", as they always have
        return cls.WARNING if value == "warn" else None


class ShazamError(Exception):
    """A refusal: `code` is stable and listed in this module (so `hint` finds what to do about
    it), `message` says what happened in this case; `str()` is `CODE: message`.

    Subclasses whose every instance has one code set `code` on the class and take only the
    message."""

    code: str = "SHAZAM_INTERNAL_ERROR"
    severity: Severity = Severity.ERROR

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def hint(self) -> str:
        """What to do about it, from the catalogue ("" for a code that is not listed, which a
        test forbids)."""
        found = find(self.code)
        return found.hint if found is not None else ""

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable with its code, whatever the subclass's constructor takes (renders cross
        from the render process to its parent)."""
        return (_rebuild, (type(self), self.code, self.message), self.__dict__)


def _rebuild(cls: type[ShazamError], code: str, message: str) -> ShazamError:
    error = cls.__new__(cls)
    ShazamError.__init__(error, code, message)
    return error


class TransientError(ShazamError):
    """A refusal another try may get past: the cause is outside the input (a store or network
    that failed, a render process that died, a write that lost a race). The pipeline retries
    these and fails every other error for good. Mixed in after the stage's own error, e.g.
    `class RenderCrashed(RenderError, TransientError)`."""


@dataclass(frozen=True)
class ErrorCode:
    """A documented refusal: its stable code, what it means, and what to do about it."""

    code: str
    summary: str
    hint: str


@dataclass(frozen=True)
class Stage:
    name: str
    codes: tuple[ErrorCode, ...]


def _stage(name: str, *rows: tuple[str, str, str]) -> Stage:
    return Stage(name, tuple(ErrorCode(*row) for row in rows))


STAGES: tuple[Stage, ...] = (
    _stage(
        "store",
        (
            "STORE_URL_INVALID",
            "SHAZAM_STORE_URL is not a file:// or s3:// URL",
            "Use file:///absolute/path or s3://bucket/prefix.",
        ),
        (
            "STORE_ROOT_MISSING",
            "The file:// store root does not exist",
            "Check the path for a typo; create the folder first if a new store is meant.",
        ),
        (
            "STORE_ROOT_NOT_A_FOLDER",
            "The file:// store root is a file, not a folder",
            "Point SHAZAM_STORE_URL at the store's folder.",
        ),
        (
            "STORE_NOT_FOUND",
            "An object the operation needs is not in the store",
            "Check the ASIN and version with `shazam status`; restore the object if it was deleted by hand.",
        ),
        (
            "STORE_FAILED",
            "The object store refused or failed an operation",
            "Check the store's credentials, endpoint and network; the message names the key and the cause.",
        ),
    ),
    _stage(
        "notify",
        (
            "NOTIFY_FAILED",
            "The notification channel (Slack webhook, SNS topic) refused or did not answer",
            "Check SHAZAM_NOTIFY_URL and the network; the decision stands and the send is retried.",
        ),
    ),
    _stage(
        "cli",
        (
            "SHAZAM_INTERNAL_ERROR",
            "An unexpected error inside SHAZAM (a defect)",
            "Run again with SHAZAM_DEBUG=1 for the traceback and report it.",
        ),
        (
            "OS_<ERRNO>",
            "The operating system refused an operation (OS_ENOSPC: disk full, OS_EACCES: permission denied, ...)",
            "Free disk space or fix permissions as the message says, then run the command again.",
        ),
        (
            "ASIN_INVALID",
            "An ASIN argument is not a valid ASIN",
            "An ASIN has 10 characters: 'B0' and 8 letters/digits, or a valid ISBN-10.",
        ),
        (
            "ASINS_FILE_INVALID",
            "The --asins file is not UTF-8 text",
            "Give one ASIN per line in a UTF-8 text file.",
        ),
        (
            "UPLOAD_NAME_INVALID",
            "The upload name would never be processed by the upload sensor",
            "Use one file name ending in .zip, without folders, control characters or a leading dot.",
        ),
        (
            "UPLOAD_EXISTS",
            "An upload of that name already exists for the ASIN",
            "Upload under another name (rename the file, or `shazam upload --name`); uploads "
            "are never overwritten.",
        ),
        (
            "UPLOAD_TOO_LARGE",
            "The file is larger than any delivery validation accepts",
            "Deliver only the files the manifest names; a delivery unpacks to at most 4 GiB.",
        ),
        (
            "UPLOAD_NOT_IN_PROGRESS",
            "No browser upload with that id is in progress for that ASIN",
            "It finished, was aborted or expired: start the upload again from the ASIN's page.",
        ),
        (
            "UPLOAD_PART_URL_INVALID",
            "An upload part URL is forged, altered or expired",
            "The page asks for a new URL for each part; reload the page and press Resume.",
        ),
        (
            "UPLOAD_PARTS_MISMATCH",
            "The parts named to complete an upload are not the parts the store holds",
            "Press Resume: the page uploads the missing or damaged parts again, then completes.",
        ),
        (
            "UPLOAD_NOT_SUPPORTED",
            "This store takes no uploads from the browser",
            "Use `shazam upload`, or run the studio over a file:// or s3:// store.",
        ),
        (
            "UPLOAD_REQUEST_INVALID",
            "A browser upload request is malformed (missing or wrong JSON fields)",
            "The studio's own page sends these requests; reload it. Scripts: see docs/studio.md.",
        ),
    ),
    _stage(
        "text",
        (
            "TEXT_NOT_UTF8",
            "A name or note is not valid UTF-8",
            "Set the terminal or client to UTF-8 and type the text again.",
        ),
        (
            "TEXT_CONTROL_CHARACTER",
            "A name or note contains control or bidirectional-override characters",
            "Remove the invisible characters (notes may keep line breaks and tabs).",
        ),
        (
            "TEXT_TOO_LONG",
            "A name or note is longer than its field allows",
            "Shorten it: names 120, comments 2,000, notes 4,000 characters.",
        ),
    ),
    _stage(
        "image",
        (
            "IMAGE_TOO_LARGE",
            "An image file is larger than SHAZAM decodes",
            "Send images under 64 MB.",
        ),
        (
            "IMAGE_TOO_MANY_PIXELS",
            "An image declares more pixels than SHAZAM decodes",
            "Send images of at most 8192 x 8192 pixels.",
        ),
        (
            "IMAGE_UNREADABLE",
            "The bytes are not a JPEG, PNG or WebP image SHAZAM can read",
            "Send a JPEG, PNG or WebP file.",
        ),
    ),
    _stage(
        "http",
        (
            "REQUEST_TOO_LARGE",
            "The request body is larger than the endpoint accepts",
            "Send a smaller body; the limit is in the API docs of the endpoint.",
        ),
    ),
    _stage(
        "production",
        (
            "PRODUCTION_BAD_ASIN",
            "The ASIN given to production tracking is malformed",
            "Use the product's 10-character ASIN (B0 and 8 letters/digits, or an ISBN-10).",
        ),
        (
            "PRODUCTION_NO_SCAN",
            "The ASIN's scan data is not registered, or its registration found errors",
            "Copy the photos and the scan OBJ (with .mtl and textures) into scans/<ASIN>/ and wait "
            "for the scan sensor to register them; fix every code the scan record lists.",
        ),
        (
            "PRODUCTION_SCAN_CHANGED",
            "The ASIN's scan data changed after it was registered and checked",
            "Wait a minute: the scan sensor registers and checks the folder again; then download.",
        ),
        (
            "PRODUCTION_NOT_ASSIGNED",
            "The ASIN is not assigned to the person marking its stages",
            "Ask a lead to assign the ASIN to you; only the current assignee marks its stages.",
        ),
        (
            "PRODUCTION_UNKNOWN_STAGE",
            "The production stage named is not one of cleanup, uv, texturing",
            "Use cleanup, uv or texturing.",
        ),
        (
            "PRODUCTION_STAGE_ORDER",
            "A production stage was marked done before the stage that comes before it",
            "Mark the stages in order: cleanup, then uv, then texturing.",
        ),
        (
            "PRODUCTION_BAD_PERSON",
            "An assignment names a person without a subject (sub)",
            "Assign to a signed-in person: the studio passes the ID token's subject.",
        ),
    ),
    _stage(
        "ingest",
        (
            "SCAN_DATA_BAD_ASIN",
            "Scan registration was asked for something that is not an ASIN",
            "Put scan data under scans/<ASIN>/ with the product's 10-character ASIN.",
        ),
        (
            "UPLOAD_NOT_FOUND",
            "The upload a run was asked to process does not exist (any more) or changed",
            "Nothing to do for a changed upload (its new content gets its own run); otherwise upload the delivery again.",
        ),
        (
            "VERSION_NOT_VALIDATED",
            "The upload has not been validated, or was rejected, so it is not stored",
            "Let the ingest run validate it first; a rejected delivery needs a fixed upload.",
        ),
        (
            "VERSION_ZIP_UNSAFE",
            "The upload no longer passes the ZIP safety checks it passed in validation",
            "Upload the delivery again; the stored upload changed or is damaged.",
        ),
        (
            "VERSION_RESERVED_NAME",
            "An archive member would overwrite one of the store's own files (version.json, temporary files)",
            "Rename or remove that file in the delivery and upload it again.",
        ),
        (
            "VERSION_CHECKSUM_MISMATCH",
            "A file copied into the version differs from the staged file; nothing was committed",
            "Run the ingest again; if it repeats, check the store's health.",
        ),
        (
            "VERSION_FOREIGN_MANIFEST",
            "The version's folder holds a manifest this upload did not write",
            "Inspect the version folder by hand; SHAZAM never stores over a manifest it cannot trust.",
        ),
        (
            "VERSION_PATH_OUTSIDE",
            "A file the version lists would land outside the download folder",
            "Report it: stored paths are checked by validation, so the version manifest was changed by hand.",
        ),
    ),
    _stage(
        "tools",
        (
            "PACK_MISSING_INPUT",
            "An input file of `shazam pack` does not exist",
            "Check the paths of --model, --photo and --scan (and the scan's .mtl and textures).",
        ),
        (
            "PACK_OUTPUT_EXISTS",
            "The --out file of `shazam pack` already exists",
            "Choose another --out, or pass --force to overwrite it.",
        ),
        (
            "PROFILE_UNKNOWN",
            "No commerce budget profile of that name",
            "Use one of the names `shazam profiles` lists.",
        ),
        (
            "GLTF_TOOLS_MISSING",
            "Node.js or the glTF tools (glTF-Transform, Draco, sharp, the Khronos validator) are not installed",
            "Run `make setup` (npm ci --prefix shazam_assets/platform/gltf_tools); the image ships them.",
        ),
        (
            "GLTF_TOOLS_TIMEOUT",
            "A glTF tool ran past its deadline and was stopped",
            "Simplify the model (texture pixels, triangles); report it if a small model hangs.",
        ),
        (
            "GLTF_TOOLS_FAILED",
            "A glTF tool failed on the model",
            "Validate the model with `shazam validate`; report the message if it is valid.",
        ),
    ),
    _stage(
        "qa",
        (
            "QA_ALREADY_DECIDED",
            "The version was already decided otherwise",
            "Decisions are final; upload a new version, or roll back with `shazam qa rollback`.",
        ),
        (
            "QA_BLOCKED_BY_CHECKS",
            "Automatic QA found blocking errors; the version cannot be approved",
            "Reject it with a note for the artist, or fix the model and upload a new version.",
        ),
        (
            "QA_DECISION_CONTENDED",
            "Another decision for the version is being written right now",
            "Run the same command again.",
        ),
        (
            "QA_DELETE_PUBLISHED",
            "The published version is never deleted by retention",
            "Publish another version first.",
        ),
        ("QA_FORM_TOO_LARGE", "The review page's decision form is too large", "Shorten the note."),
        (
            "QA_FORM_NOT_URLENCODED",
            "A decision was posted in another format than the review page's form",
            "Send the form as application/x-www-form-urlencoded, as the review page does.",
        ),
        (
            "QA_FORM_NOT_UTF8",
            "The posted decision form is not UTF-8",
            "Send the form in UTF-8, as the review page does.",
        ),
        (
            "QA_NOTE_REQUIRED",
            "A rejection needs a note for the artist",
            "Say what to fix with --note (or in the review form).",
        ),
        (
            "QA_NOTHING_PUBLISHED",
            "The ASIN has no published version to take down",
            "Check `shazam status`; nothing needs unpublishing.",
        ),
        (
            "QA_NOT_APPROVED",
            "Only an approved version can be published",
            "Approve the version first.",
        ),
        (
            "QA_NO_ROLLBACK_TARGET",
            "No earlier approved version is kept to roll back to",
            "Approve and publish a fixed version instead.",
        ),
        (
            "QA_REVIEWER_REQUIRED",
            "A decision needs the reviewer's name",
            "Pass --reviewer (or fill in the review form's name).",
        ),
        ("QA_SUPERSEDED", "A newer version of the ASIN exists", "Review the newest version."),
        (
            "QA_UNKNOWN_VERSION",
            "The ASIN has no stored version of that number",
            "Check the version with `shazam status` or `shazam qa pending`.",
        ),
        (
            "QA_VERSION_DELETED",
            "The version was deleted by retention",
            "Review a version that still exists.",
        ),
        (
            "QA_VERSION_INCOMPLETE",
            "Files of the version are missing from the store",
            "Restore the missing objects, or reject the version and ask for a new delivery.",
        ),
    ),
    _stage(
        "render",
        ("RENDER_BAD_FRAMES", "The turntable frame count is out of range", "Use 8 to 72 frames."),
        (
            "RENDER_BAD_SIZE",
            "The frame size is out of range or not a number",
            "Use an even number of pixels from 64 to 4096 a side.",
        ),
        (
            "RENDER_BAD_OPTION",
            "A render option has an unknown value",
            "Use one of the values the message lists.",
        ),
        (
            "RENDER_NO_SUCH_CAMERA",
            "The model has no camera of that index",
            "List the model's cameras, or render the turntable instead.",
        ),
        (
            "RENDER_UNKNOWN_VERSION",
            "The ASIN has no stored version of that number",
            "Check `shazam status`.",
        ),
        (
            "RENDER_NO_MODEL_FILES",
            "The version's manifest does not list its model files (stored before the list existed)",
            "Upload the delivery again so it is stored with its file list.",
        ),
        (
            "RENDER_MODEL_UNREADABLE",
            "The renderer cannot load the model",
            "Validate the file with `shazam validate`; re-export it from the DCC tool.",
        ),
        (
            "RENDER_UNSUPPORTED_EXTENSION",
            "The model requires an extension the renderer cannot draw (Draco, meshopt, KTX2)",
            "Deliver the uncompressed master; SHAZAM makes compressed copies for channels.",
        ),
        (
            "RENDER_TEXTURE_TOO_LARGE",
            "A texture declares more pixels or bytes than SHAZAM decodes",
            "Use textures of at most 8192 x 8192 pixels (the channel profiles allow 4096).",
        ),
        (
            "RENDER_NO_GEOMETRY",
            "The model has no triangles to draw",
            "Export the mesh with its geometry.",
        ),
        (
            "RENDER_TIMEOUT",
            "The render ran past its deadline and was stopped",
            "Simplify the model (fewer nodes, triangles, texture pixels), or raise --deadline.",
        ),
        (
            "RENDER_CRASHED",
            "The render process died",
            "Run again; if it repeats for one model, report it with the model.",
        ),
        (
            "RENDER_FAILED",
            "The render failed with an unexpected error",
            "Run again; if it repeats, report it with the model.",
        ),
        (
            "RENDER_VIDEO_FAILED",
            "The video encoder failed",
            "Check free disk space and the output folder; run again.",
        ),
        (
            "RENDER_UPLOAD_INCOMPLETE",
            "A rendered file arrived in the store incomplete; nothing was committed",
            "Run the render again; the earlier committed set is unchanged.",
        ),
    ),
    _stage(
        "publish",
        (
            "PUBLISH_BAD_ASIN",
            "The ASIN is malformed, so it names no store folder",
            "Use a valid ASIN.",
        ),
        (
            "PUBLISH_NOT_APPROVED",
            "The ASIN has no approved version pointer",
            "Approve a version first (`shazam qa approve`).",
        ),
        (
            "PUBLISH_VERSION_MISSING",
            "The approved version has no version.json (deleted or never stored)",
            "Roll back (`shazam qa rollback`) or approve another version.",
        ),
        (
            "PUBLISH_NO_MODEL",
            "The version's manifest lists no stored model files",
            "Upload the delivery again so it is stored with its file list.",
        ),
        (
            "PUBLISH_NO_TURNTABLE",
            "The approved version has no turntable yet",
            "Render it first (the publish job does, or `shazam backfill --stage render`).",
        ),
        (
            "PUBLISH_SOURCE_MISSING",
            "A file the manifests list is not in the store",
            "Restore the object, or render the version again.",
        ),
        (
            "PUBLISH_COPY_INCOMPLETE",
            "A copied file has another size than its source; the live page was kept",
            "Publish again.",
        ),
        ("PUBLISH_VIEWER_MISSING", "model-viewer is not installed", "Run `make setup`."),
        (
            "PUBLISH_USDZ_UNREADABLE",
            "The model cannot be converted to USDZ (unreadable, no triangles, or it requires "
            "Draco, meshopt or KTX2)",
            "Deliver the uncompressed glTF master; `shazam validate` names what is wrong.",
        ),
        (
            "PUBLISH_USDZ_TOO_LARGE",
            "The model has more triangles, meshes or texture pixels than a USDZ is made for",
            "Simplify the model or shrink its textures to the channel profile's budget.",
        ),
        (
            "PUBLISH_USDZ_INVALID",
            "The USDZ made from the model fails the ARKit compliance checks",
            "Report it with the model (a converter defect); the page is published without AR "
            "on iOS until then.",
        ),
        (
            "PUBLISH_USDZ_FAILED",
            "usd-core failed while writing the USDZ",
            "Run again; if it repeats for one model, report it with the model.",
        ),
        (
            "PUBLISH_DERIVATIVE_INVALID",
            "A channel derivative has Khronos glTF-Validator errors; the page serves the master",
            "Validate the master (`shazam validate`) and report the derivative's error codes.",
        ),
        (
            "PUBLISH_DERIVATIVE_INCOMPLETE",
            "A channel derivative lost materials, variants or extensions of the master; the page serves the master",
            "Report the master's extensionsUsed: glTF-Transform does not carry one of them.",
        ),
        (
            "PUBLISH_DERIVATIVE_SSIM",
            "A channel derivative renders below its channel's SSIM floor against the master; the page serves the master",
            "Raise the channel's texture size or quantization bits (publish/derivatives.py PROFILES).",
        ),
        (
            "PUBLISH_DERIVATIVE_OVER_BUDGET",
            "A channel derivative is over its channel's byte budget; the page serves the master",
            "Reduce the master's texture count or triangles, or lower the channel's texture size.",
        ),
        (
            "PUBLISH_DERIVATIVE_NOT_SMALLER",
            "A channel derivative is no smaller than the master; the page serves the master",
            "Nothing to do: the master is already as small as the channel's compression makes it.",
        ),
    ),
    _stage(
        "search",
        (
            "SEARCH_BAD_QUERY",
            "The query names neither or both of asin= and text=",
            "Give exactly one of asin= or text=, or POST a photo to /search/image.",
        ),
        ("SEARCH_BAD_ASIN", "The ASIN is malformed", "Use a valid ASIN."),
        ("SEARCH_BAD_IMAGE", "The query photo cannot be read", "Send a JPEG, PNG or WebP photo."),
        (
            "SEARCH_PHOTO_TOO_LARGE",
            "The query photo is too large (bytes or pixels)",
            "Send a photo under the limits in the API docs (a phone photo resized to 4k fits).",
        ),
        (
            "SEARCH_BAD_VECTOR",
            "An embedding has the wrong shape or non-finite values",
            "Report it (a defect).",
        ),
        (
            "SEARCH_DIM_MISMATCH",
            "Vectors of another dimension than the index holds",
            "Rebuild the index with `shazam search-index`.",
        ),
        (
            "SEARCH_EMBEDDER_MISMATCH",
            "The index was built with another embedder",
            "Rebuild the index with `shazam search-index`.",
        ),
        (
            "SEARCH_EMBEDDER_UNKNOWN",
            "The embedder name is unknown",
            "Use 'descriptor' or 'open_clip:/path/to/checkpoint'.",
        ),
        (
            "SEARCH_EMBEDDER_NOT_FOUND",
            "The embedder's local checkpoint does not exist",
            "Point at a checkpoint file on this machine (nothing is downloaded).",
        ),
        (
            "SEARCH_EMBEDDER_UNAVAILABLE",
            "The embedder's optional package is not installed",
            "pip install the package the message names, or use 'descriptor'.",
        ),
        (
            "SEARCH_CATALOGUE_UNREADABLE",
            "The catalogue file cannot be read",
            "Give a CSV or Parquet file.",
        ),
        ("SEARCH_CATALOGUE_COLUMNS", "The catalogue has no 'asin' column", "Add an 'asin' column."),
        (
            "SEARCH_INDEX_MISSING",
            "The store has no search table yet",
            "Build it with `shazam search-index` (or the search_rebuild_job); publishes then "
            "update it one ASIN at a time.",
        ),
        (
            "SEARCH_STORE_UNSUPPORTED",
            "The search table cannot live in this kind of store",
            "Use a local folder (file://) or an S3 store (s3://bucket/prefix).",
        ),
        (
            "SEARCH_INDEX_CONFLICT",
            "Another writer updated the index first",
            "Nothing is lost; the write is retried from the new index.",
        ),
        (
            "SEARCH_INDEX_CORRUPT",
            "An index file fails its checksum",
            "Rebuild the index with `shazam search-index`.",
        ),
        (
            "SEARCH_INDEX_INCOMPLETE",
            "The index pointer names an incomplete index",
            "Rebuild the index with `shazam search-index`.",
        ),
        (
            "SEARCH_UNAVAILABLE",
            "The search index cannot be loaded right now",
            "The server's log says why; the service answers again once the index loads.",
        ),
    ),
    _stage(
        "studio",
        (
            "STUDIO_NOT_CONFIGURED",
            "The studio's identity provider or session secret is not set",
            "Set SHAZAM_OIDC_ISSUER, SHAZAM_OIDC_CLIENT_ID, SHAZAM_OIDC_CLIENT_SECRET and "
            "SHAZAM_STUDIO_SESSION_SECRET, or run `shazam studio --dev-identity-provider` locally.",
        ),
        (
            "STUDIO_REQUEST_TOO_LARGE",
            "A request to the studio is larger than any of its forms",
            "Files go straight to the store through the upload form, never through the studio.",
        ),
        (
            "STUDIO_DEV_PROVIDER_FAILED",
            "The development OpenID provider did not start",
            "Install the dev dependencies (`make setup`) and check that loopback ports are free.",
        ),
    ),
)


# Refusals that another try may get past (the cause is outside the input), for the docs: each is
# raised only as a TransientError subclass (a test keeps the two in step). Every other code is
# permanent: retrying the same input gives the same answer.
TRANSIENT_CODES = frozenset(
    {
        "STORE_FAILED",
        "NOTIFY_FAILED",
        "RENDER_CRASHED",
        "QA_DECISION_CONTENDED",
        "SEARCH_INDEX_CONFLICT",
    }
)


def is_transient(code: str) -> bool:
    """Whether `code` is raised as a TransientError (the docs mark it so)."""
    return code in TRANSIENT_CODES


def all_codes() -> list[ErrorCode]:
    return [code for stage in STAGES for code in stage.codes]


def find(code: str) -> ErrorCode | None:
    """The catalogue's entry for `code`, or None when it is not listed."""
    return _BY_CODE.get(code)


def markdown() -> str:
    """The second half of docs/error-codes.md."""
    lines = [
        "",
        "# Other refusal codes",
        "",
        "Raised by the stages after validation, the object store and the command line (which",
        "prints `CODE: message` and exits 2), each as a `ShazamError` of severity `error` whose",
        "`hint` is the last column. A pipeline step that fails with a *transient* code (raised as",
        "a `TransientError`) is retried, the cause being outside the input; any other code fails",
        "it for good.",
    ]
    for stage in STAGES:
        lines += ["", f"## {stage.name}", "", "| code | meaning | what to do |", "|---|---|---|"]
        lines += [
            f"| `{c.code}`{' (transient)' if is_transient(c.code) else ''} | {c.summary} | {c.hint} |"
            for c in stage.codes
        ]
    return "\n".join(lines) + "\n"


_BY_CODE = {c.code: c for c in all_codes()}
