"""Shared fixtures: the embedded dataset is generated once per test run (a few seconds)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from gridserve import data
from gridserve.main import create_app
from gridserve.settings import Settings

REGIONAL_ID = "regional"
BROKEN_ID = "broken"


# A dataset generated before the run, for runs that share one (the pipeline's test shards).
PREGENERATED_DATASET = "GRIDSERVE_TEST_DATASET"


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Generated once per run: pytest-xdist's workers share one copy in the run's temporary
    root, the first to arrive writing it while the others wait (its users only read). Or the
    one PREGENERATED_DATASET names."""
    if given := os.environ.get(PREGENERATED_DATASET):
        if not data.is_generated(Path(given)):
            pytest.fail(f"{PREGENERATED_DATASET}={given} holds no generated dataset")
        return Path(given)
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent
    directory = root / "embedded"
    with (root / "embedded.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not data.is_generated(directory):
            data.generate(directory)
    return directory


@pytest.fixture(scope="session")
def regional_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small collection over 0..30 E, 30..60 N for ten days: tiles elsewhere are empty."""
    directory = tmp_path_factory.mktemp("regional")
    grid = data.Grid(lat=np.arange(59.5, 30, -1.0), lon=np.arange(0.5, 30, 1.0), days=np.arange(10))
    values = data.temperature(grid)
    data.write_store(directory / data.MAP_STORE, grid, values, (1, 30, 30))
    data.write_store(directory / data.TIMESERIES_STORE, grid, values, (10, 10, 10))
    return directory


@pytest.fixture
def settings(dataset_dir: Path) -> Settings:
    return Settings(data_dir=dataset_dir, git_sha="0123abc", version="9.9.9")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def multi_client(dataset_dir: Path, regional_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The embedded, a regional and a broken (missing) collection side by side."""
    settings = Settings(
        collections={
            data.COLLECTION_ID: str(dataset_dir),
            REGIONAL_ID: str(regional_dir),
            BROKEN_ID: str(tmp_path / "nothing-here"),
        }
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def dataset_copy(dataset_dir: Path, tmp_path: Path) -> Path:
    """A private copy that a test may damage."""
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    return copy


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


@pytest.fixture(scope="session")
def server(dataset_dir: Path) -> Iterator[str]:
    """The app under real uvicorn on a loopback port, as the ECS task and the smoke suite see it.
    One per session: its users only read, and each start costs an interpreter and the imports."""
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
