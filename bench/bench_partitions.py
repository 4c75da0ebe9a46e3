"""Dynamic ASIN partitions at catalogue scale on a real PostgreSQL server (issue 15).

Starts a throwaway PostgreSQL cluster (tests/pg.py, the server the tests use), makes a Dagster
instance on it with the storages production configures (dagster-postgres), adds N ASIN
partition keys in chunks of 10,000, and times, for each N:
- the sensor path of one upload: adding its key (`add_dynamic_partitions`, what the daemon does
  with the upload sensor's add request) and checking a run request's key (`has_partition_key`);
- `get_dynamic_partitions` (every key) and a 20-key partition range (what a `BackfillPolicy`
  batch's `context.partition_keys` resolves);
- launching a stale-render backfill of 20 and 200 ASINs spread over the catalogue: the
  launcher before issue 15 (every key read twice) and now (membership of the targets and the
  short gaps between them), in the same run, so the ratio is on the same data;
- the Dagster UI's asset partitions tab: its `PartitionHealthQuery` GraphQL, run in process
  against the code location (`dagster_graphql`), seconds and response size.

With `--materialized F` (the issue measured 0.95), that fraction of the keys is also
materialized for the `delivery` asset before measuring: one real materialization event is
reported, and copies of its event-log row for the other keys are bulk-loaded with COPY (what
Dagster reads for partition status is that table). Then the UI query is timed cold (Dagster
computes and caches the asset's partition status) and warm, and with `--webserver` also through
a real `dagster-webserver` over HTTP, with the webserver's peak memory (VmHWM).

    .venv/bin/python bench/bench_partitions.py [--sizes 100000 1000000] [--repeat 3]
        [--materialized 0.95] [--webserver]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from dagster_project.definitions import defs  # noqa: E402
from dagster_project.lib import backfills  # noqa: E402
from dagster_project.lib.dagster_internals import add_asset_backfill  # noqa: E402
from dagster_project.lib.partitions import ASIN_PARTITIONS, asin_partitions  # noqa: E402
from shazam_assets.operations.backfill import bridge_gaps  # noqa: E402
from tests.pg import PostgresServer, missing_reason, postgres_server  # noqa: E402

CHUNK = 10_000
DB = "bench_partitions"
PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name type partitionKeys }
      assetPartitionStatuses {
        ... on DefaultPartitionStatuses {
          materializedPartitions materializingPartitions failedPartitions
        }
      }
    }
  }
}
"""


def _instance(server: PostgresServer, home: Path) -> dg.DagsterInstance:
    db = server.create_database(DB)
    postgres_db = {
        "hostname": server.host,
        "port": server.port,
        "username": server.user,
        "password": "trust",
        "db_name": db,
    }
    storages = {
        "run_storage": "PostgresRunStorage",
        "event_log_storage": "PostgresEventLogStorage",
        "schedule_storage": "PostgresScheduleStorage",
    }
    config = {
        key: {
            "module": "dagster_postgres",
            "class": cls,
            "config": {"postgres_db": {**postgres_db, "scheme": "postgresql+psycopg2"}},
        }
        for key, cls in storages.items()
    }
    (home / "dagster.yaml").write_text(json.dumps(config))  # JSON is YAML
    return dg.DagsterInstance.from_config(str(home))


def _keys(start: int, stop: int) -> list[str]:
    return [f"B{i:09d}" for i in range(start, stop)]


def _grow(instance: dg.DagsterInstance, have: int, want: int) -> float:
    began = time.perf_counter()
    for i in range(have, want, CHUNK):
        instance.add_dynamic_partitions(ASIN_PARTITIONS, _keys(i, min(i + CHUNK, want)))
    return time.perf_counter() - began


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _range_keys(instance: dg.DagsterInstance, span: dg.PartitionKeyRange) -> Sequence[str]:
    """The keys of a partition range, as a batch run's `context.partition_keys` resolves them."""
    from dagster._core.definitions.partitions.context import partition_loading_context

    with partition_loading_context(dynamic_partitions_store=instance):
        keys = asin_partitions.get_partition_keys_in_range(span)
    assert len(keys) == 20, len(keys)
    return keys


def _launch_before(instance: dg.DagsterInstance, graph: Any, asins: Sequence[str]) -> str:
    """The launcher as it was before issue 15: every key read for membership, and again for
    the order the gaps are bridged in."""
    known = set(instance.get_dynamic_partitions(ASIN_PARTITIONS))
    missing = [a for a in dict.fromkeys(asins) if a not in known]
    if missing:
        instance.add_dynamic_partitions(ASIN_PARTITIONS, missing)
    order = instance.get_dynamic_partitions(ASIN_PARTITIONS)
    partitions = bridge_gaps(order, list(asins), max_gap=backfills.MAX_BRIDGED_GAP)
    return add_asset_backfill(
        instance,
        graph,
        assets=backfills.STAGE_ASSETS["render"],
        partitions=partitions,
        tags={},
        title="before",
        description="before",
    )


def _launch_now(instance: dg.DagsterInstance, graph: Any, asins: Sequence[str]) -> str:
    return backfills.launch_backfill(instance, graph, "render", asins).backfill_id


def _ui_query(workspace: Any) -> tuple[float, int]:
    from dagster_graphql.test.utils import execute_dagster_graphql

    began = time.perf_counter()
    result = execute_dagster_graphql(
        workspace, PARTITION_HEALTH_QUERY, {"assetKey": {"path": ["delivery"]}}
    )
    seconds = time.perf_counter() - began
    assert not result.errors, result.errors
    return seconds, len(json.dumps(result.data))


def _materialize(
    instance: dg.DagsterInstance,
    server: PostgresServer,
    db: str,
    keys: Sequence[str],
    fraction: float,
) -> float:
    """Materialize `fraction` of `keys` for `delivery`: one real event, then copies of its
    event-log row for the other keys (COPY); seconds taken."""
    import csv
    import io

    import psycopg2

    began = time.perf_counter()
    chosen = [k for i, k in enumerate(keys) if (i % 100) < round(fraction * 100)]
    if not chosen:
        return 0.0
    first = chosen[0]
    instance.report_runless_asset_event(dg.AssetMaterialization("delivery", partition=first))
    columns = "run_id, event, dagster_event_type, timestamp, step_key, asset_key, partition"
    connection = psycopg2.connect(host=server.host, port=server.port, user=server.user, dbname=db)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM event_logs WHERE partition = %s "
                "AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                (first,),
            )
            template = cursor.fetchone()
            for start in range(1, len(chosen), 50_000):
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for key in chosen[start : start + 50_000]:
                    row = list(template)
                    row[1] = row[1].replace(first, key)
                    row[6] = key
                    writer.writerow(row)
                buffer.seek(0)
                cursor.copy_expert(f"COPY event_logs ({columns}) FROM STDIN WITH CSV", buffer)
    finally:
        connection.close()
    return time.perf_counter() - began


@contextlib.contextmanager
def _webserver(home: Path) -> Iterator[tuple[str, int]]:
    """A real `dagster-webserver` on the instance in `home`, serving workspace.yaml."""
    import os
    import socket
    import subprocess
    import urllib.request

    from dagster_project import dagster_executable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(home / "webserver.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            dagster_executable("dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        f"dagster-webserver did not start: {home}/webserver.log"
                    ) from exc
                time.sleep(0.5)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def _http_ui_query(url: str) -> tuple[float, int]:
    import urllib.request

    body = json.dumps(
        {"query": PARTITION_HEALTH_QUERY, "variables": {"assetKey": {"path": ["delivery"]}}}
    ).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        data = response.read()
    seconds = time.perf_counter() - began
    assert b'"errors"' not in data[:200], data[:500]
    return seconds, len(data)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _measure(instance: dg.DagsterInstance, n: int, repeat: int, workspace: Any) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    rng = random.Random(n)
    row: dict[str, Any] = {"partitions": n}
    counter = iter(range(10**6))
    row["add_key_s"] = _median(
        lambda: instance.add_dynamic_partitions(ASIN_PARTITIONS, [f"BNEW{next(counter):06d}"]),
        repeat,
    )
    probe = _keys(n // 2, n // 2 + 1)[0]
    row["has_key_s"] = _median(
        lambda: asin_partitions.has_partition_key(probe, dynamic_partitions_store=instance),
        repeat,
    )
    row["all_keys_s"] = _median(lambda: instance.get_dynamic_partitions(ASIN_PARTITIONS), repeat)
    start = n // 3
    span = dg.PartitionKeyRange(*_keys(start, start + 20)[::19])
    row["range_20_s"] = _median(lambda: _range_keys(instance, span), repeat)
    for count in (20, 200):
        asins = sorted(rng.sample(_keys(0, n), count))
        row[f"launch_{count}_before_s"] = _median(
            lambda a=asins: _launch_before(instance, graph, a), repeat
        )
        row[f"launch_{count}_now_s"] = _median(
            lambda a=asins: _launch_now(instance, graph, a), repeat
        )
        a, b = (_launch_before(instance, graph, asins), _launch_now(instance, graph, asins))
        targets = [
            {
                k.partition_key
                for k in instance.get_backfill(
                    i
                ).asset_backfill_data.target_subset.iterate_asset_partitions()
            }
            for i in (a, b)
        ]
        assert targets[0] == targets[1], "the launchers disagree"
    if workspace is not None:
        instance.wipe_asset_cached_status([dg.AssetKey("delivery")])  # the first one is cold
        runs = [_ui_query(workspace) for _ in range(max(2, repeat))]
        row["ui_partitions_tab_first_s"] = runs[0][0]  # computes the partition status cache
        row["ui_partitions_tab_s"] = statistics.median(s for s, _ in runs[1:])
        row["ui_partitions_tab_bytes"] = runs[0][1]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-ui", action="store_true", help="skip the UI's GraphQL query")
    parser.add_argument(
        "--materialized", type=float, default=0.0, help="fraction of keys materialized"
    )
    parser.add_argument(
        "--webserver", action="store_true", help="also query a real dagster-webserver over HTTP"
    )
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        sys.exit(f"cannot start PostgreSQL: {reason}")
    from dagster_project.lib.dagster_internals import code_location_workspace

    rows = []
    with postgres_server() as server, tempfile.TemporaryDirectory() as home:
        instance = _instance(server, Path(home))
        have = 0
        for n in sorted(args.sizes):
            grew = _grow(instance, have, n)
            if args.materialized:
                copied = _materialize(instance, server, DB, _keys(have, n), args.materialized)
                print(f"{args.materialized:.0%} of the new keys materialized in {copied:.0f} s")
            have = n
            print(f"{n:,} keys added in {grew:.0f} s", flush=True)
            if args.no_ui:
                row = _measure(instance, n, args.repeat, None)
            else:
                with code_location_workspace(instance, str(ROOT / "workspace.yaml")) as ws:
                    row = _measure(instance, n, args.repeat, ws)
            if args.webserver:
                # cold: the status the in-process queries cached is dropped first
                instance.wipe_asset_cached_status([dg.AssetKey("delivery")])
                with _webserver(Path(home)) as (url, pid):
                    before = _peak_rss_mb(pid)
                    runs = [_http_ui_query(url) for _ in range(2)]
                    row["webserver_first_s"], row["webserver_s"] = runs[0][0], runs[1][0]
                    row["webserver_bytes"] = runs[0][1]
                    row["webserver_rss_mb"] = (before, _peak_rss_mb(pid))
            rows.append(row)
            print(json.dumps(row), flush=True)
    for row in rows:
        for count in (20, 200):
            ratio = row[f"launch_{count}_before_s"] / row[f"launch_{count}_now_s"]
            print(f"{row['partitions']:,} keys: launch {count} ASINs {ratio:.0f}x faster")


if __name__ == "__main__":
    main()
