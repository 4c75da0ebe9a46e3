"""Hostile inputs get a verdict, fast and small: `shazam validate` in a subprocess on every
generated attack (tests/ingest/delivery/adversarial.py) exits 1 with a coded --json report, never a
traceback, a crash exit code, minutes or gigabytes.

The subprocess imports the code under PYTHONPATH, as the rules ask (export PYTHONPATH=$PWD).
"""

from __future__ import annotations

import functools
import json
import operator
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shazam_assets.ingest.delivery import codes, limits
from shazam_assets.ingest.delivery.guard import Guard, Overrun, guarded_path, run_guarded
from shazam_assets.ingest.delivery.validate import validate_model_file
from tests.ingest.delivery import adversarial

SHAZAM = str(Path(sys.executable).parent / "shazam")
SECONDS = 30  # the budget of one verdict (docs/delivery-spec.md, "Limits")


def shazam_validate(path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [SHAZAM, "validate", "--json", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=SECONDS * 2,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    return result, json.loads(result.stdout), elapsed


def error_codes(report: dict) -> set[str]:
    return {i["code"] for i in report["errors"]}


CASES = [
    pytest.param(
        adversarial.sparse_accessor(count=2**24),
        "VALIDATION_LIMIT_ACCESSOR_DATA",
        id="sparse-2^24-mat4",
    ),
    pytest.param(
        adversarial.sparse_accessor(count=2**32 - 1),
        "VALIDATION_LIMIT_ACCESSOR_DATA",
        id="sparse-2^32-1",
    ),
    pytest.param(
        adversarial.animation_channels(channels=5000),
        "GLTF_ANIMATION_DUPLICATE_TARGETS",
        id="channels-5000",
    ),
    pytest.param(adversarial.node_chain(nodes=32_768), "BUDGET_NO_GEOMETRY", id="node-chain-32k"),
    pytest.param(
        adversarial.node_chain(nodes=100_000), "VALIDATION_LIMIT_OBJECTS", id="node-chain-100k"
    ),
    pytest.param(adversarial.skin_chain(joints=8192), "BUDGET_NO_GEOMETRY", id="skin-chain-8k"),
    pytest.param(
        adversarial.skin_two_chains(joints=65_536),
        "GLTF_SKIN_NO_COMMON_ROOT",
        id="skin-two-chains-64k",
    ),
    pytest.param(
        adversarial.instanced_mesh(instances=2000, triangles=100_000),
        "BUDGET_TRIANGLES",
        id="instances-2000",
    ),
    pytest.param(
        adversarial.instanced_mesh(instances=2000, triangles=100_000),
        "VALIDATION_LIMIT_SCENE",
        id="instances-x-vertices",
    ),
    pytest.param(
        adversarial.wide_mesh_instances(primitives=65_536, instances=65_536),
        "BUDGET_TRIANGLES",
        id="65k-primitives-x-65k-nodes",
    ),
    pytest.param(
        adversarial.many_scenes(scenes=65_536),
        "VALIDATION_LIMIT_OBJECTS",
        id="65k-scenes-on-a-chain",
    ),
    pytest.param(
        adversarial.many_scenes(scenes=64), "BUDGET_NO_GEOMETRY", id="64-scenes-on-a-chain"
    ),
    pytest.param(
        adversarial.many_extensions(names=60_000), "VALIDATION_LIMIT_OBJECTS", id="60k-extensions"
    ),
    pytest.param(
        adversarial.shared_buffers(buffers=500, bin_bytes=14 * adversarial.MB),
        "BUDGET_NO_GEOMETRY",
        id="buffers-500x14MB",
    ),
    pytest.param(
        adversarial.shared_image_view(images=2000),
        "GLTF_IMAGE_DATA_INVALID",
        id="images-2000-on-one-view",
    ),
    pytest.param(
        adversarial.nested_manifest(depth=100_000),
        "VALIDATION_LIMIT_JSON_DEPTH",
        id="nested-manifest",
    ),
    pytest.param(
        adversarial.nested_gltf(depth=100_000), "VALIDATION_LIMIT_JSON_DEPTH", id="nested-gltf"
    ),
    pytest.param(
        adversarial.wide_gltf(objects=4_500_000),
        "VALIDATION_LIMIT_JSON_VALUES",
        id="json-4.5M-objects",
    ),
    pytest.param(
        adversarial.oversized_glb(size=2 * 1024 * adversarial.MB), "BUDGET_FILE_SIZE", id="glb-2GB"
    ),
    pytest.param(
        adversarial.not_a_glb(size=2 * 1024 * adversarial.MB),
        "GLTF_GLB_INVALID_MAGIC",
        id="not-a-glb-2GB",
    ),
    pytest.param(
        adversarial.oversized_glb(size=14 * adversarial.MB),
        "VALIDATION_LIMIT_GLB_CHUNKS",
        id="glb-1.8M-empty-chunks",
    ),
]


@pytest.mark.parametrize(("sample", "code"), CASES)
def test_attack_gets_a_coded_verdict_in_bounded_time(
    sample: adversarial.Sample, code: str, tmp_path: Path
) -> None:
    _, report, elapsed = shazam_validate(sample.write(tmp_path))
    assert code in error_codes(report), report["errors"][:3]
    assert elapsed < SECONDS
    issues = report["errors"] + report["warnings"] + report["infos"]
    per_code: dict[str, int] = {}
    for issue in issues:
        per_code[issue["code"]] = per_code.get(issue["code"], 0) + 1
    assert max(per_code.values()) <= limits.LIMITS.issues_per_code
    assert all(issue["code"] in {r.code for r in codes.all_rules()} for issue in issues)


def test_repeated_findings_are_capped_with_a_count(tmp_path: Path) -> None:
    """5000 channels on one node: 12.5 million duplicate pairs, 100 listed and one summary."""
    _, report, _ = shazam_validate(adversarial.animation_channels(channels=5000).write(tmp_path))
    listed = [i for i in report["errors"] if i["code"] == "GLTF_ANIMATION_DUPLICATE_TARGETS"]
    assert len(listed) == limits.LIMITS.issues_per_code
    (summary,) = [i for i in report["infos"] if i["code"] == "VALIDATION_LIMIT_ISSUES"]
    assert summary["details"] == {
        "capped_code": "GLTF_ANIMATION_DUPLICATE_TARGETS",
        "more": 5000 * 4999 // 2 - limits.LIMITS.issues_per_code,
    }


_VALIDATE = (
    "import sys; from pathlib import Path; from shazam_assets.ingest.delivery.validate import validate_path;"
    "validate_path(Path(sys.argv[1]), profile='shopify')"
)  # the largest model budget: most is read
# A small middle process starts the validator and reads its peak RSS with wait4: a child's
# ru_maxrss also counts what its parent held when it forked, and pytest holds a lot.
_MEASURE = (
    "import os, subprocess, sys; p = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]);"
    "print(os.wait4(p.pid, 0)[2].ru_maxrss)"
)


def _peak_rss_mb(sample: adversarial.Sample, folder: Path) -> float:
    """Validate in a fresh interpreter and return its peak RSS in MB."""
    path = sample.write(folder)
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, _VALIDATE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=SECONDS * 2,
        env=dict(os.environ),
    )
    return int(result.stdout.split()[-1]) / 1024


@pytest.mark.parametrize(
    "sample",
    [
        pytest.param(adversarial.sparse_accessor(count=2**24), id="sparse-2^24-mat4"),
        pytest.param(adversarial.oversized_glb(size=2 * 1024 * adversarial.MB), id="glb-2GB"),
        pytest.param(adversarial.not_a_glb(size=2 * 1024 * adversarial.MB), id="not-a-glb-2GB"),
        pytest.param(adversarial.wide_gltf(objects=16_000_000), id="json-16M-objects"),
        pytest.param(
            adversarial.shared_buffers(buffers=200, bin_bytes=14 * adversarial.MB),
            id="buffers-200x14MB",
        ),
    ],
)
def test_attack_costs_little_memory(sample: adversarial.Sample, tmp_path: Path) -> None:
    assert _peak_rss_mb(sample, tmp_path) < 400  # a fresh interpreter with numpy is ~50 MB


def test_json_values_are_counted_before_parsing(tmp_path: Path) -> None:
    """45 MB of empty objects fits the shopify budget (50 MB) and is still refused unparsed."""
    _, report, elapsed = shazam_validate(
        adversarial.wide_gltf(objects=16_000_000).write(tmp_path), "--profile", "shopify"
    )
    assert error_codes(report) == {"VALIDATION_LIMIT_JSON_VALUES"}
    assert elapsed < SECONDS


def test_a_valid_instanced_mesh_is_counted_by_instance(tmp_path: Path) -> None:
    """Under the budget the scene is still measured per instance: 150 x 1,000 triangles."""
    report = validate_model_file(
        adversarial.instanced_mesh(instances=150, triangles=1000).write(tmp_path)
    )
    assert report.stats["triangles"] == 150_000
    assert "BUDGET_TRIANGLES" not in report.codes


def test_a_skin_chain_has_its_root_as_common_root(tmp_path: Path) -> None:
    report = validate_model_file(adversarial.skin_chain(joints=64).write(tmp_path))
    assert "GLTF_SKIN_NO_COMMON_ROOT" not in {i.code for i in report.issues}


def test_a_validator_defect_is_a_coded_verdict_too() -> None:
    """Whatever a validator raises inside the guard becomes VALIDATION_CRASHED, not a traceback."""
    outcome = run_guarded(functools.partial(operator.truediv, 1, 0), Guard())
    assert isinstance(outcome, Overrun) and outcome.code == "VALIDATION_CRASHED"
    assert "ZeroDivisionError" in outcome.message


def test_guard_turns_an_overrun_into_a_verdict(tmp_path: Path) -> None:
    """The deadline and the memory cap around a whole validation (what the pipeline uses)."""
    path = adversarial.node_chain(nodes=20_000).write(tmp_path)
    assert guarded_path(path, guard=Guard(seconds=0.05)).codes == ("VALIDATION_TIMEOUT",)
    assert guarded_path(path, guard=Guard(memory_bytes=100 * adversarial.MB)).codes == (
        "VALIDATION_MEMORY_LIMIT",
    )
    assert guarded_path(path).codes == ("BUDGET_NO_GEOMETRY",)


def test_common_roots_are_the_reference_intersection() -> None:
    """The linear common-root search gives what the reference's quadratic intersection of
    ancestor lists gives, restarts included, on random parent graphs with loops."""
    import random
    from types import SimpleNamespace

    from shazam_assets.ingest.delivery.gltf.scenegraph import common_roots

    def reference(joints: list) -> list:
        common: list = []
        for joint in joints:
            ancestors, walker = [], joint
            while walker is not None and not any(walker is a for a in ancestors):
                ancestors.append(walker)
                walker = walker.parent
            common = (
                ancestors if not common else [r for r in common if any(r is a for a in ancestors)]
            )
        return common

    rng = random.Random(11)
    for _ in range(3000):
        nodes = [SimpleNamespace(parent=None) for _ in range(rng.randint(1, 12))]
        for node in nodes:
            node.parent = rng.choice(nodes) if rng.random() < 0.8 else None
        memo: dict[int, int] = {}  # shared by the skins of one model
        for _ in range(3):
            joints = [rng.choice(nodes) for _ in range(rng.randint(1, 8))]
            assert [id(n) for n in common_roots(joints, memo)] == [id(n) for n in reference(joints)]


def test_shazam_validate_keeps_the_deadline_in_its_forked_child(
    tmp_path: Path, monkeypatch
) -> None:
    """The CLI forks its guarded child (no interpreter start); the deadline still holds."""
    monkeypatch.setenv("SHAZAM_VALIDATION_TIMEOUT_S", "0.05")
    _, report, elapsed = shazam_validate(adversarial.node_chain(nodes=20_000).write(tmp_path))
    assert error_codes(report) == {"VALIDATION_TIMEOUT"} and elapsed < 10
