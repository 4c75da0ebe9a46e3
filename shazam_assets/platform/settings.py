"""Every setting SHAZAM reads, with its default, in one typed object.

The Dagster resources (`dagster_project/lib/resources.py`), the `shazam` CLI and the demo all
read `Settings`; a default written anywhere else is a bug. Nothing here runs at import time:
`Settings.from_env()` reads the environment when a caller asks, and `embedded(root)` gives the
defaults of a checkout (its own store and Dagster instance under `.shazam/`).

The environment variables (the deployment sets them: deploy/k8s/env, the Helm values):
- SHAZAM_STORE_URL: `file:///abs/path` or `s3://bucket/prefix` (S3 endpoint and credentials
  come from boto3's standard variables, e.g. AWS_ENDPOINT_URL). Default: `.shazam/store`.
- SHAZAM_UPLOAD_QUEUE_URL: SQS queue with the bucket's S3 event notifications; empty means
  the upload sensor lists the prefix instead. Default: empty.
- SHAZAM_NOTIFY_URL: where rejections are sent: empty/`outbox:` (the store's outbox/),
  an https:// Slack incoming webhook, or `sns:<topic ARN>`. Default: empty.
- SHAZAM_RENDER_FRAMES, SHAZAM_RENDER_SIZE: turntable frames (8-72) and frame size in px.
  Default: 36 and 1024 (`shazam demo` uses 24 and 512 when they are unset: CPU rendering,
  `shazam_demo.run.DEMO_SETTINGS`).
- SHAZAM_VALIDATION_TIMEOUT_S, SHAZAM_VALIDATION_MEMORY_MB: the guard around one validation
  (the `delivery` asset, `shazam validate`): wall-clock seconds and address space. Default:
  300 and 3072; an overrun is a coded rejection.
- SHAZAM_INGEST_BATCH: uploads per batched ingest run (default 50; 1 turns batching off).
- SHAZAM_SENSOR_INTERVAL_S: seconds between ticks of the decision, publish and scan-data
  sensors. Default: 15; 5 on the embedded default (`apply_embedded`, the demo's daemon).
- SHAZAM_UPLOAD_WAIT_S: seconds an upload sensor tick that finds nothing waits for an upload
  (SQS long poll, or re-listing every 0.25 s). Default: 4; 0 turns it off.
- DAGSTER_HOME: the Dagster instance directory. Default: `.shazam/dagster_home` (SQLite).
Review policy has no variable (change it in the Dagster resource config of `qa_settings`):
the review SLA (24 h) and how many older approved versions are kept for rollback (1).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DAGSTER_YAML = """\
# Written by `shazam` for the embedded default instance (SQLite under this folder).
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 4
  dequeue_interval_seconds: 1  # Dagster's default, 5, adds ~2.5 s to every upload's wait
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
"""

# field -> environment variable, in the order `shazam env` prints them
EXPORTED = {
    "store_url": "SHAZAM_STORE_URL",
    "upload_queue_url": "SHAZAM_UPLOAD_QUEUE_URL",
    "notify_url": "SHAZAM_NOTIFY_URL",
    "render_frames": "SHAZAM_RENDER_FRAMES",
    "render_size": "SHAZAM_RENDER_SIZE",
    "dagster_home": "DAGSTER_HOME",
}
# read when set, but not exported: their defaults live in this file, not in the deployment
READ_ONLY = {
    "validation_timeout_s": "SHAZAM_VALIDATION_TIMEOUT_S",
    "validation_memory_mb": "SHAZAM_VALIDATION_MEMORY_MB",
    "ingest_batch": "SHAZAM_INGEST_BATCH",
    "sensor_interval_s": "SHAZAM_SENSOR_INTERVAL_S",
    "upload_wait_s": "SHAZAM_UPLOAD_WAIT_S",
}
_PARSE = {
    "render_frames": int,
    "render_size": int,
    "validation_timeout_s": float,
    "validation_memory_mb": int,
    "ingest_batch": int,
    "sensor_interval_s": int,
    "upload_wait_s": int,
}
# The embedded default's store is a folder on a laptop: listing it costs nothing, so its sensors
# look every 5 s (Dagster's sensor loop), as fast as they can.
EMBEDDED_SENSOR_INTERVAL_S = 5


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the pipeline, the CLI and the demo run with. `None` for the store and the Dagster
    home means "the checkout's embedded default" (see `embedded`)."""

    store_url: str | None = None
    upload_queue_url: str = ""
    notify_url: str = ""
    render_frames: int = 36  # turntable frames around the product (8-72)
    render_size: int = 1024  # turntable frame size in px
    validation_timeout_s: float = 300.0
    validation_memory_mb: int = 3072
    # Uploads per batched ingest run: a burst found in one sensor tick becomes runs of up to this
    # many ASINs, so a run's start (~4 s: a process, the code location) is paid once per batch,
    # and one batch (~0.3 s to validate and store each, ~1 s to review) ends within minutes.
    # 1 turns batching off (one run per upload, as before).
    ingest_batch: int = 50
    # Seconds between ticks of the store-watching sensors (decisions, published pointers, scan
    # data). Each tick lists its prefix (scanning.py): cheap on a local folder, about 100 list
    # requests per 100k objects on S3, hence 15 s by default and 5 s on the embedded default.
    sensor_interval_s: int = 15
    # Seconds an upload sensor tick that finds nothing keeps waiting for an upload (SQS: the
    # first receive's long poll; listing: a pass every 0.25 s, on S3 one LIST request per 1,000
    # keys), so an upload starts its run when it lands. Under Dagster's 5 s sensor loop, 4 s
    # covers nearly all of the time between ticks. 0 turns waiting off.
    upload_wait_s: int = 4
    review_sla_hours: float = 24.0  # a review older than this is overdue
    keep_approved: int = 1  # older approved versions kept for rollback
    dagster_home: str | None = None

    @property
    def review_sla(self) -> timedelta:
        return timedelta(hours=self.review_sla_hours)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, only: Collection[str] | None = None
    ) -> Settings:
        """The defaults, overridden by every variable that is set and not empty (with `only`,
        by those of the named settings alone: a caller is not refused for a variable it never
        reads)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, variable in (EXPORTED | READ_ONLY).items():
            if only is not None and name not in only:
                continue
            if raw := env.get(variable, ""):
                values[name] = _PARSE.get(name, str)(raw)
        return cls(**values)  # type: ignore[arg-type]

    def environment(self) -> dict[str, str]:
        """The exported variables as strings (the store and Dagster home must be resolved)."""
        return {variable: str(getattr(self, name)) for name, variable in EXPORTED.items()}


DEFAULTS = Settings()


def embedded(root: Path, base: Settings = DEFAULTS) -> Settings:
    """`base` with the store and Dagster instance of the checkout at `root` (`.shazam/`)."""
    home = root.resolve() / ".shazam"
    return dataclasses.replace(
        base, store_url=(home / "store").as_uri(), dagster_home=str(home / "dagster_home")
    )


def apply_embedded(
    root: Path, environ: MutableMapping[str, str], base: Settings = DEFAULTS
) -> Settings:
    """Fill the unset exported variables of `environ` with `embedded(root, base)`, create the
    Dagster home if it has no dagster.yaml, and return the settings now in force."""
    for name, value in embedded(root, base).environment().items():
        environ.setdefault(name, value)
    environ.setdefault(READ_ONLY["sensor_interval_s"], str(EMBEDDED_SENSOR_INTERVAL_S))
    ensure_dagster_home(Path(environ["DAGSTER_HOME"]))
    return Settings.from_env(environ)


def ensure_dagster_home(home: Path) -> Path:
    """Create the instance folder with a dagster.yaml if it has none (never overwrites one)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home
