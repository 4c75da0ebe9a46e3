"""`shazam render-pipes`: the turntable render in a pod of its own, speaking Dagster Pipes.

Production launches this command (`python -m dagster_project.cli render-pipes`,
`dagster_project.lib.k8s.RENDER_POD_ARGS`) in a GPU pod from the `turntable_360` step, which runs
in the run pod (`dagster_project.lib.k8s.RenderPodResource`). What to render comes in the Pipes
extras (store URL, ASINs, version, turntable spec); the pod renders them with the step's own
`render_all` and reports the step's own metadata (`turntable_metadata`) as the materialization,
or, when a render failed, the failure (`failure_record`) for the step to raise with the same
retry decision. Not for people: the step starts it.
"""

from __future__ import annotations

from typing import Any

import click


def _pipes_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Dagster metadata values as the Pipes protocol carries them (`raw_value` and `type`);
    plain values stay plain (Pipes infers their type)."""
    import dagster as dg

    kinds = {
        dg.UrlMetadataValue: "url",
        dg.MarkdownMetadataValue: "md",
        dg.IntMetadataValue: "int",
        dg.FloatMetadataValue: "float",
        dg.TextMetadataValue: "text",
        dg.PathMetadataValue: "path",
    }
    return {
        key: {"raw_value": value.value, "type": kinds[type(value)]}
        if isinstance(value, dg.MetadataValue)
        else value
        for key, value in metadata.items()
    }


def render_from_pipes(pipes: Any) -> None:
    """Render what the step asked for (`pipes.extras`) and report it back through `pipes`."""
    from dagster_project.defs.render.assets import render_all, turntable_metadata
    from dagster_project.lib.retries import failure_record
    from shazam_assets.platform.storage import open_store
    from shazam_assets.render.turntable import TurntableSpec

    extras = pipes.extras
    store = open_store(extras["store_url"])
    spec = TurntableSpec(**extras["spec"])
    try:
        rendered = render_all(
            store,
            list(extras["asins"]),
            spec,
            int(extras["version"]),
            log=pipes.log.info,
            log_error=pipes.log.error,
        )
    except Exception as exc:  # handed back for the step to raise (its retry decision)
        pipes.report_custom_message({"failure": failure_record(exc)})
        return
    metadata, fingerprint = turntable_metadata(
        rendered, list(extras["left"]), store, single=bool(extras["single"])
    )
    pipes.report_asset_materialization(metadata=_pipes_metadata(metadata), data_version=fingerprint)


@click.command("render-pipes", hidden=True)
def render_pipes() -> None:
    """Render turntables for a Dagster step through Dagster Pipes (a GPU pod's command)."""
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        render_from_pipes(pipes)


COMMANDS = [render_pipes]
