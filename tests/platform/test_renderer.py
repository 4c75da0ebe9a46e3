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

from shazam_assets.platform import renderer as studio

SIZE = 128
FRONT = studio.Camera(eye=(0.0, 0.0, 3.0), target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0), yfov_deg=30)
MIXER = Path(__file__).resolve().parents[3] / "shared" / "data" / "khronos-3dc" / "Mixer"


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


# Emission -----------------------------------------------------------------------------------


def _emissive_quad(path: Path, factor: list[float]) -> Path:
    """A black, rough quad whose emissive texture is red on its left half (u < 0.5)."""
    texture = np.zeros((8, 8, 3), dtype=np.uint8)
    texture[:, :4] = (255, 0, 0)
    material = trimesh.visual.material.PBRMaterial(
        baseColorFactor=[10, 10, 10, 255], metallicFactor=0.0, roughnessFactor=1.0,
        emissiveFactor=factor, emissiveTexture=Image.fromarray(texture),
    )  # fmt: skip
    return _quad_glb(path, material)


def test_emissive_texture_glows_where_it_emits_even_in_a_dim_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shazam_assets.platform.renderer import renderer

    monkeypatch.setattr(renderer, "_IBL_INTENSITY", renderer._IBL_INTENSITY / 20)
    size = SIZE - 8  # a renderer of its own, set up with the dimmed room
    with studio.StudioRenderer(width=size, height=size) as dim:
        dim.load(_emissive_quad(tmp_path / "glow.glb", [1.0, 1.0, 1.0]))
        image = dim.render(FRONT).astype(int)
        dim.load(_emissive_quad(tmp_path / "dark.glb", [0.0, 0.0, 0.0]))
        unlit = dim.render(FRONT).astype(int)
    left, right = image[size // 2, size // 2 - 8, :3], image[size // 2, size // 2 + 8, :3]
    assert left[0] >= 250 and left[1] < 40 and left[2] < 40  # full red emission
    assert right.max() < 60 and np.abs(right - unlit[size // 2, size // 2 + 8, :3]).max() <= 1
    assert unlit[size // 2, size // 2 - 8, :3].max() < 60  # black factor: the texture is off


def test_emission_adds_to_the_transparent_render_and_leaves_the_model_lit_after(
    tmp_path: Path,
) -> None:
    with studio.StudioRenderer(width=SIZE, height=SIZE, background="transparent") as renderer:
        renderer.load(_emissive_quad(tmp_path / "dark.glb", [0.0, 0.0, 0.0]))
        lit = renderer.render(FRONT)[SIZE // 2, SIZE // 2 - 8]
        renderer.load(_emissive_quad(tmp_path / "glow.glb", [0.5, 0.5, 0.5]))
        first, again = renderer.render(FRONT), renderer.render(FRONT)
    assert (first == again).all()  # the emission pass leaves the lit scene as it was
    red = first[SIZE // 2, SIZE // 2 - 8]
    linear = ((lit[0] / 255 + 0.055) / 1.055) ** 2.4 + 0.5  # lit red channel + emission 0.5
    assert red[3] == 255 and abs(red[0] - 255 * (1.055 * linear ** (1 / 2.4) - 0.055)) <= 3
    assert abs(int(red[1]) - int(lit[1])) <= 1  # no green emission


def test_models_without_emission_skip_the_emission_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shazam_assets.platform.renderer import renderer

    model = _quad_glb(tmp_path / "grey.glb", trimesh.visual.material.PBRMaterial())
    calls: list[str] = []
    monkeypatch.setattr(renderer.StudioRenderer, "_shot", _counting(renderer, calls))
    with studio.StudioRenderer(width=SIZE, height=SIZE) as plain:
        plain.load(model)
        plain.render(FRONT)
    assert calls == ["shot"]  # one lit shot on white, no emission shot


def _counting(renderer: object, calls: list[str]) -> object:
    original = renderer.StudioRenderer._shot  # type: ignore[attr-defined]

    def shot(self: object, background: float) -> np.ndarray:
        calls.append("shot")
        return original(self, background)  # type: ignore[no-any-return]

    return shot


# Normal maps --------------------------------------------------------------------------------

_TILT = 0.5  # sine of the tilt of the test normals


def _tilted_quad(
    path: Path, *, uv: np.ndarray, normal: np.ndarray | None, texel: tuple[float, float]
) -> Path:
    """The 1 x 1 quad facing +Z with the given UVs (corners: -x-y, +x-y, +x+y, -x+y); either
    geometry normals `normal` or a constant normal map tilted by `texel` = (x, y)."""
    vertices = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], float)
    normals = np.tile(normal if normal is not None else [0.0, 0.0, 1.0], (4, 1))
    mesh = trimesh.Trimesh(vertices, [[0, 1, 2], [0, 2, 3]], vertex_normals=normals,
                           process=False)  # fmt: skip
    tangent = np.array([*texel, np.sqrt(1.0 - texel[0] ** 2 - texel[1] ** 2)])
    encoded = np.round((tangent * 0.5 + 0.5) * 255).astype(np.uint8)
    normal_map = Image.fromarray(np.tile(encoded, (8, 8, 1)))
    material = trimesh.visual.material.PBRMaterial(
        baseColorFactor=[200, 200, 200, 255], metallicFactor=0.0, roughnessFactor=0.4,
        normalTexture=normal_map if normal is None else None,
    )  # fmt: skip
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    path.write_bytes(trimesh.Scene(mesh).export(file_type="glb"))
    return path


# UV layouts of the quad's corners and the world directions of +U and +V (V up the image).
_LAYOUTS = {
    "plain": ([[0, 0], [1, 0], [1, 1], [0, 1]], (1, 0), (0, 1)),
    "turned": ([[1, 0], [1, 1], [0, 1], [0, 0]], (0, -1), (1, 0)),
    "mirrored": ([[1, 0], [0, 0], [0, 1], [1, 1]], (-1, 0), (0, 1)),
}


def _middle(image: np.ndarray) -> np.ndarray:
    return image[SIZE // 2 - 16 : SIZE // 2 + 16, SIZE // 2 - 16 : SIZE // 2 + 16, :3].mean((0, 1))


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
def test_normal_map_tilts_shade_like_tilted_geometry(tmp_path: Path, layout: str) -> None:
    uv, u_dir, v_dir = _LAYOUTS[layout]
    uv_array = np.array(uv, float)
    z = np.sqrt(1 - _TILT**2)
    results = {}
    for name, texel, world in (
        ("+u", (_TILT, 0.0), u_dir), ("+v", (0.0, _TILT), v_dir), ("-v", (0.0, -_TILT), v_dir),
    ):  # fmt: skip
        sign = -1.0 if name == "-v" else 1.0
        normal = np.array([sign * _TILT * world[0], sign * _TILT * world[1], z])
        mapped = _render(_tilted_quad(tmp_path / "m.glb", uv=uv_array, normal=None,
                                      texel=texel), FRONT)  # fmt: skip
        geometric = _render(_tilted_quad(tmp_path / "g.glb", uv=uv_array, normal=normal,
                                         texel=(0.0, 0.0)), FRONT)  # fmt: skip
        results[name] = (_middle(mapped), _middle(geometric))
    for mapped, geometric in results.values():
        assert np.abs(mapped - geometric).max() < 4.0
    # flipping the green channel turns the tilt to the other side, visibly, like geometry does
    map_gap, geometry_gap = (results["+v"][i] - results["-v"][i] for i in (0, 1))
    assert np.abs(map_gap).max() > 5.0 and np.abs(map_gap - geometry_gap).max() < 4.0


def test_uv_tangents_follow_u_and_flip_handedness_on_mirrored_uvs() -> None:
    from shazam_assets.platform.renderer.normal_maps import uv_tangents

    vertices = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], float)
    normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    for layout, expected in (("plain", [1, 0, 0, 1]), ("turned", [0, -1, 0, 1]),
                             ("mirrored", [-1, 0, 0, -1])):  # fmt: skip
        uv = np.array(_LAYOUTS[layout][0], float)
        assert uv_tangents(vertices, normals, uv, faces) == pytest.approx(np.tile(expected, (4, 1)))


def test_a_render_prints_nothing_to_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    model = _quad_glb(tmp_path / "grey.glb", trimesh.visual.material.PBRMaterial())
    with studio.StudioRenderer(width=SIZE + 4, height=SIZE + 4) as fresh:  # a new engine
        fresh.load(model)
        fresh.render(FRONT)
    assert capfd.readouterr().out == ""


def test_emissive_strength_extension_scales_the_emission(tmp_path: Path) -> None:
    import pygltflib

    from shazam_assets.platform.renderer.gltf_extras import primitive_extras

    path = _emissive_quad(tmp_path / "strong.glb", [0.25, 0.25, 0.25])
    gltf = pygltflib.GLTF2().load(str(path))
    gltf.materials[0].extensions = {"KHR_materials_emissive_strength": {"emissiveStrength": 4.0}}
    gltf.save(str(path))
    (extras,) = primitive_extras(path).values()
    assert extras.emissive_strength == 4.0 and extras.vertex_count == 4
    red = _render(path, FRONT)[SIZE // 2, SIZE // 2 - 8]
    assert red[0] >= 250 and red[1] < 150  # 0.25 x 4 = full emission (0.25 alone: ~180)
