"""Read the root glTF object: asset version, extensions, and every top-level collection.

The root decides whether the rest is worth reading: without `asset.version`, or with a
major version other than 2, nothing else is validated (as in the reference validator).
Collections are read in the reference order so issue lists line up with its reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shazam_assets.ingest.delivery.gltf import catalog, extension_objects, fields, objects, parse
from shazam_assets.ingest.delivery.gltf.context import Context
from shazam_assets.ingest.delivery.gltf.extensions import get_extensions, init_extensions

T = TypeVar("T")

ROOT_MEMBERS = (
    "extensionsUsed", "extensionsRequired", "accessors", "animations", "asset", "buffers",
    "bufferViews", "cameras", "images", "materials", "meshes", "nodes", "samplers", "scene",
    "scenes", "skins", "textures",
)  # fmt: skip


@dataclass(eq=False)
class Model:
    """Every parsed object, by collection; a broken entry is None."""

    asset: objects.Asset
    accessors: list[objects.Accessor | None]
    animations: list[objects.Animation | None]
    buffers: list[objects.Buffer | None]
    buffer_views: list[objects.BufferView | None]
    cameras: list[objects.Camera | None]
    images: list[objects.Image | None]
    materials: list[objects.Material | None]
    meshes: list[objects.Mesh | None]
    nodes: list[objects.Node | None]
    samplers: list[objects.Sampler | None]
    scenes: list[objects.Scene | None]
    skins: list[objects.Skin | None]
    textures: list[objects.Texture | None]
    scene: objects.Scene | None
    extensions: dict[str, Any] = field(default_factory=dict)


def item(items: Sequence[T | None] | None, index: int) -> T | None:
    """items[index], or None when the index is out of range (Khronos' SafeList)."""
    if items is None or index < 0 or index >= len(items):
        return None
    return items[index]


def _collection(
    doc: dict[str, Any], name: str, parse_item: Callable[[dict[str, Any], Context], T], ctx: Context
) -> list[T | None]:
    ctx.path.clear()
    if name not in doc:
        return []
    value = doc[name]
    if not isinstance(value, list):
        ctx.add(
            catalog.TYPE_MISMATCH,
            f"Type mismatch. Property value {value!r} is not a 'array'",
            name=name,
        )
        return []
    if not value:
        ctx.add(catalog.EMPTY_ENTITY, "Entity cannot be empty", name=name)
        return []
    out: list[T | None] = []
    with ctx.at(name):
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                with ctx.at(i):
                    out.append(parse_item(entry, ctx))
            else:
                ctx.add(
                    catalog.TYPE_MISMATCH,
                    f"Type mismatch. Property value {entry!r} is not a 'object'",
                    index=i,
                )
                out.append(None)
    return out


def _read_asset(doc: dict[str, Any], ctx: Context) -> objects.Asset | None:
    ctx.path.clear()
    obj = fields.get_map(doc, "asset", ctx, required=True)
    if obj is None:
        return None
    with ctx.at("asset"):
        asset = parse.parse_asset(obj, ctx)
        if asset.version is None:
            return None
        if asset.major != 2:
            ctx.add(
                catalog.UNKNOWN_ASSET_MAJOR_VERSION,
                f"Unknown glTF major asset version: {asset.major}",
                name="version",
            )
            return None
        if asset.minor > 0:
            ctx.add(
                catalog.UNKNOWN_ASSET_MINOR_VERSION,
                f"Unknown glTF minor asset version: {asset.minor}",
                name="version",
            )
    return asset


def read_document(doc: dict[str, Any], ctx: Context) -> Model | None:
    """Parse the root object; None when the asset is not readable glTF 2.x."""
    ctx.path.clear()
    fields.check_members(doc, ROOT_MEMBERS, ctx)
    if "extensionsRequired" in doc and "extensionsUsed" not in doc:
        ctx.add(
            catalog.UNSATISFIED_DEPENDENCY,
            "Dependency failed. 'extensionsUsed' must be defined",
            name="extensionsRequired",
        )
    used = fields.get_string_list(doc, "extensionsUsed", ctx) or []
    required = fields.get_string_list(doc, "extensionsRequired", ctx) or []
    init_extensions(used, required, ctx)
    asset = _read_asset(doc, ctx)
    if asset is None:
        return None
    parts: dict[str, Any] = {}
    for key, name, parse_item in (
        ("accessors", "accessors", parse.parse_accessor),
        ("animations", "animations", parse.parse_animation),
        ("buffers", "buffers", parse.parse_buffer),
        ("buffer_views", "bufferViews", parse.parse_buffer_view),
        ("cameras", "cameras", parse.parse_camera),
        ("images", "images", parse.parse_image),
        ("materials", "materials", parse.parse_material),
        ("meshes", "meshes", parse.parse_mesh),
        ("nodes", "nodes", parse.parse_node),
        ("samplers", "samplers", parse.parse_sampler),
        ("scenes", "scenes", parse.parse_scene),
    ):
        parts[key] = _collection(doc, name, parse_item, ctx)
    ctx.path.clear()
    scene_index = fields.get_index(doc, "scene", ctx, required=False)
    scene = item(parts["scenes"], scene_index)
    if scene_index != -1 and scene is None:
        ctx.add(catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {scene_index}", name="scene")
    parts["skins"] = _collection(doc, "skins", parse.parse_skin, ctx)
    parts["textures"] = _collection(doc, "textures", parse.parse_texture, ctx)
    ctx.path.clear()
    extensions = get_extensions(doc, "gltf", ctx, extension_objects.parse)
    fields.get_extras(doc, ctx)
    return Model(asset=asset, scene=scene, extensions=extensions, **parts)
