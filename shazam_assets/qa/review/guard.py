"""Protections of the review page beyond those every app wears (`shazam_assets.platform.web`: Host
allow-list, security headers, body limit).

Decisions are only taken by POST, and a POST that a browser sends from another site is refused
(its `Origin`, or `Sec-Fetch-Site`, gives it away): no page on the web can make a reviewer's
browser approve a model. The form is small and must be url-encoded UTF-8.
"""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request

from shazam_assets.platform.errors import ShazamError

MAX_FORM_BYTES = 64 * 1024
_FORM_TYPE = "application/x-www-form-urlencoded"


class FormError(ShazamError, ValueError):
    """A POST body this app does not accept; `status` is the HTTP status to answer with."""

    def __init__(self, code: str, message: str, *, status: int) -> None:
        super().__init__(code, message)
        self.status = status


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
        raise FormError("QA_FORM_NOT_URLENCODED", f"send the form as {_FORM_TYPE}", status=415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(
                "QA_FORM_TOO_LARGE",
                f"the form is larger than {MAX_FORM_BYTES // 1024} KiB",
                status=413,
            )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("QA_FORM_NOT_UTF8", "the form is not UTF-8", status=400) from None
    # Percent-escapes that are not UTF-8 ("Jos%E9" from a Latin-1 client) stay as surrogates,
    # so the field's check refuses them by name (TEXT_NOT_UTF8) instead of storing "Jos\ufffd".
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True, errors="surrogateescape"))
