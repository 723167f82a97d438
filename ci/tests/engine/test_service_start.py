"""The service image's health check as the engine reads it from the built image and applies it
to a bound service (bench/service_start.py times what it changes)."""

from __future__ import annotations

import uuid

import dagger
import pytest
from shipyard.decide.images import ImageCatalog
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard

pytestmark = [pytest.mark.engine]

# Longer than the 20 s start period the check had with its start interval, after which the
# engine gave up on the service within 3 s (seen failing so).
SLOW_START_SECONDS = 25


def shipped_check() -> dagger.HealthcheckConfig:
    return Shipyard().build(**repository_sources("build")).docker_healthcheck()


@pytest.mark.anyio
async def test_the_built_image_checks_its_health_every_second_while_it_starts(
    dagger_client: dagger.Client,
) -> None:
    check = shipped_check()
    assert "/health" in " ".join(await check.args())
    assert await check.start_interval() == "1s"
    # After the start period a failing service is still noticed at the interval ECS would use.
    assert await check.interval() == "15s"


@pytest.mark.anyio
async def test_a_service_slower_to_start_than_before_still_passes_the_images_check(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    """The shipped check, on a server that answers /health only after SLOW_START_SECONDS (as the
    app did on two busy cores): the engine waits for it instead of giving up."""
    check = shipped_check()
    slow = (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .with_new_file("/srv/health", "ok")
        .with_env_variable("SLOW_START", uuid.uuid4().hex)
        .with_docker_healthcheck(
            await check.args(),
            interval=await check.interval(),
            timeout=await check.timeout(),
            start_period=await check.start_period(),
            start_interval=await check.start_interval(),
            retries=await check.retries(),
        )
        .with_exposed_port(8080)
        .as_service(
            args=[
                "sh",
                "-c",
                f"sleep {SLOW_START_SECONDS}; exec python3 -m http.server 8080 -d /srv",
            ]
        )
    )
    fetched = await (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .with_service_binding("slow", slow)
        .with_exec(
            [
                "python3",
                "-c",
                "import urllib.request; print(urllib.request.urlopen('http://slow:8080/health').read().decode())",
            ]
        )
        .stdout()
    )
    assert fetched == "ok\n"
