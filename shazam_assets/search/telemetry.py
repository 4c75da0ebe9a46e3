"""The search service's own Prometheus series, kept in a registry of its own (served on the
internal metrics port beside the pipeline's, never on the public one):

    shazam_search_http_request_duration_seconds{route,method,status}  histogram; its _count is
                                                                      the request count
    shazam_search_index_ready                       1 once an index is in service
    shazam_search_index_version / _asins / _vectors what the index in service holds
    shazam_search_index_last_reload_timestamp_seconds  when the index in service was loaded
    shazam_search_index_load_seconds                how long that load took
    shazam_search_index_reloads_total               loads put into service
    shazam_search_index_reload_failures_total       loads that failed (the old index stayed)

`route` is the route's template (`/search`), or `other` for anything no route matched, so
the label cannot grow with what clients send.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shazam_assets.search.index import Searchable

# Word and ASIN queries take about a millisecond; photos tens; a queue under load, more.
_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The series above, in `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.latency = Histogram(
            "shazam_search_http_request_duration_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ready = Gauge(
            "shazam_search_index_ready", "1 once an index is in service.", registry=r
        )
        self.version = Gauge(
            "shazam_search_index_version",
            "Version of the index in service (0: none saved).",
            registry=r,
        )
        self.asins = Gauge(
            "shazam_search_index_asins", "ASINs in the index in service.", registry=r
        )
        self.vectors = Gauge(
            "shazam_search_index_vectors", "Image vectors in the index in service.", registry=r
        )
        self.last_reload = Gauge(
            "shazam_search_index_last_reload_timestamp_seconds",
            "When the index in service was loaded (Unix time).",
            registry=r,
        )
        self.load_seconds = Gauge(
            "shazam_search_index_load_seconds",
            "Seconds the load of the index in service took (read, restore, word index).",
            registry=r,
        )
        self.reloads = Counter(
            "shazam_search_index_reloads", "Index loads put into service.", registry=r
        )
        self.failures = Counter(
            "shazam_search_index_reload_failures",
            "Index loads that failed; the previous index stayed in service.",
            registry=r,
        )

    def index_loaded(self, index: Searchable, *, loaded_at: float, load_s: float) -> None:
        self.ready.set(1)
        self.version.set(index.version or 0)
        self.asins.set(len(index))
        self.vectors.set(index.vector_count)
        self.last_reload.set(loaded_at)
        self.load_seconds.set(load_s)
        self.reloads.inc()

    def reload_failed(self) -> None:
        self.failures.inc()


class RequestMetrics:
    """ASGI middleware timing every HTTP request into `metrics.latency`."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope.get("method", "")
            method = method if method in _METHODS else "other"
            self.metrics.latency.labels(route, method, str(status)).observe(
                time.perf_counter() - started
            )
