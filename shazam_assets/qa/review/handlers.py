"""What the review pages answer, for an app that signs its reviewers in (the studio,
`shazam_assets.studio.review`, wraps each of these in its access checks and its page chrome).

    the pending list, one version (3D model, photos, QA scores, decision), the comparison with
    the previous version, the decision itself, and the version's files: the model and its glTF
    resources, the i-th reference photo (refused when its header declares too many pixels), the
    contact sheet automatic QA rendered

Files are found through the version manifest, never through a path or URL from the request,
and the store's URL never reaches a page. Everything here is synchronous: the app calls it in
its thread pool. Nobody's name comes from a form: the app passes the signed-in reviewer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response, StreamingResponse

from shazam_assets.platform import freetext, imaging
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.qa.decisions import Decision, DecisionError, Verdict, record_decision
from shazam_assets.qa.review import resolve, views
from shazam_assets.qa.review.resolve import ReviewVersion, ServedFile

_CHUNK = 1 << 20
_IMMUTABLE = "private, max-age=31536000, immutable"  # version files never change

# Input mistakes are the reviewer's to fix (422); the rest are conflicts with the store (409).
_INPUT_CODES = frozenset({"QA_NOTE_REQUIRED", "QA_REVIEWER_REQUIRED", *freetext.CODES})
_GONE_CODES = frozenset({"QA_UNKNOWN_VERSION", "QA_VERSION_DELETED"})


def version_or_404(store: ObjectStore, asin: str, version: int) -> ReviewVersion:
    item = resolve.load_version(store, asin, version)
    if item is None:
        raise HTTPException(404, f"There is no stored version {asin} v{version}.")
    return item


# --- pages ------------------------------------------------------------------------------------


def version_page_context(
    store: ObjectStore,
    item: ReviewVersion,
    *,
    now: datetime,
    sla: timedelta,
    recorded_asked: bool,
    form: Mapping[str, str],
    error: DecisionError | None = None,
) -> dict[str, Any]:
    """The version page's content; after a decision (`recorded_asked`, and one is stored) it
    confirms it and offers the oldest version still waiting."""
    context = views.version_context(store, item, now=now)
    recorded = error is None and recorded_asked and context["decision"] is not None
    context.update(
        form=dict(form),
        error=error,
        recorded=recorded,
        next_pending=views.next_pending(store, now=now, sla=sla) if recorded else None,
    )
    return context


# --- the decision -----------------------------------------------------------------------------


def decide(
    store: ObjectStore, item: ReviewVersion, form: Mapping[str, str], *, reviewer: str, source: str
) -> Decision:
    """Record the verdict and notes of `form` as `reviewer`'s decision (the name the app knows,
    never one from the form). A refusal is a DecisionError (see `refusal_status`)."""
    verdict = form.get("verdict", "")
    if verdict not in {v.value for v in Verdict}:
        raise HTTPException(422, "Choose Approve or Reject.")
    return record_decision(
        store,
        asin=item.asin,
        version=item.version,
        verdict=verdict,
        reviewer=reviewer,
        notes=form.get("notes", ""),
        source=source,
    )


def refusal_status(exc: DecisionError) -> int:
    """The HTTP status of a refused decision: 422 to fix the input, 404 gone, 409 conflict."""
    return 422 if exc.code in _INPUT_CODES else 404 if exc.code in _GONE_CODES else 409


def shown_back(form: Mapping[str, str]) -> dict[str, str]:
    """A refused form's fields as the page shows them again (never raw surrogates)."""
    return {name: freetext.readable(value) for name, value in form.items()}


def decided_url(item: ReviewVersion) -> str:
    return f"{views.version_url(item.asin, item.version)}?recorded=1#decision"


# --- files ------------------------------------------------------------------------------------


def _stream(store: ObjectStore, served: ServedFile | None, *, cache: str) -> Response:
    info = store.head(served.key) if served is not None else None
    if served is None or info is None:
        raise HTTPException(404, "No such file in this version.")

    def body() -> Iterator[bytes]:
        with store.open_read(served.key) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    headers = {"content-length": str(info.size), "cache-control": cache}
    return StreamingResponse(body(), media_type=served.content_type, headers=headers)


def model_file(store: ObjectStore, item: ReviewVersion, path: str) -> Response:
    """The model, or one of the glTF resources validation read for it; nothing else."""
    return _stream(store, resolve.model_file(item, path), cache=_IMMUTABLE)


def photo_file(store: ObjectStore, item: ReviewVersion, index: int) -> Response:
    """The photo, once its header is known to declare no more pixels than SHAZAM decodes: the
    reviewer's browser is never handed a decompression bomb (a version stored before
    validation checked it). Photos are small, so it is read whole and sent from memory."""
    served = resolve.photo_file(item, index)
    try:
        data = store.get_bytes(served.key) if served is not None else None
    except ObjectNotFound:
        data = None
    if served is None or data is None:
        raise HTTPException(404, "No such file in this version.")
    try:
        with imaging.open_image(data):
            pass
    except imaging.ImageRefused as exc:
        raise HTTPException(422, f"This photo is not shown: {exc.message} ({exc.code}).") from None
    return Response(data, media_type=served.content_type, headers={"cache-control": _IMMUTABLE})


def contact_sheet(store: ObjectStore, item: ReviewVersion) -> Response:
    return _stream(store, resolve.contact_sheet_file(store, item), cache="no-cache")
