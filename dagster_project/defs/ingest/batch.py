"""`ingest_batch_job`: the uploads one sensor tick found, validated, stored and reviewed in one
run of up to `SHAZAM_INGEST_BATCH` (50) ASINs, each reported as that ASIN's own partition.

Why not a run over a partition range, or a backfill with `BackfillPolicy.multi_run`? A run has
one partition or one contiguous range, and the ASINs of a tick are contiguous among the dynamic
partitions only when all of them are new (a re-upload's ASIN sits wherever it was first added);
resolving a range also reads every key of the partitions definition (2.6 s at 1M ASINs), and a
backfill waits for the backfill daemon's loop and cannot hand each partition its own upload.
So the batch is a run of one op over a list of uploads (key + ETag each), and the op reports
exactly what the per-upload `ingest_job` would, per ASIN: a `delivery` materialization and a
`delivery_valid` evaluation with `partition=<ASIN>`, then `asset_version` and `qa_review`
materializations and the automatic QA checks for each stored version. The UI's per-partition
history, the check history per partition and the code versions (the `dagster/code_version` tag
Dagster puts on an asset's own materializations) are the same as from a per-upload run.

One delivery never fails its neighbours. Dagster fails a whole step after a blocking check
fails, which here would stop every ASIN of the batch, so the gate is applied per ASIN: a
rejected delivery is recorded as a failed `delivery_valid` evaluation (ERROR, not marked
blocking: it blocked only its own ASIN) and is never stored, while its neighbours are. A
rejection is the artist's to fix, not a failure of the run. Any other error (a vanished upload,
a store that failed) is isolated by `per_asin`: the rest of the batch is done first, then the
step fails naming every ASIN that failed (a transient error is retried: every step is
idempotent, so a retry finds the done ASINs done).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_project.defs.ingest.assets import (
    delivery_check_metadata,
    delivery_metadata,
    version_metadata,
)
from dagster_project.lib import automatic_qa, code_versions, keys
from dagster_project.lib.resources import ObjectStoreResource
from dagster_project.lib.retries import RETRY, is_transient, per_asin
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest.uploads import parse_upload_key
from shazam_assets.platform.storage import ObjectStore

CODE_VERSION_TAG = "dagster/code_version"  # the tag Dagster puts on an asset's materializations


class BatchUpload(dg.Config):
    """One upload of the batch, as the sensor saw it."""

    upload_key: str
    etag: str


class BatchConfig(dg.Config):
    """The uploads a batch run processes: at most one per ASIN."""

    uploads: list[BatchUpload]
    profile: str = ""


@dataclass
class _Events:
    """The events of the ASINs done so far, yielded once a phase has tried every ASIN."""

    items: list[Any]

    def materialized(self, key: dg.AssetKey, asin: str, version: str, meta: dict) -> None:
        self.items.append(
            dg.AssetMaterialization(
                asset_key=key, partition=asin, metadata=meta, tags={CODE_VERSION_TAG: version}
            )
        )

    def take(self) -> list[Any]:
        taken, self.items = self.items, []
        return taken

    def checked(self, key: dg.AssetKey, asin: str, result: dg.AssetCheckResult) -> None:
        self.items.append(
            dg.AssetCheckEvaluation(
                asset_key=key,
                check_name=result.check_name or "",
                passed=result.passed,
                severity=result.severity,
                description=result.description,
                metadata=result.metadata,
                partition=asin,
                blocking=False,  # the gate is applied per ASIN (module docstring)
            )
        )


def _ingest_one(
    s: ObjectStore, asin: str, item: BatchUpload, profile: str, events: _Events
) -> int | None:
    """Validate one upload and store it when accepted: the stored version, or None."""
    upload = ingest.resolve_upload(s, asin, key=item.upload_key, etag=item.etag)
    verdict = ingest.validate_upload(s, upload, profile=profile or None)
    events.materialized(
        keys.DELIVERY, asin, code_versions.VALIDATION, delivery_metadata(verdict, s)
    )
    events.checked(
        keys.DELIVERY,
        asin,
        dg.AssetCheckResult(
            check_name=keys.DELIVERY_VALID.name,
            passed=verdict.report.ok,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=delivery_check_metadata(verdict),
        ),
    )
    if not verdict.report.ok:
        return None  # rejected: recorded for the artist, never stored
    stored = ingest.store_upload(s, upload)
    events.materialized(
        keys.ASSET_VERSION, asin, code_versions.STORED_VERSION, version_metadata(stored, upload)
    )
    return stored.version


def _review_one(s: ObjectStore, asin: str, version: int, events: _Events) -> None:
    metadata, results = automatic_qa.review(s, asin, version)
    events.materialized(keys.QA_REVIEW, asin, code_versions.QA_SCORING, metadata)
    for result in results:
        events.checked(keys.QA_REVIEW, asin, result)


def _phase(asins: list[str], work: Callable[[str], Any], log: Callable[[str], None]):
    """`per_asin`, returning its error (raised once the batch is through) instead of raising."""
    try:
        per_asin(asins, work, log=log)
    except Exception as exc:  # re-raised by the op once the others' events are out
        return exc
    return None


@dg.op(retry_policy=RETRY, out={})
def ingest_batch(
    context: dg.OpExecutionContext, config: BatchConfig, store: ObjectStoreResource
) -> Iterator[Any]:
    """Validate, store and review every upload of the batch; each ASIN reported on its own.
    Stores first and reviews after, so the batch's last version is stored as early as the first."""
    s = store.open()
    items = {_asin_or_key(item): item for item in config.uploads}
    stored: dict[str, int] = {}
    events = _Events([])

    def ingest_one(asin: str) -> None:
        version = _ingest_one(s, asin, items[asin], config.profile, events)
        if version is not None:
            stored[asin] = version

    def review_one(asin: str) -> None:
        _review_one(s, asin, stored[asin], events)

    failed = [_phase(list(items), ingest_one, context.log.error)]
    yield from events.take()
    failed.append(_phase(list(stored), review_one, context.log.error))
    yield from events.take()
    context.log.info(
        f"{len(items)} uploads: {len(stored)} stored, {len(items) - len(stored)} rejected or failed"
    )
    errors = [e for e in failed if e is not None]
    if errors:  # a transient one first: the retry policy re-runs the batch (a stored upload is not stored again)
        raise next((e for e in errors if is_transient(e)), errors[0])


def _asin_or_key(item: BatchUpload) -> str:
    """The upload's ASIN; a key that is not an upload key fails alone (`resolve_upload`)."""
    parsed = parse_upload_key(item.upload_key)
    return item.upload_key if parsed is None else parsed[0]


@dg.job(
    description="Validate, store and review the uploads of one sensor tick: up to "
    "SHAZAM_INGEST_BATCH (50) ASINs per run, each reported as its own partition.",
)
def ingest_batch_job() -> None:
    ingest_batch()
