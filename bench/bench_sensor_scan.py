"""How long does one upload-sensor tick take with 100,000 objects under `uploads/`?

Dagster cancels a sensor evaluation after 60 s (dagster-io/dagster#14830). This fills a bucket
on a moto server (a subprocess, spoken to over HTTP like S3) and a local directory with
`--objects` uploads, then times `scan_uploads` ticks with the sensor's default budgets:

- the first pass (no cursor; only the 40 s time budget limits a tick),
- steady state: one new upload arrives, ticks run until a pass completes.

It prints a markdown table and exits 1 if any steady-state tick took longer than 60 s.

    .venv/bin/python bench/bench_sensor_scan.py [--objects 100000] [--endpoint URL]

moto answers every ListObjectsV2 page by scanning the whole bucket, so a 100,000-object page
costs it ~2 s where S3 takes ~0.1 s: the moto numbers are an upper bound on listing time.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from shazam_assets.ingest.uploads import scan_uploads
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store

SENSOR_LIMIT_S = 60.0
NEW_KEY = "uploads/B000050000/late delivery.zip"  # sorts in the middle of the filled keys


@dataclass(frozen=True)
class TickTiming:
    backend: str
    phase: str
    tick: int
    listed: int
    emitted: int
    seconds: float
    cursor_bytes: int
    found_new: bool


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server subprocess on a free port; its endpoint URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _key(n: int) -> str:
    return f"uploads/B0{n:08d}/delivery-{n}.zip"


def fill_s3(client: Any, bucket: str, count: int) -> float:
    started = time.perf_counter()
    client.create_bucket(Bucket=bucket)

    def put(n: int) -> None:
        client.put_object(Bucket=bucket, Key=_key(n), Body=b"PK")

    with ThreadPoolExecutor(16) as pool:
        for _ in pool.map(put, range(count)):
            pass
    return time.perf_counter() - started


def fill_local(root: Path, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        path = root / _key(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK")
    return time.perf_counter() - started


def run_pass(
    store: ObjectStore, cursor: str | None, *, backend: str, phase: str, max_uploads: int
) -> tuple[list[TickTiming], str]:
    """Ticks until a pass completes, as the sensor would run them."""
    timings = []
    for tick in range(1, 1000):
        started = time.perf_counter()
        result = scan_uploads(store, cursor, now=datetime.now(UTC), max_uploads=max_uploads)
        seconds = time.perf_counter() - started
        cursor = result.cursor
        found = any(upload.key == NEW_KEY for upload in result.uploads)
        timings.append(
            TickTiming(
                backend,
                phase,
                tick,
                result.listed,
                len(result.uploads),
                seconds,
                len(cursor),
                found,
            )
        )
        print(
            f"  {backend} {phase} tick {tick}: {result.listed} listed, {seconds:.1f} s", flush=True
        )
        if result.complete_pass:
            return timings, cursor
    raise RuntimeError("no pass completed in 1000 ticks")


def bench(store: ObjectStore, backend: str, count: int) -> list[TickTiming]:
    first, cursor = run_pass(store, None, backend=backend, phase="first pass", max_uploads=count)
    store.put_bytes(NEW_KEY, b"PK")
    steady, _ = run_pass(store, cursor, backend=backend, phase="steady state", max_uploads=500)
    return first + steady


def table(timings: list[TickTiming]) -> str:
    lines = [
        "| backend | phase | tick | listed | emitted | seconds | cursor bytes | new upload found |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        lines.append(
            f"| {t.backend} | {t.phase} | {t.tick} | {t.listed:,} | {t.emitted:,} "
            f"| {t.seconds:.2f} | {t.cursor_bytes:,} | {'yes' if t.found_new else ''} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--endpoint", help="an S3 endpoint to use instead of starting moto")
    args = parser.parse_args()

    timings: list[TickTiming] = []
    with tempfile.TemporaryDirectory() as tmp:
        local = LocalStore(Path(tmp))
        print(f"local fill: {fill_local(local.root, args.objects):.1f} s", flush=True)
        timings += bench(local, "local", args.objects)

    with contextlib.ExitStack() as stack:
        endpoint = args.endpoint or stack.enter_context(moto_server())
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(max_pool_connections=32),
        )
        bucket = f"bench-{int(time.time())}"
        print(f"s3 fill: {fill_s3(client, bucket, args.objects):.1f} s", flush=True)
        timings += bench(S3Store(bucket, client=client), "s3 (moto)", args.objects)

    print()
    print(table(timings))
    slow = [t for t in timings if t.phase == "steady state" and t.seconds > SENSOR_LIMIT_S]
    if slow:
        print(f"\nFAIL: {len(slow)} steady-state tick(s) over {SENSOR_LIMIT_S:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
