"""A store holding two approved, rendered products, built once and copied per test.

Each product is packed from a procedural demo product, uploaded, validated and stored by the
ingest stage, approved and promoted by QA, and given a real (small) turntable: exactly the
state in which the pipeline publishes a page.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shazam_assets.platform.storage import LocalStore, ObjectStore
from shazam_assets.qa.decisions import promote, record_decision
from shazam_assets.render.turntable import TurntableSpec, publish_turntable
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.builders import pack, product, store_delivery
from tests.stores import Recording

SPEAKER = "B0PAGE0001"
MUG = "B0PAGE0002"
SMALL = TurntableSpec(frames=8, size=96)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def approve_and_render(
    store: ObjectStore, asin: str, version: int, spec: TurntableSpec = SMALL
) -> None:
    """What QA and the turntable stage do before a page can be published."""
    record_decision(store, asin=asin, version=version, verdict="approve", reviewer="Pat Publisher")
    promote(store, asin, version)
    publish_turntable(store, asin, version, spec)


@pytest.fixture(scope="session")
def pages_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("publish-deliveries")
    store = LocalStore(tmp_path_factory.mktemp("publish-store") / "store")
    for asin, slug in ((SPEAKER, "speaker"), (MUG, "mug")):
        zip_path = pack(root, product(root, slug), asin=asin, name=f"{slug}.zip")
        approve_and_render(store, asin, store_delivery(store, zip_path, asin=asin))
    return store.root


@pytest.fixture
def pages_store(pages_store_template: Path, tmp_path: Path) -> LocalStore:
    """A private copy of the template store: each test may publish and unpublish."""
    return LocalStore(Path(shutil.copytree(pages_store_template, tmp_path / "store")))


RecordingStore = Recording  # the publish tests' name for it
