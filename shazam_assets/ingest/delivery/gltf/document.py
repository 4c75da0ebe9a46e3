"""Read the root glTF object: asset version, extensions, and every top-level collection.

The root decides whether the rest is worth reading: without `asset.version`, or with a
major version other than 2, nothing else is validated (as in the reference validator).
Collections are read in the reference order so issue lists line up with its reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shazam_assets.ingest.delivery.gltf import catalog as R
from shazam_assets.ingest.delivery.gltf import extension_objects
from shazam_assets.ingest.delivery.gltf import fields as F
from shazam_assets.ingest.delivery.gltf import objects as O
from shazam_assets.ingest.delivery.gltf import parse as P
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

    asset: O.Asset
    accessors: list[O.Accessor | None]
    animations: list[O.Animation | None]
    buffers: list[O.Buffer | None]
    buffer_views: list[O.BufferView | None]
    cameras: list[O.Camera | None]
    images: list[O.Image | None]
    materials: list[O.Material | None]
    meshes: list[O.Mesh | None]
    nodes: list[O.Node | None]
    samplers: list[O.Sampler | None]
    scenes: list[O.Scene | None]
    skins: list[O.Skin | None]
    textures: list[O.Texture | None]
    scene: O.Scene | None
    extensions: dict[str, Any] = field(default_factory=dict)


def item(items: Sequence[T | None] | None, index: int) -> T | None:
    """items[index], or None when the index is out of range (Khronos' SafeList)."""
    if items is None or index < 0 or index >= len(items):
        return None
    return items[index]


def _collection(
    doc: dict, name: str, parse: Callable[[dict, Context], T], ctx: Context
) -> list[T | None]:
    ctx.path.clear()
    if name not in doc:
        return []
    value = doc[name]
    if not isinstance(value, list):
        ctx.add(
            R.TYPE_MISMATCH, f"Type mismatch. Property value {value!r} is not a 'array'", name=name
        )
        return []
    if not value:
        ctx.add(R.EMPTY_ENTITY, "Entity cannot be empty", name=name)
        return []
    out: list[T | None] = []
    with ctx.at(name):
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                with ctx.at(i):
                    out.append(parse(entry, ctx))
            else:
                ctx.add(
                    R.TYPE_MISMATCH,
                    f"Type mismatch. Property value {entry!r} is not a 'object'",
                    index=i,
                )
                out.append(None)
    return out


def _read_asset(doc: dict, ctx: Context) -> O.Asset | None:
    ctx.path.clear()
    obj = F.get_map(doc, "asset", ctx, required=True)
    if obj is None:
        return None
    with ctx.at("asset"):
        asset = P.parse_asset(obj, ctx)
        if asset.version is None:
            return None
        if asset.major != 2:
            ctx.add(
                R.UNKNOWN_ASSET_MAJOR_VERSION,
                f"Unknown glTF major asset version: {asset.major}",
                name="version",
            )
            return None
        if asset.minor > 0:
            ctx.add(
                R.UNKNOWN_ASSET_MINOR_VERSION,
                f"Unknown glTF minor asset version: {asset.minor}",
                name="version",
            )
    return asset


def read_document(doc: dict, ctx: Context) -> Model | None:
    """Parse the root object; None when the asset is not readable glTF 2.x."""
    ctx.path.clear()
    F.check_members(doc, ROOT_MEMBERS, ctx)
    if "extensionsRequired" in doc and "extensionsUsed" not in doc:
        ctx.add(
            R.UNSATISFIED_DEPENDENCY,
            "Dependency failed. 'extensionsUsed' must be defined",
            name="extensionsRequired",
        )
    used = F.get_string_list(doc, "extensionsUsed", ctx) or []
    required = F.get_string_list(doc, "extensionsRequired", ctx) or []
    init_extensions(used, required, ctx)
    asset = _read_asset(doc, ctx)
    if asset is None:
        return None
    parts: dict[str, Any] = {}
    for key, name, parse in (
        ("accessors", "accessors", P.parse_accessor),
        ("animations", "animations", P.parse_animation),
        ("buffers", "buffers", P.parse_buffer),
        ("buffer_views", "bufferViews", P.parse_buffer_view),
        ("cameras", "cameras", P.parse_camera),
        ("images", "images", P.parse_image),
        ("materials", "materials", P.parse_material),
        ("meshes", "meshes", P.parse_mesh),
        ("nodes", "nodes", P.parse_node),
        ("samplers", "samplers", P.parse_sampler),
        ("scenes", "scenes", P.parse_scene),
    ):
        parts[key] = _collection(doc, name, parse, ctx)
    ctx.path.clear()
    scene_index = F.get_index(doc, "scene", ctx, required=False)
    scene = item(parts["scenes"], scene_index)
    if scene_index != -1 and scene is None:
        ctx.add(R.UNRESOLVED_REFERENCE, f"Unresolved reference: {scene_index}", name="scene")
    parts["skins"] = _collection(doc, "skins", P.parse_skin, ctx)
    parts["textures"] = _collection(doc, "textures", P.parse_texture, ctx)
    ctx.path.clear()
    extensions = get_extensions(doc, "gltf", ctx, extension_objects.parse)
    F.get_extras(doc, ctx)
    return Model(asset=asset, scene=scene, extensions=extensions, **parts)
