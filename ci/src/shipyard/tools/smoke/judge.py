"""The smoke suite's judgements: what one answer (status, content type, body) means.

Pure functions of status, headers and bytes; no network, no clock. JSON is read strictly
(RFC 8259): ``NaN``/``Infinity`` tokens, numbers that overflow to infinity and nesting too deep
to parse are invalid JSON, as they are for every browser.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from shipyard.tools import png_check

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class Verdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict word, not a password)
    FAIL = "fail"
    NO_DATA = "no-data"


@dataclass(frozen=True)
class Judgement:
    """What one answer means; ``retry`` says whether waiting could change it."""

    verdict: Verdict
    detail: str
    retry: bool = False


Judge = Callable[[int, str | None, bytes], Judgement]


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


def _reply_problem(
    what: str,
    status: int,
    content_type: str | None,
    body: bytes,
    *,
    media_type: str,
    may_lack_data: bool,
    media_name: str | None = None,
) -> Judgement | None:
    """Pure: the checks every reply must pass before its body is judged.

    A verdict for a transient status, a no-data reply of a data route (see `missing_data`), any
    other non-200 or a content type other than `media_type` (named `media_name` in the
    verdict); None when the body is worth reading.
    """
    transient = transient_or_final(status)
    if transient:
        return transient
    empty = missing_data(status, body, what) if may_lack_data else None
    if empty:
        return empty
    if status != 200:
        return Judgement(Verdict.FAIL, f"{what}: HTTP {status}, expected 200")
    media = _media_type(content_type)
    if media != media_type:
        expected = media_name or media_type
        return Judgement(
            Verdict.FAIL, f"{what}: content type {media or 'missing'!r}, expected {expected}"
        )
    return None


def judge_health(status: int, content_type: str | None, body: bytes) -> Judgement:
    unfit = _reply_problem(
        "health", status, content_type, body, media_type="application/json", may_lack_data=False
    )
    if unfit:
        return unfit
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
    unfit = _reply_problem(
        "tile", status, content_type, body, media_type="image/png", may_lack_data=True
    )
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
    unfit = _reply_problem(
        "timeseries", status, content_type, body, media_type="application/json", may_lack_data=True
    )
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
    unfit = _reply_problem(
        "metrics",
        status,
        content_type,
        body,
        media_type="text/plain",
        may_lack_data=False,
        media_name="text/plain (Prometheus text)",
    )
    if unfit:
        return unfit
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
