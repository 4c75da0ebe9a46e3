"""Channel derivatives: the smaller copy of an approved master that each sales channel serves.

A derivative is the master with Draco geometry (KHR_draco_mesh_compression) and WebP textures
(EXT_texture_webp) resized to the channel's maximum, made by glTF-Transform
(`shazam_assets.platform.gltf_tools`). Every material, every extension and the
KHR_materials_variants variants and mappings are kept. It **ships only if** all of these hold,
else it is refused with a stable code and the page serves the master:

- the Khronos glTF-Validator reports zero errors (PUBLISH_DERIVATIVE_INVALID);
- it kept the master's materials, variants, mappings and extensions
  (PUBLISH_DERIVATIVE_INCOMPLETE);
- rendered by the studio renderer from `VIEWS` cameras around the model, every view's SSIM
  against the master's is at least the channel's floor (PUBLISH_DERIVATIVE_SSIM). The
  renderer cannot decode Draco, so the derivative is decoded back to plain geometry first
  (WebP textures are drawn as they are), which checks what a browser will draw;
- it fits the channel's byte budget (PUBLISH_DERIVATIVE_OVER_BUDGET) and is smaller than the
  master (PUBLISH_DERIVATIVE_NOT_SMALLER: a bigger copy is pointless).

Why Draco and WebP: the product pages already serve model-viewer's Draco decoder from their
own static folder (`platform.viewer`), while meshopt would need its decoder served as well,
and KTX2 needs KTX-Software's `toktx` binary, which npm does not ship. WebP is decoded by every
browser model-viewer supports.

A glTF tool that fails or hangs on the model refuses the derivative with its code
(GLTF_TOOLS_FAILED, GLTF_TOOLS_TIMEOUT). Missing Node or tools raise `GltfToolsError`
(GLTF_TOOLS_MISSING); a render that fails raises its `RenderError` (RENDER_CRASHED is
transient). Nothing here imports Dagster.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from skimage.metrics import structural_similarity

from shazam_assets.platform.gltf_tools import GltfTools, GltfToolsError, ValidatorReport, find_tools
from shazam_assets.platform.renderer import (
    Camera,
    StudioRenderer,
    run_with_deadline,
    turntable_cameras,
)
from shazam_assets.platform.renderer.source import read_source

MB = 1024 * 1024
VIEWS = 4  # cameras around the model, 90 degrees apart, 15 degrees above
VIEW_PX = 320  # square views; a few seconds for master and derivative on a CPU renderer
RENDER_DEADLINE_S = 180.0
_SSIM_MARGIN_PX = 8
Log = Callable[[str], None]
Image = npt.NDArray[np.uint8]  # (h, w, 3) RGB on white


@dataclass(frozen=True)
class ChannelProfile:
    """What one channel serves: geometry codec, texture format and longest side, the byte
    budget of the whole .glb and the SSIM floor every view must reach against the master.
    Draco's quantization bits are per attribute (glTF-Transform's defaults)."""

    name: str
    description: str
    max_bytes: int
    texture_max_px: int
    min_ssim: float
    texture_format: Literal["webp"] = "webp"
    texture_quality: int = 85  # WebP quality, 1-100
    geometry: Literal["draco"] = "draco"
    # Draco's edgebreaker coder cost the demo lamp's metal base 0.035 SSIM in every view
    # (its render shows streaks the master has not) at any quantization; the sequential
    # coder scores 0.9998 at the same bits, for a few percent more bytes.
    draco_method: Literal["sequential", "edgebreaker"] = "sequential"
    quantize_position: int = 14
    quantize_normal: int = 10
    quantize_texcoord: int = 12
    quantize_color: int = 8
    quantize_generic: int = 12

    def tool_options(self) -> dict[str, Any]:
        """The options `gltf_tools.mjs derive` takes."""
        names = ("texture_format", "texture_max_px", "texture_quality", "draco_method",
                 "quantize_position",
                 "quantize_normal", "quantize_texcoord", "quantize_color", "quantize_generic")  # fmt: skip
        return {name: getattr(self, name) for name in names}


# Budgets from ../shared/docs/field-notes.md: the Khronos 3D Commerce guidelines ask for
# textures of 1k-2k (2k for normal maps) and ideally < 5 MB for web and mobile AR; Google
# Merchant Center allows textures up to 2K. Web takes the top of both (2048 px, 5 MB); mobile
# the bottom of the texture range (1024 px) and 2 MB for a phone on a cellular link.
# The SSIM floor (views cropped to the product, see `_ssim`) is measured, docs/benchmarks.md
# "Channel derivatives": good derivatives of the 3DC models and demo products score
# 0.968-0.999 (WickerChair's thin alpha-cut wicker lowest), while the same models with 8 px
# textures or 6-bit positions score 0.77-0.95; 0.96 lies between.
PROFILES: dict[str, ChannelProfile] = {
    p.name: p
    for p in (
        ChannelProfile(
            name="web",
            description="Desktop product page: 2K textures (3D Commerce's top), under its 5 MB ideal.",
            max_bytes=5 * MB,
            texture_max_px=2048,
            min_ssim=0.96,
        ),
        ChannelProfile(
            name="mobile",
            description="Phones on a cellular link: 1K textures (3D Commerce's floor), 2 MB.",
            max_bytes=2 * MB,
            texture_max_px=1024,
            texture_quality=80,
            min_ssim=0.96,
        ),
    )
}


@dataclass(frozen=True)
class Derivative:
    """One channel's derivative of a master and what its checks measured. `path` is None
    when it was refused (`code` and `message` say why; the page then serves the master)."""

    channel: str
    path: Path | None
    master_bytes: int
    bytes: int  # the derivative as made (also when refused)
    master_triangles: int
    triangles: int  # as the renderer draws it, decoded (Draco drops degenerate triangles)
    textures: tuple[tuple[int, int], ...]  # (width, height) px of each texture
    validator_errors: int
    validator_warnings: int
    ssim: tuple[float, ...]  # one per view; empty when not rendered
    seconds: float
    code: str | None = None
    message: str = ""

    @property
    def ships(self) -> bool:
        return self.path is not None

    @property
    def ssim_min(self) -> float | None:
        return min(self.ssim) if self.ssim else None

    @property
    def ratio(self) -> float:
        """Derivative bytes over master bytes."""
        return self.bytes / self.master_bytes if self.master_bytes else 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain dict for the release record (sizes before/after per ASIN)."""
        record = asdict(self)
        record.update(path=self.path.name if self.path else None, ssim_min=self.ssim_min)
        record["textures"] = [list(size) for size in self.textures]
        record["ssim"] = [round(s, 4) for s in self.ssim]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any], *, folder: Path) -> Derivative:
        """The record `to_json` wrote; its file is looked for in `folder`."""
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        name = fields.pop("path")
        fields.update(
            path=folder / name if name else None,
            textures=tuple((int(w), int(h)) for w, h in record["textures"]),
            ssim=tuple(float(x) for x in record["ssim"]),
        )
        return cls(**fields)


@dataclass(frozen=True)
class Reference:
    """The master's views: the cameras (from the master's bounds) and its renders."""

    master: Path
    cameras: tuple[Camera, ...]
    images: tuple[Image, ...] = field(repr=False)
    triangles: int


def render_reference(master: Path, *, views: int = VIEWS, size: int = VIEW_PX) -> Reference:
    """Render the master once; `derive` compares every channel's derivative with it."""
    cameras, images, triangles = run_with_deadline(
        _render_master, Path(master), views, size,
        deadline_s=RENDER_DEADLINE_S, what=f"the reference views of {Path(master).name}",
    )  # fmt: skip
    return Reference(Path(master), tuple(cameras), tuple(images), triangles)


def derive(
    master: Path,
    out_dir: Path,
    profile: ChannelProfile,
    *,
    reference: Reference | None = None,
    tools: GltfTools | None = None,
    log: Log = lambda _: None,
) -> Derivative:
    """Make `out_dir/<master stem>.<channel>.glb` and check it; a refused one is deleted and
    returned with its code. A tool that fails or hangs on this model refuses it too
    (GLTF_TOOLS_FAILED, GLTF_TOOLS_TIMEOUT); missing tools raise GLTF_TOOLS_MISSING, and a
    render that fails raises its RenderError. `reference` (from `render_reference`) saves
    rendering the master again for each channel."""
    started = time.perf_counter()
    tools = tools or find_tools()
    master = Path(master)
    reference = reference or render_reference(master)
    if reference.master.resolve() != master.resolve():
        raise ValueError(f"the reference views are of {reference.master}, not of {master}")
    out = Path(out_dir) / f"{master.stem}.{profile.name}.glb"
    out.parent.mkdir(parents=True, exist_ok=True)
    derivative: Derivative | None = None
    try:
        derivative = _checked(master, out, profile, reference, tools)
    except GltfToolsError as exc:
        if exc.code == "GLTF_TOOLS_MISSING":
            raise
        derivative = Derivative(
            channel=profile.name, path=None, master_bytes=master.stat().st_size, bytes=0,
            master_triangles=reference.triangles, triangles=0, textures=(),
            validator_errors=0, validator_warnings=0, ssim=(), seconds=0.0,
            code=exc.code, message=exc.message,
        )  # fmt: skip
    finally:
        if derivative is None or not derivative.ships:
            out.unlink(missing_ok=True)  # nothing refused or half-made is left beside the master
    seconds = round(time.perf_counter() - started, 3)
    log(f"{profile.name}: {_summary(derivative)} in {seconds:.1f} s")
    return replace(derivative, seconds=seconds)


def _checked(
    master: Path, out: Path, profile: ChannelProfile, reference: Reference, tools: GltfTools
) -> Derivative:
    """Make the derivative at `out` and measure it; refused (path None) when a check fails."""
    stats = tools.derive(master, out, profile.tool_options())
    report = tools.validate(out)
    ssim: tuple[float, ...] = ()
    triangles = stats.triangles
    if report.errors == 0:
        ssim, triangles = _compare(tools, out, reference)
    derivative = Derivative(
        channel=profile.name,
        path=out,
        master_bytes=master.stat().st_size,
        bytes=out.stat().st_size,
        master_triangles=reference.triangles,
        triangles=triangles,
        textures=stats.textures,
        validator_errors=report.errors,
        validator_warnings=report.warnings,
        ssim=ssim,
        seconds=0.0,
    )
    code, message = _verdict(derivative, profile, report, _lost(master, out))
    if code is None:
        return derivative
    return replace(derivative, path=None, code=code, message=message)


def derive_channels(
    master: Path,
    out_dir: Path,
    profiles: Iterable[ChannelProfile] = PROFILES.values(),
    *,
    log: Log = lambda _: None,
) -> tuple[Derivative, ...]:
    """Every channel's derivative of `master`, the master rendered once for all of them."""
    tools = find_tools()
    reference = render_reference(master)
    return tuple(
        derive(master, out_dir, p, reference=reference, tools=tools, log=log) for p in profiles
    )


def _verdict(
    d: Derivative, profile: ChannelProfile, report: ValidatorReport, lost: list[str]
) -> tuple[str | None, str]:
    """The first check the derivative fails, most serious first: (code, message), or None."""
    if report.errors:
        return "PUBLISH_DERIVATIVE_INVALID", (
            f"the Khronos glTF-Validator reports {report.errors} error(s): "
            + ", ".join(report.error_codes)
        )
    if lost:
        return "PUBLISH_DERIVATIVE_INCOMPLETE", "the derivative lost " + "; ".join(lost)
    worst = d.ssim_min
    if worst is None or worst < profile.min_ssim:
        views = ", ".join(f"{s:.3f}" for s in d.ssim) or "none rendered"
        return "PUBLISH_DERIVATIVE_SSIM", (
            f"the lowest view SSIM against the master ({views}) is below the "
            f"{profile.name} floor {profile.min_ssim:.2f}"
        )
    if d.bytes > profile.max_bytes:
        return "PUBLISH_DERIVATIVE_OVER_BUDGET", (
            f"{d.bytes / MB:.2f} MB is over the {profile.name} budget of "
            f"{profile.max_bytes / MB:.2f} MB"
        )
    if d.bytes >= d.master_bytes:
        return "PUBLISH_DERIVATIVE_NOT_SMALLER", (
            f"{d.bytes:,} bytes is no smaller than the master's {d.master_bytes:,}"
        )
    return None, ""


def _lost(master: Path, derivative: Path) -> list[str]:
    """What of the master's materials, variants and extensions the derivative does not have."""
    before, after = read_source(master).document, read_source(derivative).document
    lost = []
    for what, count in (("materials", _materials), ("variants", _variants), ("variant mappings", _mappings)):  # fmt: skip
        if count(after) < count(before):
            lost.append(f"{what}: {count(after)} of {count(before)}")
    missing = set(before.get("extensionsUsed", [])) - set(after.get("extensionsUsed", []))
    if missing:
        lost.append("extensions " + ", ".join(sorted(missing)))
    return lost


def _materials(doc: dict[str, Any]) -> int:
    return len(doc.get("materials", []))


def _variants(doc: dict[str, Any]) -> int:
    return len(doc.get("extensions", {}).get("KHR_materials_variants", {}).get("variants", []))


def _mappings(doc: dict[str, Any]) -> int:
    return sum(
        len(prim.get("extensions", {}).get("KHR_materials_variants", {}).get("mappings", []))
        for mesh in doc.get("meshes", [])
        for prim in mesh.get("primitives", [])
    )


def _compare(
    tools: GltfTools, derivative: Path, reference: Reference
) -> tuple[tuple[float, ...], int]:
    """SSIM of each view of the (decoded) derivative against the master's; triangles drawn."""
    with tempfile.TemporaryDirectory(prefix="shazam-derivative-") as tmp:
        plain = Path(tmp) / "decoded.glb"
        tools.decode(derivative, plain)
        size = reference.images[0].shape[0]
        images, triangles = run_with_deadline(
            _render_views, plain, reference.cameras, size,
            deadline_s=RENDER_DEADLINE_S, what=f"the views of {derivative.name}",
        )  # fmt: skip
    ssim = tuple(_ssim(a, b) for a, b in zip(reference.images, images, strict=True))
    return ssim, triangles


def _ssim(master: Image, derivative: Image) -> float:
    """SSIM of two views over the box the product covers in either (plus a margin): the
    white around it would otherwise count as agreement and hide a broken product."""
    covered = np.any(master < 250, axis=2) | np.any(derivative < 250, axis=2)  # (h, w)
    rows, cols = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    if rows.size == 0:
        return 1.0  # both blank
    m = _SSIM_MARGIN_PX
    box = (
        slice(max(rows[0] - m, 0), rows[-1] + m + 1),
        slice(max(cols[0] - m, 0), cols[-1] + m + 1),
    )
    return float(
        structural_similarity(master[box], derivative[box], channel_axis=2, data_range=255)  # type: ignore[no-untyped-call]  # skimage leaves it unannotated
    )


def _render_master(master: Path, views: int, size: int) -> tuple[list[Camera], list[Image], int]:
    """(In the render process.) Cameras around the master, its views and its triangles."""
    with StudioRenderer(width=size, height=size) as renderer:
        info = renderer.load(master)
        cameras = turntable_cameras(info, frames=views)
        return cameras, [renderer.render(c)[..., :3] for c in cameras], info.triangles


def _render_views(model: Path, cameras: tuple[Camera, ...], size: int) -> tuple[list[Image], int]:
    """(In the render process.) The model seen from the master's cameras; its triangles."""
    with StudioRenderer(width=size, height=size) as renderer:
        info = renderer.load(model)
        return [renderer.render(c)[..., :3] for c in cameras], info.triangles


def _summary(d: Derivative) -> str:
    sizes = f"{d.master_bytes / MB:.2f} -> {d.bytes / MB:.2f} MB"
    ssim = f"SSIM min {d.ssim_min:.3f}" if d.ssim else "not rendered"
    verdict = "ships" if d.ships else f"refused {d.code}"
    return f"{sizes}, {ssim}, {d.validator_errors} validator errors: {verdict}"
