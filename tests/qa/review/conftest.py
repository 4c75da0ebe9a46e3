"""A store holding real stored versions waiting for review, built once and copied per test, and
the studio serving it (the review pages live there), with a reviewer signed in through the real
OpenID provider.

Deliveries are packed from the procedural demo products, uploaded to a LocalStore, validated
and stored with the ingest stage, exactly as the pipeline does. Then the test plays the parts
the review page reads but does not own: a delivery date in the past (so one version is
overdue) and the automatic QA results of one version (scores.json and a contact sheet).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from shazam_assets.ingest import versions
from shazam_assets.platform.layout import scores_key
from shazam_assets.platform.storage import LocalStore, ObjectStore
from tests.builders import pack, product, read_glb, store_delivery
from tests.studio.conftest import (
    REVIEWER,
    SESSION_SECRET,
    Session,
    Studio,
    oidc_issuer,
    run_studio,
)

SPEAKER = "B0REVIEW01"  # delivered 30 h ago (overdue at a 24 h SLA), has QA scores + contact sheet
MUG = "B0REVIEW02"  # delivered 2 h ago, QA has not run
GLTF_LAMP = "B0REVIEW03"  # a .gltf model with its .bin beside it (name with a space), 1 h ago
SLA = timedelta(hours=24)
GLTF_BIN = "lamp data.bin"


def backdate(store: ObjectStore, asin: str, version: int, *, age: timedelta) -> None:
    """Pretend the version was delivered `age` ago (the test's stand-in for waiting)."""
    key = versions.version_prefix(asin, version) + versions.VERSION_MANIFEST
    manifest = json.loads(store.get_bytes(key))
    manifest["created_at"] = (datetime.now(UTC) - age).isoformat(timespec="seconds")
    store.put_bytes(key, json.dumps(manifest, indent=2).encode())


def write_qa_results(
    store: ObjectStore, asin: str, version: int, *, photos: list[Path], blocking: list[str] = ()
) -> None:
    """scores.json and a contact sheet in the layout automatic QA writes."""
    sheet = Image.new("RGB", (256 * len(photos), 256), "white")
    for i, photo in enumerate(photos):
        sheet.paste(Image.open(photo).convert("RGB").resize((256, 256)), (256 * i, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    sheet_key = f"qa/{asin}/v{version}/contact-sheet.png"
    store.put_bytes(sheet_key, buffer.getvalue(), content_type="image/png")
    scores = {
        "visual": {
            "score": 0.87,
            "photos": [
                {
                    "photo": p.name,
                    "best_view": "front",
                    "silhouette_iou": 0.91,
                    "delta_e": 4.2,
                    "score": 0.87,
                }
                for p in photos
            ],
        },
        "checks": [
            {
                "name": "scale_plausible",
                "passed": True,
                "severity": "error",
                "message": "size matches the manifest",
            },
            {
                "name": "texture_resolution",
                "passed": False,
                "severity": "warning",
                "message": "baseColor is 512 px",
            },
        ],
        "contact_sheet": sheet_key,
        "blocking_errors": list(blocking),
    }
    store.put_bytes(scores_key(asin, version), json.dumps(scores).encode())


def _gltf_delivery(root: Path) -> Path:
    """The lamp as a .gltf whose buffer is a separate file (a URI with an escaped space)."""
    lamp = product(root, "lamp")
    document, binary = read_glb(lamp.model.read_bytes())
    document["buffers"][0]["uri"] = GLTF_BIN.replace(" ", "%20")
    folder = root / "lamp-gltf"
    folder.mkdir()
    (folder / GLTF_BIN).write_bytes(binary)
    model = folder / "lamp.gltf"
    model.write_text(json.dumps(document), encoding="utf-8")
    return pack(root, lamp, asin=GLTF_LAMP, name="lamp.zip", model=model, scan=None)


@pytest.fixture(scope="session")
def review_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root of a LocalStore with three pending versions (see the module docstring)."""
    root = tmp_path_factory.mktemp("review-deliveries")
    store = LocalStore(tmp_path_factory.mktemp("review-store") / "store")
    speaker, mug = product(root, "speaker"), product(root, "mug")
    assert (
        store_delivery(store, pack(root, speaker, asin=SPEAKER, name="speaker.zip"), asin=SPEAKER)
        == 1
    )
    assert store_delivery(store, pack(root, mug, asin=MUG, name="mug.zip"), asin=MUG) == 1
    assert store_delivery(store, _gltf_delivery(root), asin=GLTF_LAMP) == 1
    backdate(store, SPEAKER, 1, age=timedelta(hours=30))
    backdate(store, MUG, 1, age=timedelta(hours=2))
    backdate(store, GLTF_LAMP, 1, age=timedelta(hours=1))
    write_qa_results(store, SPEAKER, 1, photos=list(speaker.photos))
    return store.root


@pytest.fixture
def review_store(review_store_template: Path, tmp_path: Path) -> LocalStore:
    """A private copy of the template store: each test may record decisions."""
    return LocalStore(Path(shutil.copytree(review_store_template, tmp_path / "store")))


__all__ = ["oidc_issuer", "run_studio"]  # the studio's fixtures, used here too


@pytest.fixture
def studio(run_studio, review_store: LocalStore) -> Studio:
    """The studio over the review store (a 24 h SLA)."""
    return run_studio(review_store, sla=SLA)


@pytest.fixture
def reviewer(studio: Studio) -> Session:
    """Rita Reviewer, signed in."""
    return studio.sign_in(REVIEWER)


SHAZAM = str(Path(sys.executable).parent / "shazam")


@contextlib.contextmanager
def shazam_review(store_root: Path, issuer: str) -> Iterator[tuple[str, list[str]]]:
    """`shazam review` (which starts the studio) as a process over the store at `store_root`,
    signing people in with the provider at `issuer`: yields its base URL and, once it has
    stopped, the lines it printed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        SHAZAM_STORE_URL=store_root.as_uri(),
        DAGSTER_HOME=str(store_root.parent / "dagster_home"),
        SHAZAM_OIDC_ISSUER=issuer,
        SHAZAM_OIDC_CLIENT_ID="shazam-studio-test",
        SHAZAM_OIDC_CLIENT_SECRET="test-client-secret",
        SHAZAM_STUDIO_SESSION_SECRET=SESSION_SECRET,
    )
    server = subprocess.Popen(
        [SHAZAM, "review", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base, printed = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(base + "/healthz", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "no studio"
                time.sleep(0.3)
        yield base, printed
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
        printed.extend(output.splitlines())
