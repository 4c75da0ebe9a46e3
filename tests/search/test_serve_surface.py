"""The public face of `shazam serve`, over HTTP against the real server process: every route
checks the Host header and sends the security headers, errors name no store, `/metrics` is only
on the internal port, the API docs load nothing from another origin, and a hostile photo is
refused with a code before it is decoded or even read whole."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shazam_assets import publish
from shazam_assets.platform.storage import LocalStore, read_json
from shazam_assets.search.build import rebuild
from shazam_assets.search.index import POINTER_KEY
from tests.image_bombs import png_bomb
from tests.search.conftest import EMBEDDER, MUG, SPEAKER

SHAZAM = str(Path(sys.executable).parent / "shazam")
CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Served:
    base: str
    port: int
    metrics: str
    process: subprocess.Popen[bytes]

    def peak_rss_mb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) // 1024  # type: ignore[union-attr]


def _request(
    url: str,
    *,
    host: str | None = None,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _serve(store: LocalStore, *extra: str, ready: bool = True) -> Served:
    """`shazam serve` on free loopback ports (public and metrics), once it answers HTTP (and,
    when `ready`, once its index is in service)."""
    port, metrics_port = _free_port(), _free_port()
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=store.root.as_uri(),
        DAGSTER_HOME=str(store.root.parent / "home"),
    )
    process = subprocess.Popen(
        [SHAZAM, "serve", "--port", str(port), "--metrics-port", str(metrics_port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = Served(f"http://127.0.0.1:{port}", port, f"http://127.0.0.1:{metrics_port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if _request(served.base + "/readyz")[0] == 200 or not ready:
                return served
        except OSError:
            pass
        time.sleep(0.2)
    _stop(served)
    raise AssertionError(f"shazam serve did not start (exit {process.returncode})")


def _stop(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@pytest.fixture(scope="module")
def store(published_template: Path, tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    copy = LocalStore(shutil.copytree(published_template, tmp_path_factory.mktemp("surface") / "s"))
    for asin in (SPEAKER, MUG):
        publish.publish_product(copy, asin)
    rebuild(copy, EMBEDDER).save(copy)
    return copy


@pytest.fixture(scope="module")
def server(store: LocalStore) -> Iterator[Served]:
    served = _serve(store)
    yield served
    _stop(served)


ROUTES = [
    "/",
    "/catalog.json",
    f"/{SPEAKER}/",
    f"/{SPEAKER}/manifest.json",
    "/search?text=mug",
    f"/search?asin={MUG}",
    "/healthz",
    "/docs",
    "/openapi.json",
    "/no/such/page",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_refuses_a_foreign_host(server: Served, path: str) -> None:
    status, _, body = _request(server.base + path, host="evil.example")
    assert status == 400 and b"mug" not in body.lower()


def test_an_image_search_from_a_foreign_host_is_refused(server: Served) -> None:
    status, _, _ = _request(
        server.base + "/search/image",
        host="evil.example",
        method="POST",
        body=b"x",
        headers={"Content-Type": "image/png"},
    )
    assert status == 400


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_sends_the_security_headers(server: Served, path: str) -> None:
    status, headers, _ = _request(server.base + path)
    assert status in (200, 404), path
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    # Scripts are allowed only from this server's own /_static/ (an absolute source, as CSP
    # has no path-only form): no other origin, anywhere.
    assert not re.search(r"https?:|//", policy.replace(server.base + "/_static/", "")), policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin" and headers["x-frame-options"] == "DENY"


def test_metrics_are_only_on_the_internal_port(server: Served) -> None:
    assert _request(server.base + "/metrics")[0] == 404
    status, headers, _ = _request(server.metrics + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert headers["x-content-type-options"] == "nosniff"
    assert _request(server.metrics + "/")[0] == 404  # nothing else there
    assert _request(server.metrics + "/metrics", host="evil.example")[0] == 400


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_api_docs_are_served_from_this_server(server: Served) -> None:
    status, headers, body = _request(server.base + "/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = body.decode()
    assets = _assets(html)
    assert assets and "<script>" not in html  # no inline script: the CSP forbids it
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        status, headers, _ = _request(server.base + url)
        assert status == 200, url
        assert headers["content-type"].split(";")[0] in (
            "text/javascript",
            "application/javascript",
            "text/css",
            "image/png",
        ), url
    assert _request(server.base + "/redoc")[0] == 404  # ReDoc would come from a CDN


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_the_api_docs_render_in_a_browser_without_leaving_the_server(server: Served) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            foreign: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith((server.base + "/", "data:"))
                    else foreign.append(r.url)
                ),
            )
            page.goto(server.base + "/docs")
            page.wait_for_selector('[data-path="/search/image"]', timeout=30_000)
            assert "SHAZAM search" in page.content()
        finally:
            browser.close()
    assert foreign == [] and errors == [], (foreign, errors)


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "shazam-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{name}"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_decompression_bomb_photo_is_refused_before_decoding(server: Served) -> None:
    body, content_type = _multipart("q.png", png_bomb(13000, 13000))  # 493 KB, 507 MB of pixels
    before = server.peak_rss_mb()
    status, _, answer = _request(
        server.base + "/search/image",
        method="POST",
        body=body,
        headers={"Content-Type": content_type},
    )
    assert status == 413
    detail = json.loads(answer)["detail"]
    assert detail["code"] == "SEARCH_PHOTO_TOO_LARGE" and "169,000,000 pixels" in detail["message"]
    assert server.peak_rss_mb() - before < 100  # ~3.8 GB per request before


def test_an_oversized_body_is_refused_before_it_is_read(server: Served) -> None:
    """A client announcing 200 MB gets its 413 after sending 64 KB, without the server waiting
    for (or spooling) the rest."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", "/search/image")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(200 * 2**20))
    connection.endheaders()
    with contextlib.suppress(OSError):  # the server may already have answered and closed
        connection.send(b"--x\r\n" + b"\0" * 65536)
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["detail"]["code"] == "SEARCH_PHOTO_TOO_LARGE"
    connection.close()


def test_an_unavailable_index_names_no_store(store: LocalStore, tmp_path: Path) -> None:
    broken = LocalStore(shutil.copytree(store.root, tmp_path / "broken"))
    pointer = read_json(broken, POINTER_KEY)
    broken.delete(pointer["prefix"] + "meta.json")
    served = _serve(broken, ready=False)
    try:
        status, headers, body = _request(served.base + "/search?text=mug")
        ready, _, why = _request(served.base + "/readyz")
    finally:
        _stop(served)
    # The load's own code (SEARCH_INDEX_INCOMPLETE) and message go to the server's log.
    assert status == 503 and headers["content-type"] == "application/json"
    assert json.loads(body)["detail"]["code"] == "SEARCH_UNAVAILABLE"
    assert ready == 503
    for secret in (str(broken.root), broken.root.as_uri(), "meta.json", "file:"):
        assert secret not in body.decode() + why.decode(), secret


def test_the_names_a_server_is_published_under_are_the_only_foreign_ones_it_answers(store) -> None:
    served = _serve(store, "--allowed-host", "shop.example")
    try:
        assert _request(served.base + "/catalog.json", host="shop.example")[0] == 200
        assert _request(served.base + "/catalog.json", host="evil.example")[0] == 400
    finally:
        _stop(served)


@pytest.mark.parametrize(
    ("bind", "names", "expected"),
    [
        ("127.0.0.1", (), ["127.0.0.1", "localhost"]),
        ("0.0.0.0", (), ["*"]),  # behind a proxy that checks names; none given here
        ("0.0.0.0", ("shop.example",), ["127.0.0.1", "localhost", "shop.example"]),
        (
            "shop.internal",
            ("shop.example",),
            ["127.0.0.1", "localhost", "shop.example", "shop.internal"],
        ),
    ],
)
def test_allowed_hosts_follow_the_bind_and_the_published_names(bind, names, expected) -> None:
    from shazam_assets.platform import web

    assert web.allowed_hosts_for(bind, names) == expected
