"""What a smoke run checks and how patient it is, validated before any request is sent."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.tools import png_check

# Far above any answer of the service (a tile is < 100 KB, metrics tens of KB), low enough that
# judging a body at the deadline takes a fraction of a second.
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TIMESERIES_PARAMS: Mapping[str, str] = {
    "lon": "150",
    "lat": "-33",
    "start": "2024-01-01T00:00:00Z",
    "end": "2024-01-31T23:59:59Z",
    "variable": "temp",
}
# The service's metric names as listed in app/src/gridserve/metrics.py (METRIC_NAMES).
DEFAULT_REQUIRED_METRICS = (
    "gridserve_http_requests_total",
    "gridserve_http_request_duration_seconds",
)


class SmokeError(Exception):
    """The smoke suite was given something it cannot run with (bad URL, bad setting)."""


@dataclass(frozen=True)
class SmokeConfig:
    """Paths, parameters and patience; the defaults are the seed's endpoints."""

    health_path: str = "/health"
    tile_path: str = "/tiles/test-collection/10/512/512.png"
    tile_size: int = 256
    tile_colour_model: str = "palette8"  # what gridserve.render writes
    timeseries_path: str = "/api/timeseries"
    timeseries_params: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_TIMESERIES_PARAMS)
    )
    metrics_path: str = "/metrics"
    required_metrics: tuple[str, ...] = DEFAULT_REQUIRED_METRICS
    deadline_s: float = 60.0  # the whole run, every request and retry included
    request_timeout_s: float = 5.0  # one request, headers and body, start to end
    max_body_bytes: int = MAX_BODY_BYTES
    first_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    backoff_factor: float = 2.0
    # True: the system CA store; a path: a CA bundle (PEM) for a private CA; False: no check.
    verify_tls: bool | str = True

    def validate(self) -> None:
        for name in ("deadline_s", "request_timeout_s", "first_backoff_s", "max_backoff_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise SmokeError(f"smoke config: {name} must be > 0; give a positive number")
        if self.max_body_bytes <= 0:
            raise SmokeError("smoke config: max_body_bytes must be > 0")
        if self.tile_colour_model not in png_check.COLOUR_MODELS:
            known = ", ".join(png_check.COLOUR_MODELS)
            raise SmokeError(
                f"smoke config: tile_colour_model {self.tile_colour_model!r} is not one of {known}"
            )
        if not self.backoff_factor >= 1:  # also refuses NaN
            raise SmokeError("smoke config: backoff_factor must be >= 1 (1 = constant delay)")
        for name in ("health_path", "tile_path", "timeseries_path", "metrics_path"):
            if not str(getattr(self, name)).startswith("/"):
                raise SmokeError(
                    f"smoke config: {name} must start with '/'; got {getattr(self, name)!r}"
                )
        if isinstance(self.verify_tls, str) and not Path(self.verify_tls).is_file():
            raise SmokeError(
                f"smoke config: CA bundle {self.verify_tls!r} does not exist; pass the PEM file "
                "of the CA that signed the service's certificate"
            )


def next_delay(attempt: int, config: SmokeConfig, remaining_s: float) -> float | None:
    """Pause before retry number ``attempt`` (1-based); None when the deadline leaves no room."""
    delay = min(
        config.first_backoff_s * config.backoff_factor ** (attempt - 1), config.max_backoff_s
    )
    if remaining_s <= 0:
        return None
    return min(delay, remaining_s)
