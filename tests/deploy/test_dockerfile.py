"""deploy/docker/Dockerfile, read instruction by instruction (no Docker daemon in tests): pinned
bases, the model-viewer stage, the system packages rendering needs, a non-root numeric user,
and the probes Kubernetes uses instead of a HEALTHCHECK."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from shazam_assets.platform import gltf_tools, viewer
from tests.deploy.deploy_files import DOCKERFILE, ROOT, VALUES, load

EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?$")  # name:1.2.3[-variant]


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str  # continuation lines joined, comments dropped
    stage: int  # index of the FROM it belongs to


def parse(text: str) -> list[Instruction]:
    """Instructions in order, as Docker reads them: `\\` continues a line, `#` lines are comments."""
    instructions: list[Instruction] = []
    stage, pending = -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        pending += " " + line.removesuffix("\\").strip()
        if line.endswith("\\"):
            continue
        keyword, _, args = pending.strip().partition(" ")
        stage += keyword.upper() == "FROM"
        instructions.append(Instruction(keyword.upper(), args.strip(), stage))
        pending = ""
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def _stages(instructions: list[Instruction]) -> list[tuple[str, str | None]]:
    """(image, stage name) of each FROM."""
    stages = []
    for ins in instructions:
        if ins.keyword == "FROM":
            words = ins.args.split()
            stages.append((words[0], words[2] if len(words) > 2 else None))
    return stages


def test_parser_joins_continuations_and_skips_comments() -> None:
    parsed = parse("# c\nFROM a:1.2.3 AS x\nRUN one \\\n  # note\n  two\nFROM x\nUSER 1\n")
    assert parsed == [
        Instruction("FROM", "a:1.2.3 AS x", 0),
        Instruction("RUN", "one two", 0),
        Instruction("FROM", "x", 1),
        Instruction("USER", "1", 1),
    ]


def test_base_images_are_pinned_to_exact_versions(instructions) -> None:
    stages = _stages(instructions)
    names = {name for _, name in stages if name}
    for image, _ in stages:
        if image in names:
            continue  # an earlier stage of this file
        assert EXACT_TAG.match(image), f"{image}: pin an exact version, not a floating tag"
        assert "latest" not in image
    final_image, _ = stages[-1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", final_image)


def _npm_stage_copy(instructions: list[Instruction], static: str) -> tuple[str, str]:
    """The node stage that `npm ci`s `static`'s lockfile, and where the final stage copies its
    node_modules: (source, destination)."""
    stages = _stages(instructions)
    (node_stage,) = [
        i
        for i, (image, _) in enumerate(stages)
        if image.startswith("node:20.")
        and any(
            ins.stage == i and ins.keyword == "COPY" and f"{static}/package.json" in ins.args
            for ins in instructions
        )
    ]
    name = stages[node_stage][1]
    assert name, "the node stage needs a name to copy from"
    node = [ins for ins in instructions if ins.stage == node_stage]
    assert any(
        ins.keyword == "COPY"
        and f"{static}/package.json" in ins.args
        and f"{static}/package-lock.json" in ins.args
        for ins in node
    )
    assert any(ins.keyword == "RUN" and "npm ci" in ins.args for ins in node)
    final = len(stages) - 1
    copies = [
        ins.args.split()
        for ins in instructions
        if ins.stage == final
        and ins.keyword == "COPY"
        and ins.args.startswith(f"--from={name}")
        and ins.args.split()[1].endswith("/node_modules")
    ]
    assert len(copies) == 1
    _, source, destination = copies[0]
    return source, destination


def _site_packages(instructions: list[Instruction], folder: Path) -> str:
    """Where the image's installed package holds `folder` (a folder of this checkout)."""
    package_root = Path(viewer.__file__).resolve().parents[2]  # .../shazam_assets
    expected = folder.relative_to(package_root.parent).as_posix()
    python = re.fullmatch(r"python:(\d+\.\d+)\.\d+.*", _stages(instructions)[-1][0])
    assert python is not None
    return f"/usr/local/lib/python{python[1]}/site-packages/{expected}"


def test_model_viewer_comes_from_an_npm_ci_stage(instructions) -> None:
    _, destination = _npm_stage_copy(instructions, "shazam_assets/platform/viewer")
    # Where the installed package looks for it: node_modules beside platform/viewer.
    assert destination == _site_packages(instructions, viewer.NODE_MODULES)
    # The build itself fails when publishing cannot find it there.
    final = max(ins.stage for ins in instructions)
    assert any(
        ins.keyword == "RUN" and "site.site_assets()" in ins.args
        for ins in instructions
        if ins.stage == final
    )


def test_gltf_tools_and_node_come_from_an_npm_ci_stage(instructions) -> None:
    """The channel derivatives run Node in the final image: its node_modules beside
    platform/gltf_tools, the node binary on PATH, and the build checks both."""
    _, destination = _npm_stage_copy(instructions, "shazam_assets/platform/gltf_tools")
    assert destination == _site_packages(instructions, gltf_tools.NODE_MODULES)
    final = max(ins.stage for ins in instructions)
    steps = [ins for ins in instructions if ins.stage == final]
    assert any(
        i.keyword == "COPY" and i.args.endswith("/usr/local/bin/node /usr/local/bin/node")
        for i in steps
    )
    assert any(i.keyword == "RUN" and "gltf_tools.find_tools()" in i.args for i in steps)


def _apt_packages(text: str) -> set[str]:
    found: set[str] = set()
    for command in re.findall(r"apt-get install ([^&;\n]+)", text):
        found |= {word for word in shlex.split(command) if not word.startswith("-")}
    return found


def test_image_has_the_packages_rendering_needs(instructions) -> None:
    runs = " && ".join(ins.args for ins in instructions if ins.keyword == "RUN")
    image = _apt_packages(runs)
    # What the Makefile installs for headless Vulkan rendering on a developer's machine.
    (make_line,) = [
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if "mesa-vulkan-drivers" in line
    ]
    makefile = _apt_packages(make_line) - {"-qq", "-y"}
    assert makefile <= image
    assert {"libvulkan1", "mesa-vulkan-drivers", "libegl1", "libgl1", "libusb-1.0-0"} <= image
    assert "rm -rf /var/lib/apt/lists/*" in runs
    # run pods open the PostgreSQL-backed instance: dagster-postgres comes from the lock
    assert re.search(r"^dagster-postgres==", (ROOT / "requirements.lock").read_text(), re.M)
    env = " ".join(ins.args for ins in instructions if ins.keyword == "ENV")
    assert "NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility" in env  # Vulkan on NVIDIA


def test_installs_the_runtime_lock_then_the_project_without_resolving(instructions) -> None:
    """The image runs the versions CI tested: requirements.lock, hash-checked, before the code
    (a cached layer while only the code changes); the project itself adds no dependency."""
    final = max(ins.stage for ins in instructions)
    steps = [(ins.keyword, ins.args) for ins in instructions if ins.stage == final]
    lock_copy = steps.index(("COPY", "requirements.lock ./"))
    lock_install = steps.index(("RUN", "pip install --require-hashes -r requirements.lock"))
    code_copy = steps.index(("COPY", "shazam_assets ./shazam_assets"))
    (project,) = [
        i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install --no-deps ." in a
    ]
    assert lock_copy < lock_install < code_copy < project
    pip_installs = [a for k, a in steps if k == "RUN" and "pip install" in a]
    assert len(pip_installs) == 2, f"every install goes through the lock: {pip_installs}"
    assert "pip check" in steps[project][1]
    ignored = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    assert "requirements.lock" not in ignored and "*.lock" not in ignored


def test_runs_as_a_numeric_non_root_user(instructions) -> None:
    users = [ins.args for ins in instructions if ins.keyword == "USER"]
    assert users, "no USER: the container would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, "runAsNonRoot can only verify a numeric uid"
    assert gid.isdigit() and int(gid) > 0
    runs = " ".join(ins.args for ins in instructions if ins.keyword == "RUN")
    assert f"--uid {uid}" in runs  # the user exists, with a home
    (deployment,) = load(VALUES)["dagster-user-deployments"]["deployments"]
    assert deployment["podSecurityContext"]["runAsUser"] == int(uid)


def test_health_is_checked_by_kubernetes_probes(instructions) -> None:
    checks = [ins.args for ins in instructions if ins.keyword == "HEALTHCHECK"]
    if checks:
        assert all("grpc-health-check" in check for check in checks)
    else:  # documented instead: Kubernetes ignores HEALTHCHECK, the chart's probes do the work
        text = DOCKERFILE.read_text()
        assert "grpc-health-check" in text and "deploy/helm/values.yaml" in text
    (deployment,) = load(VALUES)["dagster-user-deployments"]["deployments"]
    assert deployment["readinessProbe"]["enabled"] and deployment["livenessProbe"]


def test_command_serves_the_code_location_the_chart_expects(instructions) -> None:
    (cmd,) = [json.loads(ins.args) for ins in instructions if ins.keyword == "CMD"]
    (deployment,) = load(VALUES)["dagster-user-deployments"]["deployments"]
    assert cmd[:3] == ["dagster", "api", "grpc"]
    assert cmd[cmd.index("-p") + 1] == str(deployment["port"])
    assert cmd[-2:] == deployment["dagsterApiGrpcArgs"]
    exposed = [ins.args for ins in instructions if ins.keyword == "EXPOSE"]
    assert exposed == [str(deployment["port"])]


def test_build_context_leaves_out_local_installs() -> None:
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    assert {"**/node_modules", ".venv", ".git", ".shazam"} <= set(ignore)
    for ins in parse(DOCKERFILE.read_text()):
        if ins.keyword == "COPY" and not ins.args.startswith("--from"):
            *sources, _ = ins.args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
