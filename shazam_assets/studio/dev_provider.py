"""A real OpenID Connect provider on loopback for the studio's local use and its tests:
`oidc-provider-mock` (PyPI) in its own process, with one person per role.

It is a complete provider (discovery, JWKS, authorization code flow, signed ID tokens); its
sign-in form asks only which person you are, so it is for a laptop and for tests, never for a
deployment (production signs in with Cognito, terraform/modules/studio)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from shazam_assets.platform.errors import ShazamError

# One person per role, plus a second artist (assignments are per artist) and someone with no role.
DEV_PEOPLE: tuple[dict[str, Any], ...] = (
    {
        "sub": "ada@example.com",
        "name": "Ada Artist",
        "email": "ada@example.com",
        "groups": ["artist"],
    },
    {
        "sub": "arno@example.com",
        "name": "Arno Artist",
        "email": "arno@example.com",
        "groups": ["artist"],
    },
    {
        "sub": "rita@example.com",
        "name": "Rita Reviewer",
        "email": "rita@example.com",
        "groups": ["reviewer"],
    },
    {"sub": "leo@example.com", "name": "Leo Lead", "email": "leo@example.com", "groups": ["lead"]},
    {
        "sub": "otto@example.com",
        "name": "Otto Operator",
        "email": "otto@example.com",
        "groups": ["operator"],
    },
    {"sub": "nina@example.com", "name": "Nina Nobody", "email": "nina@example.com", "groups": []},
)


class ProviderFailed(ShazamError, RuntimeError):
    code = "STUDIO_DEV_PROVIDER_FAILED"

    def __init__(self, message: str) -> None:
        super().__init__(self.code, message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _up(issuer: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    return False


@contextlib.contextmanager
def running_provider(
    *,
    port: int | None = None,
    people: Sequence[dict[str, Any]] = DEV_PEOPLE,
    token_max_age_s: int = 3600,
    log: Any = subprocess.DEVNULL,
) -> Iterator[str]:
    """Run the provider until the block ends; yields its issuer URL (http://127.0.0.1:<port>)."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        raise ProviderFailed(
            "oidc-provider-mock is not installed (a development dependency: `make setup`, or "
            "`pip install oidc-provider-mock`); deployments sign in with their own provider"
        )
    port = port or free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--token-max-age", str(token_max_age_s)]
    for person in people:
        args += ["--user-claims", json.dumps(person)]
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        if not _up(issuer, process, timeout_s=30):
            raise ProviderFailed(f"the OpenID provider did not start on {issuer}")
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # SIGTERM may be ignored where this runs
            process.kill()
            process.wait()
