"""Link mesh primitives: vertex attributes, indices, material, morph targets.

This is where most real-world exports go wrong: attribute formats (POSITION must be VEC3
float with bounds), attributes of unequal length, index buffers with strides, materials that
sample a UV set the mesh does not have. Each valid use also registers the data check it
implies (unit normals, clamped colors, indices within the vertex range).
"""

from __future__ import annotations

from shazam_assets.ingest.delivery.gltf import catalog, objects
from shazam_assets.ingest.delivery.gltf.context import FLOAT, UINT, Context
from shazam_assets.ingest.delivery.gltf.document import Model, item
from shazam_assets.ingest.delivery.gltf.extension_objects import ExtensionObject
from shazam_assets.ingest.delivery.gltf.fields import GL_INT_RANGES
from shazam_assets.ingest.delivery.gltf.link import (
    INDEX,
    INDEX_FORMATS,
    VERTEX,
    use_accessor,
    use_view,
)

_MODE_NAMES = (
    "POINTS",
    "LINES",
    "LINE_LOOP",
    "LINE_STRIP",
    "TRIANGLES",
    "TRIANGLE_STRIP",
    "TRIANGLE_FAN",
)


def link_mesh(mesh: objects.Mesh, model: Model, ctx: Context) -> None:
    if mesh.primitives is None:
        return
    with ctx.at("primitives"):
        for i, primitive in enumerate(mesh.primitives):
            if primitive is not None:
                with ctx.at(i):
                    link_primitive(primitive, model, ctx)


def _unaligned(accessor: objects.Accessor) -> bool:
    view = accessor.buffer_view
    return (accessor.byte_offset != -1 and accessor.byte_offset % 4 != 0) or (
        accessor.element_length % 4 != 0 and view is not None and view.byte_stride == -1
    )


def _share_view(accessor: objects.Accessor, semantic: str, ctx: Context) -> None:
    """Two accessors in one buffer view need an explicit byteStride."""
    view = accessor.buffer_view
    if view is None or view.byte_stride != -1:
        return
    seen = ctx.view_accessors.setdefault(id(view), set())
    if id(accessor) not in seen:
        seen.add(id(accessor))
        if len(seen) > 1:
            ctx.add(
                catalog.MESH_PRIMITIVE_ACCESSOR_WITHOUT_BYTESTRIDE,
                "bufferView.byteStride must be defined when two or more accessors use the same buffer view",
                name=semantic,
            )


def _attribute_format(semantic: str, accessor: objects.Accessor, ctx: Context) -> None:
    """Check the accessor format for `semantic` and register the data checks it implies."""
    valid = ctx.attribute_formats.get(semantic.split("_")[0])
    if valid is None:
        if accessor.component_type == UINT:
            message = "Mesh attributes cannot use UNSIGNED_INT"
            ctx.add(catalog.MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_UNSIGNED_INT, message, name=semantic)
    elif accessor.format not in valid:
        message = f"Invalid accessor format {accessor.format} for this attribute semantic"
        ctx.add(catalog.MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT, message, name=semantic)
    elif semantic == "NORMAL":
        accessor.checks.normals.append(ctx.pointer("NORMAL"))
    elif semantic == "TANGENT":
        accessor.checks.tangents.append(ctx.pointer("TANGENT"))
    elif semantic == "COLOR_0" and accessor.component_type == FLOAT:
        accessor.checks.clamped.append(ctx.pointer(semantic))


def _attribute(
    primitive: objects.Primitive, semantic: str, accessor: objects.Accessor, ctx: Context
) -> None:
    primitive.linked_attributes[semantic] = accessor
    use_accessor(accessor, "VertexAttribute", semantic, ctx)
    if accessor.buffer_view is not None:
        use_view(accessor.buffer_view, VERTEX, semantic, ctx)
    if semantic == "POSITION" and (accessor.max is None or accessor.min is None):
        message = "POSITION needs min and max"
        ctx.add(catalog.MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS, message, name="POSITION")
    _attribute_format(semantic, accessor, ctx)
    if _unaligned(accessor):
        message = "Vertex attribute data must be aligned to 4 bytes"
        ctx.add(catalog.MESH_PRIMITIVE_ACCESSOR_UNALIGNED, message, name=semantic)
    if primitive.vertex_count == -1:
        primitive.vertex_count = primitive.count = accessor.count
    elif primitive.vertex_count != accessor.count:
        message = "All accessors of a primitive must have the same count"
        ctx.add(catalog.MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT, message, name=semantic)
    _share_view(accessor, semantic, ctx)


def _indices(primitive: objects.Primitive, accessor: objects.Accessor, ctx: Context) -> None:
    primitive.count = accessor.count
    use_accessor(accessor, "PrimitiveIndices", "indices", ctx)
    view = accessor.buffer_view
    if view is not None:
        use_view(view, INDEX, "indices", ctx)
    with ctx.at("indices"):
        if view is not None and view.byte_stride != -1:
            ctx.add(
                catalog.MESH_PRIMITIVE_INDICES_ACCESSOR_WITH_BYTESTRIDE,
                "Index buffer views cannot have byteStride",
            )
        if accessor.format not in INDEX_FORMATS:
            ctx.add(
                catalog.MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT,
                f"Invalid indices accessor format {accessor.format}",
            )
            return
        check = objects.IndexCheck(
            pointer=ctx.pointer(),
            max_vertex=primitive.vertex_count - 1 if primitive.vertex_count != -1 else -1,
            triangles=primitive.count // 3,
            restart=GL_INT_RANGES[accessor.component_type][1],
            is_triangles=primitive.mode in (4, -1),
        )
        accessor.checks.indices.append(check)


def _mode_fits(mode: int, count: int) -> bool:
    return not (
        (mode == 1 and count % 2)
        or (mode in (2, 3) and count < 2)
        or (mode == 4 and count % 3)
        or (mode in (5, 6) and count < 3)
    )


def _material(primitive: objects.Primitive, model: Model, ctx: Context) -> None:
    material = primitive.material = item(model.materials, primitive.material_index)
    if primitive.material_index != -1:
        if material is None:
            ctx.add(
                catalog.UNRESOLVED_REFERENCE,
                f"Unresolved reference: {primitive.material_index}",
                name="material",
            )
        else:
            material.used = True
            if not (primitive.has_normal and primitive.has_tangent) and material.needs_tangent:
                rule = (
                    catalog.MESH_PRIMITIVE_GENERATED_TANGENT_SPACE
                    if material.normal_texture is not None
                    else catalog.MESH_PRIMITIVE_NO_TANGENT_SPACE
                )
                ctx.add(
                    rule,
                    "Material requires a tangent space the primitive does not provide",
                    name="material",
                )
            _check_tex_coords(primitive, material, ctx)
    with ctx.at("attributes"):
        if primitive.has_tangent and (material is None or not material.needs_tangent):
            ctx.add(
                catalog.UNUSED_MESH_TANGENT,
                "Tangents are not used because the material has no normal texture",
                name="TANGENT",
            )
        for index in sorted(primitive.unused_texcoords):
            ctx.add(catalog.UNUSED_OBJECT, "This object may be unused", name=f"TEXCOORD_{index}")


def _target(
    primitive: objects.Primitive, semantic: str, accessor: objects.Accessor, ctx: Context
) -> None:
    use_accessor(accessor, "VertexAttribute", semantic, ctx)
    if accessor.buffer_view is not None:
        use_view(accessor.buffer_view, VERTEX, semantic, ctx)
    base = primitive.linked_attributes.get(semantic)
    if base is None:
        ctx.add(
            catalog.MESH_PRIMITIVE_MORPH_TARGET_NO_BASE_ACCESSOR,
            "The primitive does not define this attribute",
            name=semantic,
        )
    elif base.count != accessor.count:
        ctx.add(
            catalog.MESH_PRIMITIVE_MORPH_TARGET_INVALID_ATTRIBUTE_COUNT,
            "Base accessor has different count",
            name=semantic,
        )
    if semantic == "POSITION" and (accessor.min is None or accessor.max is None):
        ctx.add(
            catalog.MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS,
            "POSITION needs min and max",
            name="POSITION",
        )
    valid = ctx.morph_formats.get(semantic.split("_")[0])
    if valid is not None and accessor.format not in valid:
        ctx.add(
            catalog.MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT,
            f"Invalid accessor format {accessor.format} for this attribute semantic",
            name=semantic,
        )
    if _unaligned(accessor):
        ctx.add(
            catalog.MESH_PRIMITIVE_ACCESSOR_UNALIGNED,
            "Vertex attribute data must be aligned to 4 bytes",
            name=semantic,
        )
    _share_view(accessor, semantic, ctx)


def _targets(primitive: objects.Primitive, model: Model, ctx: Context) -> None:
    if primitive.targets is None:
        return
    primitive.linked_targets = [{} for _ in primitive.targets]
    with ctx.at("targets"):
        for i, target in enumerate(primitive.targets):
            with ctx.at(i):
                for semantic, index in target.items():
                    if index == -1:
                        continue
                    accessor = item(model.accessors, index)
                    if accessor is None:
                        ctx.add(
                            catalog.UNRESOLVED_REFERENCE,
                            f"Unresolved reference: {index}",
                            name=semantic,
                        )
                    else:
                        _target(primitive, semantic, accessor, ctx)
                    primitive.linked_targets[i][semantic] = accessor  # type: ignore[assignment]


def _variant_mappings(
    primitive: objects.Primitive, mappings: ExtensionObject, model: Model, ctx: Context
) -> None:
    """KHR_materials_variants: each mapping's variants exist once, its material fits the mesh."""
    root = model.extensions.get("KHR_materials_variants")
    if not isinstance(root, ExtensionObject):
        ctx.add(
            catalog.UNSATISFIED_DEPENDENCY,
            "Dependency failed. '/extensions/KHR_materials_variants' must be defined",
        )
        return
    seen: set[int] = set()
    for i, (variants, material_index) in enumerate(mappings.items):
        with ctx.at("mappings", i):
            for position, variant in enumerate(variants or []):
                if variant == -1:
                    continue
                with ctx.at("variants"):
                    if variant in seen:
                        ctx.add(
                            catalog.KHR_MATERIALS_VARIANTS_NON_UNIQUE_VARIANT,
                            "Variant used more than once",
                            index=position,
                        )
                    seen.add(variant)
                    if variant < len(root.items):
                        root.used[variant] = True
                    else:
                        ctx.add(
                            catalog.UNRESOLVED_REFERENCE,
                            f"Unresolved reference: {variant}",
                            index=position,
                        )
            material = item(model.materials, material_index)
            if material_index == -1:
                continue
            if material is None:
                ctx.add(
                    catalog.UNRESOLVED_REFERENCE,
                    f"Unresolved reference: {material_index}",
                    name="material",
                )
                continue
            material.used = True
            _check_tex_coords(primitive, material, ctx)


def _check_tex_coords(
    primitive: objects.Primitive, material: objects.Material, ctx: Context
) -> None:
    for pointer, tex_coord in material.tex_coords.items():
        if tex_coord == -1:
            continue
        if tex_coord + 1 > primitive.texcoord_count:
            ctx.add(
                catalog.MESH_PRIMITIVE_TOO_FEW_TEXCOORDS,
                f"Texture binding '{pointer}' needs 'TEXCOORD_{tex_coord}' attribute",
                name="material",
            )
        else:
            primitive.unused_texcoords.discard(tex_coord)


def link_primitive(primitive: objects.Primitive, model: Model, ctx: Context) -> None:
    mappings = primitive.extensions.get("KHR_materials_variants")
    if isinstance(mappings, ExtensionObject):
        with ctx.at("extensions", "KHR_materials_variants"):
            _variant_mappings(primitive, mappings, model, ctx)
    if primitive.attributes is not None:
        with ctx.at("attributes"):
            for semantic, index in primitive.attributes.items():
                if index == -1:
                    continue
                accessor = item(model.accessors, index)
                if accessor is None:
                    ctx.add(
                        catalog.UNRESOLVED_REFERENCE,
                        f"Unresolved reference: {index}",
                        name=semantic,
                    )
                else:
                    _attribute(primitive, semantic, accessor, ctx)
    if primitive.indices_index != -1:
        accessor = primitive.indices = item(model.accessors, primitive.indices_index)
        if accessor is None:
            ctx.add(
                catalog.UNRESOLVED_REFERENCE,
                f"Unresolved reference: {primitive.indices_index}",
                name="indices",
            )
        else:
            _indices(primitive, accessor, ctx)
    if (
        primitive.count != -1
        and 0 <= primitive.mode < len(_MODE_NAMES)
        and not _mode_fits(primitive.mode, primitive.count)
    ):
        ctx.add(
            catalog.MESH_PRIMITIVE_INCOMPATIBLE_MODE,
            f"Number of vertices or indices ({primitive.count}) is not compatible with mode {_MODE_NAMES[primitive.mode]}",
        )
    _material(primitive, model, ctx)
    _targets(primitive, model, ctx)
