"""Validation time per delivery next to the Khronos glTF-Validator's time on the same model.

For each real model in ../shared/data/khronos-3dc (and one procedural demo product) this
packs a full delivery (model, reference photos, manifest) and measures, in one run:
- ours: `validate_delivery` on the ZIP (ZIP safety + contract + glTF + budgets + photos), warm;
- Khronos: `validateBytes` of the Khronos glTF-Validator (npm gltf-validator) on the model
  alone, warm, timed inside Node (no process start-up counted).
Both are medians of --repeat runs after a warm-up. Prints a markdown table with the ratio.

With --baseline DIR (a checkout of another SHAZAM version, e.g. today's main), the same ZIPs
are also validated by that checkout's `validate_delivery`, in a subprocess with PYTHONPATH and
cwd set to DIR, next to ours run the same way, so a change is compared in one run on one
machine (the ratio ours/baseline; above 1 is slower).

    make setup && .venv/bin/python bench/bench_validate.py [--repeat 20] [--baseline /work/main]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.ingest.delivery.pack import PackRequest, pack_delivery  # noqa: E402
from shazam_assets.ingest.delivery.validate import validate_delivery, validate_model_file  # noqa: E402
from shazam_demo.products import make_product  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "khronos-3dc"
NODE_SCRIPT = ROOT / "bench" / "khronos" / "validate.mjs"


def _cases(work: Path) -> list[tuple[str, Path, tuple[Path, ...]]]:
    cases = []
    for model in sorted(DATA.glob("*/*.glb")) + sorted(DATA.glob("*/glTF/*.gltf")):
        folder = model.parent if model.suffix == ".glb" else model.parent.parent
        photos = tuple(sorted(folder.glob("rr-*.png")))
        label = f"{folder.name} ({model.suffix[1:]}, {_size(model)})"
        cases.append((label, model, photos))
    demo = make_product("speaker", out_dir=work / "demo")
    cases.append((f"demo speaker (glb, {_size(demo.model)})", demo.model, demo.photos))
    return cases


def _size(model: Path) -> str:
    total = model.stat().st_size
    if model.suffix == ".gltf":
        total = sum(p.stat().st_size for p in model.parent.iterdir())
    return f"{total / 2**20:.1f} MB"


def _delivery(model: Path, photos: tuple[Path, ...], out: Path) -> Path:
    lo, hi = validate_model_file(model).stats["bounds_m"]
    dims = tuple(max(h - low, 1e-3) for low, h in zip(lo, hi, strict=True))
    request = PackRequest(
        asin="B0BENCH001",
        artist="bench",
        model=model,
        photos=photos,
        title=model.stem,
        dimensions=dims,
    )  # type: ignore[arg-type]
    return pack_delivery(request, out=out)


def _ours(zip_path: Path, repeat: int) -> tuple[float, bool]:
    report = validate_delivery(zip_path, expected_asin="B0BENCH001").report  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        validate_delivery(zip_path, expected_asin="B0BENCH001")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), report.ok


_TIMED = """
import json, statistics, sys, time
from pathlib import Path
from shazam_assets.ingest.delivery.validate import validate_delivery
path, repeat = Path(sys.argv[1]), int(sys.argv[2])
report = validate_delivery(path, expected_asin="B0BENCH001").report
times = []
for _ in range(repeat):
    started = time.perf_counter()
    validate_delivery(path, expected_asin="B0BENCH001")
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"ms": statistics.median(times), "ok": report.ok}))
"""


def _checkout_ms(checkout: Path, zip_path: Path, repeat: int) -> tuple[float, bool]:
    """Median ms of `validate_delivery` as the code in `checkout` runs it (warm, subprocess)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run(
        [sys.executable, "-c", _TIMED, str(zip_path), str(repeat)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = json.loads(out.splitlines()[-1])
    return line["ms"], line["ok"]


def _compare(baseline: Path, repeat: int) -> None:
    print(
        "| delivery model | baseline (median ms) | ours (median ms) | ratio ours/baseline | verdicts (baseline / ours) |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="shazam-bench-") as tmp:
        work = Path(tmp)
        for i, (label, model, photos) in enumerate(_cases(work)):
            zip_path = _delivery(model, photos, work / f"d{i}.zip")
            olds, news = [], []
            for _ in range(3):  # alternate, keep each side's best median: a busy machine adds noise
                olds.append(_checkout_ms(baseline, zip_path, repeat))
                news.append(_checkout_ms(ROOT, zip_path, repeat))
            old, old_ok = min(olds)
            new, new_ok = min(news)
            print(
                f"| {label} | {old:.1f} | {new:.1f} | {new / old:.2f} | {old_ok} / {new_ok} |",
                flush=True,
            )


def _khronos(model: Path, repeat: int) -> tuple[float, int]:
    out = subprocess.run(
        ["node", str(NODE_SCRIPT), "--repeat", str(repeat), str(model)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = json.loads(out.splitlines()[-1])
    return line["ms"], line["numErrors"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout to compare with"
    )
    args = parser.parse_args()
    if args.baseline is not None:
        _compare(args.baseline.resolve(), args.repeat)
        return
    if not (ROOT / "bench" / "khronos" / "node_modules").exists():
        sys.exit("run `make setup` first (installs the Khronos validator from npm)")
    print(
        "| delivery model | ours: full delivery validation (median ms) | Khronos validator, model only (median ms) "
        "| ratio ours/Khronos | verdicts (ours ok / Khronos errors) |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="shazam-bench-") as tmp:
        work = Path(tmp)
        for i, (label, model, photos) in enumerate(_cases(work)):
            zip_path = _delivery(model, photos, work / f"d{i}.zip")
            ours, ok = _ours(zip_path, args.repeat)
            khronos, errors = _khronos(model, args.repeat)
            print(
                f"| {label} | {ours:.1f} | {khronos:.1f} | {ours / khronos:.2f} | {ok} / {errors} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
