"""Review in the studio over HTTP with signed-in sessions: the decision carries the identity and
is audited, people without the role are refused and nothing is recorded, the comparison with
the previous version, and a lead's roll back and unpublish."""

from __future__ import annotations

import json
import re

import pytest

from shazam_assets.platform import audit
from shazam_assets.platform.layout import scores_key
from shazam_assets.platform.versions import published_version
from shazam_assets.qa.decisions import promote, read_decision, record_decision
from tests.qa.review.conftest import (  # noqa: F401 (fixtures)
    MUG,
    SPEAKER,
    review_store,
    review_store_template,
    store_delivery,
)
from tests.studio.conftest import ARTIST, LEAD, NOBODY, OPERATOR, REVIEWER

pytestmark = pytest.mark.integration

RITA = "Rita Reviewer <rita@example.com>"


@pytest.fixture
def studio(run_studio, review_store):  # noqa: F811
    return run_studio(review_store)


def _decisions(store) -> list[str]:
    return [info.key for info in store.list("decisions/")]


def _events(store, action: str) -> list[audit.AuditEvent]:
    return [e for e in audit.recent(store) if e.action == action]


def _second_version(store, tmp_path) -> int:
    """MUG v2: the same delivery uploaded again (what a fixed delivery looks like here)."""
    again = tmp_path / "again.zip"
    again.write_bytes(store.get_bytes(f"uploads/{MUG}/mug.zip"))
    return store_delivery(store, again, asin=MUG, name="again.zip")


def _approve_and_publish(store, version: int) -> None:
    record_decision(
        store, asin=MUG, version=version, verdict="approve", reviewer="Pat", source="cli"
    )
    promote(store, MUG, version)


# --- the decision -----------------------------------------------------------------------------


def test_a_rejection_is_recorded_as_the_signed_in_reviewer_and_audited(studio) -> None:
    rita = studio.sign_in(REVIEWER)
    response = rita.post(
        f"/review/asins/{SPEAKER}/v1/decision",
        data={"verdict": "reject", "notes": "The grille is stretched."},
    )
    assert response.status_code == 303
    decision = read_decision(studio.store, SPEAKER, 1)
    assert (decision.verdict.value, decision.reviewer, decision.source, decision.notes) == (
        "reject",
        RITA,
        "studio",
        "The grille is stretched.",
    )
    (event,) = _events(studio.store, "qa.decide")
    assert (event.actor.sub, event.roles, event.target) == (
        REVIEWER,
        ("reviewer",),
        f"{SPEAKER} v1",
    )
    assert event.details["verdict"] == "reject" and event.details["version"] == 1
    assert event.details["notes"] == "The grille is stretched."


@pytest.mark.parametrize("who", [ARTIST, NOBODY])
def test_people_who_may_not_review_are_refused_and_nothing_is_recorded(studio, who) -> None:
    session = studio.sign_in(who)
    assert session.get("/review").status_code == 403
    assert session.get(f"/review/asins/{MUG}/v1").status_code == 403
    assert session.get(f"/review/asins/{MUG}/v1/photos/0").status_code == 403
    assert session.get(f"/review/asins/{MUG}/v1/compare").status_code == 403
    refused = session.post(f"/review/asins/{MUG}/v1/decision", data={"verdict": "approve"})
    assert refused.status_code == 403
    assert _decisions(studio.store) == [] and _events(studio.store, "qa.decide") == []


def test_a_cross_site_decision_is_refused_and_nothing_is_recorded(studio) -> None:
    rita = studio.sign_in(REVIEWER)
    refused = rita.post(
        f"/review/asins/{MUG}/v1/decision",
        data={"verdict": "approve"},
        headers={"origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert _decisions(studio.store) == [] and _events(studio.store, "qa.decide") == []


def test_signed_out_the_review_pages_send_to_sign_in(studio) -> None:
    from tests.studio.conftest import Session

    anonymous = Session(studio.base)
    page = anonymous.get(f"/review/asins/{MUG}/v1")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


# --- the comparison ---------------------------------------------------------------------------


def test_compare_shows_both_versions_side_by_side_with_the_score_differences(
    studio, tmp_path
) -> None:
    store = studio.store
    assert _second_version(store, tmp_path) == 2
    for version, score, passed in ((1, 0.80, False), (2, 0.91, True)):
        scores = {
            "visual": {"score": score, "photos": []},
            "checks": [{"name": "scale_plausible", "passed": passed, "severity": "error"}],
            "blocking_errors": [],
        }
        store.put_bytes(scores_key(MUG, version), json.dumps(scores).encode())
    rita = studio.sign_in(REVIEWER)
    version_page = rita.get(f"/review/asins/{MUG}/v2").text
    assert f'href="/review/asins/{MUG}/v2/compare"' in version_page
    page = rita.get(f"/review/asins/{MUG}/v2/compare")
    assert page.status_code == 200
    html = page.text
    viewers = re.findall(
        r'<model-viewer id="viewer-(\w+)"[^>]*data-sync-camera src="([^"]+)"', html
    )
    assert [side for side, _ in viewers] == ["this", "previous"]
    assert viewers[0][1].startswith(f"/review/asins/{MUG}/v2/files/")
    assert viewers[1][1].startswith(f"/review/asins/{MUG}/v1/files/")
    assert f'src="/review/asins/{MUG}/v2/photos/0"' in html
    assert f'src="/review/asins/{MUG}/v1/photos/0"' in html
    rows = re.findall(
        r"<tr class=\"change-(\w+)\"><td>([^<]+)</td><td class=\"num\">([^<]+)</td>"
        r"<td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>",
        html,
    )
    by_name = {name: (change, now, then, diff) for change, name, now, then, diff in rows}
    assert by_name["Visual match score"] == ("better", "0.91", "0.80", "+0.11")
    assert by_name["Check scale_plausible"] == ("better", "passed", "failed", "now passes")
    assert "<script>" not in html  # CSP: script-src 'self', the sync is in /static/review.js
    assert '<script src="/static/review.js">' in html


def test_compare_says_so_when_there_is_no_previous_version(studio) -> None:
    rita = studio.sign_in(REVIEWER)
    page = rita.get(f"/review/asins/{MUG}/v1/compare")
    assert page.status_code == 200
    assert 'id="no-previous"' in page.text and "<model-viewer" not in page.text


def test_compare_skips_a_deleted_previous_version(studio, tmp_path) -> None:
    from shazam_assets.qa.decisions import delete_version

    store = studio.store
    _approve_and_publish(store, 1)
    _second_version(store, tmp_path)
    assert _second_version(store, tmp_path) == 3
    delete_version(store, MUG, 2, reason="test")
    page = studio.sign_in(REVIEWER).get(f"/review/asins/{MUG}/v3/compare").text
    assert "v3 against v1" in page


# --- the ASIN page: versions, roll back, unpublish --------------------------------------------


def test_the_asin_page_lists_versions_and_shows_lead_actions_only_to_leads(studio) -> None:
    _approve_and_publish(studio.store, 1)
    reviewer_page = studio.sign_in(REVIEWER).get(f"/asins/{MUG}").text
    assert f'<a href="/review/asins/{MUG}/v1">v1</a>' in reviewer_page
    assert "published" in reviewer_page
    assert 'id="rollback"' not in reviewer_page and 'id="unpublish"' not in reviewer_page
    lead_page = studio.sign_in(LEAD).get(f"/asins/{MUG}").text
    assert 'id="rollback"' in lead_page and 'id="unpublish"' in lead_page
    assert re.search(r'<input id="unpublish-reason" name="reason"[^>]* required', lead_page)


def test_a_lead_rolls_back_to_the_previous_approved_version(studio, tmp_path) -> None:
    store = studio.store
    _approve_and_publish(store, 1)
    _second_version(store, tmp_path)
    _approve_and_publish(store, 2)
    assert studio.sign_in(REVIEWER).post(f"/asins/{MUG}/rollback").status_code == 403
    assert published_version(store, MUG) == 2
    leo = studio.sign_in(LEAD)
    done = leo.post(f"/asins/{MUG}/rollback")
    assert done.status_code == 303 and done.headers["location"].startswith(f"/asins/{MUG}?done=")
    assert published_version(store, MUG) == 1
    (event,) = _events(store, "qa.rollback")
    assert (event.actor.sub, event.target, dict(event.details)) == (
        LEAD,
        MUG,
        {"version": 1, "previous": 2},
    )
    assert "rolled back to v1" in leo.get(done.headers["location"]).text


def test_a_refused_roll_back_is_a_page_with_its_code(studio) -> None:
    refused = studio.sign_in(LEAD).post(f"/asins/{MUG}/rollback")
    assert refused.status_code == 409 and "QA_NOTHING_PUBLISHED" in refused.text
    assert "Traceback" not in refused.text and _events(studio.store, "qa.rollback") == []


def test_a_lead_unpublishes_with_a_reason(studio) -> None:
    store = studio.store
    _approve_and_publish(store, 1)
    otto = studio.sign_in(OPERATOR)
    no_reason = otto.post(f"/asins/{MUG}/unpublish", data={"reason": "  "})
    assert no_reason.status_code == 422 and published_version(store, MUG) == 1
    assert (
        studio.sign_in(REVIEWER)
        .post(f"/asins/{MUG}/unpublish", data={"reason": "recall"})
        .status_code
        == 403
    )
    leo = studio.sign_in(LEAD)
    done = leo.post(f"/asins/{MUG}/unpublish", data={"reason": "product recall"})
    assert done.status_code == 303, done.text
    assert published_version(store, MUG) is None
    (event,) = _events(store, "publish.unpublish")
    assert (event.actor.sub, event.target) == (LEAD, MUG)
    assert event.details["reason"] == "product recall" and event.details["version"] == 1
    again = leo.post(f"/asins/{MUG}/unpublish", data={"reason": "product recall"})
    assert again.status_code == 409 and "QA_NOTHING_PUBLISHED" in again.text
