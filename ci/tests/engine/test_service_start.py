"""The service image's health check as the engine reads it from the built image, and the bench
that times what it changes (bench/service_start.py, one round)."""

from __future__ import annotations

import re
import subprocess
import sys

import dagger
import pytest
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard

from ci.tests.engine.conftest import REPO

pytestmark = [pytest.mark.engine]


@pytest.mark.anyio
async def test_the_built_image_checks_its_health_every_second_while_it_starts(
    dagger_client: dagger.Client,
) -> None:
    check = Shipyard().build(**repository_sources("build")).docker_healthcheck()
    assert "/health" in " ".join(await check.args())
    assert await check.start_interval() == "1s"
    assert await check.start_period() == "20s"
    # After the start period a failing service is still noticed at the interval ECS would use.
    assert await check.interval() == "15s"


def test_the_service_start_bench_prints_both_ways_and_their_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "bench/service_start.py", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == [
        "as shipped (start interval 1 s)",
        "health check before",
    ], done.stdout
    ratio = r"as shipped / before: \d+\.\d\dx to a bound service's first answer"
    assert re.fullmatch(ratio, lines[2]), done.stdout
