"""Browser uploads straight to the store, over HTTP as the page does them: the studio starts the
upload, signs one URL per part, the client (here httpx) PUTs the parts there itself, and the
studio completes it. Against moto's S3 server and a LocalStore, where the studio streams the
parts itself."""

from __future__ import annotations

import os
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shazam_assets.ingest.uploads import MAX_UPLOAD_BYTES
from shazam_assets.platform import audit, layout
from shazam_assets.platform.identity import Person
from shazam_assets.platform.multipart import MIN_PART_BYTES
from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store
from tests.builders import assign_to
from tests.studio.conftest import ARTIST, OPERATOR, OTHER_ARTIST, REVIEWER

pytestmark = pytest.mark.integration

ASIN, SECOND_ASIN, ARNOS_ASIN = "B0UPLOAD01", "B0UPLOAD02", "B0UPLOAD03"
PART = MIN_PART_BYTES  # 5 MiB, S3's smallest part
PEOPLE = {
    ARTIST: {"sub": ARTIST, "name": "Ada Artist", "email": ARTIST},
    OTHER_ARTIST: {"sub": OTHER_ARTIST, "name": "Arno Artist", "email": OTHER_ARTIST},
}


def assign(store: ObjectStore, asin: str, sub: str, tmp_root: Path) -> None:
    """The ASIN is assigned to `sub` through production tracking, as a lead does it."""
    assign_to(store, tmp_root, asin, Person(**PEOPLE[sub]))


class Clock:
    """The studio's clock, which the test moves forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path, s3_client, s3_bucket) -> ObjectStore:
    if request.param == "local":
        (tmp_path / "store").mkdir()
        return LocalStore(tmp_path / "store")
    return S3Store(s3_bucket, client=s3_client)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def studio(run_studio, backend, clock, tmp_path):
    for asin in (ASIN, SECOND_ASIN):
        assign(backend, asin, ARTIST, tmp_path)
    assign(backend, ARNOS_ASIN, OTHER_ARTIST, tmp_path)
    return run_studio(backend, clock=clock, config_changes={"upload_part_bytes": PART})


def _zip_bytes(size: int) -> bytes:
    """`size` bytes that start like a ZIP (the sensor and validator are not under test here)."""
    return b"PK\x03\x04" + os.urandom(size - 4)


def _api(asin: str = ASIN) -> str:
    return f"/api/asins/{asin}/uploads"


def _put(url: str, data: bytes) -> httpx.Response:
    return httpx.put(url, content=data, timeout=60)


def _upload_parts(session, asin: str, upload: dict, data: bytes, numbers) -> dict[int, str]:
    etags = {}
    for n in numbers:
        signed = session.post(f"{_api(asin)}/{upload['upload']}/parts/{n}")
        assert signed.status_code == 200, signed.text
        chunk = data[(n - 1) * upload["part_size"] : n * upload["part_size"]]
        assert signed.json()["size"] == len(chunk)
        put = _put(signed.json()["url"], chunk)
        assert put.status_code == 200, put.text
        etags[n] = put.headers["etag"].strip('"')
    return etags


def _complete(session, asin: str, upload: dict, etags: dict[int, str]) -> httpx.Response:
    parts = [{"number": n, "etag": etags[n]} for n in sorted(etags)]
    return session.post(f"{_api(asin)}/{upload['upload']}/complete", json={"parts": parts})


def _code(response: httpx.Response) -> str:
    return response.json()["detail"]["code"]


def _no_uploads(store: ObjectStore) -> bool:
    """Nothing under uploads/ and, on S3, no multipart upload in progress."""
    if next(iter(store.list(layout.uploads_prefix())), None) is not None:
        return False
    if isinstance(store, S3Store):
        listed = store.client.list_multipart_uploads(Bucket=store.bucket)
        return not listed.get("Uploads")
    return True


def test_an_assigned_artist_uploads_a_multi_part_zip_byte_identical(studio) -> None:
    data = _zip_bytes(2 * PART + 123_457)
    ada = studio.sign_in(ARTIST)
    started = ada.post(_api(), json={"name": "delivery-1.zip", "size": len(data)})
    assert started.status_code == 201, started.text
    upload = started.json()
    assert upload["key"] == f"uploads/{ASIN}/delivery-1.zip"
    assert (upload["part_size"], upload["parts"], upload["size"]) == (PART, 3, len(data))

    etags = _upload_parts(ada, ASIN, upload, data, [3, 1, 2])  # any order, as the page does
    assert next(iter(studio.store.list(layout.uploads_prefix())), None) is None

    done = _complete(ada, ASIN, upload, etags)
    assert done.status_code == 200, done.text
    assert done.json()["key"] == upload["key"] and done.json()["size"] == len(data)
    assert studio.store.get_bytes(upload["key"]) == data
    assert [i.key for i in studio.store.list(layout.uploads_prefix())] == [upload["key"]]
    assert not list(studio.store.list(layout.upload_sessions_prefix(ASIN)))
    events = [(e.action, e.actor.sub, e.details) for e in audit.recent(studio.store)]
    details = {"name": "delivery-1.zip", "size": len(data), "key": upload["key"]}
    assert ("ingest.upload-started", ARTIST, {**details, "upload": upload["upload"]}) in events
    assert ("ingest.upload-completed", ARTIST, {**details, "upload": upload["upload"]}) in events


def test_an_upload_resumes_with_the_parts_the_store_already_holds(studio) -> None:
    data = _zip_bytes(2 * PART + 10)
    ada = studio.sign_in(ARTIST)
    upload = ada.post(_api(), json={"name": "big.zip", "size": len(data)}).json()
    first = _upload_parts(ada, ASIN, upload, data, [1, 3])

    # the page was reloaded: it asks what the store holds and uploads only the rest
    shown = ada.get(f"{_api()}/{upload['upload']}")
    assert shown.status_code == 200
    assert {p["number"]: p["etag"] for p in shown.json()["done"]} == first
    listed = ada.get(_api()).json()["uploads"]
    assert [u["upload"] for u in listed] == [upload["upload"]]
    rest = _upload_parts(ada, ASIN, upload, data, [2])

    # completing with a part missing is refused; with all of them it lands
    assert _code(_complete(ada, ASIN, upload, first)) == "UPLOAD_PARTS_MISMATCH"
    assert _complete(ada, ASIN, upload, {**first, **rest}).status_code == 200
    assert studio.store.get_bytes(upload["key"]) == data


def test_another_artists_asin_is_refused_and_nothing_starts(studio) -> None:
    arno = studio.sign_in(OTHER_ARTIST)
    refused = arno.post(_api(ASIN), json={"name": "mine.zip", "size": 1000})
    assert refused.status_code == 403
    assert (
        studio.sign_in(REVIEWER).post(_api(ASIN), json={"name": "x.zip", "size": 9}).status_code
        == 403
    )
    assert _no_uploads(studio.store)
    assert not list(studio.store.list(layout.upload_sessions_prefix(ASIN)))
    # an operator may upload for any ASIN
    otto = studio.sign_in(OPERATOR)
    assert otto.post(_api(ARNOS_ASIN), json={"name": "fix.zip", "size": 9}).status_code == 201


@pytest.mark.parametrize(
    "name",
    ["../delivery.zip", "other/delivery.zip", "delivery.txt", ".shazam-tmp-x.zip", "a\x00.zip"],
)
def test_a_name_that_is_not_one_zip_file_name_is_refused(studio, name) -> None:
    ada = studio.sign_in(ARTIST)
    refused = ada.post(_api(), json={"name": name, "size": 1000})
    assert refused.status_code == 400
    assert _code(refused) == "UPLOAD_NAME_INVALID"
    assert refused.json()["detail"]["hint"]
    assert _no_uploads(studio.store)


def test_an_oversize_declared_size_is_refused_before_the_store_is_asked(studio) -> None:
    ada = studio.sign_in(ARTIST)
    refused = ada.post(_api(), json={"name": "huge.zip", "size": MAX_UPLOAD_BYTES + 1})
    assert refused.status_code == 413
    assert _code(refused) == "UPLOAD_TOO_LARGE"
    assert _no_uploads(studio.store)
    assert not list(studio.store.list(layout.upload_sessions_prefix(ASIN)))
    assert not [e for e in audit.recent(studio.store) if e.action.startswith("ingest.")]
    for body in ({"name": "x.zip"}, {"name": "x.zip", "size": 0}, {"size": 5}, [1]):
        assert _code(ada.post(_api(), json=body)) == "UPLOAD_REQUEST_INVALID"


def test_one_asins_upload_cannot_be_signed_or_completed_through_another(studio) -> None:
    data = _zip_bytes(1000)
    ada = studio.sign_in(ARTIST)
    upload = ada.post(_api(ASIN), json={"name": "d.zip", "size": len(data)}).json()
    etags = _upload_parts(ada, ASIN, upload, data, [1])
    # the same artist, through her other ASIN's routes
    presign = ada.post(f"{_api(SECOND_ASIN)}/{upload['upload']}/parts/1")
    assert presign.status_code == 404 and _code(presign) == "UPLOAD_NOT_IN_PROGRESS"
    assert _code(_complete(ada, SECOND_ASIN, upload, etags)) == "UPLOAD_NOT_IN_PROGRESS"
    assert ada.get(f"{_api(SECOND_ASIN)}/{upload['upload']}").status_code == 404
    # another artist, through his own ASIN
    arno = studio.sign_in(OTHER_ARTIST)
    assert arno.post(f"{_api(ARNOS_ASIN)}/{upload['upload']}/parts/1").status_code == 404
    assert arno.request("DELETE", f"{_api(ARNOS_ASIN)}/{upload['upload']}").status_code == 404
    assert studio.store.head(layout.upload_key(SECOND_ASIN, "d.zip")) is None
    assert _complete(ada, ASIN, upload, etags).status_code == 200


def test_an_existing_upload_is_never_overwritten(studio) -> None:
    studio.store.put_bytes(layout.upload_key(ASIN, "taken.zip"), b"PK earlier")
    ada = studio.sign_in(ARTIST)
    refused = ada.post(_api(), json={"name": "taken.zip", "size": 100})
    assert refused.status_code == 409 and _code(refused) == "UPLOAD_EXISTS"

    # two uploads of one name: the second to complete is refused, the first stays
    data = _zip_bytes(500)
    one = ada.post(_api(), json={"name": "race.zip", "size": len(data)}).json()
    two = ada.post(_api(), json={"name": "race.zip", "size": len(data)}).json()
    one_tags = _upload_parts(ada, ASIN, one, data, [1])
    two_tags = _upload_parts(ada, ASIN, two, data[::-1], [1])
    assert _complete(ada, ASIN, two, two_tags).status_code == 200
    late = _complete(ada, ASIN, one, one_tags)
    assert late.status_code == 409 and _code(late) == "UPLOAD_EXISTS"
    assert studio.store.get_bytes(two["key"]) == data[::-1]


def test_an_aborted_upload_leaves_nothing(studio) -> None:
    ada = studio.sign_in(ARTIST)
    data = _zip_bytes(PART + 5)
    upload = ada.post(_api(), json={"name": "gone.zip", "size": len(data)}).json()
    _upload_parts(ada, ASIN, upload, data, [1])
    assert ada.request("DELETE", f"{_api()}/{upload['upload']}").status_code == 200
    assert _no_uploads(studio.store)
    assert ada.get(f"{_api()}/{upload['upload']}").status_code == 404
    assert "ingest.upload-aborted" in [e.action for e in audit.recent(studio.store)]


def test_part_urls_are_short_lived(studio, clock, backend) -> None:
    ada = studio.sign_in(ARTIST)
    data = _zip_bytes(1000)
    upload = ada.post(_api(), json={"name": "late.zip", "size": len(data)}).json()
    signed = ada.post(f"{_api()}/{upload['upload']}/parts/1").json()
    expires = datetime.fromisoformat(signed["expires_at"])
    assert expires - clock.now == timedelta(minutes=15)
    if isinstance(backend, S3Store):
        # S3 enforces X-Amz-Expires itself (moto does not check it)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed["url"]).query)
        assert query["X-Amz-Expires"] == ["900"]
        assert query["uploadId"] and query["partNumber"] == ["1"]
        return
    clock.now += timedelta(minutes=16)
    late = _put(signed["url"], data)
    assert late.status_code == 403 and _code(late) == "UPLOAD_PART_URL_INVALID"
    forged = _put(signed["url"][:-3] + "abc", data)
    assert forged.status_code == 403 and _code(forged) == "UPLOAD_PART_URL_INVALID"
    fresh = ada.post(f"{_api()}/{upload['upload']}/parts/1").json()["url"]
    assert _put(fresh, data[:-1]).status_code == 409  # a part must be its planned size
    assert _put(fresh, data).status_code == 200


def test_a_local_part_route_takes_one_part_and_other_routes_still_take_64k(
    run_studio, tmp_path
) -> None:
    (tmp_path / "store").mkdir()
    store = LocalStore(tmp_path / "store")
    assign(store, ASIN, ARTIST, tmp_path)
    studio = run_studio(store, config_changes={"upload_part_bytes": PART})
    ada = studio.sign_in(ARTIST)
    data = _zip_bytes(PART + 1)
    upload = ada.post(_api(), json={"name": "p.zip", "size": len(data)}).json()
    url = ada.post(f"{_api()}/{upload['upload']}/parts/1").json()["url"]
    too_big = _put(url, data)  # PART + 1 bytes: over one part
    assert too_big.status_code == 413
    assert _put(url, data[:PART]).status_code == 200
    form = ada.post(_api(), content=b"{" + b" " * (64 * 1024) + b"}")
    assert form.status_code == 413
    assert form.json()["detail"]["code"] == "STUDIO_REQUEST_TOO_LARGE"


def test_the_asin_page_offers_the_upload_and_allows_the_store_origin(studio, moto_server) -> None:
    page = studio.sign_in(ARTIST).get(f"/asins/{ASIN}")
    assert page.status_code == 200
    assert 'id="upload-file"' in page.text and "/static/upload.js" in page.text
    csp = page.headers["content-security-policy"]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    script = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert (moto_server in connect) == isinstance(studio.store, S3Store)
    assert moto_server not in script
    assert 'id="upload-file"' not in studio.sign_in(REVIEWER).get(f"/asins/{ASIN}").text
    assert studio.sign_in(ARTIST).get("/static/upload.js").status_code == 200
