"""The embedded dataset: a deterministic, physically plausible daily air temperature for 2024.

No package on the registry ships a global gridded dataset fit for a demo service, so one is
synthesised: a latitude gradient, seasonal cycles of opposite phase in the two hemispheres, a
zonal wave standing in for land and sea, and smooth "weather" built from a handful of separable
random modes (cheap to evaluate, smooth in space and time, the same on every machine).

The same values are written twice, because chunk layout decides latency:

* ``map.zarr`` has one time step per chunk and 180 x 180 cell spatial chunks (two per day at
  1 degree): a tile reads the one or two chunks under it for one day and never decodes other
  days.
* ``timeseries.zarr`` has the whole year per chunk and 10 x 10 cell spatial chunks: a point
  query decodes one small chunk (~146 KB raw) instead of one chunk per day.

Run ``python -m gridserve.data generate --out DIR`` to write both stores (a few seconds).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import zarr
from zarr.codecs import BloscCodec

COLLECTION_ID = "test-collection"
VARIABLE = "temp"
UNITS = "degC"
LONG_NAME = "near-surface air temperature (synthetic)"
RESOLUTION_DEG = 1.0
YEAR = 2024
DAYS = 366  # 2024 is a leap year
SEED = 20240101
MAP_STORE = "map.zarr"
TIMESERIES_STORE = "timeseries.zarr"
MAP_CHUNKS = (1, 180, 180)
TIMESERIES_CHUNKS = (DAYS, 10, 10)
# Values are whole multiples of 1/8 degC (at most 1/16 degC from the computed value; a power
# of two, so every step is exact in float32) so that the compressor can work: random low bits
# of float32 are incompressible, and the image has a size budget. Measured (both stores,
# gzipped as in an image layer): 7 mantissa bits (1/4 degC steps above 32 degC, finer near 0)
# with bit-shuffle and zstd level 3, 35.1 MB; 1/8 degC steps with the same codec 30.4 MB; with
# byte-shuffle 26.9 MB, at zstd level 5 26.2 MB in the same ~3 s (level 7: 24.3 MB in 9 s).
STEP_DEGC = 0.125
COMPRESSOR = BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")
WEATHER_MODES = 8

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Grid:
    """Cell centres of a regular global lat/lon grid, latitude descending (north up)."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    days: npt.NDArray[np.int64]


def make_grid(resolution: float = RESOLUTION_DEG, days: int = DAYS) -> Grid:
    half = resolution / 2
    lat = np.arange(90 - half, -90, -resolution, dtype=np.float64)
    lon = np.arange(-180 + half, 180, resolution, dtype=np.float64)
    return Grid(lat=lat, lon=lon, days=np.arange(days, dtype=np.int64))


def climatology(grid: Grid) -> FloatArray:
    """Mean state plus seasonal cycle, shape (time, lat, lon), in degC."""
    phi = np.deg2rad(grid.lat)[None, :, None]
    lam = np.deg2rad(grid.lon)[None, None, :]
    # Day 15 is about the coldest day in the north and the warmest in the south.
    season = np.cos(2 * math.pi * (grid.days - 15) / DAYS)[:, None, None]
    annual_mean = -22.0 + 50.0 * np.cos(phi) ** 1.5
    amplitude = 16.0 * np.abs(np.sin(phi)) ** 1.2
    zonal = 3.0 * np.cos(phi) * np.sin(2 * lam)
    total = annual_mean + zonal - np.sign(phi) * amplitude * season
    return np.asarray(total, dtype=np.float32)


def smooth_series(rng: np.random.Generator, n: int, window: int) -> npt.NDArray[np.float64]:
    """A random series smoothed by a moving average, rescaled to unit standard deviation."""
    raw = rng.standard_normal(n + window)
    smooth = np.convolve(raw, np.ones(window) / window, mode="valid")[:n]
    return np.asarray((smooth - smooth.mean()) / smooth.std(), dtype=np.float64)


def weather(grid: Grid, seed: int = SEED) -> FloatArray:
    """Smooth anomalies: a sum of modes amplitude(t) * f(lat) * g(lon), each with random phase."""
    rng = np.random.default_rng(seed)
    phi = np.deg2rad(grid.lat)
    lam = np.deg2rad(grid.lon)
    total = np.zeros((grid.days.size, grid.lat.size, grid.lon.size), dtype=np.float32)
    for _ in range(WEATHER_MODES):
        k_lat, k_lon = rng.integers(1, 6), rng.integers(1, 9)
        amplitude = (1.5 * smooth_series(rng, grid.days.size, 5)).astype(np.float32)
        f = np.sin(k_lat * phi + rng.uniform(0, 2 * math.pi)).astype(np.float32)
        g = np.sin(k_lon * lam + rng.uniform(0, 2 * math.pi)).astype(np.float32)
        total += amplitude[:, None, None] * np.outer(f, g)[None, :, :]
    return total


def round_to_step(values: FloatArray, step: float = STEP_DEGC) -> FloatArray:
    """Round float32 values to the nearest whole multiple of ``step`` (halves to even)."""
    return np.asarray(np.round(values / np.float32(step)) * np.float32(step), dtype=np.float32)


def temperature(grid: Grid) -> FloatArray:
    return round_to_step(climatology(grid) + weather(grid))


def write_store(path: Path, grid: Grid, values: FloatArray, chunks: tuple[int, int, int]) -> None:
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    root.attrs.update({"title": f"{COLLECTION_ID}: synthetic daily temperature {YEAR}"})
    coords: dict[str, tuple[npt.NDArray[np.generic], dict[str, str]]] = {
        "lat": (grid.lat, {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": (grid.lon, {"units": "degrees_east", "standard_name": "longitude"}),
        "time": (
            grid.days,
            {"units": f"days since {YEAR}-01-01", "calendar": "proleptic_gregorian"},
        ),
    }
    for name, (data, attrs) in coords.items():
        coord = root.create_array(
            name, data=data, chunks=data.shape, dimension_names=[name], compressors=None
        )
        coord.attrs.update(attrs)
    array = root.create_array(
        VARIABLE,
        shape=values.shape,
        dtype="float32",
        chunks=chunks,
        compressors=[COMPRESSOR],
        fill_value=float("nan"),
        dimension_names=["time", "lat", "lon"],
    )
    array[...] = values
    # display_range is the default colour scale of a tile when the request gives none.
    array.attrs.update({"units": UNITS, "long_name": LONG_NAME, "display_range": [-40, 40]})


def generate(out: Path, resolution: float = RESOLUTION_DEG) -> None:
    """Write the embedded collection's stores into ``out``, keeping complete ones already there.

    Each store is written beside its target and renamed, so a reader never sees half a store;
    the process id keeps several workers starting at once from writing into each other, and
    the data being deterministic, whichever copy lands first is the right one.
    """
    grid = make_grid(resolution)
    values = temperature(grid)
    out.mkdir(parents=True, exist_ok=True)
    for name, chunks in ((MAP_STORE, MAP_CHUNKS), (TIMESERIES_STORE, TIMESERIES_CHUNKS)):
        if (out / name / "zarr.json").is_file():
            continue
        partial = out / f".{name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        write_store(partial, grid, values, chunks)
        try:
            partial.rename(out / name)
        except OSError:  # another worker's copy landed first
            shutil.rmtree(partial, ignore_errors=True)


def is_generated(directory: Path) -> bool:
    return all((directory / name / "zarr.json").is_file() for name in (MAP_STORE, TIMESERIES_STORE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridserve.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the embedded dataset's two Zarr stores")
    gen.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)
    generate(args.out)
    print(f"wrote {COLLECTION_ID} ({MAP_STORE}, {TIMESERIES_STORE}) into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
