"""A burst of N real deliveries uploaded at once, through the real daemon: batched runs against
one run per upload, in the same run of this script.

Each side gets a fresh SQLite instance and local store (the embedded default) and its own
`dagster-daemon`; after one warm-up upload (the code location loaded), N deliveries of the
five demo products (each packed for its own ASIN, ~0.9 MB) are written to uploads/ at once.
Measured: from the first write until every upload's version.json exists (all stored) and until
every run has ended (the automatic QA of each version included), the runs launched, and
uploads per minute. "one run per upload" is the same code with `SHAZAM_INGEST_BATCH=1`, which
is how every upload was processed before batching.

    .venv/bin/python bench/bench_ingest_burst.py [--uploads 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest_latency import ROOT, pipeline, upload, wait_for, warm_up

sys.path.insert(0, str(ROOT))

from shazam_assets.ingest import versions
from shazam_assets.ingest.delivery.pack import PackRequest, pack_delivery
from shazam_demo.products import CATALOG, make_product
from shazam_demo.run import build_delivery

WARM_ASIN = "B0BURSTWRM"
MODES = {"one run per upload": "1", "batched (50 per run)": "50"}


def _deliveries(work: Path, count: int) -> dict[str, Path]:
    """ASIN -> a delivery ZIP packed for it, cycling through the demo catalogue."""
    products = [make_product(slug, out_dir=work / "products") for slug in CATALOG]
    (work / "zips").mkdir()
    made = {}
    for i in range(count):
        asin, product = f"B0BURST{i:03d}", products[i % len(products)]
        request = PackRequest(
            asin=asin,
            artist="Burst Artist",
            model=product.model,
            photos=product.photos,
            scan=product.scan_obj,
            title=product.title,
            dimensions=product.dimensions_m,
        )
        made[asin] = pack_delivery(request, out=work / "zips" / f"{asin}.zip")
    return made


def _burst(mode: str, batch: str, zips: dict[str, Path], warm: Path, work: Path) -> dict:
    from dagster import DagsterRunStatus, RunsFilter

    os.environ["SHAZAM_INGEST_BATCH"] = batch
    with pipeline("local", work) as p:
        warm_up(p, warm, WARM_ASIN)
        before = len(p.instance.get_run_records())
        started = time.monotonic()
        uploads = [upload(p.store, f"uploads/{asin}/delivery.zip", z) for asin, z in zips.items()]
        written = time.monotonic() - started
        left = list(uploads)

        def all_stored() -> bool:
            left[:] = [u for u in left if versions.find_upload_version(p.store, u) is None]
            p.alive()
            return not left

        wait_for(all_stored, 3600, 0.5)
        stored = time.monotonic() - started
        busy = RunsFilter(
            statuses=[
                DagsterRunStatus.QUEUED,
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
            ]
        )
        wait_for(lambda: not p.instance.get_runs(busy), 3600, 0.5)
        finished = time.monotonic() - started
        runs = len(p.instance.get_run_records()) - before
        failed = len(p.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE])))
    print(
        f"{mode}: {len(zips)} uploads written in {written:.1f} s, all stored after {stored:.1f} s, "
        f"runs done after {finished:.1f} s; {runs} runs ({failed} failed)",
        flush=True,
    )
    return {"stored": stored, "finished": finished, "runs": runs, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    args = parser.parse_args()
    results = {}
    # a run process may still be writing its logs as the daemon stops: ignore the cleanup
    with tempfile.TemporaryDirectory(prefix="shazam-burst-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        zips = _deliveries(work, args.uploads)
        warm = build_delivery(asin=WARM_ASIN, slug="speaker", work=work)
        for mode, batch in MODES.items():
            (work / mode).mkdir()
            results[mode] = _burst(mode, batch, zips, warm, work / mode)
    n = args.uploads
    base = results["one run per upload"]
    print(
        "\n| mode | uploads | runs | all stored | uploads per minute (stored) | all runs done "
        "| ratio (stored) |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        print(
            f"| {mode} | {n} | {r['runs']} | {r['stored']:.0f} s | {60 * n / r['stored']:.0f} | "
            f"{r['finished']:.0f} s | {base['stored'] / r['stored']:.1f}x |"
        )


if __name__ == "__main__":
    main()
