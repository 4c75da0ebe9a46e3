"""The search HTTP API (FastAPI): ASIN, words or a photo in, ranked ASINs out.

    GET  /search?asin=B0…&k=10      exact ASIN
    GET  /search?text=oak+table&k=10 words (BM25, prefixes and typos forgiven)
    POST /search/image               multipart form field `photo` (and optional `k`)
    GET  /healthz                    index version, counts, embedder
    GET  /openapi.json, /docs        the API's description, and Swagger UI over it (its files
                                     come from the fastapi-offline package, served here)

Every search answers `{"results": [{"asin", "score", "title", "version"}, …]}` best first.
The app reloads the saved index when its pointer (`search/index/current.json`) changes, at
most every `reload_s` seconds, so a running server follows the indexer without a restart.

The app wears `shazam_assets.platform.web.guard` (Host allow-list, security headers, a body limit read
from the declared length), a photo is refused from its header when it declares too many pixels
(`imaging`), and an error names a code, never a store key or URL (those go to the log).
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel

from shazam_assets.platform import imaging, web
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.search.embed import Embedder, decode_image
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import POINTER_KEY, Hit, SearchIndex

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_BODY_BYTES = MAX_PHOTO_BYTES + 64 * 1024  # the photo and its multipart framing
MAX_K = 100
PHOTO_LIMITS = imaging.ImageLimits(max_bytes=MAX_PHOTO_BYTES)
_TOO_LARGE = "SEARCH_PHOTO_TOO_LARGE"

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


class _LiveIndex:
    """The current saved index, reloaded when the pointer's ETag changes."""

    def __init__(self, store: ObjectStore, embedder: Embedder, *, reload_s: float) -> None:
        self.store, self.embedder, self.reload_s = store, embedder, reload_s
        self._lock = threading.Lock()
        self._etag: str | None = None
        self._checked = -reload_s
        self.index = SearchIndex(embedder)

    def get(self) -> SearchIndex:
        with self._lock:
            if time.monotonic() - self._checked >= self.reload_s:
                self._checked = time.monotonic()
                info = self.store.head(POINTER_KEY)
                etag = None if info is None else info.etag
                if etag != self._etag:
                    loaded = SearchIndex.load(self.store, self.embedder)
                    loaded.prepare()
                    self.index = loaded
                    self._etag = etag
            return self.index


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


def create_search_app(
    store: ObjectStore,
    embedder: Embedder,
    *,
    reload_s: float = 5.0,
    allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS,
) -> FastAPI:
    """The search API over the index saved in `store` (see the module docstring).
    `allowed_hosts` are the Host names it answers to (`web.allowed_hosts_for(bind)`)."""
    refusal = web.BodyRefusal(_TOO_LARGE, f"photos up to {MAX_PHOTO_BYTES // 2**20} MB")
    app = FastAPI(
        title="SHAZAM search",
        version="1",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        middleware=web.guard(allowed_hosts, max_body_bytes=MAX_BODY_BYTES, body_refusal=refusal),
    )
    _add_docs(app)
    live = _LiveIndex(store, embedder, reload_s=reload_s)
    k_param = Query(10, ge=1, le=MAX_K, description="how many results")

    @app.exception_handler(SearchError)
    def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        """An index that cannot be loaded (wrong embedder, incomplete) is the server's problem:
        the client gets its code; the message, which names store keys, goes to the log."""
        code = getattr(exc, "code", "SEARCH_UNAVAILABLE")
        log.error("search index unavailable: %s", exc)
        message = "the search index cannot be loaded; the server's log says why"
        return JSONResponse({"detail": {"code": code, "message": message}}, status_code=503)

    @app.get("/search", response_model=SearchResponse, summary="Search by ASIN or by words")
    def search(
        asin: str | None = None, text: str | None = None, k: int = k_param
    ) -> dict[str, Any]:
        if (asin is None) == (text is None):
            raise _bad(
                "SEARCH_BAD_QUERY", "give exactly one of asin= or text= (or POST /search/image)"
            )
        index = live.get()
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
        return _response(live.get().search_image(rgb, k))

    @app.get("/healthz", response_model=Health, summary="Liveness and index facts")
    def healthz() -> dict[str, Any]:
        index = live.get()
        return {
            "ok": True,
            "index_version": index.version,
            "asins": len(index),
            "vectors": index.vector_count,
            "embedder": index.embedder_name,
        }

    return app
