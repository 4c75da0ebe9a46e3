"""End to end: a reviewer in headless Chromium works through the pending list.

The real app runs under uvicorn on a free loopback port, over a LocalStore holding stored
versions. The browser opens the list, looks at a version (the GLB must load in
<model-viewer>, the photos must display), tries to reject without a note, rejects with one,
then approves the next version; the decisions must be in the store. Every request the page
makes must go to the app itself: model-viewer is served locally, nothing from a CDN.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import read_decision
from shazam_assets.qa.review import app as review_app
from shazam_assets.qa.review import create_app
from tests.qa.review.conftest import GLTF_LAMP, MUG, SLA, SPEAKER

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/review-page.png")
MODEL_TIMEOUT_MS = 60_000  # software WebGL (SwiftShader) on 2 cores

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]


@pytest.fixture
def server(review_store: LocalStore) -> Iterator[str]:
    """The review app under uvicorn in a thread, on a loopback port the OS picked."""
    import uvicorn

    assert review_app.viewer_installed(), (
        f"model-viewer is not installed: run `{review_app.INSTALL_HINT}`"
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(review_store, sla=SLA), log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
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
def page(server: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.foreign_requests = []  # type: ignore[attr-defined]
        own = (server + "/", f"blob:{server}/", "data:")  # blob: URLs are textures decoded in-page
        page.on(
            "request",
            lambda r: None if r.url.startswith(own) else page.foreign_requests.append(r.url),
        )
        try:
            yield page
        finally:
            browser.close()


def _wait_for_model(page) -> None:
    """Until <model-viewer> fired `load` for its src (our status line says so), or fail."""
    page.wait_for_function(
        "() => { const s = document.getElementById('viewer-status');"
        " return s && (s.dataset.state === 'loaded' || s.dataset.state === 'error'); }",
        timeout=MODEL_TIMEOUT_MS,
    )
    assert page.locator("#viewer-status").inner_text() == "3D model loaded."
    assert page.evaluate("() => document.getElementById('viewer').loaded") is True


def _photos_displayed(page) -> int:
    photos = page.locator(".photo-list img")
    for i in range(photos.count()):
        photos.nth(i).scroll_into_view_if_needed()
        assert photos.nth(i).is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photo-list img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    return photos.count()


def test_reviewer_rejects_one_version_and_approves_the_next(
    server, page, review_store, monkeypatch
) -> None:
    page.goto(server + "/")
    rows = page.locator("#pending tbody tr")
    assert rows.count() == 3 and "Overdue" in rows.nth(0).inner_text()
    rows.nth(0).get_by_role("link").click()
    page.wait_for_url(f"{server}/asins/{SPEAKER}/v1")

    _wait_for_model(page)
    assert _photos_displayed(page) == 2
    assert page.evaluate("() => document.getElementById('contact-sheet').naturalWidth") > 0
    page.wait_for_timeout(500)  # let the first frame settle for the picture
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_label("Your name").fill("Rita Reviewer")
    page.get_by_role("button", name="Reject").click()
    assert "QA_NOTE_REQUIRED" in page.get_by_role("alert").inner_text()
    assert read_decision(review_store, SPEAKER, 1) is None

    page.get_by_label("Notes").fill("The grille texture is stretched on the left side.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url(f"{server}/asins/{SPEAKER}/v1?recorded=1#decision")
    assert "Your decision was recorded." in page.locator("#decision-recorded").inner_text()
    rejected = read_decision(review_store, SPEAKER, 1)
    assert (rejected.verdict.value, rejected.reviewer, rejected.source) == (
        "reject",
        "Rita Reviewer",
        "review-page",
    )
    assert rejected.notes == "The grille texture is stretched on the left side."

    page.get_by_role("link", name="Next pending").click()
    page.wait_for_url(f"{server}/asins/{MUG}/v1")
    _wait_for_model(page)
    assert _photos_displayed(page) == 2
    assert page.get_by_label("Your name").input_value() == "Rita Reviewer"  # remembered
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{server}/asins/{MUG}/v1?recorded=1#decision")
    approved = read_decision(review_store, MUG, 1)
    assert (approved.verdict.value, approved.reviewer, approved.source) == (
        "approve",
        "Rita Reviewer",
        "review-page",
    )

    page.goto(server + "/")
    assert page.locator("#pending tbody tr").count() == 1
    recent = page.locator("#recent").inner_text()
    assert f"{SPEAKER} v1" in recent and f"{MUG} v1" in recent
    assert page.foreign_requests == []  # type: ignore[attr-defined]
    _sensor_records_the_decisions(review_store, monkeypatch)


def _sensor_records_the_decisions(store: LocalStore, monkeypatch) -> None:
    """The QA sensor turns the page's decisions into qa_approved check runs: the rejection is a
    failed check and a notification to the artist, the approval publishes the version."""
    import json

    import dagster as dg

    from shazam_assets.platform.versions import published_version
    from tests.dagster_project.runs import decision_runs

    url = store.root.as_uri()
    for name, value in {
        "SHAZAM_STORE_URL": url,
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        runs, _ = decision_runs(instance, url)
        verdicts = {
            request.partition_key: [e.passed for e in result.get_asset_check_evaluations()]
            for result, request in runs
        }
    assert verdicts == {SPEAKER: [False], MUG: [True]}
    notice = json.loads(store.get_bytes(f"outbox/{SPEAKER}/v1.json"))
    assert "The grille texture is stretched on the left side." in notice["text"]
    assert published_version(store, MUG) == 1 and published_version(store, SPEAKER) is None


def test_gltf_model_loads_with_its_resources(server, page) -> None:
    page.goto(f"{server}/asins/{GLTF_LAMP}/v1")
    _wait_for_model(page)
    assert page.foreign_requests == []  # type: ignore[attr-defined]
