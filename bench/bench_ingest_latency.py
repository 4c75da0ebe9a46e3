"""Upload-to-stored latency through the real sensor and runs on the embedded default.

Starts `dagster-daemon` on a fresh SQLite instance and local store, uploads N deliveries one
at a time, and measures from the upload's write to its version.json appearing. Prints a
markdown table (median, p90, and the split between waiting for the sensor tick and the run).

    .venv/bin/python bench/bench_ingest_latency.py [--uploads 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dagster_project import dagster_executable  # noqa: E402
from shazam_assets.ingest import versions  # noqa: E402
from shazam_assets.ingest.uploads import Upload  # noqa: E402
from shazam_assets.platform import settings  # noqa: E402
from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_demo.run import build_delivery  # noqa: E402

ASIN = "B0BENCHLAT"


def _wait_for(predicate, timeout_s: float, poll_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError("gave up waiting")


def _run_started(instance, key: str):
    from dagster import RunsFilter

    runs = instance.get_runs(RunsFilter(tags={"shazam/upload_key": key}), limit=1)
    return runs[0] if runs else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shazam-bench-") as tmp:
        work = Path(tmp)
        (work / "store").mkdir()  # a missing local store root is refused
        os.environ.update(
            SHAZAM_STORE_URL=(work / "store").as_uri(),
            DAGSTER_HOME=str(work / "home"),
            SHAZAM_UPLOAD_QUEUE_URL="",
        )
        settings.ensure_dagster_home(work / "home")
        store = LocalStore(work / "store")
        delivery = build_delivery(asin=ASIN, slug="speaker", work=work)
        from dagster import DagsterInstance

        instance = DagsterInstance.get()
        with open(work / "daemon.log", "wb") as log:
            daemon = subprocess.Popen(
                [dagster_executable("dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        rows = []
        try:
            for i in range(args.uploads):
                key = f"uploads/{ASIN}/delivery-{i:03d}.zip"
                started = time.monotonic()
                info = store.put_file(key, delivery)
                upload = Upload(
                    key=key,
                    asin=ASIN,
                    etag=info.etag,
                    size=info.size,
                    last_modified=info.last_modified,
                )
                run = _wait_for(lambda key=key: _run_started(instance, key), 300)
                queued = time.monotonic()
                _wait_for(lambda u=upload: versions.find_upload_version(store, u), 300)
                done = time.monotonic()
                rows.append((done - started, queued - started, done - queued))
                print(
                    f"upload {i}: {done - started:.2f} s (sensor {queued - started:.2f} s, run {done - queued:.2f} s; {run.run_id[:8]})",
                    flush=True,
                )
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
    total = [r[0] for r in rows]
    print(
        "\n| uploads | median upload-to-stored | p90 | median wait for sensor tick | median run (queued to stored) |"
    )
    print("|---|---|---|---|---|")
    p90 = statistics.quantiles(total, n=10)[-1] if len(total) >= 2 else total[0]
    print(
        f"| {len(rows)} | {statistics.median(total):.2f} s | {p90:.2f} s | "
        f"{statistics.median(r[1] for r in rows):.2f} s | {statistics.median(r[2] for r in rows):.2f} s |"
    )


if __name__ == "__main__":
    main()
