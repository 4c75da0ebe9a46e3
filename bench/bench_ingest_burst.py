"""A burst of N real deliveries uploaded at once, through the real daemon: batched runs against
one run per upload, in the same run of this script.

Each side gets a fresh SQLite instance and local store (the embedded default) and its own
`dagster-daemon`; after one warm-up upload (the code location loaded), N deliveries of the
five demo products (each packed for its own ASIN, ~0.9 MB) are written to uploads/ at once.
Measured: from the first write until every upload's version.json exists (all stored) and until
every run has ended (the automatic QA of each version included), the runs launched, and
uploads per minute. "one run per upload" is the same code with `SHAZAM_INGEST_BATCH=1`, which
is how every upload was processed before batching.

    .venv/bin/python bench/bench_ingest_burst.py [--uploads 100] [--baseline-minutes M]

One run per upload drains a few uploads a minute here, so at 1,000 uploads `--baseline-minutes`
stops it after M minutes of the same burst and takes its rate (uploads stored per minute, which
is steady: every upload is the same run) from what it stored; the ratio is of the two rates.
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


def _burst(
    mode: str, batch: str, zips: dict[str, Path], warm: Path, work: Path, *, cap_s: float
) -> dict:
    """Upload every ZIP at once and wait until all are stored and every run has ended, or
    until `cap_s` has passed (then what was stored by then gives the rate)."""
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
            return not left or time.monotonic() - started > cap_s

        wait_for(all_stored, cap_s + 600, 1.0)
        stored = time.monotonic() - started
        count = len(uploads) - len(left)
        busy = RunsFilter(
            statuses=[
                DagsterRunStatus.QUEUED,
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
            ]
        )
        finished = None
        if not left:
            wait_for(lambda: not p.instance.get_runs(busy, limit=1), 3600, 1.0)
            finished = time.monotonic() - started
        runs = len(p.instance.get_run_records()) - before
        failed = len(p.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE])))
    print(
        f"{mode}: {len(zips)} uploads written in {written:.1f} s; {count} stored after "
        f"{stored:.1f} s"
        + ("" if finished is None else f", runs done after {finished:.1f} s")
        + f"; {runs} runs ({failed} failed)",
        flush=True,
    )
    return {"stored": stored, "count": count, "finished": finished, "runs": runs, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument(
        "--baseline-minutes",
        type=float,
        default=None,
        help="stop one-run-per-upload after this long and take its rate from what it stored "
        "(at 1,000 uploads it would take hours); default: let it store everything",
    )
    args = parser.parse_args()
    results = {}
    # a run process may still be writing its logs as the daemon stops: ignore the cleanup
    with tempfile.TemporaryDirectory(prefix="shazam-burst-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        zips = _deliveries(work, args.uploads)
        warm = build_delivery(asin=WARM_ASIN, slug="speaker", work=work)
        for mode, batch in MODES.items():
            (work / mode).mkdir()
            cap = 60 * args.baseline_minutes if args.baseline_minutes and batch == "1" else 1e9
            results[mode] = _burst(mode, batch, zips, warm, work / mode, cap_s=cap)
    n = args.uploads
    rate = {mode: 60 * r["count"] / r["stored"] for mode, r in results.items()}
    base = rate["one run per upload"]
    print(
        "\n| mode | uploads | runs | stored | uploads per minute (stored) | all stored "
        "| all runs done | ratio (uploads per minute) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        everything = (
            f"{r['stored']:.0f} s"
            if r["count"] == n
            else f"~{60 * n / rate[mode]:.0f} s at that rate"
        )
        done = "-" if r["finished"] is None else f"{r['finished']:.0f} s"
        print(
            f"| {mode} | {n} | {r['runs']} | {r['count']} in {r['stored']:.0f} s | "
            f"{rate[mode]:.1f} | {everything} | {done} | {rate[mode] / base:.1f}x |"
        )


if __name__ == "__main__":
    main()
