from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from gridserve import data


def test_generation_is_deterministic() -> None:
    grid = data.make_grid(resolution=10.0, days=20)
    np.testing.assert_array_equal(data.temperature(grid), data.temperature(grid))


def test_temperature_is_plausible() -> None:
    grid = data.make_grid()
    values = data.temperature(grid)
    assert values.shape == (366, 180, 360)
    assert float(values.min()) > -60
    assert float(values.max()) < 50
    annual = values.mean(axis=(0, 2))
    equator, pole = annual[90], annual[0]
    assert equator - pole > 30, "the tropics are warmer than the poles"
    north, south = 40, 140  # rows at 49.5 N and 50.5 S
    january, july = 15, 196
    assert values[july, north].mean() - values[january, north].mean() > 15
    assert values[january, south].mean() - values[july, south].mean() > 15


def test_weather_is_smooth_in_space_and_time() -> None:
    values = data.temperature(data.make_grid())
    # Real day-to-day swings reach ~10 degC at a place but average ~1-2 degC.
    day_to_day = np.abs(np.diff(values, axis=0))
    assert float(day_to_day.max()) < 10.0
    assert float(day_to_day.mean()) < 2.0
    assert float(np.abs(np.diff(values, axis=2)).max()) < 5.0  # neighbouring cells, 1 deg apart


def test_round_to_step_keeps_values_within_half_a_step() -> None:
    values = np.array([21.123456, -3.3333, 0.0, 39.99, -0.06, 0.0624], dtype=np.float32)
    rounded = data.round_to_step(values)
    assert rounded.dtype == np.float32
    np.testing.assert_array_equal(rounded, [21.125, -3.375, 0.0, 40.0, -0.0, 0.0])
    assert float(np.abs(rounded - values).max()) <= data.STEP_DEGC / 2


def test_temperature_is_in_whole_steps() -> None:
    values = data.temperature(data.make_grid(resolution=10.0, days=20))
    steps = values / data.STEP_DEGC
    np.testing.assert_array_equal(steps, np.round(steps))


def test_stores_are_chunked_for_their_use(dataset_dir: Path) -> None:
    maps = zarr.open_array(str(dataset_dir / data.MAP_STORE / data.VARIABLE), mode="r")
    series = zarr.open_array(str(dataset_dir / data.TIMESERIES_STORE / data.VARIABLE), mode="r")
    assert maps.chunks == data.MAP_CHUNKS
    assert series.chunks == data.TIMESERIES_CHUNKS
    assert maps.attrs["units"] == data.UNITS
    np.testing.assert_array_equal(maps[100, 50:60, 200:210], series[100, 50:60, 200:210])


def test_generate_keeps_complete_stores(dataset_copy: Path) -> None:
    marker = dataset_copy / data.MAP_STORE / "kept"
    marker.write_text("x")
    assert data.is_generated(dataset_copy)
    data.generate(dataset_copy)
    assert marker.exists()
    assert not list(dataset_copy.glob(".*partial"))


def test_cli_writes_both_stores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not data.is_generated(tmp_path)
    assert data.main(["generate", "--out", str(tmp_path)]) == 0
    assert data.is_generated(tmp_path)
    assert "test-collection" in capsys.readouterr().out
