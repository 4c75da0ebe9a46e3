"""`turntable_360`: frames, sprite sheet, poster and spin video of the published version.

The render runs in the step's process, or, with `render_pod` in `k8s` mode (production), in a GPU
pod of its own launched through Dagster Pipes: the step decides what to render, the pod
(`shazam render-pipes`, dagster_project/cli/render_pod.py) renders it with `render_all` and
reports the same metadata (`turntable_metadata`) back as the step's materialization.
"""

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import dagster as dg

from dagster_project.lib import code_versions, keys
from dagster_project.lib.cadence import RENDER_BATCH
from dagster_project.lib.k8s import GPU_RUN_TAGS, GPU_STEP_TAGS, RenderPodResource
from dagster_project.lib.partitions import asin_partitions
from dagster_project.lib.resources import ObjectStoreResource, TurntableSettingsResource
from dagster_project.lib.retries import RETRY, per_asin, raise_failure, transient_only
from dagster_project.lib.runs import stale_only
from shazam_assets.operations import backfill
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.renderer import RenderCrashed
from shazam_assets.platform.storage import ObjectStore
from shazam_assets.render import turntable


class TurntableConfig(dg.Config):
    """Leave `version` at 0 to render the published version (what sensors and backfills do)."""

    version: int = 0


@dataclass(frozen=True)
class Rendered:
    asin: str
    version: int
    done: turntable.Published


def render_all(
    s: ObjectStore,
    asins: list[str],
    spec: turntable.TurntableSpec,
    version: int,
    *,
    log: Callable[[str], None],
    log_error: Callable[[str], None],
) -> list[Rendered]:
    """Render each ASIN's `version` (0: its published one); raises as `per_asin` does."""

    def render(asin: str) -> Rendered:
        target = version or platform_versions.published_version(s, asin)
        if target is None:
            raise turntable.TurntableError(
                "RENDER_UNKNOWN_VERSION", f"{asin} has no published version"
            )
        return Rendered(asin, target, turntable.publish_turntable(s, asin, target, spec, log=log))

    return per_asin(asins, render, log=log_error)


def _one(r: Rendered, s: ObjectStore) -> dict[str, Any]:
    m, prefix = r.done.manifest, r.done.set_prefix
    return {
        "version": r.version,
        "rendered": r.done.rendered,
        "fingerprint": m.fingerprint,
        "renderer": m.renderer,
        "frames": len(m.frames),
        "size_px": m.size,
        "seconds_per_frame": m.per_frame_s,
        "seconds_total": m.total_s,
        "poster": dg.MetadataValue.url(s.uri(prefix + m.poster)),
        "video": dg.MetadataValue.url(s.uri(prefix + m.video.path)),
        "manifest": dg.MetadataValue.url(s.uri(layout.turntable_manifest_key(r.asin, r.version))),
    }


def _batch(rendered: list[Rendered], left: list[str]) -> dict[str, Any]:
    rows = "\n".join(
        f"| {r.asin} | v{r.version} | {'rendered' if r.done.rendered else 'already current'} | "
        f"{r.done.manifest.renderer} | {r.done.manifest.total_s:.1f} |"
        for r in rendered
    )
    return {
        "asins": len(rendered) + len(left),
        "rendered": sum(r.done.rendered for r in rendered),
        "skipped": ", ".join(left) or "none",  # current, or nothing published
        "turntables": dg.MetadataValue.md(
            "| ASIN | version | render | renderer | seconds |\n|---|---|---|---|---|\n" + rows
        ),
    }


def turntable_metadata(
    rendered: list[Rendered], left: list[str], s: ObjectStore, *, single: bool
) -> tuple[dict[str, Any], str | None]:
    """(metadata, data version) of the materialization: one ASIN's render in detail, a batch's
    as a table."""
    if single and len(rendered) == 1:
        return _one(rendered[0], s), rendered[0].done.manifest.fingerprint
    return _batch(rendered, left), None


def _all_current(
    s: ObjectStore, asins: list[str], spec: turntable.TurntableSpec, version: int
) -> bool:
    """Whether every ASIN's turntable is current already, so that no render pod need start."""
    for asin in asins:
        target = version or platform_versions.published_version(s, asin)
        try:
            if target is None or not turntable.is_current(s, asin, target, spec):
                return False
        except turntable.TurntableError:  # the render reports it, wherever it runs
            return False
    return True


def _in_gpu_pod(
    context: dg.AssetExecutionContext,
    pod: RenderPodResource,
    extras: dict[str, Any],
    deadline_s: float,
) -> Iterator[dg.MaterializeResult]:
    """Render `extras` in a pod of its own (Dagster Pipes); yield what the pod reported. A pod
    that did not finish (evicted, node lost, image pull) is RENDER_CRASHED: retried."""
    origin = context.run.job_code_origin
    image = origin.repository_origin.container_image if origin else None
    request = pod.request(image=image, run_id=context.run_id, deadline_s=deadline_s)
    try:
        invocation = pod.client().run(context=context, extras=extras, **request)
    except dg.Failure:
        raise
    except Exception as exc:
        raise RenderCrashed(f"the render pod did not finish: {type(exc).__name__}: {exc}") from exc
    for message in invocation.get_custom_messages():
        if isinstance(message, dict) and "failure" in message:
            raise_failure(message["failure"])
    results = invocation.get_results()
    if not results:  # it exited without a word: its log was lost, or it was not our command
        raise RenderCrashed("the render pod reported neither a turntable nor a failure")
    yield from results


@dg.asset(
    retry_policy=RETRY,
    partitions_def=asin_partitions,
    group_name="render",
    deps=[keys.ASSET_VERSION],
    kinds={"open3d"},
    code_version=code_versions.RENDERER,
    op_tags=GPU_STEP_TAGS,
    output_required=False,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=RENDER_BATCH),
)
@transient_only
def turntable_360(
    context: dg.AssetExecutionContext,
    config: TurntableConfig,
    store: ObjectStoreResource,
    turntable_settings: TurntableSettingsResource,
    render_pod: RenderPodResource,
):
    """The 360° spin product pages show: N frames around the vertical axis in a photo studio
    light, a sprite sheet, a poster and a looping video, made from the approved model.
    Re-rendering the same version with the same settings and renderer is a no-op. A backfill
    renders up to RENDER_BATCH ASINs per run (one Filament engine for all of them)."""
    s = store.open()
    try:
        spec = turntable_settings.spec()
    except turntable.TurntableError as exc:
        raise dg.Failure(str(exc), metadata={"code": exc.code}, allow_retries=False) from None
    keys = context.partition_keys
    single = len(keys) == 1
    if config.version and not single:
        raise dg.Failure(
            "`version` names one ASIN's version: run it for one partition", allow_retries=False
        )
    todo, left = (
        (list(keys), [])
        if config.version
        else backfill.split_targets(s, "render", keys, stale_only=stale_only(context))
    )
    if single and not todo and platform_versions.published_version(s, keys[0]) is None:
        context.log.info(f"{keys[0]} has no published version yet: nothing to render")
        return
    if todo and render_pod.in_gpu_pod and not _all_current(s, todo, spec, config.version):
        extras = {
            "store_url": store.url,
            "asins": todo,
            "version": config.version,
            "spec": asdict(spec),
            "left": left,
            "single": single,
        }
        deadline_s = len(todo) * turntable.default_deadline_s(spec)
        yield from _in_gpu_pod(context, render_pod, extras, deadline_s)
        return
    rendered = render_all(
        s, todo, spec, config.version, log=context.log.info, log_error=context.log.error
    )
    metadata, fingerprint = turntable_metadata(rendered, left, s, single=single)
    yield dg.MaterializeResult(
        metadata=metadata, data_version=dg.DataVersion(fingerprint) if fingerprint else None
    )


turntable_job = dg.define_asset_job(
    "turntable_job",
    selection=[turntable_360],
    partitions_def=asin_partitions,
    tags=GPU_RUN_TAGS,
    description="Render the turntable of one ASIN's published version.",
)
