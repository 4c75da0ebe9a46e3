"""The search HTTP API (FastAPI): ASIN, words or a photo in, ranked ASINs out.

    GET  /search?asin=B0…&k=10      exact ASIN
    GET  /search?text=oak+table&k=10 words (BM25, prefixes and typos forgiven)
    POST /search/image               multipart form field `photo` (and optional `k`)
    GET  /catalog.json               the published catalogue's data (with `catalogue=True`)
    GET  /healthz                    liveness: the process answers (and the index facts it holds)
    GET  /readyz                     readiness: 200 once an index is in service, 503 before
    GET  /openapi.json, /docs        the API's description, and Swagger UI over it (its files
                                     come from the fastapi-offline package, served here)

Every search answers `{"results": [{"asin", "score", "title", "version"}, …]}` best first.
A background thread (`search.live`) checks the index pointer (`search/index/current.json`) every
`reload_s` seconds and swaps a changed index in once it is fully loaded, so a running server
follows the indexer without a restart, and no request ever waits for a load or reads the store.
Before the first index is in service, searches answer 503 SEARCH_UNAVAILABLE.

The app wears `shazam_assets.platform.web.guard` (Host allow-list, security headers, a body limit read
from the declared length), a photo is refused from its header when it declares too many pixels
(`imaging`), and an error names a code, never a store key or URL (those go to the log).
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.middleware import Middleware

from shazam_assets.platform import imaging, web
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.search.embed import Embedder, decode_image
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import Hit, Searchable
from shazam_assets.search.live import DEFAULT_POLL_S, LiveIndex, Poller, live_catalogue
from shazam_assets.search.telemetry import RequestMetrics, ServiceMetrics

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_BODY_BYTES = MAX_PHOTO_BYTES + 64 * 1024  # the photo and its multipart framing
MAX_K = 100
PHOTO_LIMITS = imaging.ImageLimits(max_bytes=MAX_PHOTO_BYTES)
_TOO_LARGE = "SEARCH_PHOTO_TOO_LARGE"
CATALOGUE_MAX_AGE_S = 30  # browsers and the CDN may keep the catalogue this long

log = logging.getLogger(__name__)

# Swagger UI 5 (it reads FastAPI's OpenAPI 3.1), from the fastapi-offline package's static
# files; our own starter script beside them.
_DOCS_FILES = {
    "swagger-ui.css": ("swagger_ui", "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": ("swagger_ui", "swagger-ui-bundle.js", "text/javascript"),
    "favicon.png": ("swagger_ui", "favicon.png", "image/png"),
    "docs.js": ("own", "docs.js", "text/javascript"),
}
_OWN_STATIC = Path(__file__).resolve().parent / "static"
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/static/favicon.png">
</head><body data-openapi="/openapi.json"><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/docs.js"></script>
</body></html>
"""


class SearchResult(BaseModel):
    asin: str
    score: float
    title: str
    version: str | None = None


class SearchResponse(BaseModel):
    results: list[SearchResult]


class Health(BaseModel):
    ok: bool
    index_version: int | None
    asins: int
    vectors: int
    embedder: str


def _response(hits: list[Hit]) -> dict[str, Any]:
    return {"results": [hit.to_dict() for hit in hits]}


def _bad(code: str, message: str, status: int = 400) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": code, "message": message})


def _docs_file(name: str) -> Path | None:
    entry = _DOCS_FILES.get(name)
    if entry is None:
        return None
    import fastapi_offline

    swagger_ui = Path(fastapi_offline.__file__).resolve().parent / "static"
    root = swagger_ui if entry[0] == "swagger_ui" else _OWN_STATIC
    return root / entry[1]


def _add_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from local files, started by a script file (no inline script)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE.format(title=html.escape(app.title)))

    @app.get("/docs/static/{name}", include_in_schema=False)
    def docs_static(name: str) -> FileResponse:
        path = _docs_file(name)
        if path is None or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(path, media_type=_DOCS_FILES[name][2])


def _not_ready() -> SearchError:
    return SearchError("SEARCH_UNAVAILABLE", "no search index is in service yet")


def create_search_app(
    store: ObjectStore,
    embedder: Embedder,
    *,
    reload_s: float = DEFAULT_POLL_S,
    allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS,
    metrics: ServiceMetrics | None = None,
    catalogue: bool = False,
) -> FastAPI:
    """The search API over the index saved in `store` (see the module docstring).
    `allowed_hosts` are the Host names it answers to (`web.allowed_hosts_for(bind)`); `metrics`
    receives the service's own series (serve its registry on an internal port); `catalogue`
    adds `/catalog.json` (the shop API alone; beside the pages app, the pages serve it)."""
    metrics = metrics or ServiceMetrics()
    live = LiveIndex(store, embedder, metrics=metrics)
    shop_catalogue = live_catalogue(store) if catalogue else None
    refreshers = [live.refresh, *([shop_catalogue.refresh] if shop_catalogue else [])]

    @asynccontextmanager
    async def polling(_app: FastAPI) -> AsyncIterator[None]:
        poller = Poller(refreshers, every_s=reload_s)
        poller.start()
        try:
            yield
        finally:
            poller.stop()

    refusal = web.BodyRefusal(_TOO_LARGE, f"photos up to {MAX_PHOTO_BYTES // 2**20} MB")
    app = FastAPI(
        title="SHAZAM search",
        version="1",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=polling,
        middleware=[
            Middleware(RequestMetrics, metrics=metrics),
            *web.guard(allowed_hosts, max_body_bytes=MAX_BODY_BYTES, body_refusal=refusal),
        ],
    )
    app.state.live_index = live
    _add_docs(app)
    k_param = Query(10, ge=1, le=MAX_K, description="how many results")

    def in_service() -> Searchable:
        loaded = live.loaded
        if loaded is None:
            raise _not_ready()
        return loaded.index

    @app.exception_handler(SearchError)
    def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        """No index in service yet (or one that cannot answer) is the server's problem: the
        client gets the code; the message, which may name store keys, goes to the log."""
        code = getattr(exc, "code", "SEARCH_UNAVAILABLE")
        log.warning("search unavailable: %s", exc)
        message = "the search index cannot answer yet; the server's log says why"
        return JSONResponse({"detail": {"code": code, "message": message}}, status_code=503)

    # ASIN and word queries take a millisecond or two and run on the event loop: a thread pool
    # would add a hop per request, and its threads would compete with the index loader for the
    # GIL while a new index loads (docs/benchmarks.md "Search service"). Photos, which decode
    # and embed an image, run in the pool.
    @app.get("/search", response_model=SearchResponse, summary="Search by ASIN or by words")
    async def search(
        asin: str | None = None, text: str | None = None, k: int = k_param
    ) -> dict[str, Any]:
        if (asin is None) == (text is None):
            raise _bad(
                "SEARCH_BAD_QUERY", "give exactly one of asin= or text= (or POST /search/image)"
            )
        index = in_service()
        if asin is not None:
            hit = index.lookup(asin)
            return _response([hit] if hit else [])
        return _response(index.search_text(text or "", k))

    @app.post("/search/image", response_model=SearchResponse, summary="Search by a photo")
    def search_image(
        photo: Annotated[UploadFile, File(description="a photo of the product (JPEG, PNG, WebP)")],
        k: Annotated[int, Form(ge=1, le=MAX_K)] = 10,
    ) -> dict[str, Any]:
        data = photo.file.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise _bad(_TOO_LARGE, f"photos up to {MAX_PHOTO_BYTES // 2**20} MB", 413)
        try:
            rgb = decode_image(data, limits=PHOTO_LIMITS)
        except SearchError as exc:
            raise _bad(exc.code, exc.message, 413 if exc.code == _TOO_LARGE else 400) from None
        return _response(in_service().search_image(rgb, k))

    @app.get("/healthz", response_model=Health, summary="Liveness, and the index in service")
    async def healthz() -> dict[str, Any]:
        """Always 200 while the process serves (never reads the store): what a liveness probe
        asks. The counts are the index in service (none yet: zeros)."""
        loaded = live.loaded
        index = loaded.index if loaded is not None else None
        return {
            "ok": True,
            "index_version": index.version if index is not None else None,
            "asins": len(index) if index is not None else 0,
            "vectors": index.vector_count if index is not None else 0,
            "embedder": embedder.name,
        }

    @app.get("/readyz", summary="Readiness: 200 once an index is in service")
    async def readyz() -> JSONResponse:
        loaded = live.loaded
        if loaded is None:
            body = {"ready": False, "reload_failures": live.failures}
            return JSONResponse(body, status_code=503)
        return JSONResponse(
            {"ready": True, "index_version": loaded.index.version, "asins": len(loaded.index)}
        )

    if shop_catalogue is not None:

        @app.get("/catalog.json", summary="The published catalogue (every product page)")
        async def catalog_json(request: Request) -> Response:
            document = shop_catalogue.document
            if document is None:
                return JSONResponse({"detail": "no catalogue is published yet"}, status_code=404)
            headers = {
                "etag": f'"{document.etag}"',
                "cache-control": f"public, max-age={CATALOGUE_MAX_AGE_S}",
            }
            if request.headers.get("if-none-match") == headers["etag"]:
                return Response(status_code=304, headers=headers)
            return Response(document.body, media_type="application/json", headers=headers)

    return app
