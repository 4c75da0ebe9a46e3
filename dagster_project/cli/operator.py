"""Commands for pipeline engineers and operators: the Dagster UI and the demo, search and the
shop's servers, backfills, failed runs, the metrics report, store housekeeping, and the
reference lists (`codes`, `env`).

Each command imports what it calls in its body: Dagster (1-2 s to import, and it prints
Beta/Preview notices that `shazam` filters) only for `ui`, `report`, `backfill`, `failures`.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import cast

import click

from dagster_project.cli.shared import (
    ALLOWED_HOST_OPTION,
    HOURS,
    PROJECT_ROOT,
    CannotRun,
    apply_default_env,
    checked_asin,
    dagster_instance,
    open_configured_store,
)
from shazam_assets.platform import settings


@click.command()
@click.option("--markdown", is_flag=True, help="Print docs/error-codes.md.")
def codes(markdown: bool) -> None:
    """List every code: validation findings (with their severity), then every other refusal."""
    from shazam_assets.ingest.delivery.codes import all_rules, rules_markdown
    from shazam_assets.platform import errors

    if markdown:
        click.echo(rules_markdown(), nl=False)
        return
    for rule in all_rules():
        click.echo(f"{rule.code:40} {rule.severity:8} {rule.summary}")
    for code in errors.all_codes():
        click.echo(f"{code.code:40} {'refusal':8} {code.summary}")


@click.command()
def env() -> None:
    """Print `export` lines for the environment in use (defaults for unset variables), for
    `eval "$(shazam env)"` before running `dagster` commands on the same store."""
    for name, value in settings.embedded(PROJECT_ROOT).environment().items():
        click.echo(f"export {name}={shlex.quote(os.environ.get(name, value))}")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def ui(dagster_args: tuple[str, ...]) -> None:
    """Start the Dagster UI and daemon (`dagster dev -w workspace.yaml`) on the embedded store."""
    from dagster_project import dagster_executable

    apply_default_env()
    os.chdir(PROJECT_ROOT)
    os.execv(
        dagster_executable("dagster"), ["dagster", "dev", "-w", "workspace.yaml", *dagster_args]
    )


@click.command()
@click.option("--timeout", default=600, show_default=True, help="Seconds to wait for the runs.")
def demo(timeout: int) -> None:
    """Make demo products, upload them, and let the real sensor and daemon process them."""
    from shazam_demo.run import DEMO_SETTINGS, DaemonDied, run_demo

    apply_default_env(DEMO_SETTINGS)  # CPU-friendly turntables unless SHAZAM_RENDER_* say otherwise
    try:
        ok = run_demo(project_root=PROJECT_ROOT, timeout_s=timeout, echo=click.echo)
    except (DaemonDied, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(0 if ok else 1)


_EMBEDDER_OPTION = click.option(
    "--embedder",
    default="descriptor",
    show_default=True,
    help="Image embedder: 'descriptor', or 'open_clip:/local/checkpoint' (needs open_clip).",
)


@click.command()
@click.option("--asin", default=None, help="Exact ASIN.")
@click.option("--text", default=None, help="Words from the title, artist, brand or category.")
@click.option(
    "--image",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A photo of the product (JPEG, PNG, WebP).",
)
@click.option(
    "--k", default=10, show_default=True, type=click.IntRange(1, 1000), help="How many results."
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"results": [{"asin", "score", "title"}, …]}.'
)
@_EMBEDDER_OPTION
def search(
    asin: str | None, text: str | None, image: Path | None, k: int, as_json: bool, embedder: str
) -> None:
    """Find published 3D assets by ASIN, by words, or by a photo (exactly one of them)."""
    from shazam_assets.search.build import open_index
    from shazam_assets.search.embed import decode_image, open_embedder
    from shazam_assets.search.errors import SearchError

    given = [
        name
        for name, value in (("--asin", asin), ("--text", text), ("--image", image))
        if value is not None
    ]
    if len(given) != 1:
        got = f" (got {' and '.join(given)})" if given else ""
        raise CannotRun(f"give exactly one of --asin, --text or --image{got}")
    if image is not None and not image.is_file():
        raise CannotRun(f"{image}: no such file")
    try:
        index = open_index(open_configured_store(), open_embedder(embedder))
        if asin is not None:
            hits = [hit] if (hit := index.lookup(asin)) else []
        elif text is not None:
            hits = index.search_text(text, k)
        else:
            hits = index.search_image(decode_image(image), k)  # type: ignore[arg-type]
    except SearchError as exc:
        raise CannotRun(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"results": [hit.to_dict() for hit in hits]}, indent=2))
        return
    if not hits:
        click.echo(f"no results (index v{index.version or '-'}, {len(index)} ASINs)")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>3}. {hit.asin}  {hit.score:8.4f}  {hit.title}")


@click.command("search-index")
@click.option(
    "--catalogue",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV or Parquet with asin,title,brand,category (default: the store's search/catalogue.*).",
)
@_EMBEDDER_OPTION
def search_index(catalogue: Path | None, embedder: str) -> None:
    """Rebuild the search table from every published ASIN, beside the assets."""
    from shazam_assets.search.build import rebuild_table
    from shazam_assets.search.embed import open_embedder
    from shazam_assets.search.errors import SearchError
    from shazam_assets.search.table import table_location

    store = open_configured_store()
    started = time.perf_counter()
    try:
        index = rebuild_table(store, open_embedder(embedder), catalogue, log=click.echo)
    except SearchError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(
        f"search index v{index.version}: {len(index)} ASINs, {index.vector_count} vectors "
        f"under {table_location(store).uri} in {time.perf_counter() - started:.1f}s"
    )


@click.command()
@click.argument("asin")
@click.option(
    "--reason",
    default="unpublished from the CLI",
    show_default=True,
    help="Recorded in the pointer's history.",
)
@_EMBEDDER_OPTION
def unpublish(asin: str, reason: str, embedder: str) -> None:
    """Take an ASIN off the shop: its product page, its catalogue entry and its search entry.
    Its versions stay stored and approved; the pointer's history records the unpublishing."""
    from shazam_assets.operations.unpublish import unpublish_asin
    from shazam_assets.publish import PublishError
    from shazam_assets.qa.decisions import DecisionError
    from shazam_assets.search.errors import SearchError

    store, asin = open_configured_store(), checked_asin(asin)
    try:
        done = unpublish_asin(store, asin, reason=reason, embedder=embedder, log=click.echo)
    except DecisionError as exc:
        raise CannotRun(str(exc)) from None
    except (PublishError, SearchError) as exc:
        raise CannotRun(str(exc)) from None
    gone = done.page
    click.echo(
        f"unpublished {asin} v{done.version}: page {'removed' if gone.was_live else 'was not live'}, "
        f"{gone.files_deleted} files ({gone.bytes_reclaimed:,} bytes) deleted, search entry removed"
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@ALLOWED_HOST_OPTION
@click.option("--port", default=8422, show_default=True, type=int)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Where GET /metrics answers (it names artists: keep it internal).",
)
@click.option("--metrics-port", default=9422, show_default=True, type=int)
@click.option(
    "--api-only",
    is_flag=True,
    help="The shop API alone (search, /catalog.json, /healthz, /readyz), no pages: the "
    "search service's Deployment (the pages come from the CDN).",
)
@click.option(
    "--reload-every",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between checks of the search index pointer (a moved one is loaded in the "
    "background and swapped in when complete).",
)
@_EMBEDDER_OPTION
def serve(
    host: str,
    allowed_hosts: tuple[str, ...],
    port: int,
    metrics_host: str,
    metrics_port: int,
    api_only: bool,
    reload_every: float,
    embedder: str,
) -> None:
    """Serve the product pages and the catalogue (/) and the search API (/search, /docs);
    the Prometheus metrics on a separate, internal port. With --api-only, the shop API alone."""
    from shazam_assets.operations.metrics import create_metrics_app
    from shazam_assets.platform import web
    from shazam_assets.search.api import create_search_app
    from shazam_assets.search.embed import open_embedder
    from shazam_assets.search.telemetry import ServiceMetrics

    store, own = open_configured_store(), ServiceMetrics()
    hosts = web.allowed_hosts_for(host, allowed_hosts)
    app = create_search_app(
        store,
        open_embedder(embedder),
        reload_s=reload_every,
        allowed_hosts=hosts,
        metrics=own,
        catalogue=api_only,
    )
    if not api_only:
        from shazam_assets.publish import create_pages_app

        app.mount("/", create_pages_app(store, allowed_hosts=hosts))
    metrics = create_metrics_app(
        store, allowed_hosts=web.allowed_hosts_for(metrics_host), also=[own.registry]
    )
    public = "shop API" if api_only else "catalogue"
    click.echo(
        f"{public} on http://{host}:{port}/  search API on http://{host}:{port}/docs  "
        f"metrics on http://{metrics_host}:{metrics_port}/metrics "
        f"(store {os.environ['SHAZAM_STORE_URL']})"
    )
    web.serve([web.Listener(app, host, port), web.Listener(metrics, metrics_host, metrics_port)])


@click.command()
@click.option(
    "--out",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--sla-hours",
    type=HOURS,
    default=settings.DEFAULTS.review_sla_hours,
    show_default=True,
    help="The review SLA.",
)
def report(out: Path, sla_hours: float) -> None:
    """Write an HTML report of the pipeline metrics (plots embedded; opens offline)."""
    from datetime import timedelta

    from dagster_project.defs.operations.metrics import orchestrator_facts
    from shazam_assets.operations.metrics import compute_metrics
    from shazam_assets.operations.metrics_report import render_html

    store = open_configured_store()
    facts = orchestrator_facts(dagster_instance())  # failed renders, search probes, sensor ticks
    computed = compute_metrics(store, facts=facts, sla=timedelta(hours=sla_hours))
    out.write_text(render_html(computed), encoding="utf-8")
    summary = computed.summary()
    click.echo(
        f"wrote {out}: {summary['deliveries_received']:.0f} deliveries, "
        f"QA backlog {summary['qa_backlog']:.0f}"
    )


def _read_asins(path: Path) -> list[str]:
    """One ASIN a line; blank lines and # comments are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CannotRun(
            f"ASINS_FILE_INVALID: {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return list(dict.fromkeys(line for line in lines if line))


@click.command()
@click.option("--stage", type=click.Choice(["validate", "qa", "render"]), required=True)
@click.option(
    "--asins",
    "asins_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Only these ASINs (one a line); still only the stale ones unless --all.",
)
@click.option(
    "--all", "everything", is_flag=True, help="Every published ASIN (or --asins), stale or not."
)
@click.option("--dry-run", is_flag=True, help="Print what would be recomputed; launch nothing.")
def backfill(stage: str, asins_file: Path | None, everything: bool, dry_run: bool) -> None:
    """Recompute a stage (validation rules, QA scoring, renderer) for published ASINs whose
    stored result came from an older version of it, as one batched Dagster backfill."""
    from shazam_assets.operations.backfill import Stage, published_asins, stale_asins

    store, chosen = open_configured_store(), cast(Stage, stage)
    candidates = _read_asins(asins_file) if asins_file else None
    skipped: list[tuple[str, str]] = []
    if everything:
        targets = candidates if candidates is not None else published_asins(store)
    else:
        targets = stale_asins(
            store, chosen, asins=candidates, on_skip=lambda a, why: skipped.append((a, why))
        )
    click.echo(
        f"{stage}: {len(targets)} to recompute ({'all' if everything else 'stale'}), "
        f"{len(skipped)} skipped"
    )
    if dry_run or not targets:
        for asin in targets:
            click.echo(f"  would recompute {asin}")
        return
    from dagster_project.definitions import defs
    from dagster_project.lib.backfills import launch_backfill

    launched = launch_backfill(
        dagster_instance(),
        defs.resolve_asset_graph(),
        chosen,
        targets,
        reason="all" if everything else "stale",
    )
    click.echo(
        f"backfill {launched.backfill_id}: {len(launched.asins)} ASINs "
        "(the daemon launches its runs; watch it in the UI under Backfills)"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--rerun", is_flag=True, help="Re-execute every listed run from its failed step.")
def failures(as_json: bool, rerun: bool) -> None:
    """Failed runs, one row per job and ASIN whose newest run failed: step, error, time."""
    from dagster_project.definitions import defs
    from dagster_project.lib.failures import (
        code_location_workspace,
        failed_runs,
        rerun_failures,
    )

    instance = dagster_instance()
    found = failed_runs(instance, defs)
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in found], indent=2))
    else:
        for f in found:
            click.echo(
                f"{f.failed_at}  {f.job:<18} {f.partition or '-':<12} {f.step:<16} {f.error[:120]}"
            )
        click.echo(f"{len(found)} failed (job, ASIN) pairs")
    if rerun and found:
        with code_location_workspace(instance, str(PROJECT_ROOT / "workspace.yaml")) as workspace:
            for failure, run_id in rerun_failures(instance, found, workspace=workspace):
                what = f"run {run_id}" if run_id else "not re-run (job no longer exists)"
                click.echo(f"re-run {failure.job} {failure.partition or '-'}: {what}", err=as_json)


@click.group()
def store() -> None:
    """The object store itself: housekeeping for operators."""


@store.command()
@click.option(
    "--grace-hours",
    type=HOURS,
    default=1.0,
    show_default=True,
    help="Only temporary files untouched this long (younger ones may be writes in progress).",
)
@click.option(
    "--staging-grace-hours",
    type=HOURS,
    default=24.0,
    show_default=True,
    help="Only staging files this old (younger ones may belong to a run in progress).",
)
def gc(grace_hours: float, staging_grace_hours: float) -> None:
    """Delete what killed writes and runs left behind: temporary files (never listed as
    objects) and staging files of runs that never committed (their uploads are kept).
    The daily store_housekeeping_schedule does the same."""
    from datetime import timedelta

    from shazam_assets.ingest.versions import reclaim_leftovers

    target = open_configured_store()
    done = reclaim_leftovers(
        target,
        temp_older_than=timedelta(hours=grace_hours),
        staging_older_than=timedelta(hours=staging_grace_hours),
    )
    click.echo(
        f"{target.url}: reclaimed {done.temp.files} temporary files ({done.temp.bytes:,} bytes) "
        f"older than {grace_hours:g} h"
    )
    click.echo(
        f"{target.url}: reclaimed {done.staging.files} staging files ({done.staging.bytes:,} bytes) "
        f"older than {staging_grace_hours:g} h"
    )


COMMANDS = (
    codes,
    env,
    ui,
    demo,
    search,
    search_index,
    unpublish,
    serve,
    report,
    backfill,
    failures,
    store,
)
