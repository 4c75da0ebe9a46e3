"""Publishing and unpublishing one product page.

`publish_product` writes, for the ASIN's approved version, a release folder (files copied
inside the store), then `manifest.json`, then `index.html` last: the page only ever points
at a release whose every file is already there, and each object is replaced atomically, so
a shopper sees the old page or the new one, never a mix. The previous release is kept (a
page loaded a moment ago still finds its files); older ones are deleted once the new page
is live, and each deletion is logged with its size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from shazam_assets.platform.layout import PAGE_NAME, page_key, page_manifest_key, page_prefix
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore
from shazam_assets.platform.versions import published_version
from shazam_assets.publish.catalogue import CatalogueResult, publish_catalogue
from shazam_assets.publish.errors import PublishError
from shazam_assets.publish.markup import render_product_page
from shazam_assets.publish.release import Release, check_asin, plan_release
from shazam_assets.publish.serving import PAGE_SCHEMA, is_release_name, served_as
from shazam_assets.publish.site import SiteAssets, site_assets, upload_site_assets

Log = Callable[[str], None]


@dataclass(frozen=True)
class ReleaseDeletion:
    release: str
    files: int
    bytes_reclaimed: int


@dataclass(frozen=True)
class PublishResult:
    asin: str
    version: int
    release: str  # r<fingerprint>
    changed: bool  # False: this release and page were live already (nothing was written)
    page_uri: str
    files: int  # files in the release
    copied_bytes: int  # bytes copied into the release by this call
    deletions: tuple[ReleaseDeletion, ...] = ()
    catalogue: CatalogueResult | None = None


@dataclass(frozen=True)
class UnpublishResult:
    asin: str
    was_live: bool  # False: there was no page to remove
    files_deleted: int
    bytes_reclaimed: int
    catalogue: CatalogueResult | None = None


@dataclass(frozen=True)
class PageSync:
    """What `sync_product_page` did to one ASIN's page."""

    asin: str
    outcome: Literal["published", "taken_down", "nothing"]
    published: PublishResult | None = None  # set when outcome == "published"
    unpublished: UnpublishResult | None = None  # set when nothing is published

    @property
    def version(self) -> int | None:
        """The version the live page shows; None when the ASIN has no page."""
        return self.published.version if self.published is not None else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_page_manifest(store: ObjectStore, asin: str) -> dict[str, Any] | None:
    """The live page's manifest, or None when the ASIN has no page."""
    try:
        manifest: dict[str, Any] = json.loads(store.get_bytes(page_manifest_key(asin)))
    except ObjectNotFound:
        return None
    return manifest


def _page_manifest(release: Release, page: bytes, site: SiteAssets) -> dict[str, Any]:
    static = site.urls(depth=1)["css"].rsplit("/", 1)[0] + "/"  # ../_static/
    return {
        "schema": PAGE_SCHEMA,
        "asin": release.asin,
        "title": release.title,
        "dimensions": release.dimensions,
        "version": release.version,
        "release": release.name,
        "turntable": release.turntable,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "urls": {
            "page": PAGE_NAME,
            "model": release.model,
            "model_format": release.model_format,
            "derivatives": release.derivatives,
            "usdz": release.usdz,
            "poster": release.poster,
            "frames": list(release.frames),
            "sprite": release.sprite,
            "video": release.video,
        },
        "variants": list(release.variants),
        "page": {"path": PAGE_NAME, "sha256": _sha256(page), "size": len(page)},
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in release.files],
        "static": [
            {"path": static + f.name, "sha256": f.sha256, "size": f.size} for f in site.files
        ],
    }


def _is_live(store: ObjectStore, old: dict[str, Any] | None, release: Release, page: bytes) -> bool:
    """The page of exactly this release, with exactly these bytes, is already published."""
    if old is None or old.get("release") != release.name:
        return False
    if (old.get("page") or {}).get("sha256") != _sha256(page):
        return False
    info = store.head(page_key(release.asin))
    return info is not None and info.size == len(page)


def _copy_release(store: ObjectStore, release: Release, *, log: Log) -> int:
    """Copy every file into the release folder (server-side); a file already there with its
    size is kept, so a publish interrupted half-way resumes. Returns the bytes copied."""
    prefix = page_prefix(release.asin)
    copied = 0
    for item in release.files:
        existing = store.head(prefix + item.path)
        if existing is not None and existing.size == item.size:
            continue
        try:
            target = prefix + item.path
            info = store.copy(item.source, target, **served_as(target).metadata())
        except ObjectNotFound:
            raise PublishError(
                "PUBLISH_SOURCE_MISSING", f"{item.source} is listed but not stored"
            ) from None
        if info.size != item.size:
            raise PublishError(
                "PUBLISH_COPY_INCOMPLETE",
                f"{prefix + item.path}: {info.size} bytes copied, {item.size} expected",
            )
        copied += info.size
    count = len(release.files)
    log(f"{release.asin}: release {release.name} holds {count} files ({copied:,} bytes copied)")
    return copied


def _prune_releases(
    store: ObjectStore, asin: str, *, keep: set[str], log: Log
) -> tuple[ReleaseDeletion, ...]:
    """Delete every release folder of the ASIN except those in `keep`."""
    prefix = page_prefix(asin)
    doomed: dict[str, list[tuple[str, int]]] = {}
    for info in store.list(prefix):
        name = info.key[len(prefix) :].split("/", 1)[0]
        if is_release_name(name) and name not in keep and "/" in info.key[len(prefix) :]:
            doomed.setdefault(name, []).append((info.key, info.size))
    deletions = []
    for name, objects in sorted(doomed.items()):
        for key, _ in objects:
            store.delete(key)
        deletions.append(ReleaseDeletion(name, len(objects), sum(size for _, size in objects)))
        log(
            f"{asin}: deleted old release {name}: {len(objects)} files, "
            f"{deletions[-1].bytes_reclaimed:,} bytes reclaimed"
        )
    return tuple(deletions)


def _go_live(
    store: ObjectStore, release: Release, *, page: bytes, site: SiteAssets, log: Log
) -> int:
    """Shared files, then the release, then manifest.json, then index.html: each step only
    refers to what the steps before it wrote. Returns the bytes copied into the release."""
    upload_site_assets(store, site, log=log)
    copied = _copy_release(store, release, log=log)
    manifest = json.dumps(_page_manifest(release, page, site), indent=2).encode()
    manifest_key = page_manifest_key(release.asin)
    store.put_bytes(manifest_key, manifest, **served_as(manifest_key).metadata())
    store.put_bytes(page_key(release.asin), page, **served_as(page_key(release.asin)).metadata())
    log(
        f"{release.asin}: page live at {store.uri(page_key(release.asin))} "
        f"(v{release.version}, release {release.name})"
    )
    return copied


def publish_product(
    store: ObjectStore, asin: str, *, catalogue: bool = True, log: Log = lambda _: None
) -> PublishResult:
    """Publish (or refresh) the product page of the ASIN's approved version.

    Refuses with a PublishError (stable `code`) before writing anything when the ASIN has no
    approved version, the version or its model is missing, or it has no turntable yet. With
    `catalogue`, the catalogue is rebuilt afterwards (a no-op when it is up to date)."""
    release = plan_release(store, asin)
    site = site_assets()
    page = render_product_page(release, site=site.urls(depth=1))
    old = read_page_manifest(store, asin)
    result = PublishResult(
        asin=asin,
        version=release.version,
        release=release.name,
        changed=False,
        page_uri=store.uri(page_key(asin)),
        files=len(release.files),
        copied_bytes=0,
    )
    if _is_live(store, old, release, page):
        log(f"{asin}: release {release.name} of v{release.version} is already live; nothing to do")
    else:
        copied = _go_live(store, release, page=page, site=site, log=log)
        keep = {release.name} | ({old["release"]} if old and old.get("release") else set())
        deletions = _prune_releases(store, asin, keep=keep, log=log)
        result = replace(result, changed=True, copied_bytes=copied, deletions=deletions)
    if catalogue:
        result = replace(result, catalogue=publish_catalogue(store, log=log))
    return result


def unpublish_product(
    store: ObjectStore,
    asin: str,
    *,
    on_removed: Callable[[str], object] | None = None,
    catalogue: bool = True,
    log: Log = lambda _: None,
) -> UnpublishResult:
    """Take the ASIN's product page down: index.html first (no shopper reaches a page whose
    files are going), then manifest.json, then every release. `on_removed(asin)` runs once the
    page is gone and before the catalogue is rebuilt: the hook for removing the ASIN from the
    search index. Removing a page that does not exist is not an error (`was_live` False).
    The approval pointer `pointers/published/<ASIN>.json` belongs to QA and is left alone."""
    check_asin(asin)
    was_live = store.exists(page_key(asin)) or store.exists(page_manifest_key(asin))
    store.delete(page_key(asin))
    store.delete(page_manifest_key(asin))
    remaining = list(store.list(page_prefix(asin)))
    for info in remaining:
        store.delete(info.key)
    freed = sum(i.size for i in remaining)
    if was_live or remaining:
        log(f"{asin}: page removed; {len(remaining)} files deleted, {freed:,} bytes reclaimed")
    if on_removed is not None:
        on_removed(asin)
    listed = publish_catalogue(store, log=log) if catalogue else None
    return UnpublishResult(
        asin=asin,
        was_live=was_live,
        files_deleted=len(remaining),
        bytes_reclaimed=freed,
        catalogue=listed,
    )


def sync_product_page(
    store: ObjectStore,
    asin: str,
    *,
    on_removed: Callable[[str], object] | None = None,
    catalogue: bool = True,
    log: Log = lambda _: None,
) -> PageSync:
    """Make the ASIN's page match QA's publish pointer: the page of the published version
    when there is one, no page when there is none (a recall or a rollback past the first
    version takes it down). `outcome` is "nothing" when nothing is published and no page was
    live. Refusals of `publish_product` propagate as PublishError."""
    if published_version(store, asin) is None:
        gone = unpublish_product(store, asin, on_removed=on_removed, catalogue=catalogue, log=log)
        log(f"{asin} has no published version; page live before: {gone.was_live}")
        outcome: Literal["taken_down", "nothing"] = "taken_down" if gone.was_live else "nothing"
        return PageSync(asin, outcome, unpublished=gone)
    done = publish_product(store, asin, catalogue=catalogue, log=log)
    return PageSync(asin, "published", published=done)
