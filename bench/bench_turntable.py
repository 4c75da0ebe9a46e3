"""Turntable speed: seconds per frame and frames per second for a whole encoded turntable.

For each size (512 and 1024 px by default) it renders a full turntable (36 frames, WebP
frames, sprite sheet, poster and MP4) of the Khronos Mixer (~47k triangles) from
../shared/data/khronos-3dc (or any --model), three times, and prints the median of:
- load: engine, environment and model set-up;
- render: seconds spent in the renderer only (per frame and frames per second);
- encode after render: what encoding still had to do once the last frame was rendered
  (encoding runs on other threads while frames render);
- total: the whole turntable, encoded, as `shazam render` and `turntable_360` make it;
- serial encode: the same frames encoded again one after another on one thread, to show what
  overlapping saves: the ratio (total - load) / (render + serial encode) is below 1 when
  encoding hides behind rendering.

    .venv/bin/python bench/bench_turntable.py [--sizes 512 1024] [--frames 36] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform import renderer as studio  # noqa: E402
from shazam_assets.render.turntable import (  # noqa: E402
    TurntableSpec,
    _encode_frame,
    _VideoWriter,
    render_turntable,
)

MIXER = ROOT.parent / "shared" / "data" / "khronos-3dc" / "Mixer" / "Mixer.glb"


def _serial_encode(folder: Path, spec: TurntableSpec) -> float:
    """Re-encode the rendered frames on this thread only: WebP frames plus the video."""
    import numpy as np
    from PIL import Image

    frames = [
        np.asarray(Image.open(p).convert("RGBA")) for p in sorted((folder / "frames").iterdir())
    ]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        video = _VideoWriter(Path(tmp) / f"spin.{spec.video}", codec=spec.video, size=spec.size)
        for i, rgba in enumerate(frames):
            _encode_frame(rgba, Path(tmp) / f"{i:03d}.webp", spec.frame_format)
        for rgba in frames:
            video.push(rgba)
        video.close()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MIXER)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--frames", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"{args.model} not found (../shared/data/khronos-3dc, or pass --model)")
    triangles = studio.load_model_info(args.model).triangles
    print(
        f"{args.model.name}: {triangles:,} triangles; {args.frames} frames; renderer "
        f"{studio.RENDERER_VERSION}; {platform.processor() or platform.machine()}",
        file=sys.stderr,
    )
    print(
        "| size | frames | load s | render s/frame | render fps | encode after render s | total s "
        "| total fps | serial encode s | (total - load) / (render + serial encode) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        spec = TurntableSpec(frames=args.frames, size=size)
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                t = render_turntable(args.model, Path(tmp), spec).manifest.timings_s
                runs.append({**t, "serial": _serial_encode(Path(tmp), spec)})
            print(f"  {size}px: {t['total']} s", file=sys.stderr)
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"| {size} | {args.frames} | {med['load']:.2f} | {med['per_frame']:.3f} "
            f"| {1 / med['per_frame']:.1f} | {med['encode_after_render']:.2f} | {med['total']:.1f} "
            f"| {args.frames / med['total']:.1f} | {med['serial']:.1f} "
            f"| {(med['total'] - med['load']) / (med['render'] + med['serial']):.2f} |"
        )


if __name__ == "__main__":
    main()
