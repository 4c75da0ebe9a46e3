"""Which stored object a review-page URL means, decided by the version manifest alone.

A URL names an ASIN, a version number and a role (the model and its glTF resources, the
n-th reference photo, the contact sheet). The key is looked up in the version's manifest;
a path taken from the request is only ever compared with the paths the manifest lists, never
joined onto a store prefix, so no request can reach another object of the store.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.asin import is_valid_asin
from shazam_assets.platform.records import VersionManifest
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.qa.result import read_scores

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CONTENT_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".bin": "application/octet-stream",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ktx2": "image/ktx2",
}


@dataclass(frozen=True)
class ServedFile:
    """One object the page may show: its store key, size and the type to send it with."""

    key: str
    size: int | None
    content_type: str


@dataclass(frozen=True)
class ReviewVersion:
    """A stored version as the review page needs it: the manifest plus the files it names."""

    asin: str
    version: int
    manifest: VersionManifest
    listed: frozenset[str]  # every path the manifest lists, relative to the version folder

    @property
    def delivery(self) -> Mapping[str, Any]:
        return self.manifest.delivery or {}

    @property
    def model_path(self) -> str | None:
        path = self.manifest.model_path
        return path if path in self.listed else None

    @property
    def photo_paths(self) -> tuple[str, ...]:
        """The reference photos, in manifest order; indexes in URLs count from 0 in this list."""
        return tuple(p for p in self.manifest.photo_paths if p in self.listed)

    def size_of(self, path: str) -> int | None:
        found = self.manifest.file(path)
        return None if found is None else found.size


def content_type(path: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")


def load_version(store: ObjectStore, asin: str, version: int) -> ReviewVersion | None:
    """The version, or None when the ASIN is malformed or the version does not exist."""
    if not is_valid_asin(asin) or version < 1:
        return None
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        return None
    return ReviewVersion(asin=asin, version=version, manifest=manifest, listed=manifest.listed)


def _stored(item: ReviewVersion, path: str) -> ServedFile:
    key = layout.version_file_key(item.asin, item.version, path)
    return ServedFile(key=key, size=item.size_of(path), content_type=content_type(path))


def model_files(item: ReviewVersion) -> frozenset[str]:
    """The model and, for a .gltf, exactly the resources validation read for it (the version's
    closed list of model files): the only paths the model route serves."""
    return frozenset(item.manifest.model_files() or ())


def model_file(item: ReviewVersion, path: str) -> ServedFile | None:
    """The model, or one of its glTF resources, named by its path inside the version."""
    return _stored(item, path) if path in model_files(item) else None


def photo_file(item: ReviewVersion, index: int) -> ServedFile | None:
    photos = item.photo_paths
    return _stored(item, photos[index]) if 0 <= index < len(photos) else None


def contact_sheet_file(store: ObjectStore, item: ReviewVersion) -> ServedFile | None:
    """The contact sheet automatic QA rendered for this version, if any. The key comes from
    the QA result, so it is accepted only inside this version's own QA folder."""
    scores = read_scores(store, item.asin, item.version)
    key = None if scores is None else scores.contact_sheet
    own_folder = layout.qa_prefix(item.asin, item.version)
    if not isinstance(key, str) or not key.startswith(own_folder):
        return None
    name = key[len(own_folder) :]
    if "/" in name or name in ("", ".", "..") or not name.lower().endswith(IMAGE_SUFFIXES):
        return None
    return ServedFile(key=key, size=None, content_type=content_type(name))
