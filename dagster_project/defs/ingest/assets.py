"""The `scan_data`, `delivery` and `asset_version` assets of each ASIN partition, and their jobs."""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.configs import UploadConfig
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource
from dagster_project.lib.retries import RETRY, transient_only
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest.scans import register_scan
from shazam_assets.ingest.uploads import Upload
from shazam_assets.ingest.versions import StoredVersion
from shazam_assets.platform.storage import ObjectStore


def _upload(context: dg.AssetExecutionContext, config: UploadConfig, store: ObjectStoreResource):
    try:
        return ingest.resolve_upload(
            store.open(), context.partition_key, key=config.upload_key, etag=config.etag
        )
    except ingest.UploadNotFound as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="ingest",
    kinds={"zip"},
    code_version=code_versions.VALIDATION,
    check_specs=[
        dg.AssetCheckSpec(
            keys.DELIVERY_VALID.name,
            asset=keys.DELIVERY,
            blocking=True,
            partitions_def=asin_partitions,
            description="The delivery passes ZIP safety, the delivery contract, glTF validity and "
            "the commerce budget profile. A failure (ERROR) stops the version from being stored.",
        )
    ],
)
@transient_only
def delivery(
    context: dg.AssetExecutionContext, config: UploadConfig, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """The artist's delivery ZIP for this product, judged against the delivery contract
    (docs/delivery-spec.md). Its validation report is kept whatever the verdict; a rejected
    delivery is recorded under rejections/ with every reason the artist needs to fix it."""
    upload = _upload(context, config, store)
    verdict = ingest.validate_upload(store.open(), upload, profile=config.profile or None)
    return dg.MaterializeResult(
        metadata=delivery_metadata(verdict, store.open()),
        check_results=[
            dg.AssetCheckResult(
                check_name=keys.DELIVERY_VALID.name,
                passed=verdict.report.ok,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=delivery_check_metadata(verdict),
            )
        ],
    )


def delivery_metadata(verdict: ingest.Verdict, s: ObjectStore) -> dict[str, Any]:
    """What the UI shows of one judged delivery (the asset's and a batch run's materialization)."""
    report, upload = verdict.report, verdict.upload
    stats = report.stats
    return {
        "upload_key": upload.key,
        "etag": upload.etag,
        "verdict": "accepted" if report.ok else "rejected",
        "profile": report.profile,
        "archive_bytes": dg.MetadataValue.int(int(stats.get("archive_bytes", 0))),
        "triangles": dg.MetadataValue.int(int(stats.get("triangles", 0))),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "report_uri": dg.MetadataValue.path(s.uri(verdict.record_key)),
        "issues": dg.MetadataValue.md(report.to_markdown()),
    }


def delivery_check_metadata(verdict: ingest.Verdict) -> dict[str, Any]:
    """The `delivery_valid` result's metadata: the codes a rejection carries."""
    report = verdict.report
    return {
        "codes": ", ".join(report.codes) or "none",
        "warnings": ", ".join(dict.fromkeys(w.code for w in report.warnings)) or "none",
        "issues": dg.MetadataValue.md(report.to_markdown()),
    }


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="ingest",
    deps=[delivery],
    kinds={"s3"},
    code_version=code_versions.STORED_VERSION,
)
@transient_only
def asset_version(
    context: dg.AssetExecutionContext, config: UploadConfig, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """The accepted delivery unpacked as a new immutable version `assets/<ASIN>/v<N>/` with a
    version.json listing every file's sha256 and size. Re-running the same upload is a no-op."""
    upload = _upload(context, config, store)
    stored = ingest.store_upload(store.open(), upload)
    return dg.MaterializeResult(metadata=version_metadata(stored, upload))


def version_metadata(stored: StoredVersion, upload: Upload) -> dict[str, Any]:
    """What the UI shows of one stored version (the asset's and a batch run's materialization)."""
    rows = "\n".join(f"| {f.path} | {f.size:,} | `{f.sha256[:12]}` |" for f in stored.files)
    return {
        "version": stored.version,
        "new_version": stored.created,
        "uri": dg.MetadataValue.path(stored.uri),
        "files": len(stored.files),
        "total_bytes": dg.MetadataValue.int(stored.total_bytes),
        "upload_key": upload.key,
        "contents": dg.MetadataValue.md("| file | bytes | sha256 |\n|---|---|---|\n" + rows),
    }


# Every op takes the UploadConfig of the upload the run processes (lib.configs.UPLOAD_OPS). The
# reviewer's decision check runs only in check-only runs requested by the QA sensor.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(keys.DELIVERY, keys.ASSET_VERSION, keys.QA_REVIEW)
    - dg.AssetSelection.checks(keys.QA_APPROVED),
    partitions_def=asin_partitions,
    description="Validate one upload, store it as a new version of its ASIN, and run automatic QA on it.",
)


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="ingest",
    kinds={"obj"},
    code_version=code_versions.SCAN_DATA,
    check_specs=[
        dg.AssetCheckSpec(
            keys.SCAN_DATA_VALID.name,
            asset=keys.SCAN_DATA,
            blocking=True,
            partitions_def=asin_partitions,
            description="The scan data has exactly one readable OBJ with its materials and at "
            "least one readable photo, within the listing caps. A failure (ERROR) means a lead "
            "cannot assign the ASIN until the scan data is fixed.",
        )
    ],
)
@transient_only
def scan_data(
    context: dg.AssetExecutionContext, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """The 3D scan of this product (photos and the scan OBJ with its .mtl and textures under
    scans/<ASIN>/), registered for production: the starting point an artist is assigned to.
    The verdict is recorded in production/<ASIN>/scan.json whatever it is."""
    record = register_scan(store.open(), context.partition_key, now=datetime.now(UTC))
    issues = "\n".join(f"- `{i.code}` ({i.severity}) {i.message}" for i in record.issues)
    codes = ", ".join(record.codes) or "none"
    return dg.MaterializeResult(
        metadata={
            "ok": record.ok,
            "files": len(record.files),
            "bytes": dg.MetadataValue.int(record.total_bytes),
            "photos": len(record.photos),
            "obj": record.obj or "none",
            "codes": codes,
            "issues": dg.MetadataValue.md(issues or "none"),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=keys.SCAN_DATA_VALID.name,
                passed=record.ok,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"codes": codes, "issues": dg.MetadataValue.md(issues or "none")},
            )
        ],
    )


scan_job = dg.define_asset_job(
    "scan_job",
    selection=dg.AssetSelection.assets(keys.SCAN_DATA),
    partitions_def=asin_partitions,
    description="Register one ASIN's scan data: list it, check it, record the verdict.",
)
