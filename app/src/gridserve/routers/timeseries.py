"""GET /api/timeseries"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Header, Query, Response

from gridserve.deps import RegistryDep, SettingsDep
from gridserve.errors import invalid
from gridserve.grid import cell_index
from gridserve.selection import Moment, choose_variable, iso, time_range
from gridserve.store import Collection

CSV = "text/csv"

router = APIRouter(tags=["timeseries"])


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def wants_csv(format_: Format | None, accept: str | None) -> bool:
    """An explicit format wins; otherwise CSV only when the Accept header asks for it."""
    if format_ is not None:
        return format_ is Format.CSV
    return accept is not None and CSV in accept and "application/json" not in accept


def grid_point(collection: Collection, lon: float, lat: float) -> tuple[int, int]:
    row, col = cell_index(collection.lat, lat), cell_index(collection.lon, lon)
    if row < 0 or col < 0:
        west, south, east, north = collection.bbox()
        raise invalid(
            f"point lon={lon} lat={lat} is outside collection '{collection.id}' "
            f"(lon {west}..{east}, lat {south}..{north}): pick a point inside it"
        )
    return row, col


def finite_or_none(values: np.ndarray[Any, Any]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.astype(np.float64).tolist()]


def as_csv(variable: str, times: list[str], values: list[float | None]) -> str:
    lines = [f"time,{variable}"]
    lines += [f"{t},{'' if v is None else repr(v)}" for t, v in zip(times, values, strict=True)]
    return "\n".join(lines) + "\n"


@router.get(
    "/api/timeseries",
    summary="Values at the grid point nearest to a location",
    description=(
        "The grid cell holding (lon, lat), every step with start <= time <= end. The range may "
        "span at most GRIDSERVE_MAX_TIMESERIES_DAYS days (366 by default). JSON by default; "
        "CSV with format=csv or Accept: text/csv."
    ),
)
async def timeseries(
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude, degrees east")],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude, degrees north")],
    start: Annotated[Moment, Query(description="first time, ISO 8601 (inclusive)")],
    end: Annotated[Moment, Query(description="last time, ISO 8601 (inclusive)")],
    registry: RegistryDep,
    settings: SettingsDep,
    variable: Annotated[str | None, Query(description="default: the first one")] = None,
    collection: Annotated[str | None, Query(description="default: the first one")] = None,
    format_: Annotated[Format | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen_collection = await registry.get(collection or next(iter(registry.locations)))
    chosen = choose_variable(chosen_collection, variable)
    steps = time_range(chosen_collection.times, start, end, settings.max_timeseries_days)
    row, col = grid_point(chosen_collection, lon, lat)
    raw = await chosen_collection.series[chosen.name].getitem((steps, row, col))
    times = iso(chosen_collection.times[steps])
    values = finite_or_none(np.asarray(raw))
    if wants_csv(format_, accept):
        return Response(as_csv(chosen.name, times, values), media_type=CSV)
    body = {
        "collection": chosen_collection.id,
        "variable": chosen.name,
        "units": chosen.units,
        "point": {
            "lon": chosen_collection.lon.centre(col),
            "lat": chosen_collection.lat.centre(row),
        },
        "requested": {"lon": lon, "lat": lat},
        "times": times,
        "values": values,
    }
    return Response(json.dumps(body, allow_nan=False), media_type="application/json")
