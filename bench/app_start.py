"""What a start of the service costs with the byte code its image ships, and without it.

    source <(kit/provision --print-env)
    .venv/bin/python bench/app_start.py [--rounds N]

Two images from app/Dockerfile, built once beforehand:

1. the image as shipped: the venv and the service byte-compiled at build time;
2. the named alternative, the image as it was before: the same Dockerfile without that step, so
   each start compiles every import in memory (the root filesystem is read-only in ECS).

In each image, as its own user, a driver runs `python3 -c "import gridserve.main"` (what
uvicorn imports before it serves) in a child process, `--rounds` times per image, the images
alternating. Printed: each child's CPU and wall seconds (median and range) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import uuid

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.module.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from shipyard.decide.images import ImageCatalog  # noqa: E402
from shipyard.module import toolchains  # noqa: E402
from shipyard.module.cli import repository_sources  # noqa: E402

COMPILE_STEP = "RUN /opt/venv/bin/python -m compileall"
DRIVER = """
import json, resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)
started = time.monotonic()
subprocess.run([sys.executable, "-c", "import gridserve.main"], check=True)
wall = time.monotonic() - started
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"cpu": cpu, "wall": wall}))
"""


def without_byte_code(dockerfile: str) -> str:
    """app/Dockerfile without its compile step (the step and its continuation lines)."""
    lines = dockerfile.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(COMPILE_STEP))
    end = start
    while lines[end].rstrip().endswith("\\"):
        end += 1
    return "".join(lines[:start] + lines[end + 1 :])


async def one_start(image: dagger.Container, token: str) -> dict[str, float]:
    out = await (
        image.with_env_variable("BENCH_ROUND", token)
        .with_exec(["python3", "-c", DRIVER], use_entrypoint=False)
        .stdout()
    )
    return dict(json.loads(out))


def summary(name: str, values: list[float], unit: str) -> str:
    low, high = min(values), max(values)
    return f"{name}: median {statistics.median(values):.2f} {unit} ({low:.2f}-{high:.2f})"


async def main(rounds: int) -> None:
    async with dagger.connection(dagger.Config()):
        images = ImageCatalog.from_settings()
        source = repository_sources("build")["source"]
        dockerfile = await source.file("Dockerfile").contents()
        before_source = source.with_new_file("Dockerfile", without_byte_code(dockerfile))
        ways = {
            "as shipped (byte code)": toolchains.app_image(images, source),
            "before (compiled at each start)": toolchains.app_image(images, before_source),
        }
        for image in ways.values():
            await image.sync()
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
        invocation = uuid.uuid4().hex  # no exec result cached from an earlier invocation
        for number in range(rounds):
            for name, image in ways.items():
                runs[name].append(await one_start(image, f"{invocation}-{number}"))
    for name, results in runs.items():
        print(summary(f"{name}, CPU", [r["cpu"] for r in results], "CPU-s"))
        print(summary(f"{name}, wall", [r["wall"] for r in results], "s"))
    shipped, before = (statistics.median(r["cpu"] for r in results) for results in runs.values())
    print(f"as shipped / before: {shipped / before:.2f}x CPU per start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    anyio.run(main, parser.parse_args().rounds)
