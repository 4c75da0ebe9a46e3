"""Google's <model-viewer> and the decoders it loads, installed from npm beside this file.

The review page (qa) and the product pages (publish) both serve these files themselves, so
nothing reaches a browser from a CDN. `make setup` installs them from the lockfile here
(`npm ci --prefix shazam_assets/platform/viewer`); the image copies them to the same place.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
INSTALL_HINT = "npm ci --prefix shazam_assets/platform/viewer"
MODEL_VIEWER_DIR = NODE_MODULES / "@google" / "model-viewer"
_DRACO_DIR = NODE_MODULES / "three/examples/jsm/libs/draco/gltf"
_BASIS_DIR = NODE_MODULES / "three/examples/jsm/libs/basis"
_DRACO_FILES = ("draco_decoder.js", "draco_decoder.wasm", "draco_wasm_wrapper.js")
_BASIS_FILES = ("basis_transcoder.js", "basis_transcoder.wasm")


def viewer_files() -> dict[str, Path]:
    """Each file a page loads, by its name below the page's static folder: the viewer, and
    the Draco and Basis decoders it fetches for compressed meshes and KTX2 textures."""
    files = {"model-viewer.min.js": MODEL_VIEWER_DIR / "dist" / "model-viewer.min.js"}
    files.update({f"draco/{name}": _DRACO_DIR / name for name in _DRACO_FILES})
    files.update({f"basis/{name}": _BASIS_DIR / name for name in _BASIS_FILES})
    return files


def installed_version() -> str | None:
    """The installed model-viewer's version, or None when `make setup` has not installed it."""
    package = MODEL_VIEWER_DIR / "package.json"
    if not viewer_files()["model-viewer.min.js"].is_file() or not package.is_file():
        return None
    return str(json.loads(package.read_text())["version"])
