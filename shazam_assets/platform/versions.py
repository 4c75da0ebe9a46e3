"""Reading the version store: which versions an ASIN has, their manifests and files, their
turntables, and which version is published. Every stage reads versions through here; storing
a delivery as a new version is ingest's (`shazam_assets.ingest.versions`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.errors import ShazamError
from shazam_assets.platform.records import TurntableManifest, VersionManifest
from shazam_assets.platform.storage import ObjectStore, read_json


class VersionStoreError(ShazamError, RuntimeError):
    """Storing or reading a version cannot proceed; `code` is stable (VERSION_*), the message
    says why and nothing was committed."""


def list_versions(store: ObjectStore, asin: str) -> list[int]:
    """Committed version numbers of an ASIN (those with a version manifest), ascending."""
    found = set()
    for info in store.list(layout.versions_prefix(asin)):
        parsed = layout.parse_version_manifest_key(info.key)
        if parsed is not None and parsed.asin == asin:
            found.add(parsed.version)
    return sorted(found)


def read_version_manifest(store: ObjectStore, asin: str, version: int) -> VersionManifest | None:
    data = read_json(store, layout.version_manifest_key(asin, version))
    return None if data is None else VersionManifest.from_json(data)


def download_files(
    store: ObjectStore, *, asin: str, version: int, paths: Iterable[str], dest: Path
) -> None:
    """Copy files of a version to `dest`, each at its path inside the version (so a .gltf finds
    its resources where its URIs say). Paths are the version's own (judged safe by zipsafety);
    one that would leave `dest` anyway is refused."""
    root = dest.resolve()
    for path in paths:
        target = root.joinpath(*path.split("/")).resolve()
        if not target.is_relative_to(root):
            raise VersionStoreError(
                "VERSION_PATH_OUTSIDE",
                f"{asin} v{version}: {path!r} is not a path inside the version",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            store.open_read(layout.version_file_key(asin, version, path)) as src,
            open(target, "wb") as out,
        ):
            shutil.copyfileobj(src, out, 1 << 20)


def read_turntable_manifest(
    store: ObjectStore, asin: str, version: int
) -> TurntableManifest | None:
    """The committed turntable of a version (see `shazam_assets.render.turntable`), or None."""
    data = read_json(store, layout.turntable_manifest_key(asin, version))
    return None if data is None else TurntableManifest.from_json(data)


def published_version(store: ObjectStore, asin: str) -> int | None:
    """The version the ASIN's publish pointer names; None when nothing is published."""
    pointer = read_json(store, layout.published_pointer_key(asin))
    return None if pointer is None or pointer.get("version") is None else int(pointer["version"])


def published_asins(store: ObjectStore) -> list[str]:
    """Every ASIN with a publish pointer (published or taken down), in key order."""
    found = (
        layout.parse_published_pointer_key(i.key)
        for i in store.list(layout.published_pointers_prefix())
    )
    return [asin for asin in found if asin is not None]


def tombstone(store: ObjectStore, asin: str, version: int) -> dict[str, Any] | None:
    """The record retention left when it deleted a version, or None."""
    return read_json(store, layout.tombstone_key(asin, version))


def is_deleted(store: ObjectStore, asin: str, version: int) -> bool:
    return store.exists(layout.tombstone_key(asin, version))


def stored_asins(store: ObjectStore) -> list[str]:
    """ASINs with at least one reserved version number (cheap: the index holds small files)."""
    return sorted(
        {
            c.asin
            for i in store.list(layout.version_index_prefix())
            if (c := layout.parse_claim_key(i.key))
        }
    )
