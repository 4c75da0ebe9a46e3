"""`create_pages_app(store)`: the published pages of a store over HTTP, read-only.

`shazam serve` mounts it at `/`, so a laptop (file:// store) or a test shows exactly what S3
would host. Only the page tree is reachable: the catalogue (`/`, `/index.html`,
`/catalog.json`), the shared files under `/_static/`, and each product's folder
`/<ASIN>/...`. Anything else is a 404; a path with an empty, '.' or '..' segment never reaches the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from shazam_assets.platform import layout, web
from shazam_assets.platform.asin import is_valid_asin
from shazam_assets.platform.layout import PAGE_NAME, STATIC_DIR, page_key
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.publish.serving import served_as

_CHUNK = 1 << 20
_TOP_FILES = frozenset(
    {
        layout.page_relative(layout.catalogue_page_key()),
        layout.page_relative(layout.catalogue_key()),
        layout.page_relative(layout.not_found_page_key()),
    }
)


def store_key(path: str) -> str | None:
    """The store key a URL path (without its leading '/') names, or None when it names nothing
    this app serves. A folder path ('' or ending in '/') means its index.html."""
    if path == "" or path.endswith("/"):
        path += PAGE_NAME
    parts = path.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    if len(parts) == 1:
        return layout.page_store_key(path) if path in _TOP_FILES else None
    if parts[0] == STATIC_DIR or is_valid_asin(parts[0]):
        return layout.page_store_key(path)
    return None


def pages_policy(base_url: str) -> str:
    """The review app's policy, with scripts and workers allowed only from `<base>/_static/`:
    only SHAZAM's own files live there, so even a file some older release copied from a
    delivery could not run as a script from this origin."""
    static = f"{base_url.rstrip('/')}/{STATIC_DIR}/"
    return web.CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src {static}").replace(
        "worker-src 'self'", f"worker-src {static}"
    )


def _not_found(request: Request) -> Response:
    """404, with the published 404 page when there is one (what the CDN answers too)."""
    key = layout.not_found_page_key()
    try:
        page = request.app.state.store.get_bytes(key)
    except ObjectNotFound:
        return PlainTextResponse("Not found.", status_code=404)
    served = served_as(key)
    headers = {
        "cache-control": served.cache_control,
        "content-security-policy": pages_policy(str(request.base_url)),
    }
    return Response(page, status_code=404, media_type=served.content_type, headers=headers)


def serve_path(request: Request) -> Response:
    """One file of the page tree, streamed from the store (runs in the thread pool)."""
    store: ObjectStore = request.app.state.store
    path = request.path_params.get("path", "")
    if "/" not in path and is_valid_asin(path) and store.exists(page_key(path)):
        return RedirectResponse(f"{request.url.path}/", status_code=308)  # relative URLs need it
    key = store_key(path)
    info = store.head(key) if key is not None else None
    if key is None or info is None:
        return _not_found(request)
    served = served_as(key)
    headers = {
        "content-length": str(info.size),
        "cache-control": served.cache_control,  # what S3 and the CDN serve it with too
        "etag": f'"{info.etag}"',
        "content-security-policy": pages_policy(str(request.base_url)),
    }
    if served.content_disposition is not None:
        headers["content-disposition"] = served.content_disposition
    media_type = served.content_type
    if request.method == "HEAD":
        return Response(headers=headers, media_type=media_type)

    def body() -> Iterator[bytes]:
        with store.open_read(key) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    return StreamingResponse(body(), headers=headers, media_type=media_type)


def create_pages_app(
    store: ObjectStore, *, allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS
) -> Starlette:
    """The read-only pages app over `store`'s `published/` tree. `allowed_hosts` are the Host
    names it answers to (loopback by default; `web.allowed_hosts_for(bind)` for others)."""
    routes = [Route("/{path:path}", serve_path, methods=["GET", "HEAD"])]
    app = Starlette(routes=routes, middleware=web.guard(allowed_hosts))
    app.state.store = store
    return app
