"""Cameras, bounds and turntable framing of a glTF product model (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

from shazam_assets.platform.renderer.errors import RenderError
from shazam_assets.platform.renderer.source import GltfSource, load_scene, read_source

Vec3 = tuple[float, float, float]
FloatArray = npt.NDArray[np.float64]

FRAME_MARGIN = 1.1  # turntable: the bounding sphere fills the frame with 10 % air around it


@dataclass(frozen=True)
class Camera:
    """A pinhole camera in world space (metres, +Y up): where it stands, what it looks at,
    which way is up and its vertical field of view in degrees."""

    eye: Vec3
    target: Vec3
    up: Vec3
    yfov_deg: float

    def to_json(self) -> dict[str, Any]:
        """Plain dict for manifests."""
        return {
            "eye": list(self.eye),
            "target": list(self.target),
            "up": list(self.up),
            "yfov_deg": self.yfov_deg,
        }


@dataclass(frozen=True)
class ModelInfo:
    """What the turntable needs to know about a model: world-space bounds (node transforms
    applied), triangle count and the cameras stored in the glTF, in file order."""

    bounds_min: Vec3
    bounds_max: Vec3
    triangles: int
    cameras: tuple[Camera, ...]


def _vec3(values: Any) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


def _node_matrix(node: dict[str, Any]) -> FloatArray:
    """A glTF node's local transform as a (4, 4) matrix (matrix, or T * R * S)."""
    if node.get("matrix"):
        return np.array(node["matrix"], dtype=float).reshape(4, 4).T  # glTF is column-major
    t = np.eye(4)
    if node.get("translation"):
        t[:3, 3] = node["translation"]
    if node.get("rotation"):
        x, y, z, w = node["rotation"]
        t[:3, :3] = [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    if node.get("scale"):
        t[:3, :3] = t[:3, :3] @ np.diag(node["scale"])
    return t


def gltf_cameras(model: Path | GltfSource) -> tuple[Camera, ...]:
    """Perspective cameras placed by nodes of the default scene, in the order of the file's
    `cameras` array (a camera used by several nodes counts once, at its first node).
    A glTF camera looks down its node's -Z with +Y up. Each node is visited once (glTF
    nodes form trees; a cycle in an invalid file must not loop)."""
    doc = (model if isinstance(model, GltfSource) else read_source(Path(model))).document
    nodes, cameras, scenes = doc.get("nodes", []), doc.get("cameras", []), doc.get("scenes", [])
    found: dict[int, Camera] = {}
    scene = scenes[doc.get("scene") or 0] if scenes else {}
    stack = [(i, np.eye(4)) for i in scene.get("nodes", [])]
    seen: set[int] = set()
    while stack:
        index, parent = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        node = nodes[index]
        world = parent @ _node_matrix(node)
        cam = node.get("camera")
        perspective = cameras[cam].get("perspective") if cam is not None else None
        if cam is not None and cam not in found and perspective is not None:
            eye = world[:3, 3]
            forward = -world[:3, 2] / np.linalg.norm(world[:3, 2])
            up = world[:3, 1] / np.linalg.norm(world[:3, 1])
            yfov = float(np.degrees(perspective["yfov"]))
            found[cam] = Camera(_vec3(eye), _vec3(eye + forward), _vec3(up), yfov)
        stack.extend((child, world) for child in node.get("children", []))
    return tuple(found[i] for i in sorted(found))


def _info_from_scene(scene: trimesh.Scene, source: GltfSource) -> ModelInfo:
    bounds = scene.bounds  # (2, 3)
    if bounds is None:
        raise RenderError("RENDER_NO_GEOMETRY", f"{source.path.name}: no geometry to render")
    triangles = sum(
        len(scene.geometry[scene.graph[node][1]].faces) for node in scene.graph.nodes_geometry
    )
    return ModelInfo(_vec3(bounds[0]), _vec3(bounds[1]), triangles, gltf_cameras(source))


def load_model_info(model: Path) -> ModelInfo:
    """Bounds, triangle count and stored cameras of a .glb or .gltf."""
    source = read_source(Path(model))
    return _info_from_scene(load_scene(source), source)


def turntable_cameras(
    info: ModelInfo, *, frames: int, elevation_deg: float = 15.0, yfov_deg: float = 30.0
) -> list[Camera]:
    """`frames` cameras orbiting the vertical (+Y) axis through the bounds' centre, the first
    in front (+Z), turning towards +X. Each looks at the centre from the distance at which the
    bounding sphere fits the (square) frame with `FRAME_MARGIN`, so a ring and a wardrobe
    fill the picture alike."""
    lo, hi = np.array(info.bounds_min), np.array(info.bounds_max)
    center = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
    distance = radius * FRAME_MARGIN / np.sin(np.radians(yfov_deg) / 2)
    elevation = np.radians(elevation_deg)
    cameras = []
    for i in range(frames):
        azimuth = 2 * np.pi * i / frames
        offset = np.array(
            [np.sin(azimuth) * np.cos(elevation), np.sin(elevation),
             np.cos(azimuth) * np.cos(elevation)]
        )  # fmt: skip
        cameras.append(
            Camera(_vec3(center + distance * offset), _vec3(center), (0.0, 1.0, 0.0), yfov_deg)
        )
    return cameras
