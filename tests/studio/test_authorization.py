"""The studio's authorization matrix, over HTTP: every route the app serves x every subject ->
the status written in `MATRIX` below, and a refused request changes nothing in the store.

The table is written by hand from the issue's roles (artist: only the ASINs assigned to them;
reviewer: decides; lead: assigns, rolls back, unpublishes, reads the audit log and the metrics;
operator: everything), never computed from `access.POLICY`: a change of the policy or of a
route's `Action` fails here until the table says the same. A route the app serves without a
row fails `test_the_matrix_covers_every_route_the_app_serves`.

One store is built once for the module (an ASIN assigned to Ada through production tracking
with three stored versions: v1 approved, v2 approved and published, v3 waiting for QA with its
QA results, and an upload in progress with one part sent), everyone signs in once through the
real OpenID provider, and the store's folder is kept as a template: a request that changed the
store is checked for its effect, then the store is put back from the template.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
import pytest
import uvicorn
from starlette.routing import BaseRoute, Mount, Route

from shazam_assets.platform import audit
from shazam_assets.platform.identity import Person
from shazam_assets.platform.storage import LocalStore
from shazam_assets.platform.versions import published_version
from shazam_assets.production import tracking
from shazam_assets.qa.decisions import promote, read_decision, record_decision
from shazam_assets.studio import uploads
from shazam_assets.studio.app import create_app
from tests.builders import assign_to, pack, product, store_delivery
from tests.qa.review.conftest import write_qa_results
from tests.studio.conftest import (
    ARTIST,
    LEAD,
    NOBODY,
    OPERATOR,
    OTHER_ARTIST,
    REVIEWER,
    sign_in,
    studio_config,
)

pytestmark = pytest.mark.integration

ASIN = "B0AUTHZ001"  # assigned to Ada; every ASIN route of the matrix names it
ARNOS_ASIN = "B0AUTHZ002"  # assigned to Arno
PENDING, PUBLISHED, EARLIER = 3, 2, 1  # v3 waits for QA; v2 is published; v1 approved before it
PART = b"PK\x03\x04" + b"part one of the upload in progress" * 20
SESSION_LIFE = timedelta(hours=2)  # past the provider's 1 h ID tokens: every session expired

# --- who asks ---------------------------------------------------------------------------------

# The columns of the matrix. Ada is the artist the ASIN is assigned to, Arno another artist;
# OUT stands for every way of having no session, each asked separately (`NO_SESSION`).
SIGNED_IN = {
    "ada": ARTIST,
    "arno": OTHER_ARTIST,
    "rita": REVIEWER,
    "leo": LEAD,
    "otto": OPERATOR,
    "nina": NOBODY,  # signed in, no studio role
}
NO_SESSION = (
    "signed-out",  # no cookie at all
    "expired",  # Otto's genuine operator session, the studio's clock moved past its expiry
    "forged-key",  # an operator session signed with a key the attacker guessed
    "tampered",  # Ada's genuine cookie with its roles edited to operator, re-signed (wrong key)
    "tampered-kept-signature",  # the same edit, keeping Ada's genuine signature
)
COLUMNS = (*SIGNED_IN, "out")


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route's path exactly as the app declares it
    expect: dict[str, int]  # subject -> status (OUT expanded to every NO_SESSION subject)
    note: str = ""  # which request of the route this row makes, when a route has several

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}{f' ({self.note})' if self.note else ''}"


def R(method: str, route: str, *statuses: int, note: str = "") -> Row:
    assert len(statuses) == len(COLUMNS), route
    expect = dict(zip(COLUMNS[:-1], statuses[:-1], strict=True))
    expect.update(dict.fromkeys(NO_SESSION, statuses[-1]))
    return Row(method, route, expect, note)


V = "/review/asins/{asin}/v{version:int}"
FORGED_PART_URL = "a forged part URL"  # the row's {token} is one the studio never signed
UPLOADS = "/api/asins/{asin}/uploads"
ONE_UPLOAD = UPLOADS + "/{upload}"

# fmt: off
# Signed out (and expired or forged, which are no session): a page answers 303 to /login, an
# API or any change answers 401. The operator may mark a stage, but only the assignee's mark
# counts: production tracking refuses Otto's with 409 and records nothing.
PUBLIC = [
    #  method  route                             ada  arno rita leo  otto nina out
    R("GET",  "/healthz",                        200, 200, 200, 200, 200, 200, 200),
    R("GET",  "/readyz",                         200, 200, 200, 200, 200, 200, 200),
    R("GET",  "/signed-out",                     200, 200, 200, 200, 200, 200, 200),
    R("GET",  "/static/{name:path}",             200, 200, 200, 200, 200, 200, 200),
    # signed in: straight back (a link from another site must not sign anyone out)
    R("GET",  "/login",                          303, 303, 303, 303, 303, 303, 302),
    # the provider's answer without a sign-in in progress (no state): refused
    R("GET",  "/auth/callback",                  401, 401, 401, 401, 401, 401, 401),
    R("POST", "/logout",                         303, 303, 303, 303, 303, 303, 303),
    # a local store's part: the signed URL is the only authority, as a presigned S3 URL is
    R("PUT",  "/api/upload-parts/{token}",       200, 200, 200, 200, 200, 200, 200,
      note="a part URL the studio signed"),
    R("PUT",  "/api/upload-parts/{token}",       403, 403, 403, 403, 403, 403, 403,
      note=FORGED_PART_URL),
]
SIGNED_IN_ONLY = [
    #  method  route                             ada  arno rita leo  otto nina out
    R("GET",  "/",                               200, 200, 200, 200, 200, 403, 303),
    R("GET",  "/board",                          403, 403, 200, 200, 200, 403, 303),
    R("GET",  "/asins/{asin}",                   200, 403, 200, 200, 200, 403, 303),
    R("GET",  "/api/asins/{asin}/status",        200, 403, 200, 200, 200, 403, 401),
    R("GET",  "/asins/{asin}/scan.zip",          200, 403, 200, 200, 200, 403, 303),
    R("POST", "/asins/{asin}/assign",            403, 403, 403, 303, 303, 403, 401),
    R("POST", "/asins/{asin}/stages/{stage}",    303, 403, 403, 403, 409, 403, 401),
    R("GET",  "/audit",                          403, 403, 403, 200, 200, 403, 303),
    R("GET",  "/metrics",                        403, 403, 403, 200, 200, 403, 303),
    # browser uploads: the assigned artist and the operator
    R("GET",  UPLOADS,                           200, 403, 403, 403, 200, 403, 401),
    R("POST", UPLOADS,                           201, 403, 403, 403, 201, 403, 401),
    R("GET",  ONE_UPLOAD,                        200, 403, 403, 403, 200, 403, 401),
    R("DELETE", ONE_UPLOAD,                      200, 403, 403, 403, 200, 403, 401),
    R("POST", ONE_UPLOAD + "/parts/{number:int}", 200, 403, 403, 403, 200, 403, 401),
    R("POST", ONE_UPLOAD + "/complete",          200, 403, 403, 403, 200, 403, 401),
    # review: reviewers, leads and operators; never an artist, not even on their own ASIN
    R("GET",  "/review",                         403, 403, 200, 200, 200, 403, 303),
    R("GET",  V,                                 403, 403, 200, 200, 200, 403, 303),
    R("POST", V + "/decision",                   403, 403, 303, 303, 303, 403, 401),
    R("GET",  V + "/compare",                    403, 403, 200, 200, 200, 403, 303),
    R("GET",  V + "/files/{path:path}",          403, 403, 200, 200, 200, 403, 303),
    R("GET",  V + "/photos/{index:int}",         403, 403, 200, 200, 200, 403, 303),
    R("GET",  V + "/contact-sheet",              403, 403, 200, 200, 200, 403, 303),
    # a lead's (and the operator's) roll back and unpublish
    R("POST", "/asins/{asin}/rollback",          403, 403, 403, 303, 303, 403, 401),
    R("POST", "/asins/{asin}/unpublish",         403, 403, 403, 303, 303, 403, 401),
]
# fmt: on
MATRIX = PUBLIC + SIGNED_IN_ONLY
CHANGES = {"POST", "PUT", "DELETE"}


# --- the world: one store, one studio, everyone signed in --------------------------------------


class Clock:
    """The studio's clock: now, or `ahead` later while an expired session is tried."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@dataclass
class World:
    base: str
    store: LocalStore
    template: Path
    clock: Clock
    cookies: dict[str, str]  # subject -> Cookie header value ("" when signed out)
    params: dict[str, str]  # route parameter -> the value the matrix fills in
    upload: str  # the upload in progress (one part of PART sent)
    etag: str  # its part's ETag
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def path(self, row: Row) -> str:
        params = dict(self.params)
        if row.note == FORGED_PART_URL:
            params["token"] = forged_part_token(self.params["token"])
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m[1]], row.route)

    def request(
        self, subject: str, method: str, path: str, *, headers: dict[str, str] | None = None, **kw
    ) -> httpx.Response:
        """`method path` as `subject`, with the Origin a browser sends from the studio's own
        pages on a change (so what refuses it is the authorization, never CSRF)."""
        sent = {"origin": self.base} if method in CHANGES else {}
        if self.cookies[subject]:
            sent["cookie"] = self.cookies[subject]
        sent.update(headers or {})
        self.clock.ahead = SESSION_LIFE if subject == "expired" else timedelta(0)
        try:
            return self.client.request(method, self.base + path, headers=sent, **kw)
        finally:
            self.clock.ahead = timedelta(0)
            self.client.cookies.clear()  # the cookie is ours to send, never the jar's

    def restore(self) -> None:
        """Put the store back as the module built it, rewriting only what differs: a file left
        alone keeps its identity (a local store's ETag), as the registered scan data expects."""
        root, template = self.store.root, self.template
        kept = {p.relative_to(template): p for p in template.rglob("*") if p.is_file()}
        for path in [p for p in root.rglob("*") if p.is_file()]:
            if path.relative_to(root) not in kept:
                path.unlink()
        for path in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            if not any(path.iterdir()) and not (template / path.relative_to(root)).is_dir():
                path.rmdir()  # folders a request made (a store would not keep them empty)
        for relative, source in kept.items():
            target = root / relative
            if not target.is_file() or target.read_bytes() != source.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def store_files(store: LocalStore) -> dict[str, bytes]:
    """Every file under the store's root (objects, and upload parts in progress) and its bytes."""
    root = store.root
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _session_payload(cookie: str) -> tuple[dict[str, Any], str]:
    """The JSON a session cookie holds, and its timestamp+signature part."""
    value = cookie.split("=", 1)[1]
    payload, rest = value.split(".", 1)
    return json.loads(base64.b64decode(payload)), rest


def _cookie(data: dict[str, Any], *, secret: str) -> str:
    """A session cookie as Starlette's SessionMiddleware writes it (itsdangerous), signed with
    `secret`."""
    payload = base64.b64encode(json.dumps(data).encode())
    return "shazam_studio=" + itsdangerous.TimestampSigner(secret).sign(payload).decode()


def forged_cookies(cookies: dict[str, str]) -> dict[str, str]:
    """What an attacker without the studio's session secret can send."""
    guessed_key = "an-attackers-guess-" + "y" * 24
    otto, _ = _session_payload(cookies["otto"])
    ada, ada_signature = _session_payload(cookies["ada"])
    ada["user"]["roles"] = ["operator"]
    edited = base64.b64encode(json.dumps(ada).encode()).decode()
    return {
        "forged-key": _cookie(otto, secret=guessed_key),
        "tampered": _cookie(ada, secret=guessed_key),
        "tampered-kept-signature": f"shazam_studio={edited}.{ada_signature}",
    }


def forged_part_token(token: str) -> str:
    """The genuine part URL's token made to allow a 1 GiB part, signed with a guessed key
    (its payload is read without checking the signature, as anyone can)."""
    signer = itsdangerous.URLSafeSerializer("a-guessed-key", salt="shazam-upload-part")
    key, upload_id, number, _, expires = itsdangerous.URLSafeSerializer(
        "unused", salt="shazam-upload-part"
    ).loads_unsafe(token)[1]
    return signer.dumps([key, upload_id, number, 1 << 30, expires])


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, on a port the OS picked; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _build_store(store: LocalStore, root: Path) -> None:
    """The ASIN assigned to Ada with v1 approved, v2 approved and published, v3 waiting; and
    Arno's ASIN, with nothing delivered yet."""
    assign_to(store, root, ASIN, Person(sub=ARTIST, name="Ada Artist", email=ARTIST))
    assign_to(store, root, ARNOS_ASIN, Person(sub=OTHER_ARTIST, name="Arno", email=OTHER_ARTIST))
    speaker = product(root, "speaker")
    delivery = pack(root, speaker, asin=ASIN, name="speaker.zip")
    for version, name in enumerate(("speaker.zip", "fix-1.zip", "fix-2.zip"), start=1):
        assert store_delivery(store, delivery, asin=ASIN, name=name) == version
        if version in (EARLIER, PUBLISHED):
            record_decision(store, asin=ASIN, version=version, verdict="approve", reviewer="Pat")
            promote(store, ASIN, version)
    write_qa_results(store, ASIN, PENDING, photos=list(speaker.photos))


def _upload_in_progress(base: str, ada_cookie: str) -> tuple[str, str, str]:
    """Ada starts an upload and sends its one part, as the page does: (upload id, ETag, a
    signed part URL's token)."""
    headers = {"cookie": ada_cookie, "origin": base}
    api = f"{base}/api/asins/{ASIN}/uploads"
    started = httpx.post(api, json={"name": "next.zip", "size": len(PART)}, headers=headers)
    assert started.status_code == 201, started.text
    upload = started.json()["upload"]
    signed = httpx.post(f"{api}/{upload}/parts/1", headers=headers)
    assert signed.status_code == 200, signed.text
    put = httpx.put(signed.json()["url"], content=PART)
    assert put.status_code == 200, put.text
    return upload, put.headers["etag"].strip('"'), signed.json()["url"].rsplit("/", 1)[1]


def _model_path(base: str, reviewer_cookie: str) -> str:
    """The model's path as the version page links it."""
    page = httpx.get(f"{base}/review/asins/{ASIN}/v{PENDING}", headers={"cookie": reviewer_cookie})
    found = re.search(rf'/review/asins/{ASIN}/v{PENDING}/files/([^"?#]+)', page.text)
    assert found is not None, page.text
    return found[1]


@pytest.fixture(scope="module")
def world(oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("authz")
    (root / "store").mkdir()
    store = LocalStore(root / "store")
    _build_store(store, root)
    clock = Clock()
    # Part URLs outlive the expired subject's jump of the clock: the part route's rows are about
    # the URL being the authority, not about its age (tests/studio/test_uploads.py tries that).
    config = replace(studio_config(oidc_issuer), presign_ttl=SESSION_LIFE + timedelta(hours=1))
    with serving(create_app(store, config, clock=clock)) as base:
        cookies = {name: sign_in(base, sub).cookie for name, sub in SIGNED_IN.items()}
        cookies |= {"signed-out": "", "expired": cookies["otto"], **forged_cookies(cookies)}
        upload, etag, token = _upload_in_progress(base, cookies["ada"])
        params = {
            "asin": ASIN,
            "version": str(PENDING),
            "stage": "cleanup",
            "upload": upload,
            "number": "1",
            "path": _model_path(base, cookies["rita"]),
            "index": "0",
            "name": "studio.css",
            "token": token,
        }
        template = root / "template"
        shutil.copytree(store.root, template)
        yield World(base, store, template, clock, cookies, params, upload, etag)


# --- what each request sends, and what an allowed change must have done ------------------------

PART_AGAIN = bytes(reversed(PART))  # the same size as the part the URL was signed for


def body(row: Row, world: World) -> dict[str, Any]:
    """The request's body: what the studio's pages send."""
    key = (row.method, row.route)
    if key == ("POST", "/asins/{asin}/assign"):
        return {"data": {"artist": OTHER_ARTIST}}
    if key == ("POST", UPLOADS):
        return {"json": {"name": "another.zip", "size": 1000}}
    if key == ("POST", ONE_UPLOAD + "/complete"):
        return {"json": {"parts": [{"number": 1, "etag": world.etag}]}}
    if key == ("POST", V + "/decision"):
        return {"data": {"verdict": "approve", "notes": ""}}
    if key == ("POST", "/asins/{asin}/unpublish"):
        return {"data": {"reason": "product recall"}}
    if key == ("PUT", "/api/upload-parts/{token}"):
        return {"content": PART_AGAIN}
    return {}


def _audited(world: World, action: str, subject: str) -> bool:
    events = audit.recent(world.store)
    return any(e.action == action and e.actor.sub == SIGNED_IN[subject] for e in events)


def check_effect(
    row: Row, world: World, subject: str, response: httpx.Response, files: dict[str, bytes]
) -> None:
    """What an allowed change did: its record exists, as the signed-in subject's, audited."""
    store, key = world.store, (row.method, row.route)
    if key == ("POST", "/asins/{asin}/assign"):
        assignment = tracking.read_assignment(store, ASIN)
        assert assignment is not None and assignment.artist.sub == OTHER_ARTIST
        assert _audited(world, "production.assign", subject)
    elif key == ("POST", "/asins/{asin}/stages/{stage}"):
        marks = [e for e in tracking.read_events(store, ASIN) if e.kind == "cleanup"]
        assert [e.by.sub for e in marks] == [SIGNED_IN[subject]]
        assert _audited(world, "production.stage-done", subject)
    elif key == ("POST", UPLOADS):
        started = [s for s in uploads.sessions(store, ASIN) if s.name == "another.zip"]
        assert [s.started_by for s in started] == [SIGNED_IN[subject]]
        assert _audited(world, "ingest.upload-started", subject)
    elif key == ("POST", ONE_UPLOAD + "/parts/{number:int}"):
        assert response.json()["url"].startswith(world.base + "/api/upload-parts/")
    elif key == ("POST", ONE_UPLOAD + "/complete"):
        assert store.get_bytes(f"uploads/{ASIN}/next.zip") == PART
        assert uploads.sessions(store, ASIN) == []
        assert _audited(world, "ingest.upload-completed", subject)
    elif key == ("DELETE", ONE_UPLOAD):
        assert response.json() == {"aborted": True} and uploads.sessions(store, ASIN) == []
        assert _audited(world, "ingest.upload-aborted", subject)
    elif key == ("POST", V + "/decision"):
        decision = read_decision(store, ASIN, PENDING)
        assert decision is not None and decision.verdict.value == "approve"
        assert decision.reviewer.endswith(f"<{SIGNED_IN[subject]}>")
        assert _audited(world, "qa.decide", subject)
    elif key == ("POST", "/asins/{asin}/rollback"):
        assert published_version(store, ASIN) == EARLIER
        assert _audited(world, "qa.rollback", subject)
    elif key == ("POST", "/asins/{asin}/unpublish"):
        assert published_version(store, ASIN) is None
        assert _audited(world, "publish.unpublish", subject)
    elif key == ("PUT", "/api/upload-parts/{token}"):
        etag = response.headers["etag"].strip('"')
        assert [v for k, v in files.items() if k.endswith(etag)] == [PART_AGAIN]
    elif key == ("POST", "/logout"):
        assert response.headers["location"] == "/signed-out"
    else:
        raise AssertionError(f"no effect is checked for {row.id}")


# --- the matrix ---------------------------------------------------------------------------------

SUBJECTS = (*SIGNED_IN, *NO_SESSION)


@pytest.mark.parametrize(
    ("row", "subject"),
    [pytest.param(row, who, id=f"{row.id} as {who}") for row in MATRIX for who in SUBJECTS],
)
def test_authorization_matrix(world: World, row: Row, subject: str) -> None:
    before = store_files(world.store)
    response = world.request(subject, row.method, world.path(row), **body(row, world))
    after = store_files(world.store)
    expected = row.expect[subject]
    try:
        assert response.status_code == expected, response.text[:500]
        if expected == 303 and subject in NO_SESSION and row.method == "GET":
            assert response.headers["location"].startswith("/login?next=/")
        if expected >= 400:  # refused: nothing decided, uploaded, assigned, marked or audited
            changed = sorted(
                k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            )
            assert changed == [], f"a refused request changed the store: {changed}"
        elif row.method in CHANGES:
            check_effect(row, world, subject, response, after)
    finally:
        if after != before:
            world.restore()


@pytest.mark.parametrize(
    ("row", "subject"),
    [
        pytest.param(row, who, id=f"HEAD {row.route} as {who}")
        for row in MATRIX
        if row.method == "GET"
        for who in SUBJECTS
    ],
)
def test_head_is_authorized_as_get(world: World, row: Row, subject: str) -> None:
    before = store_files(world.store)
    response = world.request(subject, "HEAD", world.path(row))
    changed = store_files(world.store) != before
    if changed:
        world.restore()
    assert response.status_code == row.expect[subject]
    assert not changed, "a HEAD request changed the store (a look is not a download)"


def _served(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _served(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                yield method, prefix + route.path
        else:
            raise AssertionError(f"a route the matrix cannot read: {route!r}")


def test_the_matrix_covers_every_route_the_app_serves(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    app = create_app(LocalStore(tmp_path / "store"), studio_config("http://127.0.0.1:9"))
    served = set(_served(app.routes))
    in_matrix = {(row.method, row.route) for row in MATRIX}
    in_matrix |= {("HEAD", route) for method, route in in_matrix if method == "GET"}
    assert sorted(served - in_matrix) == [], "routes the app serves without a row in the matrix"
    assert sorted(in_matrix - served) == [], "rows for routes the app does not serve"
    assert all(row.expect.keys() == set(SUBJECTS) for row in MATRIX)


# --- what refuses besides the roles -------------------------------------------------------------


@pytest.mark.parametrize(
    "cross_site",
    [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}],
    ids=["another-origin", "sec-fetch-site-cross-site"],
)
def test_a_cross_site_change_is_refused_even_for_an_allowed_identity(
    world: World, cross_site: dict[str, str]
) -> None:
    before = store_files(world.store)
    for subject, path, sent in (
        ("leo", f"/asins/{ASIN}/assign", {"data": {"artist": OTHER_ARTIST}}),
        ("rita", f"/review/asins/{ASIN}/v{PENDING}/decision", {"data": {"verdict": "approve"}}),
        ("ada", f"/api/asins/{ASIN}/uploads", {"json": {"name": "x.zip", "size": 1000}}),
        ("ada", f"/asins/{ASIN}/stages/cleanup", {}),
        ("leo", f"/asins/{ASIN}/rollback", {}),
    ):
        response = world.request(subject, "POST", path, headers=cross_site, **sent)
        assert response.status_code == 403, (subject, path, response.text[:300])
    assert store_files(world.store) == before


def test_an_artist_is_refused_an_unassigned_asin_and_a_malformed_one_is_not_found(
    world: World,
) -> None:
    before = store_files(world.store)
    assert world.request("ada", "GET", "/asins/B0AUTHZ999").status_code == 403
    assert world.request("ada", "POST", "/asins/B0AUTHZ999/stages/cleanup").status_code == 403
    assert world.request("otto", "GET", "/asins/not-an-asin").status_code == 404
    assert store_files(world.store) == before


def test_an_artist_cannot_reach_anothers_upload_through_their_own_asin(world: World) -> None:
    """Arno may upload to his own ASIN; Ada's upload in progress is not his to show, sign a
    part of, complete or abort by naming it under his ASIN's URLs."""
    before = store_files(world.store)
    mine = f"/api/asins/{ARNOS_ASIN}/uploads"
    assert world.request("arno", "GET", mine).json() == {"uploads": []}
    complete = {"json": {"parts": [{"number": 1, "etag": world.etag}]}}
    for method, path, sent in (
        ("GET", f"{mine}/{world.upload}", {}),
        ("POST", f"{mine}/{world.upload}/parts/1", {}),
        ("POST", f"{mine}/{world.upload}/complete", complete),
        ("DELETE", f"{mine}/{world.upload}", {}),
    ):
        response = world.request("arno", method, path, **sent)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["detail"]["code"] == "UPLOAD_NOT_IN_PROGRESS"
    assert store_files(world.store) == before


def test_an_artists_home_lists_only_their_own_asins(world: World) -> None:
    ada, arno = (world.request(who, "GET", "/").text for who in ("ada", "arno"))
    assert ASIN in ada and ARNOS_ASIN not in ada
    assert ARNOS_ASIN in arno and ASIN not in arno
