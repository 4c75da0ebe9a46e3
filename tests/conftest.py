"""Shared fixtures: a moto server over real HTTP, and object stores on every backend.

The moto server is a separate process (`python -m moto.server`), started once per session;
tests talk to it through boto3 clients pointed at its endpoint, exactly as they would talk to
AWS. Nothing global is set: no environment variables, no in-process patching.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from shazam_assets.platform.storage import LocalStore, ObjectStore, S3Store

MOTO_REGION = "us-east-1"
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first, each file's tests still together and in order: with several
    workers (`make test` runs two, `--dist loadfile` hands out files in this order) the long
    end-to-end files start at once and overlap the thousands of short tests, instead of the
    run ending with one worker still in a three-minute browser story."""
    first = {item.path for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: item.path not in first)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """True once the server answers HTTP; False if it exited (e.g. the port got taken)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    return False


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto server subprocess (S3, SQS, ... over HTTP)."""
    log_path = tmp_path_factory.mktemp("moto") / "server.log"
    for _attempt in range(3):  # the free port can be taken between probing and binding
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "ab") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_up(url, server, timeout_s=30):
            break
        _stop(server)
    else:
        pytest.fail(f"moto server did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
    try:
        yield url
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def aws_client(moto_server: str) -> Callable[[str], Any]:
    """Make a boto3 client for one service of the moto server (dummy credentials)."""

    def make(service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=moto_server,
            region_name=MOTO_REGION,
            config=Config(max_pool_connections=32, retries={"max_attempts": 2}),
            **MOTO_CREDENTIALS,
        )

    return make


@pytest.fixture(scope="session")
def s3_client(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("s3")


@pytest.fixture(scope="session")
def sqs_client(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("sqs")


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    """A fresh, empty bucket for this test."""
    name = f"shazam-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(s3_client: Any, s3_bucket: str) -> S3Store:
    return S3Store(s3_bucket, client=s3_client)


@pytest.fixture
def s3_prefixed_store(s3_client: Any, s3_bucket: str) -> S3Store:
    """A store under a prefix, with a neighbour object outside it that must stay invisible."""
    s3_client.put_object(Bucket=s3_bucket, Key="tenant-b/uploads/B0AAAAAAAA/x.zip", Body=b"x")
    return S3Store(s3_bucket, "tenant-a", client=s3_client)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(params=["local", "s3", "s3_prefixed"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Every backend, so one contract test runs on each."""
    return request.getfixturevalue(f"{request.param}_store")
