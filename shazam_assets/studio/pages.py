"""The studio's own pages: home, the board, an ASIN's production and deliveries, the audit log
and the pipeline metrics. Every route names its `Action` (`guarded`); store calls run in the
thread pool.

    GET  /                               home: an artist's work, or the board and the review queue
    GET  /board                          every ASIN with scan data: assignee, stage, deliveries
    GET  /asins/<ASIN>                   production (scan, assignment, stages) and deliveries
    GET  /api/asins/<ASIN>/status        the deliveries as JSON (the page polls it)
    GET  /asins/<ASIN>/scan.zip          the scan package, streamed as one ZIP
    POST /asins/<ASIN>/assign            a lead assigns the ASIN to an artist
    POST /asins/<ASIN>/stages/<stage>    the assigned artist marks cleanup, UV or texturing done
    GET  /audit                          the audit log (newest first)
    GET  /metrics                        the pipeline metrics, read-only
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from shazam_assets.platform import audit, layout
from shazam_assets.platform.asin import is_valid_asin
from shazam_assets.platform.identity import Person, Role
from shazam_assets.platform.records import ScanFile
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.production import tracking
from shazam_assets.qa.backlog import pending_reviews
from shazam_assets.qa.review import guard as form_guard
from shazam_assets.qa.review import views as review_views
from shazam_assets.studio import deliveries
from shazam_assets.studio.access import Action, Identity
from shazam_assets.studio.http import error_page, guarded, record, render

_CHUNK = 1 << 20


def _identity(request: Request) -> Identity:
    identity: Identity = request.state.identity
    return identity


def people(store: ObjectStore, role: Role | None = None) -> list[dict[str, Any]]:
    """Everyone who signed in to the studio (with `role` at their last sign-in), by name."""
    found = []
    for info in store.list(layout.people_prefix()):
        try:
            record = json.loads(store.get_bytes(info.key))
        except (ObjectNotFound, ValueError):
            continue
        if role is None or role.value in record.get("roles", ()):
            found.append(record)
    return sorted(found, key=lambda r: (r.get("name") or r.get("email") or r["sub"]).lower())


# --- home and board ---------------------------------------------------------------------------


def _row(store: ObjectStore, asin: str) -> dict[str, Any]:
    state = tracking.production_state(store, asin)
    latest = next(iter(deliveries.deliveries(store, asin).deliveries), None)
    return {"asin": asin, "state": state, "latest": latest}


def _home_context(store: ObjectStore, identity: Identity, request: Request) -> dict[str, Any]:
    state = request.app.state
    context: dict[str, Any] = {}
    if identity.has(Role.ARTIST):
        mine = tracking.assigned_asins(store, identity.person.sub)
        context["mine"] = _rows(store, mine)
    if any(identity.has(r) for r in (Role.REVIEWER, Role.LEAD, Role.OPERATOR)):
        context["pending"] = pending_reviews(store, now=state.clock(), sla=state.sla)
    return context


async def home(request: Request) -> Response:
    identity = _identity(request)
    context = await run_in_threadpool(_home_context, request.app.state.store, identity, request)
    return render(request, "home.html", context)


# The board shows this many ASINs a page: each row reads a handful of the ASIN's records, so a
# page costs the same whatever the catalogue's size (the next page starts after its last ASIN).
BOARD_PAGE = 50
# Rows of a page are read this many at a time (each is a few small store reads: on S3, latency).
ROW_READERS = 8


def _rows(store: ObjectStore, asins: list[str]) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=ROW_READERS) as pool:
        return list(pool.map(lambda asin: _row(store, asin), asins))


async def board(request: Request) -> Response:
    store = request.app.state.store
    after = request.query_params.get("after") or None
    if after is not None and not is_valid_asin(after):
        return error_page(request, 404, f"{after!r} is not an ASIN.")

    def load() -> dict[str, Any]:
        asins = tracking.registered_asins(store, after=after, limit=BOARD_PAGE + 1)
        page = asins[:BOARD_PAGE]
        return {
            "rows": _rows(store, page),
            "after": after,
            "next_after": page[-1] if len(asins) > BOARD_PAGE else None,
        }

    return render(request, "board.html", await run_in_threadpool(load))


# --- one ASIN ---------------------------------------------------------------------------------


async def asin_page(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]

    def load() -> dict[str, Any]:
        return {
            "asin": asin,
            "production": tracking.production_state(store, asin),
            "stages": tracking.STAGES,
            "deliveries": deliveries.deliveries(store, asin),
            "artists": people(store, Role.ARTIST) if Action.ASSIGN in request.state.actions else [],
            "versions": review_views.version_rows(store, asin),
        }

    context = await run_in_threadpool(load)
    context["actions"] = request.state.actions
    context["message"] = request.query_params.get("done", "")
    return render(request, "asin.html", context)


async def status_api(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]
    found = await run_in_threadpool(deliveries.deliveries, store, asin)
    return JSONResponse(found.to_json(), headers={"cache-control": "no-store"})


def _zip_stream(store: ObjectStore, asin: str, files: Sequence[ScanFile]) -> Iterator[bytes]:
    """The scan package as a ZIP written while it is sent: memory holds one chunk at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for file in files:  # paths checked at registration
            with (
                store.open_read(layout.scan_file_key(asin, file.path)) as source,
                archive.open(f"{asin}/{file.path}", "w", force_zip64=True) as target,
            ):
                while chunk := source.read(_CHUNK):
                    target.write(chunk)
                    yield sink.drain()
    yield sink.drain()


class _Sink:
    """A write-only file for zipfile (no seek: it writes data descriptors) that hands what was
    written so far to the response."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


async def scan_package(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]
    try:
        files = await run_in_threadpool(tracking.scan_package, store, asin)
    except tracking.ProductionError as exc:
        status = 404 if exc.code == "PRODUCTION_NO_SCAN" else 409
        return error_page(request, status, f"{exc.code}: {exc.message} {exc.hint}")
    headers = {
        "content-disposition": f'attachment; filename="{asin}-scan.zip"',
        "cache-control": "no-store",
    }
    if request.method == "HEAD":  # a look at the headers is not a download
        return Response(media_type="application/zip", headers=headers)
    await run_in_threadpool(
        record,
        request,
        "production.download-scan",
        asin,
        {"files": len(files)},
    )
    return StreamingResponse(
        _zip_stream(store, asin, files), media_type="application/zip", headers=headers
    )


async def _form(request: Request) -> dict[str, str] | Response:
    try:
        return await form_guard.read_form(request)
    except form_guard.FormError as exc:
        return error_page(request, exc.status, exc.message)


def _back(asin: str, done: str) -> Response:
    return RedirectResponse(f"/asins/{asin}?done={done}", status_code=303)


async def assign(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]
    form = await _form(request)
    if isinstance(form, Response):
        return form
    identity = _identity(request)
    artists = {p["sub"]: p for p in await run_in_threadpool(people, store, Role.ARTIST)}
    chosen = artists.get(form.get("artist", ""))
    if chosen is None:
        return error_page(request, 422, "Choose an artist who has signed in to the studio.")
    artist = Person.from_json(chosen)
    now = request.app.state.clock()
    try:
        await run_in_threadpool(
            lambda: tracking.assign(store, asin, artist=artist, by=identity.person, now=now)
        )
    except tracking.ProductionError as exc:
        return error_page(request, 409, f"{exc.code}: {exc.message}")
    await run_in_threadpool(
        record,
        request,
        "production.assign",
        asin,
        {"artist": artist.to_json()},
    )
    return _back(asin, "assigned")


async def mark_stage(request: Request) -> Response:
    store, asin = request.app.state.store, request.path_params["asin"]
    stage = request.path_params["stage"]
    identity = _identity(request)
    now = request.app.state.clock()
    try:
        await run_in_threadpool(
            lambda: tracking.mark_stage(store, asin, stage, by=identity.person, now=now)
        )
    except tracking.ProductionError as exc:
        status = 404 if exc.code == "PRODUCTION_UNKNOWN_STAGE" else 409
        return error_page(request, status, f"{exc.code}: {exc.message}")
    await run_in_threadpool(
        record,
        request,
        "production.stage-done",
        asin,
        {"stage": stage},
    )
    return _back(asin, stage)


# --- the audit log and the metrics ------------------------------------------------------------


async def audit_page(request: Request) -> Response:
    found = await run_in_threadpool(audit.recent, request.app.state.store)
    return render(request, "audit.html", {"events": found})


def _metrics(store: ObjectStore) -> list[dict[str, Any]]:
    try:
        text = store.get_bytes(layout.metrics_latest_key()).decode()
    except ObjectNotFound:
        return []
    rows = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            rows.append(
                {
                    "name": sample.name,
                    "labels": ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items())),
                    "value": sample.value,
                    "help": family.documentation,
                }
            )
    return rows


async def metrics_page(request: Request) -> Response:
    rows = await run_in_threadpool(_metrics, request.app.state.store)
    return render(request, "metrics.html", {"rows": rows, "now": datetime.now(UTC)})


def routes() -> list[Route]:
    return [
        Route("/", guarded(Action.HOME)(home)),
        Route("/board", guarded(Action.VIEW_BOARD)(board)),
        Route("/asins/{asin}", guarded(Action.VIEW_ASIN)(asin_page)),
        Route("/api/asins/{asin}/status", guarded(Action.VIEW_ASIN)(status_api)),
        Route("/asins/{asin}/scan.zip", guarded(Action.DOWNLOAD_SCAN)(scan_package)),
        Route("/asins/{asin}/assign", guarded(Action.ASSIGN)(assign), methods=["POST"]),
        Route(
            "/asins/{asin}/stages/{stage}",
            guarded(Action.MARK_STAGE)(mark_stage),
            methods=["POST"],
        ),
        Route("/audit", guarded(Action.VIEW_AUDIT)(audit_page)),
        Route("/metrics", guarded(Action.VIEW_METRICS)(metrics_page)),
    ]
