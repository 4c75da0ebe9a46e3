"""The guard every SHAZAM app wears (`shazam_assets.platform.web`), on a bare app: the body limit for a
body whose length is not declared (chunked), which the `shazam serve` tests do not send."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from shazam_assets.platform import web


async def _echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


def _client() -> TestClient:
    refusal = web.BodyRefusal("TEST_TOO_LARGE", "at most 1 KiB")
    app = Starlette(
        routes=[Route("/", _echo_length, methods=["POST"])],
        middleware=web.guard(max_body_bytes=1024, body_refusal=refusal),
    )
    return TestClient(app, base_url="http://localhost")


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 256):
        yield b"x" * 256


def test_a_chunked_body_is_cut_off_at_the_limit() -> None:
    client = _client()
    assert client.post("/", content=_chunks(1024)).json() == {"received": 1024}
    refused = client.post("/", content=_chunks(4096))
    assert refused.status_code == 413 and refused.json()["detail"]["code"] == "TEST_TOO_LARGE"
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    refused = _client().post("/", content=b"x" * 2048)
    assert refused.status_code == 413 and refused.headers["content-type"] == "application/json"
