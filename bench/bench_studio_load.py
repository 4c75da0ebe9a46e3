"""The studio's pages under 50 concurrent signed-in users on loopback, measured with wrk.

Set-up, all real processes: a local store with --asins ASINs whose scan data is registered and
assigned to 50 artists (some production stages marked), one stored delivery waiting for QA per
artist; the development OpenID provider (oidc-provider-mock) with 100 people (50 artists,
30 reviewers, 12 leads, 8 operators); `shazam studio` as its own process, as deployed (one
uvicorn process). Everyone signs in through the provider's authorization code flow; the
session cookie is sent as a browser sends it (a `Cookie` header: the cookie is `Secure`, which
browsers honour over loopback http, so a cookie jar cannot be used here).

wrk then runs 50 threads of one connection each, and each connection is one person: it sends
only that person's session cookie and asks for that person's pages in turn. One run per page
(home, board, an ASIN's page, the status JSON the page polls, the review list), each by 50
people allowed to see it, and one run of a mix (35 artists: home, their ASIN, its status twice;
10 reviewers: the review list, the board, an ASIN; 3 leads and 2 operators: the board, home).
Every page is fetched once with httpx before the runs and must answer 200 with the page's
content, so a refused session cannot pass for a fast page. The baseline, in the same run and
under the same 50 connections, is the studio's /healthz (no session, no store read): the ratio
says what signing in, authorising and reading the store add to the bare server.

    make bench   # installs wrk, or: apt-get install wrk
    .venv/bin/python bench/bench_studio_load.py [--duration 20] [--asins 300] [--pages all]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform import layout  # noqa: E402
from shazam_assets.platform.identity import Person  # noqa: E402
from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_assets.studio.dev_provider import free_port, running_provider  # noqa: E402

SHAZAM = ROOT / ".venv" / "bin" / "shazam"
CONNECTIONS = 50
TEAM = (("artist", 50), ("reviewer", 30), ("lead", 12), ("operator", 8))

# wrk thread k of T takes people k, k+T, k+2T...; each request is the next of them, asking for
# their next page. With one thread per connection (T = 50, the default), a thread is one
# connection and one person.
LUA = """
local people = PEOPLE
local threads = THREADS
local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
end
function init(args)
  mine = {}
  for i = id, #people, threads do mine[#mine + 1] = people[i] end
  n = 0
end
function request()
  n = n + 1
  local me = mine[(n - 1) % #mine + 1]
  local visit = math.floor((n - 1) / #mine)
  local headers = nil
  if me.cookie ~= "" then headers = {["Cookie"] = me.cookie} end
  return wrk.format("GET", me.paths[visit % #me.paths + 1], headers)
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


@dataclass(frozen=True)
class Visitor:
    """One connection: a signed-in person's cookie and the pages they ask for, in turn."""

    cookie: str
    paths: tuple[str, ...]


def team() -> list[dict]:
    found = []
    for role, count in TEAM:
        for i in range(count):
            sub = f"{role}{i:02d}@example.com"
            found.append(
                {"sub": sub, "name": f"{role.title()} {i:02d}", "email": sub, "groups": [role]}
            )
    return found


def seed(store: LocalStore, people: list[dict], asins: int, work: Path) -> dict[str, list[str]]:
    """Scan data for `asins` ASINs, registered and assigned round-robin to the artists, stages
    marked on three in four; the first ASIN of each artist has a stored delivery waiting for QA.
    Returns artist sub -> their ASINs."""
    from shazam_assets.ingest.scans import register_scan
    from shazam_assets.production import tracking
    from tests.builders import pack, product, store_delivery

    made = product(work)  # one demo product's scan and delivery, copied under every ASIN
    files = [("photos/" + p.name, p) for p in made.photos]
    files += [("scan/" + p.name, p) for p in made.scan_files]
    lead = Person(sub="lead00@example.com", name="Lead 00", email="lead00@example.com")
    artists = [Person(p["sub"], p["name"], p["email"]) for p in people if p["groups"] == ["artist"]]
    owned: dict[str, list[str]] = {a.sub: [] for a in artists}
    now = datetime.now(UTC) - timedelta(days=3)
    for i in range(asins):
        asin = f"B0LOAD{i:04d}"
        for name, path in files:
            store.put_file(layout.scan_file_key(asin, name), path)
        register_scan(store, asin, now=now)
        artist = artists[i % len(artists)]
        tracking.assign(store, asin, artist=artist, by=lead, now=now)
        for stage in tracking.STAGES[: i % 4]:
            now += timedelta(minutes=7)
            tracking.mark_stage(store, asin, stage, by=artist, now=now)
        if not owned[artist.sub]:
            store_delivery(store, pack(work, made, asin=asin, name=f"{asin}.zip"), asin=asin)
        owned[artist.sub].append(asin)
    return owned


def sign_in(base: str, sub: str) -> str:
    """The session cookie (`name=value`) after the real authorization code flow."""
    with httpx.Client(timeout=30) as client:
        start = client.get(base + "/login")
        assert start.status_code == 302, start.text
        state_cookie = start.headers["set-cookie"].split(";", 1)[0]
        chosen = httpx.post(start.headers["location"], data={"sub": sub}, timeout=30)
        assert chosen.status_code == 302, chosen.text
        done = client.get(chosen.headers["location"], headers={"cookie": state_cookie})
        assert done.status_code == 303, done.text
        return done.headers["set-cookie"].split(";", 1)[0]


def runs(people: list[dict], cookies: dict[str, str], owned: dict[str, list[str]]) -> dict:
    """Each run's 50 visitors: one run per page, and the mix."""

    def of(role: str) -> list[dict]:
        return [p for p in people if p["groups"] == [role]]

    artists = of("artist")
    staff = of("reviewer") + of("lead") + of("operator")  # 50 who may see the board and review
    first = {sub: asins[0] for sub, asins in owned.items()}  # each artist's delivered ASIN
    delivered = list(first.values())

    def own(path: str) -> list[Visitor]:
        return [Visitor(cookies[p["sub"]], (path.format(first[p["sub"]]),)) for p in artists]

    def same(path: str, who: list[dict]) -> list[Visitor]:
        return [Visitor(cookies[p["sub"]], (path,)) for p in who]

    def artist_pages(asin: str) -> tuple[str, ...]:  # the page polls its status
        return ("/", f"/asins/{asin}", f"/api/asins/{asin}/status", f"/api/asins/{asin}/status")

    mix = [Visitor(cookies[p["sub"]], artist_pages(first[p["sub"]])) for p in artists[:35]]
    mix += [
        Visitor(cookies[p["sub"]], ("/review", "/board", f"/asins/{delivered[i]}"))
        for i, p in enumerate(of("reviewer")[:10])
    ]
    mix += [
        Visitor(cookies[p["sub"]], ("/board", "/")) for p in of("lead")[:3] + of("operator")[:2]
    ]
    return {
        "home (artists)": same("/", artists),
        "board": same("/board", staff),
        "ASIN page (own)": own("/asins/{}"),
        "status API (own)": own("/api/asins/{}/status"),
        "review list": same("/review", staff),
        "mix": mix,
    }


def check(base: str, visitors: list[Visitor]) -> None:
    """Every page answers 200 to its person, signed in (not the sign-in redirect)."""
    with httpx.Client(timeout=60) as client:
        for visitor in visitors:
            for path in set(visitor.paths):
                got = client.get(base + path, headers={"cookie": visitor.cookie})
                assert got.status_code == 200, f"{path}: {got.status_code}"
                signed_in = path.startswith("/api/") or 'id="sign-out"' in got.text
                assert signed_in, f"{path}: not a signed-in page"


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds of this process and its finished children (wrk)."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def wrk(
    base: str, visitors: list[Visitor], duration: int, folder: Path, threads: int, pid: int
) -> dict:
    people = (
        "{"
        + ",".join(
            "{cookie="
            + json.dumps(v.cookie)
            + ",paths={"
            + ",".join(map(json.dumps, v.paths))
            + "}}"
            for v in visitors
        )
        + "}"
    )
    script = folder / "load.lua"
    script.write_text(LUA.replace("PEOPLE", people).replace("THREADS", str(threads)))
    count = len(visitors)
    command = ["wrk", f"-t{threads}", f"-c{count}", f"-d{duration}s", "--timeout", "30s"]
    before = (busy_seconds(), cpu_seconds(pid), own_seconds(), time.monotonic())
    done = subprocess.run(
        [*command, "-s", str(script), base + "/"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.split("JSON ", 1)[1].splitlines()[0])
    figures["rps"] = figures["requests"] / figures["seconds"]
    busy, studio, own, wall = (
        now - then
        for now, then in zip(
            (busy_seconds(), cpu_seconds(pid), own_seconds(), time.monotonic()), before, strict=True
        )
    )
    figures["studio_cores"] = studio / wall
    figures["wrk_cores"] = own / wall
    figures["other_cores"] = max(0.0, busy - studio - own) / wall  # other people's work
    return figures


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def settle(pid: int, timeout_s: float = 120) -> None:
    """Wait until the studio is idle: when wrk stops, requests it already sent (a slow page's
    queue) are still being answered, and would be charged to the next run."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:
            return


def rss_mib(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    found = {
        k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")
    }
    return found["VmRSS"], found["VmHWM"]


@contextlib.contextmanager
def studio(store_root: Path, issuer: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "SHAZAM_STORE_URL": store_root.as_uri(),
        "SHAZAM_OIDC_ISSUER": issuer,
        "SHAZAM_OIDC_CLIENT_ID": "shazam-studio-bench",
        "SHAZAM_OIDC_CLIENT_SECRET": "bench-client-secret",
        "SHAZAM_STUDIO_SESSION_SECRET": secrets.token_urlsafe(48),
    }
    server = subprocess.Popen(
        [str(SHAZAM), "studio", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the studio exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the studio did not become ready"
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def machine() -> str:
    """The CPU model, its count and what `nproc` allows this process, and Python's version."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "cpu",
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs, nproc {nproc}, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--asins", type=int, default=300)
    parser.add_argument("--pages", default="all", help="comma-separated run names, or all")
    parser.add_argument(
        "--threads",
        type=int,
        default=CONNECTIONS,
        help="wrk threads (50: one connection and one person each; fewer: each thread's "
        "connections take turns with its people)",
    )
    args = parser.parse_args()
    if args.asins < 50:
        parser.error("--asins must be at least 50 (one per artist)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (or apt-get install wrk)")
    people = team()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_root = folder / "store"
        started = time.perf_counter()
        owned = seed(LocalStore(store_root), people, args.asins, folder)
        seeded = time.perf_counter() - started
        print(f"seeded {args.asins} ASINs in {seeded:.0f} s", file=sys.stderr, flush=True)
        with running_provider(people=people) as issuer, studio(store_root, issuer) as (base, pid):
            cookies = {p["sub"]: sign_in(base, p["sub"]) for p in people}
            plan = runs(people, cookies, owned)
            if args.pages != "all":
                plan = {k: v for k, v in plan.items() if k in args.pages.split(",")}
            for visitors in plan.values():
                assert len(visitors) == CONNECTIONS and len({v.cookie for v in visitors}) == len(
                    visitors
                )
                check(base, visitors)
            settle(pid)
            idle = rss_mib(pid)[0]
            load_before = os.getloadavg()[0]
            results = {
                "baseline: /healthz": wrk(
                    base,
                    [Visitor("", ("/healthz",))] * 50,
                    args.duration,
                    folder,
                    args.threads,
                    pid,
                )
            }
            for name, visitors in plan.items():
                print(f"wrk: {name}", file=sys.stderr, flush=True)
                settle(pid)
                results[name] = wrk(base, visitors, args.duration, folder, args.threads, pid)
            load_after = os.getloadavg()[0]
            rss, peak = rss_mib(pid)
            for visitors in plan.values():  # the sessions were still valid at the end
                check(base, visitors)
    floor = results["baseline: /healthz"]
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"\nmachine: {machine()}, wrk {version}; load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(
        f"store: local, {args.asins} ASINs assigned to 50 artists, {len(owned)} deliveries "
        f"waiting for QA; {len(people)} people signed in; wrk {CONNECTIONS} connections, "
        f"{args.threads} threads, {args.duration} s per run\n"
    )
    print(
        "| pages (50 signed-in people) | p50 ms | p90 ms | p99 ms | max ms | requests/s "
        "| errors | p99 / healthz p99 | cores busy: studio / wrk / others |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in results.items():
        print(
            f"| {name} | {f['p50']:.1f} | {f['p90']:.1f} | {f['p99']:.1f} | {f['max']:.0f} "
            f"| {f['rps']:.0f} | {f['errors']} | {f['p99'] / floor['p99']:.1f} | {f['studio_cores']:.2f} / {f['wrk_cores']:.2f} / {f['other_cores']:.2f} |"
        )
    print(f"\nstudio RSS: idle {idle:.0f} MiB, after the runs {rss:.0f} MiB (peak {peak:.0f} MiB)")
    return 1 if any(f["errors"] for f in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
