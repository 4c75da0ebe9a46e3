"""`revalidation`: the published version of many ASINs re-judged under the current rules, in
batches (one run per `REVALIDATION_BATCH` ASINs), for `shazam backfill --stage validate`."""

import dagster as dg

from dagster_project.lib import code_versions
from dagster_project.lib.cadence import REVALIDATION_BATCH
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource
from dagster_project.lib.retries import RETRY, transient_only
from dagster_project.lib.runs import stale_only
from shazam_assets.operations import backfill


@dg.asset(
    partitions_def=asin_partitions,
    group_name="operations",
    kinds={"python"},
    code_version=code_versions.VALIDATION,
    retry_policy=RETRY,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=REVALIDATION_BATCH),
)
@transient_only
def revalidation(
    context: dg.AssetExecutionContext, store: ObjectStoreResource
) -> dg.MaterializeResult:
    """Each ASIN's published delivery judged again under today's validation rules (its verdict
    is rewritten; no version is stored). ASINs the new rules reject are listed for follow-up:
    the published version stays live until a reviewer acts."""
    s, asins = store.open(), context.partition_keys  # one ASIN (UI) or a whole backfill batch
    todo, left = backfill.split_targets(s, "validate", asins, stale_only=stale_only(context))
    done = backfill.revalidate(s, todo)
    for asin in done.rejected:
        context.log.warning(f"{asin}: the published delivery fails the current validation rules")
    left += done.skipped
    return dg.MaterializeResult(
        metadata={
            "asins": len(asins),
            "accepted": len(done.accepted),
            "rejected": ", ".join(done.rejected) or "none",
            "skipped": ", ".join(left) or "none",  # current, not published, or upload gone
            "rules_version": backfill.current_version("validate"),
        }
    )
