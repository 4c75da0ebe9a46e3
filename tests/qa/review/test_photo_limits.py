"""The review pages never hand a reviewer's browser a decompression bomb: a stored photo whose
header declares more pixels than SHAZAM decodes (a version stored before validation checked
it) is refused with its code, read from the header only, over HTTP against `shazam review`
(which now starts the studio: the reviewer signs in through the real OpenID provider)."""

from __future__ import annotations

import pytest

from shazam_assets.ingest import versions
from shazam_assets.platform.storage import LocalStore
from tests.image_bombs import png_bomb
from tests.qa.review.conftest import SPEAKER, shazam_review
from tests.studio.conftest import REVIEWER, sign_in

pytestmark = pytest.mark.integration


def test_a_photo_declaring_too_many_pixels_is_not_served(
    review_store: LocalStore, oidc_issuer: str
) -> None:
    photos = versions.read_version_manifest(review_store, SPEAKER, 1).photo_paths
    review_store.put_bytes(versions.version_prefix(SPEAKER, 1) + photos[0], png_bomb(13000, 13000))
    with shazam_review(review_store.root, oidc_issuer) as (base, printed):
        reviewer = sign_in(base, REVIEWER)
        page = f"/review/asins/{SPEAKER}/v1"
        assert reviewer.get(page).status_code == 200
        refused = reviewer.get(page + "/photos/0")
        assert refused.status_code == 422
        assert b"IMAGE_TOO_MANY_PIXELS" in refused.content and b"169,000,000" in refused.content
        assert reviewer.get(page + "/photos/1").status_code == 200  # the others are shown
    assert any("The review page is part of the studio now" in line for line in printed)
