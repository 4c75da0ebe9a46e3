"""SHAZAM's Dagster definitions, the `shazam` CLI and the demo."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def dagster_executable(name: str) -> str:
    """The path of a Dagster command (`dagster`, `dagster-daemon`) installed beside this
    Python, as in the checkout's virtualenv; else the one on PATH. `make demo` and
    `.venv/bin/shazam` run without the virtualenv activated, so its bin/ is not on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name) or name
