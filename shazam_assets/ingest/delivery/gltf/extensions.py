"""glTF extensions: which ones are known, where they may appear, and how they are declared.

The reference validator knows a fixed set of extensions. A known extension that is declared
in extensionsUsed is "loaded": it may appear on the objects it applies to (anywhere else is
UNEXPECTED_EXTENSION_OBJECT) and may widen what the core allows (KHR_mesh_quantization
allows integer vertex attributes, EXT_texture_webp allows WebP images). Unknown extensions are
only noted (UNSUPPORTED_EXTENSION). Any extension used on an object but not declared is an
error (UNDECLARED_EXTENSION).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shazam_assets.ingest.delivery.gltf import catalog
from shazam_assets.ingest.delivery.gltf.context import BYTE, SHORT, UBYTE, USHORT, Context
from shazam_assets.ingest.delivery.gltf.fields import get_map

MATERIAL = "material"
TEXTURE_INFOS = frozenset({"texture_info", "normal_texture_info", "occlusion_texture_info"})

_NAME_FORMAT = re.compile(r"^([A-Z0-9]+)_[A-Za-z0-9_]+$")


def _allow_webp(ctx: Context) -> None:
    ctx.image_mime_types.append("image/webp")


def _allow_pointer(ctx: Context) -> None:
    ctx.animation_paths.append("pointer")


def _allow_quantized(ctx: Context) -> None:
    ints = [(c, n) for c in (BYTE, UBYTE, SHORT, USHORT) for n in (False, True)]
    ctx.attribute_formats["POSITION"] |= {("VEC3", c, n) for c, n in ints}
    ctx.attribute_formats["NORMAL"] |= {("VEC3", BYTE, True), ("VEC3", SHORT, True)}
    ctx.attribute_formats["TANGENT"] |= {("VEC4", BYTE, True), ("VEC4", SHORT, True)}
    ctx.attribute_formats["TEXCOORD"] |= {
        ("VEC2", c, n) for c, n in ((BYTE, False), (BYTE, True), (UBYTE, False), (SHORT, False))
    } | {("VEC2", SHORT, True), ("VEC2", USHORT, False)}
    signed = {(BYTE, False), (BYTE, True), (SHORT, False), (SHORT, True)}
    ctx.morph_formats["POSITION"] |= {("VEC3", c, n) for c, n in signed}
    ctx.morph_formats["NORMAL"] |= {("VEC3", BYTE, True), ("VEC3", SHORT, True)}
    ctx.morph_formats["TANGENT"] |= {("VEC3", BYTE, True), ("VEC3", SHORT, True)}
    ctx.morph_formats["TEXCOORD"] |= {("VEC2", BYTE, False), ("VEC2", SHORT, False)}


@dataclass(frozen=True)
class ExtensionSpec:
    """Where a known extension may appear and what loading it changes."""

    kinds: frozenset[str]
    required: bool = False  # must be listed in extensionsRequired
    standalone: bool = False  # should be the only extension on its object
    init: Callable[[Context], None] | None = None


_MATERIAL_ONLY = frozenset({MATERIAL})

SUPPORTED: dict[str, ExtensionSpec] = {
    "EXT_texture_webp": ExtensionSpec(frozenset({"texture"}), init=_allow_webp),
    "KHR_animation_pointer": ExtensionSpec(
        frozenset({"animation_channel_target"}), init=_allow_pointer
    ),
    "KHR_lights_punctual": ExtensionSpec(frozenset({"gltf", "node"})),
    "KHR_materials_anisotropy": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_clearcoat": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_dispersion": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_emissive_strength": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_ior": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_iridescence": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_pbrSpecularGlossiness": ExtensionSpec(_MATERIAL_ONLY, standalone=True),
    "KHR_materials_sheen": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_specular": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_transmission": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_materials_unlit": ExtensionSpec(_MATERIAL_ONLY, standalone=True),
    "KHR_materials_variants": ExtensionSpec(frozenset({"gltf", "mesh_primitive"})),
    "KHR_materials_volume": ExtensionSpec(_MATERIAL_ONLY),
    "KHR_mesh_quantization": ExtensionSpec(frozenset(), required=True, init=_allow_quantized),
    "KHR_texture_transform": ExtensionSpec(TEXTURE_INFOS),
}


def init_extensions(used: list[str], required: list[str], ctx: Context) -> None:
    """Load the declared extensions and check the declarations themselves."""
    ctx.extensions_used.extend(used)
    for i, name in enumerate(used):
        pointer = f"/extensionsUsed/{i}"
        if not _NAME_FORMAT.match(name):
            ctx.add(
                catalog.INVALID_EXTENSION_NAME_FORMAT,
                "Extension name has invalid format",
                name=pointer,
            )
        spec = SUPPORTED.get(name)
        if spec is None:
            ctx.add(
                catalog.UNSUPPORTED_EXTENSION, f"Cannot validate extension {name!r}", name=pointer
            )
            continue
        if spec.init is not None:
            spec.init(ctx)
        if spec.required and name not in required:
            ctx.add(
                catalog.NON_REQUIRED_EXTENSION,
                f"Extension {name!r} cannot be optional",
                name=pointer,
            )
        ctx.extensions_loaded.append(name)
    for i, name in enumerate(required):
        if name not in used:
            ctx.add(
                catalog.UNUSED_EXTENSION_REQUIRED,
                f"Unused extension {name!r} cannot be required",
                name=f"/extensionsRequired/{i}",
            )


ExtensionParser = Callable[[str, str, dict[str, Any], Context], Any]


def get_extensions(
    obj: dict[str, Any], kind: str, ctx: Context, parse: ExtensionParser | None = None
) -> dict[str, Any]:
    """The object's extensions, checked against the declarations; `parse` reads loaded ones."""
    out: dict[str, Any] = {}
    maps = get_map(obj, "extensions", ctx)
    if not maps:
        return out
    with ctx.at("extensions"):
        for name in maps:
            value = get_map(maps, name, ctx)
            if name not in ctx.extensions_loaded:
                if name not in ctx.extensions_used:
                    ctx.add(
                        catalog.UNDECLARED_EXTENSION,
                        "Extension is not declared in extensionsUsed",
                        name=name,
                    )
                out[name] = value
                continue
            spec = SUPPORTED[name]
            if kind not in spec.kinds:
                ctx.add(
                    catalog.UNEXPECTED_EXTENSION_OBJECT,
                    "Unexpected location for this extension",
                    name=name,
                )
                continue
            if len(maps) > 1 and spec.standalone:
                ctx.add(
                    catalog.MULTIPLE_EXTENSIONS,
                    "Extension may be incompatible with the others",
                    name=name,
                )
            if value is not None:
                with ctx.at(name):
                    out[name] = parse(name, kind, value, ctx) if parse is not None else value
    return out
