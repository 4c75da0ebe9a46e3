"""Read each glTF object type from JSON, with the schema checks of that type.

Each `parse_*` function reads one JSON object, reports schema and per-object semantic
issues, and returns the record (see `objects`) that the linker completes later. The order of
reads follows the reference validator so the same problems are found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shazam_assets.ingest.delivery.gltf import catalog, extension_objects, fields
from shazam_assets.ingest.delivery.gltf.context import FLOAT, UINT, Context
from shazam_assets.ingest.delivery.gltf.extensions import MATERIAL, get_extensions
from shazam_assets.ingest.delivery.gltf.images import detect_mime_type
from shazam_assets.ingest.delivery.gltf.matrix import is_identity, is_trs_decomposable
from shazam_assets.ingest.delivery.gltf.objects import (
    COMPONENT_TYPES,
    TYPE_SIZES,
    VERSION_PATTERN,
    Accessor,
    Animation,
    AnimationChannel,
    AnimationSampler,
    Asset,
    Buffer,
    BufferView,
    Camera,
    Image,
    Material,
    Mesh,
    Node,
    Primitive,
    Sampler,
    Scene,
    Skin,
    Sparse,
    SparseIndices,
    SparseValues,
    Texture,
)
from shazam_assets.ingest.delivery.gltf.textures import (
    TextureInfo,
    parse_texture_info,
    texture_info_parser,
)
from shazam_assets.ingest.delivery.gltf.uris import DataUriError, check_uri, parse_data_uri


def _ext(obj: dict[str, Any], kind: str, ctx: Context) -> dict[str, Any]:
    return get_extensions(obj, kind, ctx, extension_objects.parse)


def _finish(obj: dict[str, Any], ctx: Context, kind: str) -> dict[str, Any]:
    """Common tail of every object: name, extensions, extras."""
    fields.get_string(obj, "name", ctx)
    extensions = _ext(obj, kind, ctx)
    fields.get_extras(obj, ctx)
    return extensions


def parse_asset(obj: dict[str, Any], ctx: Context) -> Asset:
    fields.check_members(obj, ("copyright", "generator", "version", "minVersion"), ctx)
    fields.get_string(obj, "copyright", ctx)
    fields.get_string(obj, "generator", ctx)
    version = fields.get_string(obj, "version", ctx, required=True, pattern=VERSION_PATTERN)
    min_version = fields.get_string(obj, "minVersion", ctx, pattern=VERSION_PATTERN)
    _ext(obj, "asset", ctx)
    fields.get_extras(obj, ctx)
    asset = Asset(version, min_version)
    if version is not None and min_version is not None:
        low = Asset(min_version, None)
        if (low.major, low.minor) > (asset.major, asset.minor):
            ctx.add(
                catalog.ASSET_MIN_VERSION_GREATER_THAN_VERSION,
                f"Asset minVersion {min_version!r} is greater than version {version!r}",
                name="minVersion",
            )
    return asset


def parse_buffer(obj: dict[str, Any], ctx: Context) -> Buffer:
    fields.check_members(obj, ("uri", "byteLength", "name"), ctx)
    byte_length = fields.get_uint(obj, "byteLength", ctx, required=True, minimum=1)
    uri: str | None = None
    data: bytes | None = None
    text = fields.get_string(obj, "uri", ctx) if "uri" in obj else None
    if text is not None:
        if ctx.is_glb:
            ctx.add(catalog.URI_GLB, "URI is used in GLB container", name="uri")
        decoded = _data_uri(text, ctx)
        if decoded is None and text[:5].lower() != "data:":
            uri = check_uri(text, ctx)
        elif decoded is not None:
            if ctx.is_glb:
                ctx.add(catalog.DATA_URI_GLB, "Data URI is used in GLB container", name="uri")
            if decoded.mime_type in ("application/gltf-buffer", "application/octet-stream"):
                data = decoded.data
            else:
                ctx.add(
                    catalog.BUFFER_DATA_URI_MIME_TYPE_INVALID,
                    f"Data URI media type must be 'application/octet-stream' or "
                    f"'application/gltf-buffer'. Found {decoded.mime_type!r} instead",
                    name="uri",
                )
    extensions = _finish(obj, ctx, "buffer")
    return Buffer(byte_length, uri, "uri" in obj, data, extensions)


def _data_uri(text: str, ctx: Context) -> Any:
    try:
        return parse_data_uri(text)
    except DataUriError as exc:
        ctx.add(catalog.INVALID_URI, f"Invalid URI {text[:60]!r}: {exc}", name="uri")
        return None


def parse_buffer_view(obj: dict[str, Any], ctx: Context) -> BufferView:
    fields.check_members(
        obj, ("buffer", "byteOffset", "byteLength", "byteStride", "target", "name"), ctx
    )
    byte_length = fields.get_uint(obj, "byteLength", ctx, required=True, minimum=1)
    stride = fields.get_uint(obj, "byteStride", ctx, minimum=4, maximum=252)
    target = fields.get_uint(obj, "target", ctx, allowed=(34962, 34963))
    if stride != -1:
        if byte_length != -1 and stride > byte_length:
            ctx.add(
                catalog.BUFFER_VIEW_TOO_BIG_BYTE_STRIDE,
                f"byteStride ({stride}) is greater than byteLength ({byte_length})",
                name="byteStride",
            )
        if stride % 4:
            ctx.add(
                catalog.VALUE_MULTIPLE_OF,
                f"Value {stride} is not a multiple of 4",
                name="byteStride",
            )
        if target == 34963:
            ctx.add(
                catalog.BUFFER_VIEW_INVALID_BYTE_STRIDE,
                "Index buffer views cannot have byteStride",
                name="byteStride",
            )
    buffer_index = fields.get_index(obj, "buffer", ctx)
    byte_offset = fields.get_uint(obj, "byteOffset", ctx, default=0)
    extensions = _finish(obj, ctx, "buffer_view")
    return BufferView(buffer_index, byte_offset, byte_length, stride, target, extensions)


def _parse_sparse_indices(obj: dict[str, Any], ctx: Context) -> SparseIndices:
    fields.check_members(obj, ("bufferView", "byteOffset", "componentType"), ctx)
    view = fields.get_index(obj, "bufferView", ctx)
    offset = fields.get_uint(obj, "byteOffset", ctx, default=0)
    component = fields.get_uint(
        obj, "componentType", ctx, required=True, allowed=(5121, 5123, 5125)
    )
    _ext(obj, "accessor_sparse_indices", ctx)
    fields.get_extras(obj, ctx)
    return SparseIndices(view, offset, component)


def _parse_sparse_values(obj: dict[str, Any], ctx: Context) -> SparseValues:
    fields.check_members(obj, ("bufferView", "byteOffset"), ctx)
    view = fields.get_index(obj, "bufferView", ctx)
    offset = fields.get_uint(obj, "byteOffset", ctx, default=0)
    _ext(obj, "accessor_sparse_values", ctx)
    fields.get_extras(obj, ctx)
    return SparseValues(view, offset)


def _parse_sparse(obj: dict[str, Any], ctx: Context) -> Sparse | None:
    fields.check_members(obj, ("count", "indices", "values"), ctx)
    count = fields.get_uint(obj, "count", ctx, required=True, minimum=1)
    indices = fields.get_object(obj, "indices", ctx, _parse_sparse_indices, required=True)
    values = fields.get_object(obj, "values", ctx, _parse_sparse_values, required=True)
    if count == -1 or indices is None or values is None:
        return None
    _ext(obj, "accessor_sparse", ctx)
    fields.get_extras(obj, ctx)
    return Sparse(count, indices, values)


def _parse_bounds(
    obj: dict[str, Any], ctx: Context, component: int, type_: str | None
) -> tuple[Any, Any]:
    """accessor.min/max: single-precision floats or in-range integers, one per component."""
    length = TYPE_SIZES.get(type_ or "")
    if type_ is None or component == -1 or length is None:
        return None, None
    if component == FLOAT:
        floats = fields.get_float_list(obj, "min", ctx, lengths=(length,), single=True)
        return floats, fields.get_float_list(obj, "max", ctx, lengths=(length,), single=True)
    ints = fields.get_gl_int_list(obj, "min", ctx, component, length)
    return ints, fields.get_gl_int_list(obj, "max", ctx, component, length)


def parse_accessor(obj: dict[str, Any], ctx: Context) -> Accessor:
    members = ("bufferView", "byteOffset", "componentType", "count", "type", "normalized")
    fields.check_members(obj, (*members, "max", "min", "sparse", "name"), ctx)
    view = fields.get_index(obj, "bufferView", ctx, required=False)
    offset = 0
    if view != -1:
        offset = fields.get_uint(obj, "byteOffset", ctx, default=0)
    elif "byteOffset" in obj:
        message = "Dependency failed. 'bufferView' must be defined"
        ctx.add(catalog.UNSATISFIED_DEPENDENCY, message, name="byteOffset")
    component = fields.get_uint(obj, "componentType", ctx, required=True, allowed=COMPONENT_TYPES)
    count = fields.get_uint(obj, "count", ctx, required=True, minimum=1)
    type_ = fields.get_string(obj, "type", ctx, required=True, allowed=TYPE_SIZES)
    normalized = fields.get_bool(obj, "normalized", ctx)
    low, high = _parse_bounds(obj, ctx, component, type_)
    sparse = fields.get_object(obj, "sparse", ctx, _parse_sparse)
    if normalized and component in (FLOAT, UINT):
        message = "Only (u)byte and (u)short accessors can be normalized"
        ctx.add(catalog.ACCESSOR_NORMALIZED_INVALID, message, name="normalized")
    if type_ in ("MAT2", "MAT3", "MAT4") and offset != -1 and offset & 3:
        message = "Matrix accessors must be aligned to 4-byte boundaries"
        ctx.add(catalog.ACCESSOR_MATRIX_ALIGNMENT, message, name="byteOffset")
    extensions = _finish(obj, ctx, "accessor")
    return Accessor(
        view, offset, component, count, type_, normalized, low, high, sparse, extensions
    )


def parse_animation(obj: dict[str, Any], ctx: Context) -> Animation:
    fields.check_members(obj, ("channels", "samplers", "name"), ctx)
    channels = None
    channel_maps = fields.get_map_list(obj, "channels", ctx)
    if channel_maps is not None:
        with ctx.at("channels"):
            channels = [_parse_channel(item, i, ctx) for i, item in enumerate(channel_maps)]
    samplers = None
    sampler_maps = fields.get_map_list(obj, "samplers", ctx)
    if sampler_maps is not None:
        with ctx.at("samplers"):
            samplers = [
                _parse_animation_sampler(item, i, ctx) for i, item in enumerate(sampler_maps)
            ]
    extensions = _finish(obj, ctx, "animation")
    return Animation(channels, samplers, extensions)


def _parse_channel(obj: dict[str, Any], index: int, ctx: Context) -> AnimationChannel:
    with ctx.at(index):
        fields.check_members(obj, ("sampler", "target"), ctx)
        sampler = fields.get_index(obj, "sampler", ctx)
        parsed = fields.get_object(obj, "target", ctx, _parse_target, required=True)
        _ext(obj, "animation_channel", ctx)
        fields.get_extras(obj, ctx)
    if parsed is None:
        return AnimationChannel(sampler, None)
    return AnimationChannel(sampler, parsed[:2], parsed[2])


def _parse_target(obj: dict[str, Any], ctx: Context) -> tuple[int, str | None, dict[str, Any]]:
    fields.check_members(obj, ("node", "path"), ctx)
    extensions = _ext(obj, "animation_channel_target", ctx)
    node = fields.get_index(obj, "node", ctx, required=False)
    path = fields.get_string(obj, "path", ctx, required=True, allowed=ctx.animation_paths)
    fields.get_extras(obj, ctx)
    return (node, path, extensions)


def _parse_animation_sampler(obj: dict[str, Any], index: int, ctx: Context) -> AnimationSampler:
    with ctx.at(index):
        fields.check_members(obj, ("input", "interpolation", "output"), ctx)
        input_ = fields.get_index(obj, "input", ctx)
        interpolation = fields.get_string(
            obj, "interpolation", ctx, default="LINEAR", allowed=("LINEAR", "STEP", "CUBICSPLINE")
        )
        output = fields.get_index(obj, "output", ctx)
        _ext(obj, "animation_sampler", ctx)
        fields.get_extras(obj, ctx)
    return AnimationSampler(input_, interpolation, output)


def parse_camera(obj: dict[str, Any], ctx: Context) -> Camera:
    fields.check_members(obj, ("orthographic", "perspective", "type", "name"), ctx)
    if "orthographic" in obj and "perspective" in obj:
        ctx.add(
            catalog.ONE_OF_MISMATCH,
            "Exactly one of ('orthographic', 'perspective') properties must be defined",
        )
    kind = fields.get_string(
        obj, "type", ctx, required=True, allowed=("orthographic", "perspective")
    )
    if kind == "orthographic":
        fields.get_object(obj, "orthographic", ctx, _parse_orthographic, required=True)
    elif kind == "perspective":
        fields.get_object(obj, "perspective", ctx, _parse_perspective, required=True)
    return Camera(_finish(obj, ctx, "camera"))


def _parse_orthographic(obj: dict[str, Any], ctx: Context) -> None:
    fields.check_members(obj, ("xmag", "ymag", "zfar", "znear"), ctx)
    xmag = fields.get_float(obj, "xmag", ctx, required=True)
    ymag = fields.get_float(obj, "ymag", ctx, required=True)
    zfar = fields.get_float(obj, "zfar", ctx, required=True, excl_min=0)
    znear = fields.get_float(obj, "znear", ctx, required=True, minimum=0)
    if zfar <= znear:
        ctx.add(catalog.CAMERA_ZFAR_LEQUAL_ZNEAR, "zfar must be greater than znear")
    for name, value in (("xmag", xmag), ("ymag", ymag)):
        if value == 0:
            ctx.add(catalog.CAMERA_XMAG_YMAG_ZERO, "xmag and ymag must not be zero", name=name)
        elif value < 0:
            ctx.add(
                catalog.CAMERA_XMAG_YMAG_NEGATIVE, "xmag and ymag should not be negative", name=name
            )
    _ext(obj, "camera_orthographic", ctx)
    fields.get_extras(obj, ctx)


def _parse_perspective(obj: dict[str, Any], ctx: Context) -> None:
    fields.check_members(obj, ("aspectRatio", "yfov", "zfar", "znear"), ctx)
    yfov = fields.get_float(obj, "yfov", ctx, required=True, excl_min=0)
    if yfov >= math.pi:
        ctx.add(catalog.CAMERA_YFOV_GEQUAL_PI, "yfov should be less than Pi")
    zfar = fields.get_float(obj, "zfar", ctx, excl_min=0)
    znear = fields.get_float(obj, "znear", ctx, required=True, excl_min=0)
    if zfar <= znear:
        ctx.add(catalog.CAMERA_ZFAR_LEQUAL_ZNEAR, "zfar must be greater than znear")
    fields.get_float(obj, "aspectRatio", ctx, excl_min=0)
    _ext(obj, "camera_perspective", ctx)
    fields.get_extras(obj, ctx)


def parse_image(obj: dict[str, Any], ctx: Context) -> Image:
    fields.check_members(obj, ("bufferView", "mimeType", "uri", "name"), ctx)
    view = fields.get_index(obj, "bufferView", ctx, required=False)
    mime = fields.get_string(obj, "mimeType", ctx, allowed=ctx.image_mime_types)
    text = fields.get_string(obj, "uri", ctx)
    if view != -1 and mime is None:
        ctx.add(
            catalog.UNSATISFIED_DEPENDENCY,
            "Dependency failed. 'mimeType' must be defined",
            name="bufferView",
        )
    if (view != -1) == (text is not None):
        ctx.add(
            catalog.ONE_OF_MISMATCH,
            "Exactly one of ('bufferView', 'uri') properties must be defined",
        )
    uri: str | None = None
    data: bytes | None = None
    if text is not None:
        if ctx.is_glb:
            ctx.add(catalog.URI_GLB, "URI is used in GLB container", name="uri")
        decoded = _data_uri(text, ctx)
        if decoded is None and text[:5].lower() != "data:":
            uri = check_uri(text, ctx)
        elif decoded is not None:
            if ctx.is_glb:
                ctx.add(catalog.DATA_URI_GLB, "Data URI is used in GLB container", name="uri")
            if detect_mime_type(decoded.data) != decoded.mime_type:
                ctx.add(
                    catalog.INVALID_URI,
                    f"Invalid URI {text[:60]!r}: the declared mediatype does not match the embedded content",
                    name="uri",
                )
            else:
                data = decoded.data
    extensions = _finish(obj, ctx, "image")
    return Image(view, mime, uri, data, extensions)


def parse_material(obj: dict[str, Any], ctx: Context) -> Material:
    members = (
        "name",
        "pbrMetallicRoughness",
        "normalTexture",
        "occlusionTexture",
        "emissiveTexture",
    )
    fields.check_members(
        obj, (*members, "emissiveFactor", "alphaMode", "alphaCutoff", "doubleSided"), ctx
    )
    infos: list[tuple[str, TextureInfo]] = []
    pbr = fields.get_object(obj, "pbrMetallicRoughness", ctx, _parse_pbr)
    if pbr:
        infos += [(f"pbrMetallicRoughness/{key}", info) for key, info in pbr]
    normal = None
    for key, kind in (
        ("normalTexture", "normal_texture_info"),
        ("occlusionTexture", "occlusion_texture_info"),
        ("emissiveTexture", "texture_info"),
    ):
        info = fields.get_object(obj, key, ctx, texture_info_parser(kind))
        if info is not None:
            infos.append((key, info))
            normal = info if key == "normalTexture" else normal
    emissive = fields.get_float_list(
        obj, "emissiveFactor", ctx, lengths=(3,), minimum=0, maximum=1, default=[0, 0, 0]
    )
    mode = fields.get_string(
        obj, "alphaMode", ctx, default="OPAQUE", allowed=("OPAQUE", "MASK", "BLEND")
    )
    fields.get_float(obj, "alphaCutoff", ctx, minimum=0, default=0.5)
    if mode != "MASK" and "alphaCutoff" in obj:
        ctx.add(
            catalog.MATERIAL_ALPHA_CUTOFF_INVALID_MODE,
            "Alpha cutoff is supported only for 'MASK' alpha mode",
            name="alphaCutoff",
        )
    double_sided = fields.get_bool(obj, "doubleSided", ctx)
    extensions = _ext(obj, MATERIAL, ctx)
    for name, value in extensions.items():
        if isinstance(value, extension_objects.ExtensionObject):
            infos += [(f"extensions/{name}/{key}", info) for key, info in value.texture_infos]
    fields.get_string(obj, "name", ctx)
    fields.get_extras(obj, ctx)
    return Material(infos, normal, extensions, emissive, double_sided)


def _parse_pbr(obj: dict[str, Any], ctx: Context) -> list[tuple[str, TextureInfo]]:
    fields.check_members(
        obj,
        (
            "baseColorFactor",
            "baseColorTexture",
            "metallicFactor",
            "roughnessFactor",
            "metallicRoughnessTexture",
        ),
        ctx,
    )
    fields.get_float_list(obj, "baseColorFactor", ctx, lengths=(4,), minimum=0, maximum=1)
    base = fields.get_object(obj, "baseColorTexture", ctx, parse_texture_info)
    fields.get_float(obj, "metallicFactor", ctx, minimum=0, maximum=1, default=1)
    fields.get_float(obj, "roughnessFactor", ctx, minimum=0, maximum=1, default=1)
    mr = fields.get_object(obj, "metallicRoughnessTexture", ctx, parse_texture_info)
    _ext(obj, "pbr_metallic_roughness", ctx)
    fields.get_extras(obj, ctx)
    pairs = (("baseColorTexture", base), ("metallicRoughnessTexture", mr))
    return [(key, info) for key, info in pairs if info is not None]


def parse_sampler(obj: dict[str, Any], ctx: Context) -> Sampler:
    fields.check_members(obj, ("magFilter", "minFilter", "wrapS", "wrapT", "name"), ctx)
    fields.get_uint(obj, "magFilter", ctx, allowed=(9728, 9729))
    fields.get_uint(obj, "minFilter", ctx, allowed=(9728, 9729, 9984, 9985, 9986, 9987))
    fields.get_uint(obj, "wrapS", ctx, default=10497, allowed=(33071, 33648, 10497))
    fields.get_uint(obj, "wrapT", ctx, default=10497, allowed=(33071, 33648, 10497))
    return Sampler(_finish(obj, ctx, "sampler"))


def parse_scene(obj: dict[str, Any], ctx: Context) -> Scene:
    fields.check_members(obj, ("nodes", "name"), ctx)
    nodes = fields.get_indices_list(obj, "nodes", ctx)
    return Scene(nodes, _finish(obj, ctx, "scene"))


def parse_skin(obj: dict[str, Any], ctx: Context) -> Skin:
    fields.check_members(obj, ("inverseBindMatrices", "skeleton", "joints", "name"), ctx)
    ibm = fields.get_index(obj, "inverseBindMatrices", ctx, required=False)
    skeleton = fields.get_index(obj, "skeleton", ctx, required=False)
    joints = fields.get_indices_list(obj, "joints", ctx, required=True)
    return Skin(ibm, skeleton, joints, _finish(obj, ctx, "skin"))


def parse_texture(obj: dict[str, Any], ctx: Context) -> Texture:
    fields.check_members(obj, ("sampler", "source", "name"), ctx)
    sampler = fields.get_index(obj, "sampler", ctx, required=False)
    source = fields.get_index(obj, "source", ctx, required=False)
    return Texture(sampler, source, _finish(obj, ctx, "texture"))


def _parse_transform(obj: dict[str, Any], ctx: Context) -> list[list[float] | None]:
    """matrix, translation, rotation, scale (single precision, None when absent or invalid)."""
    matrix = (
        _f32(fields.get_float_list(obj, "matrix", ctx, lengths=(16,))) if "matrix" in obj else None
    )
    translation = None
    if "translation" in obj:
        translation = _f32(fields.get_float_list(obj, "translation", ctx, lengths=(3,)))
    rotation = None
    if "rotation" in obj:
        rotation = _f32(
            fields.get_float_list(obj, "rotation", ctx, lengths=(4,), minimum=-1, maximum=1)
        )
        if rotation is not None and abs(1 - math.sqrt(sum(v * v for v in rotation))) > 0.00769:
            ctx.add(
                catalog.ROTATION_NON_UNIT, "Rotation quaternion must be normalized", name="rotation"
            )
    scale = _f32(fields.get_float_list(obj, "scale", ctx, lengths=(3,))) if "scale" in obj else None
    return [matrix, translation, rotation, scale]


def _check_matrix(matrix: list[float], has_trs: bool, ctx: Context) -> None:
    if has_trs:
        message = "A node can have either a matrix or TRS properties"
        ctx.add(catalog.NODE_MATRIX_TRS, message, name="matrix")
    if is_identity(matrix):
        ctx.add(
            catalog.NODE_MATRIX_DEFAULT, "Do not specify default transform matrix", name="matrix"
        )
    elif not is_trs_decomposable(matrix):
        ctx.add(catalog.NODE_MATRIX_NON_TRS, "Matrix must be decomposable to TRS", name="matrix")


def parse_node(obj: dict[str, Any], ctx: Context) -> Node:
    members = ("camera", "children", "skin", "matrix", "mesh", "rotation", "scale", "translation")
    fields.check_members(obj, (*members, "weights", "name"), ctx)
    matrix, translation, rotation, scale = _parse_transform(obj, ctx)
    camera = fields.get_index(obj, "camera", ctx, required=False)
    children = fields.get_indices_list(obj, "children", ctx)
    mesh = fields.get_index(obj, "mesh", ctx, required=False)
    skin = fields.get_index(obj, "skin", ctx, required=False)
    weights = fields.get_float_list(obj, "weights", ctx)
    if mesh == -1:
        for name, present in (("skin", skin != -1), ("weights", weights is not None)):
            if present:
                message = "Dependency failed. 'mesh' must be defined"
                ctx.add(catalog.UNSATISFIED_DEPENDENCY, message, name=name)
    if matrix is not None:
        _check_matrix(matrix, any(v is not None for v in (translation, rotation, scale)), ctx)
    fields.get_string(obj, "name", ctx)
    extensions = _ext(obj, "node", ctx)
    extras = fields.get_extras(obj, ctx)
    trs = (matrix, translation, rotation, scale)
    return Node(camera, children, skin, mesh, *trs, weights, extensions, extras)


def _f32(values: list[float] | None) -> list[float] | None:
    return None if values is None else [fields.to_float32(v) for v in values]


_ARRAY_SEMANTICS = ("COLOR", "JOINTS", "TEXCOORD", "WEIGHTS")


def semantic_index(text: str) -> int:
    """The n of TEXCOORD_n: plain decimal digits without a leading zero, else -1."""
    if not text or (len(text) > 1 and text[0] == "0") or not all("0" <= ch <= "9" for ch in text):
        return -1
    return int(text)


@dataclass
class _Semantics:
    """What a primitive's attribute names declare, gathered while they are checked."""

    position: bool = False
    normal: bool = False
    tangent: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_ARRAY_SEMANTICS, 0))
    highest: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_ARRAY_SEMANTICS, -1))

    def check(self, semantic: str, ctx: Context) -> None:
        if semantic.startswith("_"):
            return
        if semantic in ("POSITION", "NORMAL", "TANGENT"):
            setattr(self, semantic.lower(), True)
            return
        parts = semantic.split("_")
        index = semantic_index(parts[1]) if len(parts) == 2 and parts[0] in _ARRAY_SEMANTICS else -1
        if index == -1:
            ctx.add(
                catalog.MESH_PRIMITIVE_INVALID_ATTRIBUTE, "Invalid attribute name", name=semantic
            )
            return
        self.counts[parts[0]] += 1
        self.highest[parts[0]] = max(self.highest[parts[0]], index)

    def settle(self, ctx: Context) -> None:
        """Report missing and discontinuous semantics; broken sets count as absent."""
        if not self.position:
            ctx.add(catalog.MESH_PRIMITIVE_NO_POSITION, "No POSITION attribute found")
        if not self.normal and self.tangent:
            ctx.add(
                catalog.MESH_PRIMITIVE_TANGENT_WITHOUT_NORMAL,
                "TANGENT attribute without NORMAL found",
                name="TANGENT",
            )
        for name in ("COLOR", "JOINTS", "WEIGHTS", "TEXCOORD"):
            if self.highest[name] + 1 != self.counts[name]:
                ctx.add(
                    catalog.MESH_PRIMITIVE_INDEXED_SEMANTIC_CONTINUITY,
                    f"Indices for indexed attribute semantic '{name}' must start with 0 and be continuous",
                )
                self.counts[name] = 0
        if self.counts["JOINTS"] != self.counts["WEIGHTS"]:
            ctx.add(
                catalog.MESH_PRIMITIVE_JOINTS_WEIGHTS_MISMATCH,
                f"Number of JOINTS ({self.counts['JOINTS']}) does not match WEIGHTS ({self.counts['WEIGHTS']})",
            )
            self.counts["JOINTS"] = self.counts["WEIGHTS"] = 0


def _check_morph_semantic(semantic: str, ctx: Context) -> None:
    if semantic.startswith("_") or semantic in ("POSITION", "NORMAL", "TANGENT"):
        return
    parts = semantic.split("_")
    if not (
        parts[0] in ("COLOR", "TEXCOORD") and len(parts) == 2 and semantic_index(parts[1]) != -1
    ):
        ctx.add(catalog.MESH_PRIMITIVE_INVALID_ATTRIBUTE, "Invalid attribute name", name=semantic)


def parse_primitive(obj: dict[str, Any], ctx: Context) -> Primitive:
    fields.check_members(obj, ("attributes", "indices", "material", "mode", "targets"), ctx)
    semantics = _Semantics()
    mode = fields.get_uint(obj, "mode", ctx, default=4, maximum=6)
    attributes = fields.get_indices_map(
        obj, "attributes", ctx, lambda key: semantics.check(key, ctx)
    )
    if attributes is not None:
        with ctx.at("attributes"):
            semantics.settle(ctx)
    targets = fields.get_indices_maps_list(
        obj, "targets", ctx, lambda key: _check_morph_semantic(key, ctx)
    )
    indices = fields.get_index(obj, "indices", ctx, required=False)
    material = fields.get_index(obj, "material", ctx, required=False)
    extensions = _ext(obj, "mesh_primitive", ctx)
    fields.get_extras(obj, ctx)
    texcoords = semantics.counts["TEXCOORD"]
    return Primitive(
        attributes, indices, material, mode, targets, semantics.position, semantics.normal, semantics.tangent,
        semantics.counts["JOINTS"], texcoords, extensions, unused_texcoords=set(range(texcoords)),
    )  # fmt: skip


def parse_mesh(obj: dict[str, Any], ctx: Context) -> Mesh:
    fields.check_members(obj, ("primitives", "weights", "name"), ctx)
    weights = fields.get_float_list(obj, "weights", ctx)
    maps = fields.get_map_list(obj, "primitives", ctx)
    primitives: list[Primitive | None] | None = None
    if maps is not None:
        primitives = []
        first = 0
        with ctx.at("primitives"):
            for i, entry in enumerate(maps):
                with ctx.at(i):
                    primitive = parse_primitive(entry, ctx)
                    targets = len(primitive.targets) if primitive.targets is not None else 0
                    if i == 0:
                        first = targets
                    elif targets != first:
                        ctx.add(
                            catalog.MESH_PRIMITIVES_UNEQUAL_TARGETS_COUNT,
                            "All primitives must have the same number of morph targets",
                            name="targets" if targets > 0 else None,
                        )
                primitives.append(primitive)
        if weights is not None and first != len(weights):
            ctx.add(
                catalog.MESH_INVALID_WEIGHTS_COUNT,
                f"The length of weights array ({len(weights)}) does not match the number of morph targets ({first})",
                name="weights",
            )
    return Mesh(primitives, weights, _finish(obj, ctx, "mesh"))
