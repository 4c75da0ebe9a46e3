"""The shared software renderer: framing, silhouettes, materials, and real sample models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from shazam_assets.qa.raster import (
    DEFAULT_BACKGROUND,
    Rendering,
    View,
    load_scene,
    orbit_views,
    render,
    to_image,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MIXER = SHARED_DATA / "khronos-3dc" / "Mixer"
FRONT = View("front", 0.0, 0.0)
SIDE = View("side", 90.0, 0.0)


def _box_glb(
    path: Path,
    extents: tuple[float, float, float],
    *,
    colour: tuple[int, int, int, int] = (200, 40, 30, 255),
    double_sided: bool = False,
) -> Path:
    """A one-material box centred at the origin, written as a GLB."""
    mesh = trimesh.creation.box(extents=extents)
    return _write(path, mesh, colour=colour, double_sided=double_sided)


def _write(
    path: Path,
    mesh: trimesh.Trimesh,
    *,
    colour: tuple[int, int, int, int],
    double_sided: bool = False,
) -> Path:
    material = trimesh.visual.material.PBRMaterial(
        baseColorFactor=colour, metallicFactor=0.0, roughnessFactor=0.8, doubleSided=double_sided
    )
    mesh.visual = trimesh.visual.TextureVisuals(material=material)
    path.write_bytes(trimesh.Scene(mesh).export(file_type="glb"))
    return path


def _bbox_aspect(rendering: Rendering) -> float:
    """Width over height of the mask's bounding box, in pixels."""
    rows = np.flatnonzero(rendering.mask.any(axis=1))
    cols = np.flatnonzero(rendering.mask.any(axis=0))
    return (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)


@pytest.mark.parametrize(("view", "expected"), [(FRONT, 4.0), (SIDE, 2.0)])
def test_mask_bbox_matches_the_projected_extent(
    tmp_path: Path, view: View, expected: float
) -> None:
    # seen head-on, the silhouette of a box is its nearest face: width/height of that face
    model = _box_glb(tmp_path / "box.glb", (0.4, 0.1, 0.2))
    rendering = render(model, view, size=128)
    assert rendering.rgb.shape == (128, 128, 3) and rendering.rgb.dtype == np.uint8
    assert rendering.mask.shape == (128, 128) and rendering.mask.dtype == bool
    assert 0.02 < rendering.mask.mean() < 0.9
    assert _bbox_aspect(rendering) == pytest.approx(expected, rel=0.06)


def test_background_and_product_pixels(tmp_path: Path) -> None:
    model = _box_glb(tmp_path / "box.glb", (0.3, 0.3, 0.3), colour=(220, 30, 20, 255))
    rendering = render(model, View("v", 30.0, 20.0), size=96, background=(10, 200, 10))
    outside = rendering.rgb[~rendering.mask]
    assert (outside[:, 1] > 150).mean() > 0.95, "the background colour fills the rest"
    inside = rendering.rgb[rendering.mask].astype(int)
    assert (inside[:, 0] > inside[:, 1] + 40).mean() > 0.9, "a red product renders red"


def test_framing_ignores_the_unit_and_the_position(tmp_path: Path) -> None:
    metres = render(_box_glb(tmp_path / "m.glb", (0.4, 0.1, 0.2)), View("v", 20, 15), size=64)
    mesh = trimesh.creation.box(extents=(40.0, 10.0, 20.0))
    mesh.apply_translation((300.0, 50.0, -80.0))
    centimetres = render(
        _write(tmp_path / "cm.glb", mesh, colour=(200, 40, 30, 255)), View("v", 20, 15), size=64
    )
    assert (metres.mask != centimetres.mask).mean() < 0.002


def test_single_sided_faces_vanish_from_behind(tmp_path: Path) -> None:
    # a quad facing +Z: seen from the back it is culled unless the material is double-sided
    quad = trimesh.Trimesh(
        vertices=[[-1, 0, 0], [1, 0, 0], [1, 1, 0], [-1, 1, 0]], faces=[[0, 1, 2], [0, 2, 3]]
    )
    one = _write(tmp_path / "one.glb", quad.copy(), colour=(90, 90, 200, 255))
    two = _write(tmp_path / "two.glb", quad.copy(), colour=(90, 90, 200, 255), double_sided=True)
    back = View("back", 180.0, 10.0)
    assert render(one, FRONT, size=48).mask.any()
    assert not render(one, back, size=48).mask.any()
    assert render(two, back, size=48).mask.mean() > 0.1


def test_orbit_views_circle_the_product() -> None:
    views = orbit_views(8, elevation_deg=25.0, start_deg=10.0)
    assert len(views) == 8 and len({v.name for v in views}) == 8
    assert [v.azimuth_deg for v in views] == pytest.approx([10.0 + 45.0 * i for i in range(8)])
    assert {v.elevation_deg for v in views} == {25.0} and views[0].name == "az010_el25"
    with pytest.raises(ValueError):
        orbit_views(0)


def test_a_model_without_triangles_is_refused(tmp_path: Path) -> None:
    cloud = tmp_path / "points.glb"
    cloud.write_bytes(
        trimesh.Scene(trimesh.PointCloud(np.random.default_rng(0).random((20, 3)))).export(
            file_type="glb"
        )
    )
    with pytest.raises(ValueError, match="no triangles"):
        render(cloud, FRONT, size=32)


def test_a_loaded_scene_renders_like_its_file(tmp_path: Path) -> None:
    model = _box_glb(tmp_path / "box.glb", (0.2, 0.5, 0.3))
    view = View("v", -35.0, 25.0, fov_deg=30.0)
    np.testing.assert_array_equal(
        render(load_scene(model), view, size=64).rgb, render(model, view, size=64).rgb
    )
    assert to_image(render(model, view, size=64)).size == (64, 64)


@pytest.mark.skipif(not MIXER.is_dir(), reason=f"sample models not found at {MIXER}")
def test_gltf_with_external_textures_renders_like_the_glb() -> None:
    view = View("v", 300.0, 10.0)
    glb = render(MIXER / "Mixer.glb", view, size=96)
    gltf = render(MIXER / "glTF" / "Mixer.gltf", view, size=96)
    assert glb.mask.mean() > 0.1
    np.testing.assert_array_equal(glb.mask, gltf.mask)
    assert np.abs(glb.rgb.astype(int) - gltf.rgb.astype(int)).mean() < 1.0
    mint = glb.rgb[glb.mask].astype(int)  # the mixer's textured body is mint green, not grey
    assert ((mint[:, 1] - mint[:, 0]) > 20).mean() > 0.1
    background = np.asarray(DEFAULT_BACKGROUND)
    assert (np.abs(glb.rgb[~glb.mask].astype(int) - background).max(axis=1) < 30).mean() > 0.99
    assert Image.fromarray(glb.rgb).size == (96, 96)
