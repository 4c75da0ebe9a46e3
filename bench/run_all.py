"""Run every benchmark in turn and print their markdown tables (copy them to docs/benchmarks.md).

make bench            # all of them (the 100k-object sensor benchmark takes ~10 minutes)
.venv/bin/python bench/run_all.py validate latency   # a subset, by name
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = {
    "validate": ["bench_validate.py"],
    "adversarial": ["bench_adversarial.py"],
    "memory": ["bench_zip_memory.py"],
    "latency": ["bench_ingest_latency.py"],
    "burst": ["bench_ingest_burst.py"],
    "sensor": ["bench_sensor_scan.py"],
    "qa": ["bench_qa_separation.py"],
    "turntable": ["bench_turntable.py"],
    "render_quality": ["bench_render_quality.py"],
    "search": ["bench_search.py"],
    "search_service": ["bench_search_service.py"],
    "search_publish": ["bench_search_publish.py"],
    "backfill": ["bench_backfill.py"],
    "image_bombs": ["bench_image_bombs.py"],
    "cli_startup": ["bench_cli_startup.py"],
    "studio_load": ["bench_studio_load.py"],
    "studio_upload": ["bench_studio_upload.py"],
    "derivatives": ["bench_derivatives.py"],
    "k8s_pods": ["bench_k8s_pods.py"],
    "partitions": ["bench_partitions.py"],
}


def main(names: list[str]) -> int:
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
        f"Python {platform.python_version()}"
    )
    failed = 0
    for name in names or list(SCRIPTS):
        print(f"\n## {name}\n", flush=True)
        failed |= subprocess.run([sys.executable, str(BENCH / SCRIPTS[name][0])]).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
