"""Fuzz the glTF validator the way `shazam validate model.glb` runs it (validation, budgets).

Run through `make fuzz` (tests/fuzz/run.py), or alone with libFuzzer's arguments:
    python -m tests.fuzz.fuzz_gltf CORPUS_DIR -max_total_time=60
An input is the model file: a GLB when it starts with the glTF magic, else a .gltf. Its
external resources are missing (the delivery harness fuzzes those inside a ZIP).
"""

from __future__ import annotations

import atheris

if __name__ == "__main__":  # coverage feedback from the project's code only
    with atheris.instrument_imports(include=["shazam_assets"]):
        import shazam_assets.ingest.delivery.validate  # noqa: F401

import tempfile
from pathlib import Path

from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.delivery.validate import validate_model_file
from tests.fuzz import harness, mutate

_FOLDER = Path(tempfile.mkdtemp(prefix="shazam-fuzz-gltf-"))


def test_one_input(data: bytes) -> Report:
    """The report `shazam validate` would print for this model file."""
    path = _FOLDER / ("model.glb" if data[:4] == b"glTF" else "model.gltf")
    path.write_bytes(data)
    return validate_model_file(path)


if __name__ == "__main__":
    harness.main(test_one_input, mutate.mutate_model)
