"""Image embedders: a picture in, a unit vector out, so similar products lie close together.

`DescriptorEmbedder` is the default and needs nothing but numpy, scipy and scikit-image: it
finds the product in the picture (everything that differs from the border colour), crops it
to a square, and describes it with colour histograms (global and on a 3 x 3 grid, in Lab so
lighting moves mostly L), edge orientations (HOG) of the crop's lightness, where the
background is flat so the outline counts as much as the texture, and a few colour moments.
Each block is L2-normalised and weighted; the whole vector is unit length, so cosine
similarity compares two pictures.

Other embedders plug in through the `Embedder` protocol; `open_embedder("open_clip:/path")`
loads an OpenCLIP model from a local checkpoint when the `open_clip` package is installed
(it is not a dependency; nothing is downloaded). The index records the embedder's `name` and
`dim` and refuses vectors of another, because distances between different embedders mean
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.feature import hog

from shazam_assets.platform import imaging
from shazam_assets.search.errors import SearchError

ByteImage = npt.NDArray[np.uint8]  # (h, w, 3) sRGB
Vector = npt.NDArray[np.float32]  # (dim,) unit length
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_SPEC = "descriptor"


class Embedder(Protocol):
    """What the index needs from an embedder."""

    @property
    def name(self) -> str:
        """Identifies the vector space: two embedders with one name give comparable vectors."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, rgb: ByteImage) -> Vector:
        """(h, w, 3) uint8 picture -> (dim,) float32 unit vector."""
        ...


# The descriptor works at 160 px and crops the product from the picture, so 1024 px on the
# longer side is plenty; a larger photo is decoded at 1/2 to 1/8 scale (see `imaging.decode`).
DECODE_LONGEST = 1024


def decode_image(
    data: imaging.Source, *, limits: imaging.ImageLimits = imaging.DEFAULT_LIMITS
) -> ByteImage:
    """Image bytes or file (JPEG, PNG, WebP, ...) as (h, w, 3) uint8, transparency composited
    on white (turntable frames and Khronos renders have transparent backgrounds). A picture
    declaring more pixels (or bytes) than `limits` is refused before decoding:
    SEARCH_PHOTO_TOO_LARGE; an unreadable one is SEARCH_BAD_IMAGE."""
    try:
        decoded = imaging.decode(data, longest=DECODE_LONGEST, limits=limits)
    except imaging.ImageRefused as exc:
        unreadable = exc.code == imaging.IMAGE_UNREADABLE
        code = "SEARCH_BAD_IMAGE" if unreadable else "SEARCH_PHOTO_TOO_LARGE"
        raise SearchError(code, f"cannot read the picture: {exc.message}") from None
    if decoded.mode != "RGBA":
        return np.asarray(decoded)
    white = Image.new("RGBA", decoded.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, decoded).convert("RGB"))


# --------------------------------------------------------------------------- descriptor


@dataclass(frozen=True)
class _Region:
    """The product's square crop: colours in Lab and which pixels belong to the product."""

    lab: FloatArray  # (s, s, 3) L in 0-100, a and b about -100-100
    mask: BoolArray  # (s, s)
    aspect: float  # width / height of the product's bounding box


def _resize(rgb: ByteImage, longest: int) -> ByteImage:
    image = Image.fromarray(rgb)
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))


def _foreground(lab: FloatArray) -> tuple[BoolArray, FloatArray]:
    """Pixels that differ from the background, taken as the median colour of the border; and
    that background colour (3,). Falls back to the whole picture when the split is implausible
    (nearly nothing or nearly everything differs: a close-up or a busy scene)."""
    h, w = lab.shape[:2]
    b = max(2, min(h, w) // 40)
    border = np.concatenate(
        [
            lab[:b].reshape(-1, 3),
            lab[-b:].reshape(-1, 3),
            lab[:, :b].reshape(-1, 3),
            lab[:, -b:].reshape(-1, 3),
        ]
    )  # (n, 3)
    background = np.median(border, axis=0)
    spread = np.percentile(np.linalg.norm(border - background, axis=1), 90)
    distance = np.linalg.norm(lab - background, axis=-1)  # (h, w)
    mask = distance > max(8.0, 2.0 * float(spread))
    mask = ndimage.binary_opening(mask, structure=np.ones((3, 3)))
    mask = ndimage.binary_fill_holes(ndimage.binary_closing(mask, structure=np.ones((5, 5))))
    share = float(mask.mean())
    if not 0.01 <= share <= 0.97:
        return np.ones((h, w), dtype=bool), background
    return mask, background


def _region(rgb: ByteImage, *, work_px: int, crop_px: int) -> _Region:
    """Segment the product at `work_px`, crop its bounding box (4 % margin) to a square
    padded with the background colour, and resample it to `crop_px`."""
    small = _resize(rgb, work_px)  # (h, w, 3)
    mask, background = _foreground(rgb2lab(small))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    aspect = (right - left) / (bottom - top)
    side = max(bottom - top, right - left)
    margin = max(1, round(0.04 * side))
    side += 2 * margin
    bg_rgb = _lab_to_rgb8(background)
    canvas = np.empty((side, side, 3), dtype=np.uint8)
    canvas[:] = bg_rgb
    hole = np.zeros((side, side), dtype=bool)
    y0 = (side - (bottom - top)) // 2
    x0 = (side - (right - left)) // 2
    canvas[y0 : y0 + bottom - top, x0 : x0 + right - left] = small[top:bottom, left:right]
    hole[y0 : y0 + bottom - top, x0 : x0 + right - left] = mask[top:bottom, left:right]
    crop = np.asarray(Image.fromarray(canvas).resize((crop_px, crop_px), Image.Resampling.BILINEAR))
    cover = Image.fromarray(hole.astype(np.uint8) * 255).resize(
        (crop_px, crop_px), Image.Resampling.BILINEAR
    )
    return _Region(lab=rgb2lab(crop), mask=np.asarray(cover) >= 128, aspect=float(aspect))


def _lab_to_rgb8(lab: FloatArray) -> ByteImage:
    from skimage.color import lab2rgb

    rgb = lab2rgb(np.asarray(lab, dtype=np.float64).reshape(1, 1, 3))[0, 0]
    rgb8: ByteImage = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return rgb8


_AB_RANGE = (-48.0, 48.0)


def _colour_histogram(pixels: FloatArray, bins: tuple[int, int, int]) -> FloatArray:
    """Smoothed Lab histogram of (n, 3) pixels, flattened, square-rooted (Hellinger)."""
    if len(pixels) == 0:
        return np.zeros(int(np.prod(bins)))
    clipped = np.column_stack([np.clip(pixels[:, 0], 0, 99.9), np.clip(pixels[:, 1:], *_AB_RANGE)])
    hist, _ = np.histogramdd(clipped, bins=bins, range=[(0, 100), _AB_RANGE, _AB_RANGE])
    hist = ndimage.gaussian_filter(hist, sigma=0.6, mode="nearest")
    histogram: FloatArray = np.sqrt(hist.ravel() / max(hist.sum(), 1e-12))
    return histogram


def _grid_histograms(region: _Region, cells: int = 3) -> FloatArray:
    """a/b histograms (4 x 4) of the product pixels in each cell of a cells x cells grid,
    weighted by how much of the cell the product covers: where which colour sits."""
    s = region.lab.shape[0]
    edges = np.linspace(0, s, cells + 1).astype(int)
    blocks = []
    for i in range(cells):
        for j in range(cells):
            lab = region.lab[edges[i] : edges[i + 1], edges[j] : edges[j + 1]]
            mask = region.mask[edges[i] : edges[i + 1], edges[j] : edges[j + 1]]
            hist = _colour_histogram(lab[mask], (1, 4, 4))
            blocks.append(hist * np.sqrt(mask.mean()))
    return np.concatenate(blocks)


def _moments(region: _Region) -> FloatArray:
    """Mean and spread of L, a, b over the product, the box aspect (log) and fill ratio."""
    pixels = region.lab[region.mask] if region.mask.any() else region.lab.reshape(-1, 3)
    return np.concatenate(
        [
            pixels.mean(axis=0) / 50.0,
            pixels.std(axis=0) / 25.0,
            [np.log(region.aspect), region.mask.mean()],
        ]
    )


def _hog(image: FloatArray) -> FloatArray:
    return np.asarray(
        hog(
            image,
            orientations=9,
            pixels_per_cell=(16, 16),
            cells_per_block=(2, 2),
            block_norm="L2-Hys",
            feature_vector=True,
        ),
        dtype=np.float64,
    )


def _unit(block: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(block))
    return block / norm if norm > 0 else block


@dataclass(frozen=True)
class DescriptorEmbedder:
    """Hand-made product descriptor (see the module docstring); about 5 ms a picture."""

    work_px: int = 160  # segmentation resolution (longest side)
    crop_px: int = 64  # the product crop the blocks are computed on
    # Block weights, tuned on bench/bench_search.py (recall@1 of held-out photos and renders;
    # a wide plateau around these values). A HOG of the silhouette alone lowered recall.
    weights: dict[str, float] = field(
        default_factory=lambda: {"colour": 1.0, "grid": 0.3, "hog": 1.2, "moments": 0.6}
    )

    @property
    def name(self) -> str:
        return "descriptor/1"

    @property
    def dim(self) -> int:
        hog_blocks = (self.crop_px // 16 - 1) ** 2 * 4 * 9  # 2 x 2 cells of 9 orientations each
        return 4 * 8 * 8 + 9 * 4 * 4 + hog_blocks + 8

    def blocks(self, rgb: ByteImage) -> dict[str, FloatArray]:
        """The unweighted, unit-length blocks of one picture (for tuning and tests)."""
        region = _region(rgb, work_px=self.work_px, crop_px=self.crop_px)
        return {
            "colour": _unit(_colour_histogram(region.lab[region.mask], (4, 8, 8))),
            "grid": _unit(_grid_histograms(region)),
            "hog": _unit(_hog(region.lab[..., 0] / 100.0)),
            "moments": _unit(_moments(region)),
        }

    def embed(self, rgb: ByteImage) -> Vector:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise SearchError(
                "SEARCH_BAD_IMAGE", f"expected (h, w, 3) uint8, got {rgb.shape} {rgb.dtype}"
            )
        blocks = self.blocks(rgb)
        vector = np.concatenate([self.weights[name] * block for name, block in blocks.items()])
        return _unit(vector).astype(np.float32)


# --------------------------------------------------------------------------- OpenCLIP


class OpenClipEmbedder:
    """An OpenCLIP image tower from a local checkpoint (a file with `arch`, or a directory with
    open_clip_config.json). Only constructed through `open_embedder`; needs `open_clip`."""

    def __init__(self, *, arch: str, path: Path, open_clip: Any) -> None:
        import torch

        pretrained = str(path)
        model_name = f"local-dir:{path}" if path.is_dir() else arch
        created = open_clip.create_model_and_transforms(
            model_name, pretrained=None if path.is_dir() else pretrained
        )
        self._model, self._preprocess = created[0].eval(), created[2]
        self._torch = torch
        self._name = f"open_clip/{arch}/{path.name}"
        self._dim = int(self._model.visual.output_dim)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, rgb: ByteImage) -> Vector:
        batch = self._preprocess(Image.fromarray(rgb)).unsqueeze(0)
        with self._torch.no_grad():
            features = self._model.encode_image(batch)[0].float().cpu().numpy()
        return _unit(features.astype(np.float64)).astype(np.float32)


def open_embedder(spec: str = DEFAULT_SPEC) -> Embedder:
    """`descriptor` (the default), or `open_clip:/local/dir` / `open_clip:ARCH:/local/file.pt`
    (ARCH defaults to ViT-B-32 for a file). Never downloads anything."""
    if spec == DEFAULT_SPEC:
        return DescriptorEmbedder()
    kind, _, rest = spec.partition(":")
    if kind != "open_clip" or not rest:
        raise SearchError(
            "SEARCH_EMBEDDER_UNKNOWN",
            f"unknown embedder {spec!r}; use 'descriptor' or 'open_clip:/path/to/checkpoint'",
        )
    arch, path_text = (
        ("ViT-B-32", rest)
        if rest.startswith("/")
        else rest.split(":", 1)
        if ":" in rest
        else ("", rest)
    )
    path = Path(path_text)
    if not arch or not path.is_absolute() or not path.exists():
        raise SearchError(
            "SEARCH_EMBEDDER_NOT_FOUND", f"{spec!r}: no local checkpoint at {path_text!r}"
        )
    try:
        import open_clip
    except ImportError:
        raise SearchError(
            "SEARCH_EMBEDDER_UNAVAILABLE",
            f"{spec!r} needs the open_clip package (pip install open_clip_torch); it is optional",
        ) from None
    return OpenClipEmbedder(arch=arch, path=path, open_clip=open_clip)
