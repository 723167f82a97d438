"""The real service: gridserve under uvicorn on a free loopback port, once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def start_gridserve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"GRIDSERVE_DATA_DIR": str(data_dir)}
    command = [
        sys.executable, "-m", "uvicorn", "gridserve.main:app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gridserve exited {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gridserve not ready after {limit_s} s: {log.read_text()}")


@pytest.fixture(scope="session")
def gridserve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("gridserve")
    port = free_port()
    log = workdir / "uvicorn.log"
    process = start_gridserve(workdir / "data", port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        # The first start generates the embedded dataset: allow for a slow CI machine.
        wait_ready(url, process, log, limit_s=180)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
