"""The search service at 100,000 indexed ASINs on loopback, measured with wrk, next to the
`shazam serve` it replaces in production.

Set-up, all real processes: a local store with an index of --asins synthetic ASINs (titles,
artists, brands from bench_search's word lists; one random unit vector each, in a graph built
with cheap parameters since no photo is asked here: M=8, ef_construction=16) saved twice, so
versions 1 and 2 both exist and the pointer can be moved from one to the other by one small
write. Each server runs as its own process on free loopback ports, one uvicorn process:

- `shazam serve` (pages mounted at /, search API beside them) from --baseline-src (this tree by
  default; point it at a checkout of the code before the service to measure that);
- `shazam serve --api-only` (the shop API alone, as deploy/k8s/shop/ runs it).

For each: wait until a search answers, then wrk (-t2, --connections, --duration) with a mix of
requests, each connection walking its own share of the list in turn: half exact ASIN
lookups (known ASINs, lower-case ones, unknown ones), half word queries (colour + kind, brand +
kind, a prefix, a typo, a title's number), k=10. A second wrk run of the same mix moves the
index pointer after 3 s: the server loads version 2 (the same 100k ASINs) while under load. A
probe thread asks /healthz every 50 ms meanwhile and records its latency and the index version,
which tells when the new index went into service and what a request met during the load.

Figures: p50/p99/max latency, requests/s, errors (non-2xx, timeouts) and requests per second per
core busy in the server process (its own CPU time over the run: the machine has 2 cores shared
by wrk, the server and this script). Peak RSS shows the two indexes held during a swap.

    make bench   # installs wrk, or: apt-get install wrk
    .venv/bin/python bench/bench_search_service.py [--asins 100000] [--duration 15]
        [--baseline-src /path/to/older/checkout]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform import layout  # noqa: E402
from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_assets.search.embed import DescriptorEmbedder  # noqa: E402
from shazam_assets.search.index import POINTER_KEY, HnswParams, SearchIndex  # noqa: E402

SHAZAM = ROOT / ".venv" / "bin" / "shazam"
WORDS = {
    "colour": "red blue green black white grey oak walnut cream teal amber navy olive sand",
    "material": "ceramic steel wooden leather linen glass brass bamboo wicker marble velvet",
    "kind": "mug lamp table chair speaker mixer sofa vase kettle stool shelf clock bowl desk rug",
    "brand": "Acme Nordhaus Kettleby Lumio Oakridge Vireo Brightline Tessel Corvo Halden",
}
LISTS = {k: v.split() for k, v in WORDS.items()}

# Each connection walks the request list from its own offset, one request after another.
LUA = """
local paths = PATHS
local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
end
function init(args)
  n = id * 7919
end
function request()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "JSON {\\"p50\\": %f, \\"p90\\": %f, \\"p99\\": %f, \\"max\\": %f, \\"requests\\": %d, "
      .. "\\"errors\\": %d, \\"seconds\\": %f}\\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration / 1e6))
end
"""


def build_store(root: Path, n: int) -> tuple[LocalStore, bytes, bytes]:
    """The store with index versions 1 and 2; returns it and the two pointers' bytes (the
    pointer is left at version 1)."""
    store = LocalStore(root)
    embedder = DescriptorEmbedder()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, embedder.dim), dtype=np.float32)
    pick = {k: rng.integers(0, len(v), n) for k, v in LISTS.items()}
    index = SearchIndex(embedder, params=HnswParams(m=8, ef_construction=16, initial_capacity=n))
    index.upsert_many(
        (
            asin_of(i),
            {
                "title": f"{LISTS['colour'][pick['colour'][i]].title()} "
                f"{LISTS['material'][pick['material'][i]]} {LISTS['kind'][pick['kind'][i]]} {i}",
                "artist": f"Artist {i % 997}",
                "brand": LISTS["brand"][pick["brand"][i]],
                "version": "1",
            },
            vectors[i : i + 1],
        )
        for i in range(n)
    )
    index.save(store)
    first = store.get_bytes(POINTER_KEY)
    index.save(store)  # version 2: the same ASINs; versions 1 and 2 are both kept
    second = store.get_bytes(POINTER_KEY)
    store.put_bytes(POINTER_KEY, first, content_type="application/json")
    products = [{"asin": asin_of(i), "title": f"product {i}"} for i in range(0, n, 100)]
    store.put_bytes(
        layout.catalogue_key(),
        json.dumps({"products": products}).encode(),
        content_type="application/json",
    )
    return store, first, second


def asin_of(i: int) -> str:
    return f"B{i:09d}"


def query_mix(n: int, count: int = 2000) -> list[str]:
    """`count` request paths: half ASIN lookups, half word queries (see the module docstring)."""
    rng = np.random.default_rng(1)
    paths = []
    for j in range(count):
        i = int(rng.integers(0, n))
        kind = j % 10
        if kind < 3:
            paths.append(f"/search?asin={asin_of(i)}")
        elif kind == 3:
            paths.append(f"/search?asin={asin_of(i).lower()}")
        elif kind == 4:
            paths.append(f"/search?asin=B7{i:08d}")  # not indexed
        else:
            colour, kind_word, brand = (
                str(rng.choice(LISTS[k])) for k in ("colour", "kind", "brand")
            )
            words = {
                5: f"{colour}+{kind_word}",
                6: f"{brand}+{kind_word}",
                7: f"{kind_word[:3]}",  # a prefix
                8: f"{colour}+{kind_word[:-1]}x",  # a typo
                9: f"{kind_word}+{i}",
            }[kind]
            paths.append(f"/search?text={words}&k=10")
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


@dataclass
class Server:
    name: str
    base: str
    pid: int
    ready_s: float
    runs: dict[str, dict] = field(default_factory=dict)
    swap: dict = field(default_factory=dict)
    peak_mib: float = 0.0


@contextlib.contextmanager
def server(name: str, store: LocalStore, src: Path, extra: list[str]) -> Iterator[Server]:
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "SHAZAM_STORE_URL": store.root.as_uri(),
        "DAGSTER_HOME": str(store.root.parent / "home"),
        "PYTHONPATH": str(src),
    }
    command = [str(SHAZAM), "serve", "--port", str(port), "--metrics-port", str(metrics_port)]
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:  # ready: a search answers (the older server loads inside that request)
            assert process.poll() is None, f"{name} exited"
            with contextlib.suppress(httpx.HTTPError):
                got = httpx.get(f"{base}/search?asin={asin_of(1)}", timeout=120)
                if got.status_code == 200 and got.json()["results"]:
                    break
            assert time.monotonic() < deadline, f"{name} did not become ready"
            time.sleep(0.2)
        yield Server(name, base, process.pid, time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(base: str, script: Path, duration: int, connections: int, pid: int) -> dict:
    before = (cpu_seconds(pid), time.monotonic(), busy_seconds())
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "20s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.split("JSON ", 1)[1].splitlines()[0])
    server_cpu = cpu_seconds(pid) - before[0]
    wall = time.monotonic() - before[1]
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["server_cores"] = server_cpu / wall
    figures["rps_per_core"] = figures["requests"] / max(server_cpu, 1e-9)
    figures["machine_cores"] = (busy_seconds() - before[2]) / wall  # server, wrk, anyone else
    return figures


def probe(
    base: str, stop: threading.Event, seen: list[tuple[float, float, int, int | None]]
) -> None:
    """(time, latency s, status, index version) of a /healthz every 50 ms."""
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            tick = time.monotonic()
            try:
                got = client.get(base + "/healthz")
                status, version = got.status_code, got.json().get("index_version")
            except (httpx.HTTPError, ValueError):
                status, version = 0, None
            seen.append((tick, time.monotonic() - tick, status, version))
            stop.wait(max(0.0, 0.05 - (time.monotonic() - tick)))


def swap_run(
    srv: Server, store: LocalStore, pointer: bytes, script: Path, duration: int, connections: int
) -> None:
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=probe, args=(srv.base, stop, seen))
    flip = threading.Timer(3.0, lambda: store.put_bytes(POINTER_KEY, pointer))
    watcher.start()
    flip.start()
    flipped = time.monotonic() + 3.0
    try:
        srv.runs["during an index swap"] = wrk(srv.base, script, duration, connections, srv.pid)
    finally:
        stop.set()
        watcher.join()
        flip.join()
    # An answer naming version 2 came back at t + latency: the new index was in service then
    # (an older server loads inside that very request).
    swapped = next((t + lat for t, lat, _, v in seen if t + lat >= flipped and v == 2), None)
    window = [s for s in seen if s[0] + s[1] >= flipped and (swapped is None or s[0] <= swapped)]
    srv.swap = {
        "in_service_after_s": None if swapped is None else swapped - flipped,
        "probe_max_ms": max((lat for _, lat, _, _ in window), default=0.0) * 1000,
        "probe_errors": sum(1 for _, _, status, _ in seen if status != 200),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asins", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=ROOT,
        help="the checkout whose `shazam serve` is the baseline (default: this one)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (or apt-get install wrk)")
    servers: list[Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tick = time.perf_counter()
        store, first, second = build_store(folder / "store", args.asins)
        built = time.perf_counter() - tick
        print(f"built and saved the index twice in {built:.0f} s", file=sys.stderr, flush=True)
        script = folder / "mix.lua"
        paths = query_mix(args.asins)
        script.write_text(LUA.replace("PATHS", "{" + ",".join(map(json.dumps, paths)) + "}"))
        plans = [
            ("`shazam serve` (pages + search)", args.baseline_src, []),
            ("`shazam serve --api-only` (the service)", ROOT, ["--api-only"]),
        ]
        for name, src, extra in plans:
            store.put_bytes(POINTER_KEY, first, content_type="application/json")
            print(f"{name}: starting", file=sys.stderr, flush=True)
            with server(name, store, src, extra) as srv:
                with httpx.Client() as client:  # every path answers 200 before the runs
                    for path in paths[:50]:
                        assert client.get(srv.base + path, timeout=30).status_code == 200, path
                time.sleep(1.0)
                srv.runs["steady"] = wrk(srv.base, script, args.duration, args.connections, srv.pid)
                swap_run(srv, store, second, script, args.duration, args.connections)
                srv.peak_mib = peak_rss_mib(srv.pid)
                servers.append(srv)
    report(servers, args, built, len(paths))
    return 1 if any(f["errors"] for s in servers for f in s.runs.values()) else 0


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "cpu",
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, nproc {nproc}, Python {sys.version.split()[0]}"


def report(servers: list[Server], args: argparse.Namespace, built: float, mix: int) -> None:
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"\nmachine: {machine()}, wrk {version}; load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"index: {args.asins:,} ASINs (built and saved twice in {built:.0f} s); mix of {mix} "
        f"requests (half ASIN lookups, half word queries); wrk -t2 -c{args.connections}, "
        f"{args.duration} s per run; baseline from {args.baseline_src}\n"
    )
    print(
        "| server | run | p50 ms | p99 ms | max ms | requests/s | errors "
        "| cores busy: server / whole machine | requests/s per server core |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in servers:
        for run, f in s.runs.items():
            print(
                f"| {s.name} | {run} | {f['p50']:.1f} | {f['p99']:.1f} | {f['max']:.0f} "
                f"| {f['rps']:.0f} | {f['errors']} | {f['server_cores']:.2f} / {f['machine_cores']:.2f} | {f['rps_per_core']:.0f} |"
            )
    print(
        "\n| server | ready after start | new index in service after the pointer moved "
        "| slowest /healthz meanwhile | failed /healthz | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for s in servers:
        after = s.swap["in_service_after_s"]
        print(
            f"| {s.name} | {s.ready_s:.1f} s | {'never' if after is None else f'{after:.1f} s'} "
            f"| {s.swap['probe_max_ms']:.0f} ms | {s.swap['probe_errors']} | {s.peak_mib:.0f} MiB |"
        )


if __name__ == "__main__":
    sys.exit(main())
