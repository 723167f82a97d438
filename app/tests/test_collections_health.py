from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from gridserve import data
from gridserve.main import create_app
from gridserve.settings import Settings


def test_collections_list_and_one(client: TestClient) -> None:
    listing = client.get("/api/collections").json()["collections"]
    assert [c["id"] for c in listing] == ["test-collection"]
    one = client.get("/api/collections/test-collection").json()
    assert one == listing[0]
    assert one["variables"] == [{"name": "temp", "units": "degC", "long_name": data.LONG_NAME}]
    assert one["time"] == {
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-12-31T00:00:00Z",
        "steps": 366,
    }
    assert one["bbox"] == [-180.0, -90.0, 180.0, 90.0]


def test_unknown_collection_is_404_json(client: TestClient) -> None:
    response = client.get("/api/collections/nope")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "unknown collection 'nope'; known collections: test-collection",
    }


def test_listing_shows_broken_collections_without_hiding_others(multi_client: TestClient) -> None:
    listing = {c["id"]: c for c in multi_client.get("/api/collections").json()["collections"]}
    assert listing["test-collection"]["status"] == "ok"
    assert listing["regional"]["bbox"] == [0.0, 30.0, 30.0, 60.0]
    assert listing["broken"]["status"] == "unavailable"
    assert multi_client.get("/api/collections/broken").status_code == 503


def test_health_reports_version_sha_and_datasets(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": "9.9.9",
        "git_sha": "0123abc",
        "role": "all",
        "datasets": {"test-collection": "ok"},
    }


def test_health_is_503_when_the_store_vanishes(dataset_copy: Path) -> None:
    with TestClient(create_app(Settings(data_dir=dataset_copy))) as client:
        assert client.get("/health").status_code == 200
        shutil.rmtree(dataset_copy / data.TIMESERIES_STORE)
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "timeseries.zarr" in body["datasets"]["test-collection"]


def test_health_is_503_when_a_collection_never_opened(multi_client: TestClient) -> None:
    response = multi_client.get("/health")
    assert response.status_code == 503
    datasets = response.json()["datasets"]
    assert datasets["test-collection"] == "ok"
    assert "collection 'broken' cannot be read" in datasets["broken"]


def test_first_start_generates_the_embedded_dataset(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    with TestClient(create_app(Settings(data_dir=target))) as client:
        assert client.get("/health").json()["status"] == "ok"
    assert data.is_generated(target)


def test_generation_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "absent", generate_embedded=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 503
    assert not (tmp_path / "absent").exists()
