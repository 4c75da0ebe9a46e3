"""The review pages over HTTP, in the studio, as a signed-in reviewer: pages, file routes,
decisions (recorded under the reviewer's identity), protections."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from shazam_assets.ingest import versions
from shazam_assets.platform import viewer
from shazam_assets.platform.layout import scores_key
from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import read_decision
from shazam_assets.qa.review.views import format_age
from shazam_assets.studio import app as studio_app
from shazam_assets.studio import review as studio_review
from tests.qa.review.conftest import (
    GLTF_BIN,
    GLTF_LAMP,
    MUG,
    SPEAKER,
    store_delivery,
    write_qa_results,
)
from tests.studio.conftest import LEAD

pytestmark = pytest.mark.integration

V = "/review/asins"
RITA = "Rita Reviewer <rita@example.com>"  # Person.display: how records name her
RITA_HTML = "Rita Reviewer &lt;rita@example.com&gt;"


def _version_file(store: LocalStore, asin: str, path: str) -> bytes:
    return store.get_bytes(versions.version_prefix(asin, 1) + path)


def _decide(session, asin: str, **form: str):
    return session.post(f"{V}/{asin}/v1/decision", data=form)


def _decision_log(store: LocalStore) -> list[str]:
    return [info.key for info in store.list("decisions/")] + [
        i.key for i in store.list("qa/") if i.key.endswith("decision.json")
    ]


# --- pages ----------------------------------------------------------------------------------


def test_pending_list_is_oldest_first_and_marks_the_overdue_version(reviewer) -> None:
    page = reviewer.get("/review")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr class=\"(overdue)?\">\s*<td><a href=\"/review/asins/(\w+)/v(\d+)\">", page.text
    )
    assert [(asin, int(v), bool(overdue)) for overdue, asin, v in rows] == [
        (SPEAKER, 1, True),
        (MUG, 1, False),
        (GLTF_LAMP, 1, False),
    ]
    assert page.text.count("badge-overdue") == 1 and "1 overdue" in page.text
    assert "1 d 6 h" in page.text and "2 h" in page.text
    assert "No decisions yet." in page.text
    assert f'id="signed-in-as">{RITA_HTML}<' in page.text  # the studio's chrome


def test_version_page_shows_product_model_photos_and_qa_scores(reviewer, review_store) -> None:
    page = reviewer.get(f"{V}/{SPEAKER}/v1")
    assert page.status_code == 200
    html = page.text
    manifest = versions.read_version_manifest(review_store, SPEAKER, 1)
    assert f"<h1>{manifest.title}</h1>" in html and "Test Artist" in html
    model = manifest.model_path
    assert f'<model-viewer id="viewer" src="{V}/{SPEAKER}/v1/files/{model}"' in html
    assert (
        '<script type="module" src="/static/model-viewer.min.js">' in html
        or not studio_review.viewer_installed()
    )
    for i in range(len(manifest.photo_paths)):
        assert f'src="{V}/{SPEAKER}/v1/photos/{i}"' in html
    assert 'id="visual-scores"' in html and "0.87" in html and "texture_resolution" in html
    assert f'src="{V}/{SPEAKER}/v1/contact-sheet"' in html
    assert 'name="verdict" value="approve"' in html and 'name="verdict" value="reject"' in html
    assert f'href="{V}/{SPEAKER}/v1/compare"' in html
    assert 'name="reviewer"' not in html and f"Deciding as <strong>{RITA_HTML}</strong>" in html
    assert str(review_store.root) not in html and "file://" not in html


def test_version_without_qa_results_says_so(reviewer) -> None:
    html = reviewer.get(f"{V}/{MUG}/v1").text
    assert "Automatic QA has not run for this version yet." in html
    assert "contact-sheet" not in html and 'id="visual-scores"' not in html


def test_model_photos_and_contact_sheet_are_served_from_the_version(reviewer, review_store) -> None:
    files = versions.read_version_manifest(review_store, SPEAKER, 1).delivery_files
    model = reviewer.get(f"{V}/{SPEAKER}/v1/files/{files['model']}")
    assert model.status_code == 200 and model.headers["content-type"] == "model/gltf-binary"
    assert model.content == _version_file(review_store, SPEAKER, files["model"])
    assert "immutable" in model.headers["cache-control"]
    photo = reviewer.get(f"{V}/{SPEAKER}/v1/photos/1")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content == _version_file(review_store, SPEAKER, files["photos"][1])
    sheet = reviewer.get(f"{V}/{SPEAKER}/v1/contact-sheet")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")


def test_gltf_model_is_served_with_only_its_listed_resources(reviewer, review_store) -> None:
    gltf = reviewer.get(f"{V}/{GLTF_LAMP}/v1/files/model/lamp.gltf")
    assert gltf.status_code == 200 and gltf.headers["content-type"] == "model/gltf+json"
    assert json.loads(gltf.content)["buffers"][0]["uri"] == GLTF_BIN.replace(" ", "%20")
    resource = reviewer.get(f"{V}/{GLTF_LAMP}/v1/files/model/{GLTF_BIN.replace(' ', '%20')}")
    assert resource.status_code == 200
    assert resource.content == _version_file(review_store, GLTF_LAMP, f"model/{GLTF_BIN}")
    listed_but_not_the_model = reviewer.get(f"{V}/{GLTF_LAMP}/v1/files/manifest.json")
    assert listed_but_not_the_model.status_code == 404
    assert reviewer.get(f"{V}/{GLTF_LAMP}/v1/files/photos/lamp_front.jpg").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"{V}/B0NOTHERE1/v1",
        f"{V}/b0review01/v1",
        f"{V}/{SPEAKER}/v2",
        f"{V}/{SPEAKER}/v0",
        f"{V}/{SPEAKER}/vlatest",
        f"{V}/{SPEAKER}/v1/photos/2",
        f"{V}/{SPEAKER}/v1/photos/-1",
        f"{V}/{MUG}/v1/contact-sheet",
        f"{V}/{SPEAKER}/v1/files/version.json",
        f"{V}/{SPEAKER}/v1/files/manifest.json",
        f"{V}/{SPEAKER}/v1/files/..%2F..%2F..%2Fqa%2F{SPEAKER}%2Fv1%2Fscores.json",
        f"{V}/{SPEAKER}/v1/files/model%2F..%2Fversion.json",
        f"{V}/{SPEAKER}/v1/files/%2Fetc%2Fpasswd",
        f"{V}/..%2F..%2Fqa/v1",
        f"{V}/{SPEAKER}/v9/compare",
        "/static/..%2Fapp.py",
        "/static/..%2F..%2Fqa%2Freview%2Fhandlers.py",
        "/static/node_modules/three/package.json",
    ],
)
def test_unknown_malformed_or_escaping_urls_are_404(reviewer, url) -> None:
    response = reviewer.get(url)
    assert response.status_code == 404, url
    assert "text/html" in response.headers["content-type"] and '"sha256"' not in response.text


def test_contact_sheet_key_outside_the_version_qa_folder_is_not_served(
    reviewer, review_store
) -> None:
    scores = {"contact_sheet": f"assets/{MUG}/v1/version.json"}
    review_store.put_bytes(scores_key(MUG, 1), json.dumps(scores).encode())
    assert reviewer.get(f"{V}/{MUG}/v1/contact-sheet").status_code == 404
    assert "contact-sheet" not in reviewer.get(f"{V}/{MUG}/v1").text


def test_viewer_not_installed_shows_the_install_command(reviewer, monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(studio_app.STATIC_FILES, "model-viewer.min.js", tmp_path / "missing.js")
    html = reviewer.get(f"{V}/{MUG}/v1").text
    assert viewer.INSTALL_HINT in html and "<model-viewer" not in html
    assert reviewer.get("/static/model-viewer.min.js").status_code == 404


def test_static_files_include_model_viewer_when_installed(reviewer) -> None:
    if not studio_review.viewer_installed():
        pytest.skip(f"model-viewer is not installed; run `{viewer.INSTALL_HINT}`")
    script = reviewer.get("/static/model-viewer.min.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert b'customElements.define("model-viewer"' in script.content
    assert reviewer.get("/static/review.css").status_code == 200
    assert reviewer.get("/static/review.js").status_code == 200


# --- decisions ------------------------------------------------------------------------------


def test_reject_without_a_note_shows_the_error_and_writes_nothing(reviewer, review_store) -> None:
    response = _decide(reviewer, SPEAKER, verdict="reject", notes="  ")
    assert response.status_code == 422
    assert "QA_NOTE_REQUIRED" in response.text and 'role="alert"' in response.text
    assert read_decision(review_store, SPEAKER, 1) is None and _decision_log(review_store) == []


def test_a_name_in_the_form_is_ignored_the_decision_is_the_signed_in_reviewers(
    reviewer, review_store
) -> None:
    response = _decide(reviewer, MUG, verdict="approve", reviewer="Rita (the real QA lead)")
    assert response.status_code == 303
    decision = read_decision(review_store, MUG, 1)
    assert (decision.reviewer, decision.source) == (RITA, "studio")


def test_approve_records_the_decision_and_confirms_it(reviewer, review_store) -> None:
    response = _decide(reviewer, SPEAKER, verdict="approve", notes="")
    assert response.status_code == 303
    assert response.headers["location"] == f"{V}/{SPEAKER}/v1?recorded=1#decision"
    decision = read_decision(review_store, SPEAKER, 1)
    assert (decision.verdict.value, decision.reviewer, decision.source) == (
        "approve",
        RITA,
        "studio",
    )
    assert review_store.exists(f"decisions/{SPEAKER}/v1.json")
    confirmed = reviewer.get(response.headers["location"]).text
    assert "Your decision was recorded." in confirmed and 'name="verdict"' not in confirmed
    assert f'href="{V}/{MUG}/v1">Next pending' in confirmed
    listing = reviewer.get("/review").text
    assert f'<a href="{V}/{SPEAKER}/v1">' not in listing.split("Recently decided")[0]
    assert "Approved" in listing.split("Recently decided")[1] and RITA_HTML in listing


def test_a_second_decision_shows_already_decided_and_keeps_the_first(
    studio, reviewer, review_store
) -> None:
    assert _decide(reviewer, MUG, verdict="approve", notes="").status_code == 303
    lead = studio.sign_in(LEAD)
    again = _decide(lead, MUG, verdict="reject", notes="the handle is missing")
    assert again.status_code == 409
    assert "QA_ALREADY_DECIDED" in again.text and f"already approved by {RITA_HTML}" in again.text
    decision = read_decision(review_store, MUG, 1)
    assert (decision.verdict.value, decision.reviewer) == ("approve", RITA)


def test_approval_blocked_by_automatic_checks(reviewer, review_store, tmp_path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(reviewer.get(f"{V}/{MUG}/v1/photos/0").content)
    write_qa_results(review_store, MUG, 1, photos=[photo], blocking=["QA_SCALE_WRONG"])
    page = reviewer.get(f"{V}/{MUG}/v1").text
    assert "QA_SCALE_WRONG" in page and re.search(r'value="approve"[^>]*\s+disabled', page)
    refused = _decide(reviewer, MUG, verdict="approve", notes="")
    assert refused.status_code == 409 and "QA_BLOCKED_BY_CHECKS" in refused.text
    assert _decide(reviewer, MUG, verdict="reject", notes="scale is wrong").status_code == 303


def test_superseded_version_points_to_the_newest(reviewer, review_store, tmp_path) -> None:
    newer = tmp_path / "again.zip"
    newer.write_bytes(review_store.get_bytes(f"uploads/{MUG}/mug.zip"))
    assert store_delivery(review_store, newer, asin=MUG, name="again.zip") == 2
    page = reviewer.get(f"{V}/{MUG}/v1").text
    assert (
        'id="superseded"' in page
        and f'href="{V}/{MUG}/v2"' in page
        and 'name="verdict"' not in page
    )
    refused = _decide(reviewer, MUG, verdict="approve", notes="")
    assert refused.status_code == 409 and "QA_SUPERSEDED" in refused.text


def test_unknown_verdict_is_refused(reviewer, review_store) -> None:
    assert _decide(reviewer, MUG, verdict="publish", notes="").status_code == 422
    assert _decision_log(review_store) == []


# --- protections ----------------------------------------------------------------------------


def test_decisions_are_post_only(reviewer) -> None:
    assert reviewer.get(f"{V}/{MUG}/v1/decision?verdict=approve").status_code == 405


def test_signed_out_decisions_are_refused(studio, review_store) -> None:
    from tests.studio.conftest import Session

    response = Session(studio.base).post(f"{V}/{MUG}/v1/decision", data={"verdict": "approve"})
    assert response.status_code == 401 and _decision_log(review_store) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1:9"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_refused(reviewer, review_store, headers) -> None:
    response = reviewer.post(f"{V}/{MUG}/v1/decision", data={"verdict": "approve"}, headers=headers)
    assert response.status_code == 403 and "Refused" in response.text
    assert _decision_log(review_store) == []


def test_a_browser_post_marked_cross_site_is_refused_even_with_our_origin(
    reviewer, review_store
) -> None:
    headers = {"Sec-Fetch-Site": "cross-site"}  # Origin: our own base (Session sets it)
    response = reviewer.post(f"{V}/{MUG}/v1/decision", data={"verdict": "approve"}, headers=headers)
    assert response.status_code == 403 and _decision_log(review_store) == []


def test_same_origin_post_is_accepted(reviewer, review_store) -> None:
    headers = {"Origin": reviewer.base, "Sec-Fetch-Site": "same-origin"}
    response = reviewer.post(f"{V}/{MUG}/v1/decision", data={"verdict": "approve"}, headers=headers)
    assert response.status_code == 303 and read_decision(review_store, MUG, 1) is not None


def test_foreign_host_header_is_refused(reviewer) -> None:
    assert reviewer.get("/review", headers={"host": "attacker.example"}).status_code == 400


def test_oversized_or_non_form_bodies_are_refused(reviewer, review_store) -> None:
    big = reviewer.post(f"{V}/{MUG}/v1/decision", data={"verdict": "reject", "notes": "x" * 70_000})
    assert big.status_code == 413
    as_json = reviewer.post(f"{V}/{MUG}/v1/decision", json={"verdict": "approve"})
    assert as_json.status_code == 415
    latin1 = reviewer.post(
        f"{V}/{MUG}/v1/decision",
        content=b"verdict=reject&notes=Jos\xe9",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert latin1.status_code == 400
    assert _decision_log(review_store) == []


def test_pages_carry_security_headers(reviewer) -> None:
    headers = reviewer.get("/review").headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=12), "12 min"),
        (timedelta(hours=3, minutes=5), "3 h 5 min"),
        (timedelta(hours=30), "1 d 6 h"),
        (timedelta(days=2), "2 d"),
        (timedelta(minutes=-5), "under a minute"),
    ],
)
def test_ages_read_like_a_person_would_say_them(age, text) -> None:
    assert format_age(age) == text


def test_error_pages_escape_what_the_url_carried(reviewer) -> None:
    page = reviewer.get(f"{V}/%3Cb%20onmouseover%3Dx%3E/v1")
    assert page.status_code == 404
    assert "<b onmouseover" not in page.text and "&lt;b onmouseover=x&gt;" in page.text
