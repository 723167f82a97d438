"""Pure choices shared by the routers: which variable, which time step, which time range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import numpy as np
from pydantic import AfterValidator

from gridserve.errors import invalid
from gridserve.store import Collection, TimeArray, Variable

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(microsecond=0, tzinfo=UTC)
MOMENT_RANGE = "..".join(f"{m.replace(tzinfo=None).isoformat()}Z" for m in (EARLIEST, LATEST))


def in_utc(moment: datetime) -> datetime:
    """The same instant in UTC (naive means UTC already); one that UTC cannot hold, such as
    9999-12-31T23:59:59-01:00, is a client's mistake (a ValueError, so FastAPI answers 422)."""
    offset = moment.utcoffset()
    try:
        utc = moment.replace(tzinfo=None) - offset if offset is not None else moment
    except OverflowError:
        raise ValueError(
            f"{moment.isoformat()} is outside the accepted range {MOMENT_RANGE} in UTC"
        ) from None
    return utc.replace(tzinfo=UTC)


# A datetime query parameter, checked where it is parsed (see in_utc).
Moment = Annotated[datetime, AfterValidator(in_utc)]


def to_datetime64(moment: datetime) -> np.datetime64:
    """Aware datetimes in UTC; naive ones are taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(moment, "s")


def iso(times: TimeArray) -> list[str]:
    return [f"{text}Z" for text in np.datetime_as_string(times, unit="s")]


def time_span(times: TimeArray) -> str:
    first, last = iso(times[[0, -1]])
    return f"{first}..{last}"


def choose_variable(collection: Collection, name: str | None) -> Variable:
    if name is None:
        return next(iter(collection.variables.values()))
    if name not in collection.variables:
        known = ", ".join(sorted(collection.variables))
        raise invalid(
            f"unknown variable '{name}' in collection '{collection.id}'; use one of: {known}"
        )
    return collection.variables[name]


def time_index(times: TimeArray, moment: datetime | None) -> int:
    """The step in force at ``moment`` (the last one starting at or before it); default latest."""
    if moment is None:
        return int(times.size - 1)
    wanted = to_datetime64(moment)
    index = int(np.searchsorted(times, wanted, side="right")) - 1
    step = times[1] - times[0] if times.size > 1 else np.timedelta64(1, "D")
    if index < 0 or wanted >= times[-1] + step:
        raise invalid(f"time {moment.isoformat()} is outside the data ({time_span(times)})")
    return index


def time_range(times: TimeArray, start: datetime, end: datetime, max_days: int) -> slice:
    """Indices of the steps with start <= time <= end, after checking the request is sensible."""
    first, last = to_datetime64(start), to_datetime64(end)
    if first > last:
        raise invalid(f"start {start.isoformat()} is after end {end.isoformat()}: swap them")
    if last - first > np.timedelta64(max_days, "D"):
        raise invalid(
            f"range {start.isoformat()}..{end.isoformat()} is longer than the maximum of "
            f"{max_days} days: split it into several requests"
        )
    lo = int(np.searchsorted(times, first, side="left"))
    hi = int(np.searchsorted(times, last, side="right"))
    if lo >= hi:
        raise invalid(
            f"no data between {start.isoformat()} and {end.isoformat()}; "
            f"the data covers {time_span(times)}"
        )
    return slice(lo, hi)
