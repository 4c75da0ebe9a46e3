"""Review in the studio: the review pages (`shazam_assets.qa.review`) for signed-in reviewers,
the decision recorded under the signed-in identity, and a lead's roll back and unpublish.

    GET  /review                                  pending reviews (oldest first, overdue marked)
    GET  /review/asins/<ASIN>/v<N>                one version: 3D model, photos, scores, decision
    POST /review/asins/<ASIN>/v<N>/decision       approve or reject (as the signed-in reviewer)
    GET  /review/asins/<ASIN>/v<N>/compare        the version beside the previous stored one
    GET  /review/asins/<ASIN>/v<N>/files/<path>   the model and its glTF resources
    GET  /review/asins/<ASIN>/v<N>/photos/<i>     the i-th reference photo
    GET  /review/asins/<ASIN>/v<N>/contact-sheet  the contact sheet automatic QA rendered
    POST /asins/<ASIN>/rollback                   publish the previous approved version again
    POST /asins/<ASIN>/unpublish                  take the ASIN off the shop (a reason is required)

The decision is written exactly as `shazam qa approve/reject` writes it (`record_decision`,
source "studio"); the QA sensor turns it into the `qa_approved` check as before. The reviewer's
name is the signed-in person's: no form field names anyone. Every change is in the audit log.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shazam_assets.operations.unpublish import unpublish_asin
from shazam_assets.platform import viewer
from shazam_assets.platform.errors import ShazamError
from shazam_assets.qa import decisions
from shazam_assets.qa.review import guard as form_guard
from shazam_assets.qa.review import handlers, views
from shazam_assets.qa.review.resolve import ReviewVersion
from shazam_assets.studio.access import Action, Identity
from shazam_assets.studio.http import STATIC_FILES, error_page, guarded, record, render

SOURCE = "studio"  # Decision.source of the decisions taken here
# The search index's embedder, as `shazam unpublish` (its --embedder default) and the
# pipeline's search resource use it: unpublishing updates the same index.
UNPUBLISH_EMBEDDER = "descriptor"


def viewer_installed() -> bool:
    return STATIC_FILES["model-viewer.min.js"].is_file()


def _identity(request: Request) -> Identity:
    identity: Identity = request.state.identity
    return identity


def _version(request: Request) -> ReviewVersion:
    params = request.path_params
    return handlers.version_or_404(request.app.state.store, params["asin"], params["version"])


# --- pages ------------------------------------------------------------------------------------


async def pending_page(request: Request) -> Response:
    state = request.app.state
    context = await run_in_threadpool(
        views.pending_context, state.store, now=state.clock(), sla=state.sla
    )
    return render(request, "pending.html", context)


def _version_response(
    request: Request,
    *,
    form: dict[str, str],
    error: decisions.DecisionError | None = None,
    status_code: int = 200,
) -> Response:
    state = request.app.state
    item = _version(request)
    context = handlers.version_page_context(
        state.store,
        item,
        now=state.clock(),
        sla=state.sla,
        recorded_asked=request.query_params.get("recorded") == "1",
        form=form,
        error=error,
    )
    context.update(viewer_installed=viewer_installed(), install_hint=viewer.INSTALL_HINT)
    return render(request, "version.html", context, status_code=status_code)


async def version_page(request: Request) -> Response:
    return await run_in_threadpool(_version_response, request, form={"notes": ""})


async def compare_page(request: Request) -> Response:
    def load() -> dict[str, Any]:
        return views.compare_context(request.app.state.store, _version(request))

    context = await run_in_threadpool(load)
    context.update(viewer_installed=viewer_installed(), install_hint=viewer.INSTALL_HINT)
    return render(request, "compare.html", context)


# --- the decision -----------------------------------------------------------------------------


def _decide(request: Request, form: dict[str, str]) -> Response:
    store, identity = request.app.state.store, _identity(request)
    item = _version(request)
    try:
        decision = handlers.decide(
            store, item, form, reviewer=identity.person.display, source=SOURCE
        )
    except decisions.DecisionError as exc:
        status = handlers.refusal_status(exc)
        return _version_response(
            request, form=handlers.shown_back(form), error=exc, status_code=status
        )
    record(
        request,
        "qa.decide",
        f"{item.asin} v{item.version}",
        {
            "verdict": decision.verdict.value,
            "notes": decision.notes,
            "version": item.version,
            "decided_at": decision.decided_at,
        },
    )
    return RedirectResponse(handlers.decided_url(item), status_code=303)


async def _form(request: Request) -> dict[str, str] | Response:
    try:
        return await form_guard.read_form(request)
    except form_guard.FormError as exc:
        return error_page(request, exc.status, exc.message)


async def decision_post(request: Request) -> Response:
    form = await _form(request)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(_decide, request, form)


# --- files ------------------------------------------------------------------------------------


async def model_file(request: Request) -> Response:
    def serve() -> Response:
        item = _version(request)
        return handlers.model_file(request.app.state.store, item, request.path_params["path"])

    return await run_in_threadpool(serve)


async def photo_file(request: Request) -> Response:
    def serve() -> Response:
        item = _version(request)
        return handlers.photo_file(request.app.state.store, item, request.path_params["index"])

    return await run_in_threadpool(serve)


async def contact_sheet(request: Request) -> Response:
    def serve() -> Response:
        return handlers.contact_sheet(request.app.state.store, _version(request))

    return await run_in_threadpool(serve)


# --- a lead's roll back and unpublish ---------------------------------------------------------


def _refused(request: Request, what: str, exc: ShazamError) -> Response:
    return error_page(request, 409, f"{what} refused: {exc.code}: {exc.message}")


async def rollback(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]
    try:
        done = await run_in_threadpool(decisions.rollback, store, asin)
    except ShazamError as exc:
        return _refused(request, "Roll back", exc)
    await run_in_threadpool(
        record,
        request,
        "qa.rollback",
        asin,
        {"version": done.version, "previous": done.previous},
    )
    done_text = f"rolled back to v{done.version} (was v{done.previous})"
    return RedirectResponse(f"/asins/{asin}?done={urllib.parse.quote(done_text)}", status_code=303)


async def unpublish(request: Request) -> Response:
    store, asin, identity = request.app.state.store, request.path_params["asin"], _identity(request)
    form = await _form(request)
    if isinstance(form, Response):
        return form
    reason = " ".join(form.get("reason", "").split())
    if not reason:
        return error_page(request, 422, "Say why the ASIN is taken off the shop (a reason).")
    if len(reason) > 500:
        return error_page(request, 422, "The reason is longer than 500 characters.")
    recorded = f"{reason} (by {identity.person.display} in the studio)"
    try:
        done = await run_in_threadpool(
            lambda: unpublish_asin(store, asin, reason=recorded, embedder=UNPUBLISH_EMBEDDER)
        )
    except ShazamError as exc:
        return _refused(request, "Unpublish", exc)
    await run_in_threadpool(
        record,
        request,
        "publish.unpublish",
        asin,
        {
            "version": done.version,
            "reason": reason,
            "page_was_live": done.page.was_live,
            "files_deleted": done.page.files_deleted,
        },
    )
    return RedirectResponse(
        f"/asins/{asin}?done={urllib.parse.quote(f'unpublished v{done.version}')}", status_code=303
    )


_VERSION = "/review/asins/{asin}/v{version:int}"


def routes() -> list[Route]:
    return [
        Route("/review", guarded(Action.REVIEW)(pending_page)),
        Route(_VERSION, guarded(Action.REVIEW)(version_page)),
        Route(_VERSION + "/decision", guarded(Action.DECIDE)(decision_post), methods=["POST"]),
        Route(_VERSION + "/compare", guarded(Action.REVIEW)(compare_page)),
        Route(_VERSION + "/files/{path:path}", guarded(Action.REVIEW)(model_file)),
        Route(_VERSION + "/photos/{index:int}", guarded(Action.REVIEW)(photo_file)),
        Route(_VERSION + "/contact-sheet", guarded(Action.REVIEW)(contact_sheet)),
        Route("/asins/{asin}/rollback", guarded(Action.ROLLBACK)(rollback), methods=["POST"]),
        Route("/asins/{asin}/unpublish", guarded(Action.UNPUBLISH)(unpublish), methods=["POST"]),
    ]
