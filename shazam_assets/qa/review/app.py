"""`shazam review`: the web page where QA reviewers look at a stored version and decide.

Pages:
    GET  /                                   pending reviews (oldest first) and recent decisions
    GET  /asins/<ASIN>/v<N>                  one version: 3D model, photos, QA scores, decision form
    POST /asins/<ASIN>/v<N>/decision         approve or reject (record_decision, source review-page)
    GET  /asins/<ASIN>/v<N>/files/<path>     the model and its glTF resources (listed in version.json)
    GET  /asins/<ASIN>/v<N>/photos/<i>       the i-th reference photo of the delivery manifest
                                             (refused when its header declares too many pixels)
    GET  /asins/<ASIN>/v<N>/contact-sheet    the contact sheet rendered by automatic QA
    GET  /static/<name>                      the page's CSS/JS and the locally installed model-viewer

Files are found through the version manifest, never through a path or URL from the request,
and the store's URL never reaches a page. Store calls run in Starlette's thread pool.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from shazam_assets.platform import freetext, imaging, viewer, web
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.qa.decisions import DecisionError, Verdict, record_decision
from shazam_assets.qa.review import guard, resolve, views
from shazam_assets.qa.review.resolve import ReviewVersion, ServedFile

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
INSTALL_HINT = viewer.INSTALL_HINT
REVIEWER_COOKIE = "shazam_reviewer"
SOURCE = "review-page"
_CHUNK = 1 << 20
_IMMUTABLE = "private, max-age=31536000, immutable"  # version files never change

# The only files /static serves: page assets, and model-viewer with the decoders it loads
# for Draco meshes and KTX2 textures (served here, so nothing comes from a CDN).
STATIC_FILES = {
    "review.css": STATIC_DIR / "review.css",
    "review.js": STATIC_DIR / "review.js",
    **viewer.viewer_files(),
}

_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm"}

# Input mistakes are the reviewer's to fix (422); the rest are conflicts with the store (409).
_INPUT_CODES = frozenset({"QA_NOTE_REQUIRED", "QA_REVIEWER_REQUIRED", *freetext.CODES})
_GONE_CODES = frozenset({"QA_UNKNOWN_VERSION", "QA_VERSION_DELETED"})

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["age"] = views.format_age
templates.env.filters["num"] = views.format_number
templates.env.globals["version_url"] = views.version_url


def viewer_installed() -> bool:
    return STATIC_FILES["model-viewer.min.js"].is_file()


def _state(request: Request) -> Any:
    return request.app.state


def _version_or_404(request: Request) -> ReviewVersion:
    params = request.path_params
    item = resolve.load_version(_state(request).store, params["asin"], params["version"])
    if item is None:
        raise HTTPException(
            404, f"There is no stored version {params['asin']} v{params['version']}."
        )
    return item


def _reviewer_from_cookie(request: Request) -> str:
    return freetext.readable(urllib.parse.unquote(request.cookies.get(REVIEWER_COOKIE, "")))


# --- pages ----------------------------------------------------------------------------------


def pending_page(request: Request) -> Response:
    state = _state(request)
    context = views.pending_context(state.store, now=state.clock(), sla=state.sla)
    return templates.TemplateResponse(request, "pending.html", context)


def _render_version(
    request: Request,
    item: ReviewVersion,
    *,
    form: dict[str, str],
    error: DecisionError | None = None,
    status_code: int = 200,
) -> Response:
    state = _state(request)
    context = views.version_context(state.store, item, now=state.clock())
    recorded = error is None and request.query_params.get("recorded") == "1" and context["decision"]
    context.update(
        form=form,
        error=error,
        recorded=bool(recorded),
        viewer_installed=viewer_installed(),
        install_hint=INSTALL_HINT,
        next_pending=views.next_pending(state.store, now=state.clock(), sla=state.sla)
        if recorded
        else None,
    )
    return templates.TemplateResponse(request, "version.html", context, status_code=status_code)


def version_page(request: Request) -> Response:
    item = _version_or_404(request)
    return _render_version(
        request, item, form={"reviewer": _reviewer_from_cookie(request), "notes": ""}
    )


# --- the decision ---------------------------------------------------------------------------


def _decide(request: Request, form: dict[str, str]) -> Response:
    """Record the decision (sync: runs in the thread pool), or show why it was refused."""
    item = _version_or_404(request)
    verdict = form.get("verdict", "")
    if verdict not in {v.value for v in Verdict}:
        raise HTTPException(422, "Choose Approve or Reject.")
    try:
        decision = record_decision(
            _state(request).store,
            asin=item.asin,
            version=item.version,
            verdict=verdict,
            reviewer=form.get("reviewer", ""),
            notes=form.get("notes", ""),
            source=SOURCE,
        )
    except DecisionError as exc:
        status = 422 if exc.code in _INPUT_CODES else 404 if exc.code in _GONE_CODES else 409
        shown = {
            name: freetext.readable(value) for name, value in form.items()
        }  # refused text is shown back
        return _render_version(request, item, form=shown, error=exc, status_code=status)
    target = f"{views.version_url(item.asin, item.version)}?recorded=1#decision"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        REVIEWER_COOKIE,
        urllib.parse.quote(decision.reviewer),
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
    )
    return response


async def decision_post(request: Request) -> Response:
    reason = guard.cross_site_reason(request)
    if reason is not None:
        raise HTTPException(403, f"Decision refused: {reason}.")
    try:
        form = await guard.read_form(request)
    except guard.FormError as exc:
        raise HTTPException(exc.status, exc.message) from None
    return await run_in_threadpool(_decide, request, form)


# --- files ----------------------------------------------------------------------------------


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


def model_file(request: Request) -> Response:
    item = _version_or_404(request)
    store = _state(request).store
    return _stream(store, resolve.model_file(item, request.path_params["path"]), cache=_IMMUTABLE)


def photo_file(request: Request) -> Response:
    """The photo, once its header is known to declare no more pixels than SHAZAM decodes: the
    reviewer's browser is never handed a decompression bomb (a version stored before
    validation checked it). Photos are small, so it is read whole and sent from memory."""
    item = _version_or_404(request)
    served = resolve.photo_file(item, request.path_params["index"])
    store = _state(request).store
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
    headers = {"cache-control": _IMMUTABLE}
    return Response(data, media_type=served.content_type, headers=headers)


def contact_sheet(request: Request) -> Response:
    item = _version_or_404(request)
    store = _state(request).store
    return _stream(store, resolve.contact_sheet_file(store, item), cache="no-cache")


def static_file(request: Request) -> Response:
    path = STATIC_FILES.get(request.path_params["name"])
    if path is None or not path.is_file():
        raise HTTPException(
            404, f"No such static file. If the 3D viewer is missing, run `{INSTALL_HINT}`."
        )
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix])


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    context = {"status": exc.status_code, "detail": exc.detail}
    return templates.TemplateResponse(request, "error.html", context, status_code=exc.status_code)


# --- the app --------------------------------------------------------------------------------

_VERSION = "/asins/{asin}/v{version:int}"


def create_app(
    store: ObjectStore,
    *,
    sla: timedelta,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS,
) -> Starlette:
    """The review app over `store`; `sla` is how long a version may wait before it is overdue.

    `clock` gives the current time (tests pin it); `allowed_hosts` are the Host header names
    the app answers to (loopback names by default: see `shazam_assets.platform.web`)."""
    routes = [
        Route("/", pending_page),
        Route(_VERSION, version_page),
        Route(_VERSION + "/decision", decision_post, methods=["POST"]),
        Route(_VERSION + "/files/{path:path}", model_file),
        Route(_VERSION + "/photos/{index:int}", photo_file),
        Route(_VERSION + "/contact-sheet", contact_sheet),
        Route("/static/{name:path}", static_file),
    ]
    middleware = web.guard(
        allowed_hosts,
        max_body_bytes=guard.MAX_FORM_BYTES,
        body_refusal=web.BodyRefusal("QA_FORM_TOO_LARGE", "the decision form is too large"),
    )
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error}
    )
    app.state.store, app.state.sla, app.state.clock = store, sla, clock
    return app


def serve(
    store: ObjectStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8421,
    sla: timedelta = DEFAULTS.review_sla,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Run the review app until interrupted (uvicorn, one process); `allowed_hosts` are the
    names it is published under besides `host` and loopback."""
    import uvicorn

    app = create_app(store, sla=sla, allowed_hosts=web.allowed_hosts_for(host, allowed_hosts))
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
