"""The glTF rule book: every code the glTF validator can report.

Codes are the Khronos glTF-Validator's own codes with a `GLTF_` prefix, at the validator's
default severity (its Information and Hint both become INFO), so a report reads the same as
the official one and the verdict (any ERROR) matches it. `GLTF_URI_OUTSIDE_DELIVERY` is the
one code of our own: a delivery must be self-contained.
"""

from __future__ import annotations

from shazam_assets.ingest.delivery.report import Rule, RuleBook

rules = RuleBook("gltf")

PREFIX = "GLTF_"


def _error(code: str, summary: str, hint: str) -> Rule:
    return rules.error(PREFIX + code, summary, hint=hint)


def _warning(code: str, summary: str, hint: str) -> Rule:
    return rules.warning(PREFIX + code, summary, hint=hint)


def _info(code: str, summary: str, hint: str) -> Rule:
    return rules.info(PREFIX + code, summary, hint=hint)


_REEXPORT = "Re-export the model from the DCC tool with a current glTF exporter."
_SCHEMA = "Fix the exporter settings or the .gltf JSON so it follows the glTF 2.0 schema."
_INDEX = "Re-export: an index points at an object that does not exist."

# Our own rule: resources must travel inside the delivery.
URI_OUTSIDE_DELIVERY = _error(
    "URI_OUTSIDE_DELIVERY",
    "A buffer or image URI points outside the delivery",
    "Keep textures and .bin files inside the delivery and reference them with relative paths "
    "(no absolute paths, drive letters, http:/file: URLs or '..').",
)

# Reading the file.
IO_ERROR = _error(
    "IO_ERROR",
    "An external file could not be read",
    "Ship every .bin and texture the .gltf references, with exactly the referenced file names.",
)

# GLB container.
GLB_INVALID_MAGIC = _error(
    "GLB_INVALID_MAGIC",
    "The file does not start with the GLB magic 'glTF'",
    "Export as binary glTF (.glb).",
)
GLB_INVALID_VERSION = _error(
    "GLB_INVALID_VERSION", "The GLB version is not 2", "Export glTF 2.0 (.glb)."
)
GLB_LENGTH_TOO_SMALL = _error(
    "GLB_LENGTH_TOO_SMALL",
    "The declared GLB length is too small",
    "The .glb is damaged; export it again.",
)
GLB_CHUNK_LENGTH_UNALIGNED = _error(
    "GLB_CHUNK_LENGTH_UNALIGNED",
    "A GLB chunk length is not a multiple of 4",
    "The .glb is damaged; export it again.",
)
GLB_CHUNK_TOO_BIG = _error(
    "GLB_CHUNK_TOO_BIG",
    "A GLB chunk does not fit the declared file length",
    "The .glb is damaged; export it again.",
)
GLB_UNEXPECTED_FIRST_CHUNK = _error(
    "GLB_UNEXPECTED_FIRST_CHUNK",
    "The first GLB chunk is not JSON",
    "The .glb is damaged; export it again.",
)
GLB_UNEXPECTED_BIN_CHUNK = _error(
    "GLB_UNEXPECTED_BIN_CHUNK",
    "The BIN chunk is not the second chunk",
    "The .glb is damaged; export it again.",
)
GLB_EMPTY_CHUNK = _error(
    "GLB_EMPTY_CHUNK", "The JSON chunk is empty", "The .glb is damaged; export it again."
)
GLB_DUPLICATE_CHUNK = _error(
    "GLB_DUPLICATE_CHUNK",
    "A JSON or BIN chunk appears twice",
    "The .glb is damaged; export it again.",
)
GLB_UNEXPECTED_END_OF_HEADER = _error(
    "GLB_UNEXPECTED_END_OF_HEADER",
    "The file ends inside the GLB header",
    "The .glb is truncated; upload it again.",
)
GLB_UNEXPECTED_END_OF_CHUNK_HEADER = _error(
    "GLB_UNEXPECTED_END_OF_CHUNK_HEADER",
    "The file ends inside a GLB chunk header",
    "The .glb is truncated; upload it again.",
)
GLB_UNEXPECTED_END_OF_CHUNK_DATA = _error(
    "GLB_UNEXPECTED_END_OF_CHUNK_DATA",
    "The file ends inside a GLB chunk",
    "The .glb is truncated; upload it again.",
)
GLB_LENGTH_MISMATCH = _error(
    "GLB_LENGTH_MISMATCH",
    "The declared GLB length does not match the file size",
    "The .glb is truncated or padded; export it again.",
)
GLB_UNKNOWN_CHUNK_TYPE = _warning(
    "GLB_UNKNOWN_CHUNK_TYPE", "The GLB contains a chunk of unknown type", "Remove the extra chunk."
)
GLB_EXTRA_DATA = _warning(
    "GLB_EXTRA_DATA", "Data follows the end of the GLB stream", "Remove the trailing bytes."
)
GLB_EMPTY_BIN_CHUNK = _info(
    "GLB_EMPTY_BIN_CHUNK", "An empty BIN chunk should be omitted", "Export again."
)

# JSON schema.
INVALID_JSON = _error(
    "INVALID_JSON", "The glTF JSON cannot be parsed", "Export again; the JSON is corrupt."
)
TYPE_MISMATCH = _error("TYPE_MISMATCH", "A property has the wrong JSON type", _SCHEMA)
ARRAY_TYPE_MISMATCH = _error(
    "ARRAY_TYPE_MISMATCH", "An array element has the wrong JSON type", _SCHEMA
)
ARRAY_LENGTH_NOT_IN_LIST = _error(
    "ARRAY_LENGTH_NOT_IN_LIST", "An array has an invalid length", _SCHEMA
)
DUPLICATE_ELEMENTS = _error("DUPLICATE_ELEMENTS", "An array contains duplicate elements", _SCHEMA)
EMPTY_ENTITY = _error("EMPTY_ENTITY", "An array or object must not be empty", _SCHEMA)
INVALID_INDEX = _error("INVALID_INDEX", "An index must be a non-negative integer", _SCHEMA)
INVALID_URI = _error(
    "INVALID_URI", "A URI cannot be parsed", "Use plain relative file names for resources."
)
ONE_OF_MISMATCH = _error(
    "ONE_OF_MISMATCH", "Exactly one of several properties must be defined", _SCHEMA
)
PATTERN_MISMATCH = _error(
    "PATTERN_MISMATCH", "A string does not match its required pattern", _SCHEMA
)
UNDEFINED_PROPERTY = _error("UNDEFINED_PROPERTY", "A required property is missing", _SCHEMA)
UNEXPECTED_PROPERTY = _warning("UNEXPECTED_PROPERTY", "A property is not part of glTF 2.0", _SCHEMA)
UNSATISFIED_DEPENDENCY = _error(
    "UNSATISFIED_DEPENDENCY", "A property requires another property that is missing", _SCHEMA
)
VALUE_MULTIPLE_OF = _error(
    "VALUE_MULTIPLE_OF", "A value is not a multiple of what is required", _SCHEMA
)
VALUE_NOT_IN_LIST = _warning(
    "VALUE_NOT_IN_LIST", "A value is not one of the allowed values", _SCHEMA
)
VALUE_NOT_IN_RANGE = _error("VALUE_NOT_IN_RANGE", "A value is out of range", _SCHEMA)
NON_OBJECT_EXTRAS = _info(
    "NON_OBJECT_EXTRAS", "extras should be a JSON object", "Store custom data as an object."
)

# Asset and extensions.
UNKNOWN_ASSET_MAJOR_VERSION = _error(
    "UNKNOWN_ASSET_MAJOR_VERSION", "The asset is not glTF 2.x", "Export glTF 2.0."
)
UNKNOWN_ASSET_MINOR_VERSION = _warning(
    "UNKNOWN_ASSET_MINOR_VERSION",
    "The asset uses an unknown glTF minor version",
    "Export glTF 2.0.",
)
ASSET_MIN_VERSION_GREATER_THAN_VERSION = _error(
    "ASSET_MIN_VERSION_GREATER_THAN_VERSION",
    "asset.minVersion is greater than asset.version",
    _REEXPORT,
)
INVALID_EXTENSION_NAME_FORMAT = _warning(
    "INVALID_EXTENSION_NAME_FORMAT",
    "An extension name has an invalid format",
    "Use PREFIX_name extension names.",
)
UNSUPPORTED_EXTENSION = _info(
    "UNSUPPORTED_EXTENSION", "An extension cannot be validated", "Prefer ratified KHR_ extensions."
)
NON_REQUIRED_EXTENSION = _error(
    "NON_REQUIRED_EXTENSION",
    "An extension that changes how data is read is not listed in extensionsRequired",
    "Add the extension to extensionsRequired, or export without it.",
)
UNUSED_EXTENSION_REQUIRED = _error(
    "UNUSED_EXTENSION_REQUIRED",
    "An extension is required but not listed in extensionsUsed",
    "List every required extension in extensionsUsed too.",
)
UNDECLARED_EXTENSION = _error(
    "UNDECLARED_EXTENSION",
    "An extension is used but not declared in extensionsUsed",
    "Declare every extension the file uses in extensionsUsed, or remove it.",
)
MULTIPLE_EXTENSIONS = _warning(
    "MULTIPLE_EXTENSIONS",
    "An extension may be incompatible with other extensions on the object",
    _REEXPORT,
)
UNEXPECTED_EXTENSION_OBJECT = _error(
    "UNEXPECTED_EXTENSION_OBJECT",
    "An extension appears on an object it does not apply to",
    _REEXPORT,
)

# References and usage.
UNRESOLVED_REFERENCE = _error(
    "UNRESOLVED_REFERENCE", "An index refers to an object that does not exist", _INDEX
)
UNUSED_OBJECT = _info(
    "UNUSED_OBJECT", "An object is not used", "Remove unused objects to keep the file small."
)
ACCESSOR_USAGE_OVERRIDE = _error(
    "ACCESSOR_USAGE_OVERRIDE", "One accessor is used for incompatible purposes", _REEXPORT
)
BUFFER_VIEW_TARGET_OVERRIDE = _error(
    "BUFFER_VIEW_TARGET_OVERRIDE", "One buffer view is used for incompatible purposes", _REEXPORT
)
BUFFER_VIEW_TARGET_MISSING = _info(
    "BUFFER_VIEW_TARGET_MISSING",
    "bufferView.target should be set for vertex or index data",
    _REEXPORT,
)

# Buffers and buffer views.
BUFFER_DATA_URI_MIME_TYPE_INVALID = _error(
    "BUFFER_DATA_URI_MIME_TYPE_INVALID",
    "A buffer data: URI has the wrong media type",
    "Embed buffers as application/octet-stream, or better, ship a .glb.",
)
BUFFER_MISSING_GLB_DATA = _error(
    "BUFFER_MISSING_GLB_DATA",
    "The GLB buffer has no BIN chunk",
    "The .glb is damaged; export it again.",
)
BUFFER_BYTE_LENGTH_MISMATCH = _error(
    "BUFFER_BYTE_LENGTH_MISMATCH",
    "A buffer holds fewer bytes than its byteLength declares",
    "Ship the .bin that belongs to this .gltf (the file is truncated or from another export).",
)
BUFFER_GLB_CHUNK_TOO_BIG = _warning(
    "BUFFER_GLB_CHUNK_TOO_BIG", "The GLB BIN chunk has extra padding", "Export again."
)
DATA_URI_GLB = _warning(
    "DATA_URI_GLB", "A data: URI is used inside a GLB", "Store the data in the BIN chunk."
)
URI_GLB = _info(
    "URI_GLB", "An external URI is used inside a GLB", "Pack every resource into the .glb."
)
NON_RELATIVE_URI = _warning(
    "NON_RELATIVE_URI", "A URI is not relative", "Reference resources with relative file names."
)
BUFFER_VIEW_TOO_LONG = _error(
    "BUFFER_VIEW_TOO_LONG",
    "A buffer view does not fit its buffer",
    "The .bin does not match the .gltf; export again.",
)
BUFFER_VIEW_TOO_BIG_BYTE_STRIDE = _error(
    "BUFFER_VIEW_TOO_BIG_BYTE_STRIDE",
    "A buffer view's byteStride is greater than its byteLength",
    _REEXPORT,
)
BUFFER_VIEW_INVALID_BYTE_STRIDE = _error(
    "BUFFER_VIEW_INVALID_BYTE_STRIDE", "Only vertex buffer views can have a byteStride", _REEXPORT
)

# Accessors.
ACCESSOR_NORMALIZED_INVALID = _error(
    "ACCESSOR_NORMALIZED_INVALID",
    "Only (unsigned) byte and short accessors can be normalized",
    _REEXPORT,
)
ACCESSOR_MATRIX_ALIGNMENT = _error(
    "ACCESSOR_MATRIX_ALIGNMENT", "Matrix accessors must be aligned to 4-byte boundaries", _REEXPORT
)
ACCESSOR_OFFSET_ALIGNMENT = _error(
    "ACCESSOR_OFFSET_ALIGNMENT",
    "An accessor's byteOffset is not a multiple of its component size",
    _REEXPORT,
)
ACCESSOR_TOTAL_OFFSET_ALIGNMENT = _error(
    "ACCESSOR_TOTAL_OFFSET_ALIGNMENT",
    "An accessor's total byte offset is not a multiple of its component size",
    _REEXPORT,
)
ACCESSOR_TOO_LONG = _error(
    "ACCESSOR_TOO_LONG",
    "An accessor does not fit its buffer view",
    "The .bin does not match the .gltf; export again.",
)
ACCESSOR_SMALL_BYTESTRIDE = _error(
    "ACCESSOR_SMALL_BYTESTRIDE",
    "A buffer view's byteStride is smaller than the accessor element",
    _REEXPORT,
)
ACCESSOR_SPARSE_COUNT_OUT_OF_RANGE = _error(
    "ACCESSOR_SPARSE_COUNT_OUT_OF_RANGE",
    "A sparse accessor overrides more elements than it has",
    _REEXPORT,
)
INVALID_GL_VALUE = _error(
    "INVALID_GL_VALUE", "accessor.min or max is out of range for the component type", _REEXPORT
)

# Accessor data.
ACCESSOR_MIN_MISMATCH = _error(
    "ACCESSOR_MIN_MISMATCH",
    "accessor.min does not match the data",
    "Re-export so the exporter recomputes accessor bounds (min/max must equal the data).",
)
ACCESSOR_MAX_MISMATCH = _error(
    "ACCESSOR_MAX_MISMATCH",
    "accessor.max does not match the data",
    "Re-export so the exporter recomputes accessor bounds (min/max must equal the data).",
)
ACCESSOR_ELEMENT_OUT_OF_MIN_BOUND = _error(
    "ACCESSOR_ELEMENT_OUT_OF_MIN_BOUND",
    "Accessor data is below accessor.min",
    "Re-export with correct bounds.",
)
ACCESSOR_ELEMENT_OUT_OF_MAX_BOUND = _error(
    "ACCESSOR_ELEMENT_OUT_OF_MAX_BOUND",
    "Accessor data is above accessor.max",
    "Re-export with correct bounds.",
)
ACCESSOR_INVALID_FLOAT = _error(
    "ACCESSOR_INVALID_FLOAT",
    "Accessor data contains NaN or infinity",
    "Clean the mesh (remove degenerate geometry, recompute normals) and export again.",
)
ACCESSOR_INDEX_OOB = _error(
    "ACCESSOR_INDEX_OOB",
    "A vertex index points past the last vertex",
    "The index buffer is corrupt; clean the mesh and export again.",
)
ACCESSOR_INDEX_PRIMITIVE_RESTART = _error(
    "ACCESSOR_INDEX_PRIMITIVE_RESTART",
    "An index buffer contains the primitive-restart value",
    "Use a larger index type or split the mesh, then export again.",
)
ACCESSOR_INDEX_TRIANGLE_DEGENERATE = _info(
    "ACCESSOR_INDEX_TRIANGLE_DEGENERATE",
    "The index buffer contains degenerate triangles",
    "Clean up the mesh.",
)
ACCESSOR_VECTOR3_NON_UNIT = _error(
    "ACCESSOR_VECTOR3_NON_UNIT",
    "A normal or tangent is not of unit length",
    "Recompute normals and tangents, then export again.",
)
ACCESSOR_INVALID_SIGN = _error(
    "ACCESSOR_INVALID_SIGN",
    "A tangent's w component is not 1 or -1",
    "Recompute tangents and export again.",
)
ACCESSOR_NON_CLAMPED = _error(
    "ACCESSOR_NON_CLAMPED",
    "A vertex color is outside 0..1",
    "Clamp vertex colors to 0..1 and export again.",
)
ACCESSOR_SPARSE_INDICES_NON_INCREASING = _error(
    "ACCESSOR_SPARSE_INDICES_NON_INCREASING",
    "Sparse accessor indices are not strictly increasing",
    _REEXPORT,
)
ACCESSOR_SPARSE_INDEX_OOB = _error(
    "ACCESSOR_SPARSE_INDEX_OOB", "A sparse accessor index is out of range", _REEXPORT
)
ACCESSOR_ANIMATION_INPUT_NEGATIVE = _error(
    "ACCESSOR_ANIMATION_INPUT_NEGATIVE",
    "An animation keyframe time is negative",
    "Key animations from time 0.",
)
ACCESSOR_ANIMATION_INPUT_NON_INCREASING = _error(
    "ACCESSOR_ANIMATION_INPUT_NON_INCREASING",
    "Animation keyframe times are not strictly increasing",
    "Remove duplicate keyframes and export again.",
)
ACCESSOR_ANIMATION_SAMPLER_OUTPUT_NON_NORMALIZED_QUATERNION = _error(
    "ACCESSOR_ANIMATION_SAMPLER_OUTPUT_NON_NORMALIZED_QUATERNION",
    "An animated rotation is not a unit quaternion",
    "Re-bake the rotation animation and export again.",
)
ACCESSOR_INVALID_IBM = _error(
    "ACCESSOR_INVALID_IBM",
    "An inverse bind matrix is not an affine transform",
    "Re-bind the skin and export again.",
)
ACCESSOR_JOINTS_INDEX_OOB = _error(
    "ACCESSOR_JOINTS_INDEX_OOB",
    "A vertex is bound to a joint the skin does not have",
    "Re-bind the skin.",
)
ACCESSOR_JOINTS_INDEX_DUPLICATE = _error(
    "ACCESSOR_JOINTS_INDEX_DUPLICATE", "A vertex uses the same joint twice", "Re-bind the skin."
)
ACCESSOR_JOINTS_USED_ZERO_WEIGHT = _warning(
    "ACCESSOR_JOINTS_USED_ZERO_WEIGHT", "A joint is used with zero weight", "Re-bind the skin."
)
ACCESSOR_WEIGHTS_NEGATIVE = _error(
    "ACCESSOR_WEIGHTS_NEGATIVE",
    "A skin weight is negative",
    "Normalize skin weights and export again.",
)
ACCESSOR_WEIGHTS_NON_NORMALIZED = _error(
    "ACCESSOR_WEIGHTS_NON_NORMALIZED",
    "Skin weights do not sum to 1",
    "Normalize skin weights and export again.",
)

# Meshes.
MESH_PRIMITIVE_INVALID_ATTRIBUTE = _error(
    "MESH_PRIMITIVE_INVALID_ATTRIBUTE",
    "A mesh attribute name is invalid",
    "Custom attributes must start with '_'.",
)
MESH_PRIMITIVE_INDEXED_SEMANTIC_CONTINUITY = _error(
    "MESH_PRIMITIVE_INDEXED_SEMANTIC_CONTINUITY",
    "Indexed attributes (TEXCOORD_n, COLOR_n...) must start at 0 without gaps",
    "Rename UV sets and color sets so they are numbered from 0 without gaps.",
)
MESH_PRIMITIVE_JOINTS_WEIGHTS_MISMATCH = _error(
    "MESH_PRIMITIVE_JOINTS_WEIGHTS_MISMATCH",
    "JOINTS_n and WEIGHTS_n sets do not pair up",
    "Re-bind the skin.",
)
MESH_PRIMITIVE_NO_POSITION = _warning(
    "MESH_PRIMITIVE_NO_POSITION", "A mesh primitive has no POSITION attribute", _REEXPORT
)
MESH_PRIMITIVE_TANGENT_WITHOUT_NORMAL = _warning(
    "MESH_PRIMITIVE_TANGENT_WITHOUT_NORMAL",
    "TANGENT without NORMAL",
    "Export normals together with tangents.",
)
MESH_PRIMITIVES_UNEQUAL_TARGETS_COUNT = _error(
    "MESH_PRIMITIVES_UNEQUAL_TARGETS_COUNT",
    "Primitives of one mesh have different morph target counts",
    _REEXPORT,
)
MESH_INVALID_WEIGHTS_COUNT = _error(
    "MESH_INVALID_WEIGHTS_COUNT",
    "mesh.weights does not match the number of morph targets",
    _REEXPORT,
)
MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS = _error(
    "MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS",
    "A POSITION accessor has no min/max",
    "Re-export so POSITION accessors carry min and max.",
)
MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT = _error(
    "MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT",
    "A vertex attribute has the wrong type or component type",
    "POSITION and NORMAL must be VEC3 float, TANGENT VEC4 float, TEXCOORD VEC2; export again.",
)
MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_UNSIGNED_INT = _error(
    "MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_UNSIGNED_INT",
    "Vertex attributes cannot be UNSIGNED_INT",
    _REEXPORT,
)
MESH_PRIMITIVE_ACCESSOR_UNALIGNED = _error(
    "MESH_PRIMITIVE_ACCESSOR_UNALIGNED",
    "Vertex attribute data is not aligned to 4 bytes",
    _REEXPORT,
)
MESH_PRIMITIVE_ACCESSOR_WITHOUT_BYTESTRIDE = _error(
    "MESH_PRIMITIVE_ACCESSOR_WITHOUT_BYTESTRIDE",
    "Several vertex accessors share a buffer view without byteStride",
    _REEXPORT,
)
MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT = _error(
    "MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT",
    "Attributes of one primitive have different vertex counts",
    _REEXPORT,
)
MESH_PRIMITIVE_INDICES_ACCESSOR_WITH_BYTESTRIDE = _error(
    "MESH_PRIMITIVE_INDICES_ACCESSOR_WITH_BYTESTRIDE",
    "An index buffer view has a byteStride",
    _REEXPORT,
)
MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT = _error(
    "MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT",
    "Indices must be unsigned byte, short or int scalars",
    _REEXPORT,
)
MESH_PRIMITIVE_INCOMPATIBLE_MODE = _warning(
    "MESH_PRIMITIVE_INCOMPATIBLE_MODE",
    "The vertex count does not fit the drawing mode",
    "Triangulate the mesh.",
)
MESH_PRIMITIVE_TOO_FEW_TEXCOORDS = _error(
    "MESH_PRIMITIVE_TOO_FEW_TEXCOORDS",
    "A material uses a UV set the mesh does not have",
    "Unwrap the mesh (add the UV set) or point the texture at an existing UV set.",
)
MESH_PRIMITIVE_GENERATED_TANGENT_SPACE = _warning(
    "MESH_PRIMITIVE_GENERATED_TANGENT_SPACE",
    "The material needs tangents the mesh does not provide",
    "Export normals and tangents with the mesh.",
)
MESH_PRIMITIVE_NO_TANGENT_SPACE = _error(
    "MESH_PRIMITIVE_NO_TANGENT_SPACE",
    "The material needs a tangent space the mesh cannot provide",
    "Export normals and tangents with the mesh.",
)
MESH_PRIMITIVE_MORPH_TARGET_NO_BASE_ACCESSOR = _error(
    "MESH_PRIMITIVE_MORPH_TARGET_NO_BASE_ACCESSOR",
    "A morph target changes an attribute the mesh lacks",
    _REEXPORT,
)
MESH_PRIMITIVE_MORPH_TARGET_INVALID_ATTRIBUTE_COUNT = _error(
    "MESH_PRIMITIVE_MORPH_TARGET_INVALID_ATTRIBUTE_COUNT",
    "A morph target has a different vertex count than the mesh",
    _REEXPORT,
)
UNUSED_MESH_TANGENT = _info(
    "UNUSED_MESH_TANGENT", "Tangents are unused without a normal map", "Drop tangents."
)
UNUSED_MESH_WEIGHTS = _info(
    "UNUSED_MESH_WEIGHTS", "Static morph weights are always overridden", "Remove them."
)

# Nodes, scenes and skins.
NODE_LOOP = _error(
    "NODE_LOOP",
    "A node is its own ancestor",
    "Fix the hierarchy in the DCC tool so no node is its own parent.",
)
NODE_PARENT_OVERRIDE = _error(
    "NODE_PARENT_OVERRIDE",
    "A node has more than one parent",
    "Each node may appear in only one children list.",
)
NODE_MATRIX_TRS = _error(
    "NODE_MATRIX_TRS",
    "A node has both a matrix and translation/rotation/scale",
    "Use either matrix or TRS.",
)
NODE_MATRIX_NON_TRS = _error(
    "NODE_MATRIX_NON_TRS",
    "A node matrix cannot be decomposed to TRS",
    "Apply shear/projection and export TRS.",
)
NODE_MATRIX_DEFAULT = _info(
    "NODE_MATRIX_DEFAULT", "A node stores the identity matrix", "Omit default transforms."
)
ROTATION_NON_UNIT = _error(
    "ROTATION_NON_UNIT",
    "A node rotation is not a unit quaternion",
    "Re-export so rotations are normalized.",
)
NODE_EMPTY = _info("NODE_EMPTY", "A node has no content", "Remove empty nodes.")
NODE_WEIGHTS_INVALID = _error(
    "NODE_WEIGHTS_INVALID", "node.weights does not match the number of morph targets", _REEXPORT
)
NODE_SKIN_WITH_NON_SKINNED_MESH = _error(
    "NODE_SKIN_WITH_NON_SKINNED_MESH", "A node has a skin but its mesh has no joints", _REEXPORT
)
NODE_SKINNED_MESH_WITHOUT_SKIN = _warning(
    "NODE_SKINNED_MESH_WITHOUT_SKIN", "A skinned mesh is used without a skin", _REEXPORT
)
NODE_SKINNED_MESH_NON_ROOT = _warning(
    "NODE_SKINNED_MESH_NON_ROOT", "A skinned mesh node is not a root node", _REEXPORT
)
NODE_SKINNED_MESH_LOCAL_TRANSFORMS = _warning(
    "NODE_SKINNED_MESH_LOCAL_TRANSFORMS", "Local transforms do not affect a skinned mesh", _REEXPORT
)
NODE_SKIN_NO_SCENE = _error(
    "NODE_SKIN_NO_SCENE", "A skinned mesh is in a scene without its joints", _REEXPORT
)
SCENE_NON_ROOT_NODE = _error(
    "SCENE_NON_ROOT_NODE",
    "A scene lists a node that has a parent",
    "List only root nodes in scene.nodes.",
)
SKIN_NO_COMMON_ROOT = _error(
    "SKIN_NO_COMMON_ROOT", "Skin joints do not share a common root", "Re-bind the skin."
)
SKIN_SKELETON_INVALID = _error(
    "SKIN_SKELETON_INVALID", "skin.skeleton is not a common root of the joints", "Re-bind the skin."
)
SKIN_IBM_INVALID_FORMAT = _error(
    "SKIN_IBM_INVALID_FORMAT", "Inverse bind matrices must be MAT4 float", _REEXPORT
)
SKIN_IBM_ACCESSOR_WITH_BYTESTRIDE = _error(
    "SKIN_IBM_ACCESSOR_WITH_BYTESTRIDE",
    "The inverse bind matrices buffer view has a byteStride",
    _REEXPORT,
)
INVALID_IBM_ACCESSOR_COUNT = _error(
    "INVALID_IBM_ACCESSOR_COUNT",
    "There are fewer inverse bind matrices than joints",
    "Re-bind the skin.",
)

# Cameras and materials.
CAMERA_ZFAR_LEQUAL_ZNEAR = _error(
    "CAMERA_ZFAR_LEQUAL_ZNEAR",
    "A camera's zfar is not greater than znear",
    "Fix the camera clipping range.",
)
CAMERA_XMAG_YMAG_ZERO = _error(
    "CAMERA_XMAG_YMAG_ZERO", "An orthographic camera has zero xmag or ymag", "Fix the camera."
)
CAMERA_XMAG_YMAG_NEGATIVE = _warning(
    "CAMERA_XMAG_YMAG_NEGATIVE",
    "An orthographic camera has negative xmag or ymag",
    "Fix the camera.",
)
CAMERA_YFOV_GEQUAL_PI = _warning(
    "CAMERA_YFOV_GEQUAL_PI", "A camera's yfov is at least pi", "Fix the camera."
)
MATERIAL_ALPHA_CUTOFF_INVALID_MODE = _warning(
    "MATERIAL_ALPHA_CUTOFF_INVALID_MODE",
    "alphaCutoff only applies to MASK materials",
    "Remove alphaCutoff.",
)

# Animations.
ANIMATION_CHANNEL_TARGET_NODE_MATRIX = _error(
    "ANIMATION_CHANNEL_TARGET_NODE_MATRIX",
    "An animation targets TRS of a node that uses a matrix",
    _REEXPORT,
)
ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS = _error(
    "ANIMATION_CHANNEL_TARGET_NODE_WEIGHTS_NO_MORPHS",
    "An animation targets weights of a mesh without morphs",
    _REEXPORT,
)
ANIMATION_CHANNEL_TARGET_NODE_SKIN = _warning(
    "ANIMATION_CHANNEL_TARGET_NODE_SKIN", "Animated TRS will not affect a skinned mesh", _REEXPORT
)
ANIMATION_DUPLICATE_TARGETS = _error(
    "ANIMATION_DUPLICATE_TARGETS", "Two channels of an animation have the same target", _REEXPORT
)
ANIMATION_SAMPLER_ACCESSOR_WITH_BYTESTRIDE = _error(
    "ANIMATION_SAMPLER_ACCESSOR_WITH_BYTESTRIDE",
    "Animation data buffer views must not have a byteStride",
    _REEXPORT,
)
ANIMATION_SAMPLER_INPUT_ACCESSOR_INVALID_FORMAT = _error(
    "ANIMATION_SAMPLER_INPUT_ACCESSOR_INVALID_FORMAT",
    "Animation times must be float scalars",
    _REEXPORT,
)
ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS = _error(
    "ANIMATION_SAMPLER_INPUT_ACCESSOR_WITHOUT_BOUNDS",
    "Animation times need accessor min and max",
    _REEXPORT,
)
ANIMATION_SAMPLER_INPUT_ACCESSOR_TOO_FEW_ELEMENTS = _error(
    "ANIMATION_SAMPLER_INPUT_ACCESSOR_TOO_FEW_ELEMENTS",
    "A cubic-spline animation needs at least 2 keys",
    _REEXPORT,
)
ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_FORMAT = _error(
    "ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_FORMAT",
    "Animation values have the wrong type",
    _REEXPORT,
)
ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT = _error(
    "ANIMATION_SAMPLER_OUTPUT_ACCESSOR_INVALID_COUNT",
    "Animation values do not match the keyframe count",
    _REEXPORT,
)

# Images and textures.
IMAGE_DATA_INVALID = _error(
    "IMAGE_DATA_INVALID",
    "A texture file is not a valid image",
    "Re-save the texture as a standard PNG or JPEG.",
)
IMAGE_MIME_TYPE_INVALID = _error(
    "IMAGE_MIME_TYPE_INVALID",
    "A texture's content does not match its declared format",
    "Make the file extension/mimeType match the real format (PNG vs JPEG), or re-save the texture.",
)
IMAGE_UNEXPECTED_EOS = _error(
    "IMAGE_UNEXPECTED_EOS",
    "A texture file is truncated",
    "Re-save the texture and upload it again.",
)
IMAGE_UNRECOGNIZED_FORMAT = _warning(
    "IMAGE_UNRECOGNIZED_FORMAT",
    "A texture is not PNG, JPEG or WebP",
    "Re-save textures as PNG or JPEG.",
)
IMAGE_NON_ENABLED_MIME_TYPE = _error(
    "IMAGE_NON_ENABLED_MIME_TYPE",
    "A texture format needs an extension the file does not use",
    "Re-save textures as PNG or JPEG (WebP needs EXT_texture_webp).",
)
IMAGE_NPOT_DIMENSIONS = _info(
    "IMAGE_NPOT_DIMENSIONS",
    "A texture has non-power-of-two dimensions",
    "Use power-of-two texture sizes.",
)
IMAGE_FEATURES_UNSUPPORTED = _warning(
    "IMAGE_FEATURES_UNSUPPORTED",
    "A texture uses unsupported image features",
    "Re-save as plain sRGB PNG/JPEG.",
)
IMAGE_BUFFER_VIEW_WITH_BYTESTRIDE = _error(
    "IMAGE_BUFFER_VIEW_WITH_BYTESTRIDE", "An image buffer view has a byteStride", _REEXPORT
)
TEXTURE_INVALID_IMAGE_MIME_TYPE = _error(
    "TEXTURE_INVALID_IMAGE_MIME_TYPE",
    "A texture's source image is not PNG or JPEG",
    "Re-save textures as PNG or JPEG.",
)

# Extensions the reference validator knows.
EXTRA_PROPERTY = _info("EXTRA_PROPERTY", "A property is defined but will not be used", "Remove it.")
INCOMPLETE_EXTENSION_SUPPORT = _info(
    "INCOMPLETE_EXTENSION_SUPPORT",
    "Validation support for this extension is incomplete",
    "Check it by hand.",
)
KHR_LIGHTS_PUNCTUAL_LIGHT_SPOT_ANGLES = _error(
    "KHR_LIGHTS_PUNCTUAL_LIGHT_SPOT_ANGLES",
    "A spot light's outer cone angle is not greater than its inner cone angle",
    "Fix the spot light's cone angles in the DCC tool.",
)
KHR_MATERIALS_VARIANTS_NON_UNIQUE_VARIANT = _error(
    "KHR_MATERIALS_VARIANTS_NON_UNIQUE_VARIANT",
    "A material variant is used more than once by a primitive",
    _REEXPORT,
)
KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_NODE = _error(
    "KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_NODE",
    "An animation pointer channel must not name a target node",
    _REEXPORT,
)
KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_PATH = _error(
    "KHR_ANIMATION_POINTER_ANIMATION_CHANNEL_TARGET_PATH",
    "An animation pointer channel must use the 'pointer' path",
    _REEXPORT,
)
KHR_MATERIALS_ANISOTROPY_ANISOTROPY_TEXTURE_TEXCOORD = _warning(
    "KHR_MATERIALS_ANISOTROPY_ANISOTROPY_TEXTURE_TEXCOORD",
    "Normal and anisotropy textures should use the same texture coordinates",
    "Use one UV set for both textures.",
)
KHR_MATERIALS_CLEARCOAT_CLEARCOAT_NORMAL_TEXTURE_TEXCOORD = _warning(
    "KHR_MATERIALS_CLEARCOAT_CLEARCOAT_NORMAL_TEXTURE_TEXCOORD",
    "Normal and clearcoat normal textures should use the same texture coordinates",
    "Use one UV set for both textures.",
)
KHR_MATERIALS_DISPERSION_NO_VOLUME = _warning(
    "KHR_MATERIALS_DISPERSION_NO_VOLUME",
    "Dispersion needs the volume extension",
    "Add KHR_materials_volume.",
)
KHR_MATERIALS_EMISSIVE_STRENGTH_ZERO_FACTOR = _warning(
    "KHR_MATERIALS_EMISSIVE_STRENGTH_ZERO_FACTOR",
    "Emissive strength has no effect when the emissive factor is zero",
    "Set emissiveFactor or drop the extension.",
)
KHR_MATERIALS_IRIDESCENCE_THICKNESS_RANGE_WITHOUT_TEXTURE = _info(
    "KHR_MATERIALS_IRIDESCENCE_THICKNESS_RANGE_WITHOUT_TEXTURE",
    "Thickness minimum has no effect without a thickness texture",
    "Remove it.",
)
KHR_MATERIALS_IRIDESCENCE_THICKNESS_TEXTURE_UNUSED = _info(
    "KHR_MATERIALS_IRIDESCENCE_THICKNESS_TEXTURE_UNUSED",
    "Thickness texture has no effect when minimum equals maximum",
    "Remove it.",
)
KHR_MATERIALS_VOLUME_DOUBLE_SIDED = _warning(
    "KHR_MATERIALS_VOLUME_DOUBLE_SIDED",
    "Volume should not be used with double-sided materials",
    "Fix the material.",
)
KHR_MATERIALS_VOLUME_NO_TRANSMISSION = _warning(
    "KHR_MATERIALS_VOLUME_NO_TRANSMISSION",
    "Volume needs a transmission extension",
    "Add KHR_materials_transmission.",
)
