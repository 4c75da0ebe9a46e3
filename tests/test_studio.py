"""The studio renderer (open3d Filament, headless): colours, backgrounds, framing, materials,
glTF cameras and repeated construction. Small pictures (128 px) keep it quick."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from shazam_assets import studio

SIZE = 128
FRONT = studio.Camera(eye=(0.0, 0.0, 3.0), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0), yfov_deg=30)
MIXER = Path(__file__).resolve().parents[2] / "shared" / "data" / "khronos-3dc" / "Mixer"


def _quad_glb(path: Path, material: trimesh.visual.material.PBRMaterial) -> Path:
    """A 1 x 1 square in the XY plane facing +Z, UV-mapped, with the given material."""
    vertices = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], float)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    mesh = trimesh.Trimesh(vertices, [[0, 1, 2], [0, 2, 3]], process=False)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    path.write_bytes(trimesh.Scene(mesh).export(file_type="glb"))
    return path


def _box_glb(path: Path, size: float) -> Path:
    box = trimesh.creation.box(extents=(size, size * 0.6, size * 0.4))
    path.write_bytes(trimesh.Scene(box).export(file_type="glb"))
    return path


def _render(model: Path, camera: studio.Camera, background: str = "white") -> np.ndarray:
    with studio.StudioRenderer(width=SIZE, height=SIZE, background=background) as renderer:  # type: ignore[arg-type]
        renderer.load(model)
        return renderer.render(camera)


def test_coloured_quad_on_white_is_red_in_the_middle_and_white_around(tmp_path: Path) -> None:
    red = trimesh.visual.material.PBRMaterial(
        baseColorFactor=[220, 20, 20, 255], metallicFactor=0.0, roughnessFactor=1.0
    )
    image = _render(_quad_glb(tmp_path / "red.glb", red), FRONT)
    assert image.shape == (SIZE, SIZE, 4) and image.dtype == np.uint8
    r, g, b = image[SIZE // 2, SIZE // 2, :3].astype(int)
    assert r > 120 and r > g + 60 and r > b + 60
    corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == 255).all()  # white background really is white, alpha opaque


def test_transparent_background_alpha_is_coverage(tmp_path: Path) -> None:
    grey = trimesh.visual.material.PBRMaterial(baseColorFactor=[128, 128, 128, 255])
    image = _render(_quad_glb(tmp_path / "grey.glb", grey), FRONT, background="transparent")
    assert image[SIZE // 2, SIZE // 2, 3] == 255
    assert image[2, 2, 3] == 0 and image[-3, -3, 3] == 0
    covered = (image[..., 3] > 127).mean()
    expected = (1.0 / (2 * 3 * np.tan(np.radians(15)))) ** 2  # quad / frame area
    assert covered == pytest.approx(expected, rel=0.1)


def _fill(model: Path) -> tuple[float, np.ndarray]:
    info = studio.load_model_info(model)
    camera = studio.turntable_cameras(info, frames=4)[1]
    alpha = _render(model, camera, background="transparent")[..., 3]
    return float((alpha > 127).mean()), alpha


def test_turntable_frames_small_and_big_objects_alike(tmp_path: Path) -> None:
    small_fill, small = _fill(_box_glb(tmp_path / "small.glb", 0.05))
    big_fill, big = _fill(_box_glb(tmp_path / "big.glb", 20.0))
    for alpha in (small, big):
        border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
        assert (border == 0).all()  # whole object inside the frame
    assert small_fill > 0.1
    assert small_fill == pytest.approx(big_fill, rel=0.05)


def test_turntable_starts_in_front_and_turns_about_y() -> None:
    info = studio.ModelInfo((-1, -1, -1), (1, 1, 1), 12, ())
    cams = studio.turntable_cameras(info, frames=4, elevation_deg=0.0)
    assert cams[0].eye[2] > 0 and abs(cams[0].eye[0]) < 1e-9  # front: +Z
    assert cams[1].eye[0] > 0 and abs(cams[1].eye[2]) < 1e-9  # then +X
    distances = {round(float(np.linalg.norm(c.eye)), 9) for c in cams}
    assert len(distances) == 1 and cams[0].to_json()["yfov_deg"] == 30.0


def _textured_quad(path: Path, roughness: int, metal: int) -> Path:
    mr = Image.new("RGB", (8, 8), (0, roughness, metal))  # glTF: G roughness, B metal
    material = trimesh.visual.material.PBRMaterial(
        baseColorFactor=[200, 200, 200, 255], metallicRoughnessTexture=mr
    )
    return _quad_glb(path, material)


def test_metal_roughness_channels_are_split(tmp_path: Path) -> None:
    rough_dielectric = _render(_textured_quad(tmp_path / "a.glb", 255, 0), FRONT)
    again = _render(_textured_quad(tmp_path / "b.glb", 255, 0), FRONT)
    smooth_metal = _render(_textured_quad(tmp_path / "c.glb", 0, 255), FRONT)
    middle = np.s_[40:88, 40:88, :3]
    assert np.abs(rough_dielectric[middle].astype(int) - again[middle]).mean() < 1.0
    differs = np.abs(rough_dielectric[middle].astype(int) - smooth_metal[middle]).mean()
    assert differs > 10.0
    assert rough_dielectric[middle].std() < smooth_metal[middle].std()  # the mirror shows the room


def _camera_glb(path: Path) -> Path:
    """A triangle and a camera node under a parent node moved by (0, 1, 0) and a camera
    turned 90° about +Y (so it looks down -X)."""
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype="<f4").tobytes()
    s = np.sqrt(0.5)
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0, 2]}],
        "nodes": [
            {"translation": [0, 1, 0], "children": [1]},
            {"camera": 0, "translation": [5, 0, 0], "rotation": [0, s, 0, s]},
            {"mesh": 0},
        ],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.5, "znear": 0.01}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                       "min": [0, 0, 0], "max": [1, 1, 0]}],
        "bufferViews": [{"buffer": 0, "byteLength": len(positions)}],
        "buffers": [{"byteLength": len(positions)}],
    }  # fmt: skip
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    body = positions + b"\0" * (-len(positions) % 4)
    chunks = (
        struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", len(body), b"BIN\0")
        + body
    )
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks)
    return path


def test_gltf_cameras_apply_node_transforms(tmp_path: Path) -> None:
    info = studio.load_model_info(_camera_glb(tmp_path / "cam.glb"))
    assert info.triangles == 1
    (camera,) = info.cameras
    assert camera.eye == pytest.approx((5.0, 1.0, 0.0))
    forward = np.subtract(camera.target, camera.eye)
    assert forward == pytest.approx((-1.0, 0.0, 0.0), abs=1e-6)
    assert camera.up == pytest.approx((0.0, 1.0, 0.0), abs=1e-6)
    assert camera.yfov_deg == pytest.approx(np.degrees(0.5))


def test_many_renderers_in_one_process(tmp_path: Path) -> None:
    grey = trimesh.visual.material.PBRMaterial(baseColorFactor=[90, 160, 90, 255])
    model = _quad_glb(tmp_path / "green.glb", grey)
    pictures = [_render(model, FRONT) for _ in range(3)]
    with (
        studio.StudioRenderer(width=SIZE, height=SIZE) as one,
        studio.StudioRenderer(width=SIZE, height=SIZE) as two,
    ):  # two open at once get separate renderers
        one.load(model)
        two.load(model)
        pictures += [one.render(FRONT), two.render(FRONT)]
    with studio.StudioRenderer(width=96, height=64) as other_size:
        other_size.load(model)
        assert other_size.render(FRONT).shape == (64, 96, 4)
    for picture in pictures[1:]:
        assert np.abs(picture.astype(int) - pictures[0]).max() <= 2


@pytest.mark.skipif(not (MIXER / "Mixer.glb").exists(), reason="Khronos sample data absent")
def test_mixer_camera_0_resembles_the_khronos_reference() -> None:
    from skimage.metrics import structural_similarity

    size = 256
    with studio.StudioRenderer(width=size, height=size) as renderer:
        info = renderer.load(MIXER / "Mixer.glb")
        render = renderer.render(info.cameras[0])[..., :3]
    reference = Image.open(MIXER / "rr-Mixer-0.png").convert("RGB")
    ref = np.asarray(reference.resize((size, size), Image.Resampling.LANCZOS))
    assert structural_similarity(ref, render, channel_axis=2) >= 0.7
