"""The search HTTP API (FastAPI): ASIN, words or a photo in, ranked ASINs out.

    GET  /search?asin=B0…&k=10      exact ASIN
    GET  /search?text=oak+table&k=10 words (BM25, prefixes and typos forgiven)
    POST /search/image               multipart form field `photo` (and optional `k`)
    GET  /healthz                    index version, counts, embedder
    GET  /openapi.json, /docs        FastAPI's own

Every search answers `{"results": [{"asin", "score", "title", "version"}, …]}` best first.
The app reloads the saved index when its pointer (`search/index/current.json`) changes, at
most every `reload_s` seconds, so a running server follows the indexer without a restart.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shazam_assets.search.embed import Embedder, decode_image
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import POINTER_KEY, Hit, SearchIndex
from shazam_assets.storage import ObjectStore

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_K = 100


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


def create_search_app(store: ObjectStore, embedder: Embedder, *, reload_s: float = 5.0) -> FastAPI:
    """The search API over the index saved in `store` (see the module docstring)."""
    app = FastAPI(title="SHAZAM search", version="1", description=__doc__)
    live = _LiveIndex(store, embedder, reload_s=reload_s)
    k_param = Query(10, ge=1, le=MAX_K, description="how many results")

    @app.exception_handler(SearchError)
    def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        """An index that cannot be loaded (wrong embedder, incomplete) is the server's problem."""
        code = getattr(exc, "code", "SEARCH_UNAVAILABLE")
        return JSONResponse({"detail": {"code": code, "message": str(exc)}}, status_code=503)

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
            raise _bad("SEARCH_PHOTO_TOO_LARGE", f"photos up to {MAX_PHOTO_BYTES // 2**20} MB", 413)
        try:
            rgb = decode_image(data)
        except SearchError as exc:
            raise _bad(exc.code, exc.message) from None
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
