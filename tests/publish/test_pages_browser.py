"""The published pages in headless Chromium, served by the pages app under uvicorn.

The product page must load without a console error, <model-viewer> must load the GLB, and
dragging (or the arrow keys on) the spin viewer must turn the product. The catalogue's search
box must find a product by title and by ASIN on its own, and use the search API when the
server offers one. Every request a page makes goes to the app itself: nothing from a CDN.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from shazam_assets.platform.storage import LocalStore
from shazam_assets.publish import create_pages_app, publish_product
from tests.publish.conftest import CHROMIUM, CHROMIUM_ARGS, MUG, SPEAKER

MODEL_TIMEOUT_MS = 60_000  # software WebGL (SwiftShader) on 2 cores
SCREENSHOT = Path("/tmp/product-page.png")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]


@pytest.fixture(scope="module")
def published(pages_store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    store = LocalStore(
        shutil.copytree(pages_store_template, tmp_path_factory.mktemp("pages") / "s")
    )
    publish_product(store, SPEAKER)
    publish_product(store, MUG)
    return store


@contextlib.contextmanager
def _serving(app: Any) -> Iterator[str]:
    """`app` under uvicorn in a thread, on a loopback port the OS picked."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def server(published: LocalStore) -> Iterator[str]:
    with _serving(create_pages_app(published)) as url:
        yield url


def _fake_search(request: Request) -> JSONResponse:
    """Stands in for `shazam serve`'s search API: it knows a mug is for coffee."""
    text = request.query_params.get("text", "").lower()
    return JSONResponse({"results": [{"asin": MUG, "score": 0.9}] if "coffee" in text else []})


@pytest.fixture
def server_with_search(published: LocalStore) -> Iterator[str]:
    app = Starlette(
        routes=[Route("/search", _fake_search), Mount("/", app=create_pages_app(published))]
    )
    with _serving(app) as url:
        yield url


def _open(browser: Any, server: str, **context: Any) -> Any:
    """A page that records console errors and requests leaving the server (`context`: the
    browser context's options, a desktop viewport unless given)."""
    page = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context}).new_page()
    page.errors, page.foreign = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    own = (server + "/", f"blob:{server}/", "data:")
    page.on("request", lambda r: None if r.url.startswith(own) else page.foreign.append(r.url))
    return page


def _frame(page: Any) -> int:
    page.wait_for_function(
        "() => { const i = document.getElementById('spin-frame');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    shown = page.get_attribute("#spin-frame", "src")
    index = int(page.get_attribute("#spin", "data-frame"))
    assert shown.endswith(f"frames/{index:03d}.webp")
    return index


def test_the_product_page_loads_the_model_and_the_spin_viewer_turns(server, browser) -> None:
    page = _open(browser, server)
    page.goto(f"{server}/{SPEAKER}/")
    assert page.locator("h1").inner_text().startswith("Bluetooth Speaker")
    page.wait_for_function(
        "() => ['loaded', 'error'].includes("
        "document.getElementById('viewer-status').dataset.state)",
        timeout=MODEL_TIMEOUT_MS,
    )
    assert page.locator("#viewer-status").inner_text() == "3D model loaded."
    assert page.evaluate("() => document.getElementById('viewer').loaded") is True

    assert _frame(page) == 0
    box = page.locator("#spin").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - box["width"] * 0.4, y, steps=8)  # 3.2 frame widths to the left
    page.mouse.up()
    assert _frame(page) == 3
    page.keyboard.press("ArrowRight")  # the spin viewer has focus after the drag
    page.locator("#spin").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert _frame(page) in (1, 2)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert page.errors == [] and page.foreign == []


def test_the_spin_viewer_works_without_webgl(server) -> None:
    """A browser without WebGL cannot show the 3D model; the 360° frames still turn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, "--disable-webgl", "--disable-3d-apis"]
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = _open(launched, server)
            page.goto(f"{server}/{SPEAKER}/")
            assert page.evaluate("() => !document.createElement('canvas').getContext('webgl')")
            page.locator("#spin").focus()
            page.keyboard.press("ArrowLeft")
            assert _frame(page) == 7
        finally:
            launched.close()


def _search(page: Any, text: str) -> list[str]:
    """Type `text` into the search box; the ASINs shown once the search has settled."""
    page.get_by_label("Search by ASIN or title").fill(text)
    page.wait_for_function(
        "(q) => { const s = document.getElementById('search-status').dataset;"
        " return s.query === q && s.pending === '0'; }",
        arg=text,
    )
    return [i.get_attribute("data-asin") for i in page.locator("#products .product:visible").all()]


def test_the_catalogue_search_filters_by_title_and_asin_without_an_api(server, browser) -> None:
    page = _open(browser, server)
    page.goto(f"{server}/")
    assert page.locator("#products .product:visible").count() == 2
    assert _search(page, "ceramic mug") == [MUG]
    assert page.get_attribute("#search-status", "data-api") == "off"  # no /search here: 404
    assert _search(page, SPEAKER.lower()) == [SPEAKER]
    assert _search(page, "coffee") == []  # only the search API would know
    assert page.locator("#no-results").is_visible()
    assert _search(page, "speaker") == [SPEAKER]
    page.locator("#products .product:visible a").click()
    page.wait_for_url(f"{server}/{SPEAKER}/index.html", wait_until="commit")
    assert page.foreign == []


def test_the_catalogue_uses_the_search_api_when_it_answers(server_with_search, browser) -> None:
    page = _open(browser, server_with_search)
    page.goto(f"{server_with_search}/")
    assert _search(page, "coffee") == [MUG]
    assert page.get_attribute("#search-status", "data-api") == "on"
    assert _search(page, "speaker") == [SPEAKER]  # local matches still count
    assert "with the search service" in page.locator("#search-status").inner_text()
    assert page.errors == [] and page.foreign == []


@contextlib.contextmanager
def _static_hosting(folder: Path) -> Iterator[str]:
    """The published tree as S3 website hosting serves it: files with types, no CSP header."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


def test_pages_carry_their_own_policy_where_the_host_sends_none(published, browser) -> None:
    """On S3 (no response-headers policy) the page's own CSP still allows no script but
    SHAZAM's: the viewer loads, and script injected into the page never runs."""
    with _static_hosting(published.root / "published") as host:
        page = _open(browser, host)
        page.goto(f"{host}/{SPEAKER}/index.html")
        policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert (
            policy
            and "object-src 'none'" in policy
            and "'unsafe-inline'" not in policy.split("style-src")[0]
        )
        page.wait_for_function(
            "() => ['loaded', 'error'].includes(document.getElementById('viewer-status').dataset.state)",
            timeout=MODEL_TIMEOUT_MS,
        )
        assert page.locator("#viewer-status").inner_text() == "3D model loaded."
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.PWNED = true'; document.body.appendChild(s);"
            " const f = document.createElement('script'); f.src = 'data:text/javascript,window.PWNED2=1';"
            " document.body.appendChild(f); }"
        )
        page.wait_for_timeout(500)
        assert page.evaluate("() => [window.PWNED, window.PWNED2]") == [None, None]
        assert page.foreign == []
