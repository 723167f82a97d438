from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from fastapi.testclient import TestClient
from gridserve import data

SMOKE_QUERY = {
    "lon": 150,
    "lat": -33,
    "start": "2024-01-01T00:00:00Z",
    "end": "2024-01-31T23:59:59Z",
    "variable": "temp",
}


@pytest.fixture(scope="module")
def reference(dataset_dir: Path) -> xr.DataArray:
    dataset = xr.open_zarr(dataset_dir / data.TIMESERIES_STORE, consolidated=False)
    return dataset[data.VARIABLE].load()


def test_smoke_query_answers_january_at_the_grid_point_used(client: TestClient) -> None:
    response = client.get("/api/timeseries", params=SMOKE_QUERY)
    assert response.status_code == 200
    body = response.json()
    assert body["collection"] == "test-collection"
    assert body["variable"] == "temp"
    assert body["units"] == "degC"
    assert body["point"] == {"lon": 150.5, "lat": -33.5}  # the cell holding (150, -33)
    assert body["requested"] == {"lon": 150.0, "lat": -33.0}
    assert len(body["times"]) == len(body["values"]) == 31
    assert body["times"][0] == "2024-01-01T00:00:00Z"
    assert body["times"][-1] == "2024-01-31T00:00:00Z"
    assert 10 < np.mean(body["values"]) < 35  # southern summer near Sydney


@pytest.mark.parametrize(
    ("lon", "lat", "start", "end"),
    [
        (150.2, -33.7, "2024-01-01", "2024-01-31"),
        (-0.3, 51.4, "2024-06-01T00:00:00Z", "2024-08-31T23:59:59Z"),
        (-179.9, 89.9, "2024-12-01", "2024-12-31"),
        (12.6, 0.2, "2024-02-27", "2024-03-02"),
    ],
)
def test_values_equal_xarray_nearest_selection(
    client: TestClient, reference: xr.DataArray, lon: float, lat: float, start: str, end: str
) -> None:
    params = {"lon": lon, "lat": lat, "start": start, "end": end}
    body = client.get("/api/timeseries", params=params).json()
    expected = reference.sel(lon=lon, lat=lat, method="nearest").sel(
        time=slice(start[:10], end[:10])
    )
    assert body["point"] == {"lon": float(expected.lon), "lat": float(expected.lat)}
    assert body["times"] == [f"{t}Z" for t in np.datetime_as_string(expected.time, unit="s")]
    np.testing.assert_array_equal(np.array(body["values"], dtype=np.float32), expected.values)


def test_csv_by_accept_header_and_by_format(client: TestClient) -> None:
    by_header = client.get("/api/timeseries", params=SMOKE_QUERY, headers={"Accept": "text/csv"})
    by_format = client.get("/api/timeseries", params={**SMOKE_QUERY, "format": "csv"})
    as_json = client.get(
        "/api/timeseries", params={**SMOKE_QUERY, "format": "json"}, headers={"Accept": "text/csv"}
    ).json()
    assert by_header.headers["content-type"].startswith("text/csv")
    assert by_header.text == by_format.text
    rows = list(csv.reader(io.StringIO(by_header.text)))
    assert rows[0] == ["time", "temp"]
    assert [r[0] for r in rows[1:]] == as_json["times"]
    assert [float(r[1]) for r in rows[1:]] == as_json["values"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"lat": -133}, "parameter 'lat': Input should be greater than or equal to -90"),
        ({"lat": 91}, "parameter 'lat'"),
        ({"lon": 180.5}, "parameter 'lon'"),
        ({"lon": "east"}, "parameter 'lon'"),
        ({"lon": "nan"}, "parameter 'lon'"),
        ({"lat": "inf"}, "parameter 'lat'"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "is after end"),
        ({"start": "2020-01-01", "end": "2024-01-01"}, "longer than the maximum of 366 days"),
        ({"start": "2025-01-01", "end": "2025-01-31"}, "no data between"),
        ({"variable": "rain"}, "unknown variable 'rain'"),
        ({"start": "soon"}, "parameter 'start'"),
        ({"format": "xml"}, "parameter 'format'"),
    ],
)
def test_bad_input_is_422_with_what_to_fix(
    client: TestClient, change: dict[str, object], words: str
) -> None:
    response = client.get("/api/timeseries", params={**SMOKE_QUERY, **change})
    assert response.status_code == 422
    assert words in response.json()["message"]


def test_missing_parameters_are_named(client: TestClient) -> None:
    message = client.get("/api/timeseries", params={"lon": 1}).json()["message"]
    for name in ("lat", "start", "end"):
        assert f"parameter '{name}': Field required" in message


def test_unknown_collection_is_404(client: TestClient) -> None:
    response = client.get("/api/timeseries", params={**SMOKE_QUERY, "collection": "nope"})
    assert response.status_code == 404


def test_point_outside_a_regional_collection(multi_client: TestClient) -> None:
    params = {"lon": 100, "lat": 45, "start": "2024-01-01", "end": "2024-01-05"}
    response = multi_client.get("/api/timeseries", params={**params, "collection": "regional"})
    assert response.status_code == 422
    assert "outside collection 'regional'" in response.json()["message"]
    inside = multi_client.get(
        "/api/timeseries", params={**params, "lon": 10, "collection": "regional"}
    )
    assert len(inside.json()["values"]) == 5


def test_maximum_range_is_a_setting(dataset_dir: Path) -> None:
    from gridserve.main import create_app
    from gridserve.settings import Settings

    with TestClient(create_app(Settings(data_dir=dataset_dir, max_timeseries_days=7))) as client:
        params = {**SMOKE_QUERY, "end": "2024-01-09T00:00:00Z"}
        response = client.get("/api/timeseries", params=params)
    assert response.status_code == 422
    assert "maximum of 7 days" in response.json()["message"]
