"""What every studio route shares: the templates, the error page, and `guarded`, which checks
on the server who may perform a route's `Action` before its handler runs.

`guarded` refuses a request without a signed-in, unexpired session (pages redirect to /login,
everything else answers 401), whose roles do not allow the action, or — for an artist — whose
`{asin}` path parameter is not assigned to them (403), and any change (a method other than
GET/HEAD) that does not come from the studio's own pages (Origin / Sec-Fetch-Site, 403). The
handler then reads who is acting from `request.state.identity`; nothing in a form names a
person.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from shazam_assets.platform import audit, viewer
from shazam_assets.platform.asin import is_valid_asin
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.production import tracking
from shazam_assets.qa.review import guard as form_guard
from shazam_assets.qa.review import views as review_views
from shazam_assets.studio import auth
from shazam_assets.studio.access import Action, Identity, actions_for, allowed

HERE = Path(__file__).resolve().parent
REVIEW_TEMPLATES = HERE.parent / "qa" / "review" / "templates"
STATIC_DIR = HERE / "static"
REVIEW_STATIC = HERE.parent / "qa" / "review" / "static"

STATIC_FILES = {
    "studio.css": STATIC_DIR / "studio.css",
    "studio.js": STATIC_DIR / "studio.js",
    "upload.js": STATIC_DIR / "upload.js",
    "review.css": REVIEW_STATIC / "review.css",
    "review.js": REVIEW_STATIC / "review.js",
    **viewer.viewer_files(),
}
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm"}

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
    try:
        assignment = tracking.read_assignment(store, asin)
    except (ValueError, KeyError, TypeError):  # an unreadable record assigns nobody
        return None
    return None if assignment is None else assignment.artist.sub


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
    return urllib.parse.quote(path, safe="/")


def _refusal(identity: Identity, action: Action, *, asin: Any, assignee: str | None) -> str:
    roles = ", ".join(identity.role_names) or "no studio role"
    if asin is not None and identity.roles and assignee != identity.person.sub:
        return f"{asin} is not assigned to you, and your roles ({roles}) do not allow {action}."
    return f"Your roles ({roles}) do not allow {action}. Ask a lead if you need it."


def record(
    request: Request,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    identity: Identity | None = None,
) -> None:
    """Append what the signed-in person (or `identity`, at sign-in) just did to the audit log,
    at the studio's clock. Blocking: call it from a worker thread (run_in_threadpool)."""
    state = request.app.state
    who: Identity = identity or request.state.identity
    audit.record(
        state.store,
        actor=who.person,
        roles=who.role_names,
        action=action,
        target=target,
        details=details,
        now=state.clock(),
    )
