"""The layers of the codebase, as a test: every arrow points down, and nothing goes round.

    dagster_project.cli         who uses SHAZAM: artist, reviewer, operator commands
    dagster_project.definitions the code location: merges the stage definitions
    dagster_project.defs.<s>    each stage's Dagster face (assets, checks, sensors, schedules)
    dagster_project.lib         what the Dagster stages share (partitions, resources, retries...)
    shazam_assets.studio        the signed-in web app: artists work, reviewers decide
    shazam_assets.operations    reading across the stages: status, metrics, backfills
    shazam_assets.<stage>       production, ingest, qa, render, publish, search: in pipeline order
    shazam_assets.platform      the ground: store, layout, settings, errors, notify

Imports are read from the source, those inside functions included, so a deferred import
cannot hide a cycle or a layer violation. Then every module is imported on its own (a fresh
process forked per module) to prove it loads without help from an earlier import.
"""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shazam_assets", "dagster_project", "shazam_demo")
STAGES = ("production", "ingest", "qa", "render", "publish", "search")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports, at any depth of its code: project modules by their full
    name, anything else by its top-level package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (_resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield _resolve(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                )


def _resolve(module: str) -> str:
    while module and module not in MODULES:
        if "." not in module:
            return module  # third-party or standard library: its top-level name
        module = module.rpartition(".")[0]
    return module


GRAPH = {name: set(_imports(name, path)) - {name} for name, path in MODULES.items()}


def layer(module: str) -> str:
    """The layer a module belongs to: 'platform', 'stage:<s>', 'operations', 'studio', 'dagster:lib',
    'dagster:defs:<s>', 'dagster:definitions', 'dagster:cli', 'demo', or 'external'."""
    parts = module.split(".")
    if parts[0] == "shazam_assets":
        if len(parts) == 1:
            return "domain"
        if parts[1] in STAGES:
            return f"stage:{parts[1]}"
        return parts[1] if parts[1] in ("platform", "operations", "studio") else "domain"
    if parts[0] == "dagster_project":
        if len(parts) > 2 and parts[1] == "defs":
            return f"dagster:defs:{parts[2]}"
        if len(parts) > 1 and parts[1] in ("lib", "cli", "definitions"):
            return f"dagster:{parts[1]}"
        return "dagster"
    if parts[0] == "shazam_demo":
        return "demo"
    return "external"


def allowed(importer: str, imported: str) -> bool:
    """Whether a module of layer `importer` may import one of layer `imported`."""
    if importer == imported or imported in ("domain", "external"):
        return True
    domain = ("platform", "operations", *(f"stage:{s}" for s in STAGES))
    if importer == "platform":
        return False
    if importer.startswith("stage:"):
        return imported == "platform"
    if importer in ("operations", "domain"):
        return imported in domain
    if importer == "studio":
        return imported in domain
    if importer in ("dagster", "dagster:lib"):
        return imported in (*domain, "dagster", "dagster:lib")
    if importer.startswith("dagster:defs:"):
        return imported in (*domain, "dagster", "dagster:lib")
    if importer == "dagster:definitions":
        return imported in (*domain, "dagster", "dagster:lib") or imported.startswith(
            "dagster:defs:"
        )
    return importer in ("dagster:cli", "demo")  # the top: the commands and the demo use anything


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    project = {name: {m for m in deps if m in MODULES} for name, deps in GRAPH.items()}
    try:
        tuple(graphlib.TopologicalSorter(project).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_every_import_points_down_a_layer() -> None:
    wrong = sorted(
        f"{name} ({layer(name)}) imports {dep} ({layer(dep)})"
        for name, deps in GRAPH.items()
        for dep in deps
        if dep in MODULES and not allowed(layer(name), layer(dep))
    )
    assert not wrong, "\n".join(wrong)


def test_the_domain_never_imports_dagster_the_cli_or_the_demo() -> None:
    wrong = sorted(
        f"{name} imports {dep}"
        for name, deps in GRAPH.items()
        if name.startswith("shazam_assets")
        for dep in deps
        if dep.split(".")[0] in ("dagster", "dagster_project", "shazam_demo", "dagster_graphql")
    )
    assert not wrong, "\n".join(wrong)


def test_production_never_imports_the_demo() -> None:
    wrong = sorted(
        f"{name} imports {dep}"
        for name, deps in GRAPH.items()
        if not name.startswith(("shazam_demo", "dagster_project.cli"))
        for dep in deps
        if dep.startswith("shazam_demo")
    )
    assert not wrong, "\n".join(wrong)


# Run in a fresh interpreter: it loads the third-party packages the project uses (so each child
# does not pay for them again), then forks one child per project module, which imports that
# module and nothing else of the project first.
_ISOLATED = """
import importlib, json, os, sys
externals, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in externals:
    try:
        importlib.import_module(name)
    except Exception:
        pass
assert not [m for m in sys.modules if m.split(".")[0] in ("shazam_assets", "dagster_project", "shazam_demo")]
failures = {}
for name in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            message = ""
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode()[:4000])
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if message or status:
        failures[name] = message or f"exit status {status}"
print(json.dumps(failures))
"""


@pytest.mark.long
def test_every_module_imports_on_its_own() -> None:
    externals = sorted({dep for deps in GRAPH.values() for dep in deps if dep not in MODULES})
    result = subprocess.run(
        [sys.executable, "-c", _ISOLATED, json.dumps(externals), json.dumps(sorted(MODULES))],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"{name}: {why}" for name, why in failures.items())
