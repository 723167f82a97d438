from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gridserve.main import create_app
from gridserve.metrics import METRIC_NAMES
from gridserve.settings import Role, Settings
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_parse_and_count_by_route_template_and_status(client: TestClient) -> None:
    client.get("/tiles/test-collection/3/1/1.png")
    client.get("/tiles/test-collection/3/2/1.png")
    client.get("/tiles/test-collection/3/9/1.png")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    parsed = samples(response.text)
    counts = {
        (labels["route"], labels["status"]): value
        for labels, value in parsed["gridserve_http_requests_total"]
    }
    tile_route = "/tiles/{collection_id}/{z}/{x}/{y}.png"
    assert counts[(tile_route, "200")] == 2
    assert counts[(tile_route, "422")] == 1
    assert counts[("unmatched", "404")] == 1
    latency = {
        (labels["route"], labels["status"]): value
        for labels, value in parsed["gridserve_http_request_duration_seconds_count"]
    }
    assert latency[(tile_route, "200")] == 2
    renders = {
        labels["collection"]: value
        for labels, value in parsed["gridserve_tile_render_seconds_count"]
    }
    assert renders == {"test-collection": 2}
    assert parsed["gridserve_dataset_open_seconds_count"][0][1] == 1
    build = parsed["gridserve_build_info"][0][0]
    assert build == {"version": "9.9.9", "git_sha": "0123abc", "role": "all"}
    families = {family.name for family in text_string_to_metric_families(response.text)}
    for name in METRIC_NAMES:
        assert name.removesuffix("_total") in families


@pytest.mark.parametrize(
    ("role", "tiles", "timeseries"),
    [(Role.TILES, 200, 404), (Role.TIMESERIES, 404, 200), (Role.ALL, 200, 200)],
)
def test_role_selects_the_routes(
    dataset_dir: Path, role: Role, tiles: int, timeseries: int
) -> None:
    settings = Settings(data_dir=dataset_dir, role=role)
    with TestClient(create_app(settings)) as client:
        tile = client.get("/tiles/test-collection/0/0/0.png")
        series = client.get(
            "/api/timeseries",
            params={"lon": 0, "lat": 0, "start": "2024-01-01", "end": "2024-01-02"},
        )
        assert (tile.status_code, series.status_code) == (tiles, timeseries)
        for always in ("/health", "/metrics", "/api/collections"):
            assert client.get(always).status_code == 200


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSERVE_ROLE", "tiles")
    monkeypatch.setenv("GRIDSERVE_GIT_SHA", "deadbeef")
    monkeypatch.setenv("GRIDSERVE_COLLECTIONS", '{"era5": "s3://bucket/era5"}')
    settings = Settings()
    assert settings.role is Role.TILES
    assert settings.git_sha == "deadbeef"
    assert settings.collection_locations() == {"era5": "s3://bucket/era5"}


def test_cors_allows_browser_apps_and_can_be_narrowed(dataset_dir: Path) -> None:
    origin = {"Origin": "https://maps.example.org"}
    with TestClient(create_app(Settings(data_dir=dataset_dir))) as open_client:
        response = open_client.get("/api/collections", headers=origin)
        assert response.headers["access-control-allow-origin"] == "*"
    narrow = Settings(data_dir=dataset_dir, cors_origins=["https://other.example.org"])
    with TestClient(create_app(narrow)) as narrow_client:
        response = narrow_client.get("/api/collections", headers=origin)
        assert "access-control-allow-origin" not in response.headers
    with TestClient(create_app(Settings(data_dir=dataset_dir, cors_origins=[]))) as closed:
        assert "access-control-allow-origin" not in closed.get("/health", headers=origin).headers
