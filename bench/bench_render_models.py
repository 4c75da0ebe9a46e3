"""Model families through validation and the turntable renderer: verdict and seconds.

Builds each family with the test generators (tests/gltf_models.py: compressed geometry and
textures, WebP, morph targets, skins and animation, thousands of nodes, a percent-encoded
Unicode buffer URI), then times `validate_model_file` (what `shazam validate` runs) and
`render_turntable` (what `shazam render` and `turntable_360` run, in its own process under
its deadline) on each. Prints a markdown table: the validation verdict (error codes), the
render's seconds or its refusal code.

    .venv/bin/python bench/bench_render_models.py [--frames 8] [--size 256] [--nodes 3000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.ingest.delivery.validate import validate_model_file  # noqa: E402
from shazam_assets.platform import renderer as studio  # noqa: E402
from shazam_assets.render.turntable import TurntableSpec, render_turntable  # noqa: E402
from tests import gltf_models as g  # noqa: E402


def _families(nodes: int) -> dict[str, Callable[[Path], Path]]:
    def glb(build: Callable[[], g.Model]) -> Callable[[Path], Path]:
        return lambda folder: g.write_glb(build(), folder / "model.glb")

    def required(build: Callable[[], g.Model]) -> Callable[[], g.Model]:
        def make() -> g.Model:
            model = build()
            model.doc["extensionsRequired"] = model.doc["extensionsUsed"]
            return model

        return make

    return {
        "box (PNG texture)": glb(lambda: g.box(texture="png")),
        "WebP texture": glb(lambda: g.box(texture="webp")),
        "KTX2 texture": glb(required(lambda: g.box(texture="ktx2"))),
        "Draco": glb(g.draco_box),
        "EXT_meshopt": glb(g.meshopt_box),
        "morph targets (2,000)": glb(lambda: g.morph_box(targets=2000)),
        "skin + animation": glb(g.animated_skinned_box),
        f"{nodes:,} nodes": glb(lambda: g.box(nodes=nodes)),
        "Unicode URI (.gltf)": lambda folder: g.write_gltf(
            g.box(texture="png"), folder / "model.gltf", bin_name="te\u0301xture b.bin"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--nodes", type=int, default=3000)
    args = parser.parse_args()
    spec = TurntableSpec(frames=args.frames, size=args.size)
    print(f"| model | validate s | verdict | render s ({args.frames} frames, {args.size} px) |")
    print("|---|---:|---|---|")
    for name, write in _families(args.nodes).items():
        with tempfile.TemporaryDirectory() as tmp:
            model = write(Path(tmp))
            start = time.perf_counter()
            report = validate_model_file(model)
            validate_s = time.perf_counter() - start
            verdict = "accepted" if report.ok else ", ".join(report.codes)
            start = time.perf_counter()
            try:
                render_turntable(model, Path(tmp) / "out", spec)
                render = f"{time.perf_counter() - start:.1f}"
            except studio.RenderError as exc:
                render = f"{exc.code} after {time.perf_counter() - start:.1f} s"
            print(f"| {name} | {validate_s:.2f} | {verdict} | {render} |", flush=True)


if __name__ == "__main__":
    main()
