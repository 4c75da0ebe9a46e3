"""Pipeline metrics: how deliveries flow from upload to the shop, computed from the store.

Everything the store records is read here (uploads, validation verdicts, versions, decisions,
the published pointers' history, tombstones, turntable manifests, the review backlog); what
only the orchestrator knows (failed renders, the search probe's success rate, sensor ticks)
is passed in as `OrchestratorFacts`, so this module stays free of Dagster.

`to_prometheus` writes the Prometheus text exposition format with fixed metric names that
alert rules depend on; `write_parquet` keeps the tables in the store for notebooks and BI
tools; `create_metrics_app` answers `GET /metrics` for a scraper.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, generate_latest, push_to_gateway
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shazam_assets.ingest import versions
from shazam_assets.ingest.uploads import Upload
from shazam_assets.operations import production_metrics
from shazam_assets.platform import layout, web
from shazam_assets.platform import versions as platform_versions
from shazam_assets.platform.settings import DEFAULTS
from shazam_assets.platform.storage import ObjectNotFound, ObjectStore, read_json
from shazam_assets.qa import backlog, decisions

STAGES = ("upload_to_stored", "stored_to_decided", "decided_to_published", "upload_to_published")
QUANTILES = (0.5, 0.9, 0.99)
LATEST_PROM_KEY = layout.metrics_latest_key()
PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNKNOWN_ARTIST = "unknown"

_DELIVERY_COLUMNS = ["asin", "artist", "upload_id", "upload_key", "received_at", "outcome", "codes"]
_VERSION_COLUMNS = [
    "asin",
    "artist",
    "version",
    "uploaded_at",
    "stored_at",
    "decided_at",
    "verdict",
    "published_at",
    "deleted_at",
    "bytes_reclaimed",
]
_EVENT_COLUMNS = ["at", "asin", "artist", "kind", "value"]


@dataclass(frozen=True)
class RenderFailure:
    """A turntable render that failed in the orchestrator (the store never sees it)."""

    asin: str
    failed_at: datetime  # timezone-aware UTC


@dataclass(frozen=True)
class OrchestratorFacts:
    """Facts only the orchestrator holds, gathered by its caller (the Dagster asset)."""

    render_failures: tuple[RenderFailure, ...] = ()
    search_success_rate: Mapping[str, float] = field(default_factory=dict)  # ASIN -> latest probe
    sensor_last_tick: Mapping[str, float] = field(default_factory=dict)  # sensor -> unix seconds


@dataclass(frozen=True)
class PipelineMetrics:
    """The tables behind every number; `summary()` gives the headline figures."""

    generated_at: datetime
    sla_seconds: float
    deliveries: pd.DataFrame  # one row per upload: asin, artist, received_at, outcome, codes
    rejections: pd.DataFrame  # one row per (rejected upload, error code)
    versions: pd.DataFrame  # one row per reserved version: when it passed each stage
    backlog: pd.DataFrame  # versions waiting for a reviewer: asin, version, created_at, age_seconds
    renders: (
        pd.DataFrame
    )  # one row per committed turntable: asin, version, rendered_at, gpu_seconds
    render_failures: pd.DataFrame  # asin, failed_at
    latency: pd.DataFrame  # stage, quantile, seconds
    daily: pd.DataFrame  # day, artist, one column per event kind (counts, bytes, seconds)
    search: pd.DataFrame  # asin, success_rate (latest probe of each ASIN)
    sensors: pd.DataFrame  # sensor, last_tick (unix seconds)
    # one row per production step done: asin, artist, assignment_id, step, started/done, seconds
    production: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=production_metrics.STAGE_COLUMNS)
    )
    # one row per ASIN assigned now: asin, artist, assigned_at, next_stage ("upload" when done)
    assignments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=production_metrics.ASSIGNMENT_COLUMNS)
    )

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), pd.DataFrame)
        }

    def summary(self) -> dict[str, float]:
        """The headline numbers (NaN where there is nothing to divide by yet)."""
        delivered = self.deliveries[self.deliveries.outcome != "pending"]
        decided = self.versions.dropna(subset=["verdict"])
        return {
            "deliveries_received": float(len(self.deliveries)),
            "validation_rejections": float((delivered.outcome == "rejected").sum()),
            "validation_rejection_rate": _rate(
                (delivered.outcome == "rejected").sum(), len(delivered)
            ),
            "qa_rejection_rate": _rate((decided.verdict == "reject").sum(), len(decided)),
            "qa_backlog": float(len(self.backlog)),
            "qa_backlog_oldest_age_seconds": float(self.backlog.age_seconds.max())
            if len(self.backlog)
            else 0.0,
            "render_gpu_seconds": float(self.renders.gpu_seconds.sum()),
            "render_failures": float(len(self.render_failures)),
            "bytes_reclaimed": float(self.versions.bytes_reclaimed.sum()),
            "search_success_rate": float(self.search.success_rate.mean())
            if len(self.search)
            else math.nan,
        }


def _rate(part: Any, whole: int) -> float:
    return float(part) / whole if whole else math.nan


def _ts(value: Any) -> pd.Timestamp | None:
    return None if value in (None, "") else pd.Timestamp(value).tz_convert(UTC)


# --- reading the store -----------------------------------------------------------------------


def _artist_of(validation: dict[str, Any]) -> str | None:
    manifest = validation.get("manifest") or {}
    name = (manifest.get("artist") or {}).get("name")
    stats = (validation.get("report") or {}).get("stats") or {}
    return name or stats.get("artist") or None


def _deliveries(store: ObjectStore) -> pd.DataFrame:
    """Every upload with its verdict; an upload with no verdict yet is `pending`."""
    rows = []
    for info in store.list(layout.uploads_prefix()):
        upload = Upload.from_info(info)
        if upload is None:
            continue
        validation = versions.read_validation(store, upload) or {}
        outcome = "pending" if not validation else ("accepted" if validation["ok"] else "rejected")
        rows.append(
            {
                "asin": upload.asin,
                "artist": _artist_of(validation) if validation else None,
                "upload_id": upload.upload_id,
                "upload_key": upload.key,
                "received_at": upload.last_modified,
                "outcome": outcome,
                "codes": list(validation.get("codes", [])) if outcome == "rejected" else [],
            }
        )
    frame = pd.DataFrame(rows, columns=_DELIVERY_COLUMNS)
    # A broken delivery may have no readable manifest: credit it to the ASIN's known artist.
    known = frame.dropna(subset=["artist"]).groupby("asin").artist.last()
    frame["artist"] = frame.artist.fillna(frame.asin.map(known)).fillna(UNKNOWN_ARTIST).astype(str)
    frame["received_at"] = pd.to_datetime(frame.received_at, utc=True)
    return frame


def _rejections(deliveries: pd.DataFrame) -> pd.DataFrame:
    rejected = deliveries[deliveries.outcome == "rejected"]
    exploded = rejected[["asin", "artist", "upload_id", "received_at", "codes"]].explode("codes")
    return (
        exploded.dropna(subset=["codes"]).rename(columns={"codes": "code"}).reset_index(drop=True)
    )


def _published_at(store: ObjectStore, asin: str) -> dict[int, str]:
    """When each version of an ASIN was first published, from the pointer's history."""
    pointer = read_json(store, layout.published_pointer_key(asin)) or {}
    first: dict[int, str] = {}
    for entry in pointer.get("history", []):
        if entry.get("version") is not None:
            first.setdefault(int(entry["version"]), entry["at"])
    return first


def _version_rows(store: ObjectStore, asin: str, artist: str) -> Iterator[dict[str, Any]]:
    published = _published_at(store, asin)
    for info in store.list(layout.claims_prefix(asin)):
        claim = layout.parse_claim_key(info.key)
        if claim is None:
            continue
        number = claim.version
        manifest = platform_versions.read_version_manifest(store, asin, number)
        tombstone = platform_versions.tombstone(store, asin, number)
        if manifest is None and tombstone is None:
            continue  # still storing, or abandoned: never became a version
        upload = (
            manifest.upload.to_json()
            if manifest is not None
            else (tombstone or {}).get("upload") or {}
        )
        decision = decisions.read_decision(store, asin, number)
        yield {
            "asin": asin,
            "artist": artist,
            "version": number,
            "uploaded_at": _ts(upload.get("last_modified")),
            "stored_at": _ts(None if manifest is None else manifest.created_at),
            "decided_at": _ts(decision.decided_at if decision else None),
            "verdict": str(decision.verdict) if decision else None,
            "published_at": _ts(published.get(number)),
            "deleted_at": _ts((tombstone or {}).get("deleted_at")),
            "bytes_reclaimed": int((tombstone or {}).get("bytes_reclaimed", 0)),
        }


def _versions(store: ObjectStore, artists: Mapping[str, str]) -> pd.DataFrame:
    rows = [
        row
        for asin in platform_versions.stored_asins(store)
        for row in _version_rows(store, asin, artists.get(asin, UNKNOWN_ARTIST))
    ]
    frame = pd.DataFrame(rows, columns=_VERSION_COLUMNS)
    for column in ("uploaded_at", "stored_at", "decided_at", "published_at", "deleted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["bytes_reclaimed"] = frame.bytes_reclaimed.astype("int64")
    return frame


def _renders(store: ObjectStore, version_table: pd.DataFrame) -> pd.DataFrame:
    """Committed turntables with their render time (`timings_s.total`, seconds on the GPU node)."""
    rows = []
    for asin, number, artist in version_table[["asin", "version", "artist"]].itertuples(
        index=False
    ):
        manifest = platform_versions.read_turntable_manifest(store, asin, int(number))
        if manifest is not None:
            rows.append(
                {
                    "asin": asin,
                    "artist": artist,
                    "version": int(number),
                    "rendered_at": _ts(manifest.rendered_at),
                    "gpu_seconds": manifest.total_s,
                }
            )
    frame = pd.DataFrame(rows, columns=["asin", "artist", "version", "rendered_at", "gpu_seconds"])
    frame["rendered_at"] = pd.to_datetime(frame.rendered_at, utc=True)
    frame["gpu_seconds"] = frame.gpu_seconds.astype(float)
    return frame


def _backlog(store: ObjectStore, *, now: datetime, sla: timedelta) -> pd.DataFrame:
    pending = backlog.pending_reviews(store, now=now, sla=sla)
    frame = pd.DataFrame(
        [
            {
                "asin": p.asin,
                "version": p.version,
                "created_at": p.created_at,
                "age_seconds": p.age.total_seconds(),
                "overdue": p.overdue,
            }
            for p in pending
        ],
        columns=["asin", "version", "created_at", "age_seconds", "overdue"],
    )
    frame["created_at"] = pd.to_datetime(frame.created_at, utc=True)
    frame["age_seconds"] = frame.age_seconds.astype(float)
    return frame


# --- derived tables ------------------------------------------------------------------------------


def _latency(version_table: pd.DataFrame) -> pd.DataFrame:
    """Quantiles of the time each stage took. Store timestamps have one-second resolution, so
    a stage a fraction of a second long can look negative: those are clipped to 0."""
    spans = {
        "upload_to_stored": ("uploaded_at", "stored_at"),
        "stored_to_decided": ("stored_at", "decided_at"),
        "decided_to_published": ("decided_at", "published_at"),
        "upload_to_published": ("uploaded_at", "published_at"),
    }
    rows = []
    for stage, (start, end) in spans.items():
        seconds = (
            ((version_table[end] - version_table[start]).dt.total_seconds()).dropna().clip(lower=0)
        )
        for q in QUANTILES:
            value = float(seconds.quantile(q)) if len(seconds) else math.nan
            rows.append({"stage": stage, "quantile": q, "seconds": value, "samples": len(seconds)})
    return pd.DataFrame(rows, columns=["stage", "quantile", "seconds", "samples"])


def _events(m: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every countable thing that happened, as (at, asin, artist, kind, value) rows."""
    v, d = m["versions"], m["deliveries"]
    parts = [
        d.assign(at=d.received_at, kind="deliveries", value=1.0),
        d[d.outcome == "rejected"].assign(
            at=lambda x: x.received_at, kind="validation_rejections", value=1.0
        ),
        v.dropna(subset=["decided_at"]).assign(
            at=lambda x: x.decided_at, kind="qa_decisions", value=1.0
        ),
        v[v.verdict == "reject"].assign(at=lambda x: x.decided_at, kind="qa_rejections", value=1.0),
        v.dropna(subset=["published_at"]).assign(
            at=lambda x: x.published_at, kind="published", value=1.0
        ),
        v.dropna(subset=["deleted_at"]).assign(
            at=lambda x: x.deleted_at,
            kind="bytes_reclaimed",
            value=lambda x: x.bytes_reclaimed.astype(float),
        ),
        m["renders"].assign(
            at=lambda x: x.rendered_at, kind="render_gpu_seconds", value=lambda x: x.gpu_seconds
        ),
        m["render_failures"].assign(at=lambda x: x.failed_at, kind="render_failures", value=1.0),
        m["production"][m["production"].step == "uv_to_texturing"].assign(
            at=lambda x: x.done_at, kind="production_completed", value=1.0
        ),
    ]
    frames = [p[_EVENT_COLUMNS] for p in parts if len(p)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_EVENT_COLUMNS)


def _daily(events: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day and artist, one column per event kind (counts; bytes; seconds)."""
    if events.empty:
        return pd.DataFrame(columns=["day", "artist"])
    events = events.assign(day=pd.to_datetime(events["at"], utc=True).dt.strftime("%Y-%m-%d"))
    table = events.pivot_table(
        index=["day", "artist"], columns="kind", values="value", aggfunc="sum", fill_value=0.0
    )
    table.columns.name = None
    return table.reset_index()


def compute_metrics(
    store: ObjectStore,
    *,
    facts: OrchestratorFacts = OrchestratorFacts(),
    now: datetime | None = None,
    sla: timedelta = DEFAULTS.review_sla,
) -> PipelineMetrics:
    """Read the store once and derive every table (cost: a few small reads per upload/version)."""
    now = now or datetime.now(UTC)
    deliveries = _deliveries(store)
    artists = deliveries.groupby("asin").artist.last().to_dict()
    version_table = _versions(store, artists)
    failures = pd.DataFrame(
        [
            {
                "asin": f.asin,
                "artist": artists.get(f.asin, UNKNOWN_ARTIST),
                "failed_at": f.failed_at,
            }
            for f in facts.render_failures
        ],
        columns=["asin", "artist", "failed_at"],
    )
    failures["failed_at"] = pd.to_datetime(failures.failed_at, utc=True)
    production, assignments = production_metrics.production_tables(store, deliveries)
    tables = {
        "deliveries": deliveries,
        "versions": version_table,
        "renders": _renders(store, version_table),
        "render_failures": failures,
        "production": production,
    }
    return PipelineMetrics(
        generated_at=now,
        sla_seconds=sla.total_seconds(),
        deliveries=deliveries,
        rejections=_rejections(deliveries),
        versions=version_table,
        backlog=_backlog(store, now=now, sla=sla),
        renders=tables["renders"],
        render_failures=failures,
        latency=_latency(version_table),
        daily=_daily(_events(tables)),
        search=pd.DataFrame(
            sorted(facts.search_success_rate.items()), columns=["asin", "success_rate"]
        ),
        sensors=pd.DataFrame(
            sorted(facts.sensor_last_tick.items()), columns=["sensor", "last_tick"]
        ),
        production=production,
        assignments=assignments,
    )


# --- Prometheus ----------------------------------------------------------------------------------


class _Collector:
    """Turns one `PipelineMetrics` into metric families (a fixed snapshot, not live counters)."""

    def __init__(self, metrics: PipelineMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # a snapshot collector: nothing to check at registration time

    def collect(self) -> Iterator[Metric]:
        m, s = self.metrics, self.metrics.summary()
        deliveries = CounterMetricFamily(
            "shazam_deliveries_received", "Delivery ZIPs uploaded.", labels=["artist"]
        )
        for artist, count in m.deliveries.groupby("artist").size().items():
            deliveries.add_metric([str(artist)], float(count))
        yield deliveries
        codes = CounterMetricFamily(
            "shazam_validation_rejections", "Rejected deliveries, per error code.", labels=["code"]
        )
        for code, count in m.rejections.groupby("code").size().items():
            codes.add_metric([str(code)], float(count))
        yield codes
        yield from _gauges(s, m)
        yield _latency_family(m.latency)
        yield from _production_families(m)
        yield CounterMetricFamily(
            "shazam_render_gpu_seconds",
            "Seconds spent rendering turntables.",
            value=s["render_gpu_seconds"],
        )
        yield CounterMetricFamily(
            "shazam_render_failures", "Failed turntable renders.", value=s["render_failures"]
        )
        yield CounterMetricFamily(
            "shazam_bytes_reclaimed",
            "Bytes deleted by version retention.",
            value=s["bytes_reclaimed"],
        )
        ticks = GaugeMetricFamily(
            "shazam_sensor_last_tick_timestamp_seconds",
            "When each sensor last ticked (unix seconds).",
            labels=["sensor"],
        )
        for sensor, at in m.sensors.itertuples(index=False):
            ticks.add_metric([str(sensor)], float(at))
        yield ticks
        yield GaugeMetricFamily(
            "shazam_metrics_generated_timestamp_seconds",
            "When these metrics were computed.",
            value=m.generated_at.timestamp(),
        )


def _gauges(s: Mapping[str, float], m: PipelineMetrics) -> Iterator[Metric]:
    described = {
        "validation_rejection_rate": "Share of validated deliveries that were rejected (NaN: none yet).",
        "qa_rejection_rate": "Share of QA decisions that were rejections (NaN: none yet).",
        "qa_backlog": "Versions waiting for a reviewer.",
        "qa_backlog_oldest_age_seconds": "Age of the oldest version waiting for a reviewer.",
        "search_success_rate": "Mean share of probe photo queries finding their product (NaN: none).",
    }
    for name, doc in described.items():
        yield GaugeMetricFamily(f"shazam_{name}", doc, value=s[name])
    yield GaugeMetricFamily("shazam_qa_sla_seconds", "The review SLA.", value=m.sla_seconds)


def _production_families(m: PipelineMetrics) -> Iterator[Metric]:
    """Artist productivity from production events: ASINs completed, step durations, work now."""
    done = m.production[m.production.step == "uv_to_texturing"]
    completed = CounterMetricFamily(
        "shazam_production_completed",
        "ASINs an artist finished production of (texturing marked done).",
        labels=["artist"],
    )
    for artist, count in done.groupby("artist").size().items():
        completed.add_metric([str(artist)], float(count))
    yield completed
    steps = GaugeMetricFamily(
        "shazam_production_step_seconds",
        "Quantiles of how long each production step took, per artist (assigned_to_cleanup, "
        "cleanup_to_uv, uv_to_texturing, texturing_to_upload).",
        labels=["artist", "step", "quantile"],
    )
    for (artist, step), seconds in m.production.groupby(["artist", "step"]).seconds:
        for q in QUANTILES:
            steps.add_metric([str(artist), str(step), f"{q:g}"], float(seconds.quantile(q)))
    yield steps
    work = GaugeMetricFamily(
        "shazam_production_assigned",
        "ASINs assigned to each artist now, by the stage they wait for ('upload' when done).",
        labels=["artist", "next_stage"],
    )
    for (artist, stage), count in m.assignments.groupby(["artist", "next_stage"]).size().items():
        work.add_metric([str(artist), str(stage)], float(count))
    yield work


def _latency_family(latency: pd.DataFrame) -> Metric:
    family = GaugeMetricFamily(
        "shazam_stage_latency_seconds",
        "Quantiles of the time each pipeline stage took.",
        labels=["stage", "quantile"],
    )
    for stage, q, seconds in latency[["stage", "quantile", "seconds"]].itertuples(index=False):
        family.add_metric([str(stage), f"{q:g}"], float(seconds))
    return family


def _registry(metrics: PipelineMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))
    return registry


def to_prometheus(metrics: PipelineMetrics) -> str:
    """The metrics in the Prometheus text exposition format (version 0.0.4)."""
    return generate_latest(_registry(metrics)).decode()


def push(metrics: PipelineMetrics, gateway: str, *, job: str = "shazam_pipeline") -> None:
    """Push the snapshot to a Prometheus Pushgateway (replaces the job's previous push)."""
    push_to_gateway(gateway, job=job, registry=_registry(metrics))


# --- storage and serving ---------------------------------------------------------------------


def write_parquet(metrics: PipelineMetrics, store: ObjectStore) -> list[str]:
    """Write each table as `layout.metrics_table_key(name)`; the keys written."""
    keys = []
    for name, table in metrics.tables().items():
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        keys.append(layout.metrics_table_key(name))
        store.put_bytes(keys[-1], buffer.getvalue(), content_type="application/vnd.apache.parquet")
    return keys


def read_parquet(store: ObjectStore, name: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(store.get_bytes(layout.metrics_table_key(name))))


def write_latest(metrics: PipelineMetrics, store: ObjectStore) -> str:
    """Keep the exposition text where `GET /metrics` serves it from."""
    store.put_bytes(
        LATEST_PROM_KEY, to_prometheus(metrics).encode(), content_type=PROM_CONTENT_TYPE
    )
    return LATEST_PROM_KEY


def latest_text(store: ObjectStore) -> str:
    """What the pipeline_metrics asset last wrote, or a fresh computation when it never ran."""
    try:
        return store.get_bytes(LATEST_PROM_KEY).decode()
    except ObjectNotFound:
        return to_prometheus(compute_metrics(store))


def metrics_endpoint(
    store: ObjectStore, *, also: Sequence[CollectorRegistry] = ()
) -> Callable[[Request], Response]:
    """A `GET /metrics` endpoint for any Starlette/FastAPI app: the pipeline's series, then
    those of the `also` registries (a server's own series, named apart from the pipeline's)."""

    def endpoint(_request: Request) -> Response:
        text = latest_text(store) + "".join(generate_latest(r).decode() for r in also)
        return Response(text, media_type=PROM_CONTENT_TYPE)

    return endpoint


def create_metrics_app(
    store: ObjectStore,
    *,
    allowed_hosts: Sequence[str] = web.LOOPBACK_HOSTS,
    also: Sequence[CollectorRegistry] = (),
) -> Starlette:
    """A tiny app answering only `GET /metrics`, for an internal port: the series name artists,
    so `shazam serve` runs it beside its public app (`--metrics-port`), never inside it. `also`
    adds registries (the search service's request and index series)."""
    return Starlette(
        routes=[Route("/metrics", metrics_endpoint(store, also=also), methods=["GET"])],
        middleware=web.guard(allowed_hosts),
    )
