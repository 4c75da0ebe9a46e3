"""What a shopper's browser gets from a built product page: AR, the channel derivative with the
master as fallback, and the material-variant switcher, in headless Chromium.

The store is made by the real stages: delivered, validated, approved, rendered, then the
publish stage's channel files (derivatives through @gltf-transform, checked by the Khronos
validator and a render comparison; the USDZ through usd-core) and the page.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore
from shazam_assets.publish import create_pages_app, publish_product, read_page_manifest
from shazam_assets.publish.channels import publish_channels
from shazam_assets.publish.usdz import check_usdz
from tests.builders import pack, product, store_delivery, with_variants
from tests.publish.conftest import CHROMIUM, SPEAKER, approve_and_render
from tests.publish.test_pages_browser import MODEL_TIMEOUT_MS, _open, _serving

VARIANTS = "B0PAGE0003"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]


@pytest.fixture(scope="module")
def shop_template(pages_store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The speaker, and a mug delivered with two material variants, with their channel files
    and pages: what the publish job leaves."""
    root = tmp_path_factory.mktemp("shop")
    store = LocalStore(shutil.copytree(pages_store_template, root / "store"))
    mug = product(root, "mug")
    model = with_variants(mug.model, root / "mug-variants.glb")
    zip_path = pack(root, mug, asin=VARIANTS, name="variants.zip", model=model)
    approve_and_render(store, VARIANTS, store_delivery(store, zip_path, asin=VARIANTS))
    for asin in (SPEAKER, VARIANTS):
        publish_channels(store, asin, 1)
        publish_product(store, asin)
    return store.root


@pytest.fixture
def shop(shop_template: Path, tmp_path: Path) -> LocalStore:
    return LocalStore(shutil.copytree(shop_template, tmp_path / "store"))


def _loaded(page: Any) -> str:
    """Wait for the 3D model; which one the page says it shows (derivative or master)."""
    page.wait_for_function(
        "() => ['loaded', 'error'].includes("
        "document.getElementById('viewer-status').dataset.state)",
        timeout=MODEL_TIMEOUT_MS,
    )
    assert page.get_attribute("#viewer-status", "data-state") == "loaded"
    return str(page.get_attribute("#viewer-status", "data-model"))


def test_the_page_offers_ar_with_a_valid_usdz_for_quick_look(shop, browser, tmp_path) -> None:
    urls = read_page_manifest(shop, SPEAKER)["urls"]
    assert urls["usdz"], "the speaker's USDZ was made"
    with _serving(create_pages_app(shop)) as server:
        page = _open(browser, server)
        page.goto(f"{server}/{SPEAKER}/")
        viewer = page.locator("#viewer")
        assert viewer.get_attribute("ar") is not None
        assert set(viewer.get_attribute("ar-modes").split()) == {
            "webxr",
            "scene-viewer",
            "quick-look",
        }
        assert viewer.get_attribute("ios-src") == urls["usdz"]
        link = page.locator("#usdz-link")
        assert link.get_attribute("rel") == "ar" and link.get_attribute("href") == urls["usdz"]
        assert link.locator("img").count() == 1  # Quick Look wants an <img> as the first child

        response = page.request.get(f"{server}/{SPEAKER}/{urls['usdz']}")
        assert response.ok
        assert response.headers["content-type"] == "model/vnd.usdz+zip"
        usdz = tmp_path / "speaker.usdz"
        usdz.write_bytes(response.body())
        assert check_usdz(usdz) == []
        assert _loaded(page) == "derivative"
        assert page.errors == [] and page.foreign == []


def test_the_page_loads_the_channel_derivative_and_phones_get_theirs(shop, browser) -> None:
    manifest = read_page_manifest(shop, SPEAKER)
    derivatives = manifest["urls"]["derivatives"]
    assert set(derivatives) == {"web", "mobile"}
    with _serving(create_pages_app(shop)) as server:
        desktop = _open(browser, server)
        desktop.goto(f"{server}/{SPEAKER}/")
        assert _loaded(desktop) == "derivative"
        assert desktop.get_attribute("#viewer", "src") == derivatives["web"]

        phone = _open(
            browser,
            server,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        phone.goto(f"{server}/{SPEAKER}/")
        assert _loaded(phone) == "derivative"
        assert phone.get_attribute("#viewer", "src") == derivatives["mobile"]
        assert desktop.errors == phone.errors == []


def test_the_page_falls_back_to_the_master_when_the_derivative_is_missing(shop, browser) -> None:
    manifest = read_page_manifest(shop, SPEAKER)
    for url in manifest["urls"]["derivatives"].values():
        shop.delete(layout.page_prefix(SPEAKER) + url)
    with _serving(create_pages_app(shop)) as server:
        page = _open(browser, server)
        page.goto(f"{server}/{SPEAKER}/")
        assert _loaded(page) == "master"
        assert page.get_attribute("#viewer", "src") == manifest["urls"]["model"]
        assert page.locator("#viewer-status").inner_text() == "3D model loaded (full size)."
        assert all("404" in e for e in page.errors)  # only the missing derivative's request


def _blueness(png: bytes) -> float:
    """Mean (blue - red) over the pixels of the model (those that are not the white ground)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    model = rgb.sum(axis=2) < 3 * 235
    assert model.mean() > 0.02, "the model covers part of the view"
    return float((rgb[..., 2] - rgb[..., 0])[model].mean())


def test_the_variant_switcher_changes_the_material(shop, browser) -> None:
    assert read_page_manifest(shop, VARIANTS)["variants"] == ["Natural", "Blue"]
    with _serving(create_pages_app(shop)) as server:
        page = _open(browser, server)
        page.goto(f"{server}/{VARIANTS}/")
        _loaded(page)
        select = page.get_by_label("Finish")
        assert select.locator("option").all_inner_texts() == ["Natural", "Blue"]
        assert select.input_value() == "Natural"
        before = _blueness(page.locator("#viewer").screenshot())
        select.select_option("Blue")
        page.wait_for_function("() => document.getElementById('viewer').variantName === 'Blue'")
        page.wait_for_timeout(1000)  # the next frames draw the new material
        assert page.evaluate("() => document.getElementById('viewer').variantName") == "Blue"
        after = _blueness(page.locator("#viewer").screenshot())
        assert after > before + 40, (before, after)
        assert page.errors == [] and page.foreign == []
