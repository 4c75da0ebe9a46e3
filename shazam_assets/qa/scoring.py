"""Visual QA: does the delivered model look like the product in its reference photos?

The model is rendered from a ring of views around it by the product's studio renderer
(`shazam_assets.platform.renderer`, the one the turntable uses: glTF PBR materials in a studio room),
so QA judges the model as shoppers will see it; every reference photo is compared with every
view and keeps its best match. A comparison looks at:

- the silhouette: the photo's product mask (background estimated from the photo's border)
  and the render's mask, each cropped to its bounding box, centred in a square frame (the
  aspect ratio survives) and resampled to the same small grid, then intersection over union;
- the colour: mean CIEDE2000 difference between photo and render in CIELAB, over the pixels
  that both masks cover in that same normalised frame, so framing and size do not matter.

Both become one score in 0..1 (`combined_score`); the delivery's score is the mean over its
photos. `QAThresholds` turns that score into WARN or ERROR, calibrated on real models (see
`bench/bench_qa_separation.py`). The absolute numbers depend on how closely the studio's
lighting matches the photographer's, so the thresholds are about telling the right product
from a wrong one, not about photorealism.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.measure import label

from shazam_assets.platform import imaging
from shazam_assets.platform.errors import Severity
from shazam_assets.platform.renderer import (
    Camera,
    ModelInfo,
    RenderError,
    StudioRenderer,
    run_with_deadline,
)
from shazam_assets.qa import scoring_version
from shazam_assets.qa.raster import DEFAULT_BACKGROUND, Rendering, View, orbit_views

SCORING_VERSION = scoring_version.SCORING_VERSION  # recorded in scores.json; defined once there

ByteArray = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# How comparisons become scores. Chosen on the measurements of bench/bench_qa_separation.py
# (7 models x 7 products): these round values gave the widest same-vs-other margin there.
# CLOSE_UP_DELTA_E_SCALE went from 20 to 15 with the studio renderer: it matches the Khronos
# close-ups to a palette distance of 3-4.5 (the numpy renderer: 4-6), and 15 took the highest
# wrong-product score from 0.59 to 0.52 (above the lowest right product's 0.59 before) while
# the right products' close-ups kept 0.70 and more.
FRAME = 64  # side of the common square frame the masks and colours are compared in
IOU_WEIGHT = 0.4  # share of the silhouette in the combined score; the colour has the rest
DELTA_E_SCALE = 30.0  # a mean CIEDE2000 this large counts as "no colour agreement at all"
_PHOTO_WORK_SIZE = 256  # photos are segmented at this longest side (speed, JPEG noise)
_BORDER = 0.03  # share of the photo's side read as the border that shows the background
_FOREGROUND_DELTA_E = 5.0  # least CIE76 distance from the background that counts as product
_PLAIN_DELTA_E = 12.0  # CIE76 distance from the border's median that still reads as backdrop
_NO_OVERLAP_DELTA_E = 100.0  # reported when the two silhouettes share no pixel
PLAIN_BORDER = 0.85  # a product shot's border is at least this much plain background
MIN_PRODUCT_SHARE = 0.03  # a product shot's product covers at least this much of the photo
CLOSE_UP_DELTA_E_SCALE = 15.0  # as DELTA_E_SCALE, for close-ups (distance to the palette)
PALETTE_SIZE = 8  # dominant colours of a rendered view, for comparing close-ups
_CLOSE_UP_SAMPLES = 32  # a close-up is compared at this many pixels a side
VIEW_MARGIN = 1.08  # the bounding sphere fills a view's frame with this much air around it


@dataclass(frozen=True)
class QAThresholds:
    """Where the visual match score (0..1, `VisualQA.score`) stops being acceptable.

    score < `error` -> ERROR (blocks approval: most likely the wrong product, a missing or
    wrong texture, or a broken model); `error` <= score < `warn` -> WARN (the reviewer compares
    carefully); otherwise no finding.

    Calibrated with `bench/bench_qa_separation.py` (Khronos Mixer and WickerChair against
    their sample renders, five demo products against their photos, every model against every
    product's photos, all rendered by the studio renderer): the same product scored
    0.59-0.85, another product 0.07-0.52, with 38 of the 42 wrong pairs below 0.45. `error`
    sits 0.14 under the lowest right product, so a real delivery is not blocked for imperfect
    photos, and above `IOU_WEIGHT` (0.4), the most a model of the right shape scores when its
    colours are all wrong (mean dE >= `DELTA_E_SCALE`), so a wrong texture is blocked. `warn`
    sits between the highest wrong (0.52) and the lowest right product (0.59), where the two
    overlap once photos are real. Re-run the bench when the renderer, the views or the
    score's weights change.
    """

    warn: float = 0.56
    error: float = 0.45

    def severity(self, score: float) -> Severity | None:
        """ERROR, WARNING or None (acceptable) for a delivery's score."""
        if score < self.error:
            return Severity.ERROR
        return Severity.WARNING if score < self.warn else None


@dataclass(frozen=True)
class PhotoScore:
    """How well the best rendered view matches one reference photo."""

    photo: str  # file name of the photo
    best_view: str  # name of the view that matched best
    silhouette_iou: float  # 0..1 in the normalised square frame; 0.0 for a close-up
    delta_e: float  # mean CIEDE2000 over the product region (close-up: to the view's palette)
    score: float  # 0..1 combined (`combined_score`, or `close_up_score` for a close-up)
    close_up: bool = False  # the product runs off the photo's frame: scored on colour only

    @property
    def caption(self) -> str:
        """One line for a contact sheet or a report."""
        if self.close_up:
            return f"{self.photo} (close-up, colour only): {self.best_view}, dE {self.delta_e:.1f}"
        return (
            f"{self.photo}: {self.best_view}, IoU {self.silhouette_iou:.2f}, "
            f"dE {self.delta_e:.1f}, score {self.score:.2f}"
        )


@dataclass(frozen=True)
class VisualQA:
    """The visual match of one model against all its reference photos."""

    photos: tuple[PhotoScore, ...]
    score: float  # mean of the per-photo best scores, 0..1
    views: tuple[str, ...]  # the rendered views, in order
    seconds: float  # wall time of the whole scoring, loading and rendering included


@dataclass(frozen=True, eq=False)
class _Framed:
    """A picture reduced to the comparison frame: its silhouette and its colours."""

    mask: BoolArray  # (FRAME, FRAME)
    lab: FloatArray  # (FRAME, FRAME, 3) CIELAB


@dataclass(frozen=True, eq=False)
class _Reference:
    """A reference photo ready for comparison."""

    name: str
    framed: _Framed
    close_up: bool
    samples: FloatArray  # (s, 3) CIELAB colours of the whole photo, coarsely sampled


@dataclass(frozen=True, eq=False)
class _Print:
    """A rendered view ready for comparison."""

    view: View
    framed: _Framed
    palette: FloatArray  # (PALETTE_SIZE, 3) CIELAB dominant colours of the product pixels


def default_views() -> tuple[View, ...]:
    """The twelve views QA renders: six around the product slightly above it and six higher,
    the second ring turned by half a step, so product shots from any side find a neighbour
    within 30 degrees."""
    return orbit_views(6, elevation_deg=10.0) + orbit_views(6, elevation_deg=25.0, start_deg=30.0)


def combined_score(silhouette_iou: float, delta_e: float) -> float:
    """Silhouette agreement and colour agreement as one number in 0..1."""
    colour = max(0.0, 1.0 - delta_e / DELTA_E_SCALE)
    return IOU_WEIGHT * silhouette_iou + (1.0 - IOU_WEIGHT) * colour


def close_up_score(delta_e: float) -> float:
    """A close-up's score, from colour alone, in 0..1."""
    return max(0.0, 1.0 - delta_e / CLOSE_UP_DELTA_E_SCALE)


def score_model_against_photos(
    model: Path,
    photos: Sequence[Path],
    *,
    views: Sequence[View] | None = None,
    size: int = 192,
) -> tuple[VisualQA, list[Rendering]]:
    """Render the model from every view, compare every photo with every view, keep the best.

    Returns the scores and the renderings (for a contact sheet of the best matches). Raises
    ValueError for a model without triangles or an empty photo list.
    """
    if not photos:
        raise ValueError("no reference photos to compare the model with")
    started = time.perf_counter()
    views = tuple(views) if views is not None else default_views()
    renderings = render_views(Path(model), views, size=size)
    prints = [_print(r) for r in renderings]
    scores = [_best_match(_reference(Path(photo)), prints) for photo in photos]
    qa = VisualQA(
        photos=tuple(scores),
        score=round(float(np.mean([s.score for s in scores])), 4),
        views=tuple(v.name for v in views),
        seconds=round(time.perf_counter() - started, 3),
    )
    return qa, renderings


# --------------------------------------------------------------------------------------------
# Rendering the views with the studio renderer
# --------------------------------------------------------------------------------------------


QA_RENDER_DEADLINE_S = 300.0  # a few small views: minutes mean the model hangs the renderer


def render_views(
    model: Path, views: Sequence[View], *, size: int = 192, deadline_s: float = QA_RENDER_DEADLINE_S
) -> list[Rendering]:
    """The model seen from every view by the product's studio renderer, `size` px square.

    QA looks at the model the way the storefront's turntable shows it (the same materials,
    lighting and tone mapping). The studio renders on a transparent background, so its alpha
    is the exact silhouette even for a white product on white; the picture is then laid on
    the studio grey that the photos' backdrop estimate expects. The views are rendered in a
    process of their own under `deadline_s` (studio.run_with_deadline): a model that hangs
    the renderer is stopped with RENDER_TIMEOUT. Raises RenderError (a ValueError) for a
    model without triangles or one the renderer cannot draw.
    """
    return run_with_deadline(
        _render_views, Path(model), tuple(views), size,
        deadline_s=deadline_s, what=f"the QA views of {Path(model).name}",
    )  # fmt: skip


def _render_views(model: Path, views: tuple[View, ...], size: int) -> list[Rendering]:
    with StudioRenderer(width=size, height=size, background="transparent") as studio:
        info = studio.load(model)
        if info.triangles == 0:
            raise RenderError("RENDER_NO_GEOMETRY", f"{model.name}: no triangles to render")
        return [_on_backdrop(studio.render(view_camera(info, view)), view) for view in views]


def view_camera(info: ModelInfo, view: View) -> Camera:
    """The studio camera of a QA view: from the view's azimuth (from +Z towards +X) and
    elevation, looking at the centre of the model's bounds from where its bounding sphere
    fills the square frame with `VIEW_MARGIN`, so any model size renders the same picture."""
    lo, hi = np.array(info.bounds_min), np.array(info.bounds_max)  # (3,) each
    centre, radius = (lo + hi) / 2, max(float(np.linalg.norm(hi - lo)) / 2, 1e-9)
    az, el = np.radians(view.azimuth_deg), np.radians(view.elevation_deg)
    direction = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    eye = centre + direction * radius * VIEW_MARGIN / np.sin(np.radians(view.fov_deg) / 2)
    up = (0.0, 0.0, -1.0) if abs(direction[1]) > 0.9999 else (0.0, 1.0, 0.0)  # straight down
    return Camera(
        eye=(float(eye[0]), float(eye[1]), float(eye[2])),
        target=(float(centre[0]), float(centre[1]), float(centre[2])),
        up=up,
        yfov_deg=view.fov_deg,
    )


def _on_backdrop(rgba: ByteArray, view: View) -> Rendering:
    """A studio picture (h, w, 4) laid on the studio grey; its mask is the pixels at least
    half covered, as in the numpy renderer."""
    alpha = rgba[..., 3:].astype(np.float64) / 255.0  # (h, w, 1)
    backdrop = np.asarray(DEFAULT_BACKGROUND, dtype=np.float64)
    rgb = rgba[..., :3] * alpha + backdrop * (1.0 - alpha)
    return Rendering(rgb=np.round(rgb).astype(np.uint8), mask=rgba[..., 3] >= 128, view=view)


def _best_match(photo: _Reference, prints: Sequence[_Print]) -> PhotoScore:
    """The photo's score against each rendered view; the highest wins."""
    candidates = []
    for shot in prints:
        if photo.close_up:
            iou, delta_e = 0.0, _palette_delta_e(photo.samples, shot.palette)
            score = close_up_score(delta_e)
        else:
            iou = _iou(photo.framed.mask, shot.framed.mask)
            delta_e = _mean_delta_e(photo.framed, shot.framed)
            score = combined_score(iou, delta_e)
        candidates.append((score, iou, delta_e, shot.view.name))
    score, iou, delta_e, view = max(candidates, key=lambda c: c[0])
    return PhotoScore(
        photo=photo.name,
        best_view=view,
        silhouette_iou=round(iou, 4),
        delta_e=round(delta_e, 2),
        score=round(score, 4),
        close_up=photo.close_up,
    )


def _iou(a: BoolArray, b: BoolArray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 0.0


def _mean_delta_e(a: _Framed, b: _Framed) -> float:
    """Mean CIEDE2000 over the pixels both silhouettes cover."""
    both = a.mask & b.mask
    if not both.any():
        return _NO_OVERLAP_DELTA_E
    return float(deltaE_ciede2000(a.lab[both], b.lab[both]).mean())  # type: ignore[no-untyped-call]  # skimage leaves it unannotated


def _palette_delta_e(samples: FloatArray, palette: FloatArray) -> float:
    """Mean CIEDE2000 from each sampled photo colour to its nearest palette colour."""
    if not len(palette):
        return _NO_OVERLAP_DELTA_E
    # pairs: (s, PALETTE_SIZE), each sample against each palette colour
    pairs = deltaE_ciede2000(samples[:, None, :], palette[None, :, :])  # type: ignore[no-untyped-call]  # skimage leaves it unannotated
    return float(pairs.min(axis=1).mean())


def _print(rendering: Rendering) -> _Print:
    """A rendered view's silhouette (holes filled, as in the photos) and dominant colours."""
    mask = ndimage.binary_fill_holes(rendering.mask)
    product = rgb2lab(rendering.rgb[rendering.mask])  # (p, 3)
    return _Print(rendering.view, _frame(rendering.rgb, mask), _palette(product))


def _palette(lab: FloatArray) -> FloatArray:
    """The PALETTE_SIZE dominant colours (k-means centres, fixed seed) of (p, 3) colours;
    fewer when the model has fewer distinct colours (a flat material)."""
    step = max(1, len(lab) // 4000)  # k-means on a few thousand pixels is plenty
    sample = lab[::step]
    distinct = np.unique(np.round(sample, 1), axis=0)
    if len(distinct) <= PALETTE_SIZE:
        return distinct
    with warnings.catch_warnings():  # an empty cluster is dropped below, not an error
        warnings.simplefilter("ignore", UserWarning)
        centres, assigned = kmeans2(sample, PALETTE_SIZE, minit="++", seed=0)
    dominant: FloatArray = centres[np.unique(assigned)]
    return dominant


def _reference(path: Path) -> _Reference:
    """Read, segment and frame a reference photo; tell whether it is a close-up."""
    rgb = read_photo(path)
    mask = segment_photo(rgb)
    sampled = Image.fromarray(rgb).resize(
        (_CLOSE_UP_SAMPLES, _CLOSE_UP_SAMPLES), Image.Resampling.BOX
    )
    return _Reference(
        name=path.name,
        framed=_frame(rgb, mask),
        close_up=is_close_up(rgb, mask),
        samples=rgb2lab(np.asarray(sampled)).reshape(-1, 3),
    )


# --------------------------------------------------------------------------------------------
# Photos: reading, segmentation, framing
# --------------------------------------------------------------------------------------------


def read_photo(path: Path, *, longest: int = _PHOTO_WORK_SIZE) -> ByteArray:
    """A photo as (h, w, 3) uint8 sRGB, at most `longest` pixels on its longer side.

    Decoded through `imaging.decode`: a header that declares more pixels than the limit is
    refused (ImageRefused, IMAGE_TOO_MANY_PIXELS) before anything is decoded, and a large JPEG
    is decoded at reduced DCT scale. Transparent pixels (a cut-out PNG) are laid on the
    renderer's studio grey, so the product stands on a plain background like in any other photo.
    """
    rgb = imaging.decode(path, longest=longest)
    if rgb.mode == "RGBA":
        backdrop = Image.new("RGBA", rgb.size, (*DEFAULT_BACKGROUND, 255))
        rgb = Image.alpha_composite(backdrop, rgb).convert("RGB")
    scale = longest / max(rgb.size)
    if scale < 1:
        target = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(target, Image.Resampling.BOX)
    return np.asarray(rgb, dtype=np.uint8)


def _border(lab: FloatArray) -> FloatArray:
    """The colours (n, 3) of a band around the picture's edge, where a product shot shows
    nothing but its background."""
    h, w = lab.shape[:2]
    band = max(1, round(_BORDER * min(h, w)))
    return np.concatenate(
        [
            lab[:band].reshape(-1, 3),
            lab[-band:].reshape(-1, 3),
            lab[:, :band].reshape(-1, 3),
            lab[:, -band:].reshape(-1, 3),
        ]
    )


def plain_border_fraction(rgb: ByteArray) -> float:
    """Share of the photo's border within reach of its median colour: near 1 for a product on
    a plain backdrop, far below `PLAIN_BORDER` for a close-up that the product fills."""
    border = _border(rgb2lab(np.asarray(rgb)[..., :3]))
    distance = np.linalg.norm(border - np.median(border, axis=0), axis=1)
    return float(np.mean(distance <= _PLAIN_DELTA_E))


def is_close_up(rgb: ByteArray, mask: BoolArray) -> bool:
    """True when the photo has no usable product silhouette: its border is not a plain
    backdrop (the product runs off the frame), or the product found covers almost nothing
    (a detail shot of a plain surface looks like an empty backdrop)."""
    return plain_border_fraction(rgb) < PLAIN_BORDER or mask.mean() < MIN_PRODUCT_SHARE


def segment_photo(rgb: ByteArray) -> BoolArray:
    """The product mask (h, w) of a product photo on a plain background.

    The background colour is the median of the photo's border; pixels farther from it in
    CIELAB than a few units (more on a noisy backdrop) are product, so even a white product on
    a white sweep separates by its shading. The largest connected region is kept (dust, reflections and text elsewhere
    drop out) and its holes are filled, so see-through parts (wicker, a mug's handle seen
    edge-on) count as product, the same as in the render's silhouette.
    """
    lab = rgb2lab(np.asarray(rgb)[..., :3])  # (h, w, 3)
    border = _border(lab)
    background = np.median(border, axis=0)
    noise = np.median(np.linalg.norm(border - background, axis=1))  # robust to a touching product
    threshold = max(_FOREGROUND_DELTA_E, 3.0 * noise)  # a grainy or graded backdrop raises it
    foreground = np.linalg.norm(lab - background, axis=-1) > threshold
    foreground = ndimage.binary_opening(foreground, iterations=1)
    labels = label(foreground, connectivity=2)  # type: ignore[no-untyped-call]  # skimage leaves it unannotated
    if labels.max() == 0:
        return np.zeros(lab.shape[:2], dtype=bool)
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    product: BoolArray = ndimage.binary_fill_holes(labels == largest)
    return product


def _frame(rgb: ByteArray, mask: BoolArray) -> _Framed:
    """Crop a picture to its mask's bounding box, centre it in a square and resample it to
    FRAME x FRAME, so two pictures of the same object at any size and position line up."""
    if not mask.any():
        return _Framed(np.zeros((FRAME, FRAME), bool), np.zeros((FRAME, FRAME, 3)))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = max(bottom - top, right - left)
    cy, cx = (top + bottom) / 2, (left + right) / 2
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    coverage = Image.fromarray(mask.astype(np.float32), mode="F").transform(
        (FRAME, FRAME), Image.Transform.EXTENT, box, resample=Image.Resampling.BILINEAR
    )
    colour = Image.fromarray(np.ascontiguousarray(rgb[..., :3]), mode="RGB").transform(
        (FRAME, FRAME), Image.Transform.EXTENT, box, resample=Image.Resampling.BILINEAR
    )
    return _Framed(np.asarray(coverage) >= 0.5, rgb2lab(np.asarray(colour)))


# --------------------------------------------------------------------------------------------
# Contact sheet
# --------------------------------------------------------------------------------------------

PANEL = 192  # side of one picture on the contact sheet, pixels
CAPTION = 20  # height of the caption strip under each row
GAP = 6  # space between and around the panels


def contact_sheet(pairs: Sequence[tuple[ByteArray, ByteArray, str]], out: Path) -> Path:
    """Write a PNG with one row per (render, reference, caption): render left, reference
    right, each fitted into a PANEL square, the caption under the row. Returns `out`."""
    if not pairs:
        raise ValueError("a contact sheet needs at least one pair")
    width = 3 * GAP + 2 * PANEL
    row_height = PANEL + CAPTION + GAP
    sheet = Image.new("RGB", (width, GAP + len(pairs) * row_height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, (rendered, reference, caption) in enumerate(pairs):
        top = GAP + index * row_height
        for column, picture in enumerate((rendered, reference)):
            panel = _fit(picture)
            left = GAP + column * (PANEL + GAP)
            sheet.paste(
                panel, (left + (PANEL - panel.width) // 2, top + (PANEL - panel.height) // 2)
            )
        draw.text((GAP, top + PANEL + 4), caption, fill=(20, 20, 20))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out


def _fit(picture: ByteArray) -> Image.Image:
    """The picture scaled to fit a PANEL x PANEL square, aspect ratio kept."""
    image = Image.fromarray(np.ascontiguousarray(np.asarray(picture)[..., :3]), mode="RGB")
    scale = PANEL / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, Image.Resampling.LANCZOS)
