"""The lead's board pages through the catalogue: a page costs the same whatever its size."""

from __future__ import annotations

from pathlib import Path

import pytest

from shazam_assets.ingest.scans import register_scan
from shazam_assets.platform.storage import LocalStore
from shazam_assets.studio import pages
from tests.builders import upload_scan
from tests.studio.conftest import ARTIST, LEAD

ASINS = [f"B0BOARD{n:03d}" for n in range(7)]


@pytest.fixture
def studio(run_studio, tmp_path: Path, monkeypatch):
    (tmp_path / "store").mkdir()
    store = LocalStore(tmp_path / "store")
    for asin in ASINS:
        upload_scan(store, tmp_path, asin=asin)
        register_scan(store, asin, now=pages.datetime.now(pages.UTC))
    monkeypatch.setattr(pages, "BOARD_PAGE", 3)
    return run_studio(store)


def _asins(html: str) -> list[str]:
    return [a for a in ASINS if f'href="/asins/{a}"' in html]


def test_the_board_pages_through_every_asin_once(studio) -> None:
    lead = studio.sign_in(LEAD)
    seen, url = [], "/board"
    for expected in (ASINS[0:3], ASINS[3:6], ASINS[6:7]):
        page = lead.get(url)
        assert page.status_code == 200
        assert _asins(page.text) == expected
        seen += expected
        if expected[-1] != ASINS[-1]:
            assert f'href="/board?after={expected[-1]}"' in page.text
            url = f"/board?after={expected[-1]}"
    assert 'id="board-next"' not in page.text  # the last page offers no next one
    assert seen == ASINS


def test_a_bad_start_is_a_clear_404_and_artists_still_have_no_board(studio) -> None:
    lead = studio.sign_in(LEAD)
    page = lead.get("/board?after=../../etc")
    assert page.status_code == 404 and "is not an ASIN" in page.text
    assert studio.sign_in(ARTIST).get("/board").status_code == 403
