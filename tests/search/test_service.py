"""The search service (`shazam serve --api-only`) as its Deployment runs it: the index is loaded
by a background thread and swapped in whole, so a moved pointer reaches shoppers without a
restart and without a failed request; a broken new index leaves the old one in service;
readiness waits for the first index; metrics only on the internal port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from shazam_assets.platform import layout
from shazam_assets.platform.storage import LocalStore, read_json
from shazam_assets.search.api import create_search_app
from shazam_assets.search.index import POINTER_KEY, SearchIndex
from shazam_assets.search.live import LiveIndex
from shazam_assets.search.telemetry import ServiceMetrics
from tests.search.conftest import EMBEDDER

SHAZAM = str(Path(sys.executable).parent / "shazam")


def _save(store: LocalStore, asins: list[str]) -> int:
    """A saved index of `asins` (one random vector each), returning its version."""
    rng = np.random.default_rng(len(asins))
    index = SearchIndex(EMBEDDER)
    index.upsert_many(
        (asin, {"title": f"oak table {asin}"}, rng.standard_normal((1, EMBEDDER.dim)))
        for asin in asins
    )
    return index.save(store).version


def _break_vectors(store: LocalStore) -> None:
    """Save a new version whose vectors fail their checksum (a torn or tampered upload)."""
    _save(store, ["B0BROKEN01"])
    meta = read_json(store, read_json(store, POINTER_KEY)["prefix"] + layout.SEARCH_META_NAME)
    store.put_bytes(meta["vectors"]["key"], b"not the graph that was saved")


def test_readiness_waits_for_the_first_index_and_health_never_reads_the_store(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    _save(store, ["B0LIVE0001"])
    app = create_search_app(store, EMBEDDER)
    client = TestClient(app, base_url="http://localhost")  # not started: nothing loaded yet
    assert client.get("/readyz").status_code == 503
    refused = client.get("/search", params={"asin": "B0LIVE0001"})
    assert refused.status_code == 503 and refused.json()["detail"]["code"] == "SEARCH_UNAVAILABLE"
    assert client.get("/healthz").json()["ok"] is True
    assert app.state.live_index.refresh() is True  # what the poller does first
    assert client.get("/readyz").json() == {"ready": True, "index_version": 1, "asins": 1}


def test_an_empty_store_is_ready_with_an_empty_index(tmp_path: Path) -> None:
    """Nothing published yet is a legit state: the pod must not stay unready forever."""
    live = LiveIndex(LocalStore(tmp_path / "store"), EMBEDDER)
    assert live.refresh() is True
    assert live.loaded is not None and len(live.loaded.index) == 0


def test_a_broken_new_index_keeps_the_old_one_in_service(tmp_path: Path) -> None:
    store, metrics = LocalStore(tmp_path / "store"), ServiceMetrics()
    _save(store, ["B0LIVE0001", "B0LIVE0002"])
    live = LiveIndex(store, EMBEDDER, metrics=metrics)
    assert live.refresh() is True
    _break_vectors(store)
    for _ in range(2):  # retried at every poll, failing each time
        assert live.refresh() is False
    assert live.loaded is not None and live.loaded.index.version == 1
    assert live.loaded.index.lookup("B0LIVE0002") is not None
    failures = metrics.registry.get_sample_value("shazam_search_index_reload_failures_total")
    assert failures == 2 and live.failures == 2
    assert metrics.registry.get_sample_value("shazam_search_index_version") == 1
    _save(store, ["B0LIVE0003"])  # a good index after it goes into service
    assert live.refresh() is True and live.loaded.index.asins == ["B0LIVE0003"]
    assert metrics.registry.get_sample_value("shazam_search_index_version") == 3


@dataclass(frozen=True)
class Service:
    base: str
    metrics: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[LocalStore, Service]]:
    """`shazam serve --api-only` as a real process, ready, checking the pointer every 0.1 s."""
    store = LocalStore(tmp_path / "store")
    _save(store, [f"B0LIVE{i:04d}" for i in range(50)])
    store.put_bytes(layout.catalogue_key(), b'{"products": []}', content_type="application/json")
    port, metrics_port = _free_port(), _free_port()
    env = {**os.environ, "SHAZAM_STORE_URL": store.root.as_uri()}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    command = [SHAZAM, "serve", "--api-only", "--reload-every", "0.1"]
    command += ["--port", str(port), "--metrics-port", str(metrics_port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served = Service(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(served.base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service never became ready"
            time.sleep(0.1)
        yield store, served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _hammer(base: str, stop: threading.Event, statuses: list[int], versions: set[int]) -> None:
    """Shoppers searching without pause: ASIN lookups and words, noting each answer's status."""
    with httpx.Client(base_url=base, timeout=10) as client:
        n = 0
        while not stop.is_set():
            n += 1
            params = {"asin": f"B0LIVE{n % 50:04d}"} if n % 2 else {"text": "oak table"}
            statuses.append(client.get("/search", params=params).status_code)
            versions.add(client.get("/healthz").json()["index_version"])


def test_a_moved_pointer_is_served_without_a_restart_or_a_failed_request(service) -> None:
    store, served = service
    stop, statuses, versions = threading.Event(), [], set()
    shoppers = [
        threading.Thread(target=_hammer, args=(served.base, stop, statuses, versions))
        for _ in range(2)
    ]
    for thread in shoppers:
        thread.start()
    try:
        time.sleep(0.3)
        for round_ in range(3):  # three new versions while searches run
            latest = _save(store, [f"B0LIVE{i:04d}" for i in range(50)] + [f"B0NEW{round_:05d}"])
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in shoppers:
            thread.join()
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    assert httpx.get(served.base + "/readyz").json()["index_version"] == latest == 4
    assert {1, 4} <= versions  # the same process served the first and the last
    assert served.process.poll() is None


def test_metrics_are_on_the_internal_port_only_and_the_catalogue_on_the_public_one(
    service,
) -> None:
    _, served = service
    assert httpx.get(served.base + "/search", params={"asin": "B0LIVE0001"}).status_code == 200
    assert httpx.get(served.base + "/metrics").status_code == 404
    text = httpx.get(served.metrics + "/metrics").text
    assert (
        'shazam_search_http_request_duration_seconds_count{method="GET",route="/search",status="200"}'
        in text
    )
    assert "shazam_search_index_asins 50.0" in text and "shazam_search_index_ready 1.0" in text
    assert "shazam_metrics_generated_timestamp_seconds" in text  # the pipeline's, as before
    catalogue = httpx.get(served.base + "/catalog.json")
    assert catalogue.status_code == 200 and json.loads(catalogue.content) == {"products": []}
    assert catalogue.headers["cache-control"] == "public, max-age=30"
    again = httpx.get(
        served.base + "/catalog.json", headers={"if-none-match": catalogue.headers["etag"]}
    )
    assert again.status_code == 304
    # The pages stay on the CDN: the shop API serves no product page.
    assert httpx.get(served.base + "/index.html").status_code == 404
