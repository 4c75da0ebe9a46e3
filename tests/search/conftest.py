"""Published products for the search tests, built by the real pipeline once per session.

Two demo products are packed, uploaded, validated and stored by the ingest stage, approved and
promoted by QA, and given a real (small) turntable; a third is stored but never published.
Tests get a private copy of that store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import promote, record_decision
from shazam_assets.render.turntable import TurntableSpec, publish_turntable
from shazam_assets.search.embed import DescriptorEmbedder, decode_image
from tests.builders import pack, product, store_delivery

SPEAKER = "B0SRCH0001"
MUG = "B0SRCH0002"
UNPUBLISHED = "B0SRCH0003"
SMALL = TurntableSpec(frames=8, size=96)
EMBEDDER = DescriptorEmbedder()


@pytest.fixture(scope="session")
def search_products(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """slug -> DemoProduct for the speaker, mug and lamp (the lamp is never published)."""
    root = tmp_path_factory.mktemp("search-products")
    return {slug: product(root, slug) for slug in ("speaker", "mug", "lamp")}


@pytest.fixture(scope="session")
def published_template(tmp_path_factory: pytest.TempPathFactory, search_products) -> Path:
    root = tmp_path_factory.mktemp("search-deliveries")
    store = LocalStore(tmp_path_factory.mktemp("search-store") / "store")
    for asin, slug in ((SPEAKER, "speaker"), (MUG, "mug"), (UNPUBLISHED, "lamp")):
        zip_path = pack(
            root,
            search_products[slug],
            asin=asin,
            name=f"{slug}.zip",
            artist=f"{slug.title()} Maker",
        )
        version = store_delivery(store, zip_path, asin=asin)
        if asin != UNPUBLISHED:
            record_decision(
                store, asin=asin, version=version, verdict="approve", reviewer="Sam Search"
            )
            promote(store, asin, version)
            publish_turntable(store, asin, version, SMALL)
    return store.root


@pytest.fixture
def published_store(published_template: Path, tmp_path: Path) -> LocalStore:
    return LocalStore(Path(shutil.copytree(published_template, tmp_path / "store")))


def photo(path: Path, size: int = 192) -> np.ndarray:
    """A product photo, downscaled (the tests stay quick)."""
    rgb = decode_image(path.read_bytes())
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((size, size)))
