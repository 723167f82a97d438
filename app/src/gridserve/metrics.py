"""Prometheus metrics: one registry per app, an ASGI middleware that labels by route template."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Tiles and timeseries answer in milliseconds; the default buckets start at 5 ms and would
# put nearly every request in the first bucket.
LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
OPEN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Requests that match no route share one label: raw paths would make unbounded label sets.
UNMATCHED_ROUTE = "unmatched"

METRIC_NAMES = (
    "gridserve_http_requests_total",
    "gridserve_http_request_duration_seconds",
    "gridserve_tile_render_seconds",
    "gridserve_dataset_open_seconds",
    "gridserve_build_info",
)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ("method", "route", "status")
        self.requests = PromCounter(
            "gridserve_http_requests",
            "HTTP requests answered, by route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "gridserve_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tile_render = Histogram(
            "gridserve_tile_render_seconds",
            "Time to read, colour and encode one tile.",
            ("collection",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.dataset_open = Histogram(
            "gridserve_dataset_open_seconds",
            "Time to open a collection's stores.",
            ("collection",),
            buckets=OPEN_BUCKETS,
            registry=self.registry,
        )
        self.build_info = Gauge(
            "gridserve_build_info",
            "Always 1; the labels say what is running.",
            ("version", "git_sha", "role"),
            registry=self.registry,
        )

    def record_open(self, collection_id: str, seconds: float) -> None:
        self.dataset_open.labels(collection_id).observe(seconds)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Counts and times every HTTP request (plain ASGI: no per-request task or thread)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before starting a response

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            labels = (scope["method"], route_template(scope), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
