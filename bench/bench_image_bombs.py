"""Hostile images: seconds and peak RSS for each stage that decodes a picture from outside.

Inputs are generated (tests/image_bombs.py): PNGs of a few hundred KB that declare 13000 x 13000
and 30000 x 30000 black pixels, and an honest 8000 x 6000 JPEG (48 MP, under the limit). Each
stage runs in a fresh process, so its peak RSS (VmHWM) is its own:

- validation: `delivery.photos.check_photo` (what `shazam validate` runs on each photo);
- QA: `qa.scoring.read_photo` (photo segmentation and the contact sheet);
- search: `search.embed.decode_image` (each `POST /search/image` and `shazam search --image`).

`--code DIR` runs the stages from another checkout (e.g. an export of the commit before the
bounded decoder), to measure before and after with one command.

    .venv/bin/python bench/bench_image_bombs.py [--code DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.image_bombs import png_bomb  # noqa: E402

STAGES = {
    "validation (check_photo)": (
        "from shazam_assets.ingest.delivery.photos import check_photo\n"
        "size, issues = check_photo(path.name, path.read_bytes(), min_px=512)\n"
        "outcome = ','.join(i.code for i in issues) or 'accepted'\n"
    ),
    "QA (read_photo)": (
        "from shazam_assets.qa.scoring import read_photo\nread_photo(path)\noutcome = 'decoded'\n"
    ),
    "search (decode_image)": (
        "from shazam_assets.search.embed import decode_image\n"
        "decode_image(path.read_bytes())\n"
        "outcome = 'decoded'\n"
    ),
}

_HARNESS = """
import sys, time
from pathlib import Path
path = Path(sys.argv[1])
start = time.perf_counter()
try:
{body}
except Exception as exc:
    outcome = getattr(exc, "code", type(exc).__name__)
elapsed = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark into ru_maxrss.
status = Path("/proc/self/status").read_text()
peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
print(outcome, f"{{elapsed:.2f}}", peak_kb // 1024)
"""


def _inputs(folder: Path) -> dict[str, Path]:
    from PIL import Image

    made = {}
    for side in (13000, 30000):
        path = folder / f"bomb-{side}.png"
        path.write_bytes(png_bomb(side, side))
        made[f"PNG {side}x{side} ({path.stat().st_size / 1e6:.1f} MB)"] = path
    jpeg = folder / "honest-8000x6000.jpg"
    Image.new("RGB", (8000, 6000), (120, 80, 40)).save(jpeg, quality=85)
    made[f"JPEG 8000x6000 ({jpeg.stat().st_size / 1e6:.1f} MB)"] = jpeg
    return made


def _run(code: Path, body: str, photo: Path) -> tuple[str, str, str]:
    indented = "\n".join("    " + line for line in body.splitlines())
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run(
        [sys.executable, "-c", _HARNESS.format(body=indented), str(photo)],
        capture_output=True,
        text=True,
        env=env,
        cwd=code,
        check=False,
    )
    if done.returncode != 0:
        return f"crashed (exit {done.returncode})", "-", "-"
    outcome, seconds, peak = done.stdout.split()
    return outcome, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose stages run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shazam-bombs-") as tmp:
        inputs = _inputs(Path(tmp))
        print("| stage | input | outcome | seconds | peak RSS MB |")
        print("|---|---|---|---|---|")
        for stage, body in STAGES.items():
            for label, photo in inputs.items():
                outcome, seconds, peak = _run(args.code.resolve(), body, photo)
                print(f"| {stage} | {label} | {outcome} | {seconds} | {peak} |", flush=True)


if __name__ == "__main__":
    main()
