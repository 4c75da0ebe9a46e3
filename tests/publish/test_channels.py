"""The channel files of an approved version and how releases and pages carry them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore
from shazam_assets.publish import derivatives, publish_product, read_page_manifest
from shazam_assets.publish.channels import (
    VARIANT_NAME,
    publish_channels,
    read_channel_files,
    variant_names,
)
from shazam_assets.render.turntable import TurntableSpec, render_turntable
from tests.builders import product, read_glb, with_variants, write_glb
from tests.publish.conftest import MUG, SPEAKER


def _release_keys(store: LocalStore, asin: str, release: str) -> set[str]:
    prefix = layout.page_prefix(asin) + release + "/"
    return {info.key[len(prefix) :] for info in store.list(prefix)}


def test_channel_files_are_made_once_recorded_and_published_with_the_page(pages_store) -> None:
    done = publish_channels(pages_store, SPEAKER, 1)
    assert done.made
    files = done.files
    assert set(files.derivatives) == {"web", "mobile"}
    assert files.usdz is not None
    manifest = json.loads(pages_store.get_bytes(layout.channel_manifest_key(SPEAKER, 1)))
    for entry in manifest["derivatives"]:  # sizes before and after, per channel
        assert entry["refused"] is None
        assert 0 < entry["bytes"] < entry["master_bytes"]
        assert entry["validator_errors"] == 0
        assert entry["ssim_min"] >= derivatives.PROFILES[entry["channel"]].min_ssim
    for item in (*files.derivatives.values(), files.usdz):
        assert pages_store.head(files.prefix + item.path).size == item.size

    again = publish_channels(pages_store, SPEAKER, 1)
    assert not again.made and again.files.set == files.set

    published = publish_product(pages_store, SPEAKER)
    page = read_page_manifest(pages_store, SPEAKER)
    urls = page["urls"]
    assert set(urls["derivatives"]) == {"web", "mobile"}
    assert urls["usdz"].endswith("/channels/model.usdz")
    inside = _release_keys(pages_store, SPEAKER, published.release)
    assert {"channels/web.glb", "channels/mobile.glb", "channels/model.usdz"} <= inside
    usdz_head = pages_store.head(layout.page_prefix(SPEAKER) + urls["usdz"])
    assert usdz_head is not None and usdz_head.size == files.usdz.size

    html = pages_store.get_bytes(layout.page_key(SPEAKER)).decode()
    assert f'src="{urls["derivatives"]["web"]}"' in html
    assert f'ios-src="{urls["usdz"]}"' in html
    assert 'ar-modes="webxr scene-viewer quick-look"' in html
    ld = json.loads(re.search(r'id="structured-data">(.*?)</script>', html, re.S).group(1))
    assert {e["encodingFormat"] for e in ld["encoding"]} == {
        "model/gltf-binary",
        "model/vnd.usdz+zip",
    }


def test_a_page_without_channel_files_serves_the_master_and_no_usdz(pages_store) -> None:
    publish_product(pages_store, MUG)
    urls = read_page_manifest(pages_store, MUG)["urls"]
    assert urls["derivatives"] == {} and urls["usdz"] is None
    html = pages_store.get_bytes(layout.page_key(MUG)).decode()
    assert f'src="{urls["model"]}"' in html
    assert "ios-src" not in html and "usdz-link" not in html
    assert " ar " in html or "\n      ar " in html  # Scene Viewer and WebXR need only the GLB


def test_a_refused_channel_ships_nothing_and_its_page_falls_back(pages_store, monkeypatch) -> None:
    tight = derivatives.ChannelProfile(
        name="mobile", description="an impossible budget", max_bytes=1_000,
        texture_max_px=1024, min_ssim=0.0,
    )  # fmt: skip
    monkeypatch.setitem(derivatives.PROFILES, "mobile", tight)
    done = publish_channels(pages_store, SPEAKER, 1)
    refused = {d["channel"]: d["refused"] for d in done.files.manifest["derivatives"]}
    assert refused["web"] is None
    assert refused["mobile"]["code"] == "PUBLISH_DERIVATIVE_OVER_BUDGET"
    assert set(done.files.derivatives) == {"web"}
    publish_product(pages_store, SPEAKER)
    models = read_page_manifest(pages_store, SPEAKER)["urls"]["derivatives"]
    assert set(models) == {"web"}  # phones get the web derivative, then the master


def test_variant_names_offered_are_exact_short_and_readable(tmp_path: Path) -> None:
    mug = product(tmp_path, "mug")
    model = with_variants(mug.model, tmp_path / "v.glb")
    assert variant_names(model) == ("Natural", "Blue")
    document, binary = read_glb(model.read_bytes())
    document["extensions"]["KHR_materials_variants"]["variants"] = [
        {"name": "Oak"},
        {"name": "x" * (VARIANT_NAME.max_chars + 1)},
        {"name": "evil\u202eeno"},
        {"name": "Oak"},
        {"name": 7},
        {},
        {"name": "Walnut"},
    ]
    hostile = tmp_path / "hostile.glb"
    hostile.write_bytes(write_glb(document, binary))
    assert variant_names(hostile) == ("Oak", "Walnut")


def test_the_turntable_draws_the_default_variant(tmp_path: Path) -> None:
    """Search embeds the turntable's frames, so both see the model as it opens: its default
    materials, not a variant's."""
    mug = product(tmp_path, "mug")
    model = with_variants(mug.model, tmp_path / "v.glb")
    spec = TurntableSpec(frames=8, size=96)
    frames = [
        render_turntable(path, tmp_path / name, spec).folder / "frames" / "000.webp"
        for name, path in (("plain", mug.model), ("varied", model))
    ]
    plain, varied = (np.asarray(Image.open(f).convert("RGB"), dtype=np.float64) for f in frames)
    assert np.abs(plain - varied).mean() < 1.0


def test_channel_files_go_with_their_version(pages_store) -> None:
    """Retention deletes a version's channel files with it."""
    assert layout.channel_set_prefix(SPEAKER, 1, "c0").startswith(
        tuple(layout.version_data_prefixes(SPEAKER, 1))
    )
    assert read_channel_files(pages_store, SPEAKER, 1) is None
