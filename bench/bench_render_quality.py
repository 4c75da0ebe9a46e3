"""Studio renderer quality against the Khronos 3D Commerce reference renders.

Renders Mixer and WickerChair from the cameras stored in their glTF files (camera i is
rr-<Name>-i.png) at the references' size, composites both on white (the references' own
background), and scores them the way the 3D Commerce certification does: SSIM and PSNR
(skimage.metrics) on the RGB images. Prints a markdown table per view and the means.

    .venv/bin/python bench/bench_render_quality.py [--size 1024] [--out DIR]

Targets: mean SSIM >= 0.80 and mean PSNR >= 17 dB; stretch: every view SSIM >= 0.7 and
PSNR >= 20 dB. `--out DIR` saves each render beside its reference (reference left).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from shazam_assets.platform.renderer import StudioRenderer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "khronos-3dc"
MODELS = ("Mixer", "WickerChair")


@dataclass(frozen=True)
class Score:
    view: str
    ssim: float
    psnr: float
    seconds: float


def on_white(image: Image.Image) -> np.ndarray:
    """RGB of an image composited over white.  -> (h, w, 3) uint8"""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
    alpha = rgba[..., 3:] / 255.0
    return np.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def score_model(name: str, *, size: int | None, out: Path | None) -> list[Score]:
    folder = DATA / name
    references = sorted(folder.glob(f"rr-{name}-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
    first = Image.open(references[0])
    width, height = (size, size * first.height // first.width) if size else first.size
    scores = []
    with StudioRenderer(width=width, height=height) as renderer:
        info = renderer.load(folder / f"{name}.glb")
        for index, camera in enumerate(info.cameras):
            reference = Image.open(folder / f"rr-{name}-{index}.png")
            ref = on_white(reference.resize((width, height), Image.Resampling.LANCZOS))
            start = time.perf_counter()
            render = renderer.render(camera)[..., :3]  # (h, w, 3) on white
            seconds = time.perf_counter() - start
            ssim = structural_similarity(ref, render, channel_axis=2, data_range=255)
            psnr = peak_signal_noise_ratio(ref, render, data_range=255)
            scores.append(Score(f"{name}-{index}", float(ssim), float(psnr), seconds))
            if out is not None:
                Image.fromarray(np.hstack([ref, render])).save(out / f"{name}-{index}.png")
    return scores


def table(scores: list[Score]) -> str:
    lines = ["| view | SSIM | PSNR (dB) | render s |", "|---|---:|---:|---:|"]
    lines += [f"| {s.view} | {s.ssim:.3f} | {s.psnr:.2f} | {s.seconds:.2f} |" for s in scores]
    ssim = np.mean([s.ssim for s in scores])
    psnr = np.mean([s.psnr for s in scores])
    lines.append(f"| **mean** | **{ssim:.3f}** | **{psnr:.2f}** | |")
    both = sum(s.ssim >= 0.7 and s.psnr >= 20 for s in scores)
    lines.append(f"\nviews with SSIM >= 0.7 and PSNR >= 20 dB: {both} of {len(scores)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="render width (default: reference)")
    parser.add_argument("--out", type=Path, default=None, help="save side-by-side images here")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    scores = [s for name in MODELS for s in score_model(name, size=args.size, out=args.out)]
    print(table(scores))


if __name__ == "__main__":
    main()
