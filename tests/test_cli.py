"""The `shazam` command as artists and engineers run it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import ASIN, SHARED_DATA, edit_manifest, pack, product, rewrite_zip

SHAZAM = str(Path(sys.executable).parent / "shazam")


def shazam(
    *args: str, store: Path | None = None, check_code: int | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if store is not None:
        store.mkdir(
            parents=True, exist_ok=True
        )  # an operator's store exists (a missing root is refused)
        env["SHAZAM_STORE_URL"] = store.as_uri()
        env["DAGSTER_HOME"] = str(store.parent / "dagster_home")
    result = subprocess.run([SHAZAM, *args], capture_output=True, text=True, env=env, check=False)
    if check_code is not None:
        assert result.returncode == check_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    return pack(root, product(root))


def test_validate_exit_codes_and_json_report(tmp_path, good_zip) -> None:
    ok = shazam("validate", str(good_zip), "--json", check_code=0)
    report = json.loads(ok.stdout)
    assert report["ok"] is True and report["errors"] == [] and isinstance(report["warnings"], list)

    bad = rewrite_zip(
        good_zip,
        tmp_path / "bad.zip",
        edit={"manifest.json": edit_manifest(lambda m: m.update(asin="B0x"))},
    )
    rejected = shazam("validate", str(bad), "--json", check_code=1)
    errors = json.loads(rejected.stdout)["errors"]
    assert {"code", "message", "hint"} <= set(errors[0]) and errors[0][
        "code"
    ] == "CONTRACT_ASIN_INVALID"

    human = shazam("validate", str(bad), check_code=1)
    assert (
        "REJECTED" in human.stdout
        and "CONTRACT_ASIN_INVALID" in human.stdout
        and "fix:" in human.stdout
    )

    missing = shazam("validate", str(tmp_path / "nope.zip"), check_code=2)
    assert "no such file" in missing.stderr
    unknown = shazam("validate", str(good_zip), "--profile", "ebay", check_code=2)
    assert "unknown profile 'ebay'" in unknown.stderr


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"version.json": b'{"forged": true}'}, "ZIP_RESERVED_NAME"),
        ({"photos/.shazam-tmp-0123abcd": b"x"}, "ZIP_RESERVED_NAME"),
        ({"photos": b"a file named like the photos folder"}, "ZIP_PATH_CONFLICT"),
        ({"photos/" + "a" * 300 + ".jpg": b"x"}, "ZIP_NAME_TOO_LONG"),
    ],
    ids=["version.json", "store temp name", "file beside folder", "300-byte name"],
)
def test_deliveries_that_could_never_be_stored_are_rejected_at_validation(
    tmp_path, good_zip, extra, code
) -> None:
    """Each was accepted (an unlisted-file warning) and then failed storing on every retry."""
    archive = rewrite_zip(good_zip, tmp_path / "unstorable.zip", add=extra)
    result = shazam("validate", str(archive), "--json", check_code=1)
    errors = json.loads(result.stdout)["errors"]
    assert [e["code"] for e in errors] == [code] and errors[0]["hint"]


def test_validate_a_bare_glb_and_a_gltf_with_resources() -> None:
    mixer = SHARED_DATA / "khronos-3dc" / "Mixer"
    if not mixer.exists():
        pytest.skip("../shared/data is not available")
    shazam("validate", str(mixer / "Mixer.glb"), check_code=0)
    result = shazam("validate", str(mixer / "glTF" / "Mixer.gltf"), "--json", check_code=0)
    assert json.loads(result.stdout)["stats"]["triangles"] > 1000


def test_pack_upload_status(tmp_path) -> None:
    prod = product(tmp_path)
    out = tmp_path / "delivery.zip"
    args = [
        "pack",
        "--asin",
        ASIN,
        "--model",
        str(prod.model),
        "--artist",
        "Ada",
        "--title",
        prod.title,
        "--dimensions",
        ",".join(map(str, prod.dimensions_m)),
        "--out",
        str(out),
        "--scan",
        str(prod.scan_obj),
    ]
    for photo in prod.photos:
        args += ["--photo", str(photo)]
    packed = shazam(*args, check_code=0)
    assert "ACCEPTED" in packed.stdout
    again = shazam(*args, check_code=2)  # never overwrites what the artist has
    assert "already exists" in again.stderr

    store = tmp_path / "store"
    up = shazam("upload", str(out), "--asin", ASIN, store=store, check_code=0)
    assert f"uploads/{ASIN}/delivery.zip" in up.stdout
    shazam("upload", str(out), "--asin", ASIN, store=store, check_code=2)  # same key: refused
    status = json.loads(shazam("status", ASIN, "--json", store=store, check_code=0).stdout)
    assert (
        status["asin"] == ASIN and status["versions"] == [] and status["published_version"] is None
    )
    assert status["uploads"][0]["outcome"] == "pending"
    assert shazam("status", "B0BAD", store=store, check_code=2).stderr.strip()


def test_store_failures_are_one_clear_line(tmp_path, good_zip, monkeypatch) -> None:
    """An unreachable S3 endpoint: exit 2, one line naming the problem, no traceback."""
    monkeypatch.setenv("SHAZAM_STORE_URL", "s3://no-such-bucket")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = shazam("upload", str(good_zip), "--asin", ASIN, check_code=2)
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1


def test_qa_commands(tmp_path, good_zip) -> None:
    from shazam_assets.ingest import pipeline as ingest
    from shazam_assets.platform.storage import LocalStore

    root = tmp_path / "store"
    store = LocalStore(root)
    for name in ("a.zip", "b.zip"):
        store.put_file(f"uploads/{ASIN}/{name}", good_zip)
        upload = ingest.resolve_upload(store, ASIN, key=f"uploads/{ASIN}/{name}")
        ingest.validate_upload(store, upload)
        ingest.store_upload(store, upload)

    backlog = json.loads(shazam("qa", "pending", "--json", store=root, check_code=0).stdout)
    assert [(p["asin"], p["version"], p["overdue"]) for p in backlog] == [(ASIN, 2, False)]
    overdue = shazam("qa", "pending", "--sla-hours", "0", store=root, check_code=0).stdout
    assert "OVERDUE" in overdue and f"{ASIN} v2" in overdue

    superseded = shazam(
        "qa", "approve", ASIN, "--version", "1", "--reviewer", "Rita", store=root, check_code=2
    )
    assert "QA_SUPERSEDED" in superseded.stderr
    no_note = shazam("qa", "reject", ASIN, "--version", "2", "--reviewer", "Rita", store=root)
    assert no_note.returncode == 2 and "--note" in no_note.stderr  # the note is required
    ok = shazam(
        "qa",
        "reject",
        ASIN,
        "--version",
        "2",
        "--reviewer",
        "Rita",
        "--note",
        "Logo upside down",
        "--comment",
        "qa_placement=sits 2 cm high",
        store=root,
        check_code=0,
    )
    assert "rejected by Rita" in ok.stdout
    twice = shazam(
        "qa", "approve", ASIN, "--version", "2", "--reviewer", "Sam", store=root, check_code=2
    )
    assert "QA_ALREADY_DECIDED" in twice.stderr
    status = json.loads(shazam("status", ASIN, "--json", store=root, check_code=0).stdout)
    assert [v["state"] for v in status["versions"]] == ["pending_qa", "rejected"]
    assert status["versions"][1]["decision"]["notes"] == "Logo upside down"
    assert status["versions"][1]["decision"]["comments"] == [
        {"issue": "qa_placement", "comment": "sits 2 cm high"}
    ]
    assert "QA_NOTHING_PUBLISHED" in shazam("qa", "rollback", ASIN, store=root, check_code=2).stderr
    assert json.loads(shazam("qa", "pending", "--json", store=root, check_code=0).stdout) == []
