"""The app under real uvicorn on a loopback port, as the ECS task and the smoke suite see it."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode} before answering")
        try:
            httpx.get(f"{base}/health", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer on {base} within {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def server(dataset_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "GRIDSERVE_DATA_DIR": str(dataset_dir),
        "GRIDSERVE_GIT_SHA": "feedface",
        "GRIDSERVE_ROLE": "all",
    }
    command = [sys.executable, "-m", "uvicorn", "gridserve.main:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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
