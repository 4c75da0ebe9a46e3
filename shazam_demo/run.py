"""`shazam demo`: the pipeline end to end on the embedded default, with nothing faked.

It makes procedural products, packs them into deliveries that follow the contract, uploads
them to the store, starts the real Dagster daemon (which evaluates the sensors and launches
the runs), waits for those runs, and prints what happened per ASIN:
- the lamp is first exported in centimetres: validation rejects it, a second upload fixes it;
- every stored version gets automatic QA (scores, contact sheet, size, placement);
- a reviewer approves the speaker and the lamp (they are published) and rejects the mug with
  a note (the artist is notified through the outbox); the artist re-uploads the mug, the new
  version is approved and published, and retention deletes the rejected one;
- every publication makes the publish sensor render that version's 360° turntable, make its
  channel files (a compressed derivative per channel, the USDZ for iOS AR), put its product
  page live in the catalogue and index it for search;
- a shopper's photo of the lamp (a view no delivery contains) is searched for;
- finally the pipeline metrics are computed by a `metrics_job` run and shown, with the path of
  their HTML report.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project import dagster_executable
from dagster_project.lib.runs import upload_tag
from shazam_assets.ingest import versions
from shazam_assets.ingest.delivery.pack import PackRequest, pack_delivery
from shazam_assets.ingest.uploads import Upload
from shazam_assets.operations.status import asin_status
from shazam_assets.platform import layout
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.settings import EMBEDDED_SENSOR_INTERVAL_S, READ_ONLY, Settings
from shazam_assets.platform.storage import ObjectStore, open_store
from shazam_assets.publish.channels import read_channel_files
from shazam_assets.qa.decisions import Verdict
from shazam_demo.products import make_product

Echo = Callable[[str], None]
SENSOR_INTERVAL_ENV = READ_ONLY[
    "sensor_interval_s"
]  # the embedded default's daemon looks every 5 s


@dataclass(frozen=True)
class DemoDelivery:
    asin: str
    slug: str
    zip_path: Path
    expect_ok: bool


# The settings the demo starts from (`shazam demo` applies them to unset variables): the
# embedded store, and turntables small enough to render on the CPU.
DEMO_SETTINGS = Settings(render_frames=24, render_size=512)

# The headline figures the demo prints from the pipeline_metrics materialization
METRICS_SHOWN = (
    "deliveries_received",
    "validation_rejection_rate",
    "qa_rejection_rate",
    "qa_backlog",
    "render_gpu_seconds",
    "render_failures",
    "bytes_reclaimed",
    "search_success_rate",
)

# (asin, product slug, centimetres mistake first?)
DEMO_PLAN = (
    ("B0DEMOSPK1", "speaker", False),
    ("B0DEMOMUG1", "mug", False),
    ("B0DEMOLMP1", "lamp", True),
)


def build_delivery(*, asin: str, slug: str, work: Path, scale: float = 1.0, seed: int = 0) -> Path:
    product = make_product(slug, out_dir=work / f"{slug}-{seed}-{scale:g}", seed=seed, scale=scale)
    request = PackRequest(
        asin=asin,
        artist="Demo Artist",
        model=product.model,
        photos=product.photos,
        scan=product.scan_obj,
        title=product.title,
        dimensions=product.dimensions_m,
    )
    name = f"{slug}-{'cm-export' if scale != 1 else 'final'}-{time.strftime('%Y%m%dT%H%M%S')}.zip"
    return pack_delivery(request, out=work / name)


def _upload(store: ObjectStore, asin: str, path: Path) -> tuple[str, dict[str, str]]:
    """Upload a delivery; returns a label and the run tags that will identify its run."""
    key = f"uploads/{asin}/{path.name}"
    info = store.put_file(key, path)
    upload = Upload(key, asin, info.etag, info.size, info.last_modified)
    return key, {upload_tag(upload.upload_id): key}  # its own run, or the batch it is part of


def _decide(
    store: ObjectStore, asin: str, verdict: str, notes: str = ""
) -> tuple[str, dict[str, str]]:
    from shazam_assets.qa.decisions import record_decision

    version = max(versions.list_versions(store, asin))
    record_decision(
        store,
        asin=asin,
        version=version,
        verdict=verdict,
        reviewer="Demo Reviewer",
        notes=notes,
        source="demo",
    )
    label = f"decision {asin} v{version}: {verdict}"
    return label, {"shazam/decision": f"{asin}/v{version}"}


def _publish_run(store: ObjectStore, asin: str) -> tuple[str, dict[str, str]]:
    """The run the publish sensor requests for the ASIN's current publish pointer."""
    pointer = store.head(layout.published_pointer_key(asin))
    etag = pointer.etag if pointer else "none"
    return f"publish {asin}", {"shazam/published": asin, "shazam/pointer_etag": etag}


def _image_search(store: ObjectStore, work: Path, echo: Echo) -> bool:
    """Search with a photo of the lamp from a view no delivery contains; True if it is first."""
    from shazam_assets.qa.raster import View, render, to_image
    from shazam_assets.search.build import open_index
    from shazam_assets.search.embed import decode_image, open_embedder

    lamp = make_product("lamp", out_dir=work / "shopper", with_scan=False)
    photo = work / "shopper-lamp.jpg"
    to_image(render(lamp.model, View("shopper", 150.0, 35.0), size=320)).save(photo, quality=85)
    hits = open_index(store, open_embedder("descriptor")).search_image(
        decode_image(photo.read_bytes()), 3
    )
    echo(f"image search with a shopper's photo of the lamp ({photo.name}, a view from behind):")
    for rank, hit in enumerate(hits, 1):
        echo(f"  {rank}. {hit.asin} {hit.score:.3f} {hit.title}")
    return bool(hits) and hits[0].asin == "B0DEMOLMP1"


def _launch_metrics(root: Path) -> tuple[str, dict[str, str]]:
    """Launch `metrics_job` as an operator would between its 15-minute ticks (`dagster job
    launch`: the run queue hands it to the daemon like any other run)."""
    tags = {"shazam/demo": f"metrics-{time.time_ns()}"}
    subprocess.run(
        [
            dagster_executable("dagster"),
            "job",
            "launch",
            "-w",
            "workspace.yaml",
            "-j",
            "metrics_job",
            "--tags",
            json.dumps(tags),
        ],
        cwd=root,
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return "pipeline metrics", tags


def _metrics_report(echo: Echo) -> bool:
    """Print the figures `pipeline_metrics` recorded and where its report is; True if it has."""
    from dagster import AssetKey, DagsterInstance

    event = DagsterInstance.get().get_latest_materialization_event(AssetKey("pipeline_metrics"))
    materialization = event.asset_materialization if event else None
    if materialization is None:
        return False
    figures = {name: value.value for name, value in materialization.metadata.items()}
    echo("\npipeline metrics (asset pipeline_metrics; Prometheus text, Parquet and the report):")
    for name in (n for n in METRICS_SHOWN if n in figures):  # undefined rates are left out
        value = float(figures[name])  # type: ignore[arg-type]
        echo(
            f"  {name.replace('_', ' '):<28} {f'{value:,.0f}' if value.is_integer() else f'{value:.3g}'}"
        )
    echo(f"  report with plots: {figures['report']}\n  Prometheus text:   {figures['prometheus']}")
    return True


class DaemonDied(RuntimeError):
    """The daemon that evaluates the sensors and launches runs exited while it was needed."""


@contextlib.contextmanager
def running_daemon(root: Path, log: Path) -> Iterator[Callable[[], None]]:
    """`dagster-daemon run` on the checkout's workspace.yaml (the instance of $DAGSTER_HOME),
    its output appended to `log`; yields a check that raises DaemonDied if it has exited.
    Stopped (terminate, then kill after 30 s) on the way out."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        daemon = subprocess.Popen(
            [dagster_executable("dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=root,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={SENSOR_INTERVAL_ENV: str(EMBEDDED_SENSOR_INTERVAL_S), **os.environ},
        )

    def alive() -> None:
        if daemon.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise DaemonDied(
                f"dagster-daemon exited with code {daemon.returncode}; {log}:\n" + "\n".join(tail)
            )

    try:
        yield alive
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()


def wait_for_runs(
    keys: list[tuple[str, dict[str, str]]],
    *,
    timeout_s: float,
    echo: Echo,
    alive: Callable[[], None] = lambda: None,
) -> dict[str, str]:
    """Wait until every (label, run tags) has a finished run; returns label -> run status."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    instance = DagsterInstance.get()
    deadline = time.monotonic() + timeout_s
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        for key, tags in keys:
            runs = instance.get_runs(RunsFilter(tags=tags), limit=1)
            state = runs[0].status.value if runs else "WAITING_FOR_SENSOR"
            if seen.get(key) != state:
                echo(f"  {key}: {state.lower()}")
                seen[key] = state
        if all(seen.get(k) in {s.value for s in finished} for k, _ in keys):
            return seen
        alive()
        time.sleep(1.0)
    raise TimeoutError(
        f"runs did not finish within {timeout_s:.0f}s; see $DAGSTER_HOME/logs/daemon.log"
    )


def _channels_line(manifest: dict[str, Any]) -> str:
    """'web 52 kB (0.10x, SSIM 0.991), mobile …; USDZ 301 kB' from a channel manifest."""
    parts = []
    for d in manifest["derivatives"]:
        if d["refused"]:
            parts.append(f"{d['channel']} refused ({d['refused']['code']})")
        else:
            parts.append(
                f"{d['channel']} {d['bytes'] / 1000:,.0f} kB ({d['bytes'] / d['master_bytes']:.2f}x"
                f" the master, SSIM {d['ssim_min']:.3f})"
            )
    usdz = manifest["usdz"]
    made = f"USDZ {usdz['size'] / 1000:,.0f} kB" if usdz["path"] else "USDZ refused"
    return ", ".join(parts) + f"; {made}"


def _summary(store: ObjectStore, asins: list[str], echo: Echo) -> None:
    echo("\nWhat happened per ASIN:")
    for asin in asins:
        status = asin_status(store, asin)
        echo(f"  {asin}: published version {status['published_version']}, page {status['page']}")
        for v in status["versions"]:
            decision = v.get("decision") or {}
            said = ""
            if decision:
                said = f" ({Verdict(decision['verdict']).past} by {decision['reviewer']}" + (
                    f": {decision['notes']!r})" if decision["notes"] else ")"
                )
            size = (
                f"{v['bytes_reclaimed']:,} bytes reclaimed"
                if v["state"] == "deleted"
                else f"{v.get('files', 0)} files, {v.get('total_bytes', 0):,} bytes"
            )
            echo(f"    v{v['version']} {v['state']}{said}: {v['upload_key']} ({size})")
            if spin := v.get("turntable"):
                echo(
                    f"      turntable: {spin['frames']} frames at {spin['size']}px ({spin['renderer']}); "
                    f"poster {spin['poster']}"
                )
        if (published := status["published_version"]) and (
            made := read_channel_files(store, asin, published)
        ):
            echo(f"    channel files of v{published}: {_channels_line(made.manifest)}")
        for r in status["rejections"]:
            echo(f"    rejected: {r['upload_key']}: {', '.join(r['codes'])}")
            for e in r["errors"][:3]:
                echo(f"      {e['code']}: {e['message']}")


def run_demo(*, project_root: Path, timeout_s: float, echo: Echo) -> bool:
    """The whole demo on the store and instance the environment names (`Settings.from_env`;
    the daemon it starts inherits that environment)."""
    settings = Settings.from_env()
    store_url, dagster_home = settings.store_url or "", settings.dagster_home or ""
    store = open_store(store_url)
    echo(f"store: {store_url}\ndagster home: {dagster_home}")
    log = Path(dagster_home) / "logs" / "daemon.log"
    with (
        running_daemon(project_root, log) as alive,
        tempfile.TemporaryDirectory(prefix="shazam-demo-") as tmp,
    ):
        work = Path(tmp)
        echo("making demo products and deliveries…")
        first = [
            (
                asin,
                _upload(
                    store,
                    asin,
                    build_delivery(asin=asin, slug=slug, work=work, scale=100.0 if cm else 1.0),
                ),
            )
            for asin, slug, cm in DEMO_PLAN
        ]
        echo(
            "uploaded; waiting for the upload sensor and the ingest runs (validate, store, automatic QA):"
        )

        def wait(keys: list[tuple[str, dict[str, str]]]) -> dict[str, str]:
            return wait_for_runs(keys, timeout_s=timeout_s, echo=echo, alive=alive)

        wait([k for _, k in first])
        fixes = [
            (asin, _upload(store, asin, build_delivery(asin=asin, slug=slug, work=work, seed=1)))
            for asin, slug, cm in DEMO_PLAN
            if cm
        ]
        echo(
            "the centimetre export was rejected; the artist re-exports in metres and uploads again:"
        )
        wait([k for _, k in fixes])
        echo("QA review: approve the speaker and the lamp, reject the mug with a note:")
        wait(
            [
                _decide(store, "B0DEMOSPK1", "approve"),
                _decide(store, "B0DEMOLMP1", "approve"),
                _decide(
                    store,
                    "B0DEMOMUG1",
                    "reject",
                    "The mug's stripes should be red, as in the photo.",
                ),
            ]
        )
        echo("the artist fixes the mug and uploads a new delivery; it is reviewed and approved:")
        wait(
            [
                _upload(
                    store,
                    "B0DEMOMUG1",
                    build_delivery(asin="B0DEMOMUG1", slug="mug", work=work, seed=2),
                )
            ]
        )
        wait([_decide(store, "B0DEMOMUG1", "approve")])
        echo(
            "every published version gets its turntable (on a GPU node in production, here on "
            "the CPU), its channel files (derivatives, USDZ), its product page and its search "
            "entry (publish sensor):"
        )
        wait([_publish_run(store, asin) for asin, _, _ in DEMO_PLAN])
        searched = _image_search(store, work, echo)
        echo("an operator refreshes the pipeline metrics (every 15 minutes on its schedule):")
        wait([_launch_metrics(project_root)])
    asins = [asin for asin, _, _ in DEMO_PLAN]
    _summary(store, asins, echo)
    ok = searched and all(
        (version := asin_status(store, asin)["published_version"])
        and platform_versions.read_turntable_manifest(store, asin, version)
        and read_channel_files(store, asin, version)
        and store.exists(f"published/{asin}/index.html")
        for asin in asins
    )
    for note in store.list("outbox/"):
        echo(
            f"\nnotification in the outbox ({store.uri(note.key)}):\n"
            + json.loads(store.get_bytes(note.key))["text"]
        )
    ok = _metrics_report(echo) and ok
    echo(
        "\ndemo "
        + (
            "finished: every product is published with its turntable, page and search entry, "
            "and the metrics report is written"
            if ok
            else "FAILED: a product is not published, rendered, on its page or found by search, "
            "or the metrics were not computed"
        )
    )
    echo(
        f"catalogue: {store.uri('published/index.html')}; browse it with search: make serve "
        "(http://127.0.0.1:8422/)"
    )
    echo("open the Dagster UI on the same store with: make ui; the review pages with: make review")
    return ok
