"""Validate a .glb or .gltf: the stages in order, one list of issues.

Container (GLB chunks, JSON) -> document (schema of every object) -> links (references,
usage, scene graph) -> resources (buffers, images) -> data (accessor contents). Each stage
runs only as far as the previous one allows, like the Khronos glTF-Validator, whose verdict
(any error) this reproduces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shazam_assets.ingest.delivery.gltf import (
    container,
    data_checks,
    declared,
    document,
    influences,
    link,
    meshes,
    resources,
    scenegraph,
)
from shazam_assets.ingest.delivery.gltf.asset import GltfAsset
from shazam_assets.ingest.delivery.gltf.context import Context
from shazam_assets.ingest.delivery.gltf.resources import Resolver
from shazam_assets.ingest.delivery.limits import MB
from shazam_assets.ingest.delivery.report import Issue

MEMBER_READ_CAP = 64 * MB  # an external resource larger than this is not read

_LINK_ORDER = (
    ("bufferViews", "buffer_views", link.link_buffer_view),
    ("accessors", "accessors", link.link_accessor),
    ("images", "images", link.link_image),
    ("textures", "textures", link.link_texture),
    ("materials", "materials", link.link_material),
    ("meshes", "meshes", meshes.link_mesh),
    ("nodes", "nodes", scenegraph.link_node),
    ("skins", "skins", scenegraph.link_skin),
    ("animations", "animations", scenegraph.link_animation),
    ("scenes", "scenes", scenegraph.link_scene),
)


def _link(model: document.Model, ctx: Context) -> None:
    for name, attribute, link_one in _LINK_ORDER:
        ctx.path.clear()
        with ctx.at(name):
            for i, obj in enumerate(getattr(model, attribute)):
                if obj is not None:
                    with ctx.at(i):
                        link_one(obj, model, ctx)
    scenegraph.check_nodes(model, ctx)
    scenegraph.check_unused(model, ctx)


def _read(name: str, data: bytes, ctx: Context) -> tuple[dict[str, Any] | None, bytes | None, bool]:
    """(document, GLB binary chunk, whether resources may be loaded)."""
    is_glb = name.lower().endswith(".glb") or (
        not name.lower().endswith(".gltf") and data[:4] == b"glTF"
    )
    if not is_glb:
        return container.parse_json(data, ctx), None, True
    ctx.is_glb = True
    glb = container.read_glb(data, ctx)
    doc = container.parse_json(glb.json, ctx) if glb.json is not None else None
    return doc, glb.bin, glb.complete


def validate_gltf(
    *, name: str, data: bytes, resolve: Resolver
) -> tuple[GltfAsset | None, list[Issue]]:
    """Validate one glTF file; external resources are read through `resolve`.

    Returns the loaded asset (None when the file cannot be parsed at all) and every issue.
    `resolve` receives relative, percent-decoded paths that stay inside the delivery.
    """
    ctx = Context()
    doc, glb_bin, complete = _read(name, data if isinstance(data, bytes) else bytes(data), ctx)
    if doc is None:
        return None, ctx.issues + ctx.capped()
    over = declared.check_declared(doc)
    if over:  # nothing is built from a document that declares more than can be checked
        return None, ctx.issues + over + ctx.capped()
    model = document.read_document(doc, ctx)
    buffers: list[bytes | None] = []
    images: list[bytes | None] = []
    if model is not None:
        _link(model, ctx)
        if complete:
            buffers = resources.load_buffers(model, glb_bin, resolve, ctx)
            images = resources.load_images(model, resolve, ctx)
            data_checks.check_data(model, ctx)
            influences.check_influences(model, ctx)
            resources.check_textures(model, ctx)
    if not buffers and isinstance(doc.get("buffers"), list):
        buffers = [None] * len(doc["buffers"])
    asset = GltfAsset(
        document=doc,
        buffers=tuple(memoryview(b) if b is not None else None for b in buffers),
        images=tuple(images),
    )
    return asset, ctx.issues + ctx.capped()


def folder_resolver(root: Path, *, max_bytes: int = MEMBER_READ_CAP) -> Resolver:
    """Read files below `root`; anything resolving outside it (symlinks included) is missing.

    Each file is read once however many buffers or images name it, and only when its size
    (checked first) is at most `max_bytes`; a larger one raises ValueError (an IO issue)."""
    base = root.resolve()
    read: dict[Path, bytes] = {}

    def resolve(uri: str) -> bytes | None:
        target = (base / uri).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
        if target not in read:
            size = target.stat().st_size
            if size > max_bytes:
                raise ValueError(f"{size:,} bytes; files over {max_bytes:,} bytes are not read")
            read[target] = target.read_bytes()
        return read[target]

    return resolve


def validate_gltf_path(path: Path) -> tuple[GltfAsset | None, list[Issue]]:
    """Validate a .glb/.gltf on disk, resolving its resources in its own folder only."""
    path = Path(path)
    return validate_gltf(
        name=path.name, data=path.read_bytes(), resolve=folder_resolver(path.parent)
    )
