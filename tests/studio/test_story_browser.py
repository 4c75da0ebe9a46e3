"""The whole studio story in headless Chromium, against real processes only: the OpenID provider
(oidc-provider-mock), `shazam studio` in its own process, moto's S3 server as the store, and
`dagster-daemon` running the sensors and the runs they request.

Scan data arrives and the daemon's scan sensor registers it. An artist signs in once (so the
studio knows her), a lead signs in and assigns her the ASIN. She downloads the scan package,
marks cleanup, UV and texturing done, uploads a delivery from the page and watches the daemon
take it to "waiting for QA". A reviewer signs in, finds the version in her pending list once
automatic QA scored it (its compare page says there is nothing before it) and rejects it with a
note; the daemon's decision run notifies the artist. She reads the note on her page and uploads
a fix; the reviewer compares the fix with the first version and approves it; the daemon
publishes it and the artist sees it published. Every step leaves a screenshot, and the studio's
and the daemon's logs are kept beside them, in the artifacts folder (SHAZAM_STORY_ARTIFACTS,
default tests/artifacts/studio-story/, which git ignores).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dagster_project.cli import PROJECT_ROOT
from shazam_assets.platform import layout
from shazam_assets.platform.settings import ensure_dagster_home
from shazam_assets.platform.storage import S3Store
from shazam_assets.production import tracking
from shazam_assets.qa.decisions import read_decision
from shazam_demo.run import running_daemon
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.builders import pack, product, upload_scan
from tests.conftest import MOTO_REGION
from tests.qa.review.test_review_browser import _wait_for_model as wait_for_model
from tests.studio.conftest import ARTIST, LEAD, REVIEWER, SESSION_SECRET

pytestmark = [
    pytest.mark.integration,
    pytest.mark.long,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]

ASIN = "B0STORY001"
SHAZAM = str(Path(sys.executable).parent / "shazam")
ARTIFACTS = Path(
    os.environ.get("SHAZAM_STORY_ARTIFACTS")
    or PROJECT_ROOT / "tests" / "artifacts" / "studio-story"
)
NOTE = "The grille is too dark compared with the photos; match its grey."
# The daemon's part of each step: a sensor tick (15 s) and a run in its own process.
PIPELINE_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _studio_process(port: int, log: Path) -> Iterator[str]:
    """`shazam studio` on `port` with the environment the test set; yields its base URL."""
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as sink:
        server = subprocess.Popen(
            [SHAZAM, "studio", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, f"shazam studio exited; see {log}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"shazam studio not ready; see {log}"
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def world(tmp_path, moto_server, s3_client, s3_bucket, oidc_issuer, monkeypatch):
    """(store, studio base URL, daemon liveness check): every process up, scan data in the
    store before the daemon starts (the scan sensor finds it on its first tick). The studio's
    and the daemon's logs are kept with the screenshots."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in (*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.log")):
        old.unlink()
    env = {
        "SHAZAM_STORE_URL": f"s3://{s3_bucket}",
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": MOTO_REGION,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "8",
        "SHAZAM_RENDER_SIZE": "64",
        "SHAZAM_OIDC_ISSUER": oidc_issuer,
        "SHAZAM_OIDC_CLIENT_ID": "shazam-studio-story",
        "SHAZAM_OIDC_CLIENT_SECRET": "story-client-secret",
        "SHAZAM_STUDIO_SESSION_SECRET": SESSION_SECRET,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    ensure_dagster_home(tmp_path / "home")
    # what deployment puts on the bucket (docs/studio.md): the page PUTs parts and reads ETags
    s3_client.put_bucket_cors(
        Bucket=s3_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [base],
                    "AllowedMethods": ["PUT"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    store = S3Store(s3_bucket, client=s3_client)
    upload_scan(store, tmp_path, asin=ASIN)  # the scanning team's photos and OBJ
    with (
        running_daemon(PROJECT_ROOT, ARTIFACTS / "daemon.log") as alive,
        _studio_process(port, ARTIFACTS / "studio.log") as studio_base,
    ):
        assert studio_base == base
        yield store, base, alive


class Story:
    """The browser (one context per person, as on their own machines) and the screenshots."""

    def __init__(self, browser, base: str, alive: Callable[[], None]) -> None:
        self.browser, self.base, self.alive = browser, base, alive
        self.shots: list[Path] = []
        self.started = time.monotonic()

    def sign_in(self, sub: str, path: str):
        """A new browser context for `sub`, signed in on the provider's page, at `path`."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{self.base}/login?next={path}")
        page.locator("input[name=sub]").first.fill(sub)
        page.get_by_role("button", name="Authorize").first.click()
        page.wait_for_url(self.base + path)
        assert sub in page.locator("#signed-in-as").inner_text()
        return page

    def shot(self, page, name: str) -> None:
        path = ARTIFACTS / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        print(f"  {time.monotonic() - self.started:5.0f} s  {path.name}")

    def until(self, page, what: str, expression: str, arg: object = None) -> None:
        """Wait for a page condition driven by the daemon, failing early if it died."""
        from playwright.sync_api import TimeoutError as PageTimeout

        deadline = time.monotonic() + PIPELINE_TIMEOUT_S
        while True:
            self.alive()
            try:
                page.wait_for_function(expression, arg=arg, timeout=5_000)
                return
            except PageTimeout as exc:  # not yet: look again
                if time.monotonic() > deadline:
                    raise AssertionError(f"{what}: not within {PIPELINE_TIMEOUT_S} s") from exc


def _delivery_outcome(name: str, outcome: str) -> str:
    return (
        "() => [...document.querySelectorAll('#deliveries li.delivery')].some("
        f"d => d.dataset.name === {name!r} && d.dataset.outcome === {outcome!r})"
    )


def _version_row(version: int, text: str) -> str:
    """The stored versions table (kept current by the page, no reload) says `text` of it."""
    return (
        f"() => {{ const row = document.querySelector('#versions tr[data-version=\"{version}\"]');"
        f" return !!row && row.textContent.includes({text!r}); }}"
    )


def _upload(story: Story, page, zip_path: Path) -> None:
    page.set_input_files("#upload-file", str(zip_path))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function(  # the key of this upload (the page keeps the last one's)
        "(name) => (document.getElementById('upload').dataset.uploaded || '').endsWith('/' + name)",
        arg=zip_path.name,
    )
    assert f"Uploaded {zip_path.name}" in page.locator("#upload-status").inner_text()


def _open_pending(page, base: str, version: int) -> None:
    """From the reviewer's pending list, open the ASIN's version `version` (the only one)."""
    page.goto(base + "/review")
    (row,) = [r for r in page.locator("#pending tbody tr").all() if ASIN in r.inner_text()]
    assert f"v{version}" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/review/asins/{ASIN}/v{version}")


def _wait_for(story: Story, what: str, check: Callable[[], object]) -> object:
    """Until the daemon's runs left `check()` true in the store, failing early if it died."""
    deadline = time.monotonic() + PIPELINE_TIMEOUT_S
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {PIPELINE_TIMEOUT_S} s"
        story.alive()
        time.sleep(1)
    return found


def test_the_whole_story_in_the_browser(world, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    store, base, alive = world
    speaker = product(tmp_path, "speaker")
    first = pack(tmp_path, speaker, asin=ASIN, name="speaker-v1.zip")
    fixed = pack(tmp_path, speaker, asin=ASIN, name="speaker-v2.zip", title="Speaker (fixed)")
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        story = Story(browser, base, alive)
        try:
            _story(story, store, first, fixed)
        except BaseException:
            for page in (p for c in browser.contexts for p in c.pages):
                with contextlib.suppress(Exception):  # what each person saw when it failed
                    story.shot(page, "failed")
            raise
        finally:
            browser.close()
            print(f"\nstudio story screenshots ({len(story.shots)}) and logs: {ARTIFACTS}")
    print(f"studio story: {time.monotonic() - started:.0f} s")
    _dagster_recorded_it()


def _dagster_recorded_it() -> None:
    """What the daemon's runs left in Dagster: the artist's production events as observations
    of the ASIN's artwork, and both decisions as runs of the qa_approved check."""
    import dagster as dg

    from dagster_project.lib import keys

    with dg.DagsterInstance.get() as instance:  # the daemon's, in $DAGSTER_HOME
        records = instance.fetch_observations(keys.ARTWORK, limit=20).records
        observed = {
            r.asset_observation.metadata["stage"].value
            for r in records
            if r.asset_observation.partition == ASIN
        }
        checks = instance.event_log_storage.get_asset_check_execution_history(
            keys.QA_APPROVED, limit=10
        )
    assert observed == {tracking.ASSIGNED, *tracking.STAGES}
    decided = [c.status.value for c in checks if c.partition == ASIN]
    assert decided == ["SUCCEEDED", "FAILED"]  # newest first: v2 approved, v1 rejected


def _story(story: Story, store: S3Store, first: Path, fixed: Path) -> None:
    asin_page = f"/asins/{ASIN}"

    # 1. the artist signs in once (the studio's people directory learns her), then signs out
    ada = story.sign_in(ARTIST, "/")
    story.shot(ada, "artist-first-sign-in")
    ada.locator("#sign-out").click()
    ada.wait_for_url(story.base + "/signed-out")
    ada.context.close()

    # 2. the daemon's scan sensor registers the scan data; the lead assigns the ASIN to ada
    scan = _wait_for(story, "scan registered", lambda: tracking.production_state(store, ASIN).scan)
    assert scan.ok, scan
    leo = story.sign_in(LEAD, asin_page)
    assert "Registered and checked" in leo.locator("#scan-verdict").inner_text()
    leo.locator("#artist").select_option(ARTIST)
    story.shot(leo, "lead-assigns")
    leo.get_by_role("button", name="Assign").click()
    leo.wait_for_url(f"{story.base}{asin_page}?done=assigned")
    assert "Ada Artist" in leo.locator("#assignee").inner_text()
    story.shot(leo, "lead-assigned")
    leo.context.close()

    # 3. ada downloads the scan, marks the three stages, uploads her delivery
    ada = story.sign_in(ARTIST, asin_page)
    with ada.expect_download() as download:
        ada.locator("#download-scan").click()
    package = Path(download.value.path())
    with zipfile.ZipFile(io.BytesIO(package.read_bytes())) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert any(n.startswith(f"{ASIN}/photos/") and n.endswith(".jpg") for n in names), names
    assert any(n.startswith(f"{ASIN}/scan/") and n.endswith(".obj") for n in names), names
    for stage in tracking.STAGES:
        ada.locator(f"#mark-{stage}").click()
        ada.wait_for_url(f"{story.base}{asin_page}?done={stage}")
    assert ada.locator("#stages li.done").count() == 3
    story.shot(ada, "artist-stages-done")
    _upload(story, ada, first)
    story.shot(ada, "artist-uploaded-v1")
    story.until(ada, "v1 waiting for QA", _delivery_outcome(first.name, "waiting-for-qa"))
    story.until(ada, "v1 in the versions table", _version_row(1, "waiting for QA"))
    story.shot(ada, "artist-v1-waiting-for-qa")

    # 4. rita finds v1 in her pending list and opens it once automatic QA scored it: nothing to
    # compare it with yet; she rejects it with a note
    rita = story.sign_in(REVIEWER, "/review")
    _wait_for(story, "v1 scored", lambda: store.exists(layout.scores_key(ASIN, 1)))
    _open_pending(rita, story.base, 1)
    wait_for_model(rita, "viewer", "viewer-status")
    assert "Visual match score" in rita.locator("main").inner_text()
    story.shot(rita, "reviewer-v1")
    rita.get_by_role("link", name="Compare with the previous version").click()
    rita.wait_for_url(f"{story.base}/review/asins/{ASIN}/v1/compare")
    assert rita.locator("#no-previous").is_visible()
    story.shot(rita, "reviewer-v1-compare-none")
    rita.go_back()
    rita.get_by_label("Notes").fill(NOTE)
    rita.get_by_role("button", name="Reject").click()
    rita.wait_for_url(f"{story.base}/review/asins/{ASIN}/v1?recorded=1#decision")
    story.shot(rita, "reviewer-rejected-v1")
    assert read_decision(store, ASIN, 1).notes == NOTE

    # 5. the decision sensor's run notifies ada; she reads the note on her page, uploads a fix
    notice = _wait_for(story, "v1 notice", lambda: store.exists(layout.outbox_key(ASIN, 1)))
    assert notice and NOTE in json.loads(store.get_bytes(layout.outbox_key(ASIN, 1)))["text"]
    story.until(ada, "v1 rejected by QA", _delivery_outcome(first.name, "rejected-by-qa"))
    story.until(ada, "v1 rejected in the versions table", _version_row(1, "Rejected"))
    assert NOTE in ada.locator("#deliveries .qa-notes").first.inner_text()
    story.shot(ada, "artist-reads-note")
    _upload(story, ada, fixed)
    story.until(ada, "v2 waiting for QA", _delivery_outcome(fixed.name, "waiting-for-qa"))
    story.shot(ada, "artist-v2-waiting-for-qa")

    # 6. rita compares v2 (scored) with v1 and approves it
    _wait_for(story, "v2 scored", lambda: store.exists(layout.scores_key(ASIN, 2)))
    _open_pending(rita, story.base, 2)
    rita.get_by_role("link", name="Compare with the previous version").click()
    rita.wait_for_url(f"{story.base}/review/asins/{ASIN}/v2/compare")
    wait_for_model(rita, "viewer-this", "viewer-this-status")
    wait_for_model(rita, "viewer-previous", "viewer-previous-status")
    compared = rita.locator("main").inner_text()
    assert NOTE in compared  # v1's rejection shown beside
    assert "automatic QA has not run" not in compared
    story.shot(rita, "reviewer-compares-v2-v1")
    rita.goto(f"{story.base}/review/asins/{ASIN}/v2")
    rita.get_by_role("button", name="Approve").click()
    rita.wait_for_url(f"{story.base}/review/asins/{ASIN}/v2?recorded=1#decision")
    story.shot(rita, "reviewer-approved-v2")

    # 7. ada sees v2 published (the decision sensor's run published it; retention then
    # removed the rejected v1, whose history stays on her page)
    story.until(ada, "v2 published", _delivery_outcome(fixed.name, "published"))
    story.until(ada, "v1 superseded", _delivery_outcome(first.name, "superseded"))
    v1_steps = ada.locator(f"#deliveries li.delivery[data-name='{first.name}'] .steps")
    assert "decided: rejected; removed by retention" in v1_steps.inner_text()
    story.until(ada, "v2 published in the versions table", _version_row(2, "published"))
    story.shot(ada, "artist-sees-published")
