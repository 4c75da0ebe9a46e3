"""An artist uploads a delivery from the ASIN page in headless Chromium, straight to moto's S3
server: sign-in through the real provider page, the file chosen in the page's file input, parts
PUT by the page to presigned URLs (CORS on the bucket, the store's origin in the page's CSP), the
progress bar at 100%, the object in the bucket byte for byte. A part that keeps failing stops the
upload; after a reload, choosing the same file offers Resume, which finishes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shazam_assets.platform import layout
from shazam_assets.platform.multipart import MIN_PART_BYTES
from shazam_assets.platform.storage import S3Store
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.studio.conftest import ARTIST
from tests.studio.test_uploads import ASIN, assign

pytestmark = [
    pytest.mark.integration,
    pytest.mark.long,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]
SCREENSHOT = Path("/tmp/studio-upload.png")


@pytest.fixture
def studio(run_studio, s3_client, s3_bucket, tmp_path):
    store = S3Store(s3_bucket, client=s3_client)
    assign(store, ASIN, ARTIST, tmp_path)
    studio = run_studio(store, config_changes={"upload_part_bytes": MIN_PART_BYTES})
    # what deployment puts on the bucket (docs/studio.md): the page PUTs parts and reads ETags
    s3_client.put_bucket_cors(
        Bucket=s3_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [studio.base],
                    "AllowedMethods": ["PUT"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    return studio


@pytest.fixture
def page(studio) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            browser.close()


def _sign_in(page, base: str, sub: str) -> None:
    page.goto(f"{base}/login?next=/asins/{ASIN}")
    page.locator("input[name=sub]").first.fill(sub)
    page.get_by_role("button", name="Authorize").first.click()
    page.wait_for_url(f"{base}/asins/{ASIN}")


def _delivery(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "delivery-1.zip"
    path.write_bytes(b"PK\x03\x04" + os.urandom(size - 4))
    return path


def test_an_artist_uploads_from_the_page_to_s3(studio, page, tmp_path) -> None:
    zip_path = _delivery(tmp_path, 2 * MIN_PART_BYTES + 300_000)  # three parts
    _sign_in(page, studio.base, ARTIST)
    page.set_input_files("#upload-file", str(zip_path))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function("() => document.getElementById('upload').dataset.uploaded")

    assert page.locator("#upload-progress").evaluate("p => p.value") == 100
    assert "(100%)" in page.locator("#upload-bytes").inner_text()
    assert "Uploaded delivery-1.zip" in page.locator("#upload-status").inner_text()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    key = layout.upload_key(ASIN, "delivery-1.zip")
    assert studio.store.get_bytes(key) == zip_path.read_bytes()


def test_an_interrupted_upload_resumes_after_a_reload(studio, page, tmp_path) -> None:
    zip_path = _delivery(tmp_path, 2 * MIN_PART_BYTES + 1000)
    _sign_in(page, studio.base, ARTIST)

    def part_three(url: str) -> bool:
        return "partNumber=3" in url

    page.route(part_three, lambda route: route.abort())  # the network drops part 3, every try
    page.set_input_files("#upload-file", str(zip_path))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function(
        "() => document.getElementById('upload-status').textContent.includes('stopped')",
        timeout=90_000,
    )
    assert studio.store.head(layout.upload_key(ASIN, "delivery-1.zip")) is None

    page.unroute(part_three)
    page.reload()
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    assert "unfinished" in page.locator("#upload-status").inner_text()
    page.set_input_files("#upload-file", str(zip_path))
    page.get_by_role("button", name="Resume").click()
    page.wait_for_function("() => document.getElementById('upload').dataset.uploaded")
    status = page.locator("#upload-status").inner_text()
    assert "Uploaded delivery-1.zip" in status
    assert [part_three(url) for url in puts] == [True]  # parts 1 and 2 were not sent again
    key = layout.upload_key(ASIN, "delivery-1.zip")
    assert studio.store.get_bytes(key) == zip_path.read_bytes()
