"""The generated demo products are valid, real-world-sized, textured, photographed and stable."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh
from PIL import Image

from shazam_assets.qa.raster import render
from shazam_demo.products import CATALOG, PHOTO_VIEWS, DemoProduct, make_product

REPO = Path(__file__).resolve().parents[2]
KHRONOS = REPO / "bench" / "khronos"
BACKGROUND = 235  # the studio grey of the photos, 0.92 in sRGB


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoProduct]:
    """Every catalog product, built once with seed 0."""
    out = tmp_path_factory.mktemp("demo")
    return {slug: make_product(slug, out_dir=out) for slug in CATALOG}


def _parts(path: Path) -> list[trimesh.Trimesh]:
    """The model's meshes (one per material) as stored, without trimesh merging anything."""
    return trimesh.load(path, force="scene", process=False).dump(concatenate=False)


def _vertices(path: Path) -> np.ndarray:
    """All vertex positions of a model or scan, (n, 3)."""
    return np.concatenate([part.vertices for part in _parts(path)])


def _textures(path: Path) -> list[np.ndarray]:
    """The baseColor texture pixels of each mesh in the model."""
    return [np.asarray(p.visual.material.baseColorTexture.convert("RGB")) for p in _parts(path)]


def _foreground(photo: Path) -> np.ndarray:
    """Pixels that differ clearly from the studio background, as a (h, w) bool mask."""
    rgb = np.asarray(Image.open(photo).convert("RGB"), dtype=np.int16)
    return np.abs(rgb - BACKGROUND).max(axis=2) > 20


def test_catalog_offers_at_least_four_products() -> None:
    assert len(CATALOG) >= 4
    assert len(set(CATALOG)) == len(CATALOG)


def test_the_whole_catalog_builds(products: dict[str, DemoProduct]) -> None:
    assert set(products) == set(CATALOG)


@pytest.mark.parametrize("slug", CATALOG)
def test_product_files_exist(products: dict[str, DemoProduct], slug: str) -> None:
    product = products[slug]
    assert product.slug == slug and product.title
    assert product.model.suffix == ".glb" and product.model.stat().st_size > 0
    assert 1 <= len(product.photos) <= 3
    assert product.scan_obj == product.scan_files[0]
    assert [p.suffix for p in product.scan_files] == [".obj", ".mtl", ".png"]
    assert all(p.is_file() for p in (*product.photos, *product.scan_files))


@pytest.mark.parametrize("slug", CATALOG)
def test_model_stands_on_the_ground_centred_at_real_size(
    products: dict[str, DemoProduct], slug: str
) -> None:
    product = products[slug]
    vertices = _vertices(product.model)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    np.testing.assert_allclose(hi - lo, product.dimensions_m, rtol=0.01)
    assert abs(lo[1]) < 1e-6, "the product must rest on the ground plane (min Y == 0)"
    np.testing.assert_allclose([(lo[0] + hi[0]) / 2, (lo[2] + hi[2]) / 2], 0.0, atol=1e-5)
    assert 0.02 < max(product.dimensions_m) < 3.0, "a tabletop or furniture size in metres"


@pytest.mark.parametrize("slug", CATALOG)
def test_model_geometry_is_clean(products: dict[str, DemoProduct], slug: str) -> None:
    parts = _parts(products[slug].model)
    assert 1_000 <= sum(len(part.faces) for part in parts) <= 20_000
    for mesh in parts:
        assert np.isfinite(mesh.vertices).all()
        assert mesh.area_faces.min() > 1e-12, "degenerate triangle"
        normals = np.asarray(mesh.vertex_normals)
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
        # the winding agrees with the stored normals: faces point outward, not inside out
        agree = np.einsum("ij,ij->i", mesh.face_normals, normals[mesh.faces].mean(axis=1)) > 0
        assert agree.mean() > 0.99
        uv = np.asarray(mesh.visual.uv)
        assert uv.shape == (len(mesh.vertices), 2)
        assert uv.min() >= 0.0 and uv.max() <= 1.0


@pytest.mark.parametrize("slug", CATALOG)
def test_model_has_pbr_materials_with_power_of_two_textures(
    products: dict[str, DemoProduct], slug: str
) -> None:
    gltf = pygltflib.GLTF2().load(str(products[slug].model))
    assert 1 <= len(gltf.materials) <= 2
    for material in gltf.materials:
        pbr = material.pbrMetallicRoughness
        assert pbr.baseColorTexture is not None
        assert 0.0 <= pbr.metallicFactor <= 1.0 and 0.0 < pbr.roughnessFactor <= 1.0
    for image in gltf.images:
        view = gltf.bufferViews[image.bufferView]
        blob = gltf.binary_blob()[view.byteOffset : view.byteOffset + view.byteLength]
        decoded = Image.open(io.BytesIO(blob))
        assert decoded.format == "PNG" and decoded.size in {(512, 512), (1024, 1024)}
    for mesh in gltf.meshes:
        for primitive in mesh.primitives:
            attributes = primitive.attributes
            assert attributes.NORMAL is not None and attributes.TEXCOORD_0 is not None
            position = gltf.accessors[attributes.POSITION]
            assert position.min is not None and position.max is not None


def test_khronos_validator_finds_no_errors(products: dict[str, DemoProduct]) -> None:
    script = KHRONOS / "validate.mjs"
    if not (KHRONOS / "node_modules").is_dir() or not script.is_file() or not shutil.which("node"):
        pytest.skip("Khronos glTF-Validator not installed (bench/khronos: npm ci, needs node)")
    files = [str(p.model) for p in products.values()]
    done = subprocess.run(
        ["node", str(script), *files], capture_output=True, text=True, timeout=120, check=True
    )
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [r["file"] for r in reports] == files
    assert all(r["numErrors"] == 0 for r in reports), reports


def test_scale_multiplies_the_model_but_not_the_photos(
    products: dict[str, DemoProduct], tmp_path: Path
) -> None:
    metres = products["speaker"]
    centimetres = make_product("speaker", out_dir=tmp_path, scale=100.0, with_scan=False)
    np.testing.assert_allclose(
        _vertices(centimetres.model), _vertices(metres.model) * 100.0, rtol=1e-5, atol=1e-6
    )
    assert centimetres.dimensions_m == metres.dimensions_m, "the real product did not change"
    assert [p.read_bytes() for p in centimetres.photos] == [p.read_bytes() for p in metres.photos]


@pytest.mark.parametrize("slug", CATALOG)
def test_photos_look_like_product_shots(products: dict[str, DemoProduct], slug: str) -> None:
    masks = []
    for photo in products[slug].photos:
        image = Image.open(photo)
        assert image.size == (512, 512) and image.mode == "RGB"
        mask = _foreground(photo)
        assert not mask[:8, :8].any() and not mask[-8:, -8:].any(), "corners show the background"
        assert 0.04 < mask.mean() < 0.8, f"{photo.name}: product covers {mask.mean():.0%}"
        masks.append(mask)
    assert (masks[0] != masks[1]).mean() > 0.01, "the two photos are taken from different angles"


@pytest.mark.parametrize("slug", CATALOG)
def test_photos_show_this_model(products: dict[str, DemoProduct], slug: str) -> None:
    photo = np.asarray(Image.open(products[slug].photos[0]), dtype=np.float64)
    drawn = render(products[slug].model, PHOTO_VIEWS[0], size=photo.shape[0]).rgb
    assert np.abs(photo - drawn).mean() < 2.0
    other = next(s for s in CATALOG if s != slug)
    other_photo = np.asarray(Image.open(products[other].photos[0]), dtype=np.float64)
    assert np.abs(other_photo - drawn).mean() > 8.0, "the comparison tells products apart"


def test_same_seed_gives_the_same_bytes(products: dict[str, DemoProduct], tmp_path: Path) -> None:
    again = make_product("mug", out_dir=tmp_path, seed=0)
    first = products["mug"]
    assert again.model.read_bytes() == first.model.read_bytes()
    assert [p.read_bytes() for p in again.photos] == [p.read_bytes() for p in first.photos]
    assert [p.read_bytes() for p in again.scan_files] == [p.read_bytes() for p in first.scan_files]


def test_another_seed_changes_the_texture_not_the_shape(
    products: dict[str, DemoProduct], tmp_path: Path
) -> None:
    other = make_product("mug", out_dir=tmp_path, seed=1, with_scan=False)
    first = products["mug"]
    assert other.model.read_bytes() != first.model.read_bytes()
    np.testing.assert_array_equal(_vertices(other.model), _vertices(first.model))
    assert other.dimensions_m == first.dimensions_m
    assert not np.array_equal(_textures(other.model)[0], _textures(first.model)[0])
    assert other.photos[0].read_bytes() != first.photos[0].read_bytes()


def test_products_have_distinct_textures(products: dict[str, DemoProduct]) -> None:
    textures = {slug: _textures(p.model)[0] for slug, p in products.items()}
    pairs = [(a, b) for a in textures for b in textures if a < b]
    assert all(not np.array_equal(textures[a], textures[b]) for a, b in pairs)


@pytest.mark.parametrize("slug", CATALOG)
def test_scan_is_a_noisy_copy_of_the_model(products: dict[str, DemoProduct], slug: str) -> None:
    product = products[slug]
    scan = trimesh.load(product.scan_obj, process=False)
    stored = trimesh.load(product.model, force="scene", process=False).geometry.values()
    model = np.concatenate([g.vertices for g in stored])  # in file order, as the scan is
    assert isinstance(scan, trimesh.Trimesh) and scan.visual.kind == "texture"
    assert scan.visual.material.image is not None, "the MTL's texture resolves"
    assert len(scan.faces) == sum(len(part.faces) for part in _parts(product.model))
    offset = np.linalg.norm(scan.vertices - model, axis=1)
    size = max(product.dimensions_m)
    assert 0 < np.median(offset) < 0.02 * size, "slight photogrammetry noise, same shape"


def test_without_scan_there_are_no_scan_files(tmp_path: Path) -> None:
    product = make_product("speaker", out_dir=tmp_path, with_scan=False)
    assert product.scan_obj is None and product.scan_files == ()
    assert not list(tmp_path.rglob("*.obj"))


def test_chair_faces_front_with_its_back_at_minus_z(products: dict[str, DemoProduct]) -> None:
    vertices = _vertices(products["chair"].model)
    backrest = vertices[vertices[:, 1] > 0.55]
    assert len(backrest) and backrest[:, 2].max() < 0.0


@pytest.mark.parametrize(
    ("slug", "scale"), [("sofa", 1.0), ("speaker", 0.0), ("speaker", float("nan"))]
)
def test_bad_arguments_are_refused(tmp_path: Path, slug: str, scale: float) -> None:
    with pytest.raises(ValueError):
        make_product(slug, out_dir=tmp_path, scale=scale)
