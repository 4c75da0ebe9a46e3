"""`shazam studio`: the signed-in web app where artists work and reviewers decide.

Every route names the `Action` it performs (`shazam_assets.studio.access`) and is wrapped in
`shazam_assets.studio.http.guarded`, which checks on the server who may perform it.

The pages are in route modules, each a list of routes: `auth` (sign-in), `pages` (home, board,
an ASIN's production and deliveries, audit log, metrics), `uploads` (browser uploads straight to
the store), `review` (the review pages and decisions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from shazam_assets.platform import layout, viewer, web
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.studio import auth, pages, review, uploads
from shazam_assets.studio.config import StudioConfig
from shazam_assets.studio.http import MAX_BODY_BYTES, STATIC_FILES, STATIC_TYPES, error_page, render

# --- the few routes every deployment needs ----------------------------------------------------


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. No dependency is asked (a store outage is no reason to
    restart every pod)."""
    return JSONResponse({"ok": True})


async def readyz(request: Request) -> Response:
    """Readiness: the store answers and the provider's discovery document is loaded."""
    state = request.app.state
    problems = []
    try:
        await run_in_threadpool(lambda: next(iter(state.store.list(layout.audit_prefix())), None))
    except Exception as exc:  # any store failure means not ready; the log says which
        problems.append(f"store: {type(exc).__name__}")
    try:
        await state.oauth.load_server_metadata()
    except Exception as exc:
        problems.append(f"identity provider: {type(exc).__name__}")
    status = 503 if problems else 200
    return JSONResponse({"ready": not problems, "problems": problems}, status_code=status)


async def signed_out(request: Request) -> Response:
    return render(request, "signed_out.html", {})


def static_file(request: Request) -> Response:
    path = STATIC_FILES.get(request.path_params["name"])
    if path is None or not path.is_file():
        raise HTTPException(
            404, f"No such static file. Run `{viewer.INSTALL_HINT}` for the viewer."
        )
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix])


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, str(exc.detail))


# --- the app ----------------------------------------------------------------------------------


def create_app(
    store: ObjectStore,
    config: StudioConfig,
    *,
    sla: timedelta = DEFAULTS.review_sla,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS,
) -> Starlette:
    """The studio over `store`, signing people in with the provider `config` names."""
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/signed-out", signed_out),
        Route("/static/{name:path}", static_file),
        *auth.routes(),
        *pages.routes(),
        *uploads.routes(),
        *review.routes(),
    ]
    middleware = [
        *web.guard(
            allowed_hosts,
            max_body_bytes=MAX_BODY_BYTES,
            body_refusal=web.BodyRefusal("STUDIO_REQUEST_TOO_LARGE", "the request is too large"),
            body_limits_by_path=uploads.body_limits(store, config),  # a local store's upload parts
            csp=web.content_security_policy(connect_to=uploads.connect_origins(store, config)),
        ),
        Middleware(
            SessionMiddleware,
            secret_key=config.session_secret,
            session_cookie=auth.SESSION_COOKIE,
            max_age=int(config.max_session.total_seconds()),
            same_site="lax",
            https_only=True,  # Secure: browsers treat loopback http as secure too
        ),
    ]
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error}
    )
    app.state.store, app.state.config, app.state.sla, app.state.clock = store, config, sla, clock
    app.state.oauth = auth.oauth_client(config)
    app.state.error_page = error_page
    return app


def serve(
    store: ObjectStore,
    config: StudioConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8421,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Run the studio until interrupted (uvicorn, one process); `allowed_hosts` are the names
    it is published under besides `host` and loopback."""
    import uvicorn

    app = create_app(store, config, allowed_hosts=web.allowed_hosts_for(host, allowed_hosts))
    uvicorn.run(
        app, host=host, port=port, log_level="info", server_header=False, proxy_headers=True
    )
