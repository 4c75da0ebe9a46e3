"""Texture references (textureInfo, normalTextureInfo, occlusionTextureInfo).

Materials and material extensions point at textures through these small objects; each
records which UV set it samples so mesh primitives can be checked for that TEXCOORD_n.
KHR_texture_transform may name a different UV set, which then has to exist as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shazam_assets.ingest.delivery.gltf import fields
from shazam_assets.ingest.delivery.gltf.context import Context
from shazam_assets.ingest.delivery.gltf.extensions import get_extensions

_EXTRA_MEMBER = {"normal_texture_info": "scale", "occlusion_texture_info": "strength"}


@dataclass(eq=False)
class TextureTransform:
    tex_coord: int  # -1 when it does not override the UV set


@dataclass(eq=False)
class TextureInfo:
    index: int
    tex_coord: int
    extensions: dict[str, Any] = field(default_factory=dict)
    is_normal: bool = False
    texture: Any = None


def _parse_transform(name: str, kind: str, obj: dict[str, Any], ctx: Context) -> TextureTransform:
    fields.check_members(obj, ("offset", "rotation", "scale", "texCoord"), ctx)
    fields.get_float_list(obj, "offset", ctx, lengths=(2,))
    fields.get_float(obj, "rotation", ctx, default=0)
    fields.get_float_list(obj, "scale", ctx, lengths=(2,))
    tex_coord = fields.get_uint(obj, "texCoord", ctx, default=-1)
    get_extensions(obj, "khr_texture_transform", ctx)
    fields.get_extras(obj, ctx)
    return TextureTransform(tex_coord)


def parse_texture_info(
    obj: dict[str, Any], ctx: Context, *, kind: str = "texture_info"
) -> TextureInfo:
    extra = _EXTRA_MEMBER.get(kind)
    fields.check_members(obj, ("index", "texCoord", *((extra,) if extra else ())), ctx)
    extensions = get_extensions(obj, kind, ctx, _parse_transform)
    index = fields.get_index(obj, "index", ctx)
    tex_coord = fields.get_uint(obj, "texCoord", ctx, default=0)
    if kind == "occlusion_texture_info":
        fields.get_float(obj, "strength", ctx, minimum=0, maximum=1, default=1)
    elif kind == "normal_texture_info":
        fields.get_float(obj, "scale", ctx, default=1)
    fields.get_extras(obj, ctx)
    return TextureInfo(index, tex_coord, extensions, is_normal=kind == "normal_texture_info")


def texture_info_parser(kind: str) -> Any:
    """A `get_object` parser for texture infos of `kind`."""
    return lambda obj, ctx: parse_texture_info(obj, ctx, kind=kind)
