"""One settings object: every default written once, read by the pipeline, the CLI and the demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from shazam_assets.ingest.delivery.guard import Guard
from shazam_assets.ingest.delivery.profiles import MB
from shazam_assets.platform import settings
from shazam_assets.platform.settings import DEFAULTS, Settings


def test_from_env_reads_the_variables_that_are_set_and_keeps_the_defaults_of_the_rest() -> None:
    read = Settings.from_env(
        {
            "SHAZAM_STORE_URL": "s3://bucket/prefix",
            "SHAZAM_RENDER_FRAMES": "24",
            "SHAZAM_VALIDATION_TIMEOUT_S": "2.5",
            "SHAZAM_NOTIFY_URL": "",
            "UNRELATED": "x",
        }
    )
    assert read == Settings(
        store_url="s3://bucket/prefix", render_frames=24, validation_timeout_s=2.5
    )
    assert (
        read.render_size == 1024
        and read.notify_url == ""
        and read.review_sla == timedelta(hours=24)
    )


def test_embedded_defaults_live_under_the_checkout_and_export_every_variable(
    tmp_path: Path,
) -> None:
    embedded = settings.embedded(tmp_path)
    assert embedded.environment() == {
        "SHAZAM_STORE_URL": (tmp_path.resolve() / ".shazam" / "store").as_uri(),
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "36",
        "SHAZAM_RENDER_SIZE": "1024",
        "DAGSTER_HOME": str(tmp_path.resolve() / ".shazam" / "dagster_home"),
    }
    assert Settings.from_env(embedded.environment()) == embedded


def test_apply_embedded_fills_only_unset_variables(tmp_path: Path) -> None:
    environ = {"SHAZAM_RENDER_SIZE": "256"}
    applied = settings.apply_embedded(
        tmp_path, environ, Settings(render_frames=24, render_size=512)
    )
    assert (applied.render_frames, applied.render_size) == (24, 256)  # the set variable wins
    assert (tmp_path / ".shazam" / "dagster_home" / "dagster.yaml").is_file()


def test_every_reader_takes_its_default_from_the_one_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster_project.lib.resources import QASettingsResource, TurntableSettingsResource
    from shazam_assets.qa import backlog, decisions
    from shazam_assets.render.turntable import TurntableSpec

    spec = TurntableSpec()
    assert (spec.frames, spec.size) == (DEFAULTS.render_frames, DEFAULTS.render_size) == (36, 1024)
    turntables, qa = TurntableSettingsResource(), QASettingsResource()
    assert (turntables.frames, turntables.size) == (DEFAULTS.render_frames, DEFAULTS.render_size)
    assert (
        (qa.keep_approved, qa.sla_hours)
        == (DEFAULTS.keep_approved, DEFAULTS.review_sla_hours)
        == (1, 24.0)
    )
    assert backlog.pending_reviews.__kwdefaults__["sla"] == DEFAULTS.review_sla
    assert decisions.promote.__kwdefaults__["keep_approved"] == DEFAULTS.keep_approved
    for name in ("SHAZAM_VALIDATION_TIMEOUT_S", "SHAZAM_VALIDATION_MEMORY_MB"):
        monkeypatch.delenv(name, raising=False)
    assert Guard.from_env() == Guard(seconds=300.0, memory_bytes=3072 * MB)
    monkeypatch.setenv("SHAZAM_VALIDATION_MEMORY_MB", "64")
    assert Guard.from_env().memory_bytes == 64 * MB


def test_a_reader_is_not_refused_for_a_variable_it_never_reads() -> None:
    environ = {"SHAZAM_RENDER_FRAMES": "many", "SHAZAM_VALIDATION_TIMEOUT_S": "9"}
    with pytest.raises(ValueError):
        Settings.from_env(environ)
    assert Settings.from_env(environ, only=("validation_timeout_s",)).validation_timeout_s == 9.0
