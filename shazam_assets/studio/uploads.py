"""Browser uploads of deliveries straight to the store: presigned multipart, resumable.

The page (`_upload.html`, `static/upload.js`) asks the studio to start an upload of a named file
of a declared size, then for one short-lived URL per part, PUTs each part there itself (S3, or
for a local store the studio's part route, which streams the body to a part file), and asks the
studio to complete it. A multi-GB ZIP never passes through the studio's memory. The studio
builds the key (`uploads/<ASIN>/<name>`: the artist names only the file), refuses a size no
delivery may have before calling the store, and never completes onto an existing object.

    GET    /api/asins/<ASIN>/uploads                      uploads in progress (to resume)
    POST   /api/asins/<ASIN>/uploads                      start: {"name", "size"}
    GET    /api/asins/<ASIN>/uploads/<upload>             one upload and its finished parts
    POST   /api/asins/<ASIN>/uploads/<upload>/parts/<n>   a URL to PUT part n to
    POST   /api/asins/<ASIN>/uploads/<upload>/complete    {"parts": [{"number", "etag"}]}
    DELETE /api/asins/<ASIN>/uploads/<upload>             abort
    PUT    /api/upload-parts/<token>                      a part, for a local store only

Every ASIN route is `guarded(Action.UPLOAD)`: the assigned artist or an operator. An upload is a
record under `upload-sessions/<ASIN>/` binding its id to the ASIN, the key and the store's
upload id, so one ASIN's upload cannot be presigned or completed through another's URL. Errors
answer `{"detail": {"code", "message", "hint"}}` with a stable code.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shazam_assets.ingest.uploads import (
    MAX_UPLOAD_BYTES,
    UploadNameInvalid,
    UploadTooLarge,
    check_upload_size,
    checked_upload_key,
)
from shazam_assets.platform import layout
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.multipart import (
    LOCAL_PART_ROUTE,
    LocalMultipart,
    Multipart,
    Part,
    PartPlan,
    PartsMismatch,
    PartUrlInvalid,
    PartWriter,
    UploadExists,
    UploadNotFound,
    UploadNotSupported,
    multipart_for,
    plan_parts,
)
from shazam_assets.platform.storage import LocalStore, ObjectStore, read_json
from shazam_assets.studio.access import Action, Identity
from shazam_assets.studio.config import StudioConfig
from shazam_assets.studio.http import guarded, record

_HANDLE = re.compile(r"[0-9a-f]{32}")
_WRITE_BYTES = 1 << 20  # a local part is written to disk in chunks of at most this


class UploadRequestInvalid(ShazamError, ValueError):
    code = "UPLOAD_REQUEST_INVALID"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


_STATUS = {
    UploadRequestInvalid: 400,
    UploadNameInvalid: 400,
    UploadTooLarge: 413,
    UploadExists: 409,
    UploadNotFound: 404,
    PartsMismatch: 409,
    PartUrlInvalid: 403,
    UploadNotSupported: 501,
}


def _refused(exc: ShazamError) -> JSONResponse:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 400)
    detail = {"code": exc.code, "message": exc.message, "hint": exc.hint}
    return JSONResponse({"detail": detail}, status_code=status)


# --- the record of an upload in progress ---------------------------------------------------


@dataclass(frozen=True)
class UploadSession:
    """An upload in progress, bound to its ASIN: `upload` is the studio's id for it (what URLs
    name), `store_upload_id` the store's."""

    upload: str
    asin: str
    name: str
    key: str
    plan: PartPlan
    store_upload_id: str
    started_by: str
    started_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "upload": self.upload,
            "asin": self.asin,
            "name": self.name,
            "key": self.key,
            "size": self.plan.size,
            "part_size": self.plan.part_size,
            "store_upload_id": self.store_upload_id,
            "started_by": self.started_by,
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadSession:
        return cls(
            upload=str(data["upload"]),
            asin=str(data["asin"]),
            name=str(data["name"]),
            key=str(data["key"]),
            plan=PartPlan(size=int(data["size"]), part_size=int(data["part_size"])),
            store_upload_id=str(data["store_upload_id"]),
            started_by=str(data["started_by"]),
            started_at=datetime.fromisoformat(data["started_at"]),
        )

    def answer(self) -> dict[str, Any]:
        """What the page is told about it."""
        return {
            "upload": self.upload,
            "name": self.name,
            "key": self.key,
            "size": self.plan.size,
            "part_size": self.plan.part_size,
            "parts": self.plan.count,
            "started_at": self.started_at.isoformat(),
        }


def load_session(store: ObjectStore, asin: str, upload: str) -> UploadSession:
    """The upload `upload` of `asin`, or UploadNotFound (also for another ASIN's upload)."""
    if not _HANDLE.fullmatch(upload):
        raise UploadNotFound(f"{upload!r} is not an upload id")
    record = read_json(store, layout.upload_session_key(asin, upload))
    if record is None or record.get("asin") != asin:
        raise UploadNotFound(f"no upload {upload} in progress for {asin}")
    return UploadSession.from_json(record)


def sessions(store: ObjectStore, asin: str) -> list[UploadSession]:
    found = []
    for info in store.list(layout.upload_sessions_prefix(asin)):
        record = read_json(store, info.key)
        if record is not None:
            found.append(UploadSession.from_json(record))
    return sorted(found, key=lambda s: s.started_at)


# --- what create_app needs -------------------------------------------------------------------


def part_limit(config: StudioConfig) -> int:
    """The largest part the studio ever plans: the body limit of the local part route."""
    return plan_parts(MAX_UPLOAD_BYTES, config.upload_part_bytes).part_size


def body_limits(store: ObjectStore, config: StudioConfig) -> dict[str, int]:
    """The one path that takes more than a form: a local store's part route, one part (over
    S3 the route answers nothing, so it keeps the studio's form limit)."""
    return {LOCAL_PART_ROUTE: part_limit(config)} if isinstance(store, LocalStore) else {}


def connect_origins(store: ObjectStore, config: StudioConfig) -> list[str]:
    """Origins the pages' scripts PUT parts to besides the studio's own (the S3 endpoint)."""
    try:
        origin = multipart_for(store, secret=config.session_secret).connect_origin()
    except UploadNotSupported:
        return []
    return [] if origin is None else [origin]


def _multipart(request: Request) -> Multipart:
    state = request.app.state
    found: Multipart | None = getattr(state, "multipart", None)
    if found is None:
        found = multipart_for(state.store, secret=state.config.session_secret, clock=state.clock)
        state.multipart = found
    return found


# --- the routes ------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise UploadRequestInvalid("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise UploadRequestInvalid("the request body is not a JSON object")
    return body


def _start(request: Request, asin: str, name: Any, size: Any) -> UploadSession:
    if not isinstance(name, str) or not name:
        raise UploadRequestInvalid('"name" must be the file name, a string')
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise UploadRequestInvalid('"size" must be the file size in bytes, a positive integer')
    key = checked_upload_key(asin, name)  # the artist names a file, never a path
    check_upload_size(size)  # before anything is created in the store
    state = request.app.state
    identity: Identity = request.state.identity
    multipart = _multipart(request)
    store_upload_id = multipart.start(key)
    session = UploadSession(
        upload=uuid.uuid4().hex,
        asin=asin,
        name=key.rsplit("/", 1)[-1],
        key=key,
        plan=plan_parts(size, state.config.upload_part_bytes),
        store_upload_id=store_upload_id,
        started_by=identity.person.sub,
        started_at=state.clock(),
    )
    state.store.put_bytes(
        layout.upload_session_key(asin, session.upload),
        json.dumps(session.to_json()).encode(),
        content_type="application/json",
    )
    record(
        request,
        "ingest.upload-started",
        asin,
        {"name": session.name, "size": size, "key": key, "upload": session.upload},
    )
    return session


async def start_upload(request: Request) -> Response:
    asin = request.path_params["asin"]
    try:
        body = await _json_body(request)
        session = await run_in_threadpool(_start, request, asin, body.get("name"), body.get("size"))
    except ShazamError as exc:
        return _refused(exc)
    return JSONResponse(session.answer(), status_code=201)


async def list_uploads(request: Request) -> Response:
    found = await run_in_threadpool(sessions, request.app.state.store, request.path_params["asin"])
    return JSONResponse({"uploads": [s.answer() for s in found]})


def _show(request: Request, asin: str, upload: str) -> dict[str, Any]:
    session = load_session(request.app.state.store, asin, upload)
    done = _multipart(request).parts(session.key, session.store_upload_id)
    return {**session.answer(), "done": [part.to_json() for part in done]}


async def show_upload(request: Request) -> Response:
    params = request.path_params
    try:
        answer = await run_in_threadpool(_show, request, params["asin"], params["upload"])
    except ShazamError as exc:
        return _refused(exc)
    return JSONResponse(answer)


def _presign(request: Request, asin: str, upload: str, number: int) -> dict[str, Any]:
    session = load_session(request.app.state.store, asin, upload)
    if not 1 <= number <= session.plan.count:
        raise UploadRequestInvalid(f"part {number} is not in 1..{session.plan.count}")
    config: StudioConfig = request.app.state.config
    size = session.plan.part_bytes(number)
    url = _multipart(request).part_url(
        session.key, session.store_upload_id, number, size=size, expires_in=config.presign_ttl
    )
    expires_at = request.app.state.clock() + config.presign_ttl
    base = config.public_url + "/" if config.public_url else str(request.base_url)
    return {
        "number": number,
        "size": size,
        "url": urllib.parse.urljoin(base, url),  # an S3 URL is absolute already
        "expires_at": expires_at.isoformat(),
    }


async def presign_part(request: Request) -> Response:
    params = request.path_params
    try:
        answer = await run_in_threadpool(
            _presign, request, params["asin"], params["upload"], int(params["number"])
        )
    except ShazamError as exc:
        return _refused(exc)
    return JSONResponse(answer)


def _named_parts(body: dict[str, Any]) -> list[Part]:
    listed = body.get("parts")
    if not isinstance(listed, list) or not listed:
        raise UploadRequestInvalid('"parts" must list every part as {"number", "etag"}')
    try:
        return [Part(int(p["number"]), str(p["etag"]).strip('"'), 0) for p in listed]
    except (KeyError, TypeError, ValueError):
        raise UploadRequestInvalid('each part must be {"number": n, "etag": "..."}') from None


def _complete(request: Request, asin: str, upload: str, parts: list[Part]) -> dict[str, Any]:
    state = request.app.state
    session = load_session(state.store, asin, upload)
    info = _multipart(request).complete(session.key, session.store_upload_id, session.plan, parts)
    state.store.delete(layout.upload_session_key(asin, upload))
    record(
        request,
        "ingest.upload-completed",
        asin,
        {"name": session.name, "size": info.size, "key": info.key, "upload": upload},
    )
    return {"key": info.key, "name": session.name, "size": info.size, "etag": info.etag}


async def complete_upload(request: Request) -> Response:
    params = request.path_params
    try:
        parts = _named_parts(await _json_body(request))
        answer = await run_in_threadpool(
            _complete, request, params["asin"], params["upload"], parts
        )
    except ShazamError as exc:
        return _refused(exc)
    return JSONResponse(answer)


def _abort(request: Request, asin: str, upload: str) -> None:
    state = request.app.state
    session = load_session(state.store, asin, upload)
    _multipart(request).abort(session.key, session.store_upload_id)
    state.store.delete(layout.upload_session_key(asin, upload))
    record(
        request,
        "ingest.upload-aborted",
        asin,
        {"name": session.name, "size": session.plan.size, "key": session.key},
    )


async def abort_upload(request: Request) -> Response:
    params = request.path_params
    try:
        await run_in_threadpool(_abort, request, params["asin"], params["upload"])
    except ShazamError as exc:
        return _refused(exc)
    return JSONResponse({"aborted": True})


async def put_local_part(request: Request) -> Response:
    """A part PUT to a local store (the studio standing in for S3): the URL's signed token is
    the only authority, as a presigned S3 URL is. The body is streamed to the part file in
    chunks of at most 1 MiB; BodyLimit caps it at one part, the grant at this part's size."""
    multipart = _multipart(request)
    if not isinstance(multipart, LocalMultipart):
        return _refused(UploadNotSupported("parts of this store go to the store itself"))
    try:
        grant = multipart.grant(request.path_params["token"])
        writer: PartWriter = await run_in_threadpool(multipart.receive, grant)
    except ShazamError as exc:
        return _refused(exc)
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= _WRITE_BYTES:
                await run_in_threadpool(writer.write, bytes(buffer))
                buffer.clear()
        await run_in_threadpool(writer.write, bytes(buffer))
        part = await run_in_threadpool(writer.finish)
    except ShazamError as exc:
        await run_in_threadpool(writer.discard)
        return _refused(exc)
    except (ClientDisconnect, OSError):
        await run_in_threadpool(writer.discard)
        raise
    return JSONResponse(part.to_json(), headers={"etag": f'"{part.etag}"'})


def routes() -> list[Route]:
    base = "/api/asins/{asin}/uploads"
    one = base + "/{upload}"
    upload = guarded(Action.UPLOAD)
    return [
        Route(base, upload(list_uploads), methods=["GET"]),
        Route(base, upload(start_upload), methods=["POST"]),
        Route(one, upload(show_upload), methods=["GET"]),
        Route(one, upload(abort_upload), methods=["DELETE"]),
        Route(one + "/parts/{number:int}", upload(presign_part), methods=["POST"]),
        Route(one + "/complete", upload(complete_upload), methods=["POST"]),
        Route(LOCAL_PART_ROUTE + "{token}", put_local_part, methods=["PUT"]),
    ]
