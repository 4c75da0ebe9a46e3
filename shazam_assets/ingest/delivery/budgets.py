"""Commerce budgets and geometry sanity on a structurally valid glTF model.

Runs after `gltf.validate_gltf` found no errors, so accessors and references can be trusted.
Every limit comes from a named `Profile`; nothing here hard-codes a channel's number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shazam_assets.ingest.delivery.gltf import DataMissing, GltfAsset
from shazam_assets.ingest.delivery.limits import LIMITS, SCENE_TOO_LARGE
from shazam_assets.ingest.delivery.profiles import MB, Profile
from shazam_assets.ingest.delivery.report import Issue, RuleBook
from shazam_assets.platform.errors import Severity

rules = RuleBook("budget")
TRIANGLES_OVER = rules.error(
    "BUDGET_TRIANGLES",
    "The model has more triangles than the profile allows",
    hint="Decimate the mesh or bake detail into the normal map.",
)
TEXTURE_TOO_LARGE = rules.error(
    "BUDGET_TEXTURE_SIZE",
    "A texture is larger than the profile allows",
    hint="Downscale textures to the profile's maximum (2048 px is typical).",
)
TEXTURE_NOT_POT = rules.error(
    "BUDGET_TEXTURE_NOT_POWER_OF_TWO",
    "A texture's width or height is not a power of two",
    hint="Resize textures to power-of-two sizes such as 1024 or 2048 px.",
)
FILE_TOO_LARGE = rules.error(
    "BUDGET_FILE_SIZE",
    "The model with its buffers and textures is larger than the profile allows",
    hint="Compress textures (JPEG for base colour/ORM), drop unused data, or decimate.",
)
NOT_METAL_ROUGH = rules.error(
    "BUDGET_MATERIAL_NOT_METAL_ROUGH",
    "A material does not use the metallic-roughness PBR model",
    hint="Use glTF's core pbrMetallicRoughness material; remove KHR_materials_pbrSpecularGlossiness.",
)
UVS_MISSING = rules.error(
    "BUDGET_UVS_MISSING",
    "A mesh primitive has no texture coordinates (TEXCOORD_0)",
    hint="Unwrap the model (UV stage) and export texture coordinates, also for untextured parts.",
)
NO_GEOMETRY = rules.error(
    "BUDGET_NO_GEOMETRY",
    "The default scene draws no triangles",
    hint="Export the product mesh into the scene; check that nodes reference the mesh.",
)
SCALE_MISMATCH = rules.error(
    "BUDGET_SCALE_MISMATCH",
    "The model's size does not match the product dimensions in the manifest",
    hint="Model in metres (1 unit = 1 m) at real-world size, +Y up, front facing +Z.",
)
DEGENERATE = rules.error(
    "BUDGET_DEGENERATE_TRIANGLES",
    "Too many zero-area (degenerate) triangles",
    hint="Merge by distance and remove degenerate faces in the cleanup stage.",
)

GEOMETRY_MISSING = rules.error(
    "BUDGET_GEOMETRY_MISSING",
    "The scene draws geometry whose data is not in the delivery",
    hint="Export the model with its geometry: a .glb, or a .gltf with every buffer's .bin "
    "referenced by its uri (a buffer without uri holds no data).",
)

_UNIT_GUESSES = {
    100.0: "centimetres",
    1000.0: "millimetres",
    1 / 0.0254: "inches",
    0.01: "metres x100",
}


@dataclass(frozen=True)
class Primitive:
    positions: np.ndarray  # (n, 3) float32, world space
    triangles: np.ndarray  # (m, 3) int64 vertex indices
    attributes: frozenset[str]
    material: dict[str, Any] | None


def _node_matrix(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
    t = np.asarray(node.get("translation", (0, 0, 0)), dtype=np.float64)
    x, y, z, w = node.get("rotation", (0, 0, 0, 1))
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    s = np.asarray(node.get("scale", (1, 1, 1)), dtype=np.float64)
    m = np.eye(4)
    m[:3, :3] = r * s
    m[:3, 3] = t
    return m


def _scene_nodes(
    doc: dict[str, Any], *, transforms: bool = True
) -> Iterator[tuple[dict[str, Any], np.ndarray | None]]:
    """Every node drawn by the default scene (or the first), with its world matrix (None
    when `transforms` is False: counting needs no matrices)."""
    scenes = doc.get("scenes") or []
    roots = scenes[doc.get("scene", 0)].get("nodes", []) if scenes else []
    nodes = doc.get("nodes", [])
    identity = np.eye(4) if transforms else None
    stack = [(i, identity) for i in roots]
    while stack:
        index, parent = stack.pop()
        node = nodes[index]
        world = parent @ _node_matrix(node) if parent is not None else None
        yield node, world
        stack.extend((child, world) for child in node.get("children", []))


def _triangles(indices: np.ndarray, mode: int) -> np.ndarray:
    if mode == 4:
        return indices[: len(indices) // 3 * 3].reshape(-1, 3)
    if mode == 5 and len(indices) >= 3:  # strip: flip every other winding
        tri = np.stack([indices[:-2], indices[1:-1], indices[2:]], axis=1)
        tri[1::2, [0, 1]] = tri[1::2, [1, 0]]
        return tri
    if mode == 6 and len(indices) >= 3:  # fan
        return np.stack([np.full(len(indices) - 2, indices[0]), indices[1:-1], indices[2:]], axis=1)
    return np.empty((0, 3), dtype=np.int64)


def scene_primitives(asset: GltfAsset) -> list[Primitive]:
    """Triangle primitives of the scene in world space (the model as a viewer shows it)."""
    doc = asset.document
    materials = doc.get("materials", [])
    out = []
    for node, world in _scene_nodes(doc):
        if "mesh" not in node:
            continue
        for prim in doc["meshes"][node["mesh"]].get("primitives", []):
            attrs = prim.get("attributes", {})
            if "POSITION" not in attrs:
                continue
            local = asset.read_accessor(attrs["POSITION"]).astype(np.float64)  # (n, 3)
            assert world is not None  # _scene_nodes gives matrices unless told not to
            positions = local @ world[:3, :3].T + world[:3, 3]
            if "indices" in prim:
                indices = asset.read_accessor(prim["indices"]).reshape(-1).astype(np.int64)
            else:
                indices = np.arange(len(local), dtype=np.int64)
            material = materials[prim["material"]] if "material" in prim else None
            out.append(
                Primitive(
                    positions=positions,
                    triangles=_triangles(indices, prim.get("mode", 4)),
                    attributes=frozenset(attrs),
                    material=material,
                )
            )
    return out


def world_bounds(primitives: list[Primitive]) -> np.ndarray | None:
    """(2, 3) min/max corners over all finite vertices, or None without geometry."""
    finite = [p.positions[np.isfinite(p.positions).all(axis=1)] for p in primitives]
    finite = [f for f in finite if len(f)]
    if not finite:
        return None
    stacked = np.concatenate(finite)
    return np.stack([stacked.min(axis=0), stacked.max(axis=0)])


def _is_pot(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def check_textures(asset: GltfAsset, profile: Profile) -> list[Issue]:
    issues = []
    for index, _ in enumerate(asset.document.get("images", [])):
        size = asset.image_size(index)
        if size is None:
            continue
        w, h = size
        pointer = f"/images/{index}"
        if max(w, h) > profile.max_texture_px:
            issues.append(
                TEXTURE_TOO_LARGE(
                    f"image {index} is {w}x{h}; profile {profile.name!r} allows {profile.max_texture_px} px",
                    pointer=pointer,
                    width=w,
                    height=h,
                )
            )
        elif max(w, h) > profile.warn_texture_px:
            issues.append(
                TEXTURE_TOO_LARGE(
                    f"image {index} is {w}x{h}; {profile.warn_texture_px} px is recommended",
                    pointer=pointer,
                    severity=Severity.WARNING,
                    width=w,
                    height=h,
                )
            )
        if not (_is_pot(w) and _is_pot(h)):
            severity = Severity.ERROR if profile.require_pot_textures else Severity.WARNING
            issues.append(
                TEXTURE_NOT_POT(
                    f"image {index} is {w}x{h}",
                    pointer=pointer,
                    severity=severity,
                    width=w,
                    height=h,
                )
            )
    return issues


def check_materials(primitives: list[Primitive]) -> list[Issue]:
    """Metal/rough PBR and UVs, reported once per material."""
    issues: list[Issue] = []
    spec_gloss: set[int] = set()
    no_uvs: set[int] = set()
    for prim in primitives:
        mat, key = prim.material or {}, id(prim.material)
        name = mat.get("name", "?")
        if key not in spec_gloss and "KHR_materials_pbrSpecularGlossiness" in mat.get(
            "extensions", {}
        ):
            spec_gloss.add(key)
            issues.append(NOT_METAL_ROUGH(f"material {name!r} uses specular-glossiness"))
        if "TEXCOORD_0" not in prim.attributes and key not in no_uvs:
            no_uvs.add(key)
            issues.append(UVS_MISSING(f"a primitive with material {name!r} has no UVs"))
    return issues


def check_geometry(
    primitives: list[Primitive], profile: Profile, bounds: np.ndarray | None
) -> tuple[int, list[Issue]]:
    """Triangle budget and degenerate faces (NaN/inf positions are GLTF_ACCESSOR_INVALID_FLOAT).
    Returns the scene's triangle count."""
    triangles = sum(len(p.triangles) for p in primitives)
    issues: list[Issue] = []
    if triangles == 0:
        return 0, [NO_GEOMETRY()]
    if triangles > profile.max_triangles:
        issues.append(
            TRIANGLES_OVER(
                f"{triangles:,} triangles; profile {profile.name!r} allows {profile.max_triangles:,}",
                triangles=triangles,
            )
        )
    elif triangles > profile.warn_triangles:
        issues.append(
            TRIANGLES_OVER(
                f"{triangles:,} triangles; {profile.warn_triangles:,} is recommended",
                severity=Severity.WARNING,
                triangles=triangles,
            )
        )
    extent = 0.0 if bounds is None else float((bounds[1] - bounds[0]).max())
    degenerate = sum(_count_degenerate(p, extent) for p in primitives)
    if degenerate:
        fraction = degenerate / triangles
        severity = (
            Severity.ERROR if fraction > profile.max_degenerate_fraction else Severity.WARNING
        )
        issues.append(
            DEGENERATE(
                f"{degenerate} of {triangles} triangles have zero area",
                severity=severity,
                triangles=degenerate,
            )
        )
    return triangles, issues


def _count_degenerate(prim: Primitive, extent: float) -> int:
    """Triangles with a repeated vertex or (numerically) zero area."""
    tri = prim.triangles
    if not len(tri):
        return 0
    p = prim.positions.astype(np.float32)  # (n, 3)
    a = p[tri[:, 0]]
    e1, e2 = p[tri[:, 1]] - a, p[tri[:, 2]] - a  # (m, 3) edges
    cx = e1[:, 1] * e2[:, 2] - e1[:, 2] * e2[:, 1]
    cy = e1[:, 2] * e2[:, 0] - e1[:, 0] * e2[:, 2]
    cz = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    doubled_area_sq = cx * cx + cy * cy + cz * cz
    eps = (max(extent, 1e-9) ** 2 * 1e-12) ** 2
    repeated = (tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 0] == tri[:, 2])
    return int(((doubled_area_sq <= eps) | repeated).sum())


def check_scale(
    bounds: np.ndarray | None, dimensions_m: tuple[float, float, float], profile: Profile
) -> list[Issue]:
    """Model extents (X, Y, Z) against the manifest's (width, height, depth) in metres."""
    if bounds is None:
        return []
    size = bounds[1] - bounds[0]
    expected = np.asarray(dimensions_m)
    ratio = size / expected
    if np.all(np.abs(ratio - 1) <= profile.dimension_tolerance):
        return []
    model = " x ".join(f"{v:.3f}" for v in size)
    wanted = " x ".join(f"{v:.3f}" for v in expected)
    message = f"model is {model} m (W x H x D) but the product is {wanted} m"
    mean = float(np.exp(np.log(np.clip(ratio, 1e-12, None)).mean()))
    guess = next((unit for k, unit in _UNIT_GUESSES.items() if abs(mean / k - 1) < 0.15), None)
    if guess:
        message += f"; the model looks like it was exported in {guess}"
    elif np.all(np.abs(np.sort(size) / np.sort(expected) - 1) <= profile.dimension_tolerance):
        message += "; the sizes match in another order, so the model is probably rotated (+Y must be up, front +Z)"
    return [SCALE_MISMATCH(message, model_m=size.round(4).tolist(), expected_m=list(dimensions_m))]


def check_file_size(total_bytes: int, profile: Profile) -> list[Issue]:
    if total_bytes > profile.max_model_bytes:
        return [
            FILE_TOO_LARGE(
                f"model is {total_bytes / MB:.1f} MB; profile {profile.name!r} allows "
                f"{profile.max_model_bytes / MB:.0f} MB",
                bytes=total_bytes,
            )
        ]
    if total_bytes > profile.warn_model_bytes:
        return [
            FILE_TOO_LARGE(
                f"model is {total_bytes / MB:.1f} MB; under {profile.warn_model_bytes / MB:.0f} MB is recommended",
                severity=Severity.WARNING,
                bytes=total_bytes,
            )
        ]
    return []


@dataclass(frozen=True)
class SceneCounts:
    """What the scene draws, counted from accessor counts (instances multiplied)."""

    triangles: int
    vertices: int


def _primitive_counts(doc: dict[str, Any], prim: dict[str, Any]) -> tuple[int, int]:
    """(triangles, vertices) one primitive declares."""
    accessors = doc.get("accessors", [])
    position = prim.get("attributes", {}).get("POSITION")
    if position is None:
        return 0, 0
    vertices = accessors[position]["count"]
    drawn = accessors[prim["indices"]]["count"] if "indices" in prim else vertices
    mode = prim.get("mode", 4)
    triangles = drawn // 3 if mode == 4 else max(drawn - 2, 0) if mode in (5, 6) else 0
    return triangles, vertices


def declared_scene(doc: dict[str, Any]) -> SceneCounts:
    """Triangles and vertices of the default scene, each mesh counted once and multiplied by
    the nodes that draw it: a mesh instanced by 2,000 nodes costs 2,000 additions."""
    meshes = doc.get("meshes", [])
    per_mesh: dict[int, tuple[int, int]] = {}
    triangles = vertices = 0
    for node, _ in _scene_nodes(doc, transforms=False):
        if "mesh" in node:
            index = node["mesh"]
            if index not in per_mesh:
                counts = [_primitive_counts(doc, p) for p in meshes[index].get("primitives", [])]
                per_mesh[index] = (sum(c[0] for c in counts), sum(c[1] for c in counts))
            triangles += per_mesh[index][0]
            vertices += per_mesh[index][1]
    return SceneCounts(triangles=triangles, vertices=vertices)


def _declared_over(counts: SceneCounts, profile: Profile) -> list[Issue]:
    issues = []
    if counts.triangles > profile.max_triangles:
        issues.append(
            TRIANGLES_OVER(
                f"{counts.triangles:,} triangles; profile {profile.name!r} allows {profile.max_triangles:,}",
                triangles=counts.triangles,
            )
        )
    if counts.vertices > LIMITS.scene_vertices:
        issues.append(
            SCENE_TOO_LARGE(
                f"the scene draws {counts.vertices:,} vertices (instances counted); at most "
                f"{LIMITS.scene_vertices:,} are checked",
                vertices=counts.vertices,
            )
        )
    return issues


@dataclass(frozen=True)
class ModelStats:
    triangles: int
    bounds_m: tuple[tuple[float, ...], tuple[float, ...]] | None
    textures: int


def check_budgets(
    asset: GltfAsset,
    *,
    profile: Profile,
    model_bytes: int,
    dimensions_m: tuple[float, float, float] | None,
) -> tuple[ModelStats, list[Issue]]:
    """All budget and geometry checks of one model; `dimensions_m` None skips the scale check.

    The scene's triangles and vertices are first counted from the declarations (each mesh's
    counts times the nodes drawing it); over the budget, nothing is copied into world space.
    """
    declared = declared_scene(asset.document)
    over = _declared_over(declared, profile)
    if over:
        issues = over + check_textures(asset, profile) + check_file_size(model_bytes, profile)
        return ModelStats(
            triangles=declared.triangles,
            bounds_m=None,
            textures=len(asset.document.get("images", [])),
        ), issues
    try:
        primitives = scene_primitives(asset)
    except DataMissing as missing:
        return ModelStats(0, None, len(asset.document.get("images", []))), [
            GEOMETRY_MISSING(
                f"buffer {missing.buffer} (read through bufferView {missing.view}) holds no data, "
                "so the geometry cannot be measured or drawn",
                pointer=f"/buffers/{missing.buffer}",
            )
        ]
    bounds = world_bounds(primitives)
    triangles, issues = check_geometry(primitives, profile, bounds)
    issues += check_textures(asset, profile)
    issues += check_materials(primitives)
    issues += check_file_size(model_bytes, profile)
    if dimensions_m is not None:
        issues += check_scale(bounds, dimensions_m, profile)
    stats = ModelStats(
        triangles=triangles,
        bounds_m=None
        if bounds is None
        else (tuple(bounds[0].round(5).tolist()), tuple(bounds[1].round(5).tolist())),
        textures=len(asset.document.get("images", [])),
    )
    return stats, issues
