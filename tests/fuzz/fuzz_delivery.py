"""Fuzz `validate_delivery` on whole delivery ZIPs (archive safety, manifest, model, photos, scan).

Run through `make fuzz` (tests/fuzz/run.py), or alone with libFuzzer's arguments:
    python -m tests.fuzz.fuzz_delivery CORPUS_DIR -max_total_time=60
An input is the ZIP's bytes, written to a file as an upload would be.
"""

from __future__ import annotations

import atheris

if __name__ == "__main__":  # coverage feedback from the project's code only
    with atheris.instrument_imports(include=["shazam_assets"]):
        import shazam_assets.ingest.delivery.validate  # noqa: F401

import tempfile
from pathlib import Path

from shazam_assets.ingest.delivery.report import Report
from shazam_assets.ingest.delivery.validate import validate_delivery
from tests.fuzz import harness, mutate

_PATH = Path(tempfile.mkdtemp(prefix="shazam-fuzz-delivery-")) / "delivery.zip"


def test_one_input(data: bytes) -> Report:
    """The verdict the pipeline would record for this upload."""
    _PATH.write_bytes(data)
    return validate_delivery(_PATH).report


if __name__ == "__main__":
    harness.main(test_one_input, mutate.mutate_delivery)
