"""Worst-case cost of a verdict on hostile inputs: seconds and peak RSS per generated attack.

Every family of tests/ingest/delivery/adversarial.py is generated at each of its sizes (inputs up to
50 MB on disk; the 2 GB bare-file attacks are sparse files), then validated in a fresh Python
process (`validate_path`, what `shazam validate` runs inside its guard) whose wall time and
peak RSS (ru_maxrss of the child) are measured, under the profile with the largest model
budget (shopify, 50 MB), so the most of each input gets read. The target: every verdict under 30 s and 1 GiB.
Prints one markdown row per input and a worst-case row per family.

    .venv/bin/python bench/bench_adversarial.py [--only FAMILY ...] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ingest.delivery.adversarial import FAMILIES, MB  # noqa: E402  (generators only; numpy)

TARGET_SECONDS, TARGET_MB = 30, 1024
_CHILD = """
import json, sys
from pathlib import Path
from shazam_assets.ingest.delivery.validate import validate_path
report = validate_path(Path(sys.argv[1]), profile="shopify")  # the largest model budget
print(json.dumps({"ok": report.ok, "codes": list(report.codes), "issues": len(report.issues)}))
"""


def measure(path: Path, timeout: float) -> dict:
    """Validate `path` in a fresh interpreter: seconds, peak RSS MB (ru_maxrss from wait4 on
    that child alone) and the verdict. The bench process itself never builds an input (a
    forked child's peak RSS counts what its parent held at the fork)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path)], stdout=out, stderr=err, env=env, cwd=ROOT
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                return {"seconds": timeout, "rss_mb": float("nan"), "verdict": "TIMEOUT"}
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    rss = usage.ru_maxrss / 1024
    if child.returncode != 0:
        return {"seconds": seconds, "rss_mb": rss, "verdict": "CRASH " + stderr[-200:].strip()}
    verdict = json.loads(stdout.splitlines()[-1])
    codes = ", ".join(verdict["codes"][:3]) or "accepted"
    return {"seconds": seconds, "rss_mb": rss, "verdict": f"{codes} ({verdict['issues']} issues)"}


def _make(family: str, index: int, folder: Path) -> None:
    """Build one input into `folder` (run in its own process); prints its path and size."""
    make, sizes = FAMILIES[family]
    sample = make(**sizes[index])
    print(json.dumps({"path": str(sample.write(folder)), "input_mb": sample.size / MB}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="families to run (default: all)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--make", nargs=3, metavar=("FAMILY", "INDEX", "DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.make:
        _make(args.make[0], int(args.make[1]), Path(args.make[2]))
        return 0
    print("| family | parameters | input MB | seconds | peak RSS MB | verdict |")
    print("|---|---|---|---|---|---|")
    worst: dict[str, tuple[float, float]] = {}
    failed = False
    for family in args.only or list(FAMILIES):
        for index, params in enumerate(FAMILIES[family][1]):
            with tempfile.TemporaryDirectory(prefix="shazam-adv-") as tmp:
                made = subprocess.run(
                    [sys.executable, __file__, "--make", family, str(index), tmp],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                sample = json.loads(made.stdout.splitlines()[-1])
                row = measure(Path(sample["path"]), args.timeout)
            shown = ", ".join(f"{k}={v:,}" for k, v in params.items())
            print(
                f"| {family} | {shown} | {sample['input_mb']:.2f} | {row['seconds']:.2f} | "
                f"{row['rss_mb']:.0f} | {row['verdict']} |",
                flush=True,
            )
            seconds, rss = worst.get(family, (0.0, 0.0))
            worst[family] = (max(seconds, row["seconds"]), max(rss, row["rss_mb"]))
            failed |= not (row["seconds"] < TARGET_SECONDS and row["rss_mb"] < TARGET_MB)
    print("\n| family | worst seconds | worst peak RSS MB | within 30 s and 1 GiB |")
    print("|---|---|---|---|")
    for family, (seconds, rss) in worst.items():
        ok = seconds < TARGET_SECONDS and rss < TARGET_MB
        print(f"| {family} | {seconds:.2f} | {rss:.0f} | {'yes' if ok else 'NO'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
