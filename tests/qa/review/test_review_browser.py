"""End to end: a reviewer in headless Chromium signs in to the studio and works through the
pending list.

The real studio runs under uvicorn on a free loopback port, over a LocalStore holding stored
versions, with a real OpenID provider process beside it. The browser signs in on the provider's
page, opens the list, looks at a version (the GLB must load in <model-viewer>, the photos must
display), tries to reject without a note, rejects with one, then approves the next version; the
decisions must be in the store, under the signed-in reviewer's name. The comparison page loads
both versions' models and orbiting one turns the other. Every request the pages make goes to
the studio itself (or the provider, to sign in): model-viewer is served locally, no CDN.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shazam_assets.platform import viewer
from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import read_decision
from shazam_assets.studio import review as studio_review
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.qa.review.conftest import GLTF_LAMP, MUG, SPEAKER, store_delivery
from tests.studio.conftest import REVIEWER

SCREENSHOT = Path("/tmp/review-page.png")
COMPARE_SCREENSHOT = Path("/tmp/review-compare.png")
RITA = "Rita Reviewer <rita@example.com>"  # how the studio names her in records
MODEL_TIMEOUT_MS = 60_000  # software WebGL (SwiftShader) on 2 cores

pytestmark = [
    pytest.mark.integration,
    pytest.mark.long,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]


@pytest.fixture
def server(studio) -> str:
    """The studio over the review store (tests/qa/review/conftest.py), with model-viewer."""
    assert studio_review.viewer_installed(), (
        f"model-viewer is not installed: run `{viewer.INSTALL_HINT}`"
    )
    return studio.base


@pytest.fixture
def page(server: str, oidc_issuer: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.foreign_requests = []  # type: ignore[attr-defined]
        # blob: URLs are textures decoded in-page. The provider's own sign-in page is not ours
        # (oidc-provider-mock links a stylesheet on a CDN): only the studio's pages are watched.
        own = (server + "/", f"blob:{server}/", "data:", oidc_issuer)

        def watch(request) -> None:
            if request.frame.url.startswith(oidc_issuer) or request.url.startswith(own):
                return
            page.foreign_requests.append(request.url)

        page.on("request", watch)
        try:
            yield page
        finally:
            browser.close()


def _sign_in(page, server: str, path: str) -> None:
    """Open `path` signed out: the studio sends the browser to the provider, where the reviewer
    picks her identity (oidc-provider-mock's form) and authorizes; then back to `path`."""
    page.goto(server + path)
    page.locator("input[name=sub]").fill(REVIEWER)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(server + path)
    assert "Rita Reviewer" in page.locator("#signed-in-as").inner_text()


def _wait_for_model(page, viewer_id: str = "viewer", status_id: str = "viewer-status") -> None:
    """Until <model-viewer> fired `load` for its src (our status line says so), or fail."""
    page.wait_for_function(
        f"() => {{ const s = document.getElementById('{status_id}');"
        " return s && (s.dataset.state === 'loaded' || s.dataset.state === 'error'); }",
        timeout=MODEL_TIMEOUT_MS,
    )
    assert page.locator(f"#{status_id}").inner_text() == "3D model loaded."
    assert page.evaluate(f"() => document.getElementById('{viewer_id}').loaded") is True


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
    _sign_in(page, server, "/review")
    rows = page.locator("#pending tbody tr")
    assert rows.count() == 3 and "Overdue" in rows.nth(0).inner_text()
    rows.nth(0).get_by_role("link").click()
    page.wait_for_url(f"{server}/review/asins/{SPEAKER}/v1")

    _wait_for_model(page)
    assert _photos_displayed(page) == 2
    assert page.evaluate("() => document.getElementById('contact-sheet').naturalWidth") > 0
    page.wait_for_timeout(500)  # let the first frame settle for the picture
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert page.locator("input[name=reviewer]").count() == 0  # no name to type: she signed in
    page.get_by_role("button", name="Reject").click()
    assert "QA_NOTE_REQUIRED" in page.get_by_role("alert").inner_text()
    assert read_decision(review_store, SPEAKER, 1) is None

    page.get_by_label("Notes").fill("The grille texture is stretched on the left side.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url(f"{server}/review/asins/{SPEAKER}/v1?recorded=1#decision")
    assert "Your decision was recorded." in page.locator("#decision-recorded").inner_text()
    rejected = read_decision(review_store, SPEAKER, 1)
    assert (rejected.verdict.value, rejected.reviewer, rejected.source) == (
        "reject",
        RITA,
        "studio",
    )
    assert rejected.notes == "The grille texture is stretched on the left side."

    page.get_by_role("link", name="Next pending").click()
    page.wait_for_url(f"{server}/review/asins/{MUG}/v1")
    _wait_for_model(page)
    assert _photos_displayed(page) == 2
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{server}/review/asins/{MUG}/v1?recorded=1#decision")
    approved = read_decision(review_store, MUG, 1)
    assert (approved.verdict.value, approved.reviewer, approved.source) == (
        "approve",
        RITA,
        "studio",
    )

    page.goto(server + "/review")
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
    _sign_in(page, server, f"/review/asins/{GLTF_LAMP}/v1")
    _wait_for_model(page)
    assert page.foreign_requests == []  # type: ignore[attr-defined]


def test_compare_loads_both_versions_and_their_cameras_follow_each_other(
    server, page, review_store, tmp_path
) -> None:
    again = tmp_path / "again.zip"
    again.write_bytes(review_store.get_bytes(f"uploads/{MUG}/mug.zip"))
    assert store_delivery(review_store, again, asin=MUG, name="again.zip") == 2
    _sign_in(page, server, f"/review/asins/{MUG}/v2")
    page.get_by_role("link", name="Compare with the previous version").click()
    page.wait_for_url(f"{server}/review/asins/{MUG}/v2/compare")
    _wait_for_model(page, "viewer-this", "viewer-this-status")
    _wait_for_model(page, "viewer-previous", "viewer-previous-status")
    orbit = "(id) => document.getElementById(id).getCameraOrbit().theta"
    before = page.evaluate(orbit, "viewer-previous")
    box = page.locator("#viewer-this").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y, steps=10)
    page.mouse.up()
    page.wait_for_function(
        "(before) => { const a = document.getElementById('viewer-this').getCameraOrbit();"
        " const b = document.getElementById('viewer-previous').getCameraOrbit();"
        " return Math.abs(b.theta - before) > 0.2 && Math.abs(a.theta - b.theta) < 0.01"
        " && Math.abs(a.phi - b.phi) < 0.01; }",
        arg=before,
        timeout=20_000,
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(COMPARE_SCREENSHOT), full_page=True)
    assert page.foreign_requests == []  # type: ignore[attr-defined]
