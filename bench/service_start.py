"""The service's start on the real engine, as every rehearsal, `serve` and smoke test meets it.

    source <(kit/provision --print-env)
    .venv/bin/python bench/service_start.py [--rounds N]

Each round starts the image `serve` runs (app/Dockerfile, built once beforehand) as a service
and times one exec bound to it that fetches /health: the engine runs that exec only once the
image's HEALTHCHECK has passed. Two ways, alternating, each start a new service:

1. the image as shipped: checked every second during its start period (`--start-interval=1s`);
2. the named alternative, the same image with the health check it had before: the same command,
   `--interval=15s --timeout=5s --start-period=20s --retries=3` and no start interval, so the
   first check runs one full interval (15 s) after the start.

Printed: the median and range of each, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.module.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from dagger import dag  # noqa: E402
from shipyard.decide.images import ImageCatalog  # noqa: E402
from shipyard.module import toolchains  # noqa: E402
from shipyard.module.cli import repository_sources  # noqa: E402

FETCH_HEALTH = "import urllib.request; urllib.request.urlopen('http://app:8080/health', timeout=4)"


async def previous_health_check(image: dagger.Container) -> dagger.Container:
    """The shipped image with its health check as it was before the start interval."""
    command = await image.docker_healthcheck().args()
    return image.with_docker_healthcheck(
        command, interval="15s", timeout="5s", start_period="20s", retries=3
    )


async def time_to_first_answer(image: dagger.Container, client: dagger.Container) -> float:
    """Seconds from asking for an exec bound to a new service of `image` until it has run."""
    service = toolchains.app_service(image.with_env_variable("BENCH_START", uuid.uuid4().hex))
    started = time.monotonic()
    await (
        client.with_env_variable("BENCH_START", uuid.uuid4().hex)
        .with_service_binding("app", service)
        .with_exec(["python3", "-c", FETCH_HEALTH])
        .sync()
    )
    return time.monotonic() - started


def summary(name: str, seconds: list[float]) -> str:
    low, high = min(seconds), max(seconds)
    return f"{name}: median {statistics.median(seconds):.1f} s ({low:.1f}-{high:.1f})"


async def main(rounds: int) -> None:
    async with dagger.connection(dagger.Config()):
        images = ImageCatalog.from_settings()
        shipped = toolchains.app_image(images, repository_sources("serve")["source"])
        before = await previous_health_check(shipped)
        client = dag.container().from_(images.reference("PYTHON"))
        await client.with_exec(["true"]).sync()
        await shipped.sync()
        ways = {"as shipped (start interval 1 s)": shipped, "health check before": before}
        timings: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(rounds):
            for name, image in ways.items():
                timings[name].append(await time_to_first_answer(image, client))
    for name, seconds in timings.items():
        print(summary(name, seconds))
    shipped_s, before_s = (statistics.median(s) for s in timings.values())
    print(f"as shipped / before: {shipped_s / before_s:.2f}x to a bound service's first answer")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    anyio.run(main, parser.parse_args().rounds)
