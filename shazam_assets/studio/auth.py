"""Sign-in with OpenID Connect (Authlib), and who the request comes from.

    GET  /login           redirect to the identity provider (authorization code flow, nonce, state)
    GET  /auth/callback   the provider's answer: the ID token is checked (signature from the
                          provider's keys, issuer, audience, expiry, nonce), then the session holds
                          the person, their roles and the token's expiry
    POST /logout          forget the session (a same-origin form post, like every change)

The session lives in one cookie signed with the studio's secret (Starlette's SessionMiddleware,
itsdangerous): `Secure`, `HttpOnly`, `SameSite=Lax` (the provider's redirect back is a top-level
navigation from another site; every state-changing request is also checked for a cross-site
origin). A cookie that does not verify is no session; a session past its ID token's expiry is no
session. The ID token itself is not kept.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shazam_assets.platform import audit, layout
from shazam_assets.platform.identity import Person
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.qa.review.guard import cross_site_reason
from shazam_assets.studio.access import Identity, roles_from_groups
from shazam_assets.studio.config import StudioConfig

log = logging.getLogger(__name__)

SESSION_COOKIE = "shazam_studio"
_USER = "user"
PROVIDER = "oidc"


def oauth_client(config: StudioConfig) -> Any:
    """The Authlib client for the configured provider (endpoints and keys from its discovery
    document, fetched on first use and cached)."""
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=config.client_id,
        client_secret=config.client_secret or None,
        server_metadata_url=config.discovery_url,
        client_kwargs={"scope": config.scope, "code_challenge_method": "S256"},
    )
    return oauth.create_client(PROVIDER)


def current_identity(request: Request, *, now: datetime | None = None) -> Identity | None:
    """The signed-in identity of this request, or None (no session, a forged or expired one)."""
    data = request.session.get(_USER)
    if not isinstance(data, dict):
        return None
    try:
        identity = Identity(
            person=Person.from_json(data["person"]),
            roles=roles_from_groups(list(data["roles"])),
            expires_at=datetime.fromtimestamp(int(data["exp"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return None if identity.expired(now) else identity


def session_data(identity: Identity) -> dict[str, Any]:
    """What the session cookie holds for a signed-in identity."""
    return {
        "person": identity.person.to_json(),
        "roles": list(identity.role_names),
        "exp": int(identity.expires_at.timestamp()),
    }


def identity_from_claims(
    claims: dict[str, Any], config: StudioConfig, *, now: datetime
) -> Identity:
    """The identity an ID token's (already verified) claims describe."""
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    person = Person(
        sub=str(claims["sub"]),
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
        email=str(claims.get("email") or ""),
    )
    return Identity(
        person=person,
        roles=roles_from_groups(claims.get(config.groups_claim)),
        expires_at=min(expires, now + config.max_session),
    )


def _error_page(request: Request, status: int, detail: str) -> Response:
    page: Response = request.app.state.error_page(request, status, detail)
    return page


def _redirect_uri(request: Request) -> str:
    public = request.app.state.config.public_url
    base = public or f"{request.url.scheme}://{request.url.netloc}"
    return base + "/auth/callback"


def _safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never //host or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme or parsed.netloc:
        return "/"
    return value


async def login(request: Request) -> Response:
    """Start signing in; someone already signed in goes straight to `next` (a link from another
    site must not sign anyone out: that takes the POST /logout from the studio's own pages)."""
    client = request.app.state.oauth
    target = _safe_next(request.query_params.get("next"))
    if current_identity(request, now=request.app.state.clock()) is not None:
        return RedirectResponse(target, status_code=303)
    request.session.clear()
    request.session["next"] = target
    try:
        response: Response = await client.authorize_redirect(request, _redirect_uri(request))
    except Exception as exc:  # the provider is unreachable or its discovery document is broken
        log.warning("sign-in could not start: %s", exc)
        return _error_page(
            request, 503, "Sign-in is unavailable: the identity provider does not answer."
        )
    return response


def remember(store: ObjectStore, identity: Identity, *, now: datetime) -> None:
    """Keep the person in the studio's directory, so a lead can assign work to them."""
    record = {
        **identity.person.to_json(),
        "roles": list(identity.role_names),
        "last_sign_in": now.isoformat(),
    }
    store.put_bytes(
        layout.person_key(identity.person.id),
        json.dumps(record, sort_keys=True).encode(),
        content_type="application/json",
    )


async def callback(request: Request) -> Response:
    state = request.app.state
    try:
        token = await state.oauth.authorize_access_token(request)
    except OAuthError as exc:
        log.info("sign-in refused: %s", exc)
        return _error_page(
            request, 401, f"Sign-in failed ({exc.error}). Go back to the studio and sign in again."
        )
    claims = token.get("userinfo")
    if not claims:
        return _error_page(request, 401, "Sign-in failed: the provider sent no ID token.")
    now = state.clock()
    identity = identity_from_claims(dict(claims), state.config, now=now)
    target = _safe_next(request.session.get("next"))
    request.session.clear()  # a fresh session: nothing from before sign-in carries over
    request.session[_USER] = session_data(identity)
    await run_in_threadpool(remember, state.store, identity, now=now)
    await run_in_threadpool(
        audit.record,
        state.store,
        actor=identity.person,
        roles=identity.role_names,
        action="studio.sign-in",
        target=identity.person.sub,
        now=now,
    )
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    reason = cross_site_reason(request)
    if reason is not None:  # no other site can sign a person out (or in again as someone else)
        return _error_page(request, 403, f"Refused: {reason}.")
    request.session.clear()
    return RedirectResponse("/signed-out", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/login", login),
        Route("/auth/callback", callback),
        Route("/logout", logout, methods=["POST"]),
    ]
