"""Peak memory and time of validating a ~1 GB delivery ZIP with `validate_delivery`.

Builds, in a temporary folder, a real delivery (manifest, a procedural demo GLB and its
reference photos) whose bulk is a scan OBJ of random vertex and face lines (about 2 GB of
text, deflated to about 1 GB) beside a few MB of incompressible scan textures. Everything is
written as a stream; no copy of the OBJ is ever held in memory. A child process then runs
the full validation (ZIP safety streaming every entry through inflate and CRC, contract,
glTF, budgets, photos, and the scan streamed again through `zipsafety.open_entry`). The parent reads the child's peak RSS with getrusage (the child is
started before the build, see `start_child`) and prints one markdown table row. Exits 1 when the peak passes --max-rss-mb (300 by default).

    .venv/bin/python bench/bench_zip_memory.py [--obj-mb 2000] [--max-rss-mb 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1e6
BLOCK_LINES = 500_000  # lines generated per numpy block while writing the OBJ
OBJ_NAME = "scan/scan.obj"


# --- building the archive -------------------------------------------------------------------


def _vertex_block(rng: np.random.Generator, n: int) -> bytes:
    """n lines 'v +0.123456 -0.654321 +0.999999' (32 bytes each) with random signs and digits."""
    lines = np.empty((n, 32), np.uint8)
    lines[:, 0], lines[:, 1], lines[:, 31] = ord("v"), ord(" "), ord("\n")
    for start in (2, 12, 22):
        lines[:, start] = np.where(rng.random(n) < 0.5, ord("-"), ord("+"))
        lines[:, start + 1], lines[:, start + 2] = ord("0"), ord(".")
        lines[:, start + 3 : start + 9] = rng.integers(48, 58, size=(n, 6), dtype=np.uint8)
        if start < 22:
            lines[:, start + 9] = ord(" ")
    return lines.tobytes()


def _face_block(rng: np.random.Generator, n: int, *, vertices: int) -> bytes:
    """n triangles 'f a b c' whose indices all have the same number of digits (no leading 0)."""
    width = len(str(vertices + 1)) - 1
    low, high = 10 ** (width - 1), min(10**width - 1, vertices)
    index = rng.integers(low, high + 1, size=(n, 3))
    powers = 10 ** np.arange(width - 1, -1, -1)
    lines = np.full((n, 3 * width + 5), ord(" "), np.uint8)
    lines[:, 0], lines[:, -1] = ord("f"), ord("\n")
    for k in range(3):
        start = 2 + k * (width + 1)
        lines[:, start : start + width] = (index[:, k : k + 1] // powers) % 10 + 48
    return lines.tobytes()


def write_obj(stream: BinaryIO, *, target_bytes: int, seed: int = 0) -> tuple[int, int]:
    """About 40% vertex lines then 60% triangles; returns (vertices, faces)."""
    rng = np.random.default_rng(seed)
    stream.write(b"# bench scan\nmtllib scan.mtl\no Scan\nusemtl scan\n")
    vertices = max(int(target_bytes * 0.4 / 32), 1000)
    for start in range(0, vertices, BLOCK_LINES):
        stream.write(_vertex_block(rng, min(BLOCK_LINES, vertices - start)))
    face_bytes = 3 * (len(str(vertices + 1)) - 1) + 5
    faces = max(int((target_bytes - vertices * 32) / face_bytes), 1)
    for start in range(0, faces, BLOCK_LINES):
        stream.write(_face_block(rng, min(BLOCK_LINES, faces - start), vertices=vertices))
    return vertices, faces


ASIN = "B0BENCHMEM"


def build_delivery(path: Path, *, obj_bytes: int, texture_mb: int) -> tuple[int, int]:
    """Stream the archive to `path`; returns the OBJ's (vertices, faces)."""
    from shazam_assets.ingest.delivery.pack import PackRequest, build_manifest
    from shazam_demo.products import make_product

    noise = np.random.default_rng(1)
    product = make_product("speaker", out_dir=path.parent / "product", with_scan=False)
    request = PackRequest(
        asin=ASIN,
        artist="bench",
        model=product.model,
        photos=product.photos,
        title=product.title,
        dimensions=product.dimensions_m,
        scan=Path(OBJ_NAME),
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps(build_manifest(request)))
        archive.write(product.model, f"model/{product.model.name}")
        for photo in product.photos:
            archive.write(photo, f"photos/{photo.name}")
        archive.writestr("scan/scan.mtl", "newmtl scan\nmap_Kd textures/albedo.jpg\n")
        with archive.open("scan/textures/albedo.jpg", "w") as texture:
            texture.write(b"\xff\xd8\xff\xe0")
            for _ in range(texture_mb):
                texture.write(noise.bytes(2**20))
        with archive.open(OBJ_NAME, "w", force_zip64=True) as obj:
            return write_obj(obj, target_bytes=obj_bytes)


# --- the child: judge the archive -----------------------------------------------------------


def judge(path: Path) -> dict:
    """`shazam validate` on the delivery: every check, as the pipeline runs it."""
    from shazam_assets.ingest.delivery.validate import validate_delivery

    started = time.perf_counter()
    report = validate_delivery(path, expected_asin=ASIN).report
    done = time.perf_counter()
    scan = report.stats.get("scan", {})
    return {
        "ok": report.ok,
        "entries": report.stats["entries"],
        "uncompressed_bytes": report.stats["uncompressed_bytes"],
        "issues": [i.code for i in report.issues],
        "validate_s": done - started,
        "scan_s": scan.get("seconds"),
        "scan_mb_per_s": scan.get("mb_per_s"),
        "vertices": scan.get("vertices"),
        "faces": scan.get("faces"),
        "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _vm_hwm_mb() -> float | None:
    """This process's own RSS high-water mark (Linux), a cross-check of getrusage."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return int(line.split()[1]) * 1024 / MB if line else None


def start_child() -> subprocess.Popen[str]:
    """The judging process, started while this one is still small.

    Linux charges a child's ru_maxrss with the RSS of the process it was forked from, so the
    child is started before the archive is built and waits for the path on stdin.
    """
    return subprocess.Popen(
        [sys.executable, __file__, "--child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def measure(child: subprocess.Popen[str], path: Path) -> tuple[dict, float, float]:
    """Hand the archive to the waiting child; (its result, peak RSS MB, wall seconds)."""
    started = time.perf_counter()
    out, _ = child.communicate(f"{path}\n")
    wall = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"the judging process failed with exit code {child.returncode}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return json.loads(out), peak_kb * 1024 / MB, wall


def _row(result: dict, *, archive_mb: float, peak_mb: float, wall: float, verdict: str) -> str:
    return (
        f"| {archive_mb:,.0f} | {result['uncompressed_bytes'] / MB:,.0f} | {result['entries']} "
        f"| {result['ok']} | {result['validate_s']:.1f} | {result['scan_s']:.1f} | {result['scan_mb_per_s']} "
        f"| {wall:.1f} | {peak_mb:.0f} | {platform.machine()}, {os.cpu_count()} cores "
        f"| {verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obj-mb", type=int, default=2000, help="OBJ size before compression")
    parser.add_argument("--texture-mb", type=int, default=8)
    parser.add_argument("--max-rss-mb", type=float, default=300.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = judge(Path(sys.stdin.readline().strip()))
        print(json.dumps(result | {"vm_hwm_mb": _vm_hwm_mb()}))
        return 0
    child = start_child()
    with tempfile.TemporaryDirectory(prefix="shazam-bench-") as work:
        path = Path(work) / "delivery.zip"
        started = time.perf_counter()
        try:
            vertices, faces = build_delivery(
                path, obj_bytes=int(args.obj_mb * MB), texture_mb=args.texture_mb
            )
        except BaseException:
            child.kill()
            raise
        built = time.perf_counter() - started
        archive_mb = path.stat().st_size / MB
        result, peak_mb, wall = measure(child, path)
    assert (result["vertices"], result["faces"]) == (vertices, faces), result
    ok = peak_mb <= args.max_rss_mb
    print(
        f"built the archive in {built:.0f} s; issues: {result['issues'] or 'none'}; "
        f"child VmHWM {result['vm_hwm_mb']:.0f} MB"
    )
    print(
        "| archive MB | unpacked MB | entries | accepted | validate_delivery s | of which scan s "
        "| scan MB/s | child wall s | peak RSS MB | machine | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    verdict = "ok" if ok else f"over {args.max_rss_mb:.0f} MB"
    print(_row(result, archive_mb=archive_mb, peak_mb=peak_mb, wall=wall, verdict=verdict))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
