"""Fixtures for pipeline tests: a store, the environment the runs read, a Dagster instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dagster_project.lib.resources import ObjectStoreResource
from tests.builders import pack, product


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> Path:
    """A delivery ZIP that passes validation and automatic QA."""
    root = tmp_path_factory.mktemp("pipeline-delivery")
    return pack(root, product(root))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """(instance, store, store URL): a local store and a test instance, with the variables the
    resources read set the way `shazam` would (small turntables, to stay quick)."""
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    url = (tmp_path / "store").as_uri()
    settings = {
        "SHAZAM_STORE_URL": url,
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "8",
        "SHAZAM_RENDER_SIZE": "64",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        yield instance, ObjectStoreResource(url=url).open(), url
