from __future__ import annotations

import io
import warnings
from pathlib import Path

import morecantile
import numpy as np
import pytest
import xarray as xr
from fastapi.testclient import TestClient
from gridserve import data, render, tiling
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rio_tiler.io import XarrayReader

SMOKE_TILE = "/tiles/test-collection/10/512/512.png"


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_smoke_tile_is_a_real_256_png(client: TestClient) -> None:
    response = client.get(SMOKE_TILE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=300"  # follows the latest day
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = decode(response.content)
    assert (image.format, image.size) == ("PNG", (256, 256))
    assert np.array(image.convert("RGBA"))[:, :, 3].min() == 255  # global data: all opaque


def test_query_parameters_change_the_picture(client: TestClient) -> None:
    base = "/tiles/test-collection/0/0/0.png"
    january_response = client.get(base, params={"time": "2024-01-15"})
    assert january_response.headers["cache-control"] == "public, max-age=86400"
    january = january_response.content
    july = client.get(base, params={"time": "2024-07-15T12:00:00Z"}).content
    magma = client.get(base, params={"time": "2024-01-15", "colormap": "magma"}).content
    narrow = client.get(base, params={"time": "2024-01-15", "vmin": 0, "vmax": 1}).content
    named = client.get(base, params={"time": "2024-01-15", "variable": "temp"}).content
    assert len({january, july, magma, narrow}) == 4
    assert named == january


def test_north_is_warm_in_july_and_south_in_january(client: TestClient) -> None:
    def mean_index(time: str, rows: slice) -> float:
        png = client.get("/tiles/test-collection/0/0/0.png", params={"time": time}).content
        return float(np.array(decode(png))[rows].mean())

    north, south = slice(40, 80), slice(176, 216)
    assert mean_index("2024-07-15", north) > mean_index("2024-01-15", north) + 20
    assert mean_index("2024-01-15", south) > mean_index("2024-07-15", south) + 20


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/tiles/no-such/1/0/0.png", 404, "unknown collection 'no-such'"),
        ("/tiles/test-collection/1/2/0.png", 422, "x=2 y=0 does not exist at zoom 1"),
        ("/tiles/test-collection/1/0/2.png", 422, "use 0..1"),
        ("/tiles/test-collection/23/0/0.png", 422, "'z'"),
        ("/tiles/test-collection/-1/0/0.png", 422, "'z'"),
        ("/tiles/test-collection/1/a/0.png", 422, "'x'"),
        ("/tiles/test-collection/1/0/0.png?variable=rain", 422, "unknown variable 'rain'"),
        ("/tiles/test-collection/1/0/0.png?time=2030-01-01", 422, "outside the data"),
        ("/tiles/test-collection/1/0/0.png?time=2023-12-31", 422, "outside the data"),
        ("/tiles/test-collection/1/0/0.png?time=yesterday", 422, "'time'"),
        ("/tiles/test-collection/1/0/0.png?colormap=jet", 422, "'colormap'"),
        ("/tiles/test-collection/1/0/0.png?vmin=5&vmax=5", 422, "vmin (5.0) must be below"),
        ("/tiles/test-collection/1/0/0.png?vmax=-50", 422, "give vmin < vmax"),
        ("/tiles/test-collection/1/0/0.png?vmin=-inf", 422, "parameter 'vmin'"),
        ("/tiles/test-collection/1/0/0.png?vmax=nan", 422, "parameter 'vmax'"),
    ],
)
def test_bad_tile_requests_get_json_errors(
    client: TestClient, path: str, status: int, words: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["message"]


def test_tile_outside_a_regional_collection_is_transparent(multi_client: TestClient) -> None:
    partial = decode(multi_client.get("/tiles/regional/3/4/2.png").content)  # 0..45 E, 41..67 N
    outside = multi_client.get("/tiles/regional/4/2/10.png")  # South America
    assert outside.status_code == 200
    assert outside.content == render.empty_tile()
    alpha = np.array(partial.convert("RGBA"))[:, :, 3]
    assert alpha.max() == 255
    assert alpha.min() == 0  # the tile reaches beyond 30 E and 60 N: those pixels are clear


def test_broken_collection_is_503(multi_client: TestClient) -> None:
    response = multi_client.get("/tiles/broken/0/0/0.png")
    assert response.status_code == 503
    assert "collection 'broken' cannot be read" in response.json()["message"]


def tiles_z0_to_z10() -> list[tuple[int, int, int]]:
    """Tiles along a diagonal through lon 0 / lat 0, plus corners and the antimeridian."""
    chosen = []
    for z in range(11):
        n = 2**z
        chosen += [(z, n // 2, n // 2), (z, n // 3, n // 5), (z, 0, n - 1), (z, n - 1, n // 2)]
    return sorted(set(chosen))


def gdal_warp(layer: xr.DataArray, z: int, x: int, y: int) -> np.ndarray:  # type: ignore[type-arg]
    """GDAL warp (nearest) of the whole layer, without rio-tiler's clip to the tile."""
    bounds = tiling.TMS.xy_bounds(morecantile.Tile(x, y, z))
    warped = layer.sel(lat=slice(89, -89)).rio.reproject(
        "EPSG:3857",
        shape=(256, 256),
        transform=from_bounds(*bounds, 256, 256),
        resampling=Resampling.nearest,
    )
    return np.asarray(warped.values)


# affine 3 deprecates the `*` that rasterio and rioxarray still use: their noise, not ours.
@pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")
def test_pixels_match_rio_tiler(client: TestClient, dataset_dir: Path) -> None:
    """rio-tiler (GDAL warp, nearest) on the same store: the renderer is correct, not only fast.

    rio-tiler first clips the layer to the tile; when that clip starts exactly at the tile's
    top-left corner on lon 0 / lat 0 (the tile z/2^(z-1)/2^(z-1), e.g. the smoke tile), GDAL's
    warp returns nothing at all (reproduced with rasterio.warp alone). Those tiles are compared
    with GDAL's warp of the unclipped layer instead, and at most one tile per zoom may need it.
    """
    day = 100
    dataset = xr.open_zarr(dataset_dir / data.MAP_STORE, consolidated=False)
    layer = dataset[data.VARIABLE].isel(time=day).load()
    layer = layer.rio.write_crs("EPSG:4326").rio.set_spatial_dims(x_dim="lon", y_dim="lat")
    mismatched: list[str] = []
    warped_instead: list[tuple[int, int, int]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rio-tiler clips the poles to +-85.06
        with XarrayReader(layer) as reader:
            for z, x, y in tiles_z0_to_z10():
                reference = reader.tile(x, y, z, reproject_method="nearest").data[0]
                if np.isnan(reference).all():
                    warped_instead.append((z, x, y))
                    reference = gdal_warp(layer, z, x, y)
                expected = render.to_colour_indices(reference, -40, 40)
                response = client.get(
                    f"/tiles/test-collection/{z}/{x}/{y}.png",
                    params={"time": str(dataset.time.values[day])[:10], "vmin": -40, "vmax": 40},
                )
                ours = np.array(decode(response.content))
                if (ours != expected).mean() > 0.001:
                    mismatched.append(f"{z}/{x}/{y}: {(ours != expected).mean():.2%}")
    assert not mismatched, mismatched
    assert all(x == y == 2 ** (z - 1) for z, x, y in warped_instead), warped_instead
