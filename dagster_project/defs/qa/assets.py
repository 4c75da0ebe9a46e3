"""`qa_review` (automatic checks per stored version) and the `qa_approved` decision check."""

import dagster as dg

from dagster_project.lib import automatic_qa, code_versions, keys
from dagster_project.lib.configs import UploadConfig
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import NotifierResource, ObjectStoreResource, QASettingsResource
from dagster_project.lib.retries import RETRY, transient_only
from shazam_assets.ingest import pipeline as ingest
from shazam_assets.ingest import versions
from shazam_assets.operations.backfill import STAGE_TAG
from shazam_assets.platform import versions as platform_versions
from shazam_assets.qa import decisions, outcome

AUTOMATIC_CHECKS = {
    "qa_visual_match": "Renders of the model compared with every reference photo (silhouette IoU and "
    "colour ΔE over the product region); the best view per photo is recorded.",
    "qa_real_world_size": "The model's bounding box in metres against the manifest's dimensions.",
    "qa_placement": "+Y up, resting on the ground plane, centred on the origin.",
}


def _version(context: dg.AssetExecutionContext, config: UploadConfig, store) -> int:
    """The version this run stored (from the upload), or the ASIN's newest stored version."""
    asin = context.partition_key
    if config.upload_key:
        upload = ingest.resolve_upload(store, asin, key=config.upload_key, etag=config.etag)
        stored = versions.find_upload_version(store, upload)
        if stored is None:
            raise dg.Failure(f"{config.upload_key} has not been stored as a version")
        return stored.version
    if context.run.tags.get(STAGE_TAG) == "qa":  # a re-scoring backfill: the published version
        published = platform_versions.published_version(store, asin)
        if published is None:
            raise dg.Failure(f"{asin} has no published version to re-score", allow_retries=False)
        return published
    stored_versions = versions.list_versions(store, asin)
    if not stored_versions:
        raise dg.Failure(f"{asin} has no stored version to check")
    return stored_versions[-1]


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="qa",
    deps=[keys.ASSET_VERSION],
    kinds={"python"},
    code_version=code_versions.QA_SCORING,
    check_specs=[
        dg.AssetCheckSpec(
            name, asset=keys.QA_REVIEW, description=text, partitions_def=asin_partitions
        )
        for name, text in AUTOMATIC_CHECKS.items()
    ],
)
@transient_only
def qa_review(
    context: dg.AssetExecutionContext, config: UploadConfig, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """Automatic QA of the newest stored version, for the reviewer: scores against the
    reference photos, a render|reference contact sheet, real-world size and placement.
    WARN informs; ERROR blocks approval until a new delivery fixes it."""
    s = store.open()
    version = _version(context, config, s)
    metadata, check_results = automatic_qa.review(s, context.partition_key, version)
    return dg.MaterializeResult(metadata=metadata, check_results=check_results)


class DecisionConfig(dg.Config):
    """The decided version the QA sensor hands over (0: the newest decided version)."""

    version: int = 0


@dg.asset_check(
    asset=keys.QA_APPROVED.asset_key,
    name=keys.QA_APPROVED.name,
    partitions_def=asin_partitions,
    description="The QA reviewer's decision on the newest decided version: approve publishes it "
    "(older versions are then cleaned up by retention), reject notifies the artist.",
)
def qa_approved(
    context: dg.AssetCheckExecutionContext,
    config: DecisionConfig,
    store: ObjectStoreResource,
    notifier: NotifierResource,
    qa_settings: QASettingsResource,
) -> dg.AssetCheckResult:
    s, asin = store.open(), context.partition_key
    version = config.version or max(
        (v for v in versions.list_versions(s, asin) if decisions.read_decision(s, asin, v)),
        default=0,
    )
    if not version:
        raise dg.Failure(f"{asin} has no decided version")
    done = outcome.apply_decision(
        s,
        asin,
        version,
        channel=notifier.channel(s),
        keep_approved=qa_settings.keep_approved,
        log=context.log.info,
    )
    decision, promotion = done.decision, done.promotion
    metadata: dict[str, dg.RawMetadataValue] = {
        "version": version,
        "verdict": str(decision.verdict),
        "reviewer": decision.reviewer,
        "decided_at": decision.decided_at,
        "notes": decision.notes or "-",
        "published_version": platform_versions.published_version(s, asin) or 0,
    }
    if promotion is not None:
        metadata["deleted_versions"] = (
            ", ".join(f"v{d.version}" for d in promotion.deletions) or "none"
        )
        metadata["bytes_reclaimed"] = sum(d.bytes_reclaimed for d in promotion.deletions)
    if done.notified:
        metadata["notification"] = done.notified
    return dg.AssetCheckResult(
        passed=decision.verdict is decisions.Verdict.APPROVE,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"v{version} {decision.verdict.past} by {decision.reviewer}",
        metadata=metadata,
    )


# The QA sensor's runs select only the `qa_approved` check of this job (check-only runs). The
# job also names asset_version because Dagster derives a job's partitions from its assets: a
# job of nothing but a partitioned check loses its partitions definition (dagster 1.13).
qa_decision_job = dg.define_asset_job(
    "qa_decision_job",
    selection=dg.AssetSelection.assets(keys.ASSET_VERSION).without_checks()
    | dg.AssetSelection.checks(keys.QA_APPROVED),
    partitions_def=asin_partitions,
    description="Record a reviewer's decision as the qa_approved check (check-only runs).",
)
