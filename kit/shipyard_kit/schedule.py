"""The provisioning steps as a dependency graph: a step starts once those it needs are done,
so Go compilation overlaps the root filesystem builds, which mostly wait on downloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from shipyard_kit.settings import KitError


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[], object]
    after: tuple[str, ...] = ()


def check_graph(steps: Sequence[Step]) -> None:
    """Refuse a graph with a repeated name, an unknown dependency or a cycle."""
    names = [s.name for s in steps]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise KitError(f"provisioning steps named twice: {', '.join(repeated)}")
    for step in steps:
        unknown = [d for d in step.after if d not in names]
        if unknown:
            raise KitError(f"step {step.name} waits for unknown steps: {', '.join(unknown)}")
    placed: set[str] = set()
    while len(placed) < len(steps):
        layer = [s.name for s in steps if s.name not in placed and set(s.after) <= placed]
        if not layer:
            cycle = sorted(set(names) - placed)
            raise KitError(f"provisioning steps wait on each other: {', '.join(cycle)}")
        placed.update(layer)


def ready(steps: Sequence[Step], done: set[str], started: set[str]) -> list[Step]:
    """Steps not yet started whose dependencies are all done, in declared order."""
    return [s for s in steps if s.name not in started and set(s.after) <= done]


def run_steps(
    steps: Sequence[Step], workers: int, report: Callable[[str, float], None]
) -> Mapping[str, float]:
    """Run the graph on `workers` threads; report each finished step; return their seconds.

    On a failure no further step starts, the running ones finish, and the first error is raised.
    """
    check_graph(steps)
    seconds: dict[str, float] = {}
    lock = threading.Lock()

    def timed(step: Step) -> None:
        started = time.monotonic()
        step.action()
        elapsed = time.monotonic() - started
        with lock:
            seconds[step.name] = elapsed
        report(step.name, elapsed)

    done: set[str] = set()
    started: set[str] = set()
    running: dict[Future[None], Step] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kit") as pool:
        while True:
            if failure is None:
                for step in ready(steps, done, started)[: workers - len(running)]:
                    started.add(step.name)
                    running[pool.submit(timed, step)] = step
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                step = running.pop(future)
                error = future.exception()
                if error is None:
                    done.add(step.name)
                elif failure is None:
                    failure = error
    if failure is not None:
        raise failure
    return seconds
