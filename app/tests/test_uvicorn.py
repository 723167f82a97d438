"""The app under real uvicorn on a loopback port, as the ECS task and the smoke suite see it."""

from __future__ import annotations

import io

import httpx
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families


def test_every_endpoint_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        health = http.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert health.json()["git_sha"] == "feedface"

        tile = http.get("/tiles/test-collection/10/512/512.png")
        assert tile.status_code == 200
        assert tile.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(tile.content)).size == (256, 256)

        series = http.get(
            "/api/timeseries",
            params={
                "lon": 150,
                "lat": -33,
                "start": "2024-01-01T00:00:00Z",
                "end": "2024-01-31T23:59:59Z",
                "variable": "temp",
            },
        )
        assert series.status_code == 200
        assert len(series.json()["values"]) == 31

        assert http.get("/api/collections").json()["collections"][0]["id"] == "test-collection"
        assert http.get("/api/collections/test-collection").status_code == 200
        assert http.get("/tiles/nope/0/0/0.png").status_code == 404
        assert http.get("/tiles/test-collection/2/4/0.png").status_code == 422

        families = {f.name for f in text_string_to_metric_families(http.get("/metrics").text)}
        assert "gridserve_http_requests" in families
        assert "gridserve_tile_render_seconds" in families
