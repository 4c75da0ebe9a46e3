"""Orchestration overhead of a re-validation backfill: batched runs vs one run per ASIN.

Sets up N published ASINs on a fresh local store and SQLite instance, registers the backfill
exactly as `shazam backfill --stage validate --all` does, then executes its runs in process
(batches of `REVALIDATION_BATCH` ASINs, the asset's backfill policy) and, for comparison, K
single-ASIN runs. The work itself (re-judging each ASIN's delivery) is timed on its own and
subtracted, so the figures are Dagster's cost per ASIN. Runs execute in process: a daemon adds
a run-process start (~2-4 s) per run on top, i.e. per batch, not per ASIN.
Every ASIN reuses one delivery ZIP (made for another ASIN, so verdicts are rejections; the
rules all run either way).

    .venv/bin/python bench/bench_backfill.py [--asins 1000] [--single 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from dagster_project.demo import build_delivery  # noqa: E402
from shazam_assets import backfill, ingest  # noqa: E402
from shazam_assets.qa import decisions  # noqa: E402
from shazam_assets.storage import LocalStore  # noqa: E402

RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _publish(store: LocalStore, asins: list[str], zip_path: Path) -> None:
    """Each ASIN: an upload, a version manifest naming it, and a published pointer."""
    for asin in asins:
        key = f"uploads/{asin}/delivery.zip"
        store.put_file(key, zip_path)
        upload = ingest.resolve_upload(store, asin, key=key)
        manifest = {"upload": {"key": key, "upload_id": upload.upload_id}, "validation": {}}
        store.put_bytes(f"assets/{asin}/v1/version.json", json.dumps(manifest).encode())
        store.put_bytes(decisions.published_key(asin), json.dumps({"asin": asin, "version": 1}).encode())


def _job():
    from dagster_project.definitions import defs

    return defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("revalidation")}
    )


def _batched(instance: dg.DagsterInstance, asins: list[str], batch: int) -> tuple[float, float, int]:
    """(seconds to register the backfill, seconds to execute its batches, runs)."""
    from dagster_project.defs.ops.backfills import launch_backfill

    started = time.perf_counter()
    launch_backfill(instance, "validate", asins, reason="bench")
    registered = time.perf_counter() - started
    job, runs = _job(), 0
    started = time.perf_counter()
    for i in range(0, len(asins), batch):
        chunk = asins[i: i + batch]
        result = job.execute_in_process(instance=instance, tags=dict(zip(RANGE, (chunk[0], chunk[-1]), strict=True)))
        assert result.success
        runs += 1
    return registered, time.perf_counter() - started, runs


def _single(instance: dg.DagsterInstance, asins: list[str]) -> float:
    job = _job()
    started = time.perf_counter()
    for asin in asins:
        assert job.execute_in_process(instance=instance, partition_key=asin).success
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asins", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20)
    args = parser.parse_args()
    from dagster_project.defs.ops.assets import REVALIDATION_BATCH

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = LocalStore(work / "store")
        os.environ.update(SHAZAM_STORE_URL=(work / "store").as_uri(), SHAZAM_UPLOAD_QUEUE_URL="",
                          SHAZAM_NOTIFY_URL="", SHAZAM_RENDER_FRAMES="8", SHAZAM_RENDER_SIZE="64")
        asins = [f"B0BF{i:06d}" for i in range(args.asins)]
        zip_path = build_delivery(asin="B0BENCHBF0", slug="speaker", work=work)
        _publish(store, asins, zip_path)
        started = time.perf_counter()
        backfill.revalidate(store, asins[: args.single])
        work_per_asin = (time.perf_counter() - started) / args.single
        (work / "dagster_home").mkdir()
        with dg.DagsterInstance.local_temp(str(work / "dagster_home")) as instance:
            registered, batched, runs = _batched(instance, asins, REVALIDATION_BATCH)
            single = _single(instance, asins[: args.single])
    n, k = len(asins), args.single
    rows = [
        ("batched backfill", n, runs, batched + registered, (batched + registered) / n - work_per_asin),
        ("one run per ASIN", k, k, single, single / k - work_per_asin),
    ]
    print(f"re-validation work alone: {work_per_asin * 1000:.1f} ms/ASIN; "
          f"backfill registration {registered:.2f} s; batch size {REVALIDATION_BATCH}")
    print("| mode | ASINs | runs | total s | overhead s/ASIN |\n|---|---|---|---|---|")
    for mode, count, run_count, total, overhead in rows:
        print(f"| {mode} | {count} | {run_count} | {total:.1f} | {overhead:.3f} |")


if __name__ == "__main__":
    main()
