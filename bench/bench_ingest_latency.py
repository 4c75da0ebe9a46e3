"""Upload-to-stored latency through the real sensor, daemon and runs, listing or SQS on moto.

Starts `dagster-daemon` on a fresh SQLite instance and either a local store (the embedded
default: `upload_sensor` lists uploads/) or a moto server's S3 bucket whose ObjectCreated
notifications go to an SQS queue (`upload_queue_sensor`), uploads N deliveries one at a time
(each after the previous is stored and a random pause of 0-5 s), and measures from the upload's write to its version.json appearing. Each upload's time is split
by the run's own records: waiting for the sensor tick (upload to run created), the run queue
(created to launched), the launch (a new process loading the code location, to RUN_START) and
the run itself (RUN_START to stored: validate, stage, verify, commit). Prints a markdown table.

    .venv/bin/python bench/bench_ingest_latency.py [--uploads 10] [--mode local|sqs|both]
        [--waits 0,4]

Each mode runs one pipeline per `--waits` value of SHAZAM_UPLOAD_WAIT_S side by side, the uploads
taking turns between them (so load on a shared machine hits every variant alike): 0 is the
design before ticks waited for uploads (each tick looks once; Dagster starts one every 5 s).

`pipeline()` is shared with bench_ingest_burst.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dagster_project import dagster_executable  # noqa: E402
from shazam_assets.ingest import versions  # noqa: E402
from shazam_assets.ingest.uploads import Upload  # noqa: E402
from shazam_assets.platform import settings  # noqa: E402
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store  # noqa: E402
from shazam_demo.run import build_delivery  # noqa: E402

ASIN = "B0BENCHLAT"
MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def wait_for(predicate, timeout_s: float, poll_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError("gave up waiting")


@contextmanager
def _moto(work: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with open(work / "moto.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        import urllib.request

        wait_for(lambda: _up(urllib.request, url), 30, 0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _up(request: Any, url: str) -> bool:
    try:
        request.urlopen(url, timeout=1)
        return True
    except Exception:
        return False


def _sqs_bucket(endpoint: str) -> tuple[S3Store, str]:
    """A bucket whose ObjectCreated events go to a fresh queue (as deploy/README.md sets up)."""
    import boto3

    os.environ.update(MOTO_ENV, AWS_ENDPOINT_URL=endpoint)
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket="shazam-bench")
    queue = sqs.create_queue(QueueName="uploads", Attributes={"VisibilityTimeout": "60"})
    arn = sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["QueueArn"])
    s3.put_bucket_notification_configuration(
        Bucket="shazam-bench",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return S3Store("shazam-bench", client=s3), queue["QueueUrl"]


@dataclass
class Pipeline:
    store: ObjectStore
    instance: Any  # DagsterInstance
    work: Path
    alive: Any


@contextmanager
def pipeline(mode: str, work: Path, *, dagster_yaml: str | None = None) -> Iterator[Pipeline]:
    """A fresh instance and store, and `dagster-daemon` serving them (mode: local or sqs)."""
    with _moto(work) if mode == "sqs" else _nothing() as endpoint:
        if mode == "sqs":
            store, queue_url = _sqs_bucket(endpoint)
            os.environ.update(
                SHAZAM_STORE_URL="s3://shazam-bench", SHAZAM_UPLOAD_QUEUE_URL=queue_url
            )
        else:
            (work / "store").mkdir()  # a missing local store root is refused
            store = LocalStore(work / "store")
            os.environ.update(
                SHAZAM_STORE_URL=(work / "store").as_uri(), SHAZAM_UPLOAD_QUEUE_URL=""
            )
        os.environ.update(DAGSTER_HOME=str(work / "home"), SHAZAM_NOTIFY_URL="")
        settings.ensure_dagster_home(work / "home")
        if dagster_yaml is not None:
            (work / "home" / "dagster.yaml").write_text(dagster_yaml)
        from dagster import DagsterInstance

        instance = DagsterInstance.get()
        with open(work / "daemon.log", "wb") as log:
            daemon = subprocess.Popen(
                [dagster_executable("dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def alive() -> None:
            if daemon.poll() is not None:
                raise RuntimeError(f"dagster-daemon exited; see {work / 'daemon.log'}")

        try:
            yield Pipeline(store, instance, work, alive)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def upload(store: ObjectStore, key: str, path: Path) -> Upload:
    info = store.put_file(key, path)
    parsed = key.split("/")
    return Upload(key, parsed[1], info.etag, info.size, info.last_modified)


def _run_of(instance, key: str):
    from dagster import RunsFilter

    runs = instance.get_runs(RunsFilter(tags={"shazam/upload_key": key}), limit=1)
    return runs[0] if runs else None


def _event_time(instance, run_id: str, kind) -> float | None:
    records = instance.all_logs(run_id, of_type=kind)
    return records[0].timestamp if records else None


def measure_one(p: Pipeline, delivery: Path, i: int) -> tuple[float, ...]:
    """Upload one delivery and wait until it is stored: (total, sensor, queue, launch, run) s."""
    from dagster import DagsterEventType

    key = f"uploads/{ASIN}/delivery-{i:03d}.zip"
    wall = time.time()
    started = time.monotonic()
    done = upload(p.store, key, delivery)
    wait_for(lambda u=done: versions.find_upload_version(p.store, u), 300)
    total = time.monotonic() - started
    run = wait_for(lambda key=key: _run_of(p.instance, key), 60)
    record = p.instance.get_run_record_by_id(run.run_id)
    created = record.create_timestamp.timestamp()
    launched = _event_time(p.instance, run.run_id, DagsterEventType.PIPELINE_STARTING)
    began = wait_for(
        lambda r=run: _event_time(p.instance, r.run_id, DagsterEventType.RUN_START), 60
    )
    sensor = created - wall
    queue = (launched or created) - created
    launch = began - (launched or created)
    p.alive()
    return (total, sensor, queue, launch, total - sensor - queue - launch)


def measure(pipelines: dict[str, Pipeline], delivery: Path, count: int) -> dict[str, list]:
    """`count` uploads to each pipeline, taking turns in a random order each round, one at a
    time: {name: [(total, sensor, queue, launch, run)]}. Taking turns exposes every variant to
    the same moments of load on a shared machine."""
    rows: dict[str, list] = {name: [] for name in pipelines}
    rng = random.Random(15)
    for i in range(count):
        for name in rng.sample(sorted(pipelines), len(pipelines)):
            # An upload comes at a random moment, not right after the previous one is stored:
            # a fixed rhythm would lock onto the sensor daemon's 5 s loop (one phase only).
            time.sleep(rng.uniform(0.0, 5.0))
            row = measure_one(pipelines[name], delivery, i)
            rows[name].append(row)
            print(
                f"{name} upload {i}: {row[0]:.2f} s (sensor {row[1]:.2f}, queue {row[2]:.2f}, "
                f"launch {row[3]:.2f}, run {row[4]:.2f})",
                flush=True,
            )
    return rows


def warm_up(p: Pipeline, delivery: Path, asin: str = ASIN) -> None:
    """One upload, not counted: the daemon has started and loaded the code location."""
    done = upload(p.store, f"uploads/{asin}/warm-up.zip", delivery)
    wait_for(lambda: versions.find_upload_version(p.store, done), 300)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--mode", choices=("local", "sqs", "both"), default="both")
    parser.add_argument(
        "--waits",
        default="0,4",
        help="SHAZAM_UPLOAD_WAIT_S values to compare in this run (0: a tick only looks once, "
        "the design before waiting ticks)",
    )
    args = parser.parse_args()
    table = []
    for mode in ("local", "sqs") if args.mode == "both" else (args.mode,):
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="shazam-bench-", ignore_cleanup_errors=True)
            )
            delivery = build_delivery(asin=ASIN, slug="speaker", work=Path(tmp))
            pipelines = {}
            for wait in args.waits.split(","):
                (Path(tmp) / wait).mkdir()
                os.environ["SHAZAM_UPLOAD_WAIT_S"] = wait  # read by the daemon it starts
                pipelines[wait] = stack.enter_context(pipeline(mode, Path(tmp) / wait))
            for p in pipelines.values():
                warm_up(p, delivery)
            rows = measure(pipelines, delivery, args.uploads)
        table += [(mode, wait, rows[wait]) for wait in pipelines]
    print(
        "\n| mode | tick waits | uploads | p50 upload-to-stored | p90 | median sensor wait "
        "| median queue | median launch | median run |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, wait, rows in table:
        med = [statistics.median(r[i] for r in rows) for i in range(5)]
        name = "embedded default (listing)" if mode == "local" else "SQS on moto"
        print(
            f"| {name} | {wait} s | {len(rows)} | {med[0]:.2f} s | {p90([r[0] for r in rows]):.2f} s | "
            + " | ".join(f"{m:.2f} s" for m in med[1:])
            + " |"
        )


if __name__ == "__main__":
    main()
