"""glTF-Transform, Draco, sharp and the Khronos glTF-Validator, installed from npm beside this file.

The publish stage makes each sales channel's copy of an approved master with them (Draco
geometry, WebP textures resized) and checks the copy with the official validator. They run in
Node, one command per process (`gltf_tools.mjs` here), under a deadline and a V8 heap cap, so
a model that would take Node down or hang it costs one refusal, never the worker. `make setup`
installs the exact versions of package-lock.json (`npm ci --prefix
shazam_assets/platform/gltf_tools`); the image copies node_modules and the node binary to the
same places. Missing Node or packages raise GLTF_TOOLS_MISSING, naming what is missing.

Not here: KTX2 textures (glTF-Transform's `ktx2` command runs KTX-Software's `toktx`, a native
binary that npm does not ship) and meshopt (the pages would have to serve its decoder too;
they already serve model-viewer's Draco decoder).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shazam_assets.platform.errors import ShazamError

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
SCRIPT = HERE / "gltf_tools.mjs"
INSTALL_HINT = "npm ci --prefix shazam_assets/platform/gltf_tools"
PACKAGES = (
    "@gltf-transform/core",
    "@gltf-transform/extensions",
    "@gltf-transform/functions",
    "draco3dgltf",
    "sharp",
    "gltf-validator",
)
HEAP_MB = 2048  # V8 heap cap of one command (a 2k-textured master needs ~160 MB)
DERIVE_TIMEOUT_S = 180.0  # the Khronos models take ~0.6 s; 300x that is a hang
CHECK_TIMEOUT_S = 60.0  # decode or validate one derivative


class GltfToolsError(ShazamError, RuntimeError):
    """The glTF tools are missing (GLTF_TOOLS_MISSING), ran past their deadline
    (GLTF_TOOLS_TIMEOUT) or failed on a model (GLTF_TOOLS_FAILED)."""


@dataclass(frozen=True)
class DeriveStats:
    """What `derive` made: triangles drawn and each texture's (width, height) in px."""

    triangles: int
    textures: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ValidatorReport:
    """The Khronos glTF-Validator's verdict on one file (valid means zero errors)."""

    errors: int
    warnings: int
    error_codes: tuple[str, ...]
    warning_codes: tuple[str, ...]


@dataclass(frozen=True)
class GltfTools:
    """Node and the installed tools; get one with `find_tools()`."""

    node: str
    script: Path = SCRIPT

    def derive(self, master: Path, out: Path, options: dict[str, Any]) -> DeriveStats:
        """Write `out`: `master` with Draco geometry and re-encoded, resized textures
        (`options`: texture_format, texture_max_px, texture_quality, draco_method, quantize_*)."""
        answer = self._run(
            "derive",
            str(master.resolve()),
            str(out.resolve()),
            json.dumps(options),
            timeout_s=DERIVE_TIMEOUT_S,
        )
        textures = tuple((int(w), int(h)) for w, h in answer["textures"])
        return DeriveStats(triangles=int(answer["triangles"]), textures=textures)

    def decode(self, model: Path, out: Path) -> int:
        """Write `out`: `model` with plain float geometry (Draco decoded, quantization
        undone), which the studio renderer can draw; returns its triangle count."""
        return int(
            self._run(
                "decode", str(model.resolve()), str(out.resolve()), timeout_s=CHECK_TIMEOUT_S
            )["triangles"]
        )

    def validate(self, model: Path) -> ValidatorReport:
        """The Khronos glTF-Validator's report on a .glb."""
        answer = self._run("validate", str(model.resolve()), timeout_s=CHECK_TIMEOUT_S)
        return ValidatorReport(
            errors=int(answer["errors"]),
            warnings=int(answer["warnings"]),
            error_codes=tuple(answer["error_codes"]),
            warning_codes=tuple(answer["warning_codes"]),
        )

    def _run(self, command: str, *args: str, timeout_s: float) -> dict[str, Any]:
        """One command in its own Node process; its JSON answer, or a GltfToolsError."""
        argv = [self.node, f"--max-old-space-size={HEAP_MB}", str(self.script), command, *args]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout_s, cwd=self.script.parent
            )
        except subprocess.TimeoutExpired:
            raise GltfToolsError(
                "GLTF_TOOLS_TIMEOUT", f"{command} {Path(args[0]).name} ran past {timeout_s:g} s"
            ) from None
        lines = done.stdout.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else {}
        except ValueError:
            answer = {}
        if done.returncode != 0 or not isinstance(answer, dict) or "error" in answer:
            why = answer.get("error") if isinstance(answer, dict) else None
            detail = (why or done.stderr or "no output").strip().splitlines()[:3]
            raise GltfToolsError(
                "GLTF_TOOLS_FAILED",
                f"{command} {Path(args[0]).name} failed (exit {done.returncode}): "
                + " | ".join(detail),
            )
        return answer


def find_tools(*, node: str | None = None, folder: Path = HERE) -> GltfTools:
    """Node (`node` on PATH unless given) and the packages installed in `folder`/node_modules,
    or GLTF_TOOLS_MISSING naming what is missing and how to install it."""
    found = shutil.which(node or "node")
    if found is None:
        raise GltfToolsError(
            "GLTF_TOOLS_MISSING",
            f"Node.js ({node or 'node'}) is not on PATH; install Node 20 and run {INSTALL_HINT}",
        )
    modules = folder / "node_modules"
    missing = [p for p in PACKAGES if not (modules / p / "package.json").is_file()]
    if missing or not (folder / SCRIPT.name).is_file():
        raise GltfToolsError(
            "GLTF_TOOLS_MISSING",
            f"{', '.join(missing) or SCRIPT.name} not installed in {folder}; run {INSTALL_HINT}",
        )
    return GltfTools(node=found, script=folder / SCRIPT.name)


def fingerprint() -> str:
    """What names the tools' behaviour: the exact versions package-lock.json pins and the
    script that drives them (a change to either may change every derivative)."""
    import hashlib

    digest = hashlib.sha256()
    for path in (HERE / "package-lock.json", SCRIPT):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
