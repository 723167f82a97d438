from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from gridserve import data
from gridserve.store import (
    StoreFormatError,
    data_range,
    decode_cf_times,
    hinted_range,
    open_collection,
)


def test_cf_times_in_several_units() -> None:
    days = decode_cf_times(np.array([0, 1]), "days since 2024-01-01")
    hours = decode_cf_times(np.array([0, 36]), "hours since 2024-01-01 00:00:00")
    assert [str(t) for t in days] == ["2024-01-01T00:00:00", "2024-01-02T00:00:00"]
    assert str(hours[1]) == "2024-01-02T12:00:00"


@pytest.mark.parametrize("units", ["fortnights since 2024-01-01", "days", ""])
def test_unknown_time_units_are_refused(units: str) -> None:
    with pytest.raises(StoreFormatError, match="since <date>"):
        decode_cf_times(np.array([0]), units)


def test_colour_scale_hints_and_fallbacks() -> None:
    assert hinted_range({"display_range": [-40, 40]}) == (-40.0, 40.0)
    assert hinted_range({"valid_min": 0, "valid_max": 5, "display_range": [1, 2]}) == (1.0, 2.0)
    assert hinted_range({"valid_min": 0, "valid_max": 5}) == (0.0, 5.0)
    assert hinted_range({"units": "K"}) is None
    assert data_range(np.array([[3.0, np.nan], [-1.0, 2.0]])) == (-1.0, 3.0)
    assert data_range(np.array([7.0, 7.0])) == (7.0, 8.0)
    assert data_range(np.array([np.nan])) == (0.0, 1.0)


def test_store_without_hints_gets_the_first_days_span(regional_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(regional_dir, copy)
    for store in (data.MAP_STORE, data.TIMESERIES_STORE):
        array = zarr.open_array(str(copy / store / data.VARIABLE), mode="r+")
        del array.attrs["display_range"]
    collection = asyncio.run(open_collection("regional", str(copy)))
    first_day = zarr.open_array(str(copy / data.MAP_STORE / data.VARIABLE), mode="r")[0]
    low, high = collection.variables[data.VARIABLE].display_range
    assert (low, high) == (float(first_day.min()), float(first_day.max()))


def test_stores_with_different_variables_are_refused(regional_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(regional_dir, copy)
    shutil.rmtree(copy / data.TIMESERIES_STORE / data.VARIABLE)
    with pytest.raises(StoreFormatError, match="must hold the same variables"):
        asyncio.run(open_collection("regional", str(copy)))


def test_irregular_grids_are_refused(tmp_path: Path) -> None:
    grid = data.Grid(lat=np.array([10.0, 9.0, 7.0]), lon=np.array([0.5, 1.5]), days=np.arange(2))
    values = data.temperature(grid)
    for store in (data.MAP_STORE, data.TIMESERIES_STORE):
        data.write_store(tmp_path / store, grid, values, (1, 3, 2))
    with pytest.raises(StoreFormatError, match="'lat' is not evenly spaced"):
        asyncio.run(open_collection("odd", str(tmp_path)))


def test_arrays_in_another_dimension_order_are_refused(tmp_path: Path) -> None:
    grid = data.Grid(lat=np.array([1.5, 0.5]), lon=np.array([0.5, 1.5, 2.5]), days=np.arange(2))
    values = data.temperature(grid)
    for store in (data.MAP_STORE, data.TIMESERIES_STORE):
        data.write_store(tmp_path / store, grid, values, (1, 2, 3))
    transposed = zarr.open_group(str(tmp_path / data.TIMESERIES_STORE), mode="r+")
    del transposed[data.VARIABLE]
    transposed.create_array(
        data.VARIABLE, data=values.transpose(0, 2, 1), dimension_names=["time", "lon", "lat"]
    )
    with pytest.raises(StoreFormatError, match=r"dimensions \('time', 'lon', 'lat'\); rewrite"):
        asyncio.run(open_collection("odd", str(tmp_path)))


def test_arrays_that_do_not_match_the_coordinates_are_refused(tmp_path: Path) -> None:
    grid = data.Grid(lat=np.array([1.5, 0.5]), lon=np.array([0.5, 1.5, 2.5]), days=np.arange(2))
    values = data.temperature(grid)
    for store in (data.MAP_STORE, data.TIMESERIES_STORE):
        data.write_store(tmp_path / store, grid, values, (1, 2, 3))
    short = zarr.open_group(str(tmp_path / data.MAP_STORE), mode="r+")
    del short[data.VARIABLE]
    short.create_array(data.VARIABLE, data=values[:1], dimension_names=["time", "lat", "lon"])
    with pytest.raises(StoreFormatError, match=r"shape \(1, 2, 3\) but the coordinates give"):
        asyncio.run(open_collection("odd", str(tmp_path)))
