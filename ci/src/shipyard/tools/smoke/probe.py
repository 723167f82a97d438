"""The smoke suite's I/O edge: the checks' requests under one deadline, with retries.

Every request, body included, is cancelled when the run's time is up (httpx's own timeout is per
read, so a server trickling a byte a second would never trip it); retries stop, and the report
is written with what was seen. A body larger than ``max_body_bytes`` is not read further (a
fail). A failing service never raises here: it yields a ``fail`` verdict.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpx

from shipyard.tools.smoke.config import SmokeConfig, SmokeError, next_delay
from shipyard.tools.smoke.judge import (
    Judge,
    Judgement,
    Verdict,
    judge_health,
    judge_metrics,
    judge_tile,
    judge_timeseries,
)
from shipyard.tools.smoke.report import CheckResult, SmokeReport


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


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    judgement: Judgement
    cut_by_deadline: bool = False  # the run's deadline, not the request timeout, ended it


async def _attempt(
    client: httpx.AsyncClient, check: _Check, config: SmokeConfig, url: str, limit_s: float
) -> _Outcome:
    """One request, cancelled after ``limit_s`` whatever the server does (headers and body)."""
    with anyio.move_on_after(limit_s):
        try:
            answer = await _fetch(client, check, config.max_body_bytes)
        except httpx.HTTPError as exc:
            return _Outcome(None, _transport_judgement(exc, url))
        if isinstance(answer, Judgement):
            return _Outcome(None, answer)
        return _Outcome(answer.status, _judge(check, answer))
    cut_by_deadline = limit_s < config.request_timeout_s
    if cut_by_deadline:
        waited = f"in the {limit_s:.1f} s left before the run's deadline"
    else:
        waited = f"within {limit_s:g} s"
    no_answer = Judgement(Verdict.FAIL, f"no complete answer {waited}", retry=True)
    return _Outcome(None, no_answer, cut_by_deadline)


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
    not_attempted = Judgement(Verdict.FAIL, "not attempted: the run's deadline had passed")
    outcome = _Outcome(None, not_attempted)
    completed: _Outcome | None = None  # the last attempt the run's deadline did not cut short
    while (remaining := deadline_at - clock()) > 0:
        attempts += 1
        limit = min(config.request_timeout_s, remaining)
        outcome = await _attempt(client, check, config, url, limit)
        completed = completed if outcome.cut_by_deadline else outcome
        retry = outcome.judgement.retry
        delay = next_delay(attempts, config, deadline_at - clock()) if retry else None
        if delay is None:
            break
        await anyio.sleep(delay)
    elapsed = clock() - started
    judgement, status, detail = outcome.judgement, outcome.status, outcome.judgement.detail
    if outcome.cut_by_deadline and completed is not None:
        # A last attempt with no time left says nothing; the one before it does (HTTP 503...).
        status = completed.status
        detail = f"{completed.judgement.detail}; the last attempt: {detail}"
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
