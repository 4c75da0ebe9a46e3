"""The studio under 50 concurrent signed-in users on loopback, measured with wrk.

Set-up, all real processes: a store with 300 ASINs whose scan data is registered, assigned to
40 artists (some stages marked); the development OpenID provider with 50 people (40 artists,
5 reviewers, 3 leads, 2 operators); `shazam studio` as its own process. Each person signs in
through the provider's authorization code flow, then wrk keeps 50 connections busy, every
request a signed-in person's page: an artist's home, their ASIN's page and its status API
(what the page polls), the review queue, the board, the audit log, the metrics. The baseline
in the same run is the studio's /healthz under the same load (no session, no store read): the
ratio says what signing in, authorising and reading the store add to the bare server.

    make setup && .venv/bin/python bench/bench_studio_load.py [--duration 30] [--asins 300]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform.identity import Person  # noqa: E402
from shazam_assets.platform.storage import LocalStore  # noqa: E402
from shazam_assets.studio.dev_provider import free_port, running_provider  # noqa: E402

SHAZAM = ROOT / ".venv" / "bin" / "shazam"
CONNECTIONS = 50

LUA = """
local entries = {ENTRIES}
local n = 0
request = function()
  n = n + 1
  local e = entries[(n %% #entries) + 1]
  return wrk.format("GET", e[2], {["Cookie"] = e[1]})
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %%f, \\"p90\\": %%f, \\"p99\\": %%f, \\"requests\\": %%d, \\"errors\\": %%d}\\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def people() -> list[dict]:
    found = []
    for role, count in (("artist", 40), ("reviewer", 5), ("lead", 3), ("operator", 2)):
        for i in range(count):
            sub = f"{role}{i:02d}@example.com"
            found.append({"sub": sub, "name": f"{role.title()} {i:02d}", "email": sub, "groups": [role]})
    return found


def seed(store: LocalStore, team: list[dict], asins: int) -> dict[str, list[str]]:
    """Scan data for `asins` ASINs, registered, each assigned to an artist; returns artist -> ASINs."""
    from shazam_assets.ingest.scans import register_scan
    from shazam_assets.production import tracking
    from tests.production.scan_data import write_scan  # the tests' scan builder

    lead = Person(sub="lead00@example.com", name="Lead 00", email="lead00@example.com")
    artists = [Person(p["sub"], p["name"], p["email"]) for p in team if p["groups"] == ["artist"]]
    owned: dict[str, list[str]] = {a.sub: [] for a in artists}
    now = datetime.now(UTC) - timedelta(days=3)
    for i in range(asins):
        asin = f"B0LOAD{i:04d}"
        write_scan(store, asin)
        register_scan(store, asin, now=now)
        artist = artists[i % len(artists)]
        tracking.assign(store, asin, artist=artist, by=lead, now=now)
        for stage in tracking.STAGES[: i % 4]:
            now += timedelta(minutes=7)
            tracking.mark_stage(store, asin, stage, by=artist, now=now)
        owned[artist.sub].append(asin)
    return owned


def sign_in(base: str, sub: str) -> str:
    """The session cookie after the real authorization code flow."""
    with httpx.Client(timeout=30) as client:
        start = client.get(base + "/login")
        state_cookie = start.headers["set-cookie"].split(";", 1)[0]
        chosen = httpx.post(start.headers["location"], data={"sub": sub}, timeout=30)
        done = client.get(chosen.headers["location"], headers={"cookie": state_cookie})
        assert done.status_code == 303, done.text
        return done.headers["set-cookie"].split(";", 1)[0]


def wrk(base: str, entries: list[tuple[str, str]], duration: int, folder: Path) -> dict:
    lua = LUA.replace("{ENTRIES}", "{" + ",".join(
        "{" + json.dumps(cookie) + "," + json.dumps(path) + "}" for cookie, path in entries
    ) + "}").replace("%%", "%")
    script = folder / "load.lua"
    script.write_text(lua)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(script), base + "/"],
        capture_output=True, text=True, check=True,
    )
    figures = json.loads(done.stdout.split("JSON ", 1)[1].splitlines()[0])
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    return figures


def rss_kib(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    get = lambda name: int(re.search(rf"{name}:\s+(\d+)", status).group(1))  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--asins", type=int, default=300)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (make bench installs it)")
    team = people()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "store").mkdir()
        store = LocalStore(folder / "store")
        started = time.perf_counter()
        owned = seed(store, team, args.asins)
        print(f"seeded {args.asins} ASINs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        with running_provider(people=team) as issuer:
            port = free_port()
            env = {
                **os.environ,
                "SHAZAM_STORE_URL": (folder / "store").as_uri(),
                "SHAZAM_OIDC_ISSUER": issuer,
                "SHAZAM_OIDC_CLIENT_ID": "bench",
                "SHAZAM_OIDC_CLIENT_SECRET": "bench-secret",
                "SHAZAM_STUDIO_SESSION_SECRET": secrets.token_urlsafe(48),
            }
            server = subprocess.Popen(
                [str(SHAZAM), "studio", "--port", str(port)], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, "the studio did not become ready"
                    time.sleep(0.2)
                entries = []
                for person in team:
                    cookie = sign_in(base, person["sub"])
                    role = person["groups"][0]
                    if role == "artist":
                        asin = owned[person["sub"]][0]
                        entries += [(cookie, "/"), (cookie, f"/asins/{asin}"), (cookie, f"/api/asins/{asin}/status")]
                    elif role == "reviewer":
                        entries += [(cookie, "/review"), (cookie, "/board")]
                    elif role == "lead":
                        entries += [(cookie, "/board"), (cookie, "/audit")]
                    else:
                        entries += [(cookie, "/metrics"), (cookie, "/board")]
                idle = rss_kib(server.pid)[0]
                floor = wrk(base, [("", "/healthz")], args.duration, folder)
                pages = wrk(base, entries, args.duration, folder)
                rss, peak = rss_kib(server.pid)
            finally:
                server.kill()
                server.wait()
    print(f"| load (wrk, {CONNECTIONS} connections, {args.duration} s) | p50 ms | p90 ms | p99 ms | requests/s | errors |")
    print("|---|---|---|---|---|---|")
    for label, f in (("signed-in studio pages (50 people, mixed)", pages), ("baseline: /healthz", floor)):
        print(f"| {label} | {f['p50']:.1f} | {f['p90']:.1f} | {f['p99']:.1f} | {f['rps']:.0f} | {f['errors']} |")
    print(f"\np99 ratio pages / healthz: {pages['p99'] / floor['p99']:.1f}x; "
          f"studio RSS idle {idle / 1024:.0f} MiB, after load {rss / 1024:.0f} MiB (peak {peak / 1024:.0f} MiB); "
          f"{args.asins} ASINs, {len(team)} people signed in")


if __name__ == "__main__":
    main()
