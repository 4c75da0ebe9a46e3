"""`shazam studio`: the signed-in web app where artists work and reviewers decide.

Every route names the `Action` it performs (`shazam_assets.studio.access`); `guarded` checks,
on the server, before the handler runs: a signed-in, unexpired session (pages redirect to
/login, everything else answers 401), a role that allows the action, for an artist the ASIN
being assigned to them (403 otherwise), and for a change a same-origin request (403). The
handler reads who is acting from `request.state.identity`; nothing in a form names a person.

The pages are in route modules, each a list of routes: `auth` (sign-in), `pages` (home, board,
an ASIN's production and deliveries, audit log, metrics), `uploads` (browser uploads straight to
the store), `review` (the review pages and decisions).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from shazam_assets.platform import layout, viewer, web
from shazam_assets.platform.asin import is_valid_asin
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore, read_json
from shazam_assets.qa.review import guard as form_guard
from shazam_assets.qa.review import views as review_views
from shazam_assets.studio import auth
from shazam_assets.studio.access import Action, Identity, actions_for, allowed
from shazam_assets.studio.config import StudioConfig

HERE = Path(__file__).resolve().parent
REVIEW_TEMPLATES = HERE.parent / "qa" / "review" / "templates"
STATIC_DIR = HERE / "static"
REVIEW_STATIC = HERE.parent / "qa" / "review" / "static"

STATIC_FILES = {
    "studio.css": STATIC_DIR / "studio.css",
    "studio.js": STATIC_DIR / "studio.js",
    "review.css": REVIEW_STATIC / "review.css",
    "review.js": REVIEW_STATIC / "review.js",
    **viewer.viewer_files(),
}
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm"}

# The largest request body any studio route reads (forms and upload bookkeeping, never a file:
# files go straight to the store).
MAX_BODY_BYTES = 64 * 1024

# Studio pages extend the studio's base.html; the review pages (qa/review/templates) are
# rendered inside the same chrome, because the studio's folder is searched first.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(str(HERE / "templates")),
                jinja2.FileSystemLoader(str(REVIEW_TEMPLATES)),
            ]
        ),
        autoescape=True,
    )
)
templates.env.filters["age"] = review_views.format_age
templates.env.filters["num"] = review_views.format_number
templates.env.globals["version_url"] = review_views.version_url
templates.env.globals["Action"] = Action


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A studio page: the template with who is signed in and what they may do."""
    identity: Identity | None = getattr(request.state, "identity", None)
    context = {
        "identity": identity,
        "can": (lambda action: identity is not None and allowed(identity, action)),
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, detail: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status)
    return render(request, "error.html", {"status": status, "detail": detail}, status_code=status)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def assignee_of(store: ObjectStore, asin: str) -> str | None:
    """The `sub` of the artist `asin` is assigned to now, or None."""
    record = read_json(store, layout.assignment_key(asin))
    try:
        return None if record is None else str(record["artist"]["sub"])
    except (KeyError, TypeError):
        return None


Handler = Callable[[Request], Awaitable[Response]]


def guarded(action: Action) -> Callable[[Handler], Handler]:
    """The route performs `action`: refuse the request unless its signed-in identity may.

    A route with an `{asin}` path parameter acts on that ASIN: an artist passes only when it is
    assigned to them. A route that changes state (any method but GET/HEAD) must come from the
    studio's own pages (Origin / Sec-Fetch-Site), as the review page's decisions always did."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: Request) -> Response:
            state = request.app.state
            identity = auth.current_identity(request, now=state.clock())
            changing = request.method not in ("GET", "HEAD")
            if identity is None:
                if changing or _wants_json(request):
                    return error_page(request, 401, "Sign in to the studio first.")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
            request.state.identity = identity
            if changing:
                reason = form_guard.cross_site_reason(request)
                if reason is not None:
                    return error_page(request, 403, f"Refused: {reason}.")
            asin = request.path_params.get("asin")
            if asin is not None and not is_valid_asin(str(asin)):
                return error_page(request, 404, f"{asin!r} is not an ASIN.")
            assignee = None
            if asin is not None:
                assignee = await run_in_threadpool(assignee_of, state.store, str(asin))
            if not allowed(identity, action, assignee=assignee):
                return error_page(
                    request, 403, _refusal(identity, action, asin=asin, assignee=assignee)
                )
            request.state.actions = actions_for(identity, assignee=assignee)
            return await handler(request)

        return checked

    return wrap


def _quote(path: str) -> str:
    import urllib.parse

    return urllib.parse.quote(path, safe="/")


def _refusal(identity: Identity, action: Action, *, asin: Any, assignee: str | None) -> str:
    roles = ", ".join(identity.role_names) or "no studio role"
    if asin is not None and identity.roles and assignee != identity.person.sub:
        return f"{asin} is not assigned to you, and your roles ({roles}) do not allow {action}."
    return f"Your roles ({roles}) do not allow {action}. Ask a lead if you need it."


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
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix])


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
    from shazam_assets.studio import pages, review

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/signed-out", signed_out),
        Route("/static/{name:path}", static_file),
        *auth.routes(),
        *pages.routes(),
        *review.routes(),
    ]
    middleware = [
        *web.guard(
            allowed_hosts,
            max_body_bytes=MAX_BODY_BYTES,
            body_refusal=web.BodyRefusal("STUDIO_REQUEST_TOO_LARGE", "the request is too large"),
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
    port: int = 8422,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Run the studio until interrupted (uvicorn, one process); `allowed_hosts` are the names
    it is published under besides `host` and loopback."""
    import uvicorn

    app = create_app(store, config, allowed_hosts=web.allowed_hosts_for(host, allowed_hosts))
    uvicorn.run(
        app, host=host, port=port, log_level="info", server_header=False, proxy_headers=True
    )
