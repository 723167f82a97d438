"""Run moto's server and the rehearsal front on loopback (tests, benches, local rehearsals)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from shipyard.tools.rehearsal.faults import RehearsalError
from shipyard.tools.rehearsal.front import RehearsalFront, make_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[Any]) -> None:
    """Terminate `process`, killing it if it has not exited within ten seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def moto_server(env: dict[str, str] | None = None, startup_timeout: float = 60.0) -> Iterator[str]:
    """moto's server as a real process on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                httpx.get(url + "/moto-api/", timeout=2.0)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RehearsalError(
                        f"moto server on port {port} did not start; run `python -m moto.server "
                        f"-p {port}` by hand to see why"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        _stop(process)


@contextmanager
def rehearsal_front(moto_url: str, **options: Any) -> Iterator[tuple[str, RehearsalFront]]:
    """The front served from a thread on a free loopback port; yields (URL, front)."""
    front = RehearsalFront(moto_url, **options)
    server = make_server(front, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", front
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        front.close()


@dataclass
class FrontProcess:
    url: str
    seeded: dict[str, Any] | None = None
    pushed: dict[str, str] = field(default_factory=dict)


@contextmanager
def front_process(moto_url: str, *arguments: str) -> Iterator[FrontProcess]:
    """`python -m shipyard.tools.rehearsal` as its own process on a free port, as rehearse does.

    With `--seed` among the arguments, waits for and parses the seeded account's JSON line.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shipyard.tools.rehearsal",
            "--moto-url",
            moto_url,
            "--port",
            str(port),
            *arguments,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = f"http://127.0.0.1:{port}"
        if not process.stdout.readline().startswith(f"rehearsal front on {url}"):
            raise RehearsalError(
                f"the rehearsal front on port {port} did not start; run `python -m "
                f"shipyard.tools.rehearsal --moto-url {moto_url} --port {port}` to see why"
            )
        running = FrontProcess(url)
        if "--seed" in arguments:
            printed = json.loads(process.stdout.readline() or "{}")
            running.seeded, running.pushed = printed.get("seeded"), printed.get("pushed", {})
        yield running
    finally:
        _stop(process)
