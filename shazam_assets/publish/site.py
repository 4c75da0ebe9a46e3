"""The files every page shares: its script and style, and Google's <model-viewer> with the
decoders it loads for Draco meshes and KTX2 textures. They are copied into
`published/_static/` so that no page loads anything from a CDN.

Our own files get their content hash in their name and model-viewer its version in its
folder, so a page written today keeps the exact files it was written with: an upgrade adds
files beside the old ones and never changes what a live page loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shazam_assets.platform import layout, viewer
from shazam_assets.platform.layout import STATIC_DIR
from shazam_assets.platform.storage import ObjectStore, sha256_file
from shazam_assets.publish.errors import PublishError
from shazam_assets.publish.serving import served_as

HERE = Path(__file__).resolve().parent
OWN_STATIC = HERE / "static"
OWN_FILES = {"css": "pages.css", "product_js": "product.js", "catalogue_js": "catalogue.js"}


@dataclass(frozen=True)
class SiteFile:
    name: str  # key below published/_static/
    source: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class SiteAssets:
    """The shared files, and the name of each one a template refers to by role."""

    files: tuple[SiteFile, ...]
    roles: dict[str, str]  # role ("css", "model_viewer", "draco", ...) -> name below _static/

    def urls(self, *, depth: int) -> dict[str, str]:
        """Each role's URL relative to a page `depth` folders below published/."""
        up = "../" * depth
        return {role: f"{up}{STATIC_DIR}/{name}" for role, name in self.roles.items()}


def _model_viewer_version() -> str:
    version = viewer.installed_version()
    if version is None:
        raise PublishError(
            "PUBLISH_VIEWER_MISSING",
            f"model-viewer is not installed under {viewer.NODE_MODULES}; run `make setup` "
            f"({viewer.INSTALL_HINT})",
        )
    return version


def site_assets() -> SiteAssets:
    """The shared files as they are installed now (raises PUBLISH_VIEWER_MISSING)."""
    folder = f"model-viewer-{_model_viewer_version()}"
    sources: dict[str, Path] = {
        f"{folder}/{name}": path for name, path in viewer.viewer_files().items()
    }
    roles = {
        "model_viewer": f"{folder}/model-viewer.min.js",
        "draco": f"{folder}/draco/",
        "basis": f"{folder}/basis/",
    }
    for role, file_name in OWN_FILES.items():
        path = OWN_STATIC / file_name
        stem, dot, suffix = file_name.rpartition(".")
        roles[role] = f"{stem}.{sha256_file(path)[:10]}{dot}{suffix}"
        sources[roles[role]] = path
    files = tuple(
        SiteFile(name, path, path.stat().st_size, sha256_file(path))
        for name, path in sources.items()
    )
    return SiteAssets(files=files, roles=roles)


def upload_site_assets(
    store: ObjectStore, assets: SiteAssets, *, log: Callable[[str], None] = lambda _: None
) -> int:
    """Copy the shared files that the store lacks; returns the bytes uploaded. A name never
    changes its content, so a present file with the right size is the right file."""
    uploaded = 0
    for item in assets.files:
        key = layout.static_key(item.name)
        info = store.head(key)
        if info is not None and info.size == item.size:
            continue
        store.put_file(key, item.source, **served_as(key).metadata())
        uploaded += item.size
        log(f"uploaded {key} ({item.size:,} bytes)")
    return uploaded
