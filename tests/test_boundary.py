"""The domain library never imports Dagster (it must stay usable without it)."""

from __future__ import annotations

import subprocess
import sys


def test_shazam_assets_imports_no_dagster() -> None:
    code = (
        "import pkgutil, importlib, sys, shazam_assets\n"
        "for m in pkgutil.walk_packages(shazam_assets.__path__, 'shazam_assets.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.'))\n"
        "print(len(list(pkgutil.walk_packages(shazam_assets.__path__))), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shazam_validate_starts_without_importing_dagster() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from dagster_project.cli import main\n"
        "r = CliRunner().invoke(main, ['codes'])\n"
        "assert r.exit_code == 0, r.output\n"
        "sys.exit(1 if any(m == 'dagster' for m in sys.modules) else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
