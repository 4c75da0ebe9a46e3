"""The objects of known extensions: their schema, read the way the reference validator reads them.

Material extensions are mostly factors in a range plus texture references; they are
described as small field tables. Lights, material variants, WebP textures and animation
pointers have references to resolve, which the linker does with the records made here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shazam_assets.ingest.delivery.gltf import catalog, fields
from shazam_assets.ingest.delivery.gltf.context import Context
from shazam_assets.ingest.delivery.gltf.extensions import get_extensions
from shazam_assets.ingest.delivery.gltf.textures import TextureInfo, texture_info_parser

INF = math.inf
_POINTER = re.compile(r"^(?:\/(?:[^/~]|~0|~1)*)*$")


@dataclass(eq=False)
class ExtensionObject:
    """A parsed extension object: values later checks need, texture references, sub-objects."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    texture_infos: list[tuple[str, TextureInfo]] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)  # lights, variants, or variant mappings
    used: list[bool] = field(default_factory=list)  # per item, for UNUSED_OBJECT


# A field: (kind, name, options). Kinds: "float", "floats", "texture", "normal".
Field = tuple[str, str, dict[str, Any]]


def _f(name: str, **options: Any) -> Field:
    return ("float", name, options)


def _fs(name: str, length: int, **options: Any) -> Field:
    return ("floats", name, {"lengths": (length,), **options})


def _t(name: str) -> Field:
    return ("texture", name, {})


_UNIT = {"minimum": 0, "maximum": 1}
MATERIAL_FIELDS: dict[str, list[Field]] = {
    "KHR_materials_anisotropy": [
        _f("anisotropyStrength", default=0, **_UNIT), _f("anisotropyRotation", default=0), _t("anisotropyTexture"),
    ],
    "KHR_materials_clearcoat": [
        _f("clearcoatFactor", default=0, **_UNIT), _t("clearcoatTexture"),
        _f("clearcoatRoughnessFactor", default=0, **_UNIT), _t("clearcoatRoughnessTexture"),
        ("normal", "clearcoatNormalTexture", {}),
    ],
    "KHR_materials_dispersion": [_f("dispersion", default=0, minimum=0)],
    "KHR_materials_emissive_strength": [_f("emissiveStrength", default=1, minimum=0)],
    "KHR_materials_ior": [_f("ior", default=1.5, minimum=1, standalone=0)],
    "KHR_materials_iridescence": [
        _f("iridescenceFactor", default=0, **_UNIT), _t("iridescenceTexture"), _f("iridescenceIor", default=1.3, minimum=1),
        _f("iridescenceThicknessMinimum", default=100, minimum=0), _f("iridescenceThicknessMaximum", default=400, minimum=0),
        _t("iridescenceThicknessTexture"),
    ],
    "KHR_materials_pbrSpecularGlossiness": [
        _fs("diffuseFactor", 4, **_UNIT), _t("diffuseTexture"), _fs("specularFactor", 3, **_UNIT),
        _f("glossinessFactor", default=1, **_UNIT), _t("specularGlossinessTexture"),
    ],
    "KHR_materials_sheen": [
        _fs("sheenColorFactor", 3, **_UNIT), _t("sheenColorTexture"),
        _f("sheenRoughnessFactor", default=0, **_UNIT), _t("sheenRoughnessTexture"),
    ],
    "KHR_materials_specular": [
        _f("specularFactor", default=1, **_UNIT), _t("specularTexture"),
        _fs("specularColorFactor", 3, minimum=0), _t("specularColorTexture"),
    ],
    "KHR_materials_transmission": [_f("transmissionFactor", default=0, **_UNIT), _t("transmissionTexture")],
    "KHR_materials_unlit": [],
    "KHR_materials_volume": [
        _fs("attenuationColor", 3, **_UNIT), _f("attenuationDistance", excl_min=0),
        _f("thicknessFactor", default=0, minimum=0), _t("thicknessTexture"),
    ],
}  # fmt: skip


def _tail(obj: dict[str, Any], ctx: Context, name: str) -> None:
    get_extensions(obj, name, ctx, parse)
    fields.get_extras(obj, ctx)


def _material(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    spec = MATERIAL_FIELDS[name]
    fields.check_members(obj, [field_name for _, field_name, _ in spec], ctx)
    out = ExtensionObject(name)
    for kind, key, options in spec:
        if kind == "float":
            out.values[key] = fields.get_float(obj, key, ctx, **options)
        elif kind == "floats":
            out.values[key] = fields.get_float_list(obj, key, ctx, **options)
        else:
            info = fields.get_object(
                obj,
                key,
                ctx,
                texture_info_parser("normal_texture_info" if kind == "normal" else "texture_info"),
            )
            out.values[key] = info
            if info is not None:
                out.texture_infos.append((key, info))
    if name == "KHR_materials_iridescence":
        _iridescence(obj, out, ctx)
    _tail(obj, ctx, name)
    return out


def _iridescence(obj: dict[str, Any], out: ExtensionObject, ctx: Context) -> None:
    low, high = out.values["iridescenceThicknessMinimum"], out.values["iridescenceThicknessMaximum"]
    if out.values["iridescenceThicknessTexture"] is not None:
        if low == high:
            ctx.add(catalog.KHR_MATERIALS_IRIDESCENCE_THICKNESS_TEXTURE_UNUSED, "Thickness texture has no effect",
                    name="iridescenceThicknessTexture")  # fmt: skip
    elif not math.isnan(low) and "iridescenceThicknessMinimum" in obj:
        ctx.add(catalog.KHR_MATERIALS_IRIDESCENCE_THICKNESS_RANGE_WITHOUT_TEXTURE, "Thickness minimum has no effect",
                name="iridescenceThicknessMinimum")  # fmt: skip


def _map_list(
    obj: dict[str, Any],
    key: str,
    ctx: Context,
    parse_item: Callable[[dict[str, Any], Context], Any],
) -> list[Any]:
    items = fields.get_map_list(obj, key, ctx)
    if items is None:
        return []
    out = []
    with ctx.at(key):
        for i, item in enumerate(items):
            with ctx.at(i):
                out.append(parse_item(item, ctx))
    return out


def _light(obj: dict[str, Any], ctx: Context) -> str | None:
    fields.check_members(obj, ("color", "intensity", "spot", "type", "range", "name"), ctx)
    fields.get_float_list(obj, "color", ctx, lengths=(3,), minimum=0, maximum=1)
    fields.get_float(obj, "intensity", ctx, default=1, minimum=0)
    kind = fields.get_string(
        obj, "type", ctx, required=True, allowed=("directional", "point", "spot")
    )
    if kind == "spot":
        fields.get_object(obj, "spot", ctx, _spot, required=True)
    elif "spot" in obj:
        ctx.add(
            catalog.EXTRA_PROPERTY,
            "This property should not be defined as it will not be used",
            name="spot",
        )
    distance = fields.get_float(obj, "range", ctx, excl_min=0)
    if kind == "directional" and not math.isnan(distance):
        ctx.add(
            catalog.EXTRA_PROPERTY,
            "This property should not be defined as it will not be used",
            name="range",
        )
    fields.get_string(obj, "name", ctx)
    _tail(obj, ctx, "khr_lights_punctual_light")
    return kind


def _spot(obj: dict[str, Any], ctx: Context) -> None:
    fields.check_members(obj, ("innerConeAngle", "outerConeAngle"), ctx)
    inner = fields.get_float(obj, "innerConeAngle", ctx, default=0, minimum=0, excl_max=math.pi / 2)
    outer = fields.get_float(
        obj, "outerConeAngle", ctx, default=math.pi / 4, excl_min=0, maximum=math.pi / 2
    )
    if outer <= inner:
        ctx.add(
            catalog.KHR_LIGHTS_PUNCTUAL_LIGHT_SPOT_ANGLES,
            f"outerConeAngle ({outer}) is less than or equal to innerConeAngle ({inner})",
            name="outerConeAngle",
        )
    _tail(obj, ctx, "khr_lights_punctual_spot")


def _lights(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("lights",), ctx)
    items = _map_list(obj, "lights", ctx, _light)
    _tail(obj, ctx, name)
    return ExtensionObject(name, items=items, used=[False] * len(items))


def _node_light(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("light",), ctx)
    light = fields.get_index(obj, "light", ctx)
    _tail(obj, ctx, name)
    return ExtensionObject(name, values={"light": light})


def _variant(obj: dict[str, Any], ctx: Context) -> None:
    fields.check_members(obj, ("name",), ctx)
    fields.get_string(obj, "name", ctx, required=True)
    _tail(obj, ctx, "khr_materials_variants_variant")


def _variants(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("variants",), ctx)
    items = _map_list(obj, "variants", ctx, _variant)
    _tail(obj, ctx, name)
    return ExtensionObject(name, items=items, used=[False] * len(items))


def _mapping(obj: dict[str, Any], ctx: Context) -> tuple[list[int] | None, int]:
    fields.check_members(obj, ("variants", "material", "name"), ctx)
    variants = fields.get_indices_list(obj, "variants", ctx, required=True)
    material = fields.get_index(obj, "material", ctx)
    fields.get_string(obj, "name", ctx)
    _tail(obj, ctx, "khr_materials_variants_mapping")
    return variants, material


def _mappings(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("mappings",), ctx)
    items = _map_list(obj, "mappings", ctx, _mapping)
    _tail(obj, ctx, name)
    return ExtensionObject(name, items=items)


def _webp(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("source",), ctx)
    source = fields.get_index(obj, "source", ctx, required=False)
    _tail(obj, ctx, name)
    return ExtensionObject(name, values={"source": source})


def _pointer(name: str, obj: dict[str, Any], ctx: Context) -> ExtensionObject:
    fields.check_members(obj, ("pointer",), ctx)
    fields.get_string(obj, "pointer", ctx, required=True, pattern=_POINTER)
    _tail(obj, ctx, name)
    return ExtensionObject(name)


def parse(name: str, kind: str, obj: dict[str, Any], ctx: Context) -> Any:
    """Read a loaded extension's object found on an object of `kind`."""
    if name in MATERIAL_FIELDS:
        return _material(name, obj, ctx)
    if name == "KHR_lights_punctual":
        return _lights(name, obj, ctx) if kind == "gltf" else _node_light(name, obj, ctx)
    if name == "KHR_materials_variants":
        return _variants(name, obj, ctx) if kind == "gltf" else _mappings(name, obj, ctx)
    if name == "EXT_texture_webp":
        return _webp(name, obj, ctx)
    if name == "KHR_animation_pointer":
        return _pointer(name, obj, ctx)
    return obj
