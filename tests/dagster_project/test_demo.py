"""`shazam demo` end to end: the real daemon evaluates the upload sensor and launches the runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SHAZAM = str(Path(sys.executable).parent / "shazam")


@pytest.mark.integration
@pytest.mark.long
def test_demo_runs_the_pipeline_through_the_daemon(tmp_path) -> None:
    (tmp_path / "store").mkdir()  # a missing local store root is refused
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=(tmp_path / "store").as_uri(),
        DAGSTER_HOME=str(tmp_path / "home"),
        SHAZAM_UPLOAD_QUEUE_URL="",
        SHAZAM_RENDER_FRAMES="8",
        SHAZAM_RENDER_SIZE="128",
    )
    # PATH as a fresh shell has it: without the virtualenv's bin/ (make demo does not activate it)
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent
    )
    demo = subprocess.run(
        [SHAZAM, "demo", "--timeout", "300"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert "BUDGET_SCALE_MISMATCH" in demo.stdout
    assert "The mug's stripes should be red" in demo.stdout  # the artist's notification
    assert "  1. B0DEMOLMP1" in demo.stdout  # the shopper's photo of the lamp finds the lamp
    states = {}
    for asin in ("B0DEMOSPK1", "B0DEMOMUG1", "B0DEMOLMP1"):
        status = json.loads(
            subprocess.run(
                [SHAZAM, "status", asin, "--json"],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout
        )
        states[asin] = ([v["state"] for v in status["versions"]], status["published_version"])
        published = next(v for v in status["versions"] if v["state"] == "published")
        assert published["turntable"]["frames"] == 8 and published["turntable"]["size"] == 128
        assert Path(published["turntable"]["poster"].removeprefix("file://")).is_file()
        assert Path(status["page"].removeprefix("file://")).is_file()
    assert states == {
        "B0DEMOSPK1": (["published"], 1),
        "B0DEMOMUG1": (
            ["deleted", "published"],
            2,
        ),  # rejected by the reviewer, fixed, v1 reclaimed
        "B0DEMOLMP1": (["published"], 1),  # its centimetre export never became a version
    }
    # the demo ends with the metrics that a metrics_job run (launched through the daemon) computed
    metrics = demo.stdout[demo.stdout.index("pipeline metrics (asset pipeline_metrics") :]
    assert re.search(
        r"deliveries received\s+5\n", metrics
    )  # 3 first deliveries, the lamp fix, the mug fix
    assert re.search(r"qa rejection rate\s+0\.25\n", metrics)  # 1 of 4 decisions
    assert re.search(r"search success rate\s+1\n", metrics)
    report = Path(re.search(r"report with plots: file://(\S+)", metrics)[1])
    assert report.read_text().count('src="data:image/png;base64,') >= 5
    lamp = json.loads(
        subprocess.run(
            [SHAZAM, "status", "B0DEMOLMP1", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
    assert lamp["rejections"][0]["codes"] == ["BUDGET_SCALE_MISMATCH"]
    assert [u["outcome"] for u in lamp["uploads"]] == ["rejected", "stored as v1"]
