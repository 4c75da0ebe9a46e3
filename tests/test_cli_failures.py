"""Every failure of the `shazam` command is one line with a code and exit code 2 (a real
subprocess): bad reviewer names, mistyped store roots, upload names no sensor picks up, a full
disk. Exit code 1 means "rejected" and is never the answer to an operator's or a typing error."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from shazam_assets.platform.storage import LocalStore
from shazam_assets.qa.decisions import read_decision
from tests.builders import ASIN, edit_manifest, pack, product, rewrite_zip, store_delivery
from tests.qa.review.conftest import shazam_review
from tests.studio.conftest import REVIEWER, Session, oidc_issuer, sign_in
from tests.test_cli import SHAZAM

__all__ = ["oidc_issuer"]  # the studio's fixture, used here

ROOT = Path(__file__).resolve().parents[1]


def run(
    *args: str | bytes,
    store: Path | None = None,
    url: str | None = None,
    limit_bytes: int | None = None,
    code: int,
) -> subprocess.CompletedProcess[str]:
    """`shazam ARGS` as a terminal runs it; args may be bytes (what a non-UTF-8 terminal sends)."""
    env = dict(os.environ)
    if store is not None or url is not None:
        env["SHAZAM_STORE_URL"] = url or store.as_uri()  # type: ignore[union-attr]
        env["DAGSTER_HOME"] = str(
            (store or Path(urllib.parse.urlsplit(url).path)).parent / "dagster_home"
        )
    env.pop("SHAZAM_DEBUG", None)

    def file_size_limit() -> None:  # a disk that fills up: writes past it fail with EFBIG
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    result = subprocess.run(
        [SHAZAM, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        errors="backslashreplace",
        preexec_fn=file_size_limit,
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if code == 2:  # one line, after whatever progress the command printed
        assert [line for line in result.stderr.splitlines() if line.strip()][-1].startswith(
            "Error: "
        ), result.stderr
        assert result.stderr.count("\n") <= 2 or result.stderr.startswith("Usage:"), (
            result.stderr
        )  # click's usage help
    return result


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-failures")
    return pack(root, product(root))


@pytest.fixture
def stored(tmp_path: Path, good_zip: Path) -> Path:
    """A store root holding one version of ASIN waiting for review."""
    root = tmp_path / "store"
    root.mkdir()
    store_delivery(LocalStore(root), good_zip)
    return root


@pytest.fixture
def review_page(stored: Path, oidc_issuer: str) -> Iterator[Session]:
    """`shazam review` (the studio) serving the store over HTTP, a reviewer signed in."""
    with shazam_review(stored, oidc_issuer) as (base, _):
        yield sign_in(base, REVIEWER)


# --- reviewer names and notes ---------------------------------------------------------------


def test_a_reviewer_name_from_a_latin1_terminal_is_refused_and_the_pages_stay_up(
    stored, review_page
) -> None:
    refused = run(
        "qa", "approve", ASIN, "--version", "1", "--reviewer", b"Jos\xe9", store=stored, code=2
    )
    assert "TEXT_NOT_UTF8" in refused.stderr and "0xE9" in refused.stderr
    assert read_decision(LocalStore(stored), ASIN, 1) is None
    run(
        "qa",
        "reject",
        ASIN,
        "--version",
        "1",
        "--reviewer",
        "Rita",
        "--note",
        "logo\x1b[2J missing",
        store=stored,
        code=2,
    )
    long_name = run(
        "qa", "approve", ASIN, "--version", "1", "--reviewer", "R" * 500, store=stored, code=2
    )
    assert "TEXT_TOO_LONG" in long_name.stderr

    done = run(
        "qa", "approve", ASIN, "--version", "1", "--reviewer", "Jose\u0301 ", store=stored, code=0
    )
    assert "approved by Jos\u00e9 at" in done.stdout  # stored as NFC, trimmed
    assert read_decision(LocalStore(stored), ASIN, 1).reviewer == "Jos\u00e9"
    for path in ("/review", f"/review/asins/{ASIN}/v1"):
        page = review_page.get(path)
        assert page.status_code == 200 and "Jos\u00e9" in page.text


def test_the_review_form_refuses_notes_that_are_not_text(stored, review_page) -> None:
    url = f"/review/asins/{ASIN}/v1/decision"
    form = {"content-type": "application/x-www-form-urlencoded"}
    latin1 = review_page.post(url, content=b"verdict=reject&notes=Jos%E9", headers=form)
    assert latin1.status_code == 422 and "TEXT_NOT_UTF8" in latin1.text  # a Latin-1 client
    backwards = review_page.post(url, data={"verdict": "reject", "notes": "ok\u202eko"})
    assert backwards.status_code == 422 and "TEXT_CONTROL_CHARACTER" in backwards.text
    long = review_page.post(url, data={"verdict": "reject", "notes": "x" * 5000})
    assert long.status_code == 422 and "TEXT_TOO_LONG" in long.text
    assert read_decision(LocalStore(stored), ASIN, 1) is None
    done = review_page.post(url, data={"verdict": "reject", "notes": "logo missing\r\nsee photo 2"})
    assert done.status_code == 303 and review_page.get(done.headers["location"]).status_code == 200
    assert read_decision(LocalStore(stored), ASIN, 1).notes == "logo missing\nsee photo 2"


def test_a_name_stored_by_an_older_release_does_not_break_the_pages(stored, review_page) -> None:
    """Stores written before names were checked may hold a lone surrogate; pages still answer."""
    decision = {
        "asin": ASIN,
        "version": 1,
        "verdict": "reject",
        "reviewer": "Jos\udce9",
        "decided_at": "2026-12-01T10:00:00+00:00",
        "notes": "bad \udce9",
        "source": "cli",
    }
    LocalStore(stored).put_bytes(f"decisions/{ASIN}/v1.json", json.dumps(decision).encode())
    for path in ("/review", f"/review/asins/{ASIN}/v1"):
        page = review_page.get(path)
        assert page.status_code == 200 and "Jos\ufffd" in page.text
    assert "Jos\ufffd" in run(
        "status", ASIN, "--json", store=stored, code=0
    ).stdout.encode().decode("unicode_escape")


def test_manifest_free_text_that_would_reach_pages_is_checked_at_validation(
    tmp_path, good_zip
) -> None:
    """A title that repaints the terminal or reads backwards is a rejection with its reason."""

    def hostile(manifest: dict) -> None:
        manifest["product"]["title"] = "Mug \x1b[2J\u202eevil"

    bad = rewrite_zip(
        good_zip, tmp_path / "bad.zip", edit={"manifest.json": edit_manifest(hostile)}
    )
    result = run("validate", str(bad), "--json", code=1)
    (error,) = json.loads(result.stdout)["errors"]
    assert (
        error["code"] == "CONTRACT_MANIFEST_SCHEMA" and "TEXT_CONTROL_CHARACTER" in error["message"]
    )


# --- store URLs, upload names, full disks, temp files ---------------------------------------


def test_a_mistyped_store_root_is_refused_not_created(tmp_path, good_zip) -> None:
    (tmp_path / "store").mkdir()
    typo = tmp_path / "stroe"
    result = run("upload", str(good_zip), "--asin", ASIN, store=typo, code=2)
    assert "STORE_ROOT_MISSING" in result.stderr and not typo.exists()
    assert "STORE_ROOT_MISSING" in run("status", ASIN, store=typo, code=2).stderr
    assert (
        "STORE_URL_INVALID"
        in run("status", ASIN, url="ftp://x/y", store=tmp_path / "store", code=2).stderr
    )


@pytest.mark.parametrize("name", ["a/b.zip", ".zip", "a.zip/", ".shazam-tmp-x.zip", "x\x07.zip"])
def test_upload_names_the_sensor_would_never_pick_up_are_refused(stored, good_zip, name) -> None:
    before = sorted(p for p in stored.rglob("*"))
    result = run("upload", str(good_zip), "--asin", ASIN, "--name", name, store=stored, code=2)
    assert "UPLOAD_NAME_INVALID" in result.stderr or "TEXT_" in result.stderr
    assert sorted(p for p in stored.rglob("*")) == before


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(stored, good_zip) -> None:
    result = run(
        "upload",
        str(good_zip),
        "--asin",
        ASIN,
        "--name",
        "again.zip",
        store=stored,
        limit_bytes=good_zip.stat().st_size // 2,
        code=2,
    )
    assert "Error: OS_EFBIG: File too large" in result.stderr or "Error: OS_ENOSPC" in result.stderr
    assert (
        not list(stored.rglob(".shazam-tmp-*"))
        and not (stored / f"uploads/{ASIN}/again.zip").exists()
    )


def test_temporary_files_of_killed_writes_are_reclaimed(stored) -> None:
    folder = stored / "uploads" / ASIN
    killed, running = folder / ".shazam-tmp-0123abcd", folder / ".shazam-tmp-4567ef01"
    killed.write_bytes(b"x" * 1000)
    running.write_bytes(b"y" * 10)
    two_hours_ago = time.time() - 7200
    os.utime(killed, (two_hours_ago, two_hours_ago))
    assert not any(".shazam-tmp" in i.key for i in LocalStore(stored).list(""))
    staging = stored / "staging" / ASIN / "upload1" / "run1"
    staging.mkdir(parents=True)
    (staging / "model.glb").write_bytes(b"z" * 500)  # a run killed between staging and commit
    two_days_ago = time.time() - 2 * 86400
    os.utime(staging / "model.glb", (two_days_ago, two_days_ago))
    result = run("store", "gc", store=stored, code=0)
    assert "reclaimed 1 temporary files (1,000 bytes)" in result.stdout
    assert "reclaimed 1 staging files (500 bytes)" in result.stdout
    assert not killed.exists() and running.exists()  # a write may still be filling it
    assert not (staging / "model.glb").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("qa", "approve", "B0x", "--version", "1", "--reviewer", "Rita"), "ASIN_INVALID"),
        (("qa", "pending", "--sla-hours", "nan"), "not a number of hours"),
        (("backfill", "--stage", "qa", "--asins", "{latin1}", "--dry-run"), "ASINS_FILE_INVALID"),
    ],
)
def test_bad_arguments_are_one_line_with_a_code_never_exit_1(stored, tmp_path, args, code) -> None:
    latin1 = tmp_path / "asins.txt"
    latin1.write_bytes(b"B0TESTAAA1 # Jos\xe9\n")
    result = run(*(a.format(latin1=latin1) for a in args), store=stored, code=2)
    assert code in result.stderr


def test_operator_commands_print_no_dagster_preview_warnings(stored) -> None:
    """`shazam failures` loads the code location: Dagster's Beta/Preview notices about APIs the
    project chose on purpose are for its developers, not for the person at the terminal."""
    result = run("failures", store=stored, code=0)
    assert "Warning" not in result.stderr, result.stderr


def test_loading_the_code_location_prints_no_dagster_preview_warnings() -> None:
    """`dagster`, `dagster-daemon` and `shazam ui` load the code location in processes of their
    own: the notices about the preview APIs it uses on purpose are silenced where the
    definitions are built, not per command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARNINGS")}
    load = "import dagster_project.definitions as d; d.defs.resolve_all_job_defs()"  # as a code server does
    result = subprocess.run(
        [sys.executable, "-c", load], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_dagster_loading_the_workspace_prints_no_warnings(tmp_path) -> None:
    """`dagster dev`, the daemon and the code server load `workspace.yaml` (the chart's
    deployment is named the same): the code location's name agrees with the dg project's, so
    Dagster's component loader has nothing to warn about either."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARNINGS")}
    env.update(DAGSTER_HOME=str(tmp_path), SHAZAM_STORE_URL=(tmp_path / "store").as_uri())
    (tmp_path / "dagster.yaml").write_text("")  # an instance, as `shazam` commands set one up
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    # Dagster's own CLI notice that this command has a `dg` successor is about the tool, not us
    warnings = [
        line
        for line in lines
        if "WARNING" in line.upper() and "definitions_validate_command" not in line
    ]
    assert not warnings, "\n".join(warnings)
