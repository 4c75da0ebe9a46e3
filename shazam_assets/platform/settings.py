"""The environment variables SHAZAM reads, and their embedded defaults inside a checkout.

Nothing here runs at import time: callers ask for `defaults(root)` and decide what to apply.
- SHAZAM_STORE_URL: `file:///abs/path` or `s3://bucket/prefix` (S3 endpoint and credentials
  come from boto3's standard variables, e.g. AWS_ENDPOINT_URL). Default: `.shazam/store`.
- SHAZAM_UPLOAD_QUEUE_URL: SQS queue with the bucket's S3 event notifications; empty means
  the upload sensor lists the prefix instead. Default: empty.
- SHAZAM_NOTIFY_URL: where rejections are sent: empty/`outbox:` (the store's outbox/),
  an https:// Slack incoming webhook, or `sns:<topic ARN>`. Default: empty.
- SHAZAM_RENDER_FRAMES, SHAZAM_RENDER_SIZE: turntable frames (8-72) and frame size in px.
  Default: 36 and 1024 (`shazam demo` uses 24 and 512 when they are unset: CPU rendering).
- SHAZAM_VALIDATION_TIMEOUT_S, SHAZAM_VALIDATION_MEMORY_MB: the guard around one validation
  (the `delivery` asset, `shazam validate`): wall-clock seconds and address space. Default:
  300 and 3072 (`shazam_assets.ingest.delivery.guard.Guard`); an overrun is a coded rejection.
- DAGSTER_HOME: the Dagster instance directory. Default: `.shazam/dagster_home` (SQLite).
"""

from __future__ import annotations

from pathlib import Path

DAGSTER_YAML = """\
# Written by `shazam` for the embedded default instance (SQLite under this folder).
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 4
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
"""


def defaults(root: Path) -> dict[str, str]:
    """Default values of every variable for a checkout at `root`."""
    base = root.resolve() / ".shazam"
    return {
        "SHAZAM_STORE_URL": (base / "store").as_uri(),
        "SHAZAM_UPLOAD_QUEUE_URL": "",
        "SHAZAM_NOTIFY_URL": "",
        "SHAZAM_RENDER_FRAMES": "36",
        "SHAZAM_RENDER_SIZE": "1024",
        "DAGSTER_HOME": str(base / "dagster_home"),
    }


def ensure_dagster_home(home: Path) -> Path:
    """Create the instance folder with a dagster.yaml if it has none (never overwrites one)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home
