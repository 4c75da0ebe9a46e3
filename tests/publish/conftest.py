"""A store holding two approved, rendered products, built once and copied per test.

Each product is packed from a procedural demo product, uploaded, validated and stored by the
ingest stage, approved and promoted by QA, and given a real (small) turntable: exactly the
state in which the pipeline publishes a page.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from shazam_assets.qa.decisions import promote, record_decision
from shazam_assets.storage import LocalStore, ObjectInfo, ObjectStore
from shazam_assets.turntable import TurntableSpec, publish_turntable
from tests.builders import pack, product, store_delivery

SPEAKER = "B0PAGE0001"
MUG = "B0PAGE0002"
SMALL = TurntableSpec(frames=8, size=96)




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


class RecordingStore(ObjectStore):
    """A store that logs every change it is asked for, in order: ("put"|"copy"|"delete", key)."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.changes: list[tuple[str, str]] = []

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        return self.inner.list(prefix, start_after=start_after)

    def head(self, key: str) -> ObjectInfo | None:
        return self.inner.head(key)

    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(key)

    def open_read(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.inner.open_read(key)

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        return self.inner.local_copy(key)

    def put_bytes(self, key: str, data: bytes, **headers: str | None) -> ObjectInfo:
        self.changes.append(("put", key))
        return self.inner.put_bytes(key, data, **headers)

    def put_stream(self, key: str, stream: BinaryIO, **headers: str | None) -> ObjectInfo:
        self.changes.append(("put", key))
        return self.inner.put_stream(key, stream, **headers)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self.changes.append(("put", key))
        return self.inner.put_if_absent(key, data)

    def copy(self, src: str, dst: str, **headers: str | None) -> ObjectInfo:
        self.changes.append(("copy", dst))
        return self.inner.copy(src, dst, **headers)

    def delete(self, key: str) -> None:
        self.changes.append(("delete", key))
        self.inner.delete(key)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)
