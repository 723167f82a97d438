"""Pull-request checks on the real engine: parallel vs one after another, and a warm re-run.

    source <(kit/provision --print-env)
    .venv/bin/python bench/pipeline_checks.py

Figures, all from this one invocation, on the same engine:

1. sequential: test, lint, scan, docs-check awaited one after another (the named alternative:
   what a step-per-stage CI job does), the test stage whole (one shard), after a source change;
2. parallel, whole: the same four stages as the pipeline runs them (anyio task group), the test
   stage whole (one shard, the layout before sharding), after another source change;
3. parallel, sharded: the same, the test stage split into two shards, after another source change;
4. warm: the whole pull-request pipeline twice with no change; the second run's time;
5. the machine's busy CPU seconds during each run: the sequential runs' spread over every core
   is the floor no layout of the same work can beat; the parallel runs' against their wall time
   on every core says how much of it they kept the cores busy; and the fewest cores on which the
   sequential runs' work fits in the target's share of their time;
6. the issue's own case, a one-line change to app/: sequential and sharded again, where only the
   stages whose input holds app/ (test, lint) see the change and the others are cache hits.

Per stage it prints each stage's time one after another and when each stage finished in parallel.
Parallel can never beat the longest stage, so longest / sum is the floor of the ratio on any
number of cores; on 2 cores the stages' CPU time sets a second floor.

"A source change" adds a file with a fresh name to every stage's input, so each stage re-runs
its tool while the installed toolchains (layers before the sources) stay cached, as on a real
pull request that touches every part; "a change to app/" adds it under app/ only. "One shard"
still combines its coverage in a step of its own, a second or two the layout before sharding did
not have. Targets (issue 17): parallel <= 0.5x sequential after a one-line change to app/, warm
re-run <= 1 s.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NamedTuple

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.module.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from machine import busy_cpu_seconds, cores, cores_for_ratio  # noqa: E402
from shipyard.module.cli import repository_sources  # noqa: E402
from shipyard.module.main import Shipyard  # noqa: E402

Stage = Callable[[str], Coroutine[Any, Any, Any]]


WHOLE = 1  # the test stage in one container
SHARDED = 2  # one shard per core of the 2-core engine, the default there
TARGET = 0.5
EVERY_STAGE = ""  # the changed file lands at the root of every stage's input
APP = "app/"  # it lands under app/, in the inputs that hold app/ only


class Change(NamedTuple):
    folder: str  # EVERY_STAGE or APP
    reaches: frozenset[str]  # the functions whose input holds that folder


def stages(shipyard: Shipyard, shards: int, change: Change) -> dict[str, Stage]:
    def changed(function: str, name: str, marker: str) -> Any:
        given = repository_sources(function)
        if function in change.reaches:
            path = f"{change.folder}bench-{marker}.txt"
            given[name] = given[name].with_new_file(path, marker)
        return given

    async def tolerant(run: Callable[[], Awaitable[Any]]) -> None:
        # A stage's verdict does not matter here, only how long it takes to reach it.
        with contextlib.suppress(Exception):
            await run()

    return {
        "test": lambda m: tolerant(
            lambda: shipyard.test(**changed("test", "source", m), shards=shards)
        ),
        "lint": lambda m: tolerant(lambda: shipyard.lint(**changed("lint", "source", m))),
        "scan": lambda m: tolerant(lambda: shipyard.scan(**changed("scan", "source", m))),
        "docs-check": lambda m: tolerant(
            lambda: shipyard.docs_check(**changed("docs-check", "source", m))
        ),
    }


class Run(NamedTuple):
    seconds: float
    stages: dict[str, float]  # each stage's own seconds, or when it finished in parallel
    busy: float  # the machine's busy CPU seconds during the run


async def sequential(shipyard: Shipyard, change: Change) -> Run:
    """Each stage's own time, one after another, the test stage whole."""
    marker = uuid.uuid4().hex
    started = time.monotonic()
    busy = busy_cpu_seconds()
    took: dict[str, float] = {}
    for name, stage in stages(shipyard, WHOLE, change).items():
        begun = time.monotonic()
        await stage(marker)
        took[name] = time.monotonic() - begun
    return Run(time.monotonic() - started, took, busy_cpu_seconds() - busy)


async def parallel(shipyard: Shipyard, shards: int, change: Change) -> Run:
    """The seconds after the start at which each stage finished, all started together."""
    marker = uuid.uuid4().hex
    started = time.monotonic()
    busy = busy_cpu_seconds()
    done: dict[str, float] = {}

    async def timed(name: str, stage: Stage) -> None:
        await stage(marker)
        done[name] = time.monotonic() - started

    async with anyio.create_task_group() as group:
        for name, stage in stages(shipyard, shards, change).items():
            group.start_soon(timed, name, stage)
    return Run(time.monotonic() - started, done, busy_cpu_seconds() - busy)


async def pull_request(shipyard: Shipyard) -> float:
    started = time.monotonic()
    report = await shipyard.run_pipeline(
        event="pull_request",
        ref="refs/pull/1/merge",
        git_sha="0" * 40,
        **repository_sources("run-pipeline"),
    )
    await report.sync()
    return time.monotonic() - started


async def changes(shipyard: Shipyard) -> tuple[Change, Change]:
    """A change to every stage's input, and one to app/: it reaches the inputs holding app/."""
    functions = stages(shipyard, WHOLE, Change(EVERY_STAGE, frozenset())).keys()
    holding_app = [f for f in functions if await repository_sources(f)["source"].exists(APP)]
    return Change(EVERY_STAGE, frozenset(functions)), Change(APP, frozenset(holding_app))


async def main() -> None:
    async with dagger.connection(dagger.Config()):
        shipyard = Shipyard()
        every, app = await changes(shipyard)
        first = await pull_request(shipyard)  # also warms every toolchain
        warm = await pull_request(shipyard)
        # The engine may drop layers between sessions (its free-space policy); a first run after a
        # source change rebuilds them. It is not measured, or the first sequential run pays it.
        await sequential(shipyard, every)
        # ABCCBA order, so that no way profits from running later.
        seq = [await sequential(shipyard, every)]
        whole = [await parallel(shipyard, WHOLE, every)]
        sharded = [
            await parallel(shipyard, SHARDED, every),
            await parallel(shipyard, SHARDED, every),
        ]
        whole.append(await parallel(shipyard, WHOLE, every))
        seq.append(await sequential(shipyard, every))
        app_seq = [await sequential(shipyard, app)]
        app_sharded = [
            await parallel(shipyard, SHARDED, app),
            await parallel(shipyard, SHARDED, app),
        ]
        app_seq.append(await sequential(shipyard, app))
    print(f"pull-request pipeline, first run in this session: {first:7.1f} s")
    print(f"pull-request pipeline, warm re-run, no change:    {warm:7.1f} s  (target <= 1 s)")
    print(f"checks after a source change, one after another:  {_runs(seq)}  (alternative)")
    print(f"checks after a source change, in parallel, whole: {_runs(whole)}  (before sharding)")
    print(f"checks after a source change, in parallel, sharded: {_runs(sharded)}")
    for run in seq:
        print(f"  one after another, each stage: {_stages(run)}")
    for label, runs in (("whole", whole), ("sharded", sharded)):
        for run in runs:
            print(f"  in parallel, {label}, each stage done at: {_stages(run)}")
    for label, runs in (("whole", whole), ("sharded", sharded)):
        print(f"parallel ({label}) / sequential: {_ratio(runs, seq)}")
    floor = sum(max(run.stages.values()) for run in seq) / _total(seq)
    print(f"longest stage / sequential (the floor of the whole layout's ratio): {floor:.2f}x")
    _print_cpu_floor(seq)
    for label, runs in (("whole", whole), ("sharded", sharded)):
        _print_parallel_busy(label, runs)
    reached = ", ".join(sorted(app.reaches))
    print(f"\nafter a one-line change to app/ (reaching {reached}; the rest are cache hits):")
    print(f"one after another: {_runs(app_seq)}; in parallel, sharded: {_runs(app_sharded)}")
    for run in [*app_seq, *app_sharded]:
        print(f"  each stage: {_stages(run)}")
    print(f"parallel (sharded) / sequential: {_ratio(app_sharded, app_seq)}")
    _print_cpu_floor(app_seq)
    _print_parallel_busy("sharded", app_sharded)


def _total(runs: list[Run]) -> float:
    return sum(run.seconds for run in runs)


def _ratio(runs: list[Run], seq: list[Run]) -> str:
    return f"{_total(runs) / _total(seq):.2f}x (target <= {TARGET:.2f}x)"


def _print_cpu_floor(seq: list[Run]) -> None:
    """No layout of the same work beats its CPU time spread over every core."""
    busy = sum(run.busy for run in seq)
    cpu_floor = busy / cores() / _total(seq)
    print(
        f"machine busy during one after another: {_busy(seq)} CPU-s on {cores()} cores;"
        f" spread over them: {cpu_floor:.2f}x of sequential (the floor of any layout);"
        f" {TARGET:.2f}x needs {cores_for_ratio(busy, _total(seq), TARGET)} cores for this work"
    )


def _print_parallel_busy(label: str, runs: list[Run]) -> None:
    print(f"machine busy in parallel, {label}: {_busy(runs)} CPU-s, {_occupancy(runs)}")


def _runs(runs: list[Run]) -> str:
    return _runs_of([run.seconds for run in runs]) + " s"


def _busy(runs: list[Run]) -> str:
    return _runs_of([run.busy for run in runs])


def _occupancy(runs: list[Run]) -> str:
    """Busy CPU over what every core could have done in the run's wall time."""
    shares = [f"{run.busy / (run.seconds * cores()):.0%}" for run in runs]
    return f"{' and '.join(shares)} of {cores()} cores"


def _runs_of(seconds: list[float]) -> str:
    return " and ".join(f"{value:.1f}" for value in seconds)


def _stages(run: Run) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.stages.items())


if __name__ == "__main__":
    anyio.run(main)
