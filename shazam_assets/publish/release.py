"""What one release of a product page holds, decided from the manifests alone.

A release is the set of files a page shows: the approved version's model (the master), the
channel files made from it when they passed their checks (a compressed derivative per channel,
the USDZ for iOS Quick Look), and the poster, 360° frames, sprite and video of its turntable. Its name is `r` + a fingerprint of every
file's path and sha256, so the same files always make the same release (publishing again
is a no-op) and any change (rollback, new model, new renders) makes a new folder beside the
live one instead of changing files a page is showing.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from shazam_assets.platform import layout
from shazam_assets.platform.asin import asin_problem
from shazam_assets.platform.records import TurntableManifest, VersionManifest
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.platform.versions import (
    published_version,
    read_turntable_manifest,
    read_version_manifest,
)
from shazam_assets.publish.channels import ChannelFiles, read_channel_files
from shazam_assets.publish.errors import PublishError

MODEL_FOLDER = "model"
CHANNEL_FOLDER = "channels"
# Part of every release name: bump it when what a release's objects carry changes, so the next
# publish writes a new release instead of keeping one made the old way. 2: only the recorded
# model files, each object with its allow-listed Content-Type (publish.serving.served_as).
# 3: each object also carries its Cache-Control (a year: a release's name is its content), and
# the channel derivatives and the USDZ when they were made.
RELEASE_FORMAT = 3


@dataclass(frozen=True)
class ReleaseFile:
    source: str  # the store key it is copied from
    path: str  # relative to the page folder: r<fingerprint>/frames/000.webp
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """Everything a product page shows, with page-relative URLs."""

    asin: str
    version: int
    name: str  # r<fingerprint>
    title: str
    dimensions: dict[str, Any] | None  # width, height, depth, unit (from the delivery manifest)
    turntable: str  # the turntable's own fingerprint (its set)
    model: str  # the master: what every channel falls back to
    model_format: str  # model/gltf-binary or model/gltf+json
    derivatives: dict[str, str]  # channel name -> its derivative's URL (those that passed)
    usdz: str | None  # for iOS Quick Look; None when none could be made
    variants: tuple[str, ...]  # KHR_materials_variants names the page offers
    poster: str
    frames: tuple[str, ...]
    sprite: dict[str, Any]  # url, columns, cell, frames
    video: str
    files: tuple[ReleaseFile, ...]


def check_asin(asin: str) -> None:
    problem = asin_problem(asin)
    if problem is not None:
        raise PublishError("PUBLISH_BAD_ASIN", problem)


def _approved_version(store: ObjectStore, asin: str) -> tuple[int, VersionManifest]:
    version = published_version(store, asin)
    if version is None:
        raise PublishError("PUBLISH_NOT_APPROVED", f"{asin} has no approved version to publish")
    manifest = read_version_manifest(store, asin, version)
    if manifest is None:
        raise PublishError(
            "PUBLISH_VERSION_MISSING", f"{asin} v{version} is approved but not stored"
        )
    return version, manifest


def _turntable(store: ObjectStore, asin: str, version: int) -> TurntableManifest:
    manifest = read_turntable_manifest(store, asin, version)
    if manifest is None:
        raise PublishError(
            "PUBLISH_NO_TURNTABLE", f"{asin} v{version} has no turntable yet; render it first"
        )
    return manifest


def _model_files(
    asin: str, version: int, manifest: VersionManifest
) -> tuple[str, list[ReleaseFile]]:
    """The model's path in the release, and its files: the closed list the version records
    (the model and exactly the resources validation read for it), never the rest of its
    folder. Their layout relative to each other is kept, so a .gltf's URIs still resolve."""
    paths = manifest.model_files()
    if paths is None:
        raise PublishError(
            "PUBLISH_NO_MODEL",
            f"{asin} v{version}: the delivery names no stored model, or the version records no "
            "model files (stored before they were recorded: re-validate and store it again)",
        )
    listed = {f.path: f for f in manifest.files}
    base = posixpath.commonpath([posixpath.dirname(p) for p in paths])
    files = [
        ReleaseFile(
            source=layout.version_file_key(asin, version, p),
            path=f"{MODEL_FOLDER}/{posixpath.relpath(p, base or '.')}",
            sha256=listed[p].sha256,
            size=listed[p].size,
        )
        for p in sorted(paths)
    ]
    return f"{MODEL_FOLDER}/{posixpath.relpath(paths[0], base or '.')}", files


def _render_files(asin: str, version: int, turntable: TurntableManifest) -> list[ReleaseFile]:
    listed = {f.path: f for f in turntable.files}
    wanted = [
        turntable.poster,
        *(f.path for f in turntable.frames),
        turntable.sprite.path,
        turntable.video.path,
    ]
    missing = [p for p in wanted if p not in listed]
    if missing:
        raise PublishError(
            "PUBLISH_SOURCE_MISSING", f"{asin} v{version}: the turntable lists no {missing[0]}"
        )
    prefix = layout.render_set_prefix(asin, version, str(turntable.set))
    return [
        ReleaseFile(source=prefix + p, path=p, sha256=listed[p].sha256, size=listed[p].size)
        for p in wanted
    ]


def _channel_files(channels: ChannelFiles | None) -> list[ReleaseFile]:
    if channels is None:
        return []
    shipped = [*channels.derivatives.values(), *([channels.usdz] if channels.usdz else [])]
    return [
        ReleaseFile(
            source=channels.prefix + f.path,
            path=f"{CHANNEL_FOLDER}/{f.path}",
            sha256=f.sha256,
            size=f.size,
        )
        for f in shipped
    ]


def _fingerprint(files: list[ReleaseFile]) -> str:
    content = json.dumps([RELEASE_FORMAT, sorted((f.path, f.sha256) for f in files)])
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def plan_release(store: ObjectStore, asin: str) -> Release:
    """The release of the ASIN's approved version, from its version and turntable manifests
    (nothing is copied here). Raises PublishError with a stable code."""
    check_asin(asin)
    version, manifest = _approved_version(store, asin)
    model, model_files = _model_files(asin, version, manifest)
    turntable = _turntable(store, asin, version)
    channels = read_channel_files(store, asin, version)
    inner = model_files + _channel_files(channels) + _render_files(asin, version, turntable)
    name = f"r{_fingerprint(inner)}"
    files = tuple(ReleaseFile(f.source, f"{name}/{f.path}", f.sha256, f.size) for f in inner)
    product = manifest.product
    sprite = turntable.sprite
    return Release(
        asin=asin,
        version=version,
        name=name,
        title=str(product.get("title") or asin),
        dimensions=product.get("dimensions"),
        turntable=str(turntable.set),
        model=f"{name}/{model}",
        model_format="model/gltf-binary" if model.lower().endswith(".glb") else "model/gltf+json",
        derivatives={
            channel: f"{name}/{CHANNEL_FOLDER}/{f.path}"
            for channel, f in (channels.derivatives.items() if channels else ())
        },
        usdz=f"{name}/{CHANNEL_FOLDER}/{channels.usdz.path}"
        if channels and channels.usdz
        else None,
        variants=channels.variants if channels else (),
        poster=f"{name}/{turntable.poster}",
        frames=tuple(f"{name}/{f.path}" for f in turntable.frames),
        sprite={
            "url": f"{name}/{sprite.path}",
            "columns": sprite.columns,
            "cell": sprite.cell,
            "frames": sprite.frames,
        },
        video=f"{name}/{turntable.video.path}",
        files=files,
    )
