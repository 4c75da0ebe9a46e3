"""Channel derivatives: size and render fidelity of each channel's copy of a master.

For the Khronos 3D Commerce models (Mixer, WickerChair; skipped when ../shared/data is absent)
and the five demo products, makes every channel's derivative (publish/derivatives.py: Draco
geometry, WebP textures resized to the channel's maximum) and prints one markdown row per
model and channel: master and derivative size, their ratio, the largest texture, the lowest
SSIM of the derivative's views against the master's (studio renderer, `VIEWS` views of
`VIEW_PX` px), the Khronos validator's errors and warnings, the seconds it took (derive,
validate, decode, render; the master's views are rendered once per model, timed apart) and
the verdict. Two deliberately broken channels follow each model (the web profile with 8 px
textures, and with 6-bit positions): they must be refused by the SSIM floor, which is what
the floor is for.

    .venv/bin/python bench/bench_derivatives.py [--out DIR]

A second table gives the USDZ made from each master for iOS Quick Look (publish/usdz.py):
size, triangles, textures, the ARKit compliance checker's errors, seconds.

Targets: every channel's derivative has 0 validator errors and ships; both broken ones are
refused with PUBLISH_DERIVATIVE_SSIM; every USDZ has 0 ARKit errors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from shazam_assets.platform.gltf_tools import find_tools
from shazam_assets.publish.derivatives import (
    MB,
    PROFILES,
    VIEW_PX,
    VIEWS,
    Derivative,
    derive,
    render_reference,
)
from shazam_assets.publish.usdz import check_usdz, make_usdz
from shazam_demo.products import CATALOG, make_product

BROKEN = (
    replace(PROFILES["web"], name="broken-8px-textures", texture_max_px=8),
    replace(PROFILES["web"], name="broken-6bit-positions", quantize_position=6),
)
KHRONOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "khronos-3dc"


def masters(workdir: Path) -> list[tuple[str, Path]]:
    found = [
        (f"{name} (Khronos 3DC)", KHRONOS / name / f"{name}.glb")
        for name in ("Mixer", "WickerChair")
        if (KHRONOS / name / f"{name}.glb").is_file()
    ]
    demo = workdir / "demo"
    found += [
        (f"{slug} (demo)", make_product(slug, out_dir=demo, with_scan=False).model)
        for slug in CATALOG
    ]
    return found


def row(name: str, d: Derivative, reference_s: float) -> str:
    texture = max((max(size) for size in d.textures), default=0)
    verdict = "ships" if d.ships else f"refused: {d.code}"
    ssim = f"{d.ssim_min:.4f}" if d.ssim_min is not None else "-"
    return (
        f"| {name} | {d.channel} | {d.master_bytes / MB:.2f} | {d.bytes / MB:.3f} | "
        f"{d.ratio:.3f} | {texture} | {d.triangles:,} | {ssim} | {d.validator_errors} | "
        f"{d.validator_warnings} | {d.seconds:.1f} (+{reference_s:.1f}) | {verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the derivatives here")
    args = parser.parse_args()
    tools = find_tools()
    print(f"{VIEWS} views of {VIEW_PX} px per comparison; channels: ", end="")
    print(", ".join(f"{p.name} ({p.texture_max_px} px, {p.max_bytes / MB:g} MB, SSIM >= "
                    f"{p.min_ssim})" for p in PROFILES.values()))  # fmt: skip
    print()
    print("| model | channel | master MB | derivative MB | ratio | max texture px | triangles "
          "| SSIM min | validator errors | warnings | seconds (+master views) | verdict |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench-derivatives-") as tmp:
        out = args.out or Path(tmp) / "out"
        for name, master in masters(Path(tmp)):
            started = time.perf_counter()
            reference = render_reference(master)
            reference_s = time.perf_counter() - started
            for profile in (*PROFILES.values(), *BROKEN):
                d = derive(master, out, profile, reference=reference, tools=tools)
                if profile in BROKEN:
                    failures += d.code != "PUBLISH_DERIVATIVE_SSIM"
                else:
                    failures += d.validator_errors != 0 or not d.ships
                print(row(name, d, reference_s), flush=True)
        print()
        print("| model | master MB | USDZ MB | triangles | textures | ARKit errors | seconds |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, master in masters(Path(tmp)):
            made = make_usdz(master, out / f"{master.stem}.usdz")
            errors = len(check_usdz(made.path))
            failures += errors != 0
            print(
                f"| {name} | {master.stat().st_size / MB:.2f} | {made.size / MB:.2f} | "
                f"{made.triangles:,} | {made.textures} | {errors} | {made.seconds:.2f} |",
                flush=True,
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
