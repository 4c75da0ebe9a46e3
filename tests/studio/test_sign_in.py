"""Sign-in through a real OpenID provider: the session cookie's protections, roles from the ID
token's groups, forged and expired sessions, sign-out, the audit of sign-ins."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import itsdangerous
import pytest

from shazam_assets.platform import audit
from shazam_assets.platform.storage import LocalStore
from tests.studio.conftest import LEAD, NOBODY, SESSION_SECRET, Session

pytestmark = pytest.mark.integration


@pytest.fixture
def studio(run_studio, tmp_path):
    (tmp_path / "store").mkdir()
    return run_studio(LocalStore(tmp_path / "store"))


def _cookie(data: dict, secret: str = SESSION_SECRET) -> str:
    """A session cookie as Starlette's SessionMiddleware writes it, signed with `secret`."""
    payload = base64.b64encode(json.dumps(data).encode())
    return "shazam_studio=" + itsdangerous.TimestampSigner(secret).sign(payload).decode()


def _lead_session(exp: datetime) -> dict:
    person = {"sub": LEAD, "name": "Leo Lead", "email": LEAD}
    return {"user": {"person": person, "roles": ["lead"], "exp": int(exp.timestamp())}}


def test_signing_in_sets_a_secure_httponly_samesite_cookie_and_records_it(studio) -> None:
    session = Session(studio.base)
    start = session.get("/login")
    cookie = start.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    lead = studio.sign_in(LEAD)
    page = lead.get("/")
    assert page.status_code == 200
    assert "Leo Lead" in page.text and "(lead)" in page.text
    events = audit.recent(studio.store)
    assert [(e.action, e.actor.sub, e.roles) for e in events] == [
        ("studio.sign-in", LEAD, ("lead",))
    ]


def test_signed_out_pages_redirect_to_sign_in_and_apis_answer_401(studio) -> None:
    anonymous = Session(studio.base)
    page = anonymous.get("/board")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/board"
    api = anonymous.get("/api/asins/B0AAAAAAAA/status")
    assert api.status_code == 401


def test_a_forged_or_expired_session_is_no_session(studio) -> None:
    future = datetime.now(UTC) + timedelta(hours=1)
    forged = Session(studio.base, cookie=_cookie(_lead_session(future), secret="y" * 40))
    assert forged.get("/audit").status_code == 303
    expired = Session(studio.base, cookie=_cookie(_lead_session(datetime.now(UTC) - timedelta(1))))
    assert expired.get("/audit").status_code == 303
    genuine = Session(studio.base, cookie=_cookie(_lead_session(future)))
    assert genuine.get("/audit").status_code == 200  # the same cookie, rightly signed and fresh


def test_a_person_without_a_studio_role_is_refused_everything_but_home(studio) -> None:
    nobody = studio.sign_in(NOBODY)
    home = nobody.get("/")
    assert home.status_code == 403
    assert nobody.get("/board").status_code == 403


def test_sign_out_ends_the_session_and_cannot_be_forced_from_another_site(studio) -> None:
    lead = studio.sign_in(LEAD)
    cross = lead.post("/logout", headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    assert lead.get("/audit").status_code == 200
    assert lead.post("/logout").status_code == 303
    assert lead.get("/audit").status_code == 303


def test_a_link_to_sign_in_from_another_site_signs_nobody_out(studio) -> None:
    lead = studio.sign_in(LEAD)
    again = lead.get("/login?next=/audit")  # what a plain link on any site can make a browser do
    assert again.status_code == 303 and again.headers["location"] == "/audit"
    assert lead.get("/audit").status_code == 200


def test_sign_in_only_returns_to_paths_on_this_site(studio) -> None:
    session = Session(studio.base)
    session.get("/login?next=//evil.example/x")
    # the target is kept in the session; a sign-in then lands on "/"
    import httpx

    start = session.get("/login?next=https://evil.example/")
    chosen = httpx.post(start.headers["location"], data={"sub": LEAD})
    done = session.get(chosen.headers["location"][len(studio.base) :])
    assert done.headers["location"] == "/"
