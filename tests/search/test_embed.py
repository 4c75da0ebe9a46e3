"""The descriptor embedder and `open_embedder`: unit vectors that find a product by its photo."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from shazam_assets.qa import raster as cpu
from shazam_assets.search.embed import DescriptorEmbedder, decode_image, open_embedder
from shazam_assets.search.errors import SearchError
from shazam_assets.search.index import SearchIndex
from tests.search.conftest import EMBEDDER, photo


def test_descriptor_gives_unit_vectors_of_its_dimension() -> None:
    rng = np.random.default_rng(0)
    for shape in ((64, 64, 3), (120, 300, 3), (5, 7, 3)):
        vector = EMBEDDER.embed(rng.integers(0, 255, shape, dtype=np.uint8))
        assert vector.shape == (EMBEDDER.dim,) and vector.dtype == np.float32
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    with pytest.raises(SearchError) as refused:
        EMBEDDER.embed(np.zeros((8, 8), dtype=np.uint8))
    assert refused.value.code == "SEARCH_BAD_IMAGE"


def test_decode_image_composites_transparency_on_white_and_refuses_junk() -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), (255, 0, 0, 0)).save(buffer, "PNG")
    assert (decode_image(buffer.getvalue()) == 255).all()
    with pytest.raises(SearchError) as refused:
        decode_image(b"not a picture")
    assert refused.value.code == "SEARCH_BAD_IMAGE"


def _box(height: int, width: int, colours: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """A product stand-in: horizontal stripes of the given colours."""
    rows = np.arange(height) * len(colours) // height
    return np.asarray(colours, dtype=np.uint8)[rows][:, None, :].repeat(width, axis=1)


def _on(
    background: tuple[int, int, int], size: int, at: tuple[int, int], box: np.ndarray
) -> np.ndarray:
    canvas = np.empty((size, size, 3), dtype=np.uint8)
    canvas[:] = background
    canvas[at[0] : at[0] + box.shape[0], at[1] : at[1] + box.shape[1]] = box
    return canvas


def test_the_product_region_is_found_whatever_the_background() -> None:
    """The same object on white, on dark grey, and small in a corner embeds alike; another
    object on the same white background does not."""
    product = _box(40, 30, ((200, 30, 30), (30, 30, 200), (200, 30, 30)))
    same = [
        EMBEDDER.embed(_on(bg, size, at, product))
        for bg, size, at in (
            ((255, 255, 255), 96, (28, 33)),
            ((60, 60, 60), 96, (28, 33)),
            ((240, 230, 210), 160, (100, 10)),
        )
    ]
    other = EMBEDDER.embed(
        _on((255, 255, 255), 96, (20, 20), _box(50, 50, ((40, 160, 60), (230, 200, 40))))
    )
    assert min(float(same[0] @ v) for v in same[1:]) > 0.9
    assert float(same[0] @ other) < 0.8


def test_a_held_out_photo_finds_its_demo_product(search_products) -> None:
    """Index each product by its front-right photo and CPU renders; query with front-left."""
    index = SearchIndex(EMBEDDER)
    for slug, made in search_products.items():
        scene = cpu.load_scene(made.model)
        views = cpu.orbit_views(4, elevation_deg=15.0)
        pictures = [cpu.render(scene, v, size=96).rgb for v in views]
        pictures.append(photo(made.photos[0]))
        index.upsert(
            f"B0{slug.upper():0<8}",
            fields={"title": made.title},
            vectors=np.stack([EMBEDDER.embed(p) for p in pictures]),
        )
    for slug, made in search_products.items():
        hits = index.search_image(photo(made.photos[1]), k=3)
        assert hits[0].asin == f"B0{slug.upper():0<8}", (slug, hits)


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("clip", "SEARCH_EMBEDDER_UNKNOWN"),
        ("open_clip:", "SEARCH_EMBEDDER_UNKNOWN"),
        ("open_clip:/no/such/checkpoint.pt", "SEARCH_EMBEDDER_NOT_FOUND"),
        ("open_clip:ViT-B-32:relative.pt", "SEARCH_EMBEDDER_NOT_FOUND"),
    ],
)
def test_open_embedder_refuses_with_a_code(spec: str, code: str) -> None:
    with pytest.raises(SearchError) as refused:
        open_embedder(spec)
    assert refused.value.code == code


def test_open_clip_without_the_package_says_so(tmp_path) -> None:
    if importlib.util.find_spec("open_clip") is not None:
        pytest.skip("open_clip is installed here")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    with pytest.raises(SearchError) as refused:
        open_embedder(f"open_clip:ViT-B-32:{checkpoint}")
    assert refused.value.code == "SEARCH_EMBEDDER_UNAVAILABLE"


def test_the_default_spec_is_the_descriptor() -> None:
    embedder = open_embedder("descriptor")
    assert isinstance(embedder, DescriptorEmbedder) and embedder.name == EMBEDDER.name
