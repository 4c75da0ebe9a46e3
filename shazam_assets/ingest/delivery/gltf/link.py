"""Resolve references between glTF objects and check how each object is used.

Linking follows the reference validator's fixed order (buffer views, accessors, images,
textures, materials, meshes, nodes, skins, animations, scenes), so what one stage learns is
there for the next: a mesh primitive knows its material's texture coordinates, a node knows
its mesh's morph targets. Uses are recorded too: an accessor read as vertex data must not
also be read as indices, and the data checks each use implies are registered for later.
"""

from __future__ import annotations

import math

from shazam_assets.ingest.delivery.gltf import catalog, objects
from shazam_assets.ingest.delivery.gltf.context import FLOAT, Context
from shazam_assets.ingest.delivery.gltf.document import Model, item
from shazam_assets.ingest.delivery.gltf.extension_objects import ExtensionObject
from shazam_assets.ingest.delivery.gltf.textures import TextureInfo, TextureTransform
from shazam_assets.ingest.delivery.report import Rule

VERTEX, INDEX, IMAGE, IBM, OTHER = "VertexBuffer", "IndexBuffer", "Image", "IBM", "Other"
INDEX_FORMATS = {("SCALAR", c, False) for c in (5121, 5123, 5125)}
ANIMATION_INPUT_FORMAT = ("SCALAR", FLOAT, False)
_NORMALIZED_INTS = {(c, True) for c in (5120, 5121, 5122, 5123)}
ANIMATION_OUTPUT_FORMATS = {
    "translation": {("VEC3", FLOAT, False)},
    "scale": {("VEC3", FLOAT, False)},
    "rotation": {("VEC4", FLOAT, False)} | {("VEC4", c, n) for c, n in _NORMALIZED_INTS},
    "weights": {("SCALAR", FLOAT, False)} | {("SCALAR", c, n) for c, n in _NORMALIZED_INTS},
}
TRS = ("translation", "rotation", "scale")


def _unresolved(ctx: Context, name: str | int, index: int) -> None:
    key = {"index": name} if isinstance(name, int) else {"name": name}
    ctx.add(catalog.UNRESOLVED_REFERENCE, f"Unresolved reference: {index}", **key)


def use_accessor(accessor: objects.Accessor, usage: str, name: str, ctx: Context) -> None:
    accessor.used = True
    if accessor.usage is None:
        accessor.usage = usage
    elif accessor.usage != usage:
        ctx.add(
            catalog.ACCESSOR_USAGE_OVERRIDE,
            f"Accessor used as {accessor.usage} and as {usage}",
            name=name,
        )


def use_view(view: objects.BufferView, usage: str, name: str, ctx: Context) -> None:
    view.used = True
    if view.usage is None:
        view.usage = usage
        if usage in (INDEX, VERTEX):
            ctx.add(
                catalog.BUFFER_VIEW_TARGET_MISSING,
                "bufferView.target should be set for vertex or index data",
                name=name,
            )
    elif view.usage != usage:
        ctx.add(
            catalog.BUFFER_VIEW_TARGET_OVERRIDE,
            f"Buffer view used as {view.usage} and as {usage}",
            name=name,
        )


def check_offset_and_length(
    byte_offset: int,
    size: int,
    length: int,
    view: objects.BufferView,
    view_index: int,
    ctx: Context | None,
) -> bool:
    """Alignment and bounds of a range inside a buffer view (reported when `ctx` is given)."""
    if byte_offset == -1 or size <= 0:
        return False
    if byte_offset % size:
        if ctx is None:
            return False
        ctx.add(
            catalog.ACCESSOR_OFFSET_ALIGNMENT,
            f"Offset {byte_offset} is not a multiple of {size}",
            name="byteOffset",
        )
    if view.byte_offset == -1:
        return False
    total = view.byte_offset + byte_offset
    if total % size:
        if ctx is None:
            return False
        ctx.add(
            catalog.ACCESSOR_TOTAL_OFFSET_ALIGNMENT,
            f"Total byteOffset {total} isn't a multiple of {size}",
        )
    if byte_offset > view.byte_length or byte_offset + length > view.byte_length:
        if ctx is None:
            return False
        message = (
            f"Accessor (offset {byte_offset}, length {length}) does not fit bufferView {view_index}"
        )
        ctx.add(
            catalog.ACCESSOR_TOO_LONG,
            message,
            name="byteOffset" if byte_offset > view.byte_length else None,
        )
    return True


def link_buffer_view(view: objects.BufferView, model: Model, ctx: Context) -> None:
    view.buffer = item(model.buffers, view.buffer_index)
    view.usage = {34962: VERTEX, 34963: INDEX}.get(view.target)
    if view.buffer_index == -1:
        return
    if view.buffer is None:
        _unresolved(ctx, "buffer", view.buffer_index)
        return
    view.buffer.used = True
    length = view.buffer.byte_length
    if length != -1:
        message = f"BufferView does not fit buffer ({view.buffer_index}) byteLength ({length})"
        if view.byte_offset >= length:
            ctx.add(catalog.BUFFER_VIEW_TOO_LONG, message, name="byteOffset")
        elif view.byte_offset + view.byte_length > length:
            ctx.add(catalog.BUFFER_VIEW_TOO_LONG, message, name="byteLength")


def link_accessor(accessor: objects.Accessor, model: Model, ctx: Context) -> None:
    view = accessor.buffer_view = item(model.buffer_views, accessor.buffer_view_index)
    if accessor.component_type == -1 or accessor.count == -1 or accessor.type is None:
        return
    if accessor.buffer_view_index != -1:
        if view is None:
            _unresolved(ctx, "bufferView", accessor.buffer_view_index)
        else:
            view.used = True
            if view.byte_stride != -1 and view.byte_stride < accessor.element_length:
                ctx.add(
                    catalog.ACCESSOR_SMALL_BYTESTRIDE,
                    f"byteStride {view.byte_stride} < element length",
                )
            check_offset_and_length(
                accessor.byte_offset, accessor.component_size, accessor.byte_length, view,
                accessor.buffer_view_index, ctx,
            )  # fmt: skip
    if accessor.sparse is not None:
        with ctx.at("sparse"):
            _link_sparse(accessor, accessor.sparse, model, ctx)


def _sparse_view(index: int, model: Model, ctx: Context) -> objects.BufferView | None:
    """Resolve a sparse indices/values buffer view (no strides allowed there)."""
    view = item(model.buffer_views, index)
    if view is None:
        _unresolved(ctx, "bufferView", index)
        return None
    use_view(view, OTHER, "bufferView", ctx)
    if view.byte_stride != -1:
        message = "Sparse data cannot have byteStride"
        ctx.add(catalog.BUFFER_VIEW_INVALID_BYTE_STRIDE, message, name="bufferView")
    return view


def _link_sparse(
    accessor: objects.Accessor, sparse: objects.Sparse, model: Model, ctx: Context
) -> None:
    if sparse.count > accessor.count:
        message = "Sparse accessor overrides more elements than it has"
        ctx.add(catalog.ACCESSOR_SPARSE_COUNT_OUT_OF_RANGE, message, name="count")
    values, indices = sparse.values, sparse.indices
    values.buffer_view = item(model.buffer_views, values.buffer_view_index)
    if indices.buffer_view_index != -1:
        with ctx.at("indices"):
            view = indices.buffer_view = _sparse_view(indices.buffer_view_index, model, ctx)
            if view is not None and indices.component_type != -1:
                size = objects.COMPONENT_SIZES[indices.component_type]
                length = size * sparse.count
                check_offset_and_length(
                    indices.byte_offset, size, length, view, indices.buffer_view_index, ctx
                )
    if values.buffer_view_index != -1:
        with ctx.at("values"):
            view = _sparse_view(values.buffer_view_index, model, ctx)
            if view is not None:
                size = accessor.component_size
                length = size * accessor.components * sparse.count
                check_offset_and_length(
                    values.byte_offset, size, length, view, values.buffer_view_index, ctx
                )


def link_image(image: objects.Image, model: Model, ctx: Context) -> None:
    if image.buffer_view_index == -1:
        return
    view = image.buffer_view = item(model.buffer_views, image.buffer_view_index)
    if view is None:
        _unresolved(ctx, "bufferView", image.buffer_view_index)
        return
    use_view(view, IMAGE, "bufferView", ctx)
    if view.byte_stride != -1:
        ctx.add(
            catalog.IMAGE_BUFFER_VIEW_WITH_BYTESTRIDE,
            "Image buffer views cannot have byteStride",
            name="bufferView",
        )


def link_texture(texture: objects.Texture, model: Model, ctx: Context) -> None:
    texture.source = item(model.images, texture.source_index)
    sampler = item(model.samplers, texture.sampler_index)
    for name, index, target in (
        ("source", texture.source_index, texture.source),
        ("sampler", texture.sampler_index, sampler),
    ):
        if index == -1:
            continue
        if target is None:
            _unresolved(ctx, name, index)
        else:
            target.used = True
    webp = texture.extensions.get("EXT_texture_webp")
    if isinstance(webp, ExtensionObject):
        index = webp.values["source"]
        webp.values["image"] = image = item(model.images, index)
        if index != -1:
            with ctx.at("extensions", "EXT_texture_webp"):
                if image is None:
                    _unresolved(ctx, "source", index)
                else:
                    image.used = True


def _link_info(material: objects.Material, info: TextureInfo, model: Model, ctx: Context) -> None:
    info.texture = item(model.textures, info.index)
    if info.index != -1:
        if info.texture is None:
            _unresolved(ctx, "index", info.index)
        else:
            info.texture.used = True
    material.tex_coords[ctx.pointer()] = info.tex_coord
    if info.is_normal:
        material.needs_tangent = True
    transform = info.extensions.get("KHR_texture_transform")
    if isinstance(transform, TextureTransform):
        material.tex_coords[ctx.pointer() + "/extensions/KHR_texture_transform"] = (
            transform.tex_coord
        )


def link_material(material: objects.Material, model: Model, ctx: Context) -> None:
    for path, info in material.texture_infos:
        with ctx.at(*path.split("/")):
            _link_info(material, info, model, ctx)
    for name, extension in material.extensions.items():
        if isinstance(extension, ExtensionObject):
            with ctx.at("extensions", name):
                _material_extension(material, extension, ctx)


def _same_uv(
    material: objects.Material, info: TextureInfo | None, rule: Rule, ctx: Context
) -> None:
    normal = material.normal_texture
    if info is not None and normal is not None and normal.tex_coord != info.tex_coord:
        ctx.add(rule, "Normal and extension textures should use the same texture coords")


def _material_extension(
    material: objects.Material, extension: ExtensionObject, ctx: Context
) -> None:
    """The cross-property rules of material extensions (all advisory)."""
    name, values = extension.name, extension.values
    if name == "KHR_materials_anisotropy" and values["anisotropyTexture"] is not None:
        material.needs_tangent = True
        with ctx.at("anisotropyTexture"):
            _same_uv(
                material,
                values["anisotropyTexture"],
                catalog.KHR_MATERIALS_ANISOTROPY_ANISOTROPY_TEXTURE_TEXCOORD,
                ctx,
            )
    elif name == "KHR_materials_clearcoat" and values["clearcoatNormalTexture"] is not None:
        with ctx.at("clearcoatNormalTexture"):
            rule = catalog.KHR_MATERIALS_CLEARCOAT_CLEARCOAT_NORMAL_TEXTURE_TEXCOORD
            _same_uv(material, values["clearcoatNormalTexture"], rule, ctx)
    elif name == "KHR_materials_dispersion" and "KHR_materials_volume" not in material.extensions:
        ctx.add(catalog.KHR_MATERIALS_DISPERSION_NO_VOLUME, "Dispersion needs KHR_materials_volume")
    elif name == "KHR_materials_emissive_strength":
        strength, factor = values["emissiveStrength"], material.emissive_factor
        if (
            not (math.isnan(strength) or strength == 1)
            and factor is not None
            and list(factor) == [0, 0, 0]
        ):
            ctx.add(
                catalog.KHR_MATERIALS_EMISSIVE_STRENGTH_ZERO_FACTOR,
                "Emissive strength has no effect",
            )
    elif name == "KHR_materials_volume":
        others = material.extensions.values()
        if "KHR_materials_transmission" not in material.extensions and not any(
            isinstance(v, dict) for v in others
        ):
            ctx.add(
                catalog.KHR_MATERIALS_VOLUME_NO_TRANSMISSION,
                "Volume needs a transmission extension",
            )
        if material.double_sided and values["thicknessFactor"] > 0:
            ctx.add(
                catalog.KHR_MATERIALS_VOLUME_DOUBLE_SIDED,
                "Volume should not be used with double-sided materials",
            )
