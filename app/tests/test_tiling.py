from __future__ import annotations

import morecantile
import numpy as np
import pyproj
import pytest
from gridserve import render, tiling
from gridserve.grid import RegularAxis

GLOBAL_LAT = RegularAxis(first=89.5, step=-1.0, size=180)
GLOBAL_LON = RegularAxis(first=-179.5, step=1.0, size=360)


@pytest.mark.parametrize(
    ("z", "x", "y"),
    [(0, 0, 0), (1, 1, 0), (5, 0, 31), (10, 512, 511), (10, 1023, 0), (22, 2**22 - 1, 0)],
)
def test_pixel_centres_match_pyproj(z: int, x: int, y: int) -> None:
    """The closed-form inverse against PROJ's own EPSG:3857 -> WGS 84 transform."""
    to_lonlat = pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(tiling.TMS.crs.to_wkt()), tiling.TMS.geographic_crs, always_xy=True
    )
    bounds = tiling.TMS.xy_bounds(morecantile.Tile(x, y, z))
    fraction = (np.arange(render.TILE_SIZE) + 0.5) / render.TILE_SIZE
    xs = bounds.left + fraction * (bounds.right - bounds.left)
    ys = bounds.top - fraction * (bounds.top - bounds.bottom)
    expected_lons, _ = to_lonlat.transform(xs, np.zeros_like(xs))
    _, expected_lats = to_lonlat.transform(np.zeros_like(ys), ys)
    lons, lats = tiling.pixel_centres(z, x, y)
    np.testing.assert_allclose(lons, expected_lons, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lats, expected_lats, rtol=0, atol=1e-12)


def test_a_cached_window_cannot_be_changed_by_a_caller() -> None:
    area = tiling.window(GLOBAL_LAT, GLOBAL_LON, 3, 4, 2)
    assert area is not None
    assert tiling.window(GLOBAL_LAT, GLOBAL_LON, 3, 4, 2) is area
    with pytest.raises(ValueError, match="read-only"):
        area.rows[0] = 7
    with pytest.raises(ValueError, match="read-only"):
        area.cols[0] = 7
