"""The protections every SHAZAM web app wears, and the way `shazam` runs several of them.

Every app (the review page, `shazam serve`'s pages and search API, its metrics endpoint) is
wrapped by `guard(...)`:
- The Host header must name this machine (or the name it is bound to), so a DNS-rebinding page
  cannot pose as same-origin and read answers from a server on a reviewer's laptop.
- Every response says: no framing, no MIME sniffing, scripts, styles and data only from this
  server (no other origin at all; model-viewer's decoders and Swagger UI are served locally),
  no referrer to other sites.
- A request body larger than the app accepts is refused by its declared length before a byte
  of it is read, or as soon as a chunked body passes the limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def content_security_policy(*, connect_to: Sequence[str] = ()) -> str:
    """The pages' policy; `connect_to` adds origins that scripts may send requests to (the
    studio's page PUTs upload parts straight to the object store's endpoint), nothing else.

    model-viewer decodes textures and Draco meshes from blob: URLs and compiles WebAssembly;
    Swagger UI styles its elements inline and draws icons from data: URLs."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' blob: data:",
            " ".join(("connect-src 'self' blob: data:", *connect_to)),
            "worker-src 'self' blob:",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def allowed_hosts_for(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host names an app answers to when bound to `host`: this machine's loopback names, the
    bound name and the `extra` names it is published under (`--allowed-host`). A wildcard
    bind with no `extra` names answers to every name (a container behind a proxy that checks
    them); name them to have the app check too."""
    extra = [name for name in extra if name]
    wildcard = host in ("0.0.0.0", "::", "")
    if wildcard and not extra:
        return ["*"]
    return sorted({*LOOPBACK_HOSTS, *([] if wildcard else [host]), *extra})


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response (a response that sets
    one of them itself keeps its own); `csp` replaces the default content security policy."""

    def __init__(self, app: ASGIApp, *, csp: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, "content-security-policy": csp}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class BodyRefusal:
    """What a too-large request is told: HTTP 413 with `{"detail": {"code", "message"}}`."""

    code: str
    message: str


class BodyLimit:
    """ASGI middleware refusing request bodies over `max_bytes` with a 413.

    A declared Content-Length over the limit is answered at once, before the body is read; a
    body that grows past it while streaming (chunked, or a lying Content-Length) stops the
    app's own answer and gets the 413 instead, if no answer has started yet. `path_limits`
    gives paths starting with a prefix their own limit (the studio's local upload-part route
    takes one part), leaving every other path at `max_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        refusal: BodyRefusal,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app, self.max_bytes, self.refusal = app, max_bytes, refusal
        self.path_limits = dict(path_limits or {})

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.path_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(str(scope.get("path", "")))
        declared = Headers(scope=scope).get("content-length", "0")
        if not declared.isdigit() or int(declared) > max_bytes:
            await self._refuse(send)
            return
        received, over, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    over = True
                    return {"type": "http.disconnect"}  # the app stops reading
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                started = True
                await self._refuse(send)
            elif not over:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:  # the app's own failure; a cut-off body is answered below
                raise
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": {"code": self.refusal.code, "message": self.refusal.message}}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def guard(
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    *,
    max_body_bytes: int = 0,
    body_refusal: BodyRefusal = BodyRefusal("REQUEST_TOO_LARGE", "this server takes no body"),
    body_limits_by_path: Mapping[str, int] | None = None,
    csp: str = CONTENT_SECURITY_POLICY,
) -> list[Middleware]:
    """The middleware stack of every SHAZAM app, outermost first: Host allow-list, security
    headers (on the Host refusal too), body limit (`body_limits_by_path`: path prefix -> the
    limit of the paths under it, for the one route that takes more)."""
    return [
        Middleware(SecurityHeaders, csp=csp),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        Middleware(
            BodyLimit,
            max_bytes=max_body_bytes,
            refusal=body_refusal,
            path_limits=body_limits_by_path,
        ),
    ]


@dataclass(frozen=True)
class Listener:
    """One app on one address."""

    app: ASGIApp
    host: str
    port: int


def serve(listeners: Sequence[Listener], *, log_level: str = "warning") -> None:
    """Run every listener in this process (uvicorn, one event loop) until interrupted: e.g.
    the public app on its port and the metrics app on an internal one."""
    import uvicorn

    servers = [
        uvicorn.Server(
            uvicorn.Config(
                listener.app,
                host=listener.host,
                port=listener.port,
                log_level=log_level,
                server_header=False,
            )
        )
        for listener in listeners
    ]

    async def run_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(run_all())
