"""`turntable_360`: frames, sprite sheet, poster and spin video of the published version."""

import dagster as dg

from dagster_project.defs.ingest.assets import asset_version
from dagster_project.defs.ops.retries import RETRY, transient_only
from dagster_project.k8s import GPU_RUN_TAGS, GPU_STEP_TAGS
from dagster_project.partitions import asin_partitions
from dagster_project.resources import ObjectStoreResource, TurntableSettingsResource
from shazam_assets import turntable
from shazam_assets.qa import decisions


class TurntableConfig(dg.Config):
    """Leave `version` at 0 to render the published version (what sensors and backfills do)."""

    version: int = 0


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="render",
    deps=[asset_version],
    kinds={"open3d"},
    op_tags=GPU_STEP_TAGS,
    output_required=False,
)
@transient_only
def turntable_360(
    context: dg.AssetExecutionContext,
    config: TurntableConfig,
    store: ObjectStoreResource,
    turntable_settings: TurntableSettingsResource,
):
    """The 360° spin product pages show: N frames around the vertical axis in a photo studio
    light, a sprite sheet, a poster and a looping video, made from the approved model.
    Re-rendering the same version with the same settings and renderer is a no-op."""
    s, asin = store.open(), context.partition_key
    version = config.version or decisions.published_version(s, asin)
    if version is None:
        context.log.info(f"{asin} has no published version yet: nothing to render")
        return
    try:
        spec = turntable_settings.spec()
        done = turntable.publish_turntable(s, asin, version, spec, log=context.log.info)
    except turntable.TurntableError as exc:
        raise dg.Failure(str(exc), metadata={"code": exc.code}, allow_retries=False) from None
    m, prefix = done.manifest, done.set_prefix
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            "rendered": done.rendered,
            "fingerprint": m["fingerprint"],
            "renderer": m["renderer"],
            "frames": len(m["frames"]),
            "size_px": m["spec"]["size"],
            "seconds_per_frame": m["timings_s"]["per_frame"],
            "seconds_total": m["timings_s"]["total"],
            "poster": dg.MetadataValue.url(s.uri(prefix + m["poster"])),
            "video": dg.MetadataValue.url(s.uri(prefix + m["video"]["path"])),
            "manifest": dg.MetadataValue.url(s.uri(turntable.manifest_key(asin, version))),
        },
        data_version=dg.DataVersion(m["fingerprint"]),
    )


turntable_job = dg.define_asset_job(
    "turntable_job", selection=[turntable_360], partitions_def=asin_partitions, tags=GPU_RUN_TAGS,
    description="Render the turntable of one ASIN's published version.",
)
