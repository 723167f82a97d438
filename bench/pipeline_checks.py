"""Pull-request checks on the real engine: parallel vs one after another, and a warm re-run.

    source <(kit/provision --print-env)
    .venv/bin/python bench/pipeline_checks.py

Figures, all from this one invocation, on the same engine:

1. sequential: test, lint, scan, docs-check awaited one after another (the named alternative:
   what a step-per-stage CI job does), after a source change;
2. parallel: the same four stages as the pipeline runs them (anyio task group), after another
   source change;
3. warm: the whole pull-request pipeline twice with no change; the second run's time.

"A source change" adds a file with a fresh name to every stage's input, so each stage re-runs
its tool while the installed toolchains (layers before the sources) stay cached, as on a real
pull request. Targets (issue 3): parallel <= 0.6x sequential, warm re-run <= 10 s.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from shipyard.cli import repository_sources  # noqa: E402
from shipyard.main import Shipyard  # noqa: E402

Stage = Callable[[str], Coroutine[Any, Any, Any]]


def stages(shipyard: Shipyard) -> dict[str, Stage]:
    def changed(function: str, name: str, marker: str) -> Any:
        given = repository_sources(function)
        given[name] = given[name].with_new_file(f"bench-{marker}.txt", marker)
        return given

    async def tolerant(run: Callable[[], Awaitable[Any]]) -> None:
        # A stage's verdict does not matter here, only how long it takes to reach it.
        with contextlib.suppress(Exception):
            await run()

    return {
        "test": lambda m: tolerant(lambda: shipyard.test(**changed("test", "source", m))),
        "lint": lambda m: tolerant(lambda: shipyard.lint(**changed("lint", "source", m))),
        "scan": lambda m: tolerant(lambda: shipyard.scan(**changed("scan", "source", m))),
        "docs-check": lambda m: tolerant(
            lambda: shipyard.docs_check(**changed("docs-check", "source", m))
        ),
    }


async def sequential(shipyard: Shipyard) -> float:
    marker = uuid.uuid4().hex
    started = time.monotonic()
    for stage in stages(shipyard).values():
        await stage(marker)
    return time.monotonic() - started


async def parallel(shipyard: Shipyard) -> float:
    marker = uuid.uuid4().hex
    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for stage in stages(shipyard).values():
            group.start_soon(stage, marker)
    return time.monotonic() - started


async def pull_request(shipyard: Shipyard) -> float:
    started = time.monotonic()
    report = await shipyard.pipeline(
        event="pull_request",
        ref="refs/pull/1/merge",
        git_sha="0" * 40,
        **repository_sources("pipeline"),
    )
    await report.sync()
    return time.monotonic() - started


async def main() -> None:
    async with dagger.connection(dagger.Config()):
        shipyard = Shipyard()
        first = await pull_request(shipyard)  # also warms every toolchain
        warm = await pull_request(shipyard)
        # ABBA order, so that neither way profits from running second.
        seq = [await sequential(shipyard)]
        par = [await parallel(shipyard), await parallel(shipyard)]
        seq.append(await sequential(shipyard))
    print(f"pull-request pipeline, first run in this session: {first:7.1f} s")
    print(f"pull-request pipeline, warm re-run, no change:    {warm:7.1f} s  (target <= 10 s)")
    print(f"checks after a source change, one after another: {_runs(seq)}  (alternative)")
    print(f"checks after a source change, in parallel:       {_runs(par)}")
    print(f"parallel / sequential: {sum(par) / sum(seq):.2f}x (target <= 0.60x)")


def _runs(seconds: list[float]) -> str:
    return " and ".join(f"{s:.1f} s" for s in seconds)


if __name__ == "__main__":
    anyio.run(main)
