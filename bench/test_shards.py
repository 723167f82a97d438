"""The test stage alone on the real engine: one shard vs two, after a source change each time.

    source <(kit/provision --print-env)
    .venv/bin/python bench/test_shards.py

ABBA order (one, two, two, one), so that neither way profits from running later; each run
first adds a file with a fresh name to the source, so the suite runs again while the test
environment (the layers before the sources) stays cached. Beside each wall time, the machine's
busy CPU seconds: what a shard's own start-up costs. `--shards 0` is one shard per engine
core; this is the measurement behind that default.
"""

from __future__ import annotations

import sys
import time
import uuid

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.module.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from machine import busy_cpu_seconds, cores  # noqa: E402
from pipeline_checks import stages  # noqa: E402
from shipyard.module.main import Shipyard  # noqa: E402

ORDER = (1, 2, 2, 1)


async def test_stage(shipyard: Shipyard, shards: int) -> tuple[float, float]:
    """Wall seconds and the machine's busy CPU seconds of one test stage after a change."""
    started, busy = time.monotonic(), busy_cpu_seconds()
    await stages(shipyard, shards)["test"](uuid.uuid4().hex)
    return time.monotonic() - started, busy_cpu_seconds() - busy


async def main() -> None:
    async with dagger.connection(dagger.Config()):
        shipyard = Shipyard()
        await test_stage(shipyard, 1)  # the test environment, built once, is not measured
        runs = [(shards, *await test_stage(shipyard, shards)) for shards in ORDER]
    for count in sorted(set(ORDER)):
        mine = [(wall, cpu) for shards, wall, cpu in runs if shards == count]
        walls = " and ".join(f"{wall:.1f}" for wall, _ in mine)
        cpus = " and ".join(f"{cpu:.1f}" for _, cpu in mine)
        print(f"test stage, {count} shard(s): {walls} s; machine busy {cpus} CPU-s")
    one = sum(wall for shards, wall, _ in runs if shards == 1)
    two = sum(wall for shards, wall, _ in runs if shards == 2)
    print(f"two shards / one shard: {two / one:.2f}x on {cores()} cores")


if __name__ == "__main__":
    anyio.run(main)
