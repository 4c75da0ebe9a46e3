"""glTF objects as the validator holds them: parsed fields plus what linking adds.

Records are mutable on purpose: linking and resource loading complete them step by step
(references resolved, usage recorded, data attached), the way the reference validator
builds its object graph. Integer fields use -1 for "absent or invalid" so later stages can
skip broken values without cascading errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shazam_assets.ingest.delivery.gltf.matrix import is_identity
from shazam_assets.ingest.delivery.gltf.textures import TextureInfo

TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
COMPONENT_TYPES = (5120, 5121, 5122, 5123, 5125, 5126)
COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5124: 4, 5125: 4, 5126: 4}
VERSION_PATTERN = re.compile(r"^([0-9]+)\.([0-9]+)$")


@dataclass(eq=False)
class Usable:
    """Anything that can be reported as UNUSED_OBJECT."""

    used: bool = field(default=False, kw_only=True)


@dataclass(eq=False)
class Asset:
    version: str | None
    min_version: str | None

    @property
    def major(self) -> int:
        match = VERSION_PATTERN.match(self.version or "")
        return int(match.group(1)) if match else 0

    @property
    def minor(self) -> int:
        match = VERSION_PATTERN.match(self.version or "")
        return int(match.group(2)) if match else 0


@dataclass(eq=False)
class Buffer(Usable):
    byte_length: int
    uri: str | None  # external reference (not a data: URI)
    has_uri: bool  # the "uri" key is present, whatever its value
    data: bytes | memoryview | None  # decoded data: URI now, loaded resource later
    extensions: dict[str, Any]


@dataclass(eq=False)
class BufferView(Usable):
    buffer_index: int
    byte_offset: int
    byte_length: int
    byte_stride: int
    target: int
    extensions: dict[str, Any]
    buffer: Buffer | None = None
    usage: str | None = None


@dataclass(eq=False)
class SparseIndices:
    buffer_view_index: int
    byte_offset: int
    component_type: int
    buffer_view: BufferView | None = None


@dataclass(eq=False)
class SparseValues:
    buffer_view_index: int
    byte_offset: int
    buffer_view: BufferView | None = None


@dataclass(eq=False)
class Sparse:
    count: int
    indices: SparseIndices
    values: SparseValues


@dataclass(eq=False)
class IndexCheck:
    """An index buffer as one primitive uses it: its vertex range and drawing mode."""

    pointer: str
    max_vertex: int  # highest valid vertex index, -1 when the primitive has no vertices
    triangles: int  # number of complete triangles, for the degenerate-triangle report
    restart: int  # the primitive-restart value of the index type
    is_triangles: bool


@dataclass(eq=False)
class AccessorChecks:
    """Data checks registered while linking: what the accessor's use says its data must be."""

    normals: list[str] = field(default_factory=list)  # JSON pointers of the using attribute
    tangents: list[str] = field(default_factory=list)
    clamped: list[str] = field(default_factory=list)
    indices: list[IndexCheck] = field(default_factory=list)
    animation_inputs: list[str] = field(default_factory=list)
    quaternions: list[tuple[str, bool]] = field(default_factory=list)  # (pointer, cubic spline)
    ibms: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Accessor(Usable):
    buffer_view_index: int
    byte_offset: int
    component_type: int
    count: int
    type: str | None  # kept even when not a known type (then it has 0 components)
    normalized: bool
    min: list[float] | list[int] | None
    max: list[float] | list[int] | None
    sparse: Sparse | None
    extensions: dict[str, Any]
    buffer_view: BufferView | None = None
    usage: str | None = None
    cubic: bool | None = None  # sampled with CUBICSPLINE interpolation
    checks: AccessorChecks = field(default_factory=AccessorChecks)

    @property
    def components(self) -> int:
        return TYPE_SIZES.get(self.type or "", 0)

    @property
    def component_size(self) -> int:
        return COMPONENT_SIZES.get(self.component_type, -1)

    @property
    def element_length(self) -> int:
        """Bytes of one element, matrix column padding excluded at the end."""
        c, t = self.component_type, self.type
        if c in (5120, 5121):
            return {"MAT2": 6, "MAT3": 11}.get(t or "", self.components)
        if c in (5122, 5123):
            return 22 if t == "MAT3" else 2 * self.components
        return 4 * self.components

    @property
    def default_stride(self) -> int:
        c, t = self.component_type, self.type
        if c in (5120, 5121):
            return {"MAT2": 8, "MAT3": 12}.get(t or "", self.components)
        if c in (5122, 5123):
            return 24 if t == "MAT3" else 2 * self.components
        return 4 * self.components

    @property
    def byte_stride(self) -> int:
        view = self.buffer_view
        return (
            view.byte_stride if view is not None and view.byte_stride != -1 else self.default_stride
        )

    @property
    def byte_length(self) -> int:
        return self.byte_stride * (self.count - 1) + self.element_length

    @property
    def format(self) -> tuple[str | None, int, bool]:
        return (self.type, self.component_type, self.normalized)


@dataclass(eq=False)
class Material(Usable):
    texture_infos: list[tuple[str, TextureInfo]]  # (JSON path from the material, info)
    normal_texture: TextureInfo | None
    extensions: dict[str, Any]
    emissive_factor: list[float] | None = None
    double_sided: bool = False
    needs_tangent: bool = False
    tex_coords: dict[str, int] = field(default_factory=dict)  # pointer -> texCoord


@dataclass(eq=False)
class Primitive:
    attributes: dict[str, int] | None
    indices_index: int
    material_index: int
    mode: int
    targets: list[dict[str, int]] | None
    has_position: bool
    has_normal: bool
    has_tangent: bool
    joints_count: int
    texcoord_count: int
    extensions: dict[str, Any]
    linked_attributes: dict[str, Accessor] = field(default_factory=dict)
    linked_targets: list[dict[str, Accessor]] | None = None
    indices: Accessor | None = None
    material: Material | None = None
    vertex_count: int = -1
    count: int = -1
    unused_texcoords: set[int] = field(default_factory=set)


@dataclass(eq=False)
class Mesh(Usable):
    primitives: list[Primitive | None] | None
    weights: list[float] | None
    extensions: dict[str, Any]
    weights_used: bool = False


@dataclass(eq=False)
class Node(Usable):
    camera_index: int
    children_indices: list[int] | None
    skin_index: int
    mesh_index: int
    matrix: list[float] | None
    translation: list[float] | None
    rotation: list[float] | None
    scale: list[float] | None
    weights: list[float] | None
    extensions: dict[str, Any]
    extras: Any
    children: list[Node | None] | None = None
    parent: Node | None = None
    mesh: Mesh | None = None
    skin: Any = None
    camera: Any = None
    is_joint: bool = False
    scenes: list[Any] = field(default_factory=list)

    @property
    def has_transform(self) -> bool:
        return not (
            (self.matrix is None or is_identity(self.matrix))
            and (self.translation is None or self.translation == [0.0, 0.0, 0.0])
            and (self.rotation is None or self.rotation == [0.0, 0.0, 0.0, 1.0])
            and (self.scale is None or self.scale == [1.0, 1.0, 1.0])
        )


@dataclass(eq=False)
class Skin(Usable):
    ibm_index: int
    skeleton_index: int
    joints_indices: list[int] | None
    extensions: dict[str, Any]
    joints: list[Node | None] | None = None
    common_roots: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Scene(Usable):
    nodes_indices: list[int] | None
    extensions: dict[str, Any]


@dataclass(eq=False)
class Image(Usable):
    buffer_view_index: int
    mime_type: str | None
    uri: str | None
    data: bytes | memoryview | None
    extensions: dict[str, Any]
    buffer_view: BufferView | None = None
    info: Any = None  # images.ImageInfo once loaded


@dataclass(eq=False)
class Texture(Usable):
    sampler_index: int
    source_index: int
    extensions: dict[str, Any]
    source: Image | None = None


@dataclass(eq=False)
class Camera(Usable):
    extensions: dict[str, Any]


@dataclass(eq=False)
class Sampler(Usable):
    extensions: dict[str, Any]


@dataclass(eq=False)
class AnimationSampler(Usable):
    input_index: int
    interpolation: str | None
    output_index: int
    input: Accessor | None = None
    output: Accessor | None = None


@dataclass(eq=False)
class AnimationChannel:
    sampler_index: int
    target: tuple[int, str | None] | None  # (node index, path)
    target_extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Animation(Usable):
    channels: list[AnimationChannel] | None
    samplers: list[AnimationSampler] | None
    extensions: dict[str, Any]
