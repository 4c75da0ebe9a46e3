"""360° turntable renders of an approved model: frames, sprite sheet, poster, video, manifest.

`render_turntable(model, out_dir, spec)` renders `spec.frames` views orbiting the vertical
axis with the studio renderer (`shazam_assets.platform.renderer`, open3d's Filament: an NVIDIA GPU when
the node has one, Mesa's software Vulkan otherwise) and writes, under `out_dir`:

    frames/000.webp … frames/035.webp   one file per view, front (+Z) first, turning right
    sprite.webp                         every frame in a grid (for a spin viewer without WebGL)
    poster.webp                         the front view at full size
    spin.mp4                            the frames as a looping video (H.264, or VP9 .webm)
    manifest.json                       files with sha256, cameras, renderer version, timings

Rendering stays on one thread (the renderer is not thread-safe); encoding runs on a small
pool and the video on its own thread, so they overlap the next frame's rendering.

`publish_turntable` does that for a stored version and commits it in the version's renders
folder (`layout.renders_prefix`): every file goes to a set folder named for the render's fingerprint
(spec + renderer version + model hash), `manifest.json` is written last. Asking again with
the same fingerprint is a no-op; a new renderer version renders a new set, and the previous
set stays until the version itself is deleted, so a page reading the old manifest keeps
working while the new one is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from shazam_assets.platform import layout
from shazam_assets.platform import renderer as studio
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.records import (
    RenderedFile,
    SpriteSheet,
    TurntableFrame,
    TurntableManifest,
    Video,
)
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectStore, sha256_file

ByteArray = npt.NDArray[np.uint8]
Background = Literal["white", "transparent"]
FrameFormat = Literal["webp", "png"]
VideoFormat = Literal["mp4", "webm"]

MANIFEST = layout.TURNTABLE_MANIFEST_NAME  # on disk as in the store
FRAMES_RANGE = (8, 72)
SIZE_RANGE = (64, 4096)
SPRITE_CELL = 256  # px per frame in the sprite sheet
VIDEO_FPS = 12
DEADLINE_BASE_S = 300.0  # start the render process, load the model
DEADLINE_PER_MEGAPIXEL_FRAME_S = 10.0  # per 1024x1024 frame rendered and encoded
STILL_DEADLINE_S = 300.0
_CONTENT_TYPES = {
    ".webp": "image/webp",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".json": "application/json",
}


class TurntableError(studio.RenderError):
    """A turntable that cannot be made; `code` is stable (see docs/error-codes.md)."""


def default_deadline_s(spec: TurntableSpec) -> float:
    """How long a turntable may take before its render is stopped (RENDER_TIMEOUT): a fixed
    allowance for starting the renderer and loading the model, plus a generous time per frame
    scaled by its pixels (a 1024 px frame takes about a second on a CPU node, see
    docs/benchmarks.md). 36 frames at 1024 px: 660 s."""
    return DEADLINE_BASE_S + spec.frames * DEADLINE_PER_MEGAPIXEL_FRAME_S * (spec.size / 1024) ** 2


@dataclass(frozen=True)
class TurntableSpec:
    """What to render. Everything here (and the renderer version) is part of the fingerprint."""

    frames: int = DEFAULTS.render_frames
    size: int = DEFAULTS.render_size
    background: Background = "white"
    frame_format: FrameFormat = "webp"
    video: VideoFormat = "mp4"
    elevation_deg: float = 15.0

    def __post_init__(self) -> None:
        low, high = FRAMES_RANGE
        if not low <= self.frames <= high:
            raise TurntableError(
                "RENDER_BAD_FRAMES", f"frames must be {low}-{high}, not {self.frames}"
            )
        low, high = SIZE_RANGE
        if not low <= self.size <= high or self.size % 2:
            raise TurntableError(
                "RENDER_BAD_SIZE",
                f"size must be an even number of pixels {low}-{high}, not {self.size}",
            )
        if self.background not in ("white", "transparent"):
            raise TurntableError(
                "RENDER_BAD_OPTION", f"background {self.background!r}: white or transparent"
            )
        if self.frame_format not in ("webp", "png"):
            raise TurntableError(
                "RENDER_BAD_OPTION", f"frame format {self.frame_format!r}: webp or png"
            )
        if self.video not in ("mp4", "webm"):
            raise TurntableError("RENDER_BAD_OPTION", f"video {self.video!r}: mp4 or webm")

    def fingerprint(self, model_sha256: str) -> str:
        """Identifies the pixels: same model, same spec, same renderer -> same turntable."""
        key = json.dumps(
            {"spec": asdict(self), "renderer": studio.RENDERER_VERSION, "model": model_sha256},
            sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Turntable:
    """A rendered turntable on local disk."""

    folder: Path
    manifest: TurntableManifest

    @property
    def files(self) -> list[str]:
        return self.manifest.file_paths


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class _Rendered:
    """What the render process hands back (the files are in the output folder)."""

    info: studio.ModelInfo
    cameras: list[studio.Camera]
    frames: list[str]
    timings: dict[str, float]
    load_s: float


def render_turntable(
    model: Path,
    out_dir: Path,
    spec: TurntableSpec = TurntableSpec(),
    *,
    deadline_s: float | None = None,
) -> Turntable:
    """Render and encode a whole turntable of `model` into `out_dir` (created).

    The rendering runs in its own process under a deadline (`studio.run_with_deadline`,
    `default_deadline_s` unless given): a model that would hang the renderer is stopped and
    refused with RENDER_TIMEOUT instead of holding the worker."""
    model_sha = sha256_file(model)
    started = time.perf_counter()
    rendered = studio.run_with_deadline(
        _render_frames, Path(model), Path(out_dir), spec,
        deadline_s=deadline_s if deadline_s is not None else default_deadline_s(spec),
        what=f"the turntable of {Path(model).name}",
    )  # fmt: skip
    info, cameras = rendered.info, rendered.cameras
    manifest = TurntableManifest(
        renderer=studio.RENDERER_VERSION,
        fingerprint=spec.fingerprint(model_sha),
        spec=asdict(spec),
        model={
            "sha256": model_sha,
            "triangles": info.triangles,
            "bounds": [list(info.bounds_min), list(info.bounds_max)],
        },
        frames=tuple(
            TurntableFrame(
                path=path, azimuth_deg=round(360.0 * i / spec.frames, 4), camera=cam.to_json()
            )
            for i, (path, cam) in enumerate(zip(rendered.frames, cameras, strict=True))
        ),
        poster="poster." + spec.frame_format,
        sprite=SpriteSheet(
            path="sprite." + spec.frame_format,
            cell=_sprite_cell(spec),
            columns=_sprite_columns(spec.frames),
            frames=spec.frames,
        ),
        video=Video(path="spin." + spec.video, fps=VIDEO_FPS),
        timings_s={
            "load": round(rendered.load_s, 3),
            **rendered.timings,
            "total": round(time.perf_counter() - started, 3),
        },
        rendered_at=datetime.now(UTC).isoformat(timespec="seconds"),
        files=tuple(
            RenderedFile(
                path=p.relative_to(out_dir).as_posix(), size=p.stat().st_size, sha256=sha256_file(p)
            )
            for p in sorted(out_dir.rglob("*"))
            if p.is_file()
        ),
    )
    write_manifest(out_dir / MANIFEST, manifest)
    return Turntable(out_dir, manifest)


def manifest_bytes(manifest: TurntableManifest) -> bytes:
    """The one way a turntable manifest is written, on disk and in the store."""
    return json.dumps(manifest.to_json(), indent=2).encode()


def write_manifest(path: Path, manifest: TurntableManifest) -> None:
    path.write_bytes(manifest_bytes(manifest))


def _render_frames(model: Path, out_dir: Path, spec: TurntableSpec) -> _Rendered:
    """The render process's job: load the model, render and encode every frame."""
    started = time.perf_counter()
    with studio.StudioRenderer(
        width=spec.size, height=spec.size, background=spec.background
    ) as renderer:
        info = renderer.load(model)
        cameras = studio.turntable_cameras(
            info, frames=spec.frames, elevation_deg=spec.elevation_deg
        )
        loaded = time.perf_counter()
        frames, timings = _render_and_encode(renderer, cameras, out_dir, spec)
    return _Rendered(info, cameras, frames, timings, loaded - started)


def _render_and_encode(
    renderer: studio.StudioRenderer,
    cameras: list[studio.Camera],
    out_dir: Path,
    spec: TurntableSpec,
) -> tuple[list[str], dict[str, float]]:
    """Render on this thread; frames are encoded on a pool and the video on its own thread."""
    (out_dir / "frames").mkdir(parents=True, exist_ok=True)
    cell = _sprite_cell(spec)
    columns = _sprite_columns(spec.frames)
    sprite = Image.new(
        "RGBA", (cell * columns, cell * math.ceil(spec.frames / columns)), (0, 0, 0, 0)
    )
    video = _VideoWriter(out_dir / f"spin.{spec.video}", codec=spec.video, size=spec.size)
    names: list[str] = []
    pending: list[Future[None]] = []
    render_s = 0.0
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="shazam-encode") as pool:
        for index, camera in enumerate(cameras):
            tick = time.perf_counter()
            rgba = renderer.render(camera)  # (size, size, 4) uint8
            render_s += time.perf_counter() - tick
            names.append(f"frames/{index:03d}.{spec.frame_format}")
            pending.append(pool.submit(_encode_frame, rgba, out_dir / names[-1], spec.frame_format))
            video.push(rgba)
            thumb = Image.fromarray(rgba, "RGBA").resize((cell, cell), Image.Resampling.LANCZOS)
            sprite.paste(thumb, ((index % columns) * cell, (index // columns) * cell))
            if index == 0:
                pending.append(
                    pool.submit(
                        _encode_frame,
                        rgba,
                        out_dir / f"poster.{spec.frame_format}",
                        spec.frame_format,
                    )
                )
        waited = time.perf_counter()
        for job in pending:
            job.result()
    _save_image(sprite, out_dir / f"sprite.{spec.frame_format}", spec.frame_format)
    video.close()
    tail = time.perf_counter() - waited
    return names, {
        "render": round(render_s, 3),
        "per_frame": round(render_s / len(cameras), 4),
        "encode_after_render": round(tail, 3),
    }


def _encode_frame(rgba: ByteArray, path: Path, fmt: FrameFormat) -> None:
    image = Image.fromarray(rgba, "RGBA")
    if bool((rgba[..., 3] == 255).all()):
        image = image.convert("RGB")  # opaque: no alpha channel to store
    _save_image(image, path, fmt)


def _save_image(image: Image.Image, path: Path, fmt: FrameFormat) -> None:
    if fmt == "webp":
        image.save(path, "WEBP", quality=90, method=4)
    else:
        image.save(path, "PNG", optimize=False, compress_level=6)


def _sprite_cell(spec: TurntableSpec) -> int:
    return min(SPRITE_CELL, spec.size)


def _sprite_columns(frames: int) -> int:
    return math.ceil(math.sqrt(frames))


class _VideoWriter:
    """Encodes frames to a looping spin video on its own thread (PyAV: FFmpeg's encoders)."""

    def __init__(self, path: Path, *, codec: VideoFormat, size: int) -> None:
        self._frames: queue.Queue[ByteArray | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._closed = (
            False  # the end-of-frames marker was taken: an error then must not wait for it
        )
        self._thread = threading.Thread(
            target=self._run, args=(path, codec, size), name="shazam-video", daemon=True
        )
        self._thread.start()

    def push(self, rgba: ByteArray) -> None:
        self._frames.put(rgba)

    def close(self) -> None:
        self._frames.put(None)
        self._thread.join()
        if self._error is not None:
            raise TurntableError("RENDER_VIDEO_FAILED", f"video encoding failed: {self._error}")

    def _run(self, path: Path, codec: VideoFormat, size: int) -> None:
        import av

        try:
            # +faststart: the MP4 index goes first, so a page can play it while downloading
            options = {"movflags": "+faststart"} if codec == "mp4" else {}
            with av.open(str(path), mode="w", options=options) as container:
                stream = container.add_stream(
                    "libx264" if codec == "mp4" else "libvpx-vp9", rate=VIDEO_FPS
                )
                stream.width = stream.height = size
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "23"} if codec == "mp4" else {"crf": "32", "b:v": "0"}
                while (rgba := self._next()) is not None:
                    frame = av.VideoFrame.from_ndarray(_on_white(rgba), format="rgb24")
                    container.mux(stream.encode(frame))
                container.mux(stream.encode(None))
        except Exception as exc:  # reported by close(); keep draining so push() never blocks
            self._error = exc
            while not self._closed and self._next() is not None:
                pass

    def _next(self) -> ByteArray | None:
        """The next frame, or None once close() has been called (then nothing more comes)."""
        rgba = self._frames.get()
        self._closed = rgba is None
        return rgba


def _on_white(rgba: ByteArray) -> ByteArray:
    """Composite over white: the video has no alpha channel."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb: ByteArray = (rgba[..., :3] * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return rgb


# --------------------------------------------------------------------------- store layout


@dataclass(frozen=True)
class Published:
    """What `publish_turntable` did."""

    asin: str
    version: int
    manifest: TurntableManifest
    rendered: bool  # False: the same fingerprint was already committed (no-op)
    uploaded_bytes: int = 0
    log: tuple[str, ...] = field(default=())

    @property
    def set_prefix(self) -> str:
        return layout.render_set_prefix(self.asin, self.version, str(self.manifest.set))


def publish_turntable(
    store: ObjectStore,
    asin: str,
    version: int,
    spec: TurntableSpec = TurntableSpec(),
    *,
    log: Callable[[str], None] = lambda _: None,
) -> Published:
    """Render a stored version's model unless an identical turntable is committed already."""
    model_path, files, model_sha = _stored_model(store, asin, version)
    fingerprint = spec.fingerprint(model_sha)
    current = _committed(store, asin, version, fingerprint)
    if current is not None:
        log(f"{asin} v{version}: turntable {fingerprint} already rendered; nothing to do")
        return Published(asin, version, current, rendered=False)
    with tempfile.TemporaryDirectory(prefix="shazam-turntable-") as tmp:
        work = Path(tmp)
        platform_versions.download_files(
            store, asin=asin, version=version, paths=files, dest=work / "model"
        )
        model = work / "model" / Path(*model_path.split("/"))
        turntable = render_turntable(model, work / "out", spec)
        log(
            f"{asin} v{version}: rendered {spec.frames} frames at {spec.size}px in "
            f"{turntable.manifest.total_s} s"
        )
        return _commit(store, asin, version, turntable, log=log)


def _commit(
    store: ObjectStore, asin: str, version: int, turntable: Turntable, *, log: Callable[[str], None]
) -> Published:
    """Upload every file into the set folder, verify, then write manifest.json last."""
    manifest = turntable.manifest.committed(asin=asin, version=version)
    set_prefix = layout.render_set_prefix(asin, version, manifest.fingerprint)
    uploaded = 0
    for entry in manifest.files:
        suffix = Path(entry.path).suffix
        info = store.put_file(
            set_prefix + entry.path,
            turntable.folder / entry.path,
            content_type=_CONTENT_TYPES.get(suffix),
        )
        if info.size != entry.size:
            raise TurntableError(
                "RENDER_UPLOAD_INCOMPLETE",
                f"{set_prefix + entry.path}: {info.size} bytes stored, {entry.size} written",
            )
        uploaded += info.size
    store.put_bytes(
        layout.turntable_manifest_key(asin, version),
        manifest_bytes(manifest),
        content_type="application/json",
    )
    log(
        f"{asin} v{version}: committed {len(manifest.files)} files ({uploaded:,} bytes) "
        f"under {set_prefix}"
    )
    return Published(asin, version, manifest, rendered=True, uploaded_bytes=uploaded)


def _committed(
    store: ObjectStore, asin: str, version: int, fingerprint: str
) -> TurntableManifest | None:
    current = platform_versions.read_turntable_manifest(store, asin, version)
    return current if current is not None and current.fingerprint == fingerprint else None


def is_current(store: ObjectStore, asin: str, version: int, spec: TurntableSpec) -> bool:
    """Whether this version's committed turntable is `spec`'s (then `publish_turntable` does
    nothing): two small reads, no model download, so a caller can skip starting a render at
    all. Raises what `publish_turntable` raises for a version that cannot be rendered."""
    _, _, model_sha = _stored_model(store, asin, version)
    return _committed(store, asin, version, spec.fingerprint(model_sha)) is not None


def _stored_model(store: ObjectStore, asin: str, version: int) -> tuple[str, tuple[str, ...], str]:
    """A version's model path, its closed list of model files and the model's sha256, from its
    version manifest: a render reads nothing else the delivery carried."""
    manifest = platform_versions.read_version_manifest(store, asin, version)
    if manifest is None:
        raise TurntableError("RENDER_UNKNOWN_VERSION", f"{asin} v{version} is not a stored version")
    stored = manifest.stored_model()
    if stored is None:
        raise TurntableError(
            "RENDER_NO_MODEL_FILES",
            f"{asin} v{version} records no model files (stored before they were recorded); "
            "re-validate and store the delivery again",
        )
    return stored


def set_files(manifest: TurntableManifest) -> list[str]:
    """Keys (relative to the version's renders folder) of every file of a committed turntable."""
    return [f"{manifest.set}/{f.path}" for f in manifest.files]


def render_still(
    model: Path,
    out: Path,
    *,
    camera_index: int,
    width: int,
    height: int,
    background: Background = "white",
    deadline_s: float = STILL_DEADLINE_S,
) -> Path:
    """One picture from a camera stored in the glTF file (an artist's hero shot), with the
    turntable's lighting and materials. Written as PNG (or WebP for a .webp `out`). Rendered
    in its own process under `deadline_s` (RENDER_TIMEOUT past it)."""
    if not (SIZE_RANGE[0] <= width <= SIZE_RANGE[1] and SIZE_RANGE[0] <= height <= SIZE_RANGE[1]):
        raise TurntableError(
            "RENDER_BAD_SIZE",
            f"size must be {SIZE_RANGE[0]}-{SIZE_RANGE[1]} px a side, not {width}x{height}",
        )
    return studio.run_with_deadline(
        _render_still, Path(model), Path(out), camera_index, width, height, background,
        deadline_s=deadline_s, what=f"the still of {Path(model).name}",
    )  # fmt: skip


def _render_still(
    model: Path, out: Path, camera_index: int, width: int, height: int, background: Background
) -> Path:
    with studio.StudioRenderer(width=width, height=height, background=background) as renderer:
        info = renderer.load(model)
        if not 0 <= camera_index < len(info.cameras):
            raise TurntableError(
                "RENDER_NO_SUCH_CAMERA",
                f"{model.name} has {len(info.cameras)} camera(s); there is no camera {camera_index}",
            )
        rgba = renderer.render(info.cameras[camera_index])
    out.parent.mkdir(parents=True, exist_ok=True)
    _encode_frame(rgba, out, "webp" if out.suffix.lower() == ".webp" else "png")
    return out
