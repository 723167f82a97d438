"""Opening collections: two Zarr stores each (map-chunked and timeseries-chunked), local or S3."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import zarr
import zarr.api.asynchronous as zarr_async
from zarr.abc.store import Store
from zarr.core.array import AsyncArray
from zarr.storage import LocalStore

from gridserve import data
from gridserve.errors import GridserveError, not_found, unavailable
from gridserve.grid import IrregularAxisError, RegularAxis, regular_axis

log = logging.getLogger(__name__)

TimeArray = npt.NDArray[np.datetime64]
CF_TIME_UNITS = {"days": "D", "hours": "h", "minutes": "m", "seconds": "s"}
COORDINATE_NAMES = ("lat", "lon", "time")
COORDINATE_ORDER = ("time", "lat", "lon")


class StoreFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Variable:
    name: str
    units: str
    long_name: str
    display_range: tuple[float, float]


@dataclass(frozen=True)
class Collection:
    id: str
    location: str
    lat: RegularAxis
    lon: RegularAxis
    times: TimeArray  # datetime64[s], ascending
    variables: Mapping[str, Variable]
    maps: Mapping[str, AsyncArray[Any]]
    series: Mapping[str, AsyncArray[Any]]
    stores: tuple[Store, ...] = field(repr=False)

    def bbox(self) -> tuple[float, float, float, float]:
        west, east = self.lon.bounds()
        south, north = self.lat.bounds()
        return (west, south, east, north)


def decode_cf_times(values: npt.NDArray[np.integer], units: str) -> TimeArray:
    """``days since 2024-01-01`` style CF times to datetime64[s]."""
    unit, _, origin = units.partition(" since ")
    if unit.strip() not in CF_TIME_UNITS or not origin:
        raise StoreFormatError(
            f"time units {units!r} are not '<days|hours|minutes|seconds> since <date>'"
        )
    start = np.datetime64(origin.strip().replace(" ", "T"), "s")
    offsets = values.astype(np.int64).astype(f"timedelta64[{CF_TIME_UNITS[unit.strip()]}]")
    return (start + offsets).astype("datetime64[s]")


def store_for(location: str, name: str) -> Store:
    """A read-only store for ``<location>/<name>``: a local directory or an S3 prefix."""
    if location.startswith("s3://"):
        # obstore reads credentials the usual AWS way (env, web identity, ECS task role, IMDS).
        from obstore.store import S3Store
        from zarr.storage import ObjectStore

        # Bounded waits: a stalled bucket must turn into a 503 before the load balancer's
        # health check (5 s in the image) gives up, not hang the request. Client options given
        # here replace the ones obstore reads from the environment, so AWS_ALLOW_HTTP (S3
        # emulators on plain http) is passed on explicitly.
        allow_http = os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true"
        s3 = S3Store.from_url(
            f"{location.rstrip('/')}/{name}",
            client_options={"connect_timeout": "2s", "timeout": "4s", "allow_http": allow_http},
        )
        return ObjectStore(s3, read_only=True)
    return LocalStore(Path(location) / name, read_only=True)


async def read_coordinate(group: zarr.AsyncGroup, name: str) -> tuple[Any, dict[str, Any]]:
    array = await group.getitem(name)
    if not isinstance(array, AsyncArray):
        raise StoreFormatError(f"'{name}' is a group, expected a coordinate array")
    return await array.getitem(...), dict(array.attrs)


def hinted_range(attrs: Mapping[str, Any]) -> tuple[float, float] | None:
    """A tile's default colour scale as the store states it: ``display_range``, else CF
    ``valid_min``/``valid_max``."""
    if "display_range" in attrs:
        low, high = attrs["display_range"]
    elif "valid_min" in attrs and "valid_max" in attrs:
        low, high = attrs["valid_min"], attrs["valid_max"]
    else:
        return None
    return (float(low), float(high))


def data_range(values: npt.NDArray[Any]) -> tuple[float, float]:
    """The span of some values, so that a store without hints still renders a visible tile."""
    if not np.isfinite(values).any():
        return (0.0, 1.0)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    return (low, high) if low < high else (low, low + 1.0)


async def default_range(array: AsyncArray[Any]) -> tuple[float, float]:
    hinted = hinted_range(array.attrs)
    return hinted if hinted is not None else data_range(np.asarray(await array.getitem(0)))


def check_layout(
    store: str,
    name: str,
    dims: Sequence[str | None] | None,
    shape: tuple[int, ...],
    sizes: Mapping[str, int],
) -> None:
    """Tiles and timeseries index (time, lat, lon) directly: any other layout would be served
    wrong, so it is refused when the collection opens."""
    if tuple(dims or ()) != COORDINATE_ORDER:
        raise StoreFormatError(
            f"{store}/{name} has dimensions {dims}; rewrite it as {COORDINATE_ORDER}"
        )
    expected = tuple(sizes[dim] for dim in COORDINATE_ORDER)
    if shape != expected:
        raise StoreFormatError(
            f"{store}/{name} has shape {shape} but the coordinates give {expected}"
        )


async def data_arrays(group: zarr.AsyncGroup) -> dict[str, AsyncArray[Any]]:
    arrays: dict[str, AsyncArray[Any]] = {}
    async for name, member in group.members():
        if isinstance(member, AsyncArray) and name not in COORDINATE_NAMES:
            arrays[name] = member
    return arrays


async def open_collection(collection_id: str, location: str) -> Collection:
    map_store = store_for(location, data.MAP_STORE)
    series_store = store_for(location, data.TIMESERIES_STORE)
    map_group = await zarr_async.open_group(store=map_store, mode="r")
    series_group = await zarr_async.open_group(store=series_store, mode="r")
    lat, _ = await read_coordinate(map_group, "lat")
    lon, _ = await read_coordinate(map_group, "lon")
    raw_times, time_attrs = await read_coordinate(map_group, "time")
    maps = await data_arrays(map_group)
    series = await data_arrays(series_group)
    if not maps or maps.keys() != series.keys():
        raise StoreFormatError(
            f"{data.MAP_STORE} and {data.TIMESERIES_STORE} must hold the same variables "
            f"(found {sorted(maps)} and {sorted(series)})"
        )
    sizes = {"time": len(raw_times), "lat": len(lat), "lon": len(lon)}
    for store, arrays in ((data.MAP_STORE, maps), (data.TIMESERIES_STORE, series)):
        for name, array in arrays.items():
            check_layout(store, name, array.metadata.dimension_names, array.shape, sizes)
    variables = {
        name: Variable(
            name=name,
            units=str(array.attrs.get("units", "")),
            long_name=str(array.attrs.get("long_name", name)),
            display_range=await default_range(array),
        )
        for name, array in maps.items()
    }
    try:
        lat_axis, lon_axis = regular_axis("lat", lat), regular_axis("lon", lon)
    except IrregularAxisError as exc:
        raise StoreFormatError(str(exc)) from exc
    return Collection(
        id=collection_id,
        location=location,
        lat=lat_axis,
        lon=lon_axis,
        times=decode_cf_times(raw_times, str(time_attrs.get("units", ""))),
        variables=variables,
        maps=maps,
        series=series,
        stores=(map_store, series_store),
    )


async def probe(collection: Collection) -> None:
    """Read each store's root metadata afresh, so a vanished or unreadable store shows."""
    for store in collection.stores:
        await zarr_async.open_group(store=store, mode="r")


def describe_failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Registry:
    """The configured collections, opened once and reopened on demand after a failure."""

    def __init__(
        self,
        locations: Mapping[str, str],
        record_open_seconds: Callable[[str, float], None] = lambda _id, _s: None,
    ) -> None:
        self.locations = dict(locations)
        self._record_open_seconds = record_open_seconds
        self._open: dict[str, Collection] = {}
        self._errors: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def open_all(self) -> None:
        for collection_id in self.locations:
            try:
                await self.get(collection_id)
            except GridserveError as exc:
                log.warning("collection %s is unavailable: %s", collection_id, exc.message)

    async def get(self, collection_id: str) -> Collection:
        collection = self._open.get(collection_id)
        if collection is not None:
            return collection
        if collection_id not in self.locations:
            known = ", ".join(sorted(self.locations))
            raise not_found(f"unknown collection '{collection_id}'; known collections: {known}")
        async with self._lock:
            return await self._open_locked(collection_id)

    async def _open_locked(self, collection_id: str) -> Collection:
        if collection_id in self._open:
            return self._open[collection_id]
        started = time.perf_counter()
        try:
            collection = await open_collection(collection_id, self.locations[collection_id])
        except Exception as exc:  # any failure to read a store makes the collection unavailable
            self._errors[collection_id] = describe_failure(exc)
            raise unavailable(
                f"collection '{collection_id}' cannot be read: {self._errors[collection_id]}"
            ) from exc
        seconds = time.perf_counter() - started
        self._record_open_seconds(collection_id, seconds)
        log.info("collection %s opened in %.3f s", collection_id, seconds)
        self._errors.pop(collection_id, None)
        self._open[collection_id] = collection
        return collection

    async def status(self) -> dict[str, str]:
        """Per collection: 'ok', or the reason it cannot be read right now."""
        result: dict[str, str] = {}
        for collection_id in self.locations:
            try:
                await probe(await self.get(collection_id))
                result[collection_id] = "ok"
            except GridserveError as exc:
                result[collection_id] = exc.message
            except Exception as exc:  # a store that vanished after opening
                result[collection_id] = describe_failure(exc)
        return result
