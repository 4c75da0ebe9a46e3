"""Visual QA scoring: photo segmentation, right-vs-wrong product separation, contact sheets."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from shazam_assets.platform.errors import Severity
from shazam_assets.qa.raster import DEFAULT_BACKGROUND, View
from shazam_assets.qa.scoring import (
    CAPTION,
    GAP,
    PANEL,
    PLAIN_BORDER,
    QAThresholds,
    VisualQA,
    contact_sheet,
    plain_border_fraction,
    read_photo,
    render_views,
    score_model_against_photos,
    segment_photo,
)
from shazam_demo.products import CATALOG, DemoProduct, make_product

KHRONOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "khronos-3dc"
SIZE = 192  # what QA renders at: the thresholds are calibrated there (64 px loses thin legs)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoProduct]:
    out = tmp_path_factory.mktemp("qa-demo")
    return {slug: make_product(slug, out_dir=out, with_scan=False) for slug in CATALOG}


def _per_product(qa: VisualQA, owner: dict[str, str]) -> dict[str, float]:
    """Mean photo score per product, from a scoring over several products' photos."""
    scores: dict[str, list[float]] = defaultdict(list)
    for photo in qa.photos:
        scores[owner[photo.photo]].append(photo.score)
    return {product: float(np.mean(values)) for product, values in scores.items()}


def _disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def _white_box(path: Path, *, scale: float) -> Path:
    """A plain white box (0.4 x 0.2 x 0.1 m times `scale`) standing on the ground plane."""
    box = trimesh.creation.box(extents=(0.4 * scale, 0.2 * scale, 0.1 * scale))
    box.apply_translation((0.0, 0.1 * scale, 0.0))
    box.visual = trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.PBRMaterial(
            baseColorFactor=(255, 255, 255, 255), metallicFactor=0.0, roughnessFactor=0.6
        )
    )
    path.write_bytes(box.export(file_type="glb"))
    return path


def _aspect(mask: np.ndarray) -> float:
    """Width over height of a mask's bounding box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)


def test_studio_views_frame_the_model_on_the_grey_backdrop_with_an_exact_mask(
    tmp_path: Path,
) -> None:
    views = (View("front", 0.0, 0.0), View("side", 90.0, 0.0), View("above", 30.0, 25.0))
    metres = render_views(_white_box(tmp_path / "m.glb", scale=1.0), views, size=96)
    centimetres = render_views(_white_box(tmp_path / "cm.glb", scale=100.0), views, size=96)
    for r in metres:
        assert r.rgb.shape == (96, 96, 3) and r.mask.shape == (96, 96)
        assert (r.rgb[~r.mask] == DEFAULT_BACKGROUND).all(axis=-1).mean() > 0.99
        assert r.mask.any() and not (r.mask[0].any() or r.mask[-1].any()), "framed with air"
        assert r.rgb[r.mask].mean() > 150, "a white product, not a hole in the mask"
    front, side, _ = (_aspect(r.mask) for r in metres)
    assert 1.8 < front < 2.2 and 0.4 < side < 0.6, "0.4 m wide, 0.2 m high, 0.1 m deep"
    for m, cm in zip(metres, centimetres, strict=True):
        assert (m.mask != cm.mask).mean() < 0.01, "the same picture in any unit"


def test_segment_photo_keeps_the_product_fills_its_holes_and_drops_specks() -> None:
    rng = np.random.default_rng(0)
    shape = (120, 160)
    photo = np.clip(235 + rng.normal(0, 1.5, (*shape, 3)), 0, 255)  # a slightly grainy sweep
    outer = _disc(shape, (60, 70), 40)
    ring = outer & ~_disc(shape, (60, 70), 22)  # a ring: its middle shows the backdrop
    photo[ring] = (150, 30, 30)
    photo[10:13, 145:148] = (20, 20, 200)  # dust, away from the product
    mask = segment_photo(photo.astype(np.uint8))
    assert mask.shape == shape and mask.dtype == bool
    iou = (mask & outer).sum() / (mask | outer).sum()
    assert iou > 0.97, "the product with its hole filled"
    assert not mask[10:13, 145:148].any(), "only the largest region is the product"


def test_a_transparent_cut_out_is_read_on_the_studio_backdrop(tmp_path: Path) -> None:
    rgba = np.zeros((200, 100, 4), np.uint8)  # a portrait PNG, clear except the product
    rgba[50:150, 30:70] = (20, 60, 200, 255)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "cut-out.png")
    rgb = read_photo(tmp_path / "cut-out.png", longest=100)
    assert rgb.shape == (100, 50, 3)
    assert tuple(rgb[2, 2]) == DEFAULT_BACKGROUND
    mask = segment_photo(rgb)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) == (25, 75, 15, 35)


def test_a_close_up_is_scored_on_colour_only(
    catalog: dict[str, DemoProduct], tmp_path: Path
) -> None:
    full = read_photo(catalog["speaker"].photos[0], longest=256)
    detail = full[110:200, 0:128]  # the speaker's left end, running off the top and right
    Image.fromarray(detail).save(tmp_path / "detail.png")
    assert plain_border_fraction(full) > 0.95
    assert plain_border_fraction(detail) < PLAIN_BORDER
    qa, _ = score_model_against_photos(
        catalog["speaker"].model, [catalog["speaker"].photos[0], tmp_path / "detail.png"], size=SIZE
    )
    product_shot, close_up = qa.photos
    assert not product_shot.close_up and product_shot.silhouette_iou > 0.8
    assert close_up.close_up and close_up.silhouette_iou == 0.0
    assert close_up.delta_e < 8.0 and "close-up" in close_up.caption


def test_same_product_photos_outscore_other_products_on_the_demo_catalog(
    catalog: dict[str, DemoProduct],
) -> None:
    photos = [photo for product in catalog.values() for photo in product.photos]
    owner = {photo.name: slug for slug, product in catalog.items() for photo in product.photos}
    thresholds = QAThresholds()
    for slug, product in catalog.items():
        qa, renderings = score_model_against_photos(product.model, photos, size=SIZE)
        assert [r.view.name for r in renderings] == list(qa.views) and len(qa.views) == 12
        assert len(qa.photos) == len(photos) and qa.seconds > 0
        scores = _per_product(qa, owner)
        others = max(score for other, score in scores.items() if other != slug)
        assert scores[slug] > others + 0.2, (slug, scores)
        assert thresholds.severity(scores[slug]) is None, (slug, scores)


def test_a_wrong_colour_variant_scores_lower(
    catalog: dict[str, DemoProduct], tmp_path: Path
) -> None:
    # same shape, another seed's glaze: the artist textured the wrong variant
    variant = make_product("mug", out_dir=tmp_path, seed=2, with_scan=False)
    right, _ = score_model_against_photos(catalog["mug"].model, catalog["mug"].photos, size=SIZE)
    wrong, _ = score_model_against_photos(variant.model, catalog["mug"].photos, size=SIZE)
    # the right model is rendered by the studio, its photos by the numpy renderer: dE ~8-14
    assert all(p.delta_e > 2 * q.delta_e for p, q in zip(wrong.photos, right.photos, strict=True))
    assert all(p.delta_e > 25 for p in wrong.photos)
    assert right.score - wrong.score > 0.25
    assert QAThresholds().severity(wrong.score) is Severity.ERROR


@pytest.mark.skipif(not KHRONOS.is_dir(), reason=f"Khronos sample models not found at {KHRONOS}")
def test_same_product_photos_outscore_other_products_on_real_models() -> None:
    names = ("Mixer", "WickerChair")
    photos = {name: sorted((KHRONOS / name).glob(f"rr-{name}-*.png")) for name in names}
    owner = {photo.name: name for name in names for photo in photos[name]}
    for name in names:
        everything = [photo for name in names for photo in photos[name]]
        qa, _ = score_model_against_photos(KHRONOS / name / f"{name}.glb", everything, size=96)
        assert [p.close_up for p in qa.photos] == [False, True, True] * 2, "one product shot each"
        scores = _per_product(qa, owner)
        other = next(n for n in names if n != name)
        assert scores[name] > scores[other] + 0.1, scores


def test_contact_sheet_puts_render_and_reference_side_by_side(tmp_path: Path) -> None:
    red = np.zeros((80, 50, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((100, 100, 3), np.uint8)
    blue[..., 2] = 255
    pairs = [(red, blue, f"view {i}: IoU 0.9{i}, dE 3.{i}") for i in range(3)]
    out = contact_sheet(pairs, tmp_path / "sheets" / "sheet.png")
    with Image.open(out) as image:
        assert image.format == "PNG"
        sheet = np.asarray(image.convert("RGB"))
    row = PANEL + CAPTION + GAP
    assert sheet.shape == (GAP + 3 * row, 3 * GAP + 2 * PANEL, 3)
    centres = [
        tuple(sheet[GAP + i * row + PANEL // 2, GAP + column * (PANEL + GAP) + PANEL // 2])
        for i in range(3)
        for column in (0, 1)
    ]
    assert centres == [(255, 0, 0), (0, 0, 255)] * 3, "2 x 3 panels: render, then reference"
    caption = sheet[GAP + PANEL : GAP + PANEL + CAPTION, GAP : GAP + PANEL]
    assert (caption < 128).any(), "the caption is written under each row"
    with pytest.raises(ValueError):
        contact_sheet([], tmp_path / "empty.png")


def test_thresholds_order_the_verdicts() -> None:
    thresholds = QAThresholds()
    assert 0.0 < thresholds.error < thresholds.warn < 1.0
    assert thresholds.severity(thresholds.warn + 0.01) is None
    assert thresholds.severity((thresholds.warn + thresholds.error) / 2) is Severity.WARNING
    assert thresholds.severity(thresholds.error - 0.01) is Severity.ERROR
