"""The review app through Starlette's TestClient: pages, file routes, decisions, protections."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from shazam_assets.ingest import versions
from shazam_assets.platform.layout import scores_key
from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import read_decision
from shazam_assets.qa.review import app as review_app
from shazam_assets.qa.review import create_app
from shazam_assets.qa.review.views import format_age
from tests.qa.review.conftest import (
    GLTF_BIN,
    GLTF_LAMP,
    MUG,
    SLA,
    SPEAKER,
    store_delivery,
    write_qa_results,
)

BASE = "http://localhost"


@pytest.fixture
def client(review_store: LocalStore) -> TestClient:
    return TestClient(create_app(review_store, sla=SLA), base_url=BASE, follow_redirects=False)


def _version_file(store: LocalStore, asin: str, path: str) -> bytes:
    return store.get_bytes(versions.version_prefix(asin, 1) + path)


def _decide(client: TestClient, asin: str, **form: str):
    return client.post(f"/asins/{asin}/v1/decision", data=form)


def _decision_log(store: LocalStore) -> list[str]:
    return [info.key for info in store.list("decisions/")] + [
        i.key for i in store.list("qa/") if i.key.endswith("decision.json")
    ]


# --- pages ----------------------------------------------------------------------------------


def test_pending_list_is_oldest_first_and_marks_the_overdue_version(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr class=\"(overdue)?\">\s*<td><a href=\"/asins/(\w+)/v(\d+)\">", page.text
    )
    assert [(asin, int(v), bool(overdue)) for overdue, asin, v in rows] == [
        (SPEAKER, 1, True),
        (MUG, 1, False),
        (GLTF_LAMP, 1, False),
    ]
    assert page.text.count("badge-overdue") == 1 and "1 overdue" in page.text
    assert "1 d 6 h" in page.text and "2 h" in page.text
    assert "No decisions yet." in page.text


def test_version_page_shows_product_model_photos_and_qa_scores(client, review_store) -> None:
    page = client.get(f"/asins/{SPEAKER}/v1")
    assert page.status_code == 200
    html = page.text
    manifest = versions.read_version_manifest(review_store, SPEAKER, 1)
    title = manifest.title
    assert f"<h1>{title}</h1>" in html and "Test Artist" in html
    model = manifest.model_path
    assert f'<model-viewer id="viewer" src="/asins/{SPEAKER}/v1/files/{model}"' in html
    assert (
        '<script type="module" src="/static/model-viewer.min.js">' in html
        or not review_app.viewer_installed()
    )
    for i in range(len(manifest.photo_paths)):
        assert f'src="/asins/{SPEAKER}/v1/photos/{i}"' in html
    assert 'id="visual-scores"' in html and "0.87" in html and "texture_resolution" in html
    assert f'src="/asins/{SPEAKER}/v1/contact-sheet"' in html
    assert 'name="verdict" value="approve"' in html and 'name="verdict" value="reject"' in html
    assert str(review_store.root) not in html and "file://" not in html


def test_version_without_qa_results_says_so(client) -> None:
    html = client.get(f"/asins/{MUG}/v1").text
    assert "Automatic QA has not run for this version yet." in html
    assert "contact-sheet" not in html and 'id="visual-scores"' not in html


def test_model_photos_and_contact_sheet_are_served_from_the_version(client, review_store) -> None:
    files = versions.read_version_manifest(review_store, SPEAKER, 1).delivery_files
    model = client.get(f"/asins/{SPEAKER}/v1/files/{files['model']}")
    assert model.status_code == 200 and model.headers["content-type"] == "model/gltf-binary"
    assert model.content == _version_file(review_store, SPEAKER, files["model"])
    assert "immutable" in model.headers["cache-control"]
    photo = client.get(f"/asins/{SPEAKER}/v1/photos/1")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content == _version_file(review_store, SPEAKER, files["photos"][1])
    sheet = client.get(f"/asins/{SPEAKER}/v1/contact-sheet")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")


def test_gltf_model_is_served_with_only_its_listed_resources(client, review_store) -> None:
    gltf = client.get(f"/asins/{GLTF_LAMP}/v1/files/model/lamp.gltf")
    assert gltf.status_code == 200 and gltf.headers["content-type"] == "model/gltf+json"
    assert json.loads(gltf.content)["buffers"][0]["uri"] == GLTF_BIN.replace(" ", "%20")
    resource = client.get(f"/asins/{GLTF_LAMP}/v1/files/model/{GLTF_BIN.replace(' ', '%20')}")
    assert resource.status_code == 200
    assert resource.content == _version_file(review_store, GLTF_LAMP, f"model/{GLTF_BIN}")
    listed_but_not_the_model = client.get(f"/asins/{GLTF_LAMP}/v1/files/manifest.json")
    assert listed_but_not_the_model.status_code == 404
    assert client.get(f"/asins/{GLTF_LAMP}/v1/files/photos/lamp_front.jpg").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/asins/B0NOTHERE1/v1",
        "/asins/b0review01/v1",
        f"/asins/{SPEAKER}/v2",
        f"/asins/{SPEAKER}/v0",
        f"/asins/{SPEAKER}/vlatest",
        f"/asins/{SPEAKER}/v1/photos/2",
        f"/asins/{SPEAKER}/v1/photos/-1",
        f"/asins/{MUG}/v1/contact-sheet",
        f"/asins/{SPEAKER}/v1/files/version.json",
        f"/asins/{SPEAKER}/v1/files/manifest.json",
        f"/asins/{SPEAKER}/v1/files/..%2F..%2F..%2Fqa%2F{SPEAKER}%2Fv1%2Fscores.json",
        f"/asins/{SPEAKER}/v1/files/model%2F..%2Fversion.json",
        f"/asins/{SPEAKER}/v1/files/%2Fetc%2Fpasswd",
        "/asins/..%2F..%2Fqa/v1",
        "/static/..%2Fapp.py",
        "/static/node_modules/three/package.json",
    ],
)
def test_unknown_malformed_or_escaping_urls_are_404(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 404, url
    assert "text/html" in response.headers["content-type"] and '"sha256"' not in response.text


def test_contact_sheet_key_outside_the_version_qa_folder_is_not_served(
    client, review_store
) -> None:
    scores = {"contact_sheet": f"assets/{MUG}/v1/version.json"}
    review_store.put_bytes(scores_key(MUG, 1), json.dumps(scores).encode())
    assert client.get(f"/asins/{MUG}/v1/contact-sheet").status_code == 404
    assert "contact-sheet" not in client.get(f"/asins/{MUG}/v1").text


def test_viewer_not_installed_shows_the_install_command(client, monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(review_app.STATIC_FILES, "model-viewer.min.js", tmp_path / "missing.js")
    html = client.get(f"/asins/{MUG}/v1").text
    assert review_app.INSTALL_HINT in html and "<model-viewer" not in html
    assert client.get("/static/model-viewer.min.js").status_code == 404


def test_static_files_include_model_viewer_when_installed(client) -> None:
    if not review_app.viewer_installed():
        pytest.skip(f"model-viewer is not installed; run `{review_app.INSTALL_HINT}`")
    script = client.get("/static/model-viewer.min.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert b'customElements.define("model-viewer"' in script.content
    assert client.get("/static/review.css").status_code == 200


# --- decisions ------------------------------------------------------------------------------


def test_reject_without_a_note_shows_the_error_and_writes_nothing(client, review_store) -> None:
    response = _decide(client, SPEAKER, verdict="reject", reviewer="Rita Reviewer", notes="  ")
    assert response.status_code == 422
    assert "QA_NOTE_REQUIRED" in response.text and 'role="alert"' in response.text
    assert 'value="Rita Reviewer"' in response.text  # what the reviewer typed is kept
    assert read_decision(review_store, SPEAKER, 1) is None and _decision_log(review_store) == []


def test_decision_without_a_reviewer_name_is_refused(client, review_store) -> None:
    response = _decide(client, MUG, verdict="approve", reviewer=" ", notes="")
    assert response.status_code == 422 and "QA_REVIEWER_REQUIRED" in response.text
    assert _decision_log(review_store) == []


def test_approve_records_the_decision_and_confirms_it(client, review_store) -> None:
    response = _decide(client, SPEAKER, verdict="approve", reviewer="Rita Reviewer", notes="")
    assert response.status_code == 303
    assert response.headers["location"] == f"/asins/{SPEAKER}/v1?recorded=1#decision"
    decision = read_decision(review_store, SPEAKER, 1)
    assert (decision.verdict.value, decision.reviewer, decision.source) == (
        "approve",
        "Rita Reviewer",
        "review-page",
    )
    assert review_store.exists(f"decisions/{SPEAKER}/v1.json")
    confirmed = client.get(response.headers["location"]).text
    assert "Your decision was recorded." in confirmed and 'name="verdict"' not in confirmed
    assert f'href="/asins/{MUG}/v1">Next pending' in confirmed
    assert 'value="Rita Reviewer"' in client.get(f"/asins/{MUG}/v1").text  # remembered (cookie)
    listing = client.get("/").text
    assert f'<a href="/asins/{SPEAKER}/v1">' not in listing.split("Recently decided")[0]
    assert "Approved" in listing.split("Recently decided")[1] and "Rita Reviewer" in listing


def test_a_second_decision_shows_already_decided_and_keeps_the_first(client, review_store) -> None:
    assert _decide(client, MUG, verdict="approve", reviewer="Ann", notes="").status_code == 303
    again = _decide(client, MUG, verdict="reject", reviewer="Bob", notes="the handle is missing")
    assert again.status_code == 409
    assert "QA_ALREADY_DECIDED" in again.text and "already approved by Ann" in again.text
    decision = read_decision(review_store, MUG, 1)
    assert (decision.verdict.value, decision.reviewer) == ("approve", "Ann")


def test_approval_blocked_by_automatic_checks(client, review_store, tmp_path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(client.get(f"/asins/{MUG}/v1/photos/0").content)
    write_qa_results(review_store, MUG, 1, photos=[photo], blocking=["QA_SCALE_WRONG"])
    page = client.get(f"/asins/{MUG}/v1").text
    assert "QA_SCALE_WRONG" in page and re.search(r'value="approve"[^>]*\s+disabled', page)
    refused = _decide(client, MUG, verdict="approve", reviewer="Ann", notes="")
    assert refused.status_code == 409 and "QA_BLOCKED_BY_CHECKS" in refused.text
    assert (
        _decide(client, MUG, verdict="reject", reviewer="Ann", notes="scale is wrong").status_code
        == 303
    )


def test_superseded_version_points_to_the_newest(client, review_store, tmp_path) -> None:
    newer = tmp_path / "again.zip"
    newer.write_bytes(review_store.get_bytes(f"uploads/{MUG}/mug.zip"))
    assert store_delivery(review_store, newer, asin=MUG, name="again.zip") == 2
    page = client.get(f"/asins/{MUG}/v1").text
    assert (
        'id="superseded"' in page
        and f'href="/asins/{MUG}/v2"' in page
        and 'name="verdict"' not in page
    )
    refused = _decide(client, MUG, verdict="approve", reviewer="Ann", notes="")
    assert refused.status_code == 409 and "QA_SUPERSEDED" in refused.text


def test_unknown_verdict_is_refused(client, review_store) -> None:
    assert _decide(client, MUG, verdict="publish", reviewer="Ann", notes="").status_code == 422
    assert _decision_log(review_store) == []


# --- protections ----------------------------------------------------------------------------


def test_decisions_are_post_only(client) -> None:
    assert client.get(f"/asins/{MUG}/v1/decision?verdict=approve&reviewer=Ann").status_code == 405


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:9999"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_refused(client, review_store, headers) -> None:
    response = client.post(
        f"/asins/{MUG}/v1/decision", data={"verdict": "approve", "reviewer": "Ann"}, headers=headers
    )
    assert response.status_code == 403 and "Decision refused" in response.text
    assert _decision_log(review_store) == []


def test_same_origin_post_is_accepted(client, review_store) -> None:
    headers = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    response = client.post(
        f"/asins/{MUG}/v1/decision", data={"verdict": "approve", "reviewer": "Ann"}, headers=headers
    )
    assert response.status_code == 303 and read_decision(review_store, MUG, 1) is not None


def test_foreign_host_header_is_refused(review_store) -> None:
    rebound = TestClient(create_app(review_store, sla=SLA), base_url="http://attacker.example")
    assert rebound.get("/").status_code == 400


def test_oversized_or_non_form_bodies_are_refused(client, review_store) -> None:
    big = client.post(
        f"/asins/{MUG}/v1/decision",
        data={"verdict": "reject", "reviewer": "A", "notes": "x" * 70_000},
    )
    assert big.status_code == 413
    as_json = client.post(f"/asins/{MUG}/v1/decision", json={"verdict": "approve", "reviewer": "A"})
    assert as_json.status_code == 415
    assert _decision_log(review_store) == []


def test_pages_carry_security_headers(client) -> None:
    headers = client.get("/").headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]


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


def test_error_pages_escape_what_the_url_carried(client) -> None:
    page = client.get("/asins/%3Cb%20onmouseover%3Dx%3E/v1")
    assert page.status_code == 404
    assert "<b onmouseover" not in page.text and "&lt;b onmouseover=x&gt;" in page.text
