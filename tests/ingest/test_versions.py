"""The version store on every backend: immutable versions, staged writes, nothing lost."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from pathlib import Path

import pytest

from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest import versions
from shazam_assets.operations.status import asin_status
from shazam_assets.platform.storage import ObjectStore
from tests.builders import ASIN, edit_manifest, pack, product, rewrite_zip
from tests.stores import Recording


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deliveries")
    return pack(root, product(root))


@pytest.fixture(scope="module")
def bad_zip(tmp_path_factory, good_zip) -> Path:
    root = tmp_path_factory.mktemp("bad")
    return rewrite_zip(
        good_zip,
        root / "bad.zip",
        edit={"manifest.json": edit_manifest(lambda m: m.update(asin="B0OTHER001"))},
    )


def _upload(store: ObjectStore, zip_path: Path, name: str = "delivery.zip", asin: str = ASIN):
    store.put_file(f"uploads/{asin}/{name}", zip_path)
    return ingest.resolve_upload(store, asin, key=f"uploads/{asin}/{name}")


def _ingest(store: ObjectStore, upload):
    verdict = ingest.validate_upload(store, upload)
    assert verdict.report.ok, verdict.report.to_json()
    return ingest.store_upload(store, upload)


def test_accepted_upload_becomes_v1_with_checksummed_manifest(store, good_zip) -> None:
    upload = _upload(store, good_zip)
    stored = _ingest(store, upload)
    assert (stored.version, stored.created) == (1, True)
    manifest = versions.read_version_manifest(store, ASIN, 1)
    assert manifest.upload.key == upload.key and manifest.upload.etag == upload.etag
    assert manifest.validation["ok"] is True
    with zipfile.ZipFile(good_zip) as archive:
        expected = {n: hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist()}
    assert {f.path: f.sha256 for f in manifest.files} == expected
    for f in manifest.files:
        data = store.get_bytes(f"assets/{ASIN}/v1/{f.path}")
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.size
    assert list(store.list("staging/")) == []
    assert store.exists(upload.key)  # the upload is never deleted


def test_rerun_of_the_same_upload_is_a_no_op(store, good_zip) -> None:
    upload = _upload(store, good_zip)
    first = _ingest(store, upload)
    again = _ingest(store, upload)
    assert (again.version, again.created) == (first.version, False)
    assert versions.list_versions(store, ASIN) == [1]


def test_two_uploads_arriving_together_get_two_versions(store, good_zip) -> None:
    uploads = [_upload(store, good_zip, name=f"d{i}.zip") for i in range(3)]
    for u in uploads:
        ingest.validate_upload(store, u)
    results: dict[str, int] = {}
    threads = [
        threading.Thread(
            target=lambda u=u: results.update({u.key: ingest.store_upload(store, u).version})
        )
        for u in uploads
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [1, 2, 3]
    assert versions.list_versions(store, ASIN) == [1, 2, 3]


def test_the_same_upload_stored_concurrently_makes_one_version(local_store, good_zip) -> None:
    upload = _upload(local_store, good_zip)
    ingest.validate_upload(local_store, upload)
    got: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: got.append(ingest.store_upload(local_store, upload).version)
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 1
    assert versions.list_versions(local_store, ASIN) == got[:1]


def test_rejected_upload_never_reaches_assets(store, bad_zip) -> None:
    upload = _upload(store, bad_zip)
    verdict = ingest.validate_upload(store, upload)
    assert not verdict.report.ok
    with pytest.raises(versions.VersionStoreError, match="rejected"):
        ingest.store_upload(store, upload)
    assert list(store.list("assets/")) == []
    record = json.loads(store.get_bytes(f"rejections/{ASIN}/{upload.upload_id}.json"))
    assert record["codes"] == ["CONTRACT_ASIN_MISMATCH"] and record["upload"]["key"] == upload.key
    assert store.exists(upload.key)
    status = asin_status(store, ASIN)
    assert status["versions"] == [] and status["rejections"][0]["codes"] == [
        "CONTRACT_ASIN_MISMATCH"
    ]
    assert status["uploads"][0]["outcome"] == "rejected"


def test_unvalidated_upload_is_refused(local_store, good_zip) -> None:
    upload = _upload(local_store, good_zip)
    with pytest.raises(versions.VersionStoreError, match="has not been validated"):
        ingest.store_upload(local_store, upload)


def test_files_are_staged_first_and_version_manifest_written_last(local_store, good_zip) -> None:
    upload = _upload(local_store, good_zip)
    ingest.validate_upload(local_store, upload)
    recorder = Recording(local_store)
    ingest.store_upload(recorder, upload)
    writes = [(op, key) for op, key in recorder.changes if op in ("put", "copy")]
    assert writes[-1] == ("put", f"assets/{ASIN}/v1/version.json")
    staged = [i for i, (op, key) in enumerate(writes) if key.startswith("staging/")]
    into_version = [i for i, (op, key) in enumerate(writes) if key.startswith(f"assets/{ASIN}/v1/")]
    assert staged and max(staged) < min(into_version)
    assert all(
        op == "copy"
        for op, key in writes
        if key.startswith("assets/") and not key.endswith("version.json")
    )
    deletes = [key for op, key in recorder.changes if op == "delete"]
    assert deletes and all(key.startswith("staging/") for key in deletes)  # only its own staging


def test_a_crash_mid_copy_commits_nothing_and_a_rerun_resumes_the_same_number(
    local_store, good_zip
) -> None:
    upload = _upload(local_store, good_zip)
    ingest.validate_upload(local_store, upload)
    with pytest.raises(ConnectionError):
        ingest.store_upload(Recording(local_store, fail_copy_at=2), upload)
    assert versions.list_versions(local_store, ASIN) == []
    assert [v["state"] for v in asin_status(local_store, ASIN)["versions"]] == ["storing"]
    stored = ingest.store_upload(local_store, upload)
    assert (stored.version, stored.created) == (1, True)
    assert [v["state"] for v in asin_status(local_store, ASIN)["versions"]] == ["pending_qa"]


def test_version_numbers_are_never_reused_after_deletion(local_store, good_zip) -> None:
    first = _ingest(local_store, _upload(local_store, good_zip, name="a.zip"))
    for info in list(local_store.list(f"assets/{ASIN}/v{first.version}/")):
        local_store.delete(info.key)  # what retention will do to an old version
    second = _ingest(local_store, _upload(local_store, good_zip, name="b.zip"))
    assert second.version == first.version + 1


# --- the store owns its control files ------------------------------------------------------


def _accepted_as_is(store: ObjectStore, zip_path: Path, upload):
    """Record an 'ok' verdict without judging the archive: what a verdict made under older
    rules, or a bug in validation, would leave. Storing must still protect itself."""
    from shazam_assets.ingest.delivery.report import build_report

    with zipfile.ZipFile(zip_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    report = build_report(subject=upload.key, profile="default", issues=[])
    versions.record_validation(store, upload=upload, report=report, manifest=manifest)


@pytest.mark.parametrize("member", ["version.json", "photos/.shazam-tmp-0123"])
def test_an_archive_member_never_lands_on_a_control_key(
    local_store, good_zip, tmp_path, member
) -> None:
    forged = json.dumps({"schema": versions.VERSION_SCHEMA, "files": [], "forged": True}).encode()
    zip_path = rewrite_zip(good_zip, tmp_path / "forged.zip", add={member: forged})
    upload = _upload(local_store, zip_path)
    _accepted_as_is(local_store, zip_path, upload)
    with pytest.raises(versions.VersionStoreError):
        ingest.store_upload(local_store, upload)
    assert versions.list_versions(local_store, ASIN) == []
    assert list(local_store.list("staging/")) == []  # nothing staged is left behind


def test_a_version_manifest_this_run_did_not_write_is_never_trusted(store, good_zip) -> None:
    store.put_bytes(
        f"assets/{ASIN}/v1/version.json", json.dumps({"files": [], "forged": True}).encode()
    )
    upload = _upload(store, good_zip)
    ingest.validate_upload(store, upload)
    with pytest.raises(versions.VersionStoreError, match="v1"):
        ingest.store_upload(store, upload)
    assert (
        json.loads(store.get_bytes(f"assets/{ASIN}/v1/version.json"))["forged"] is True
    )  # untouched
    assert list(store.list("staging/")) == []


class _Collide(Recording):
    """Holds every run at the version manifest's conditional write until all have reached it:
    the worst interleaving of concurrent runs of one upload, made deterministic."""

    def __init__(self, inner: ObjectStore, runs: int) -> None:
        super().__init__(inner)
        self.barrier = threading.Barrier(runs, timeout=60)

    def put_if_absent(self, key, data):
        if key.endswith("/" + versions.VERSION_MANIFEST):
            self.barrier.wait()
        return self.inner.put_if_absent(key, data)


def test_only_the_run_that_committed_the_version_reports_it_created(store, good_zip) -> None:
    upload = _upload(store, good_zip)
    ingest.validate_upload(store, upload)
    collide = _Collide(store, runs=3)
    results: list[versions.StoredVersion] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(ingest.store_upload(collide, upload))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False, False, True]
    assert {r.version for r in results} == {1} and versions.list_versions(store, ASIN) == [1]
    assert list(store.list("staging/")) == []


def test_a_failed_store_leaves_no_staging_files(local_store, good_zip) -> None:
    upload = _upload(local_store, good_zip)
    ingest.validate_upload(local_store, upload)
    with pytest.raises(ConnectionError):
        ingest.store_upload(Recording(local_store, fail_copy_at=2), upload)
    assert list(local_store.list("staging/")) == []
