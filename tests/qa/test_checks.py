"""Automatic QA on real stored versions: scores, contact sheet, size, placement, blocking."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.qa import checks
from shazam_assets.qa.decisions import DecisionError, read_scores, record_decision
from tests.builders import ASIN, pack, product

TOL = checks.PlacementTolerances()


def _store(store, zip_path, name="d.zip") -> int:
    store.put_file(f"uploads/{ASIN}/{name}", zip_path)
    upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/{name}")
    assert ingest.validate_upload(store, upload).report.ok
    return ingest.store_upload(store, upload).version


def test_a_good_version_passes_and_gets_a_contact_sheet(local_store, tmp_path) -> None:
    version = _store(local_store, pack(tmp_path, product(tmp_path)))
    result = checks.run_automatic_qa(local_store, ASIN, version)
    assert {c.name: c.passed for c in result.checks} == {
        "qa_visual_match": True,
        "qa_real_world_size": True,
        "qa_placement": True,
    }
    assert result.blocking_errors == () and read_scores(local_store, ASIN, version) == result
    assert result.visual is not None and len(result.visual.photos) == len(product(tmp_path).photos)
    assert {c.to_json()["severity"] for c in result.checks} == {
        "warn"
    }  # scores.json's own spelling, as before
    assert result.contact_sheet is not None
    sheet = Image.open(io.BytesIO(local_store.get_bytes(result.contact_sheet)))
    assert sheet.format == "PNG" and sheet.width > sheet.height / 4


def _floating_box(tmp_path):
    box = trimesh.creation.box(extents=(0.4, 0.3, 0.2))
    box.apply_translation((0, 0.15 + 0.25, 0))  # 25 cm above the ground plane
    box.unmerge_vertices()
    uv = np.random.default_rng(2).random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(
        uv=uv, image=Image.new("RGB", (64, 64), (180, 60, 40))
    )
    path = tmp_path / "floating.glb"
    path.write_bytes(box.export(file_type="glb"))
    return path


def test_an_error_blocks_approval_but_not_rejection(local_store, tmp_path) -> None:
    prod = product(tmp_path)
    delivery = pack(
        tmp_path, prod, model=_floating_box(tmp_path), dimensions=(0.4, 0.3, 0.2), name="f.zip"
    )
    version = _store(local_store, delivery)
    result = checks.run_automatic_qa(local_store, ASIN, version)
    assert "qa_placement" in result.blocking_errors
    placement = next(c for c in result.checks if c.name == "qa_placement")
    assert placement.severity == checks.ERROR and "floats" in placement.message
    with pytest.raises(DecisionError) as blocked:
        record_decision(local_store, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    assert blocked.value.code == "QA_BLOCKED_BY_CHECKS"
    record_decision(
        local_store,
        asin=ASIN,
        version=version,
        verdict="reject",
        reviewer="Rita",
        notes="Sits 25 cm above the ground",
    )


@pytest.mark.parametrize(
    ("bounds", "passed", "severity"),
    [
        ([[-0.1, 0.0, -0.05], [0.1, 0.3, 0.05]], True, checks.WARN),
        ([[-0.1, 0.0, -0.05], [0.1, 0.31, 0.05]], False, checks.WARN),  # 3.3% taller
        ([[-0.1, 0.0, -0.05], [0.1, 0.36, 0.05]], False, checks.ERROR),  # 20% taller
    ],
)
def test_size_tolerances(bounds, passed, severity) -> None:
    outcome = checks.check_size(bounds, (0.2, 0.3, 0.1), TOL)
    assert (outcome.passed, outcome.severity) == (passed, severity)


@pytest.mark.parametrize(
    ("bounds", "passed", "severity", "words"),
    [
        ([[-0.1, 0.0, -0.05], [0.1, 0.3, 0.05]], True, checks.WARN, "resting"),
        ([[-0.1, 0.01, -0.05], [0.1, 0.31, 0.05]], False, checks.WARN, "not on the ground"),
        ([[-0.1, -0.2, -0.05], [0.1, 0.1, 0.05]], False, checks.ERROR, "sinks"),
        ([[0.0, 0.0, -0.05], [0.2, 0.3, 0.05]], False, checks.WARN, "centred at x=+0.100"),
        ([[-0.15, 0.0, -0.05], [0.15, 0.2, 0.05]], False, checks.ERROR, "+Y must be up"),
    ],
)
def test_placement_rules(bounds, passed, severity, words) -> None:
    outcome = checks.check_placement(bounds, (0.2, 0.3, 0.1), TOL)
    assert (outcome.passed, outcome.severity) == (passed, severity) and words in outcome.message


def _replace_stored(store, version: int, path: str, data: bytes) -> None:
    """A version stored before today's validation rules: its files are what they are."""
    store.put_bytes(f"assets/{ASIN}/v{version}/{path}", data)


@pytest.mark.parametrize(
    ("target", "code"),
    [("photo", "IMAGE_TOO_MANY_PIXELS"), ("model", "RENDER_MODEL_UNREADABLE")],
)
def test_a_version_qa_cannot_look_at_gets_a_blocking_verdict_not_a_crash(
    local_store, tmp_path, target, code
) -> None:
    from tests.image_bombs import png_bomb

    version = _store(local_store, pack(tmp_path, product(tmp_path)))
    listed = json.loads(local_store.get_bytes(f"assets/{ASIN}/v{version}/version.json"))[
        "delivery_manifest"
    ]["files"]
    if target == "photo":
        _replace_stored(local_store, version, listed["photos"][0], png_bomb(13000, 13000))
    else:
        _replace_stored(local_store, version, listed["model"], b"not a model")
    result = checks.run_automatic_qa(local_store, ASIN, version)
    visual = next(c for c in result.checks if c.name == "qa_visual_match")
    assert not visual.passed and visual.severity == checks.ERROR
    assert visual.metadata["code"] == code and code in visual.message
    assert "qa_visual_match" in result.blocking_errors and result.contact_sheet is None
    assert read_scores(local_store, ASIN, version) == result
    with pytest.raises(DecisionError) as refused:
        record_decision(local_store, asin=ASIN, version=version, verdict="approve", reviewer="Rita")
    assert refused.value.code == "QA_BLOCKED_BY_CHECKS"


def test_check_severities_are_the_shared_enum_and_stored_as_before() -> None:
    """QA outcomes carry the Severity that delivery validation uses; scores.json keeps writing
    "warn" and "error", and both spellings read back as the enum."""
    from shazam_assets.platform.errors import Severity

    assert (checks.WARN, checks.ERROR) == (Severity.WARNING, Severity.ERROR)
    outcome = checks.CheckOutcome("qa_placement", False, checks.WARN, "off centre")
    assert outcome.to_json()["severity"] == "warn"
    assert (
        checks.CheckOutcome("qa_placement", False, checks.ERROR, "floats").to_json()["severity"]
        == "error"
    )
    assert (
        Severity("warn") is Severity("warning") is Severity.WARNING
        and Severity("error") is Severity.ERROR
    )
