"""Semantic smoke suite: does a live deployment answer like the platform service should?

``await run_smoke(base_url, SmokeConfig())`` checks, concurrently:

- ``/health``: 200, ``application/json`` and ``{"status": "ok"}``;
- a tile: 200, ``image/png``, a PNG that decodes (every chunk and CRC intact, the image data
  inflates to exactly the scanlines of a 256x256 8-bit palette image; see
  :mod:`shipyard.tools.png_check`);
- the timeseries: 200, ``application/json``, equal-length ``times``/``values``, ISO-8601
  timestamps and values that are finite numbers or null (the service's "no value");
- ``/metrics``: ``text/plain``, parses with prometheus-client's text parser and holds the
  required names.

JSON is read strictly (RFC 8259): ``NaN``/``Infinity`` tokens, numbers that overflow to infinity
and nesting too deep to parse are invalid JSON, as they are for every browser.

One deadline bounds the whole run: every request, body included, is cancelled when the run's
time is up (httpx's own timeout is per read, so a server trickling a byte a second would never
trip it), retries stop, and the report is written with what was seen; the run ends within the
deadline plus the time to judge the last bodies. The CLI resolves names in daemon threads, so a
DNS lookup that never returns cannot hold the process past the deadline either. A body larger
than ``max_body_bytes`` is not read further (a fail). Each check retries with exponential
backoff while the answer is one that can change on its own (connection refused, timeout, 5xx,
429), and gives up at once on an answer that will not (wrong content type, a broken PNG, invalid
JSON, a TLS certificate that does not verify). Verdicts: ``pass``, ``fail`` and ``no-data``: an
unknown collection (404 from the service) or an empty series means the service works but holds
no data yet, which is not the same as a broken service. The report has per-check timing and
renders as JSON (``schema_version``) and Markdown.

The judgements (``judge_*``, :func:`png_problem`, :func:`next_delay`) are pure functions of
status, headers and bytes; :func:`run_smoke` is the httpx/anyio edge. Bad configuration raises
:class:`SmokeError`; a failing service never raises, it yields a ``fail`` verdict.

CLI: ``python -m shipyard.tools.smoke BASE_URL [--deadline 60] [--json-out F] [--markdown-out F]``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import enum
import json
import math
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx
from prometheus_client.parser import text_string_to_metric_families

from shipyard.tools import png_check

SCHEMA_VERSION = 1
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
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class SmokeError(Exception):
    """The smoke suite was given something it cannot run with (bad URL, bad setting)."""


class Verdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict word, not a password)
    FAIL = "fail"
    NO_DATA = "no-data"


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


@dataclass(frozen=True)
class Judgement:
    """What one answer means; ``retry`` says whether waiting could change it."""

    verdict: Verdict
    detail: str
    retry: bool = False


@dataclass(frozen=True)
class CheckResult:
    name: str
    url: str
    verdict: Verdict
    detail: str
    attempts: int
    duration_s: float
    status_code: int | None


@dataclass(frozen=True)
class SmokeReport:
    base_url: str
    results: tuple[CheckResult, ...]
    duration_s: float

    @property
    def verdict(self) -> Verdict:
        verdicts = {r.verdict for r in self.results}
        if Verdict.FAIL in verdicts:
            return Verdict.FAIL
        if Verdict.NO_DATA in verdicts:
            return Verdict.NO_DATA
        return Verdict.PASS

    def ok(self, allow_no_data: bool = True) -> bool:
        """Whether the pipeline may go on: a fail never, no-data only when allowed."""
        return self.verdict is Verdict.PASS or (allow_no_data and self.verdict is Verdict.NO_DATA)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "suite": "smoke",
            "base_url": self.base_url,
            "verdict": self.verdict.value,
            "duration_s": round(self.duration_s, 3),
            "checks": [
                {
                    "name": r.name,
                    "url": r.url,
                    "verdict": r.verdict.value,
                    "detail": r.detail,
                    "attempts": r.attempts,
                    "duration_s": round(r.duration_s, 3),
                    "status_code": r.status_code,
                }
                for r in self.results
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        icons = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.NO_DATA: "⚪"}
        lines = [
            f"### Smoke {self.base_url}: {icons[self.verdict]} {self.verdict.value} "
            f"in {self.duration_s:.2f} s",
            "",
            "| check | verdict | attempts | time | detail |",
            "|---|---|---:|---:|---|",
        ]
        lines += [
            f"| {r.name} | {icons[r.verdict]} {r.verdict.value} | {r.attempts} | "
            f"{r.duration_s:.2f} s | {r.detail.replace('|', '/')} |"
            for r in self.results
        ]
        return "\n".join(lines) + "\n"


# --- pure judgements -------------------------------------------------------------------------


def next_delay(attempt: int, config: SmokeConfig, remaining_s: float) -> float | None:
    """Pause before retry number ``attempt`` (1-based); None when the deadline leaves no room."""
    delay = min(
        config.first_backoff_s * config.backoff_factor ** (attempt - 1), config.max_backoff_s
    )
    if remaining_s <= 0:
        return None
    return min(delay, remaining_s)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


class InvalidJson(ValueError):
    """Not JSON as RFC 8259 (and every browser) reads it."""


def _reject_constant(token: str) -> object:
    raise InvalidJson(f"{token} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"number {text[:40]} overflows to infinity")
    return value


def _finite_int(text: str) -> int:
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise InvalidJson(f"integer of {len(text)} digits overflows a double") from None
    return value


def _json(body: bytes) -> object:
    """Strict JSON, or :class:`InvalidJson` (never RecursionError, never a NaN or infinity)."""
    try:
        return json.loads(
            body.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_finite_int,
        )
    except RecursionError:
        raise InvalidJson("nested too deeply to parse") from None
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except InvalidJson:
        raise
    except ValueError as exc:
        raise InvalidJson(str(exc)) from None


def transient_or_final(status: int) -> Judgement | None:
    """5xx/429 may clear up (a deploy in progress); everything else is judged by the check."""
    if status in _RETRYABLE_STATUS:
        return Judgement(Verdict.FAIL, f"HTTP {status} (retrying until the deadline)", retry=True)
    return None


def missing_data(status: int, body: bytes, what: str) -> Judgement | None:
    """204, or a 404 from the service itself, means "no data yet"; a 404 for a route that does
    not exist (the framework's own ``{"detail": "Not Found"}``, or a non-JSON page from a proxy)
    means the request never reached the right handler: a failure."""
    if status == 204:
        return Judgement(Verdict.NO_DATA, f"{what}: 204 No Content (no data yet)")
    if status != 404:
        return None
    try:
        document = _json(body)
    except InvalidJson:
        document = None
    if not isinstance(document, dict) or document == {"detail": "Not Found"}:
        return Judgement(
            Verdict.FAIL,
            f"{what}: 404 for the route itself (no such path); check the path and the load "
            "balancer's routing rules",
        )
    message = document.get("message") or document.get("detail") or "not found"
    return Judgement(Verdict.NO_DATA, f"{what}: 404 {message} (no data yet)")


def png_problem(body: bytes, size: int, colour_model: str = "palette8") -> str | None:
    """Pure: what is wrong with ``body`` as a ``size`` x ``size`` PNG tile, or None."""
    return png_check.png_problem(body, size, size, colour_model)


def _data_reply_problem(
    what: str, media_type: str, status: int, content_type: str | None, body: bytes
) -> Judgement | None:
    """Pure: the checks every data route's reply must pass before its body is judged.

    A verdict for a transient status, a no-data reply (see `missing_data`), any other non-200
    or a content type other than `media_type`; None when the body is worth reading.
    """
    transient = transient_or_final(status)
    if transient:
        return transient
    empty = missing_data(status, body, what)
    if empty:
        return empty
    if status != 200:
        return Judgement(Verdict.FAIL, f"{what}: HTTP {status}, expected 200")
    media = _media_type(content_type)
    if media != media_type:
        return Judgement(
            Verdict.FAIL, f"{what}: content type {media or 'missing'!r}, expected {media_type}"
        )
    return None


def judge_health(status: int, content_type: str | None, body: bytes) -> Judgement:
    transient = transient_or_final(status)
    if transient:
        return transient
    if status != 200:
        return Judgement(Verdict.FAIL, f"health: HTTP {status}, expected 200")
    media = _media_type(content_type)
    if media != "application/json":
        return Judgement(
            Verdict.FAIL, f"health: content type {media or 'missing'!r}, expected application/json"
        )
    try:
        document = _json(body)
    except InvalidJson as exc:
        return Judgement(Verdict.FAIL, f"health: body is not JSON ({exc}; {body[:60]!r})")
    state = document.get("status") if isinstance(document, dict) else None
    if state != "ok":
        return Judgement(Verdict.FAIL, f"health: status is {state!r}, expected 'ok'")
    return Judgement(Verdict.PASS, f"health: status {state!r}")


def judge_tile(
    status: int, content_type: str | None, body: bytes, size: int, colour_model: str = "palette8"
) -> Judgement:
    unfit = _data_reply_problem("tile", "image/png", status, content_type, body)
    if unfit:
        return unfit
    problem = png_problem(body, size, colour_model)
    if problem:
        return Judgement(Verdict.FAIL, f"tile: {problem}")
    return Judgement(
        Verdict.PASS, f"tile: {size}x{size} {colour_model} PNG decodes, {len(body)} bytes"
    )


def _instant(text: object) -> dt.datetime | None:
    """An ISO-8601 timestamp as an aware datetime (naive means UTC), or None."""
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def judge_timeseries(status: int, content_type: str | None, body: bytes) -> Judgement:
    unfit = _data_reply_problem("timeseries", "application/json", status, content_type, body)
    if unfit:
        return unfit
    try:
        document = _json(body)
    except InvalidJson as exc:
        return Judgement(Verdict.FAIL, f"timeseries: invalid JSON ({exc})")
    if not isinstance(document, dict):
        return Judgement(Verdict.FAIL, "timeseries: JSON is not an object with times/values")
    times, values = document.get("times"), document.get("values")
    if not isinstance(times, list) or not isinstance(values, list):
        return Judgement(Verdict.FAIL, "timeseries: `times` and `values` must both be lists")
    if len(times) != len(values):
        return Judgement(Verdict.FAIL, f"timeseries: {len(times)} times but {len(values)} values")
    if not times:
        return Judgement(Verdict.NO_DATA, "timeseries: empty series (no data yet)")
    instants = [_instant(t) for t in times]
    bad = next((t for t, moment in zip(times, instants, strict=True) if moment is None), None)
    if bad is not None:
        return Judgement(Verdict.FAIL, f"timeseries: {bad!r} is not an ISO-8601 timestamp")
    moments = [moment for moment in instants if moment is not None]
    backwards = next((i for i in range(1, len(moments)) if moments[i - 1] >= moments[i]), None)
    if backwards is not None:
        return Judgement(
            Verdict.FAIL,
            f"timeseries: times not in ascending order ({times[backwards - 1]} then "
            f"{times[backwards]})",
        )
    bad_value = next((v for v in values if v is not None and not _finite_number(v)), None)
    if bad_value is not None:
        return Judgement(
            Verdict.FAIL,
            f"timeseries: `values` holds {json.dumps(bad_value)[:40]}, not a number or null",
        )
    return Judgement(Verdict.PASS, f"timeseries: {len(times)} points {times[0]} .. {times[-1]}")


def _finite_number(value: object) -> bool:
    """A JSON number: bool is an int subclass in Python, but true/false are not numbers."""
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def judge_metrics(
    status: int, content_type: str | None, body: bytes, required: Sequence[str]
) -> Judgement:
    transient = transient_or_final(status)
    if transient:
        return transient
    if status != 200:
        return Judgement(Verdict.FAIL, f"metrics: HTTP {status}, expected 200")
    media = _media_type(content_type)
    if media != "text/plain":
        return Judgement(
            Verdict.FAIL,
            f"metrics: content type {media or 'missing'!r}, expected text/plain (Prometheus text)",
        )
    try:
        families = list(text_string_to_metric_families(body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as exc:
        return Judgement(Verdict.FAIL, f"metrics: not Prometheus text format ({exc})")
    names = {s.name for f in families for s in f.samples} | {f.name for f in families}
    # The parser drops a counter's `_total`; a labelled counter has no samples before use.
    names |= {f"{f.name}_total" for f in families if f.type == "counter"}
    missing = [name for name in required if name not in names]
    if missing:
        return Judgement(Verdict.FAIL, f"metrics: missing {', '.join(missing)}")
    return Judgement(Verdict.PASS, f"metrics: {len(families)} families, required names present")


# --- I/O edge --------------------------------------------------------------------------------


Judge = Callable[[int, str | None, bytes], Judgement]


@dataclass(frozen=True)
class _Check:
    name: str
    path: str
    params: Mapping[str, str]
    judge: Judge


@dataclass(frozen=True)
class _Answer:
    status: int
    content_type: str | None
    body: bytes


def _checks(config: SmokeConfig) -> list[_Check]:
    return [
        _Check("health", config.health_path, {}, judge_health),
        _Check(
            "tile",
            config.tile_path,
            {},
            lambda s, c, b: judge_tile(s, c, b, config.tile_size, config.tile_colour_model),
        ),
        _Check("timeseries", config.timeseries_path, config.timeseries_params, judge_timeseries),
        _Check(
            "metrics",
            config.metrics_path,
            {},
            lambda s, c, b: judge_metrics(s, c, b, config.required_metrics),
        ),
    ]


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _transport_judgement(exc: httpx.HTTPError, url: str) -> Judgement:
    if _tls_failure(exc):
        return Judgement(
            Verdict.FAIL,
            f"TLS handshake with {url} failed ({exc}); fix the certificate or pass the CA bundle "
            "that signed it (verify_tls / --ca-bundle)",
        )
    return Judgement(Verdict.FAIL, f"{type(exc).__name__}: {exc}", retry=True)


def _too_large(name: str, size: str, limit: int) -> Judgement:
    return Judgement(
        Verdict.FAIL, f"{name}: body of {size} bytes is over the {limit}-byte limit (not read)"
    )


async def _fetch(client: httpx.AsyncClient, check: _Check, limit: int) -> _Answer | Judgement:
    """One GET, reading at most ``limit`` bytes of body."""
    async with client.stream("GET", check.path, params=dict(check.params)) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _too_large(check.name, declared, limit)
        body = bytearray()
        async for piece in response.aiter_bytes():
            body += piece
            if len(body) > limit:
                return _too_large(check.name, f"more than {limit}", limit)
        return _Answer(response.status_code, response.headers.get("content-type"), bytes(body))


def _judge(check: _Check, answer: _Answer) -> Judgement:
    """The check's verdict; a judge that trips over a hostile body fails the check, so the run
    still ends in a report."""
    try:
        return check.judge(answer.status, answer.content_type, answer.body)
    except Exception as exc:  # any body, any parser: an answer that cannot be judged fails
        return Judgement(
            Verdict.FAIL, f"{check.name}: the answer cannot be judged ({type(exc).__name__})"
        )


async def _attempt(
    client: httpx.AsyncClient, check: _Check, config: SmokeConfig, url: str, limit_s: float
) -> tuple[int | None, Judgement]:
    """One request, cancelled after ``limit_s`` whatever the server does (headers and body)."""
    with anyio.move_on_after(limit_s):
        try:
            answer = await _fetch(client, check, config.max_body_bytes)
        except httpx.HTTPError as exc:
            return None, _transport_judgement(exc, url)
        if isinstance(answer, Judgement):
            return None, answer
        return answer.status, _judge(check, answer)
    if limit_s < config.request_timeout_s:
        waited = f"in the {limit_s:.1f} s left before the run's deadline"
    else:
        waited = f"within {limit_s:g} s"
    return None, Judgement(Verdict.FAIL, f"no complete answer {waited}", retry=True)


async def _run_check(
    client: httpx.AsyncClient,
    check: _Check,
    config: SmokeConfig,
    deadline_at: float,
    clock: Callable[[], float],
) -> CheckResult:
    """Attempts until a final answer or the run's deadline, each bounded by what is left."""
    started = clock()
    url = str(client.base_url).rstrip("/") + check.path  # as httpx merges it: prefix kept
    attempts = 0
    status: int | None = None
    judgement = Judgement(Verdict.FAIL, "not attempted: the run's deadline had passed")
    while (remaining := deadline_at - clock()) > 0:
        attempts += 1
        limit = min(config.request_timeout_s, remaining)
        status, judgement = await _attempt(client, check, config, url, limit)
        delay = next_delay(attempts, config, deadline_at - clock()) if judgement.retry else None
        if delay is None:
            break
        await anyio.sleep(delay)
    elapsed = clock() - started
    detail = judgement.detail
    if judgement.retry:
        detail = f"gave up after {attempts} attempts in {elapsed:.1f} s: {detail}"
    return CheckResult(check.name, url, judgement.verdict, detail, attempts, elapsed, status)


def _validate_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmokeError(
            f"smoke: base URL {base_url!r} is not http(s)://host[:port]; give the service's "
            "address, e.g. the load balancer's https URL"
        )
    return base_url.rstrip("/")


async def run_smoke(
    base_url: str,
    config: SmokeConfig | None = None,
) -> SmokeReport:
    """Run every check against ``base_url`` within one deadline; never raises for a broken
    service."""
    config = config or SmokeConfig()
    config.validate()
    base = _validate_base_url(base_url)
    clock = time.monotonic
    started = clock()
    deadline_at = started + config.deadline_s
    # No httpx timeouts: they bound each read, not a request; _attempt bounds each request whole.
    timeout = httpx.Timeout(None)
    verify: bool | ssl.SSLContext = (
        config.verify_tls
        if isinstance(config.verify_tls, bool)
        else (ssl.create_default_context(cafile=config.verify_tls))
    )
    checks = _checks(config)
    results: dict[str, CheckResult] = {}
    async with httpx.AsyncClient(
        base_url=base, timeout=timeout, verify=verify, follow_redirects=False
    ) as client:

        async def one(check: _Check) -> None:
            results[check.name] = await _run_check(client, check, config, deadline_at, clock)

        # Metrics last: by then the other checks' requests have been counted.
        async with anyio.create_task_group() as group:
            for check in checks[:-1]:
                group.start_soon(one, check)
        await one(checks[-1])
    return SmokeReport(
        base_url=base,
        results=tuple(results[c.name] for c in checks),
        duration_s=clock() - started,
    )


class _DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's executor for its blocking calls (DNS lookups) in daemon threads that
    nothing waits for: asyncio otherwise joins them when the run ends, so a resolver that never
    answers would hold the process (and its report) past the deadline."""

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> concurrent.futures.Future[object]:
        future: concurrent.futures.Future[object] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting task, as the default does
                future.set_exception(exc)

        threading.Thread(target=run, name="smoke-resolver", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return  # nothing to wait for: the threads are daemons


async def _run_from_cli(base_url: str, config: SmokeConfig) -> SmokeReport:
    asyncio.get_running_loop().set_default_executor(_DaemonExecutor())
    return await run_smoke(base_url, config)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shipyard.tools.smoke", description=__doc__)
    parser.add_argument("base_url")
    parser.add_argument(
        "--deadline", type=float, default=60.0, help="the whole run, retries included, seconds"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="one request, body included, seconds"
    )
    parser.add_argument(
        "--max-body", type=int, default=MAX_BODY_BYTES, help="bytes read of one answer at most"
    )
    parser.add_argument("--ca-bundle", help="PEM bundle of the CA that signed the service")
    parser.add_argument("--health-path", default=SmokeConfig.health_path)
    parser.add_argument("--tile-path", default=SmokeConfig.tile_path)
    parser.add_argument("--timeseries-path", default=SmokeConfig.timeseries_path)
    parser.add_argument(
        "--timeseries-query",
        help="query string replacing the default parameters, e.g. 'lon=1&lat=2&start=...'",
    )
    parser.add_argument("--metrics-path", default=SmokeConfig.metrics_path)
    parser.add_argument(
        "--require-metric", action="append", help="metric name that must be present (repeat)"
    )
    parser.add_argument("--no-data-fails", action="store_true", help="treat no-data as failure")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--markdown-out", type=Path)
    return parser


def _no_verdict(message: str, json_out: Path | None) -> int:
    """Exit 2 with a report that says why there is no verdict."""
    print(message, file=sys.stderr)
    if json_out:
        report = {"schema_version": SCHEMA_VERSION, "suite": "smoke", "verdict": "error"}
        report |= {"error": message, "checks": []}
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 pass (or no-data unless --no-data-fails), 1 fail, 2 bad configuration."""
    args = _parser().parse_args(argv)
    config = SmokeConfig(
        deadline_s=args.deadline,
        request_timeout_s=args.timeout,
        max_body_bytes=args.max_body,
        health_path=args.health_path,
        tile_path=args.tile_path,
        timeseries_path=args.timeseries_path,
        metrics_path=args.metrics_path,
        verify_tls=args.ca_bundle or True,
    )
    if args.timeseries_query is not None:
        config = replace(config, timeseries_params=dict(parse_qsl(args.timeseries_query)))
    if args.require_metric:
        config = replace(config, required_metrics=tuple(args.require_metric))
    try:
        report = anyio.run(_run_from_cli, args.base_url, config)
    except SmokeError as exc:
        return _no_verdict(f"smoke error: {exc}", args.json_out)
    except Exception as exc:  # a fault in the suite itself: still a report, and never a pass
        return _no_verdict(f"smoke internal error: {type(exc).__name__}: {exc}", args.json_out)
    print(report.to_markdown(), end="")
    if args.json_out:
        args.json_out.write_text(report.to_json() + "\n", encoding="utf-8")
    if args.markdown_out:
        args.markdown_out.write_text(report.to_markdown(), encoding="utf-8")
    return 0 if report.ok(allow_no_data=not args.no_data_fails) else 1


if __name__ == "__main__":
    sys.exit(main())
