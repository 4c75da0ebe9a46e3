"""`shazam validate` as a whole process next to the Khronos validator's own Node process.

A person (or a CI step) runs `shazam validate delivery.zip` and waits for the process to end:
interpreter start, imports, the forked guarded child, the validation and the report all
count. This measures exactly that, on the Mixer delivery (Mixer.glb with its three reference
renders, packed as `bench/bench_validate.py` packs it), against the whole Node process of the
official Khronos glTF-Validator on the bare Mixer.glb (`node bench/khronos/validate.mjs`).
The two commands alternate, after two warm-up runs each (so both read warm file caches), and
each side's median wall time is reported; the ratio is ours / Khronos (at most 1.0 is the
target).

Python runs with its bytecode cached, as an installed package does (pip compiles it on
install): the cache goes to a temporary PYTHONPYCACHEPREFIX, never into the checkout.

    make setup && .venv/bin/python bench/bench_cli_startup.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_validate import DATA, NODE_SCRIPT, _delivery  # noqa: E402

SHAZAM = ROOT / ".venv" / "bin" / "shazam"
MIXER = DATA / "Mixer"


def _timed(
    command: list[str], env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (user + system, the process and every child it waited for),
    and the finished process."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, _children_cpu() - cpu_before, done


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _python_env(cache: Path, checkout: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    env["PYTHONPATH"] = str(checkout)  # that checkout's code, whichever checkout the venv installed
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout (e.g. today's main), timed the same way in the same loop",
    )
    args = parser.parse_args()
    if not (ROOT / "bench" / "khronos" / "node_modules").exists():
        sys.exit("run `make setup` first (installs the Khronos validator from npm)")
    model = MIXER / "Mixer.glb"
    with tempfile.TemporaryDirectory(prefix="shazam-bench-") as tmp:
        work = Path(tmp)
        zip_path = _delivery(model, tuple(sorted(MIXER.glob("rr-*.png"))), work / "mixer.zip")
        zip_mb = zip_path.stat().st_size / 2**20
        ours_cmd = [str(SHAZAM), "validate", str(zip_path)]
        node_cmd = ["node", str(NODE_SCRIPT), str(model)]
        ours_env, node_env = _python_env(work / "pycache"), dict(os.environ)
        ours: list[tuple[float, float]] = []
        node: list[tuple[float, float]] = []
        baseline: list[tuple[float, float]] = []
        for i in range(args.repeat + 2):
            wall, cpu, done = _timed(ours_cmd, ours_env)
            if done.returncode != 0:
                sys.exit(f"shazam validate exited {done.returncode}:\n{done.stdout}{done.stderr}")
            if i >= 2:  # the first two runs fill the bytecode and file caches
                ours.append((wall, cpu))
            wall, cpu, khronos = _timed(node_cmd, node_env)
            errors = json.loads(khronos.stdout.splitlines()[-1])["numErrors"]
            if errors != 0:
                sys.exit(f"Khronos found {errors} errors in {model}")
            if i >= 2:
                node.append((wall, cpu))
            if args.baseline is not None:
                wall, cpu, done = _timed(
                    ours_cmd, _python_env(work / "pycache-baseline", args.baseline.resolve())
                )
                if done.returncode != 0:
                    sys.exit(
                        f"the baseline's shazam validate exited {done.returncode}:\n{done.stderr}"
                    )
                if i >= 2:
                    baseline.append((wall, cpu))
    print(
        f"Mixer delivery ZIP ({zip_mb:.1f} MB), {args.repeat} interleaved runs each, load average "
        f"{os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| whole process | wall, median s | wall, min s | CPU user+sys, median s |")
    print("|---|---|---|---|")
    rows = [
        ("`shazam validate mixer.zip` (accepted)", ours),
        ("`node validate.mjs Mixer.glb` (Khronos, 0 errors)", node),
    ]
    if baseline:
        rows.append((f"`shazam validate mixer.zip`, baseline {args.baseline}", baseline))
    for label, runs in rows:
        walls = [w for w, _ in runs]
        print(
            f"| {label} | {statistics.median(walls):.3f} | {min(walls):.3f} | "
            f"{statistics.median(c for _, c in runs):.3f} |"
        )
    ratio = statistics.median(w for w, _ in ours) / statistics.median(w for w, _ in node)
    cpu_ratio = statistics.median(c for _, c in ours) / statistics.median(c for _, c in node)
    print(f"\nratio ours/Khronos, wall medians: **{ratio:.2f}** (CPU medians: {cpu_ratio:.2f})")


if __name__ == "__main__":
    main()
