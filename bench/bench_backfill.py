"""Orchestration overhead of a re-validation backfill through the real `dagster-daemon`, batched
vs one run per ASIN.

Sets up N published ASINs on a fresh local store and SQLite instance (the embedded default),
as an older SHAZAM left them (verdicts without a rules version: all stale), optionally with a
share of never-published ASIN partitions interleaved among them (a real catalogue has some,
and they split Dagster's partition ranges). Then, with `dagster-daemon run` going:
- batched: `shazam backfill --stage validate` registers one backfill; the daemon's backfill
  loop launches its runs (the `revalidation` asset's BackfillPolicy, 200 ASINs per run), each
  in its own process, through the run queue (4 at a time);
- one run per ASIN: K backfills of one ASIN each, the same asset, queue and daemon.
Wall time runs from registration to the backfill's completion as the instance records it.
The re-validation work itself is timed alone and subtracted, so the figure is Dagster's cost
per ASIN (run processes, queueing, the daemon's 30 s backfill loop, bookkeeping).

    .venv/bin/python bench/bench_backfill.py [--asins 1000] [--single 20] [--unpublished 0.05] [--no-bridge]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402
from dagster._core.execution.backfill import BulkActionStatus  # noqa: E402

from dagster_project import dagster_executable  # noqa: E402
from dagster_project.definitions import defs  # noqa: E402
from dagster_project.lib.backfills import launch_backfill  # noqa: E402
from shazam_assets.operations import backfill  # noqa: E402
from shazam_assets.platform.settings import ensure_dagster_home  # noqa: E402
from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_demo.run import build_delivery, running_daemon  # noqa: E402
from tests.builders import publish_legacy  # noqa: E402

FINISHED = {
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


def _wait(instance: dg.DagsterInstance, ids: list[str], alive, timeout_s: float = 3600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = [instance.get_backfill(i).status for i in ids]
        if all(s in FINISHED for s in states):
            assert all(s == BulkActionStatus.COMPLETED_SUCCESS for s in states), states
            return
        alive()
        time.sleep(0.5)
    raise TimeoutError("backfills did not finish")


def _runs(instance: dg.DagsterInstance, ids: list[str]) -> list[dg.DagsterRun]:
    return [r for i in ids for r in instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": i}))]


def _quiet(home: Path) -> None:
    """The upload and publish sensors would process the old store as new: stop them."""
    for sensor in ("upload_sensor", "published_sensor"):
        subprocess.run(
            [dagster_executable("dagster"), "sensor", "stop", sensor, "-w", "workspace.yaml"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def _setup(
    work: Path, n: int, single: int, unpublished: float
) -> tuple[LocalStore, list[str], list[str]]:
    """(store, batched ASINs, single-run ASINs), all published; partitions added in catalogue
    order with never-published ASINs interleaved at the given share."""
    store = LocalStore(work / "store")
    zip_path = build_delivery(asin="B0BENCHBF0", slug="speaker", work=work)
    batched = [f"B0BF{i:06d}" for i in range(n)]
    singles = [f"B0SG{i:06d}" for i in range(single)]
    for asin in batched + singles:
        publish_legacy(store, asin, zip_path)
    rng, order = random.Random(7), []
    for i, asin in enumerate(batched):
        if rng.random() < unpublished:
            order.append(f"B0UN{i:06d}")
        order.append(asin)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("asin", order + singles)
    return store, batched, singles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asins", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument(
        "--unpublished",
        type=float,
        default=0.0,
        help="share of never-published ASIN partitions interleaved (0-1)",
    )
    parser.add_argument(
        "--no-bridge",
        action="store_true",
        help="register the backfill as `--all` does: no gap bridging (for comparison)",
    )
    args = parser.parse_args()
    from dagster_project.lib.cadence import REVALIDATION_BATCH

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "store").mkdir()  # a missing local store root is refused
        os.environ.update(
            SHAZAM_STORE_URL=(work / "store").as_uri(),
            DAGSTER_HOME=str(work / "home"),
            SHAZAM_UPLOAD_QUEUE_URL="",
            SHAZAM_NOTIFY_URL="",
        )
        ensure_dagster_home(work / "home")
        store, batched, singles = _setup(work, args.asins, args.single, args.unpublished)
        started = time.perf_counter()
        backfill.revalidate(store, singles)
        work_per_asin = (time.perf_counter() - started) / len(singles)
        _quiet(work / "home")
        instance = dg.DagsterInstance.get()
        rows = []
        with running_daemon(ROOT, work / "daemon.log") as alive:
            time.sleep(20)  # let the daemon load the code location before timing
            for mode, asins, per_run in (
                ("batched backfill", batched, False),
                ("one run per ASIN", singles, True),
            ):
                started = time.perf_counter()
                groups = [[a] for a in asins] if per_run else [asins]
                reason = "all" if args.no_bridge else "stale"  # every ASIN here is stale either way
                graph = defs.resolve_asset_graph()
                ids = [
                    launch_backfill(instance, graph, "validate", g, reason=reason).backfill_id
                    for g in groups
                ]
                _wait(instance, ids, alive)
                wall = time.perf_counter() - started
                rows.append(
                    (
                        mode,
                        len(asins),
                        len(_runs(instance, ids)),
                        wall,
                        wall / len(asins) - work_per_asin,
                    )
                )
        assert backfill.stale_asins(store, "validate") == []
    print(
        f"re-validation work alone: {work_per_asin * 1000:.1f} ms/ASIN; batch size {REVALIDATION_BATCH}; "
        f"never-published partitions interleaved: {args.unpublished:.0%}; "
        f"gaps {'not bridged' if args.no_bridge else 'bridged'}"
    )
    print("| mode | ASINs | runs | wall s | overhead s/ASIN |\n|---|---:|---:|---:|---:|")
    for mode, count, runs, wall, overhead in rows:
        print(f"| {mode} | {count} | {runs} | {wall:.1f} | {overhead:.3f} |")
    print(f"ratio (one run per ASIN / batched): {rows[1][4] / rows[0][4]:.1f}x")


if __name__ == "__main__":
    main()
