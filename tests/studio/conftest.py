"""The studio as people use it: a real OpenID provider process (oidc-provider-mock) on
loopback, the studio under uvicorn on its own port, and sign-in through the real
authorization code flow. `Session` is a signed-in client over HTTP (httpx): it keeps the
session cookie itself, because the cookie is `Secure` and a cookie jar would not send it over
loopback http (browsers do)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from shazam_assets.platform.storage import ObjectStore
from shazam_assets.studio.app import create_app
from shazam_assets.studio.config import StudioConfig
from shazam_assets.studio.dev_provider import running_provider

SESSION_SECRET = "test-session-secret-" + "x" * 24
ARTIST, OTHER_ARTIST = "ada@example.com", "arno@example.com"
REVIEWER, LEAD, OPERATOR, NOBODY = (
    "rita@example.com",
    "leo@example.com",
    "otto@example.com",
    "nina@example.com",
)


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    with running_provider() as issuer:
        yield issuer


def studio_config(issuer: str) -> StudioConfig:
    return StudioConfig(
        issuer=issuer,
        client_id="shazam-studio-test",
        client_secret="test-client-secret",
        session_secret=SESSION_SECRET,
    )


@dataclass
class Session:
    """A client of the studio at `base`; `cookie` is the session cookie once signed in."""

    base: str
    cookie: str = ""
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.cookie:
            headers["cookie"] = self.cookie
        if method not in ("GET", "HEAD"):
            headers.setdefault("origin", self.base)  # what a browser sends from our pages
        response = self.client.request(method, self.base + path, headers=headers, **kwargs)
        for value in response.headers.get_list("set-cookie"):
            name_value = value.split(";", 1)[0]
            if name_value.startswith("shazam_studio="):
                self.cookie = name_value if name_value != "shazam_studio=null" else ""
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def sign_in(base: str, sub: str) -> Session:
    """Sign in as `sub` through the provider's real authorization code flow."""
    session = Session(base)
    start = session.get("/login")
    assert start.status_code == 302, start.text
    chosen = httpx.post(start.headers["location"], data={"sub": sub}, timeout=30)
    assert chosen.status_code == 302, chosen.text
    back = chosen.headers["location"]
    assert back.startswith(base + "/auth/callback"), back
    done = session.get(back[len(base) :])
    assert done.status_code == 303, done.text
    assert session.cookie, "no session cookie after sign-in"
    return session


@dataclass
class Studio:
    base: str
    store: ObjectStore
    sign_in: Callable[[str], Session]


@pytest.fixture
def run_studio(oidc_issuer: str) -> Iterator[Callable[..., Studio]]:
    """Start the studio over a store (uvicorn in a thread, a port the OS picked)."""
    servers: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def start(
        store: ObjectStore, *, config_changes: dict[str, Any] | None = None, **kwargs: Any
    ) -> Studio:
        """`config_changes`: StudioConfig fields to set (a smaller upload part size...)."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = dataclasses.replace(studio_config(oidc_issuer), **(config_changes or {}))
        app = create_app(store, config, **kwargs)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        servers.append((server, thread, sock))
        base = f"http://127.0.0.1:{port}"
        return Studio(base=base, store=store, sign_in=lambda sub: sign_in(base, sub))

    yield start
    for server, thread, sock in servers:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
