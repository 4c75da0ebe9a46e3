"""The layering is a lint rule: ruff's banned-api (TID251), configured in a ruff.toml beside the
code it constrains. ruff reads the closest config, and a nested banned-api table replaces the one
it extends instead of adding to it, so each file must repeat the bans above it; these tests check
that none was dropped and that ruff really refuses the imports the layering forbids."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "shazam_assets"
LAYERS = {"platform", "operations", "studio"}
STAGES = sorted(
    p.name for p in DOMAIN.iterdir() if (p / "__init__.py").is_file() and p.name not in LAYERS
)
RUFF = Path(sys.executable).parent / "ruff"


def _config(folder: Path) -> dict:
    return tomllib.loads((folder / "ruff.toml").read_text())


def _banned(folder: Path) -> set[str]:
    return set(_config(folder)["lint"]["flake8-tidy-imports"]["banned-api"])


def _nested_configs() -> list[Path]:
    tops = ("shazam_assets", "dagster_project", "shazam_demo", "tests", "bench")
    found = (p for top in tops for p in (ROOT / top).rglob("ruff.toml"))
    return sorted(p.parent for p in found if "node_modules" not in p.parts)


def test_the_stages_are_the_pipeline() -> None:
    assert STAGES == ["ingest", "production", "publish", "qa", "render", "search"]


@pytest.mark.parametrize("folder", _nested_configs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_config_extends_the_one_above_and_keeps_its_bans(folder: Path) -> None:
    parent = next(d for d in folder.parents if (d / "ruff.toml").is_file() or d == ROOT)
    config = _config(folder)
    expected = "../" * len(folder.relative_to(parent).parts)
    if parent == ROOT:
        assert config["extend"] == expected + "pyproject.toml"
    else:
        assert config["extend"] == expected + "ruff.toml"
        dropped = _banned(parent) - _banned(folder)
        assert not dropped, f"{folder.relative_to(ROOT)}/ruff.toml drops {sorted(dropped)}"


def test_the_domain_never_imports_dagster_the_cli_or_the_demo() -> None:
    assert {"dagster", "dagster_project", "shazam_demo"} <= _banned(DOMAIN)


def test_platform_never_imports_a_stage() -> None:
    stages = {f"shazam_assets.{s}" for s in [*STAGES, "operations", "studio"]}
    assert stages <= _banned(DOMAIN / "platform")


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_never_imports_another_stage(stage: str) -> None:
    others = {f"shazam_assets.{s}" for s in [*STAGES, "operations", "studio"] if s != stage}
    banned = _banned(DOMAIN / stage)
    assert others <= banned
    assert f"shazam_assets.{stage}" not in banned
    assert "shazam_assets.platform" not in banned


def test_production_never_imports_the_demo() -> None:
    assert "shazam_demo" in _banned(ROOT / "dagster_project")


def _ruff_refuses(path: str, source: str) -> list[str]:
    """TID251 messages ruff prints for `source` as if it were the file at `path`."""
    result = subprocess.run(
        [
            str(RUFF),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--output-format",
            "concise",
            "--stdin-filename",
            path,
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize(
    ("path", "source", "refused"),
    [
        ("shazam_assets/platform/probe.py", "from shazam_assets.qa import scoring\n", True),
        ("shazam_assets/platform/probe.py", "import dagster as dg\n", True),
        ("shazam_assets/qa/probe.py", "from shazam_assets.ingest.versions import x\n", True),
        ("shazam_assets/qa/review/probe.py", "from shazam_assets import render\n", True),
        ("shazam_assets/search/probe.py", "import shazam_demo.run\n", True),
        ("shazam_assets/qa/probe.py", "from shazam_assets.platform import storage\n", False),
        ("shazam_assets/qa/probe.py", "from shazam_assets.qa.raster import x\n", False),
        ("shazam_assets/operations/probe.py", "from shazam_assets.qa import backlog\n", False),
        ("shazam_assets/operations/probe.py", "from dagster import asset\n", True),
        ("dagster_project/defs/probe.py", "from shazam_demo.run import run_demo\n", True),
        ("dagster_project/defs/probe.py", "from shazam_assets.qa import backlog\n", False),
    ],
)
def test_ruff_refuses_what_the_layering_forbids(path: str, source: str, refused: bool) -> None:
    assert bool(_ruff_refuses(path, source)) == refused, (path, source)


def test_pre_commit_runs_make_lints_tools_from_the_venv() -> None:
    """Offline and at the locked versions: local hooks running .venv's tools, the same three
    checks `make lint` runs."""
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert {hook["language"] for hook in hooks} == {"system"}
    entries = [hook["entry"] for hook in hooks]
    assert all(entry.startswith(".venv/bin/") for entry in entries)
    assert [entry.split()[0:2] for entry in entries] == [
        [".venv/bin/ruff", "format"],
        [".venv/bin/ruff", "check"],
        [".venv/bin/mypy"],
    ]
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile[makefile.index("\nlint: ") :].split("\n\n")[0]
    for command in ("$(BIN)/ruff format --check", "$(BIN)/ruff check", "$(BIN)/mypy"):
        assert f"\t{command}\n" in lint + "\n"
