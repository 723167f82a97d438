"""The README's serve, smoke, plan, deploy and rollback lines, verbatim through the `dagger` CLI.

`serve` runs in the background as a person runs it (`dagger call serve up --ports 8080:8080`),
is probed from the host until healthy, smoked through `dagger call smoke`, then stopped with
Ctrl-C. The deploy stages run against the rehearsal's emulator on the host (moto's server behind
the rollout front, seeded once per module), reached from the engine's step containers at the
docker bridge's address; the lines take its endpoint, the placeholder keys and the image from
the environment variables they name, as the README's "Against the emulator" section sets them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from shipyard.tools.rehearsal.front import moto_session
from shipyard.tools.rehearsal.local import free_port, moto_server

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
CALL_TIMEOUT_SECONDS = 1800
# The docker bridge's address: where the engine's step containers reach the host.
HOST_ADDRESS = os.environ.get("SHIPYARD_TEST_HOST_ADDRESS", "172.17.0.1")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SERVE_LINE = "dagger call serve up --ports 8080:8080"
SMOKE_LINE = "dagger call smoke --service tcp://localhost:8080"
SERVED = "http://127.0.0.1:8080"
CLUSTER = "scidata"
REGION = "ap-southeast-2"
SERVICES = ("tiles", "timeseries")
EMULATOR_HEADING = "### Against the emulator"


def readme_block(heading: str) -> list[str]:
    """The commands of the first ```sh block after `heading`, continuation lines joined."""
    text = README.read_text()
    opening = text.index("```sh\n", text.index(heading)) + len("```sh\n")
    block = text[opening : text.index("```", opening)]
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def readme_line(block: list[str], prefix: str) -> str:
    lines = [" ".join(line.split()) for line in block if line.startswith(prefix)]
    assert len(lines) == 1, f"README's 'Against the emulator' block has no single `{prefix}` line"
    return lines[0]


def readme_call(block: list[str], function: str) -> str:
    """The block's one `dagger call` line that calls `function` (the module's own arguments,
    the credentials and endpoint, come before it)."""
    lines = [
        " ".join(line.split())
        for line in block
        if line.startswith("dagger call ") and function in line.split()
    ]
    assert len(lines) == 1, f"README's 'Against the emulator' block has no single {function} call"
    return lines[0]


def run_shell(line: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A README line as a shell runs it (its $VARIABLES expanded), from the repository's root."""
    return subprocess.run(
        ["bash", "-c", line],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=CALL_TIMEOUT_SECONDS,
        check=False,
    )


def failure(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{ANSI.sub('', result.stderr)[-4000:]}"


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_healthy(process: subprocess.Popen[bytes], log: Path, deadline_seconds: float) -> None:
    """Poll /health from the host until it answers 200, failing if `serve up` exits first."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve up exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(SERVED + "/health", timeout=5.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1.0)
    pytest.fail(f"serve up not healthy after {deadline_seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def served(tmp_path: Path, dagger_cli_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The README's serve line in the background, healthy; stopped with Ctrl-C afterwards."""
    assert f"`{SERVE_LINE}`" in README.read_text(), f"README.md no longer says `{SERVE_LINE}`"
    if not port_is_free(8080):
        pytest.fail("port 8080 is in use on this host; stop what serves it (./dev serve?)")
    env = dagger_cli_env
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {SERVE_LINE}"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(process, log, CALL_TIMEOUT_SECONDS)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"serve up ignored Ctrl-C for 60 s:\n{log.read_text()[-3000:]}")


def test_serve_up_answers_on_the_host_and_the_readme_smoke_passes_against_it(
    served: subprocess.Popen[bytes], dagger_cli_env: dict[str, str]
) -> None:
    tile = httpx.get(SERVED + "/tiles/test-collection/10/512/512.png", timeout=30.0)
    assert tile.status_code == 200
    assert tile.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert httpx.get(SERVED + "/metrics", timeout=30.0).status_code == 200
    assert f"`{SMOKE_LINE}`" in README.read_text(), f"README.md no longer says `{SMOKE_LINE}`"
    result = run_shell(SMOKE_LINE, dagger_cli_env)
    assert result.returncode == 0, failure(result)
    headline, *rows = result.stdout.splitlines()
    assert headline.startswith("### Smoke http://app:8080: ✅ pass"), result.stdout
    for check in ("health", "tile", "timeseries", "metrics"):
        assert any(row.startswith(f"| {check} | ✅ pass |") for row in rows), result.stdout
    served.send_signal(signal.SIGINT)
    served.wait(timeout=60)
    assert port_is_free(8080), "serve up exited but port 8080 still answers"


@dataclass(frozen=True)
class Emulator:
    env: dict[str, str]  # the README's variables: endpoint, placeholder keys, image
    front: str  # the front as the host reaches it
    old_image: str
    new_image: str


def front_command(block: list[str], moto_url: str, port: int) -> list[str]:
    """The README's line that starts the front, on this test's moto server and free port."""
    line = readme_line(block, ".venv/bin/python -m shipyard.tools.rehearsal ")
    words = [word for word in shlex.split(line, comments=True) if word != "&"]
    words[0] = sys.executable
    words[words.index("--moto-url") + 1] = moto_url
    words[words.index("--port") + 1] = str(port)
    return words


def test_front_command_takes_the_readme_line_with_this_tests_endpoints() -> None:
    block = [".venv/bin/python -m shipyard.tools.rehearsal --moto-url http://127.0.0.1:5100 "
             "--port 4566 --seed scidata &   # prints JSON"]  # fmt: skip
    assert front_command(block, "http://127.0.0.1:9", 7) == [
        sys.executable, "-m", "shipyard.tools.rehearsal", "--moto-url", "http://127.0.0.1:9",
        "--port", "7", "--seed", "scidata",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def emulator(dagger_cli_env: dict[str, str]) -> Iterator[Emulator]:
    """moto's server and the rollout front on the host, started by the README's line (seeding
    `scidata`: tiles and timeseries on image v1, and an image v2 pushed to its repository)."""
    with moto_server() as moto_url:
        port = free_port()
        command = front_command(readme_block(EMULATOR_HEADING), moto_url, port)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            assert process.stdout.readline().startswith("rehearsal front on"), "front did not start"
            printed = json.loads(process.stdout.readline() or "{}")
            env = dict(dagger_cli_env)
            env |= {
                "AWS_ENDPOINT_URL": f"http://{HOST_ADDRESS}:{port}",
                "AWS_ACCESS_KEY_ID": "rehearsal",
                "AWS_SECRET_ACCESS_KEY": "rehearsal",
                "IMAGE": printed["pushed"]["v2"],
            }
            yield Emulator(
                env, f"http://127.0.0.1:{port}", printed["seeded"]["image"], env["IMAGE"]
            )
        finally:
            process.terminate()
            process.wait(timeout=10)


def live_images(front: str) -> dict[str, tuple[str, str, str]]:
    """Per service: (primary task definition, its image, rollout state) as the emulator says."""
    ecs = moto_session(REGION).client("ecs", endpoint_url=front)
    services = ecs.describe_services(cluster=CLUSTER, services=list(SERVICES))["services"]
    live: dict[str, tuple[str, str, str]] = {}
    for service in services:
        primary: dict[str, Any] = next(
            d for d in service["deployments"] if d["status"] == "PRIMARY"
        )
        definition = ecs.describe_task_definition(taskDefinition=primary["taskDefinition"])
        image = definition["taskDefinition"]["containerDefinitions"][0]["image"]
        live[service["serviceName"]] = (primary["taskDefinition"], image, primary["rolloutState"])
    return live


def test_plan_deploy_rollback_through_dagger_call_on_the_emulator(emulator: Emulator) -> None:
    block = readme_block(EMULATOR_HEADING)
    before = live_images(emulator.front)
    assert {image for _, image, _ in before.values()} == {emulator.old_image}

    plan = run_shell(readme_call(block, "plan"), emulator.env)
    assert plan.returncode == 0, failure(plan)
    for service in SERVICES:
        assert service in plan.stdout
    assert emulator.old_image in plan.stdout, plan.stdout
    assert emulator.new_image in plan.stdout, plan.stdout
    assert live_images(emulator.front) == before, "plan changed the services"

    deploy = run_shell(readme_call(block, "deploy"), emulator.env)
    assert deploy.returncode == 0, failure(deploy)
    deployed = live_images(emulator.front)
    for service in SERVICES:
        definition, image, state = deployed[service]
        assert image == emulator.new_image, deployed
        assert state == "COMPLETED", deployed
        assert definition != before[service][0]

    rollback = run_shell(readme_call(block, "rollback"), emulator.env)
    assert rollback.returncode == 0, failure(rollback)
    rolled_back = live_images(emulator.front)
    for service in SERVICES:
        definition, image, _ = rolled_back[service]
        assert (definition, image) == before[service][:2], rolled_back
