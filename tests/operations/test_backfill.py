"""Staleness: a published ASIN is recomputed when its stage's logic version moved on."""

from __future__ import annotations

import json

import pytest

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest import versions
from shazam_assets.ingest.delivery import validate
from shazam_assets.operations import backfill
from shazam_assets.platform import layout
from shazam_assets.platform import renderer as studio
from shazam_assets.platform.storage import open_store
from shazam_assets.qa import scoring
from tests.builders import ASIN, pack, product, store_delivery

OTHER = "B0TESTBBB2"


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("backfill-delivery")
    return pack(root, product(root))


@pytest.fixture
def store(tmp_path, zip_path):
    """ASIN published at v1 (validated, scored and rendered with today's versions); OTHER
    unpublished (its pointer names no version)."""
    s = open_store(tmp_path.as_uri())
    assert store_delivery(s, zip_path) == 1
    s.put_bytes(
        layout.published_pointer_key(ASIN), json.dumps({"asin": ASIN, "version": 1}).encode()
    )
    s.put_bytes(
        layout.published_pointer_key(OTHER), json.dumps({"asin": OTHER, "version": None}).encode()
    )
    _scores(s, ASIN, scoring.SCORING_VERSION)
    _turntable(s, ASIN, studio.RENDERER_VERSION)
    return s


def _scores(s, asin: str, version: str) -> None:
    s.put_bytes(layout.scores_key(asin, 1), json.dumps({"scoring_version": version}).encode())


def _turntable(s, asin: str, renderer: str) -> None:
    s.put_bytes(layout.turntable_manifest_key(asin, 1), json.dumps({"renderer": renderer}).encode())


@pytest.mark.parametrize("stage", backfill.STAGES)
def test_current_results_are_skipped(store, stage) -> None:
    skipped: list[tuple[str, str]] = []
    assert backfill.stale_asins(store, stage, on_skip=lambda a, why: skipped.append((a, why))) == []
    assert [a for a, _ in skipped] == [ASIN]  # OTHER is not published: not even considered
    assert backfill.published_asins(store) == [ASIN]


def test_rules_bump_makes_the_published_version_stale_until_revalidated(store, monkeypatch) -> None:
    monkeypatch.setattr(validate, "RULES_VERSION", "rules-next")
    assert backfill.stale_asins(store, "validate") == [ASIN]
    assert backfill.stale_asins(store, "qa") == []  # other stages are unaffected
    key = backfill.upload_key_of(store, ASIN, 1)
    assert key == f"uploads/{ASIN}/{key.rsplit('/', 1)[1]}"
    ingest.validate_upload(store, ingest.resolve_upload(store, ASIN, key=key))  # the re-validation
    assert backfill.stale_asins(store, "validate") == []
    assert versions.list_versions(store, ASIN) == [1]


def test_scoring_and_renderer_bumps(store, monkeypatch) -> None:
    monkeypatch.setattr(scoring, "SCORING_VERSION", "scoring-next")
    monkeypatch.setattr(studio, "RENDERER_VERSION", "studio-next")
    assert backfill.stale_asins(store, "qa") == [ASIN]
    assert backfill.stale_asins(store, "render") == [ASIN]
    _scores(store, ASIN, "scoring-next")
    _turntable(store, ASIN, "studio-next")
    assert backfill.stale_asins(store, "qa") == backfill.stale_asins(store, "render") == []


def test_missing_result_is_stale_and_unknown_stage_refused(store) -> None:
    store.delete(layout.turntable_manifest_key(ASIN, 1))
    assert backfill.stale_asins(store, "render") == [ASIN]
    assert backfill.stale_asins(store, "render", asins=[OTHER]) == []  # unpublished: skipped
    with pytest.raises(ValueError, match="unknown stage"):
        backfill.stale_asins(store, "deploy")  # type: ignore[arg-type]


def test_bridge_gaps_covers_short_gaps_between_targets_only() -> None:
    order = list("abcdefghijk")
    # gaps: c (1 key) between b and d, e-h (4 keys) between d and i; a and j-k lie outside
    assert backfill.bridge_gaps(order, ["b", "d", "i"], max_gap=1) == ["b", "c", "d", "i"]
    assert backfill.bridge_gaps(order, ["b", "d", "i"], max_gap=4) == list("bcdefghi")
    assert backfill.bridge_gaps(order, ["b", "d", "i"], max_gap=0) == ["b", "d", "i"]
    assert backfill.bridge_gaps(order, ["z", "b"], max_gap=4) == ["b", "z"]  # unknown keys kept
