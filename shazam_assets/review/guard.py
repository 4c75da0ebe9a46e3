"""Protections sized for a tool that runs on a reviewer's own machine.

- Decisions are only taken by POST, and a POST that a browser sends from another site is
  refused (its `Origin`, or `Sec-Fetch-Site`, gives it away): no page on the web can make a
  reviewer's browser approve a model.
- The Host header must name this machine, so a DNS-rebinding page cannot pose as same-origin.
- Every response says: no framing (the Approve button cannot be overlaid), no MIME sniffing,
  scripts and data only from this server.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MAX_FORM_BYTES = 64 * 1024
_FORM_TYPE = "application/x-www-form-urlencoded"

# model-viewer decodes textures and Draco meshes from blob: URLs and compiles WebAssembly.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' blob: data:",
        "connect-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class FormError(ValueError):
    """A POST body this app does not accept; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def allowed_hosts_for(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host names the app answers to when bound to `host` (every name for a wildcard bind)."""
    if host in ("0.0.0.0", "::", ""):
        return ["*"]
    return sorted({*LOOPBACK_HOSTS, host, *extra})


def cross_site_reason(request: Request) -> str | None:
    """Why this POST looks cross-site, or None when it comes from this app's own pages.

    Browsers send `Origin` with every POST; a client without one (curl, tests) is no CSRF
    vector, so its absence is accepted."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        return f"the form was sent from {origin}, not from this review app ({own})"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"the browser marked this request as {site}"
    return None


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a small url-encoded form (the last value wins for repeated names)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != _FORM_TYPE:
        raise FormError(415, f"send the form as {_FORM_TYPE}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(413, f"the form is larger than {MAX_FORM_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError(400, "the form is not UTF-8") from None
    # Percent-escapes that are not UTF-8 ("Jos%E9" from a Latin-1 client) stay as surrogates,
    # so the field's check refuses them by name (TEXT_NOT_UTF8) instead of storing "Jos\ufffd".
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True, errors="surrogateescape"))


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
