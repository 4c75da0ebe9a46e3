"""`shazam demo` end to end: the real daemon evaluates the upload sensor and launches the runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHAZAM = str(Path(sys.executable).parent / "shazam")


@pytest.mark.integration
def test_demo_runs_the_pipeline_through_the_daemon(tmp_path) -> None:
    env = dict(os.environ, SHAZAM_STORE_URL=(tmp_path / "store").as_uri(),
               DAGSTER_HOME=str(tmp_path / "home"), SHAZAM_UPLOAD_QUEUE_URL="")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    demo = subprocess.run([SHAZAM, "demo", "--timeout", "300"], capture_output=True, text=True, env=env,
                          timeout=900, check=False)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert "BUDGET_SCALE_MISMATCH" in demo.stdout
    for asin in ("B0DEMOSPK1", "B0DEMOMUG1", "B0DEMOLMP1"):
        status = json.loads(subprocess.run([SHAZAM, "status", asin, "--json"], capture_output=True, text=True,
                                           env=env, check=True).stdout)
        assert [v["state"] for v in status["versions"]] == ["pending_qa"], status
        if asin == "B0DEMOLMP1":  # exported in centimetres first, then fixed
            assert status["rejections"][0]["codes"] == ["BUDGET_SCALE_MISMATCH"]
            assert [u["outcome"] for u in status["uploads"]] == ["rejected", "stored as v1"]
